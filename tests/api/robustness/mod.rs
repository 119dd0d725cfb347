//! Robustness (issue 6): `Idempotency-Key` on every action call, the bounds on requests
//! (body size, time, concurrency, slow clients and clients that hang up, bulk size), and access (API keys, the admin
//! token, secrets kept out of the logs, where the binary listens).

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

mod access;
mod binary;
mod hang_ups;
mod idempotency;
mod idempotency_keys;
mod limits;
mod secrets;
mod slow_clients;

pub(super) const SMS: &str = "/actions/SubscriberSMSInvocable";
pub(super) const CALL: &str = "/actions/SubscriberCallInvocable";
pub(super) const STATUS: &str = "/actions/SubscriberUserStatusInvocable";
pub(super) const APEX: &str = "/services/data/v60.0/actions/custom/apex";
pub(super) const APEX_SMS: &str = "/services/data/v60.0/actions/custom/apex/SubscriberSMSInvocable";
pub(super) const APEX_CALL: &str =
    "/services/data/v60.0/actions/custom/apex/SubscriberCallInvocable";
pub(super) const APEX_STATUS: &str =
    "/services/data/v60.0/actions/custom/apex/SubscriberUserStatusInvocable";

pub(super) const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
pub(super) const BOB_PHONE: &str = "+14155550125";
pub(super) const ADMIN_TOKEN: &str = "adm-4f1e9c2b7d";
pub(super) const ADA_KEY: &str = "k-ada-83b1f0c4e2";
pub(super) const GRACE_KEY: &str = "k-grace-5d7a2e91";

/// The demo org with an API key for Ada and one for Grace.
pub(super) fn keyed_demo_org() -> String {
    format!(
        "{}\napiKeys:\n  - key: {ADA_KEY}\n    userId: {ADA}\n  - key: {GRACE_KEY}\n    userId: {GRACE}\n",
        include_str!("../../../src/org/demo.yaml")
    )
}

pub(super) fn sms(body_text: &str) -> Value {
    json!({ "toPhone": JANE_PHONE, "bodyText": body_text })
}

pub(super) fn call() -> Value {
    json!({ "toPhone": JANE_PHONE, "ivrId": MENU_IVR })
}

pub(super) fn on_break(user: &str) -> Value {
    json!({ "userId": user, "userStatusId": ON_BREAK_STATUS })
}

/// An answer as it came over the wire.
#[derive(Debug)]
pub(super) struct Reply {
    pub status: StatusCode,
    /// The `Idempotent-Replayed` header, when present.
    pub replayed: Option<String>,
    /// The body exactly as sent, for comparing a replay byte for byte.
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status();
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().expect("an ASCII header").to_owned());
        let text = response.text().await.expect("a response body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("a JSON body, got {status}: {text:?}"));
        Reply {
            status,
            replayed,
            text,
            body,
        }
    }

    /// Asserts this is `first` again, marked as replayed.
    #[track_caller]
    pub fn assert_replay_of(&self, first: &Reply) {
        assert_eq!(self.status, first.status, "{}", self.text);
        assert_eq!(
            self.text, first.text,
            "a replay is the first answer, byte for byte"
        );
        assert_eq!(self.replayed.as_deref(), Some("true"), "{}", self.text);
    }

    /// Asserts the call ran (it is no replay) with `status`.
    #[track_caller]
    pub fn assert_ran(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.replayed, None, "{}", self.text);
    }
}

/// A request with the given headers and JSON body.
pub(super) async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let mut request = app.client.request(method, app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    Reply::from(request.send().await.expect("the request is answered")).await
}

/// `POST path` with `Idempotency-Key: key` (and more headers) and a JSON body.
pub(super) async fn post_keyed(
    app: &TestApp,
    path: &str,
    key: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Reply {
    let mut all = vec![(IDEMPOTENCY_KEY, key)];
    all.extend_from_slice(headers);
    send(app, Method::POST, path, &all, Some(body)).await
}

/// `POST path` with a raw key value (any bytes a header may carry) and a raw body.
pub(super) async fn post_raw_keyed(
    app: &TestApp,
    path: &str,
    key: &[u8],
    body: impl Into<reqwest::Body>,
) -> Reply {
    let key = HeaderValue::from_bytes(key).expect("a value a header can carry");
    let request = app
        .client
        .post(app.url(path))
        .header(IDEMPOTENCY_KEY, key)
        .header("content-type", "application/json")
        .body(body);
    Reply::from(request.send().await.expect("the request is answered")).await
}

/// `{"inputs": inputs}` for the Salesforce shape.
pub(super) fn inputs(inputs: &[Value]) -> Value {
    json!({ "inputs": inputs })
}

/// The items of an `/_emulator` list, e.g. `messages` or `status-log?userId=...`.
pub(super) async fn items(app: &TestApp, list: &str) -> Vec<Value> {
    app.items(&format!("/_emulator/{list}")).await
}

/// Asserts `items` holds exactly one item, with `id`.
#[track_caller]
pub(super) fn assert_only(items: &[Value], id: &Value) {
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], *id, "{items:?}");
}

/// The payloads of every stored event of `kind`, oldest first: the stream replays them
/// from the start and then, idle, sends a keep-alive, which ends the reading. The app must
/// run with `event_keep_alive_secs = 1`.
pub(super) async fn stored_events(app: &TestApp, kind: &str) -> Vec<Value> {
    let url = app.url(&format!("/_emulator/events?after=0&types={kind}"));
    let mut response = app.client.get(url).send().await.expect("the stream opens");
    assert_eq!(response.status(), StatusCode::OK);
    let mut text = String::new();
    let mut payloads = Vec::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .expect("the stream sends within 5 s")
            .expect("the stream reads")
            .expect("the stream stays open");
        text.push_str(
            &String::from_utf8(chunk.to_vec())
                .expect("UTF-8")
                .replace('\r', ""),
        );
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if block
                .lines()
                .all(|line| line.is_empty() || line.starts_with(':'))
            {
                return payloads;
            }
            assert!(
                block.lines().any(|l| l == format!("event: {kind}")),
                "{block}"
            );
            let data = block
                .lines()
                .find_map(|line| line.strip_prefix("data:"))
                .expect("a data line");
            payloads.push(serde_json::from_str(data.trim()).expect("a JSON payload"));
        }
    }
}

/// Asserts a platform error as a bare object (direct routes, `/_emulator`).
#[track_caller]
pub(super) fn assert_platform_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.body["errorCode"], code, "{}", reply.text);
    assert!(
        reply.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        reply.text
    );
    assert!(reply.body.get("exceptionType").is_none(), "{}", reply.text);
}

/// Asserts a platform error in Salesforce's one-element array envelope (`/services`).
#[track_caller]
pub(super) fn assert_salesforce_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    let errors = reply.body.as_array().expect("an array envelope");
    assert_eq!(errors.len(), 1, "{}", reply.text);
    assert_eq!(errors[0]["errorCode"], code, "{}", reply.text);
    assert!(
        errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        reply.text
    );
}

/// Asserts a direct call's APIException; answers its message.
#[track_caller]
pub(super) fn assert_api_exception(reply: &Reply, status: StatusCode, code: u64) -> String {
    assert_exception(&(reply.status, reply.body.clone()), status, code)
}
