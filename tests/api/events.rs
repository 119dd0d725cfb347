//! The event stream `GET /_emulator/events` (SPEC section 7): what each event carries, the
//! `types` filter, replay after a reconnect, keep-alives, several subscribers, shutdown, the
//! admin token, and two instances sharing one PostgreSQL database.

use std::time::{Duration, Instant};

use fastcall_emulator::config::Secret;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

/// How long one read of a stream may take before the test fails instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

const EVENTS: &str = "/_emulator/events";
const SMS: &str = "sms.created";
const CALL: &str = "call.created";
const STATUS: &str = "user_status.changed";
const ORG: &str = "org.replaced";
const JANE_PHONE: &str = "+14155550123";
const MENU_IVR: &str = "a0IDn0000001MnuMAE";
const AVAILABLE_STATUS: &str = "a0UDn0000001AvlMAE";
const ON_BREAK_STATUS: &str = "a0UDn0000002BrkMAE";

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
struct SseEvent {
    id: Option<String>,
    event: Option<String>,
    data: String,
}

impl SseEvent {
    #[track_caller]
    fn seq(&self) -> i64 {
        let id = self
            .id
            .as_deref()
            .unwrap_or_else(|| panic!("an id: {self:?}"));
        id.parse()
            .unwrap_or_else(|_| panic!("a numeric id: {self:?}"))
    }

    fn kind(&self) -> &str {
        self.event.as_deref().unwrap_or("")
    }

    #[track_caller]
    fn payload(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|_| panic!("a JSON payload: {self:?}"))
    }
}

#[derive(Debug)]
enum Frame {
    Event(SseEvent),
    /// A block of comment lines only (keep-alives).
    Comment,
}

/// A minimal SSE reader over a streaming response body.
struct EventStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    /// A live stream (no replay) of a server just started may first get the `org.replaced`
    /// of the demo org stored at start: on PostgreSQL it reaches subscribers through
    /// LISTEN/NOTIFY a moment after it was committed. Only "events after the subscription
    /// are seen" is promised, so that leading event is passed over.
    skip_startup_org: bool,
}

impl EventStream {
    /// A live stream of `path` (no replay).
    async fn open(app: &TestApp, path: &str) -> Self {
        Self::live(app.client.get(app.url(path))).await
    }

    async fn live(request: reqwest::RequestBuilder) -> Self {
        let mut stream = Self::replaying(request).await;
        stream.skip_startup_org = true;
        stream
    }

    /// A stream that first replays what came after event `seq`.
    async fn after(app: &TestApp, seq: i64) -> Self {
        Self::replaying(app.client.get(app.url(&format!("{EVENTS}?after={seq}")))).await
    }

    /// A stream that replays from an id (`after` or `Last-Event-ID`): every event counts.
    async fn replaying(request: reqwest::RequestBuilder) -> Self {
        let response = tokio::time::timeout(READ_TIMEOUT, request.send())
            .await
            .expect("the stream's headers arrive in time")
            .expect("the stream answers");
        assert_eq!(response.status(), StatusCode::OK, "opening the stream");
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Self {
            response,
            buffer: Vec::new(),
            skip_startup_org: false,
        }
    }

    /// The next event or comment block; `None` when the body finished.
    async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let block = String::from_utf8(block).expect("a UTF-8 stream");
                match parse_block(&block) {
                    Some(Frame::Event(event)) if std::mem::take(&mut self.skip_startup_org) => {
                        let startup =
                            event.kind() == ORG && event.payload() == json!({"version": 1});
                        if !startup {
                            return Some(Frame::Event(event));
                        }
                    }
                    Some(frame) => return Some(frame),
                    None => {}
                }
            }
            let chunk = tokio::time::timeout(READ_TIMEOUT, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("nothing arrived on the stream within {READ_TIMEOUT:?}"))
                .expect("the stream reads without error");
            let Some(bytes) = chunk else {
                let rest = String::from_utf8_lossy(&self.buffer);
                assert!(
                    rest.trim().is_empty(),
                    "the stream ended mid-event: {rest:?}"
                );
                return None;
            };
            // Lines may end in CRLF; JSON data never holds a raw CR.
            self.buffer.extend(bytes.iter().filter(|&&b| b != b'\r'));
        }
    }

    /// The next event, skipping comments.
    async fn next_event(&mut self) -> SseEvent {
        loop {
            match self.next_frame().await {
                Some(Frame::Event(event)) => return event,
                Some(Frame::Comment) => continue,
                None => panic!("the stream ended while an event was expected"),
            }
        }
    }

    /// The next event, which must be of `kind`.
    async fn expect(&mut self, kind: &str) -> SseEvent {
        let event = self.next_event().await;
        assert_eq!(event.kind(), kind, "{event:?}");
        event
    }
}

/// Parses one blank-line-terminated block; `None` for a block with nothing in it.
fn parse_block(block: &str) -> Option<Frame> {
    let (mut id, mut event, mut data) = (None, None, Vec::new());
    let (mut has_field, mut has_comment) = (false, false);
    for line in block.lines().filter(|l| !l.is_empty()) {
        if line.starts_with(':') {
            has_comment = true;
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
        has_field = true;
        match field {
            "id" => id = Some(value),
            "event" => event = Some(value),
            "data" => data.push(value),
            _ => {}
        }
    }
    if has_field {
        let data = data.join("\n");
        Some(Frame::Event(SseEvent { id, event, data }))
    } else {
        has_comment.then_some(Frame::Comment)
    }
}

/// Answers of requests the stream refuses are JSON.
async fn json_of(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("answered");
    let status = response.status();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("a JSON body, got {status}: {text:?}"));
    (status, json)
}

async fn item(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// Sends an SMS to `to` that must be accepted; its output.
async fn sms_ok(app: &TestApp, to: &str, body: &str) -> Value {
    let (status, output) = app
        .send_sms(&json!({"toPhone": to, "bodyText": body}))
        .await;
    assert_eq!(status, StatusCode::OK, "{output}");
    output
}

async fn call_ok(app: &TestApp) -> Value {
    let input = json!({"toPhone": JANE_PHONE, "ivrId": MENU_IVR});
    let (status, output) = app.post("/actions/SubscriberCallInvocable", &input).await;
    assert_eq!(status, StatusCode::OK, "{output}");
    output
}

/// Gives Ada `status`; the output.
async fn set_ada_status(app: &TestApp, status: &str) -> Value {
    let input = json!({"userId": ADA, "userStatusId": status});
    let (code, output) = app
        .post("/actions/SubscriberUserStatusInvocable", &input)
        .await;
    assert_eq!(code, StatusCode::OK, "{output}");
    output
}

/// The org in force, with Ada renamed `name`.
async fn renamed_org(app: &TestApp, name: &str) -> Value {
    let mut org = item(app, "/_emulator/org").await;
    assert_eq!(org["users"][0]["id"], ADA, "{org}");
    org["users"][0]["name"] = json!(name);
    org
}

async fn put_org(app: &TestApp, org: &Value) -> Value {
    let request = app.client.put(app.url("/_emulator/org")).json(org);
    let (status, stored) = json_of(request).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    stored
}

/// One action of each kind, in a fixed order; the events they raise (kind, payload id).
async fn one_of_each(app: &TestApp, round: usize) -> [(&'static str, Value); 4] {
    let sms = sms_ok(app, JANE_PHONE, &format!("round {round}")).await;
    // Each round starts from the org's statuses: the previous round replaced the org.
    let status = set_ada_status(app, ON_BREAK_STATUS).await;
    assert_eq!(status["changed"], true, "{status}");
    let call = call_ok(app).await;
    put_org(app, &renamed_org(app, &format!("Ada {round}")).await).await;
    [
        (SMS, sms["id"].clone()),
        (STATUS, status["logId"].clone()),
        (CALL, call["id"].clone()),
        (ORG, Value::Null),
    ]
}

/// The events of `stream` must be exactly `expected` (kind, payload id), in order, with
/// increasing ids; `org.replaced` has no id but a version, which grows.
async fn expect_ids(stream: &mut EventStream, expected: &[(&str, Value)]) -> Vec<SseEvent> {
    let mut got: Vec<SseEvent> = Vec::new();
    // The demo org stored at start is version 1.
    let mut org_version = 1;
    for (kind, id) in expected {
        let event = stream.expect(kind).await;
        let payload = event.payload();
        assert_eq!(payload["id"], *id, "{event:?}");
        if *kind == ORG {
            let version = payload["version"].as_i64().expect("a version");
            assert!(
                version > org_version,
                "{event:?} after version {org_version}"
            );
            org_version = version;
        }
        if let Some(previous) = got.last() {
            assert!(event.seq() > previous.seq(), "{event:?} after {previous:?}");
        }
        got.push(event);
    }
    got
}

backend_tests! {
    async fn sms_created_carries_the_message_item(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let output = sms_ok(&app, JANE_PHONE, "Hello Jane").await;
        let event = stream.expect(SMS).await;
        assert!(event.seq() > 0, "{event:?}");
        let id = output["id"].as_str().unwrap();
        let stored = item(&app, &format!("/_emulator/messages/{id}")).await;
        assert_eq!(event.payload(), stored);
        assert_eq!(stored["body"], "Hello Jane");
        assert_eq!(stored["status"], "Queued");
    }

    async fn refused_sms_raises_sms_created_with_status_failed(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let response = app.send_sms(&json!({"toPhone": "+15005550001", "bodyText": "Hi"})).await;
        assert_exception(&response, StatusCode::BAD_GATEWAY, 100);
        let payload = stream.expect(SMS).await.payload();
        assert_eq!(payload["status"], "Failed", "{payload}");
        assert_eq!(payload["errorCode"], 21211, "{payload}");
        assert_eq!(payload["smsId"], Value::Null, "{payload}");
        let id = payload["id"].as_str().expect("the message's Id");
        assert_eq!(payload, item(&app, &format!("/_emulator/messages/{id}")).await);
    }

    async fn call_created_carries_the_call_item(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let output = call_ok(&app).await;
        let payload = stream.expect(CALL).await.payload();
        let id = output["id"].as_str().unwrap();
        assert_eq!(payload, item(&app, &format!("/_emulator/calls/{id}")).await);
        assert_eq!(payload["ivr"], MENU_IVR);
        assert_eq!(payload["toPhone"], JANE_PHONE);
    }

    async fn refused_call_raises_call_created_with_status_failed(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let input = json!({"toPhone": "+15005550004", "ivrId": MENU_IVR});
        let response = app.post("/actions/SubscriberCallInvocable", &input).await;
        assert_exception(&response, StatusCode::BAD_GATEWAY, 100);
        let payload = stream.expect(CALL).await.payload();
        assert_eq!(payload["status"], "Failed", "{payload}");
        assert_eq!(payload["errorCode"], 21216, "{payload}");
        assert_eq!(payload["callId"], Value::Null, "{payload}");
        let id = payload["id"].as_str().expect("the call's Id");
        assert_eq!(payload, item(&app, &format!("/_emulator/calls/{id}")).await);
    }

    async fn user_status_changed_carries_the_status_log_item(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let output = set_ada_status(&app, ON_BREAK_STATUS).await;
        let payload = stream.expect(STATUS).await.payload();
        let log_id = output["logId"].as_str().expect("a log entry");
        assert_eq!(payload, item(&app, &format!("/_emulator/status-log/{log_id}")).await);
        assert_eq!(payload["userId"], ADA);
        assert_eq!(payload["fromUserStatusId"], AVAILABLE_STATUS);
        assert_eq!(payload["toUserStatusId"], ON_BREAK_STATUS);
        assert_eq!(payload["toStatusType"], "Offline");
    }

    async fn unchanged_user_status_raises_no_event(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        // Ada already has the Available status.
        assert_eq!(set_ada_status(&app, AVAILABLE_STATUS).await["changed"], false);
        let output = set_ada_status(&app, ON_BREAK_STATUS).await;
        let payload = stream.expect(STATUS).await.payload();
        assert_eq!(payload["id"], output["logId"], "{payload}");
        assert_eq!(payload["fromUserStatusId"], AVAILABLE_STATUS);
        assert_eq!(payload["toUserStatusId"], ON_BREAK_STATUS);
    }

    async fn bulk_sms_of_five_inputs_raises_five_events_in_input_order(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let inputs: Vec<Value> = (1..=5)
            .map(|n| json!({"toPhone": JANE_PHONE, "bodyText": format!("Message {n}")}))
            .collect();
        let (status, results) = app.invoke("SubscriberSMSInvocable", json!(inputs)).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        let mut last = 0;
        for n in 1..=5 {
            let event = stream.expect(SMS).await;
            let payload = event.payload();
            assert_eq!(payload["body"], format!("Message {n}"), "{payload}");
            assert_eq!(payload["id"], results[n - 1]["outputValues"]["id"], "{payload}");
            assert!(event.seq() > last, "ids increase: {event:?} after {last}");
            last = event.seq();
        }
    }

    async fn event_ids_increase_across_kinds(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let mut expected = Vec::new();
        for round in 0..2 {
            expected.extend(one_of_each(&app, round).await);
        }
        let events = expect_ids(&mut stream, &expected).await;
        assert!(events[0].seq() > 0, "{:?}", events[0]);
    }

    async fn put_org_raises_org_replaced_with_a_growing_version(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        put_org(&app, &renamed_org(&app, "Ada King").await).await;
        let first = stream.expect(ORG).await.payload();
        let version = first["version"].as_i64().unwrap_or_else(|| panic!("a version: {first}"));
        assert_eq!(first, json!({"version": version}));
        // The demo org stored at start was the first version.
        assert!(version > 1, "{first}");
        put_org(&app, &renamed_org(&app, "Ada Byron").await).await;
        let second = stream.expect(ORG).await.payload();
        let grown = second["version"].as_i64().unwrap_or_else(|| panic!("a version: {second}"));
        assert_eq!(second, json!({"version": grown}));
        assert!(grown > version, "{second} after {first}");
    }

    async fn reset_with_org_raises_org_replaced(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let (status, body) = app.post("/_emulator/reset?org=true", &json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let payload = stream.expect(ORG).await.payload();
        assert!(payload["version"].as_i64().is_some_and(|v| v > 1), "{payload}");
    }

    async fn types_filter_lets_only_the_named_types_through(backend) {
        let cases: [(&str, &[&str]); 4] = [
            ("sms.created", &[SMS]),
            ("user_status.changed,call.created", &[STATUS, CALL]),
            ("org.replaced", &[ORG]),
            (
                "call.created,org.replaced,sms.created,user_status.changed",
                &[SMS, STATUS, CALL, ORG],
            ),
        ];
        for (types, wanted) in cases {
            let app = spawn_app(backend).await;
            let mut stream = EventStream::open(&app, &format!("{EVENTS}?types={types}")).await;
            // Two rounds: an unwanted event after the first round's last wanted one would
            // come before the second round's first.
            let mut expected = Vec::new();
            for round in 0..2 {
                let raised = one_of_each(&app, round).await;
                expected.extend(raised.into_iter().filter(|(kind, _)| wanted.contains(kind)));
            }
            expect_ids(&mut stream, &expected).await;
        }
    }

    async fn unknown_event_type_is_invalid_filter(backend) {
        let app = spawn_app(backend).await;
        for types in ["nope", "sms.created,nope", "sms"] {
            let name = types.rsplit(',').next().unwrap();
            let path = format!("{EVENTS}?types={types}");
            let (status, body) = app.get(&path).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{path}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(&format!("`{name}`")), "{path}: {message}");
        }
    }

    async fn unknown_parameter_or_bad_after_is_400(backend) {
        let app = spawn_app(backend).await;
        let cases = [
            ("type=sms.created", "`type`"),
            ("since=2026-01-01T00:00:00Z", "`since`"),
            ("after=abc", "`abc`"),
            ("after=1.5", "`1.5`"),
            ("after=99999999999999999999", "`99999999999999999999`"),
            ("types=sms.created&after=x1", "`x1`"),
        ];
        for (query, fragment) in cases {
            let (status, body) = app.get(&format!("{EVENTS}?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert_eq!(body["errorCode"], "INVALID_FILTER", "{query}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(fragment), "{query}: {message}");
        }
    }

    async fn reconnecting_replays_missed_events_then_continues_live(backend) {
        let app = spawn_app(backend).await;
        let mut first = EventStream::open(&app, EVENTS).await;
        let sms = sms_ok(&app, JANE_PHONE, "one").await;
        let status = set_ada_status(&app, ON_BREAK_STATUS).await;
        let call = call_ok(&app).await;
        let mut seen = expect_ids(
            &mut first,
            &[
                (SMS, sms["id"].clone()),
                (STATUS, status["logId"].clone()),
                (CALL, call["id"].clone()),
            ],
        )
        .await;
        drop(first);
        let last_seen = seen[0].id.clone().unwrap();
        let by_header = app.client.get(app.url(EVENTS)).header("Last-Event-ID", &last_seen);
        let by_query = app.client.get(app.url(&format!("{EVENTS}?after={last_seen}")));
        for (way, request) in [("Last-Event-ID", by_header), ("after", by_query)] {
            let mut stream = EventStream::replaying(request).await;
            // Everything after the first event, oldest first, exactly as it was sent live
            // (the second time round, with the first reconnect's live event).
            for missed in &seen[1..] {
                assert_eq!(stream.next_event().await, *missed, "{way}");
            }
            let live = sms_ok(&app, JANE_PHONE, way).await;
            let event = stream.expect(SMS).await;
            assert_eq!(event.payload()["id"], live["id"], "{way}: {event:?}");
            assert!(event.seq() > seen.last().unwrap().seq(), "{way}: {event:?}");
            seen.push(event);
        }
    }

    async fn replay_never_repeats_the_given_id_or_older_ones(backend) {
        for way in ["Last-Event-ID", "after"] {
            let app = spawn_app(backend).await;
            // Right after the start: the demo org's event (id 1) was the last one.
            let request = match way {
                "after" => app.client.get(app.url(&format!("{EVENTS}?after=1"))),
                _ => app.client.get(app.url(EVENTS)).header("Last-Event-ID", "1"),
            };
            let mut stream = EventStream::replaying(request).await;
            let output = sms_ok(&app, JANE_PHONE, way).await;
            let event = stream.next_event().await;
            assert_eq!(event.kind(), SMS, "{way}: the client already has event 1: {event:?}");
            assert_eq!(event.payload()["id"], output["id"], "{way}: {event:?}");
            assert!(event.seq() > 1, "{way}: {event:?}");
            // Event 1 was indeed the demo org stored at start.
            let first = EventStream::after(&app, 0).await.next_event().await;
            assert_eq!((first.seq(), first.kind()), (1, ORG), "{first:?}");
        }
    }

    async fn replay_from_zero_gives_every_stored_event(backend) {
        let app = spawn_app(backend).await;
        let mut live = EventStream::open(&app, EVENTS).await;
        let sms = sms_ok(&app, JANE_PHONE, "one").await;
        let status = set_ada_status(&app, ON_BREAK_STATUS).await;
        let raised = [(SMS, sms["id"].clone()), (STATUS, status["logId"].clone())];
        let seen = expect_ids(&mut live, &raised).await;
        let mut stream = EventStream::after(&app, 0).await;
        // The demo org stored at start comes first.
        let org = stream.expect(ORG).await;
        assert_eq!(org.payload(), json!({"version": 1}));
        assert!(org.seq() < seen[0].seq(), "{org:?}");
        assert_eq!(stream.next_event().await, seen[0]);
        assert_eq!(stream.next_event().await, seen[1]);
        let call = call_ok(&app).await;
        let event = stream.expect(CALL).await;
        assert_eq!(event.payload()["id"], call["id"], "{event:?}");
    }

    async fn replay_racing_live_events_has_no_gaps_or_duplicates(backend) {
        let app = std::sync::Arc::new(spawn_app(backend).await);
        let mut live = EventStream::open(&app, EVENTS).await;
        let start = sms_ok(&app, JANE_PHONE, "start").await;
        let start_event = live.expect(SMS).await;
        assert_eq!(start_event.payload()["id"], start["id"]);
        let start_seq = start_event.seq();
        drop(live);
        let sender = {
            let app = app.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..20 {
                    ids.push(sms_ok(&app, JANE_PHONE, &format!("race {n}")).await["id"].clone());
                }
                ids
            })
        };
        let mut stream = EventStream::after(&app, start_seq).await;
        let ids = sender.await.expect("the sender finishes");
        let mut last = start_seq;
        for id in &ids {
            let event = stream.expect(SMS).await;
            assert_eq!(event.payload()["id"], *id, "{event:?}");
            assert!(event.seq() > last, "{event:?} after {last}");
            last = event.seq();
        }
        let marker = call_ok(&app).await;
        assert_eq!(stream.expect(CALL).await.payload()["id"], marker["id"]);
    }

    async fn idle_stream_gets_keep_alive_comments(backend) {
        let app = spawn_app_with(backend, |config| config.event_keep_alive_secs = 1).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let started = Instant::now();
        for n in 0..2 {
            match stream.next_frame().await {
                Some(Frame::Comment) => {}
                other => panic!("keep-alive {n}: expected a comment, got {other:?}"),
            }
        }
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
        // The stream still carries events.
        let output = sms_ok(&app, JANE_PHONE, "still here").await;
        assert_eq!(stream.expect(SMS).await.payload()["id"], output["id"]);
    }

    async fn every_subscriber_gets_every_event(backend) {
        let app = spawn_app(backend).await;
        let mut streams = Vec::new();
        for _ in 0..3 {
            streams.push(EventStream::open(&app, EVENTS).await);
        }
        let sms = sms_ok(&app, JANE_PHONE, "to all").await;
        let status = set_ada_status(&app, ON_BREAK_STATUS).await;
        let expected = [(SMS, sms["id"].clone()), (STATUS, status["logId"].clone())];
        let first = expect_ids(&mut streams[0], &expected).await;
        for stream in &mut streams[1..] {
            assert_eq!(expect_ids(stream, &expected).await, first);
        }
    }

    async fn dropped_subscriber_costs_nothing(backend) {
        let app = spawn_app(backend).await;
        let mut leaving = EventStream::open(&app, EVENTS).await;
        let mut staying = EventStream::open(&app, EVENTS).await;
        let first = sms_ok(&app, JANE_PHONE, "before").await;
        assert_eq!(leaving.expect(SMS).await.payload()["id"], first["id"]);
        drop(leaving);
        let mut expected = vec![(SMS, first["id"].clone())];
        for n in 0..3 {
            let body = format!("after {n}");
            let send = sms_ok(&app, JANE_PHONE, &body);
            let output = tokio::time::timeout(READ_TIMEOUT, send)
                .await
                .expect("the action answers in time");
            expected.push((SMS, output["id"].clone()));
        }
        let status = set_ada_status(&app, ON_BREAK_STATUS).await;
        expected.push((STATUS, status["logId"].clone()));
        expect_ids(&mut staying, &expected).await;
        let mut newcomer = EventStream::open(&app, EVENTS).await;
        let last = call_ok(&app).await;
        assert_eq!(newcomer.expect(CALL).await.payload()["id"], last["id"]);
        assert_eq!(staying.expect(CALL).await.payload()["id"], last["id"]);
    }

    async fn stream_ends_when_the_server_stops(backend) {
        let app = spawn_app(backend).await;
        let mut stream = EventStream::open(&app, EVENTS).await;
        let output = sms_ok(&app, JANE_PHONE, "last words").await;
        assert_eq!(stream.expect(SMS).await.payload()["id"], output["id"]);
        tokio::time::timeout(READ_TIMEOUT, app.stop())
            .await
            .expect("the server stops promptly with a stream open");
        loop {
            match stream.next_frame().await {
                None => break,
                Some(Frame::Comment) => continue,
                Some(Frame::Event(event)) => panic!("no event after the stop: {event:?}"),
            }
        }
    }

    async fn stream_needs_the_admin_token_when_configured(backend) {
        let token = Some(Secret::new("s3cret"));
        let app = spawn_app_with(backend, |config| config.admin_token = token).await;
        let url = app.url(EVENTS);
        let refused = [
            ("no token", app.client.get(&url)),
            ("wrong token", app.client.get(&url).bearer_auth("nope")),
            ("token as API key", app.client.get(&url).header("X-API-Key", "s3cret")),
        ];
        for (case, request) in refused {
            let (status, body) = json_of(request).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
            assert_eq!(body["errorCode"], "INVALID_SESSION_ID", "{case}: {body}");
        }
        let mut stream = EventStream::live(app.client.get(&url).bearer_auth("s3cret")).await;
        let output = sms_ok(&app, JANE_PHONE, "authorised").await;
        assert_eq!(stream.expect(SMS).await.payload()["id"], output["id"]);
    }
}

/// Two instances on one PostgreSQL database: A's subscribers see what B did, and A serves
/// the org B stored.
#[tokio::test]
async fn two_postgres_instances_share_events_and_the_org() {
    if !postgres_available("two_postgres_instances_share_events_and_the_org") {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let a = TestApp::start(&db, |_| {}).await;
    let b = TestApp::start(&db, |_| {}).await;
    let mut stream = EventStream::open(&a, EVENTS).await;

    let status = set_ada_status(&b, ON_BREAK_STATUS).await;
    let sms = sms_ok(&b, JANE_PHONE, "from B").await;
    let seen = expect_ids(
        &mut stream,
        &[(STATUS, status["logId"].clone()), (SMS, sms["id"].clone())],
    )
    .await;
    let log_id = status["logId"].as_str().unwrap();
    let log_item = item(&a, &format!("/_emulator/status-log/{log_id}")).await;
    assert_eq!(seen[0].payload(), log_item);
    let sms_id = sms["id"].as_str().unwrap();
    let message = item(&a, &format!("/_emulator/messages/{sms_id}")).await;
    assert_eq!(seen[1].payload(), message);

    let mut org = renamed_org(&b, "Ada on B").await;
    org["settings"]["smsEnabled"] = json!(false);
    let stored = put_org(&b, &org).await;
    let replaced = stream.expect(ORG).await;
    assert!(replaced.seq() > seen[1].seq(), "{replaced:?}");
    // A reloads the org on the event; give it a bounded moment.
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        let served = item(&a, "/_emulator/org").await;
        if served == stored {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A still serves the old org: {served}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The org in force on A is B's: SMS is now disabled there.
    let response = a
        .send_sms(&json!({"toPhone": JANE_PHONE, "bodyText": "Hi"}))
        .await;
    assert_exception(&response, StatusCode::BAD_REQUEST, 105);

    drop(stream);
    a.stop().await;
    b.stop().await;
}
