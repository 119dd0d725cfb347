//! `SubscriberUserStatusInvocable`, directly (`POST /actions/SubscriberUserStatusInvocable`)
//! and through the Salesforce REST shape: how a status is chosen, what changes and what does
//! not, the status log and the users route, persistence, and serialised concurrent changes.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

mod concurrency;
mod errors;
mod log;
mod no_change;
mod persistence;
mod salesforce_rest;
mod setting;

pub(super) const ACTION: &str = "/actions/SubscriberUserStatusInvocable";
pub(super) const ACTION_NAME: &str = "SubscriberUserStatusInvocable";
pub(super) const OUTPUT_KEYS: [&str; 8] = [
    "changed",
    "changedDate",
    "logId",
    "previousStatusType",
    "previousUserStatusId",
    "statusType",
    "userId",
    "userStatusId",
];
pub(super) const LOG_KEYS: [&str; 8] = [
    "changedBy",
    "changedDate",
    "fromStatusType",
    "fromUserStatusId",
    "id",
    "toStatusType",
    "toUserStatusId",
    "userId",
];
pub(super) const USER_KEYS: [&str; 7] = [
    "changedDate",
    "fastcallUser",
    "id",
    "name",
    "statusType",
    "userStatusId",
    "userStatusName",
];

/// A status as the action reports it: `(userStatusId, statusType)`.
pub(super) type Status = (Option<&'static str>, &'static str);

pub(super) const ON_BREAK: Status = (Some(ON_BREAK_STATUS), "Offline");
pub(super) const AVAILABLE_RECORD: Status = (Some(AVAILABLE_STATUS), "Available");
pub(super) const OFFLINE_RECORD: Status = (Some(OFFLINE_STATUS), "Offline");
pub(super) const BARE_AVAILABLE: Status = (None, "Available");
pub(super) const BARE_OFFLINE: Status = (None, "Offline");
/// The statuses the demo org gives its Fastcall users.
pub(super) const ADA_INITIAL: Status = AVAILABLE_RECORD;
pub(super) const GRACE_INITIAL: Status = OFFLINE_RECORD;
pub(super) const KATHERINE_INITIAL: Status = BARE_AVAILABLE;

/// The input that sets `status`: its `userStatusId` for a status record, else `statusType`.
pub(super) fn input(user: &str, status: Status) -> Value {
    match status {
        (Some(id), _) => json!({ "userId": user, "userStatusId": id }),
        (None, status_type) => json!({ "userId": user, "statusType": status_type }),
    }
}

pub(super) async fn set_status(app: &TestApp, input: &Value) -> (StatusCode, Value) {
    app.post(ACTION, input).await
}

/// Sets a status with the given request headers.
pub(super) async fn set_status_with(
    app: &TestApp,
    headers: &[(&str, &str)],
    input: &Value,
) -> (StatusCode, Value) {
    app.request(Method::POST, ACTION, headers, Some(input))
        .await
}

/// Sets a status, expects success with exactly the output keys, and answers the output.
pub(super) async fn set_ok(app: &TestApp, input: &Value) -> Value {
    let (status, output) = set_status(app, input).await;
    assert_eq!(status, StatusCode::OK, "{input}: {output}");
    assert_eq!(keys(&output), OUTPUT_KEYS, "{output}");
    output
}

/// Sets `to` for `user`, whose status is `from`: a real change, asserted. Answers the
/// output and its log entry's Id.
pub(super) async fn change(app: &TestApp, user: &str, from: Status, to: Status) -> (Value, String) {
    let output = set_ok(app, &input(user, to)).await;
    let log_id = assert_changed(&output, user, from, to);
    (output, log_id)
}

/// Asserts the output's keys, and that `user` went from `from` to `to` (the same status
/// when nothing changed).
#[track_caller]
fn assert_statuses(output: &Value, user: &str, from: Status, to: Status) {
    assert_eq!(keys(output), OUTPUT_KEYS, "{output}");
    assert_eq!(output["userId"], user, "{output}");
    assert_eq!(output["userStatusId"], json!(to.0), "{output}");
    assert_eq!(output["statusType"], to.1, "{output}");
    assert_eq!(output["previousUserStatusId"], json!(from.0), "{output}");
    assert_eq!(output["previousStatusType"], from.1, "{output}");
}

/// Asserts a real change of `user` from `from` to `to`; answers the log entry's Id.
#[track_caller]
pub(super) fn assert_changed(output: &Value, user: &str, from: Status, to: Status) -> String {
    assert_statuses(output, user, from, to);
    assert_eq!(output["changed"], true, "{output}");
    assert_salesforce_datetime_now(&output["changedDate"]);
    assert_id(&output["logId"], "a0L");
    output["logId"].as_str().unwrap().to_owned()
}

/// Asserts nothing changed: `user` already had `status`, set at `changed_date`.
#[track_caller]
pub(super) fn assert_unchanged(output: &Value, user: &str, status: Status, changed_date: &Value) {
    assert_statuses(output, user, status, status);
    assert_eq!(output["changed"], false, "{output}");
    assert_eq!(output["changedDate"], *changed_date, "{output}");
    assert!(output["logId"].is_null(), "{output}");
}

/// The items of `/_emulator/status-log` with `query` (e.g. `?userId=...`).
pub(super) async fn status_log(app: &TestApp, query: &str) -> Vec<Value> {
    app.items(&format!("/_emulator/status-log{query}")).await
}

pub(super) async fn log_entry(app: &TestApp, id: &str) -> Value {
    app.item(&format!("/_emulator/status-log/{id}")).await
}

/// `/_emulator/users/{id}`, with exactly its keys.
pub(super) async fn user_state(app: &TestApp, id: &str) -> Value {
    let user = app.item(&format!("/_emulator/users/{id}")).await;
    assert_eq!(keys(&user), USER_KEYS, "{user}");
    user
}

/// Asserts every demo user is at the org's status, with no time of change.
pub(super) async fn assert_org_statuses(app: &TestApp) {
    for (user, status) in [
        (ADA, ADA_INITIAL),
        (GRACE, GRACE_INITIAL),
        (KATHERINE, KATHERINE_INITIAL),
    ] {
        let state = user_state(app, user).await;
        assert_eq!(state["userStatusId"], json!(status.0), "{state}");
        assert_eq!(state["statusType"], status.1, "{state}");
        assert!(state["changedDate"].is_null(), "{state}");
    }
}

/// Asserts a log entry records `user` going from `from` to `to`, invoked by `by`.
#[track_caller]
pub(super) fn assert_log_entry(entry: &Value, user: &str, from: Status, to: Status, by: &str) {
    assert_eq!(keys(entry), LOG_KEYS, "{entry}");
    assert_id(&entry["id"], "a0L");
    assert_eq!(entry["userId"], user, "{entry}");
    assert_eq!(entry["fromUserStatusId"], json!(from.0), "{entry}");
    assert_eq!(entry["fromStatusType"], from.1, "{entry}");
    assert_eq!(entry["toUserStatusId"], json!(to.0), "{entry}");
    assert_eq!(entry["toStatusType"], to.1, "{entry}");
    assert_eq!(entry["changedBy"], by, "{entry}");
    assert_salesforce_datetime_now(&entry["changedDate"]);
}

/// Asserts a direct call failed with a 400 APIException 104 whose message holds `fragment`.
#[track_caller]
pub(super) fn assert_error_104(response: &(StatusCode, Value), fragment: &str, case: &str) {
    assert_error(response, StatusCode::BAD_REQUEST, 104, fragment, case);
}

/// The payloads of the stored `user_status.changed` events, oldest first, up to and
/// including the one of log entry `last_log_id` (a change made to end the replay).
pub(super) async fn status_events_until(app: &TestApp, last_log_id: &str) -> Vec<Value> {
    let path = "/_emulator/events?after=0&types=user_status.changed";
    let mut response = app
        .client
        .get(app.url(path))
        .send()
        .await
        .expect("the event stream opens");
    assert_eq!(response.status(), StatusCode::OK);
    let mut buffer = String::new();
    let mut payloads = Vec::new();
    let read = async {
        loop {
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data:")) else {
                    continue;
                };
                assert!(frame.contains("event: user_status.changed"), "{frame}");
                let payload: Value = serde_json::from_str(data.trim_start()).expect("JSON data");
                let last = payload["id"] == last_log_id;
                payloads.push(payload);
                if last {
                    return;
                }
            }
            let chunk = response
                .chunk()
                .await
                .expect("the stream goes on")
                .expect("the stream does not end");
            buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8 events"));
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| panic!("no event for log entry {last_log_id}"));
    payloads
}

/// A datetime made safe for a query string (its `+` would decode to a space).
pub(super) fn query_value(text: &str) -> String {
    text.replace('+', "%2B")
}
