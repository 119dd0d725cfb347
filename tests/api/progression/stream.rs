//! Reading what happened from the event stream: a minimal Server-Sent Events reader, the
//! stored `*.status_changed` events, and what each must carry.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Kind, id_of};
use crate::helpers::{ADA, TestApp, sse_event};

/// How long one read of an event stream may take before the test fails instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

const AVAILABLE_STATUS: &str = "a0UDn0000001AvlMAE";
const ON_BREAK_STATUS: &str = "a0UDn0000002BrkMAE";

pub(super) const SMS_STATUS_CHANGED: &str = "sms.status_changed";
pub(super) const CALL_STATUS_CHANGED: &str = "call.status_changed";
const MARKER: &str = "user_status.changed";

/// One Server-Sent Event: its type and JSON payload.
#[derive(Debug, Clone)]
pub(super) struct SseEvent {
    pub(super) kind: String,
    pub(super) payload: Value,
}

/// A minimal reader of `/_emulator/events`.
pub(super) struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    pub(super) async fn open(app: &TestApp, query: &str) -> Self {
        let url = app.url(&format!("/_emulator/events?{query}"));
        let response = tokio::time::timeout(READ_TIMEOUT, app.client.get(url).send())
            .await
            .expect("the stream answers in time")
            .expect("the stream answers");
        assert_eq!(response.status(), StatusCode::OK, "opening the stream");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event, keep-alive comments passed over.
    pub(super) async fn next(&mut self) -> SseEvent {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some((kind, data)) = sse_event(&block) {
                    let payload = serde_json::from_str(&data)
                        .unwrap_or_else(|_| panic!("a JSON payload: {data:?}"));
                    return SseEvent { kind, payload };
                }
            }
            let chunk = tokio::time::timeout(READ_TIMEOUT, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event within {READ_TIMEOUT:?}"))
                .expect("the stream reads")
                .expect("the stream goes on");
            let text = std::str::from_utf8(&chunk).expect("UTF-8");
            self.buffer.push_str(&text.replace('\r', ""));
        }
    }
}

/// Every stored `*.status_changed` event, oldest first: raises a marker event (a change of
/// Ada's status) once the test knows every step was taken, then replays the stored events
/// up to the marker.
pub(super) async fn stored_status_events(app: &TestApp) -> Vec<SseEvent> {
    let (status, ada) = app.get(&format!("/_emulator/users/{ADA}")).await;
    assert_eq!(status, StatusCode::OK, "{ada}");
    let other = if ada["userStatusId"] == ON_BREAK_STATUS {
        AVAILABLE_STATUS
    } else {
        ON_BREAK_STATUS
    };
    let input = json!({"userId": ADA, "userStatusId": other});
    let (status, changed) = app
        .post("/actions/SubscriberUserStatusInvocable", &input)
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["changed"], true, "{changed}");

    let types = [SMS_STATUS_CHANGED, CALL_STATUS_CHANGED, MARKER].join(",");
    let mut stream = EventStream::open(app, &format!("after=0&types={types}")).await;
    let mut events = Vec::new();
    loop {
        let event = stream.next().await;
        if event.kind == MARKER && event.payload["id"] == changed["logId"] {
            return events;
        }
        if event.kind != MARKER {
            events.push(event);
        }
    }
}

/// The events about each record, by record Id, oldest first.
pub(super) fn by_record(events: &[SseEvent]) -> HashMap<String, Vec<SseEvent>> {
    let mut grouped: HashMap<String, Vec<SseEvent>> = HashMap::new();
    for event in events {
        grouped
            .entry(id_of(&event.payload))
            .or_default()
            .push(event.clone());
    }
    grouped
}

/// Checks a record's status_changed events: one per step, each carrying the item as it was
/// after that step, the last one the item as it is now.
#[track_caller]
pub(super) fn assert_one_event_per_step(events: &[SseEvent], kind: Kind, item: &Value) {
    let history = item["statusHistory"].as_array().expect("a statusHistory");
    assert_eq!(
        events.len(),
        history.len() - 1,
        "one event per step of {item}: {events:?}"
    );
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.kind, kind.event(), "{event:?}");
        let payload = &event.payload;
        assert_eq!(
            payload["status"],
            history[i + 1]["status"],
            "event {i}: {payload}"
        );
        assert_eq!(
            payload["statusHistory"],
            json!(history[..i + 2]),
            "event {i}: {payload}"
        );
    }
    if let Some(last) = events.last() {
        assert_eq!(
            &last.payload, item,
            "the last event carries the item as it is now"
        );
    }
}
