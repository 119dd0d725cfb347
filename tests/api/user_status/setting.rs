//! Each way of choosing the status: a status record by Id (any form of the Id), a bare
//! availability by `statusType`, the fallback from an unknown Id, and which input wins.

use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::backend_tests;

backend_tests! {
    async fn user_status_id_gives_the_status_record_and_its_type(backend) {
        let app = spawn_app(backend).await;
        let output = set_ok(&app, &json!({ "userId": ADA, "userStatusId": ON_BREAK_STATUS })).await;
        let log_id = assert_changed(&output, ADA, ADA_INITIAL, ON_BREAK);

        let entry = log_entry(&app, &log_id).await;
        assert_log_entry(&entry, ADA, ADA_INITIAL, ON_BREAK, ADA);
        assert_eq!(entry["id"], log_id);
        assert_eq!(entry["changedDate"], output["changedDate"]);
        let user = user_state(&app, ADA).await;
        assert_eq!(user["userStatusId"], ON_BREAK_STATUS);
        assert_eq!(user["userStatusName"], "On Break");
        assert_eq!(user["statusType"], "Offline");
        assert_eq!(user["changedDate"], output["changedDate"]);
    }

    async fn every_form_of_a_status_id_names_the_same_status(backend) {
        let app = spawn_app(backend).await;
        let upper = ON_BREAK_STATUS.to_uppercase();
        let lower = ON_BREAK_STATUS.to_lowercase();
        // One user per form, so each starts from its own org status.
        let cases = [
            ("15-character Id", ADA, &ON_BREAK_STATUS[..15], ADA_INITIAL),
            ("upper-cased 18-character Id", GRACE, upper.as_str(), GRACE_INITIAL),
            ("lower-cased 18-character Id", KATHERINE, lower.as_str(), KATHERINE_INITIAL),
        ];
        for (case, user, status_id, initial) in cases {
            let output = set_ok(&app, &json!({ "userId": user, "userStatusId": status_id })).await;
            let log_id = assert_changed(&output, user, initial, ON_BREAK);
            let entry = log_entry(&app, &log_id).await;
            assert_eq!(entry["toUserStatusId"], ON_BREAK_STATUS, "{case}: {entry}");
            assert_eq!(user_state(&app, user).await["userStatusId"], ON_BREAK_STATUS, "{case}");
        }
        assert_eq!(status_log(&app, "").await.len(), 3);
    }

    async fn every_form_of_the_user_id_names_the_same_user(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("15-character Id", ADA[..15].to_owned(), ON_BREAK),
            ("upper-cased 18-character Id", ADA.to_uppercase(), BARE_OFFLINE),
            ("lower-cased 18-character Id", ADA.to_lowercase(), AVAILABLE_RECORD),
        ];
        let mut from = ADA_INITIAL;
        for (case, user_id, to) in cases {
            let mut request = input(ADA, to);
            request["userId"] = json!(user_id);
            let output = set_ok(&app, &request).await;
            assert_eq!(output["userId"], ADA, "{case}: {output}");
            assert_changed(&output, ADA, from, to);
            from = to;
        }
        assert_eq!(status_log(&app, &format!("?userId={ADA}")).await.len(), 3);
    }

    async fn status_type_alone_sets_a_bare_availability_in_any_case(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            (ADA, "Offline", ADA_INITIAL, BARE_OFFLINE),
            (GRACE, "available", GRACE_INITIAL, BARE_AVAILABLE),
            (KATHERINE, "OFFLINE", KATHERINE_INITIAL, BARE_OFFLINE),
        ];
        for (user, status_type, from, to) in cases {
            let output = set_ok(&app, &json!({ "userId": user, "statusType": status_type })).await;
            let log_id = assert_changed(&output, user, from, to);
            assert_log_entry(&log_entry(&app, &log_id).await, user, from, to, ADA);
            let state = user_state(&app, user).await;
            assert!(state["userStatusId"].is_null(), "{status_type}: {state}");
            assert!(state["userStatusName"].is_null(), "{status_type}: {state}");
            assert_eq!(state["statusType"], to.1, "{status_type}: {state}");
        }
    }

    async fn a_bare_availability_differs_from_a_status_record_of_the_same_type(backend) {
        let app = spawn_app(backend).await;
        // Ada's org status is the "Available" record; bare Available is another status.
        change(&app, ADA, ADA_INITIAL, BARE_AVAILABLE).await;
        // Grace's is the "Offline" record; "On Break" is Offline too, yet a change.
        change(&app, GRACE, GRACE_INITIAL, ON_BREAK).await;
        assert_eq!(status_log(&app, "").await.len(), 2);
    }

    async fn unknown_well_formed_user_status_id_falls_back_to_status_type(backend) {
        let app = spawn_app(backend).await;
        let unknown_status = id18("a0UDn0000009Zzz");
        let cases = [
            ("unknown status Id", ADA, unknown_status.as_str(), "Offline", ADA_INITIAL, BARE_OFFLINE),
            ("an IVR's Id", GRACE, "a0IDn0000001MnuMAE", "available", GRACE_INITIAL, BARE_AVAILABLE),
            ("a Contact's Id", KATHERINE, JANE_CONTACT, "Offline", KATHERINE_INITIAL, BARE_OFFLINE),
        ];
        for (case, user, status_id, status_type, from, to) in cases {
            let request = json!({ "userId": user, "userStatusId": status_id, "statusType": status_type });
            let output = set_ok(&app, &request).await;
            assert!(output["userStatusId"].is_null(), "{case}: {output}");
            assert_changed(&output, user, from, to);
        }
        assert_eq!(status_log(&app, "").await.len(), 3);
    }

    async fn user_status_id_wins_over_a_contradicting_status_type(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("Offline record, statusType Available", ADA, ON_BREAK_STATUS, "Available", ADA_INITIAL, ON_BREAK),
            ("Available record, statusType Offline", GRACE, AVAILABLE_STATUS, "Offline", GRACE_INITIAL, AVAILABLE_RECORD),
            ("a record, statusType not a status type", KATHERINE, OFFLINE_STATUS, "Busy", KATHERINE_INITIAL, OFFLINE_RECORD),
        ];
        for (case, user, status_id, status_type, from, to) in cases {
            let request = json!({ "userId": user, "userStatusId": status_id, "statusType": status_type });
            let (status, output) = set_status(&app, &request).await;
            assert_eq!(status, StatusCode::OK, "{case}: {output}");
            let log_id = assert_changed(&output, user, from, to);
            assert_log_entry(&log_entry(&app, &log_id).await, user, from, to, ADA);
        }
    }

    async fn blank_inputs_count_as_absent(backend) {
        let app = spawn_app(backend).await;
        let output = set_ok(&app, &json!({ "userId": ADA, "userStatusId": "", "statusType": "Offline" })).await;
        assert_changed(&output, ADA, ADA_INITIAL, BARE_OFFLINE);
        let output = set_ok(&app, &json!({ "userId": GRACE, "userStatusId": ON_BREAK_STATUS, "statusType": "  " })).await;
        assert_changed(&output, GRACE, GRACE_INITIAL, ON_BREAK);
        let output = set_ok(&app, &json!({ "userId": KATHERINE, "userStatusId": " ", "statusType": " offline " })).await;
        assert_changed(&output, KATHERINE, KATHERINE_INITIAL, BARE_OFFLINE);
    }

    async fn a_change_raises_one_event_holding_its_log_item(backend) {
        let app = spawn_app(backend).await;
        let (_, first_id) = change(&app, GRACE, GRACE_INITIAL, BARE_AVAILABLE).await;
        let (_, last_id) = change(&app, GRACE, BARE_AVAILABLE, ON_BREAK).await;
        let events = status_events_until(&app, &last_id).await;
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0], log_entry(&app, &first_id).await);
        assert_eq!(events[1], log_entry(&app, &last_id).await);
        assert_log_entry(&events[1], GRACE, BARE_AVAILABLE, ON_BREAK, ADA);
    }
}
