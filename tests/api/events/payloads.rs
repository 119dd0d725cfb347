//! Each event's type, id and payload.

use super::*;
use crate::backend_tests;

/// Asserts an event's `payload` is the item of a record the provider refused with `code`,
/// as `list` serves it: Failed, and without the provider's id (`provider_key`).
async fn assert_failed_item(
    app: &TestApp,
    payload: &Value,
    list: &str,
    provider_key: &str,
    code: u64,
) {
    assert_eq!(payload["status"], "Failed", "{payload}");
    assert_eq!(payload["errorCode"], code, "{payload}");
    assert_eq!(payload[provider_key], Value::Null, "{payload}");
    let id = payload["id"].as_str().expect("the record's Id");
    assert_eq!(*payload, app.item(&format!("/_emulator/{list}/{id}")).await);
}

backend_tests! {
    async fn sms_created_carries_the_message_item(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let output = sms_ok(&app, JANE_PHONE, "Hello Jane").await;
        let event = stream.expect(SMS).await;
        assert!(event.seq() > 0, "{event:?}");
        let id = output["id"].as_str().unwrap();
        let stored = app.item(&format!("/_emulator/messages/{id}")).await;
        assert_eq!(event.payload(), stored);
        assert_eq!(stored["body"], "Hello Jane");
        assert_eq!(stored["status"], "Queued");
    }

    async fn sms_received_carries_the_inbound_message_and_a_keyword_reply_raises_sms_created(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let body = json!({"from": JANE_PHONE, "to": ADA_PHONE, "body": "stop"});
        let (status, received) = app.post("/_emulator/inbound", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{received}");
        let event = stream.expect("sms.received").await;
        assert_eq!(event.payload(), received["message"]);
        assert_eq!(event.payload()["direction"], "Inbound");
        let reply = stream.expect(SMS).await;
        assert_eq!(reply.payload(), received["reply"]);
        // A stream of only `sms.received` hears the customer, not the reply.
        let mut inbound_only = EventStream::open(&app, &format!("{EVENTS}?types=sms.received")).await;
        let body = json!({"from": JANE_PHONE, "to": ADA_PHONE, "body": "start"});
        let (_, received) = app.post("/_emulator/inbound", &body).await;
        let event = inbound_only.expect("sms.received").await;
        assert_eq!(event.payload()["id"], received["message"]["id"]);
    }

    async fn refused_sms_raises_sms_created_with_status_failed(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let response = app.send_sms(&json!({"toPhone": "+15005550001", "bodyText": "Hi"})).await;
        assert_exception(&response, StatusCode::BAD_GATEWAY, 100);
        let payload = stream.expect(SMS).await.payload();
        assert_failed_item(&app, &payload, "messages", "smsId", 21211).await;
    }

    async fn call_created_carries_the_call_item(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let output = call_ok(&app).await;
        let payload = stream.expect(CALL).await.payload();
        let id = output["id"].as_str().unwrap();
        assert_eq!(payload, app.item(&format!("/_emulator/calls/{id}")).await);
        assert_eq!(payload["ivr"], MENU_IVR);
        assert_eq!(payload["toPhone"], JANE_PHONE);
    }

    async fn refused_call_raises_call_created_with_status_failed(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let input = json!({"toPhone": "+15005550004", "ivrId": MENU_IVR});
        let response = app.post("/actions/SubscriberCallInvocable", &input).await;
        assert_exception(&response, StatusCode::BAD_GATEWAY, 100);
        let payload = stream.expect(CALL).await.payload();
        assert_failed_item(&app, &payload, "calls", "callId", 21216).await;
    }

    async fn user_status_changed_carries_the_status_log_item(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let output = set_ada_status(&app, ON_BREAK_STATUS).await;
        let payload = stream.expect(STATUS).await.payload();
        let log_id = output["logId"].as_str().expect("a log entry");
        assert_eq!(payload, app.item(&format!("/_emulator/status-log/{log_id}")).await);
        assert_eq!(payload["userId"], ADA);
        assert_eq!(payload["fromUserStatusId"], AVAILABLE_STATUS);
        assert_eq!(payload["toUserStatusId"], ON_BREAK_STATUS);
        assert_eq!(payload["toStatusType"], "Offline");
    }

    async fn unchanged_user_status_raises_no_event(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        // Ada already has the Available status.
        assert_eq!(set_ada_status(&app, AVAILABLE_STATUS).await["changed"], false);
        let output = set_ada_status(&app, ON_BREAK_STATUS).await;
        let payload = stream.expect(STATUS).await.payload();
        assert_eq!(payload["id"], output["logId"], "{payload}");
        assert_eq!(payload["fromUserStatusId"], AVAILABLE_STATUS);
        assert_eq!(payload["toUserStatusId"], ON_BREAK_STATUS);
    }

    async fn bulk_sms_of_five_inputs_raises_five_events_in_input_order(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let inputs: Vec<Value> = (1..=5)
            .map(|n| json!({"toPhone": JANE_PHONE, "bodyText": format!("Message {n}")}))
            .collect();
        let (status, results) = app.invoke("SubscriberSMSInvocable", json!(inputs)).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        let mut last = 0;
        for n in 1..=5 {
            let event = stream.expect(SMS).await;
            let payload = event.payload();
            assert_eq!(payload["body"], format!("Message {n}"), "{payload}");
            assert_eq!(payload["id"], results[n - 1]["outputValues"]["id"], "{payload}");
            assert!(event.seq() > last, "ids increase: {event:?} after {last}");
            last = event.seq();
        }
    }

    async fn event_ids_increase_across_kinds(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let mut expected = Vec::new();
        for round in 0..2 {
            expected.extend(one_of_each(&app, round).await);
        }
        let events = expect_ids(&mut stream, &expected).await;
        assert!(events[0].seq() > 0, "{:?}", events[0]);
    }

    async fn put_org_raises_org_replaced_with_a_growing_version(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        put_org(&app, &renamed_org(&app, "Ada King").await).await;
        let first = stream.expect(ORG).await.payload();
        let version = first["version"].as_i64().unwrap_or_else(|| panic!("a version: {first}"));
        assert_eq!(first, json!({"version": version}));
        // The demo org stored at start was the first version.
        assert!(version > 1, "{first}");
        put_org(&app, &renamed_org(&app, "Ada Byron").await).await;
        let second = stream.expect(ORG).await.payload();
        let grown = second["version"].as_i64().unwrap_or_else(|| panic!("a version: {second}"));
        assert_eq!(second, json!({"version": grown}));
        assert!(grown > version, "{second} after {first}");
    }

    async fn reset_with_org_raises_org_replaced(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let (status, body) = app.post("/_emulator/reset?org=true", &json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let payload = stream.expect(ORG).await.payload();
        assert!(payload["version"].as_i64().is_some_and(|v| v > 1), "{payload}");
    }

    async fn types_filter_lets_only_the_named_types_through(backend) {
        let cases: [(&str, &[&str]); 4] = [
            ("sms.created", &[SMS]),
            ("user_status.changed,call.created", &[STATUS, CALL]),
            ("org.replaced", &[ORG]),
            (
                "call.created,org.replaced,sms.created,user_status.changed",
                &[SMS, STATUS, CALL, ORG],
            ),
        ];
        for (types, wanted) in cases {
            let app = spawn_app(backend).await;
            let mut stream = EventStream::open(&app, &format!("{EVENTS}?types={types}")).await;
            // Two rounds: an unwanted event after the first round's last wanted one would
            // come before the second round's first.
            let mut expected = Vec::new();
            for round in 0..2 {
                let raised = one_of_each(&app, round).await;
                expected.extend(raised.into_iter().filter(|(kind, _)| wanted.contains(kind)));
            }
            expect_ids(&mut stream, &expected).await;
        }
    }
}
