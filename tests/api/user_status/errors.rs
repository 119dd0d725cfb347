//! Inputs the action refuses: each is error 104 with a message naming the problem, and
//! nothing is logged, changed or raised.

use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

/// Asserts the refused calls left every user at the org's status, with no log entry and
/// no event (the first event is the one of a change made now).
async fn assert_nothing_happened(app: &TestApp) {
    assert!(status_log(app, "").await.is_empty());
    assert_org_statuses(app).await;
    let (_, sentinel_id) = change(app, GRACE, GRACE_INITIAL, BARE_AVAILABLE).await;
    assert_eq!(status_events_until(app, &sentinel_id).await.len(), 1);
}

/// Runs each `(case, input, message fragment)` and expects error 104 for each, and then
/// that nothing happened.
async fn assert_each_is_104(app: &TestApp, cases: Vec<(&str, Value, &str)>) {
    assert_each_refused(app, ACTION, 104, &[], &cases).await;
    assert_nothing_happened(app).await;
}

backend_tests! {
    async fn bad_user_ids_are_error_104(backend) {
        let app = spawn_app(backend).await;
        let unknown_user = id18("005Dn0000009Zzz");
        let cases = vec![
            ("userId missing", json!({ "statusType": "Available" }), "userId is required"),
            ("userId null", json!({ "userId": null, "statusType": "Available" }), "userId is required"),
            ("userId empty", json!({ "userId": "", "statusType": "Available" }), "userId is required"),
            ("userId blank", json!({ "userId": "   ", "statusType": "Available" }), "userId is required"),
            ("userId missing, bad statusType too", json!({ "statusType": "Busy" }), "userId is required"),
            ("userId not an Id", json!({ "userId": "ada", "statusType": "Available" }), "not a valid Salesforce Id"),
            ("userId of 16 characters", json!({ "userId": "005Dn0000001AdaI", "statusType": "Available" }), "not a valid Salesforce Id"),
            ("userId with a bad checksum", json!({ "userId": "005Dn0000001AdaIAA", "statusType": "Available" }), "not a valid Salesforce Id"),
            ("userId with punctuation", json!({ "userId": "005Dn0000001Ad-", "statusType": "Available" }), "userId"),
            ("userId unknown", json!({ "userId": unknown_user, "statusType": "Available" }), "is not a user of the org"),
            ("userId of a Contact", json!({ "userId": JANE_CONTACT, "statusType": "Available" }), "is not a user of the org"),
            ("userId of a group", json!({ "userId": SUPPORT_GROUP, "statusType": "Available" }), "is not a user of the org"),
            ("userId of a non-Fastcall user", json!({ "userId": LINUS, "statusType": "Available" }), "is not a Fastcall user"),
            ("userId of a non-Fastcall user, by a status Id", json!({ "userId": LINUS, "userStatusId": AVAILABLE_STATUS }), "is not a Fastcall user"),
        ];
        assert_each_is_104(&app, cases).await;
    }

    async fn malformed_user_status_id_is_error_104_even_with_a_status_type(backend) {
        let app = spawn_app(backend).await;
        let cases = vec![
            ("bad checksum", json!({ "userId": ADA, "userStatusId": "a0UDn0000002BrkMAA", "statusType": "Offline" }), "userStatusId"),
            ("not an Id", json!({ "userId": ADA, "userStatusId": "On Break", "statusType": "Offline" }), "not a valid Salesforce Id"),
            ("16 characters", json!({ "userId": ADA, "userStatusId": "a0UDn0000002BrkM", "statusType": "Offline" }), "not a valid Salesforce Id"),
            ("19 characters", json!({ "userId": GRACE, "userStatusId": "a0UDn0000002BrkMAEX" }), "not a valid Salesforce Id"),
            ("14 characters", json!({ "userId": KATHERINE, "userStatusId": "a0UDn0000002Br", "statusType": "Available" }), "userStatusId"),
        ];
        assert_each_is_104(&app, cases).await;
    }

    async fn without_a_usable_status_it_is_error_104(backend) {
        let app = spawn_app(backend).await;
        let unknown_status = id18("a0UDn0000009Zzz");
        let cases = vec![
            ("neither given", json!({ "userId": ADA }), "Pass userStatusId or statusType"),
            ("both blank", json!({ "userId": ADA, "userStatusId": "", "statusType": " " }), "Pass userStatusId or statusType"),
            ("both null", json!({ "userId": ADA, "userStatusId": null, "statusType": null }), "Pass userStatusId or statusType"),
            ("statusType Busy", json!({ "userId": ADA, "statusType": "Busy" }), "statusType `Busy` is not Available or Offline"),
            ("statusType a status name", json!({ "userId": GRACE, "statusType": "On Break" }), "is not Available or Offline"),
            ("unknown status Id, no statusType", json!({ "userId": KATHERINE, "userStatusId": unknown_status }), "not one of the org's user statuses"),
            ("unknown status Id, blank statusType", json!({ "userId": KATHERINE, "userStatusId": unknown_status, "statusType": "" }), "not one of the org's user statuses"),
            ("unknown status Id, statusType Busy", json!({ "userId": ADA, "userStatusId": unknown_status, "statusType": "Busy" }), "Busy"),
        ];
        assert_each_is_104(&app, cases).await;
    }

    async fn bodies_that_are_not_the_inputs_are_error_104(backend) {
        let app = spawn_app(backend).await;
        let cases = vec![
            ("unknown field", json!({ "userId": ADA, "statusType": "Offline", "status": "Offline" }), "status"),
            ("misspelt field", json!({ "userId": ADA, "statustype": "Offline" }), "statustype"),
            ("number userId", json!({ "userId": 5, "statusType": "Offline" }), "userId"),
            ("boolean statusType", json!({ "userId": ADA, "statusType": true }), "statusType"),
            ("array userStatusId", json!({ "userId": ADA, "userStatusId": [ON_BREAK_STATUS] }), "userStatusId"),
            ("an array body", json!([{ "userId": ADA, "statusType": "Offline" }]), ""),
        ];
        let response = app.post_raw(ACTION, "", Some("application/json")).await;
        assert_error_104(&response, "", "empty body");
        assert_each_is_104(&app, cases).await;
    }
}
