//! Delivery and call lifecycles (docs/inspection-and-events.md): how messages and
//! calls move along the simulated provider's paths in timed, immediate and manual
//! progression, manual moves, a restart with steps due, and several instances on one
//! PostgreSQL database.

use fastcall_emulator::lifecycle::Progression;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

mod immediate;
mod instances;
mod manual;
mod move_requests;
mod paths;
mod restart;
mod stream;
mod timed;

use paths::{
    CALL_PATHS, INVALID_PHONE, JANE_PHONE, Kind, NOT_SMS_PHONE, Path, SMS_PATHS, UNDELIVERED_PHONE,
    all_paths,
};

/// The step delay of timed tests.
const STEP_DELAY_MS: i64 = 100;
/// How long a `wait=` for a status may hold: far more than any path takes.
const WAIT_SECS: u64 = 10;

/// A server of the demo org moving records in `progression`, a step every 100 ms.
async fn spawn_progressing(backend: Backend, progression: Progression) -> TestApp {
    spawn_app_with(backend, move |config| {
        config.progression = progression;
        config.step_delay_ms = STEP_DELAY_MS as u64;
    })
    .await
}

/// A query-string value: `+` and spaces encoded.
fn encode(value: &str) -> String {
    value.replace('+', "%2B").replace(' ', "%20")
}

/// Sends an SMS to `to`, which must be accepted; its output.
async fn send_sms_to(app: &TestApp, to: &str) -> Value {
    let input = json!({"toPhone": to, "bodyText": format!("to {to}")});
    let (status, output) = app.send_sms(&input).await;
    assert_eq!(status, StatusCode::OK, "SMS to {to}: {output}");
    output
}

/// Places a call to `to`, which must be accepted; its output.
async fn place_call_to(app: &TestApp, to: &str) -> Value {
    let input = json!({"toPhone": to, "ivrId": MENU_IVR});
    let (status, output) = app.post("/actions/SubscriberCallInvocable", &input).await;
    assert_eq!(status, StatusCode::OK, "call to {to}: {output}");
    output
}

/// Starts a message or call down `path`; the action's output.
async fn start(app: &TestApp, path: &Path) -> Value {
    match path.kind {
        Kind::Message => send_sms_to(app, path.to).await,
        Kind::Call => place_call_to(app, path.to).await,
    }
}

/// The record's Id in an output or item.
#[track_caller]
fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an id: {value}"))
        .to_owned()
}

/// The inspection item of a message or call, by record Id or provider id.
async fn record(app: &TestApp, kind: Kind, id: &str) -> Value {
    let path = format!("{}/{id}", kind.list());
    let (status, item) = app.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {item}");
    item
}

/// The items of a list request.
async fn list(app: &TestApp, path: &str) -> Vec<Value> {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["items"].as_array().expect("items").clone()
}

/// Waits (`wait=`) for the only record of `kind` to `to` to have `status`; its item.
async fn wait_for(app: &TestApp, kind: Kind, to: &str, status: &str) -> Value {
    let query = format!("to={}&status={}", encode(to), encode(status));
    let path = format!("{}?{query}&wait={WAIT_SECS}", kind.list());
    let mut items = list(app, &path).await;
    if items.is_empty() {
        let now = list(app, &format!("{}?to={}", kind.list(), encode(to))).await;
        panic!("no {kind:?} to {to} became {status} within {WAIT_SECS} s: {now:?}");
    }
    assert_eq!(items.len(), 1, "one {kind:?} to {to}: {items:?}");
    items.remove(0)
}

/// POST `/_emulator/{messages,calls}/{id}/status`.
async fn move_record(app: &TestApp, kind: Kind, id: &str, body: &Value) -> (StatusCode, Value) {
    app.post(&format!("{}/{id}/status", kind.list()), body)
        .await
}

/// Moves a record to `status`, which must be allowed; the updated item.
async fn move_ok(app: &TestApp, kind: Kind, id: &str, status: &str) -> Value {
    let (code, item) = move_record(app, kind, id, &json!({"status": status})).await;
    assert_eq!(code, StatusCode::OK, "{kind:?} {id} -> {status}: {item}");
    assert_eq!(item["status"], status, "{item}");
    item
}

/// The statuses of an item's history, oldest first.
#[track_caller]
fn history_statuses(item: &Value) -> Vec<String> {
    item["statusHistory"]
        .as_array()
        .unwrap_or_else(|| panic!("a statusHistory: {item}"))
        .iter()
        .map(|step| step["status"].as_str().expect("a status").to_owned())
        .collect()
}

/// A Salesforce datetime (`2026-01-02T03:04:05.678+0000`) in milliseconds.
#[track_caller]
fn millis(value: &Value) -> i64 {
    let raw = value
        .as_str()
        .unwrap_or_else(|| panic!("a datetime: {value}"));
    chrono::DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .unwrap_or_else(|e| panic!("a Salesforce datetime {raw:?}: {e}"))
        .timestamp_millis()
}

/// The dates of an item's history, in milliseconds.
fn history_dates(item: &Value) -> Vec<i64> {
    item["statusHistory"]
        .as_array()
        .expect("a statusHistory")
        .iter()
        .map(|step| millis(&step["date"]))
        .collect()
}

/// Checks a record took every step of `path`: its status, its history (statuses, error
/// codes, dates `gap` apart), and the record's error.
#[track_caller]
fn assert_took_path(item: &Value, path: &Path, gap: std::ops::Range<i64>) {
    let case = path.name;
    assert_eq!(item["status"], path.last(), "{case}: {item}");
    assert_eq!(history_statuses(item), path.statuses, "{case}: {item}");
    let history = item["statusHistory"].as_array().unwrap();
    for (i, step) in history.iter().enumerate() {
        let failing = i == history.len() - 1 && path.error.is_some();
        let expected = if failing {
            json!(path.error.unwrap().0)
        } else {
            Value::Null
        };
        assert_eq!(step["errorCode"], expected, "{case}: step {i}: {item}");
    }
    let dates = history_dates(item);
    assert_eq!(
        dates[0],
        millis(&item[created_key(path.kind)]),
        "{case}: {item}"
    );
    for pair in dates.windows(2) {
        let apart = pair[1] - pair[0];
        assert!(
            gap.contains(&apart),
            "{case}: steps {apart} ms apart, not in {gap:?}: {item}"
        );
    }
    match path.error {
        Some((code, message)) => {
            assert_eq!(item["errorCode"], code, "{case}: {item}");
            assert_eq!(item["errorMessage"], message, "{case}: {item}");
        }
        None => {
            assert!(item["errorCode"].is_null(), "{case}: {item}");
            assert!(item["errorMessage"].is_null(), "{case}: {item}");
        }
    }
}

/// The item key holding when the record was made.
fn created_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Message => "createdDate",
        Kind::Call => "startTime",
    }
}

/// The VoIP error log entries about one record.
async fn voip_errors_of(app: &TestApp, record_id: &str) -> Vec<Value> {
    list(app, "/_emulator/voip-errors?limit=1000")
        .await
        .into_iter()
        .filter(|entry| entry["recordId"] == record_id)
        .collect()
}

/// Checks the one VoIP error log entry a failure step with `code` wrote about `item`.
#[track_caller]
fn assert_voip_error(entries: &[Value], kind: Kind, item: &Value, code: i64, message: &str) {
    assert_eq!(entries.len(), 1, "one VoIP error for {item}: {entries:?}");
    let entry = &entries[0];
    assert_eq!(entry["recordId"], item["id"], "{entry}");
    assert_eq!(entry["recordType"], kind.sobject(), "{entry}");
    assert_eq!(entry["provider"], "simulated", "{entry}");
    assert_eq!(entry["providerId"], item[kind.provider_key()], "{entry}");
    assert_eq!(entry["errorCode"], code, "{entry}");
    assert_eq!(entry["errorMessage"], message, "{entry}");
    assert_eq!(entry["toPhone"], item["toPhone"], "{entry}");
}

/// The record as Salesforce serves it.
async fn sobject(app: &TestApp, kind: Kind, id: &str) -> Value {
    let path = format!("/services/data/v60.0/sobjects/{}/{id}", kind.sobject());
    let (status, body) = app.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}
