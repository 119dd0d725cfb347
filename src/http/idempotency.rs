//! `Idempotency-Key`: a retry of an action call with the same key and the same request gets
//! the first call's answer, and nothing is sent or placed twice. The same key with another
//! request is 422. Concurrent calls with one key run once: the others wait for its answer.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::answer::Answer;
use super::error::{PlatformCode, PlatformError};
use crate::actions::HeldKey;
use crate::domain::{OrgName, SalesforceId, Timestamp};
use crate::state::AppState;
use crate::storage::{Claim, KeyClaim, KeyedAnswer, Storage, StoredAnswer};

pub const HEADER: &str = "idempotency-key";
/// Set on an answer replayed from an earlier call with the same key.
pub const REPLAYED: &str = "idempotent-replayed";
/// The longest key accepted.
const MAX_KEY_LEN: usize = 255;
/// How long a first call may run before its claim is taken to have died.
const LEASE: Duration = Duration::from_secs(60);
/// How long a concurrent call with the same key waits for the first one's answer.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(25);

/// What a call's idempotency key says to do.
pub enum Keyed {
    /// Run the call; with a key, keep its answer under it.
    Run(Option<ClaimedKey>),
    /// An earlier call with this key answered: this is its answer again.
    Replay(StoredAnswer),
}

/// A key this call holds until its answer is kept under it. A call cut off before that
/// (its request timed out, or its client went away) gives the key up as it is dropped, so
/// that a retry runs at once instead of waiting out the claim's lease.
pub struct ClaimedKey {
    /// The org the key is kept in.
    org: OrgName,
    key: String,
    storage: Arc<dyn Storage>,
    /// The key holds its answer, or was given up: nothing is left to do as it drops.
    settled: bool,
}

impl ClaimedKey {
    /// The key with the call's answer, to be stored with its records (`actions::store`).
    pub fn answering(self, answer: &Answer) -> AnsweredKey {
        AnsweredKey {
            claimed: self,
            answer: answer.stored(),
        }
    }

    /// The call's answer is kept under the key: it holds it for good.
    fn settle(mut self) {
        self.settled = true;
    }

    /// Keeps `answer` under the key, for a call that stored nothing with it.
    async fn keep(self, answer: &Answer) {
        match self
            .storage
            .answer_key(&self.org, &self.key, &answer.stored())
            .await
        {
            Ok(()) => self.settle(),
            // The key is given up as the claim drops, and a retry runs the call again.
            Err(error) => tracing::warn!(%error, "cannot keep the answer of an idempotency key"),
        }
    }

    /// Gives the key up after the call failed without storing anything (the database was
    /// unavailable, say), so that a retry runs it.
    async fn release(self) {
        match self.storage.release_key(&self.org, &self.key).await {
            Ok(()) => self.settle(),
            // Dropping the claim tries once more, in the background.
            Err(error) => tracing::warn!(%error, "cannot release an idempotency key"),
        }
    }
}

impl Drop for ClaimedKey {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let storage = self.storage.clone();
        let org = self.org.clone();
        let key = std::mem::take(&mut self.key);
        runtime.spawn(async move {
            if let Err(error) = storage.release_key(&org, &key).await {
                tracing::warn!(%error, "cannot release an idempotency key");
            }
        });
    }
}

/// A claimed key and the answer to keep under it, in the transaction that stores the
/// call's records.
pub struct AnsweredKey {
    claimed: ClaimedKey,
    answer: StoredAnswer,
}

impl HeldKey for AnsweredKey {
    fn answer(&self) -> KeyedAnswer {
        KeyedAnswer {
            key: self.claimed.key.clone(),
            answer: self.answer.clone(),
        }
    }

    fn settle(self) {
        self.claimed.settle();
    }

    async fn release(self) {
        self.claimed.release().await;
    }

    fn hold(self) {
        // Not given up when dropped: the claim lapses with its lease.
        self.claimed.settle();
    }
}

/// Claims the call's key, if it has one. The request is identified by its route, who is
/// calling and its body, so that a key cannot replay someone else's or another route's answer.
pub async fn claim(
    state: &AppState,
    headers: &HeaderMap,
    route: &str,
    org: &OrgName,
    invoker: Option<SalesforceId>,
    body: &[u8],
) -> Result<Keyed, PlatformError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(Keyed::Run(None));
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            PlatformError::new(
                PlatformCode::InvalidIdempotencyKey,
                format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )
        })?;
    let fingerprint = fingerprint(route, invoker, body);
    let expired_before = Timestamp::from_millis(
        Timestamp::now().millis() - state.limits().idempotency_ttl.as_millis() as i64,
    );
    let deadline = Instant::now() + WAIT_FOR_FIRST;
    loop {
        let claim = KeyClaim {
            org,
            key,
            fingerprint: &fingerprint,
            now: Timestamp::now(),
            lease: LEASE,
            expired_before,
        };
        match state.storage().claim_key(&claim).await? {
            Claim::Claimed => {
                return Ok(Keyed::Run(Some(ClaimedKey {
                    org: org.clone(),
                    key: key.to_owned(),
                    storage: state.storage_handle(),
                    settled: false,
                })));
            }
            Claim::Answered(answer) => return Ok(Keyed::Replay(answer)),
            Claim::Mismatch => {
                return Err(PlatformError::new(
                    PlatformCode::IdempotencyKeyReused,
                    "This Idempotency-Key was used for a different request (route, caller or body)",
                ));
            }
            Claim::Running if Instant::now() < deadline => tokio::time::sleep(POLL).await,
            Claim::Running => {
                return Err(PlatformError::new(
                    PlatformCode::IdempotencyKeyInUse,
                    "The first request with this Idempotency-Key is still running; retry later",
                ));
            }
        }
    }
}

/// Keeps an answer under the key, when there is one: for answers that stored nothing with
/// them (a refused input) or committed on their own (a status change).
pub async fn keep(key: Option<ClaimedKey>, answer: &Answer) {
    if let Some(claimed) = key {
        claimed.keep(answer).await;
    }
}

/// Gives up the key, when there is one, after the call failed without storing anything.
pub async fn release(key: Option<ClaimedKey>) {
    if let Some(claimed) = key {
        claimed.release().await;
    }
}

/// An earlier call's answer, marked as replayed.
pub fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Its error code is not kept: the count and the log line see only its status.
    let mut response = Answer {
        status,
        body: answer.body,
        code: None,
    }
    .into_response();
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// What identifies a request under its key: its route, who is calling, and its body in
/// canonical form, so that a retry whose JSON differs only in key order or whitespace is the
/// same request.
fn fingerprint(route: &str, invoker: Option<SalesforceId>, body: &[u8]) -> String {
    let mut digest = Sha256::new();
    digest.update(route.as_bytes());
    digest.update([0]);
    digest.update(invoker.as_ref().map_or("", SalesforceId::as_str).as_bytes());
    digest.update([0]);
    digest.update(canonical(body));
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The body re-serialised with every object's keys sorted (serde_json's map is ordered by
/// key) and no whitespace; arrays keep their order, as inputs are answered in order. A body
/// that is not JSON, or has an object with a key twice, is taken byte for byte: the actions
/// refuse a repeated field, so such a body must not share a fingerprint with one without it.
fn canonical(body: &[u8]) -> Cow<'_, [u8]> {
    serde_json::from_slice::<Canonical>(body)
        .ok()
        .and_then(|Canonical(value)| serde_json::to_vec(&value).ok())
        .map_or(Cow::Borrowed(body), Cow::Owned)
}

/// A JSON value parsed like `serde_json::Value`, except that a key repeated within one
/// object is an error instead of the last one winning.
struct Canonical(Value);

impl<'de> Deserialize<'de> for Canonical {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(CanonicalVisitor)
            .map(Canonical)
    }
}

struct CanonicalVisitor;

impl<'de> Visitor<'de> for CanonicalVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Canonical(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some((key, Canonical(value))) = map.next_entry::<String, Canonical>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("the key `{key}` is repeated")));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        fingerprint("/r", None, a.as_bytes()) == fingerprint("/r", None, b.as_bytes())
    }

    #[test]
    fn key_order_and_whitespace_do_not_change_the_fingerprint() {
        let first = r#"{"inputs":[{"toPhone":"+14155550123","bodyText":"Hi"},{"bodyText":"Yo","toPhone":"+1"}]}"#;
        let retry = "{ \"inputs\" : [\n  { \"bodyText\": \"Hi\", \"toPhone\": \"+14155550123\" },\n  {\"toPhone\":\"+1\",\"bodyText\":\"Yo\"}\n] }\n";
        assert!(same(first, retry));
        assert!(
            same(r#"{"a":"\u0041"}"#, r#"{"a":"A"}"#),
            "the same string, escaped"
        );
    }

    #[test]
    fn a_real_difference_changes_the_fingerprint() {
        let cases = [
            ("another value", r#"{"a":"x"}"#, r#"{"a":"y"}"#),
            (
                "inputs in another order",
                r#"[{"a":1},{"a":2}]"#,
                r#"[{"a":2},{"a":1}]"#,
            ),
            ("a key more", r#"{"a":1}"#, r#"{"a":1,"b":null}"#),
            (
                "whitespace inside a string",
                r#"{"a":"x y"}"#,
                r#"{"a":"x  y"}"#,
            ),
            ("a number for a string", r#"{"a":"1"}"#, r#"{"a":1}"#),
            ("a key given twice", r#"{"a":"x","a":"y"}"#, r#"{"a":"y"}"#),
            ("not JSON", "{\"a\":1", "{\"a\": 1"),
        ];
        for (case, a, b) in cases {
            assert!(!same(a, b), "{case}: {a} and {b}");
        }
    }

    #[test]
    fn the_route_and_the_caller_are_part_of_the_fingerprint() {
        let ada = SalesforceId::parse("005Dn0000001AdaIAE").ok();
        let body = b"{}";
        assert_ne!(fingerprint("/a", None, body), fingerprint("/b", None, body));
        assert_ne!(fingerprint("/a", None, body), fingerprint("/a", ada, body));
    }
}
