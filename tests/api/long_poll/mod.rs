//! Long-polling the inspection lists (`wait=SECONDS` on messages, calls, tasks, voip-errors
//! and status-log): a match already there answers at once; otherwise the request is held
//! until an action, a lifecycle step or a manual move creates a match, and answers with it;
//! with none it answers `{"items": []}` at the deadline, or when the server stops.
//!
//! Timings are bounds a slow, loaded machine keeps: "well before the wait expired" is less
//! than half of it, "at the deadline" is from the wait to three seconds after it.

use std::time::{Duration, Instant};

use fastcall_emulator::lifecycle::Progression;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::helpers::*;

mod basics;
mod held;

pub(super) const JANE_MOBILE: &str = "+14155550124";
pub(super) const BOB_PHONE: &str = "+14155550125";
pub(super) const NOBODY_PHONE: &str = "+14155550199";
/// Refused by the simulated provider: 21211 (SMS), 21217 (calls).
pub(super) const REFUSED_21211: &str = "+15005550001";
/// Refused by the simulated provider: 21612 (SMS), 21214 (calls).
pub(super) const REFUSED_21612: &str = "+15005550002";
/// Accepted, then Undelivered with 30003.
pub(super) const UNDELIVERED_PHONE: &str = "+15005550010";
/// A call accepted, then Failed with 13224.
pub(super) const CALL_FAILS_PHONE: &str = "+15005550022";

pub(super) const SMS_ACTION: &str = "/actions/SubscriberSMSInvocable";
pub(super) const CALL_ACTION: &str = "/actions/SubscriberCallInvocable";
pub(super) const STATUS_ACTION: &str = "/actions/SubscriberUserStatusInvocable";

/// The wait of requests a match should end: answering before half of it proves it did.
pub(super) const WAIT: f64 = 20.0;
/// How long a held request is watched for a wrong early answer after an event.
pub(super) const OBSERVE: Duration = Duration::from_millis(200);
/// "At once", for requests that must not be held at all.
pub(super) const AT_ONCE: Duration = Duration::from_secs(3);

/// A phone number as a query value (`+` encoded).
pub(super) fn q(phone: &str) -> String {
    phone.replace('+', "%2B")
}

/// An instant one millisecond after a Salesforce datetime, as an RFC 3339 `since` value.
pub(super) fn just_after(date: &Value) -> String {
    let date = date.as_str().expect("a datetime");
    let parsed = chrono::DateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%S%.f%z")
        .unwrap_or_else(|e| panic!("{date}: {e}"));
    let later = parsed.with_timezone(&chrono::Utc) + chrono::Duration::milliseconds(1);
    later.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub(super) fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

pub(super) fn statuses(item: &Value) -> Vec<&str> {
    item["statusHistory"]
        .as_array()
        .expect("a statusHistory")
        .iter()
        .map(|step| step["status"].as_str().expect("a status"))
        .collect()
}

/// A server moving records on by timed steps, 200 ms apart.
pub(super) async fn spawn_timed(backend: Backend) -> TestApp {
    spawn_app_with(backend, |c| {
        c.progression = Progression::Timed;
        c.step_delay_ms = 200;
    })
    .await
}

/// Runs an action that must succeed; its output.
pub(super) async fn act(app: &TestApp, action: &str, input: Value) -> Value {
    let (status, output) = app.post(action, &input).await;
    assert_eq!(status, StatusCode::OK, "{action} {input}: {output}");
    output
}

/// Moves a message or a call by hand (`kind` is `messages` or `calls`); the updated item.
pub(super) async fn move_to(app: &TestApp, kind: &str, id: &str, body: Value) -> Value {
    let path = format!("/_emulator/{kind}/{id}/status");
    let (status, item) = app.post(&path, &body).await;
    assert_eq!(status, StatusCode::OK, "{path} {body}: {item}");
    item
}

/// A list request sent in the background.
pub(super) struct Held {
    path: String,
    started: Instant,
    /// The last moment it was seen still held: what answers it came after.
    watched: Instant,
    /// The answer, and when it came.
    handle: JoinHandle<(StatusCode, Value, Instant)>,
}

/// What a background request answered, how long after it was sent, and how long after it
/// was last seen held.
pub(super) struct Answer {
    path: String,
    status: StatusCode,
    body: Value,
    elapsed: Duration,
    since_watched: Duration,
}

pub(super) fn hold(app: &TestApp, path: &str) -> Held {
    let client = app.client.clone();
    let url = app.url(path);
    let path = path.to_owned();
    let what = path.clone();
    let started = Instant::now();
    let handle = tokio::spawn(async move {
        let response = client.get(url).send().await.expect("answered");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let answered = Instant::now();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{what}: a JSON body, got {status}: {text:?}"));
        (status, body, answered)
    });
    Held {
        path,
        started,
        watched: started,
        handle,
    }
}

impl Held {
    /// Watches the request for a while after `event`, which does not match it: it must
    /// not have answered.
    async fn assert_held(&mut self, event: &str) {
        assert_all_held(std::slice::from_mut(self), event).await;
    }

    async fn answer(self) -> Answer {
        let (status, body, answered) = self.handle.await.expect("the request task");
        Answer {
            path: self.path,
            status,
            body,
            elapsed: answered - self.started,
            since_watched: answered.saturating_duration_since(self.watched),
        }
    }

    /// The items it answered as soon as they matched: within `AT_ONCE` of the last time it
    /// was seen held (the matching change, and any timed steps before it, come in between).
    async fn matched(self) -> Vec<Value> {
        let answer = self.answer().await;
        let Answer { path, body, .. } = &answer;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {body}");
        assert!(
            answer.since_watched < AT_ONCE,
            "{path}: answered {:?} after it was last seen held: {body}",
            answer.since_watched
        );
        body["items"].as_array().expect("items").clone()
    }

    /// Answered `{"items": []}` at its deadline, `wait` seconds after it was sent.
    async fn assert_empty_at_deadline(self, wait: f64) {
        let answer = self.answer().await;
        let Answer { path, body, .. } = &answer;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {body}");
        assert_eq!(*body, json!({"items": []}), "{path}");
        let wait = Duration::from_secs_f64(wait);
        assert!(
            answer.elapsed >= wait && answer.elapsed < wait + Duration::from_secs(3),
            "{path}: answered after {:?}",
            answer.elapsed
        );
    }
}

/// Watches every request for a while after `event`, which matches none of them.
pub(super) async fn assert_all_held(held: &mut [Held], event: &str) {
    tokio::time::sleep(OBSERVE).await;
    for request in held {
        let seen = Instant::now();
        if request.handle.is_finished() {
            let (status, body, _) = (&mut request.handle).await.expect("the request task");
            panic!(
                "{}: answered after {event}, which does not match: {status} {body}",
                request.path
            );
        }
        request.watched = seen;
    }
}

/// Something on every list: a message with its Task, a refused message with its VoIP error,
/// a call, and a status change of Grace.
pub(super) async fn one_of_everything(app: &TestApp) {
    let input = json!({"toPhone": JANE_PHONE, "bodyText": "Hi", "recordId": JANE_CONTACT});
    act(app, SMS_ACTION, input).await;
    let refused = json!({"toPhone": REFUSED_21211, "bodyText": "No"});
    let response = app.post(SMS_ACTION, &refused).await;
    assert_exception(&response, StatusCode::BAD_GATEWAY, 100);
    act(
        app,
        CALL_ACTION,
        json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR}),
    )
    .await;
    let change = json!({"userId": GRACE, "statusType": "Available"});
    act(app, STATUS_ACTION, change).await;
}

/// A request on each list that nothing in `one_of_everything` matches.
pub(super) fn unmatched_paths() -> Vec<String> {
    vec![
        format!("/_emulator/messages?to={}", q(NOBODY_PHONE)),
        format!("/_emulator/calls?to={}", q(NOBODY_PHONE)),
        format!("/_emulator/tasks?relatedRecordId={ACME_ACCOUNT}"),
        format!("/_emulator/voip-errors?to={}", q(REFUSED_21612)),
        format!("/_emulator/status-log?userId={KATHERINE}"),
    ]
}

pub(super) const LISTS: [&str; 5] = [
    "/_emulator/messages",
    "/_emulator/calls",
    "/_emulator/tasks",
    "/_emulator/voip-errors",
    "/_emulator/status-log",
];
