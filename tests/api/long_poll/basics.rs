//! Long-polling basics: answered at once, at the deadline, refused waits, and at shutdown.

use super::*;
use crate::backend_tests;

/// Runs `action` (the SMS or the call action) with Ada's `input` changed to miss one filter
/// of `held` at a time (the destination, the caller ID, the user, the related record), and
/// moves each record to `status`: `held` must stay held after each.
async fn miss_each_filter(
    app: &TestApp,
    held: &mut Held,
    action: &str,
    input: &Value,
    status: &str,
) {
    let kind = if action == SMS_ACTION {
        "messages"
    } else {
        "calls"
    };
    let misses = [
        ("another destination", json!({"toPhone": JANE_MOBILE})),
        ("another caller ID", json!({"fromPhone": MAIN_PHONE})),
        (
            "another user",
            json!({"userId": KATHERINE, "fromPhone": ADA_PHONE}),
        ),
        ("no related record", json!({"recordId": ""})),
    ];
    for (miss, changes) in misses {
        let record = act(app, action, with_changes(input.clone(), changes)).await;
        let id = record["id"].as_str().unwrap();
        move_to(app, kind, id, json!({"status": status})).await;
        held.assert_held(miss).await;
    }
}

backend_tests! {
    async fn a_match_already_there_is_answered_at_once(backend) {
        let app = spawn_app(backend).await;
        one_of_everything(&app).await;
        let cases = [
            (format!("/_emulator/messages?to={}", q(JANE_PHONE)), "10"),
            (format!("/_emulator/calls?to={}", q(JANE_PHONE)), "120"),
            (format!("/_emulator/tasks?relatedRecordId={JANE_CONTACT}"), "10"),
            (format!("/_emulator/voip-errors?to={}", q(REFUSED_21211)), "10"),
            (format!("/_emulator/status-log?userId={GRACE}"), "120"),
        ];
        for (path, wait) in cases {
            let expected = app.items(&path).await;
            assert_eq!(expected.len(), 1, "{path}: {expected:?}");
            let started = Instant::now();
            let got = app.items(&format!("{path}&wait={wait}")).await;
            // Well before even the shorter wait of 10 s expired.
            assert!(started.elapsed() < Duration::from_secs(5), "{path}&wait={wait}: answered after {:?}", started.elapsed());
            assert_eq!(got, expected, "{path}&wait={wait}");
        }
    }

    async fn wait_zero_answers_at_once_on_every_list(backend) {
        let app = spawn_app(backend).await;
        for path in unmatched_paths() {
            let started = Instant::now();
            let (status, body) = app.get(&format!("{path}&wait=0")).await;
            assert!(started.elapsed() < AT_ONCE, "{path}&wait=0: answered after {:?}", started.elapsed());
            assert_eq!((status, body), (StatusCode::OK, json!({"items": []})), "{path}&wait=0");
        }
        one_of_everything(&app).await;
        for list_path in LISTS {
            let expected = app.items(list_path).await;
            assert!(!expected.is_empty(), "{list_path}");
            let started = Instant::now();
            let got = app.items(&format!("{list_path}?wait=0")).await;
            assert!(started.elapsed() < AT_ONCE, "{list_path}?wait=0: answered after {:?}", started.elapsed());
            assert_eq!(got, expected, "{list_path}?wait=0");
        }
    }

    async fn invalid_waits_are_refused_on_every_list_naming_wait(backend) {
        let app = spawn_app(backend).await;
        let waits = ["-1", "121", "120.5", "-0.5", "soon", "nan", "inf", "", "1s"];
        let mut wrong = Vec::new();
        for list_path in LISTS {
            for wait in waits {
                let path = format!("{list_path}?wait={wait}");
                let (status, body) = app.get(&path).await;
                let message = body["message"].as_str().unwrap_or_default();
                if status != StatusCode::BAD_REQUEST
                    || body["errorCode"] != "INVALID_FILTER"
                    || !message.contains("wait")
                {
                    wrong.push(format!("{path}: {status} {body}"));
                }
            }
        }
        assert!(wrong.is_empty(), "expected 400 INVALID_FILTER naming wait:\n{}", wrong.join("\n"));
    }

    async fn invalid_filters_beside_a_wait_are_refused_at_once(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("/_emulator/messages?status=Nope&wait=10", "status"),
            ("/_emulator/calls?wait=10&limit=0", "limit"),
            ("/_emulator/tasks?to=%2B14155550123&wait=10", "to"),
            ("/_emulator/voip-errors?status=Undelivered&wait=10", "status"),
            ("/_emulator/status-log?wait=10&relatedRecordId=003Dn0000001JanIAE", "relatedRecordId"),
            ("/_emulator/messages?wait=10&since=yesterday", "since"),
        ];
        for (path, named) in cases {
            let started = Instant::now();
            let (status, body) = app.get(path).await;
            assert!(started.elapsed() < AT_ONCE, "{path}: answered after {:?}", started.elapsed());
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{path}: {body}");
            let message = body["message"].as_str().expect("a message");
            assert!(message.contains(named), "{path}: {message}");
        }
    }

    async fn every_list_answers_empty_at_the_deadline_when_nothing_matches(backend) {
        let app = spawn_app(backend).await;
        let mut held = Vec::new();
        for wait in [1.0, 0.5] {
            for path in unmatched_paths() {
                held.push((hold(&app, &format!("{path}&wait={wait}")), wait));
            }
        }
        // Events that match none of them do not end their waits.
        one_of_everything(&app).await;
        for (request, wait) in held {
            request.assert_empty_at_deadline(wait).await;
        }
    }

    async fn held_messages_request_answers_only_the_message_matching_every_filter(backend) {
        let app = spawn_app(backend).await;
        let jane = |extra: Value| with_changes(json!({"toPhone": JANE_PHONE, "bodyText": "Hi", "recordId": JANE_CONTACT}), extra);
        // Matches every filter but `since`.
        let earlier = act(&app, SMS_ACTION, jane(json!({}))).await;
        move_to(&app, "messages", earlier["id"].as_str().unwrap(), json!({"status": "Sent"})).await;
        let path = format!(
            "/_emulator/messages?to={}&from={}&userId={ADA}&relatedRecordId={JANE_CONTACT}&status=Sent&since={}&limit=1&wait={WAIT}",
            q(JANE_PHONE), q(ADA_PHONE), just_after(&earlier["createdDate"]),
        );
        let mut held = hold(&app, &path);
        held.assert_held("nothing new").await;
        miss_each_filter(&app, &mut held, SMS_ACTION, &jane(json!({})), "Sent").await;
        let sent = act(&app, SMS_ACTION, jane(json!({}))).await;
        held.assert_held("a full match still Queued").await;
        let id = sent["id"].as_str().unwrap();
        let moved = move_to(&app, "messages", id, json!({"status": "Sent"})).await;
        let items = held.matched().await;
        assert_eq!(items, std::slice::from_ref(&moved), "{path}");
        assert_eq!(app.item(&format!("/_emulator/messages/{id}")).await, moved);
    }

    async fn held_messages_requests_for_final_statuses_are_answered_by_timed_steps(backend) {
        let app = spawn_timed(backend).await;
        let delivered = format!("/_emulator/messages?to={}&status=Delivered&wait={WAIT}", q(JANE_PHONE));
        let undelivered = format!("/_emulator/messages?to={}&status=Undelivered&wait={WAIT}", q(UNDELIVERED_PHONE));
        let mut delivered = hold(&app, &delivered);
        let undelivered = hold(&app, &undelivered);
        delivered.assert_held("nothing yet").await;
        let to_jane = act(&app, SMS_ACTION, json!({"toPhone": JANE_PHONE, "bodyText": "Hi"})).await;
        let to_nowhere = act(&app, SMS_ACTION, json!({"toPhone": UNDELIVERED_PHONE, "bodyText": "Hi"})).await;

        let items = delivered.matched().await;
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["id"], to_jane["id"]);
        assert_eq!(items[0]["status"], "Delivered");
        assert_eq!(statuses(&items[0]), ["Queued", "Sending", "Sent", "Delivered"]);

        let items = undelivered.matched().await;
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["id"], to_nowhere["id"]);
        assert_eq!(items[0]["status"], "Undelivered");
        assert_eq!(items[0]["errorCode"], 30003);
        assert_eq!(statuses(&items[0]), ["Queued", "Sending", "Sent", "Undelivered"]);
    }

    async fn held_messages_request_for_delivered_stays_held_across_moves_short_of_it(backend) {
        let app = spawn_app(backend).await;
        let path = format!("/_emulator/messages?to={}&status=Delivered&wait={WAIT}", q(JANE_PHONE));
        let mut held = hold(&app, &path);
        held.assert_held("nothing yet").await;
        let sent = act(&app, SMS_ACTION, json!({"toPhone": JANE_PHONE, "bodyText": "Hi"})).await;
        let id = sent["id"].as_str().unwrap();
        held.assert_held("a Queued message").await;
        move_to(&app, "messages", id, json!({"status": "Sent"})).await;
        held.assert_held("a move to Sent").await;
        let other = act(&app, SMS_ACTION, json!({"toPhone": JANE_PHONE, "bodyText": "Other"})).await;
        move_to(&app, "messages", other["id"].as_str().unwrap(), json!({"status": "Undelivered"})).await;
        held.assert_held("another message Undelivered").await;
        let elsewhere = act(&app, SMS_ACTION, json!({"toPhone": JANE_MOBILE, "bodyText": "Hi"})).await;
        move_to(&app, "messages", elsewhere["id"].as_str().unwrap(), json!({"status": "Delivered"})).await;
        held.assert_held("a message to another number Delivered").await;

        let moved = move_to(&app, "messages", id, json!({"status": "Delivered"})).await;
        let items = held.matched().await;
        assert_eq!(items, std::slice::from_ref(&moved), "{path}");
        assert_eq!(statuses(&items[0]), ["Queued", "Sent", "Delivered"]);
    }

    async fn held_calls_request_answers_only_the_call_matching_every_filter(backend) {
        let app = spawn_app(backend).await;
        let jane = |extra: Value| with_changes(json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR, "recordId": JANE_CONTACT}), extra);
        let earlier = act(&app, CALL_ACTION, jane(json!({}))).await;
        move_to(&app, "calls", earlier["id"].as_str().unwrap(), json!({"status": "Ringing"})).await;
        let path = format!(
            "/_emulator/calls?to={}&from={}&userId={ADA}&relatedRecordId={JANE_CONTACT}&status=Ringing&since={}&limit=1&wait={WAIT}",
            q(JANE_PHONE), q(ADA_PHONE), just_after(&earlier["startTime"]),
        );
        let mut held = hold(&app, &path);
        held.assert_held("nothing new").await;
        miss_each_filter(&app, &mut held, CALL_ACTION, &jane(json!({})), "Ringing").await;
        // An SMS to the same number is not a call.
        act(&app, SMS_ACTION, json!({"toPhone": JANE_PHONE, "bodyText": "Hi", "recordId": JANE_CONTACT})).await;
        held.assert_held("an SMS").await;
        let call = act(&app, CALL_ACTION, jane(json!({}))).await;
        held.assert_held("a full match still Queued").await;
        let id = call["id"].as_str().unwrap();
        let moved = move_to(&app, "calls", id, json!({"status": "ringing"})).await;
        let items = held.matched().await;
        assert_eq!(items, std::slice::from_ref(&moved), "{path}");
        assert_eq!(app.item(&format!("/_emulator/calls/{id}")).await, moved);
    }
}
