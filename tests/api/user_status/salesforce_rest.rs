//! The action through the Salesforce REST shape: one invocation, all or nothing, and several
//! changes of one user applied in input order.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

const NAMESPACED: &str = "FastCall__SubscriberUserStatusInvocable";
#[track_caller]
fn succeeded<'a>(result: &'a Value, action_name: &str) -> &'a Value {
    assert_succeeded(result, action_name, &OUTPUT_KEYS)
}

/// Asserts one input failed with 104 and a message holding `fragment`.
#[track_caller]
fn failed(result: &Value, action_name: &str, fragment: &str) {
    let message = assert_failed(result, action_name, 104);
    assert!(
        message.contains(fragment),
        "expected {fragment:?} in {message:?}"
    );
}

backend_tests! {
    async fn describing_the_action_marks_user_id_and_user_status_id_required_as_the_seed_does(backend) {
        let app = spawn_app(backend).await;
        let inputs = [("userId", "ID", true), ("userStatusId", "ID", true), ("statusType", "STRING", false)];
        let outputs = [
            ("userId", "ID"),
            ("userStatusId", "ID"),
            ("statusType", "STRING"),
            ("previousUserStatusId", "ID"),
            ("previousStatusType", "STRING"),
            ("changed", "BOOLEAN"),
            ("changedDate", "STRING"),
            ("logId", "ID"),
        ];
        for name in [ACTION_NAME, NAMESPACED] {
            let body = app.item(&format!("/services/data/v60.0/actions/custom/apex/{name}")).await;
            assert_described_action(&body, NAMESPACED, &inputs, &outputs);
        }
    }

    async fn one_failing_input_fails_every_input_and_changes_nobody(backend) {
        let app = spawn_app(backend).await;
        for name in [ACTION_NAME, NAMESPACED] {
            let response = app.invoke(name, json!([{ "userId": ADA, "statusType": "Busy" }])).await;
            failed(&bulk_results(&response, StatusCode::BAD_REQUEST, 1)[0], name, "Busy");
        }
        let bad_inputs = [
            (json!({ "userId": LINUS, "statusType": "Available" }), "is not a Fastcall user"),
            (json!({ "statusType": "Offline" }), "userId is required"),
            (json!({ "userId": KATHERINE, "userStatusId": "a0UDn0000002BrkMAA" }), "not a valid Salesforce Id"),
            (json!({ "userId": KATHERINE, "statusType": "Offline", "colour": "red" }), "colour"),
        ];
        for (bad, fragment) in bad_inputs {
            // Valid changes before and after it, one of them to the same user.
            let inputs = json!([input(ADA, ON_BREAK), bad, input(GRACE, BARE_AVAILABLE), input(ADA, BARE_OFFLINE)]);
            let response = app.invoke(NAMESPACED, inputs).await;
            let results = bulk_results(&response, StatusCode::BAD_REQUEST, 4);
            let message = assert_all_failed(&results, NAMESPACED, 104);
            assert!(message.contains(fragment), "expected {fragment:?} in {message:?}");
        }
        assert!(status_log(&app, "").await.is_empty());
        assert_org_statuses(&app).await;
    }

    async fn bulk_where_every_input_succeeds_is_200(backend) {
        let app = spawn_app(backend).await;
        let inputs = json!([input(GRACE, ON_BREAK), input(KATHERINE, KATHERINE_INITIAL)]);
        let response = app.invoke(ACTION_NAME, inputs).await;
        let results = bulk_results(&response, StatusCode::OK, 2);
        assert_changed(succeeded(&results[0], ACTION_NAME), GRACE, GRACE_INITIAL, ON_BREAK);
        // A no-op is a success too.
        assert_unchanged(succeeded(&results[1], ACTION_NAME), KATHERINE, KATHERINE_INITIAL, &Value::Null);
        assert_eq!(status_log(&app, "").await.len(), 1);
    }

    async fn bulk_changes_one_user_in_input_order(backend) {
        let app = spawn_app(backend).await;
        let targets = [ON_BREAK, BARE_AVAILABLE, AVAILABLE_RECORD, AVAILABLE_RECORD, BARE_OFFLINE, OFFLINE_RECORD];
        let inputs: Vec<Value> = targets.iter().map(|&target| input(ADA, target)).collect();
        let response = app.invoke(ACTION_NAME, json!(inputs)).await;
        let results = bulk_results(&response, StatusCode::OK, targets.len());
        let mut previous = ADA_INITIAL;
        let mut changed_logs = Vec::new();
        let mut last_changed_date = Value::Null;
        for (target, result) in targets.iter().zip(&results) {
            let output = succeeded(result, ACTION_NAME);
            if *target == previous {
                assert_unchanged(output, ADA, *target, &last_changed_date);
            } else {
                changed_logs.push(json!(assert_changed(output, ADA, previous, *target)));
                last_changed_date = output["changedDate"].clone();
            }
            previous = *target;
        }
        assert_eq!(changed_logs.len(), 5);

        let mut log = status_log(&app, &format!("?userId={ADA}")).await;
        log.reverse();
        let ids: Vec<Value> = log.iter().map(|e| e["id"].clone()).collect();
        assert_eq!(ids, changed_logs, "logged oldest to newest in input order");
        for pair in log.windows(2) {
            assert_eq!(pair[1]["fromUserStatusId"], pair[0]["toUserStatusId"], "{pair:?}");
            assert_eq!(pair[1]["fromStatusType"], pair[0]["toStatusType"], "{pair:?}");
        }
        let user = user_state(&app, ADA).await;
        assert_eq!(user["userStatusId"], OFFLINE_STATUS);
        assert_eq!(user["userStatusName"], "Offline");
        assert_eq!(user["changedDate"], last_changed_date);
    }

    async fn bulk_changes_are_logged_as_the_invoking_user(backend) {
        let app = spawn_app(backend).await;
        let path = format!("/services/data/v60.0/actions/custom/apex/{ACTION_NAME}");
        let inputs = json!({ "inputs": [input(ADA, BARE_OFFLINE), input(GRACE, BARE_AVAILABLE)] });
        let (status, results) = app.post_as(&path, KATHERINE, &inputs).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        let log = status_log(&app, "").await;
        assert_eq!(log.len(), 2);
        assert_log_entry(&log[0], GRACE, GRACE_INITIAL, BARE_AVAILABLE, KATHERINE);
        assert_log_entry(&log[1], ADA, ADA_INITIAL, BARE_OFFLINE, KATHERINE);
    }
}
