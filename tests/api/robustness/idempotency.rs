//! `Idempotency-Key`: a retry with the same key gets the first answer again, marked
//! `Idempotent-Replayed: true`, and sends, places or changes nothing a second time — on
//! every action, directly and through the Salesforce shape, errors included.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

/// The app for counting what a call left behind, events included.
async fn counting_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |config| config.event_keep_alive_secs = 1).await
}

backend_tests! {
    async fn sms_retried_with_its_key_is_replayed_and_sent_once(backend) {
        let app = counting_app(backend).await;
        let input = json!({ "toPhone": JANE_PHONE, "bodyText": "Once", "recordId": JANE_CONTACT });
        let first = post_keyed(&app, SMS, "sms-once", &[], &input).await;
        first.assert_ran(StatusCode::OK);
        assert_eq!(first.body["status"], "Queued", "{}", first.text);
        for _ in 0..2 {
            post_keyed(&app, SMS, "sms-once", &[], &input).await.assert_replay_of(&first);
        }
        assert_only(&items(&app, "messages").await, &first.body["id"]);
        assert_only(&items(&app, "tasks").await, &first.body["taskId"]);
        assert_only(&stored_events(&app, "sms.created").await, &first.body["id"]);
    }

    async fn sms_delivered_before_the_answer_is_replayed_delivered_and_sent_once(backend) {
        // Immediate progression takes the steps in the write's own transaction: the path of
        // a group commit that does more than insert, with the answer kept under the key.
        let app = spawn_app_with(backend, |config| {
            config.event_keep_alive_secs = 1;
            config.progression = fastcall_emulator::lifecycle::Progression::Immediate;
        })
        .await;
        let input = json!({ "toPhone": JANE_PHONE, "bodyText": "Once, delivered" });
        let first = post_keyed(&app, SMS, "sms-delivered", &[], &input).await;
        first.assert_ran(StatusCode::OK);
        for _ in 0..2 {
            post_keyed(&app, SMS, "sms-delivered", &[], &input).await.assert_replay_of(&first);
        }
        let messages = items(&app, "messages").await;
        assert_only(&messages, &first.body["id"]);
        assert_eq!(messages[0]["status"], "Delivered", "{messages:?}");
        assert_only(&stored_events(&app, "sms.created").await, &first.body["id"]);
    }

    async fn call_retried_with_its_key_is_replayed_and_placed_once(backend) {
        let app = counting_app(backend).await;
        let first = post_keyed(&app, CALL, "call-once", &[], &call()).await;
        first.assert_ran(StatusCode::OK);
        assert_eq!(first.body["status"], "Queued", "{}", first.text);
        for _ in 0..2 {
            post_keyed(&app, CALL, "call-once", &[], &call()).await.assert_replay_of(&first);
        }
        assert_only(&items(&app, "calls").await, &first.body["id"]);
        assert_only(&items(&app, "tasks").await, &first.body["taskId"]);
        assert_only(&stored_events(&app, "call.created").await, &first.body["id"]);
    }

    async fn user_status_retried_with_its_key_is_replayed_and_changes_nothing_again(backend) {
        let app = counting_app(backend).await;
        let first = post_keyed(&app, STATUS, "status-1", &[], &on_break(ADA)).await;
        first.assert_ran(StatusCode::OK);
        assert_eq!(first.body["changed"], true, "{}", first.text);
        // Ada moves on; a late retry of the first change must not move her back.
        let back = json!({ "userId": ADA, "userStatusId": AVAILABLE_STATUS });
        post_keyed(&app, STATUS, "status-2", &[], &back).await.assert_ran(StatusCode::OK);
        post_keyed(&app, STATUS, "status-1", &[], &on_break(ADA)).await.assert_replay_of(&first);

        let (status, ada) = app.get(&format!("/_emulator/users/{ADA}")).await;
        assert_eq!(status, StatusCode::OK, "{ada}");
        assert_eq!(ada["userStatusId"], AVAILABLE_STATUS, "{ada}");
        let log = items(&app, "status-log").await;
        assert_eq!(log.len(), 2, "{log:?}");
        assert_eq!(log[1]["id"], first.body["logId"]);
        assert_eq!(stored_events(&app, "user_status.changed").await.len(), 2);
    }

    async fn bulk_sms_retried_with_its_key_is_replayed_and_sent_once(backend) {
        let app = counting_app(backend).await;
        let body = inputs(&[
            sms("To Jane"),
            json!({ "toPhone": BOB_PHONE, "bodyText": "To Bob", "recordId": BOB_LEAD }),
        ]);
        let first = post_keyed(&app, APEX_SMS, "bulk-sms", &[], &body).await;
        first.assert_ran(StatusCode::OK);
        assert_eq!(first.body.as_array().map(Vec::len), Some(2), "{}", first.text);
        post_keyed(&app, APEX_SMS, "bulk-sms", &[], &body).await.assert_replay_of(&first);

        let messages = items(&app, "messages").await;
        assert_eq!(messages.len(), 2, "{messages:?}");
        let mut stored: Vec<_> = messages.iter().map(|m| m["id"].clone()).collect();
        let mut answered: Vec<_> = (0..2).map(|i| first.body[i]["outputValues"]["id"].clone()).collect();
        stored.sort_by_key(ToString::to_string);
        answered.sort_by_key(ToString::to_string);
        assert_eq!(stored, answered);
        assert_eq!(items(&app, "tasks").await.len(), 1);
        assert_eq!(stored_events(&app, "sms.created").await.len(), 2);
    }

    async fn bulk_user_status_retried_with_its_key_is_replayed_and_changes_nothing_again(backend) {
        let app = counting_app(backend).await;
        let body = inputs(&[on_break(ADA), json!({ "userId": KATHERINE, "statusType": "Offline" })]);
        let first = post_keyed(&app, APEX_STATUS, "bulk-status", &[], &body).await;
        first.assert_ran(StatusCode::OK);
        assert_eq!(first.body[0]["outputValues"]["changed"], true, "{}", first.text);
        assert_eq!(first.body[1]["outputValues"]["changed"], true, "{}", first.text);
        let back = json!({ "userId": ADA, "userStatusId": AVAILABLE_STATUS });
        let (status, output) = app.post(STATUS, &back).await;
        assert_eq!(status, StatusCode::OK, "{output}");
        post_keyed(&app, APEX_STATUS, "bulk-status", &[], &body).await.assert_replay_of(&first);

        let (_, ada) = app.get(&format!("/_emulator/users/{ADA}")).await;
        assert_eq!(ada["userStatusId"], AVAILABLE_STATUS, "{ada}");
        assert_eq!(items(&app, "status-log").await.len(), 3);
        assert_eq!(stored_events(&app, "user_status.changed").await.len(), 3);
    }

    async fn a_caller_id_refusal_103_is_replayed_too(backend) {
        let app = spawn_app(backend).await;
        let input = json!({ "toPhone": JANE_PHONE, "bodyText": "x", "fromPhone": "+14155550199" });
        let first = post_keyed(&app, SMS, "refused-103", &[], &input).await;
        let message = assert_api_exception(&first, StatusCode::BAD_REQUEST, 103);
        assert!(message.starts_with("Caller ID not found."), "{message}");
        assert_eq!(first.replayed, None);
        let retry = post_keyed(&app, SMS, "refused-103", &[], &input).await;
        retry.assert_replay_of(&first);
        assert_api_exception(&retry, StatusCode::BAD_REQUEST, 103);

        // In bulk, the failed invocation's answer is kept, and nothing was sent.
        let body = inputs(&[sms("fine"), input.clone()]);
        let first = post_keyed(&app, APEX_SMS, "bulk-103", &[], &body).await;
        first.assert_ran(StatusCode::BAD_REQUEST);
        for result in first.body.as_array().unwrap() {
            let message = result["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("APIException: [103]"), "{}", first.text);
        }
        post_keyed(&app, APEX_SMS, "bulk-103", &[], &body).await.assert_replay_of(&first);
        assert!(items(&app, "messages").await.is_empty(), "a check failure sends nothing");
    }

    async fn a_provider_refusal_100_is_replayed_with_one_failed_record_and_one_error(backend) {
        let app = counting_app(backend).await;
        let cases = [
            (SMS, json!({ "toPhone": "+15005550001", "bodyText": "x" }), "messages", "sms.created", "21211"),
            (CALL, json!({ "toPhone": "+15005550001", "ivrId": MENU_IVR }), "calls", "call.created", "21217"),
        ];
        for (number, (path, input, list, kind, code)) in cases.into_iter().enumerate() {
            let key = format!("refused-100-{list}");
            let first = post_keyed(&app, path, &key, &[], &input).await;
            let message = assert_api_exception(&first, StatusCode::BAD_GATEWAY, 100);
            assert!(message.contains(code), "{message}");
            assert_eq!(first.replayed, None);
            post_keyed(&app, path, &key, &[], &input).await.assert_replay_of(&first);
            post_keyed(&app, path, &key, &[], &input).await.assert_replay_of(&first);

            let records = items(&app, list).await;
            assert_eq!(records.len(), 1, "{list}: {records:?}");
            assert_eq!(records[0]["status"], "Failed", "{list}: {records:?}");
            assert_eq!(items(&app, "voip-errors").await.len(), number + 1, "{list}");
            assert_eq!(stored_events(&app, kind).await.len(), 1, "{list}");
        }
        assert!(items(&app, "tasks").await.is_empty());
    }
}
