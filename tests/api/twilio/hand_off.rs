//! What the emulator sends Twilio, and what Twilio's answer, or its silence, makes of the
//! record.

use base64::Engine;
use fastcall_emulator::config::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::fake::{FakeTwilio, HANGING_TO, INVALID_TO, SERVER_ERROR_TO, THROTTLED_TO};
use super::*;
use crate::backend_tests;

const MESSAGES_PATH: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";
const CALLS_PATH: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json";

fn basic_auth() -> String {
    let credentials = format!("{ACCOUNT_SID}:{AUTH_TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

/// The stored message an SMS output names.
async fn stored_message(app: &TestApp, output: &Value) -> Value {
    app.item(&format!(
        "/_emulator/messages/{}",
        output["id"].as_str().unwrap()
    ))
    .await
}

/// The one message stored to `to`, and the VoIP error log entries about it.
async fn failed_to(app: &TestApp, to: &str) -> (Value, Vec<Value>) {
    let encoded = to.replace('+', "%2B");
    let messages = app
        .items(&format!("/_emulator/messages?to={encoded}"))
        .await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let errors = app
        .items(&format!("/_emulator/voip-errors?to={encoded}"))
        .await;
    (messages[0].clone(), errors)
}

/// A message Twilio did not take: error 100 saying `fragment`, a Failed record with
/// `code`, one VoIP error log entry from the provider `twilio`, no Task.
async fn assert_not_taken(app: &TestApp, to: &str, code: i64, fragment: &str) {
    let response = app
        .send_sms(&json!({"toPhone": to, "bodyText": "Hello", "recordId": JANE_CONTACT}))
        .await;
    assert_error(&response, StatusCode::BAD_GATEWAY, 100, fragment, to);
    assert_error(
        &response,
        StatusCode::BAD_GATEWAY,
        100,
        "Check the VoIP error logs",
        to,
    );
    let (message, errors) = failed_to(app, to).await;
    assert_eq!(message["status"], "Failed", "{message}");
    assert_eq!(message["errorCode"], code, "{message}");
    assert!(
        message["smsId"].is_null() && message["taskId"].is_null(),
        "{message}"
    );
    let statuses: Vec<&Value> = message["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["status"])
        .collect();
    assert_eq!(
        statuses,
        ["Queued", "Failed"],
        "stored Queued before the hand-off: {message}"
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["provider"], "twilio");
    assert_eq!(errors[0]["errorCode"], code);
    assert_eq!(errors[0]["recordId"], message["id"]);
}

backend_tests! {
    async fn an_sms_is_posted_to_twilio_with_its_fields_and_basic_auth(backend) {
        let (app, fake) = spawn_with_twilio(backend).await;
        let (status, output) = app
            .send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "Your order shipped", "recordId": JANE_CONTACT}))
            .await;
        assert_eq!(status, StatusCode::OK, "{output}");
        let sent = fake.only_request();
        assert_eq!(sent.path, MESSAGES_PATH);
        assert_eq!(sent.authorization.as_deref(), Some(basic_auth().as_str()));
        assert_eq!(sent.content_type.as_deref(), Some("application/x-www-form-urlencoded"));
        assert_eq!(sent.names(), ["To", "From", "Body", "StatusCallback"]);
        assert_eq!(sent.field("To"), Some(JANE_PHONE));
        assert_eq!(sent.field("From"), Some(ADA_PHONE));
        assert_eq!(sent.field("Body"), Some("Your order shipped"));
        let callback = format!("{PUBLIC_URL}/_provider/twilio/status");
        assert_eq!(sent.field("StatusCallback"), Some(callback.as_str()));

        // The record has Twilio's SID and stays Queued until Twilio reports more.
        let sid = output["smsId"].as_str().expect("Twilio's SID");
        assert!(sid.starts_with("SM") && sid.len() == 34, "{output}");
        assert_eq!(output["status"], "Queued");
        let stored = stored_message(&app, &output).await;
        assert_eq!(stored["smsId"], sid);
        assert_eq!(stored["status"], "Queued");
        assert!(!output["taskId"].is_null(), "a Task on Jane: {output}");
        let found = app.item(&format!("/_emulator/messages/{sid}")).await;
        assert_eq!(found["id"], output["id"]);
    }

    async fn an_mms_sends_its_media_url(backend) {
        let (app, fake) = spawn_with_twilio(backend).await;
        let (status, output) = app
            .send_sms(&json!({"fromPhone": MAIN_PHONE, "toPhone": JANE_PHONE, "bodyText": "Receipt", "mediaURL": "https://example.com/receipt.png"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{output}");
        let sent = fake.only_request();
        assert_eq!(sent.names(), ["To", "From", "Body", "StatusCallback", "MediaUrl"]);
        assert_eq!(sent.field("MediaUrl"), Some("https://example.com/receipt.png"));
        assert!(output["smsId"].as_str().unwrap().starts_with("MM"), "{output}");
    }

    async fn a_call_is_posted_with_the_ivr_twiml_url_and_every_status_event(backend) {
        let (app, fake) = spawn_with_twilio(backend).await;
        let (status, output) = app
            .post("/actions/SubscriberCallInvocable", &json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR, "fromPhone": VOICE_PHONE}))
            .await;
        assert_eq!(status, StatusCode::OK, "{output}");
        let sent = fake.only_request();
        assert_eq!(sent.path, CALLS_PATH);
        assert_eq!(sent.authorization.as_deref(), Some(basic_auth().as_str()));
        assert_eq!(sent.field("To"), Some(JANE_PHONE));
        assert_eq!(sent.field("From"), Some(VOICE_PHONE));
        let twiml = format!("{PUBLIC_URL}/_provider/twilio/ivr/{MENU_IVR}");
        assert_eq!(sent.field("Url"), Some(twiml.as_str()));
        let callback = format!("{PUBLIC_URL}/_provider/twilio/status");
        assert_eq!(sent.field("StatusCallback"), Some(callback.as_str()));
        assert_eq!(sent.fields("StatusCallbackEvent"), ["initiated", "ringing", "answered", "completed"]);
        let sid = output["callId"].as_str().expect("Twilio's SID");
        assert!(sid.starts_with("CA") && sid.len() == 34, "{output}");
        let call = app.item(&format!("/_emulator/calls/{sid}")).await;
        assert_eq!(call["status"], "Queued", "{call}");
        assert_eq!(call["id"], output["id"]);
        assert!(!call["taskId"].is_null(), "{call}");
    }

    async fn an_org_s_callbacks_come_back_under_its_prefix(backend) {
        let (app, fake) = spawn_with_twilio(backend).await;
        let (status, body) = app.request(reqwest::Method::PUT, "/orgs/sandbox/_emulator/org", &[], Some(&app.item("/_emulator/org").await)).await;
        assert!(status.is_success(), "{body}");
        let (status, output) = app.post("/orgs/sandbox/actions/SubscriberSMSInvocable", &json!({"toPhone": JANE_PHONE, "bodyText": "Hi"})).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        let callback = format!("{PUBLIC_URL}/orgs/sandbox/_provider/twilio/status");
        assert_eq!(fake.only_request().field("StatusCallback"), Some(callback.as_str()));
    }

    async fn twilio_s_error_is_error_100_with_its_code_on_the_record(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        assert_not_taken(&app, INVALID_TO, 21211, "error 21211: The 'To' number is not a valid phone number.").await;
        assert_not_taken(&app, THROTTLED_TO, 20429, "error 20429").await;
        assert!(app.items("/_emulator/tasks").await.is_empty(), "no Task for a message not taken");
    }

    async fn a_server_error_a_timeout_and_no_connection_are_error_100(backend) {
        let (app, _fake) = spawn_with_twilio(backend).await;
        assert_not_taken(&app, SERVER_ERROR_TO, 20500, "Twilio answered 500 Internal Server Error without an error code").await;
        assert_not_taken(&app, HANGING_TO, 20500, "Twilio did not answer within 1000 ms").await;

        // Nothing listens where Twilio should be.
        let closed = format!("http://127.0.0.1:{}", crate::process::free_port());
        let fake = FakeTwilio::start().await;
        let app = spawn_app_with(backend, |config| {
            twilio_config(config, &fake);
            config.twilio_api_url = closed.parse().unwrap();
        })
        .await;
        assert_not_taken(&app, JANE_PHONE, 20500, "Cannot connect to Twilio at http://127.0.0.1").await;
    }

    async fn a_bulk_call_stores_every_record_before_any_hand_off(backend) {
        let (app, fake) = spawn_with_twilio(backend).await;
        let inputs = json!([
            {"toPhone": JANE_PHONE, "bodyText": "one"},
            {"toPhone": INVALID_TO, "bodyText": "two"},
            {"toPhone": "+14155550124", "bodyText": "three"},
        ]);
        let (_, results) = app.invoke("SubscriberSMSInvocable", inputs).await;
        assert!(results.to_string().contains("error 21211"), "the refusal fails the invocation: {results}");
        assert_eq!(fake.requests().len(), 3);
        let messages = app.items("/_emulator/messages").await;
        let mut statuses: Vec<&str> = messages.iter().map(|m| m["status"].as_str().unwrap()).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, ["Failed", "Queued", "Queued"], "{messages:?}");
        for message in &messages {
            let taken = message["status"] == "Queued";
            assert_eq!(message["smsId"].is_string(), taken, "{message}");
        }
    }
}

/// Without its account, token or public URL, the Twilio provider does not start, and says
/// which setting it lacks.
#[tokio::test]
async fn the_twilio_provider_names_a_missing_setting() {
    let fake = FakeTwilio::start().await;
    let dir = tempfile::tempdir().unwrap();
    /// A change to the settings, and the setting the refusal must name.
    type Case = (&'static str, fn(&mut Config));
    let cases: [Case; 5] = [
        ("TWILIO_ACCOUNT_SID", |c| c.twilio_account_sid = None),
        ("TWILIO_ACCOUNT_SID", |c| {
            c.twilio_account_sid = Some("AC/../other".into())
        }),
        ("TWILIO_AUTH_TOKEN", |c| c.twilio_auth_token = None),
        ("FASTCALL_PUBLIC_URL", |c| c.public_url = None),
        ("FASTCALL_PUBLIC_URL", |c| {
            c.public_url = Some("ftp://example.test/".parse().unwrap())
        }),
    ];
    for (named, change) in cases {
        let mut config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite:{}", dir.path().join("settings.db").display()),
            ..Default::default()
        };
        twilio_config(&mut config, &fake);
        change(&mut config);
        let Err(error) = fastcall_emulator::startup::Application::build(&config).await else {
            panic!("{named}: the build should fail");
        };
        let message = error.to_string();
        assert!(
            message.contains("--provider twilio needs") && message.contains(named),
            "{message}"
        );
        assert!(!message.contains(AUTH_TOKEN), "{message}");
    }
}
