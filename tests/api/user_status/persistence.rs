//! What outlives what: set statuses and the log survive a restart; replacing the org
//! forgets the statuses but keeps the log; a reset forgets both.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::backend_tests;

/// Ada to On Break and Katherine to bare Offline; answers their outputs.
async fn two_changes(app: &TestApp) -> (Value, Value) {
    let (ada, _) = change(app, ADA, ADA_INITIAL, ON_BREAK).await;
    let (katherine, _) = change(app, KATHERINE, KATHERINE_INITIAL, BARE_OFFLINE).await;
    (ada, katherine)
}

backend_tests! {
    async fn statuses_and_the_log_survive_a_restart(backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::start(&db, |_| {}).await;
        let (ada, katherine) = two_changes(&app).await;
        let log_before = status_log(&app, "").await;
        let ada_before = user_state(&app, ADA).await;
        let katherine_before = user_state(&app, KATHERINE).await;
        app.stop().await;

        let app = TestApp::start(&db, |_| {}).await;
        assert_eq!(status_log(&app, "").await, log_before);
        assert_eq!(user_state(&app, ADA).await, ada_before);
        assert_eq!(user_state(&app, KATHERINE).await, katherine_before);
        assert_eq!(ada_before["changedDate"], ada["changedDate"]);
        // The stored status is the one the action compares with.
        let again = set_ok(&app, &input(ADA, ON_BREAK)).await;
        assert_unchanged(&again, ADA, ON_BREAK, &ada["changedDate"]);
        let again = set_ok(&app, &input(KATHERINE, BARE_OFFLINE)).await;
        assert_unchanged(&again, KATHERINE, BARE_OFFLINE, &katherine["changedDate"]);
        change(&app, ADA, ON_BREAK, BARE_AVAILABLE).await;
        assert_eq!(status_log(&app, "").await.len(), 3);
        app.stop().await;
    }

    async fn replacing_the_org_forgets_set_statuses_but_keeps_the_log(backend) {
        let app = spawn_app(backend).await;
        two_changes(&app).await;
        let log_before = status_log(&app, "").await;
        let (status, org) = app.get("/_emulator/org").await;
        assert_eq!(status, StatusCode::OK, "{org}");
        let put = app.client.put(app.url("/_emulator/org")).json(&org).send().await.expect("PUT answered");
        assert_eq!(put.status(), StatusCode::OK);

        assert_org_statuses(&app).await;
        assert_eq!(status_log(&app, "").await, log_before);
        // Changes start again from the org's statuses.
        let output = set_ok(&app, &input(ADA, ADA_INITIAL)).await;
        assert_unchanged(&output, ADA, ADA_INITIAL, &Value::Null);
        change(&app, ADA, ADA_INITIAL, ON_BREAK).await;
        change(&app, KATHERINE, KATHERINE_INITIAL, BARE_OFFLINE).await;
        assert_eq!(status_log(&app, "").await.len(), 4);
    }

    async fn a_new_org_gives_users_its_statuses(backend) {
        let app = spawn_app(backend).await;
        set_ok(&app, &input(GRACE, BARE_AVAILABLE)).await;
        let (_, mut org) = app.get("/_emulator/org").await;
        let users = org["users"].as_array_mut().expect("users");
        let grace = users.iter_mut().find(|u| u["id"] == GRACE).expect("Grace");
        grace["userStatusId"] = json!(ON_BREAK_STATUS);
        let put = app.client.put(app.url("/_emulator/org")).json(&org).send().await.expect("PUT answered");
        assert_eq!(put.status(), StatusCode::OK);

        let state = user_state(&app, GRACE).await;
        assert_eq!(state["userStatusId"], ON_BREAK_STATUS, "{state}");
        assert_eq!(state["userStatusName"], "On Break", "{state}");
        assert!(state["changedDate"].is_null(), "{state}");
        change(&app, GRACE, ON_BREAK, BARE_AVAILABLE).await;
    }

    async fn reset_empties_the_log_and_forgets_statuses(backend) {
        let app = spawn_app(backend).await;
        let (ada, _) = two_changes(&app).await;
        let (status, body) = app.post("/_emulator/reset", &json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        assert!(status_log(&app, "").await.is_empty());
        let (status, _) = app.get(&format!("/_emulator/status-log/{}", ada["logId"].as_str().unwrap())).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_org_statuses(&app).await;
        let (output, _) = change(&app, ADA, ADA_INITIAL, ON_BREAK).await;
        let log = status_log(&app, "").await;
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["id"], output["logId"]);
    }
}
