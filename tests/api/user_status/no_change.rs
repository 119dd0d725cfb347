//! Setting the status a user already has: `changed: false`, no log entry, no event.

use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn setting_the_org_status_a_user_has_changes_nothing(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("Ada's record by Id", json!({ "userId": ADA, "userStatusId": AVAILABLE_STATUS }), ADA, ADA_INITIAL),
            ("Ada's record by 15-character Id", json!({ "userId": ADA, "userStatusId": &AVAILABLE_STATUS[..15] }), ADA, ADA_INITIAL),
            ("Ada's record, statusType ignored", json!({ "userId": ADA, "userStatusId": AVAILABLE_STATUS, "statusType": "Offline" }), ADA, ADA_INITIAL),
            ("Grace's record by Id", json!({ "userId": GRACE, "userStatusId": OFFLINE_STATUS }), GRACE, GRACE_INITIAL),
            ("Katherine's availability", json!({ "userId": KATHERINE, "statusType": "available" }), KATHERINE, KATHERINE_INITIAL),
            ("Katherine's availability, unknown status Id", json!({ "userId": KATHERINE, "userStatusId": id18("a0UDn0000009Zzz"), "statusType": "Available" }), KATHERINE, KATHERINE_INITIAL),
        ];
        for (case, request, user, status) in cases {
            let output = set_ok(&app, &request).await;
            // Still the org's status: it has no time of change.
            assert_unchanged(&output, user, status, &Value::Null);
            assert!(status_log(&app, "").await.is_empty(), "{case}");
            let state = user_state(&app, user).await;
            assert_eq!(state["userStatusId"], json!(status.0), "{case}: {state}");
            assert!(state["changedDate"].is_null(), "{case}: {state}");
        }
        // The next event is the first one: the no-ops raised none.
        let (_, sentinel_id) = change(&app, GRACE, GRACE_INITIAL, BARE_OFFLINE).await;
        let events = status_events_until(&app, &sentinel_id).await;
        assert_eq!(events.len(), 1, "{events:?}");
    }

    async fn setting_the_status_set_earlier_changes_nothing_and_keeps_its_time(backend) {
        let app = spawn_app(backend).await;
        let (to_break, break_id) = change(&app, ADA, ADA_INITIAL, ON_BREAK).await;
        let (to_offline, offline_id) = change(&app, KATHERINE, KATHERINE_INITIAL, BARE_OFFLINE).await;

        let cases = [
            ("the same record", json!({ "userId": ADA, "userStatusId": ON_BREAK_STATUS }), ADA, ON_BREAK, &to_break),
            ("the same record by 15-character Id", json!({ "userId": ADA, "userStatusId": &ON_BREAK_STATUS[..15] }), ADA, ON_BREAK, &to_break),
            ("the same record, contradicting statusType", json!({ "userId": ADA, "userStatusId": ON_BREAK_STATUS, "statusType": "Available" }), ADA, ON_BREAK, &to_break),
            ("the same availability", json!({ "userId": KATHERINE, "statusType": "Offline" }), KATHERINE, BARE_OFFLINE, &to_offline),
            ("the same availability in lower case", json!({ "userId": KATHERINE, "statusType": "offline" }), KATHERINE, BARE_OFFLINE, &to_offline),
        ];
        for (case, request, user, status, earlier) in cases {
            let output = set_ok(&app, &request).await;
            assert_unchanged(&output, user, status, &earlier["changedDate"]);
            let state = user_state(&app, user).await;
            assert_eq!(state["changedDate"], earlier["changedDate"], "{case}: {state}");
        }

        let log = status_log(&app, "").await;
        let ids: Vec<&Value> = log.iter().map(|e| &e["id"]).collect();
        assert_eq!(ids, [&json!(offline_id), &json!(break_id)]);
        let (_, sentinel_id) = change(&app, GRACE, GRACE_INITIAL, BARE_OFFLINE).await;
        let events: Vec<Value> = status_events_until(&app, &sentinel_id)
            .await
            .into_iter()
            .map(|e| e["id"].clone())
            .collect();
        assert_eq!(events, [json!(break_id), json!(offline_id), json!(sentinel_id)]);
    }

    async fn changing_back_to_the_org_status_is_a_change(backend) {
        let app = spawn_app(backend).await;
        change(&app, ADA, ADA_INITIAL, ON_BREAK).await;
        let (back, _) = change(&app, ADA, ON_BREAK, ADA_INITIAL).await;
        // Now the org's status again, but set through the action: it has a time.
        let again = set_ok(&app, &input(ADA, ADA_INITIAL)).await;
        assert_unchanged(&again, ADA, ADA_INITIAL, &back["changedDate"]);
        assert_eq!(status_log(&app, "").await.len(), 2);
    }
}
