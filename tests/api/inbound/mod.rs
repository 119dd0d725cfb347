//! Inbound messages and opt-out keywords (SPEC 10): `POST /_emulator/inbound` as a customer
//! texting one of the org's numbers, and what the org then sees and may send.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

mod keywords;
mod opt_outs;
mod received;

const INBOUND: &str = "/_emulator/inbound";
/// A customer the demo org has no record of.
const STRANGER: &str = "+14155550199";

/// The customer at `from` texts `body` to the org's number `to`: the answer must be 201.
async fn text(app: &TestApp, from: &str, to: &str, body: &str) -> Value {
    let (status, received) = app
        .post(INBOUND, &json!({"from": from, "to": to, "body": body}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{received}");
    received
}

/// An SMS from the org's number `from` to `to`, as the running user.
async fn send_from(app: &TestApp, from: &str, to: &str) -> (StatusCode, Value) {
    app.send_sms(&json!({"fromPhone": from, "toPhone": to, "bodyText": "Your order shipped"}))
        .await
}

/// `GET path` on `app`, a long poll, with `meanwhile` run a moment after it began: the poll's
/// answer, which must be 200, and what `meanwhile` gave.
async fn polled_while<T>(
    app: &TestApp,
    path: &str,
    meanwhile: impl Future<Output = T>,
) -> (Value, T) {
    let later = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        meanwhile.await
    };
    let ((status, polled), done) = tokio::join!(app.get(path), later);
    assert_eq!(status, StatusCode::OK, "{path}: {polled}");
    (polled, done)
}

/// The org's opt-outs, filtered by `query` (`?from=...`).
async fn opt_outs(app: &TestApp, query: &str) -> Vec<Value> {
    app.items(&format!("/_emulator/opt-outs{query}")).await
}
