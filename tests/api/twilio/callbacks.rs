//! Twilio's status callbacks: only a valid signature moves a record, and it moves it as a
//! simulated step would; late, repeated and unknown callbacks change nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;
use crate::events::EventStream;

const STATUS: &str = "/_provider/twilio/status";

/// An SMS to Jane through the fake Twilio: its output.
async fn sent(app: &TestApp) -> Value {
    let (status, output) = app
        .send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "Hi"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{output}");
    output
}

/// The message as stored now.
async fn message(app: &TestApp, output: &Value) -> Value {
    app.item(&format!(
        "/_emulator/messages/{}",
        output["id"].as_str().unwrap()
    ))
    .await
}

fn statuses(record: &Value) -> Vec<String> {
    record["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    async fn signed_callbacks_move_a_message_along_twilio_s_statuses(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let output = sent(&app).await;
        let sid = output["smsId"].as_str().unwrap();
        for (twilio, ours) in [("sending", "Sending"), ("sent", "Sent"), ("delivered", "Delivered")] {
            callback(&app, &[("MessageSid", sid), ("MessageStatus", twilio), ("AccountSid", ACCOUNT_SID)]).await;
            assert_eq!(message(&app, &output).await["status"], ours);
        }
        assert_eq!(statuses(&message(&app, &output).await), ["Queued", "Sending", "Sent", "Delivered"]);
    }

    async fn a_failure_reported_by_twilio_keeps_its_code_and_is_logged(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let output = sent(&app).await;
        let sid = output["smsId"].as_str().unwrap();
        callback(&app, &[("MessageSid", sid), ("MessageStatus", "sent")]).await;
        callback(&app, &[("MessageSid", sid), ("MessageStatus", "undelivered"), ("ErrorCode", "30005")]).await;
        let stored = message(&app, &output).await;
        assert_eq!(stored["status"], "Undelivered");
        assert_eq!(stored["errorCode"], 30005);
        let errors = app.items("/_emulator/voip-errors").await;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["errorCode"], 30005);
        assert_eq!(errors[0]["provider"], "twilio");
        assert_eq!(errors[0]["providerId"], sid);
    }

    async fn late_repeated_and_unknown_callbacks_are_acknowledged_and_change_nothing(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let output = sent(&app).await;
        let sid = output["smsId"].as_str().unwrap();
        callback(&app, &[("MessageSid", sid), ("MessageStatus", "delivered")]).await;
        let delivered = message(&app, &output).await;
        // Out of order: `sent` arrives after `delivered`. Then `delivered` again.
        callback(&app, &[("MessageSid", sid), ("MessageStatus", "sent")]).await;
        callback(&app, &[("MessageSid", sid), ("MessageStatus", "delivered")]).await;
        // A SID the org never had, a status with no counterpart, and no SID at all.
        callback(&app, &[("MessageSid", "SM00000000000000000000000000000000"), ("MessageStatus", "failed")]).await;
        callback(&app, &[("MessageSid", sid), ("MessageStatus", "read")]).await;
        callback(&app, &[("AccountSid", ACCOUNT_SID)]).await;
        assert_eq!(message(&app, &output).await, delivered);
        assert_eq!(statuses(&delivered), ["Queued", "Delivered"]);
        assert!(app.items("/_emulator/voip-errors").await.is_empty());
    }

    async fn callbacks_without_a_valid_signature_are_403_and_change_nothing(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let output = sent(&app).await;
        let sid = output["smsId"].as_str().unwrap();
        let fields = [("MessageSid", sid), ("MessageStatus", "delivered")];
        let other_token = fastcall_emulator::voip::twilio::sign(
            &fastcall_emulator::domain::Secret::new("not-the-auth-token"),
            &format!("{PUBLIC_URL}{STATUS}"),
            &form(&fields),
        );
        let other_url = signature("/_provider/twilio/sms", &fields);
        let other_fields = signature(STATUS, &[("MessageSid", sid), ("MessageStatus", "sent")]);
        for (case, signature) in [
            ("missing", None),
            ("empty", Some("")),
            ("not base64", Some("not a signature")),
            ("another token", Some(other_token.as_str())),
            ("another URL", Some(other_url.as_str())),
            ("other fields", Some(other_fields.as_str())),
        ] {
            let (status, body) = post_form(&app, STATUS, &fields, signature).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{case}: {body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["errorCode"], "INVALID_SIGNATURE", "{case}");
        }
        assert_eq!(message(&app, &output).await["status"], "Queued");
        // The same callback, signed, is taken.
        callback(&app, &fields).await;
        assert_eq!(message(&app, &output).await["status"], "Delivered");
    }

    async fn call_callbacks_move_the_call(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let (status, output) = app
            .post("/actions/SubscriberCallInvocable", &json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR, "fromPhone": VOICE_PHONE}))
            .await;
        assert_eq!(status, StatusCode::OK, "{output}");
        let sid = output["callId"].as_str().unwrap();
        for event in ["initiated", "ringing", "in-progress", "completed"] {
            callback(&app, &[("CallSid", sid), ("CallStatus", event), ("AccountSid", ACCOUNT_SID)]).await;
        }
        let call = app.item(&format!("/_emulator/calls/{sid}")).await;
        assert_eq!(call["status"], "Completed");
        assert_eq!(statuses(&call), ["Queued", "Ringing", "In Progress", "Completed"]);
    }

    async fn a_callback_wakes_a_long_poll_and_raises_the_status_event(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let output = sent(&app).await;
        let (id, sid) = (output["id"].as_str().unwrap(), output["smsId"].as_str().unwrap());
        let poll = format!("/_emulator/messages?id={id}&status=Delivered&wait=10");
        let later = async {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            callback(&app, &[("MessageSid", sid), ("MessageStatus", "delivered")]).await;
        };
        let mut events = EventStream::open(&app, "/_emulator/events").await;
        let started = std::time::Instant::now();
        let ((status, polled), ()) = tokio::join!(app.get(&poll), later);
        assert_eq!(status, StatusCode::OK, "{polled}");
        assert_eq!(polled["items"][0]["status"], "Delivered", "{polled}");
        assert!(started.elapsed() < std::time::Duration::from_secs(8), "woken by the callback");
        let changed = events.expect("sms.status_changed").await.payload();
        assert_eq!(changed["id"], id, "{changed}");
        assert_eq!(changed["status"], "Delivered", "{changed}");
    }

    async fn the_ivr_twiml_is_served_to_twilio_only(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        let path = format!("/_provider/twilio/ivr/{MENU_IVR}");
        let fields = [("CallSid", "CA0123"), ("CallStatus", "in-progress")];
        let (status, twiml) = twilio_posts(&app, &path, &fields).await;
        assert_eq!(status, StatusCode::OK, "{twiml}");
        assert!(twiml.starts_with("<?xml") && twiml.contains("<Response><Say>") && twiml.contains("Main menu"), "{twiml}");
        let response = app.client.get(app.url(&path)).header("X-Twilio-Signature", signature(&path, &[])).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
        let (status, _) = post_form(&app, &path, &fields, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let unknown = "/_provider/twilio/ivr/a0IDn0000009ZzzMAE";
        let (status, _) = twilio_posts(&app, unknown, &fields).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn with_the_simulated_provider_the_twilio_routes_are_404(backend) {
        let app = spawn_app(backend).await;
        let (status, body) = twilio_posts(&app, STATUS, &[("MessageSid", "SM1"), ("MessageStatus", "sent")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(body.contains("--provider twilio"), "{body}");
    }
}
