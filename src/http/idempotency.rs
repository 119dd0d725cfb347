//! `Idempotency-Key`: a retry of an action call with the same key and the same request gets
//! the first call's answer, and nothing is sent or placed twice. The same key with another
//! request is 422. Concurrent calls with one key run once: the others wait for its answer.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::PlatformError;
use crate::domain::{SalesforceId, Timestamp};
use crate::state::AppState;
use crate::storage::{Claim, StorageError, StoredAnswer};

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

/// An answer as it goes on the wire: what an idempotency key keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    pub fn json(status: StatusCode, body: &impl Serialize) -> Self {
        // The answers are built from views and error objects, which always serialise.
        Self {
            status,
            body: serde_json::to_string(body).expect("answers serialise to JSON"),
        }
    }

    pub fn stored(&self) -> StoredAnswer {
        StoredAnswer {
            status: self.status.as_u16(),
            body: self.body.clone(),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let content_type = [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )];
        (self.status, content_type, self.body).into_response()
    }
}

/// What a call's idempotency key says to do.
pub enum Keyed {
    /// No key: just run.
    Unkeyed,
    /// The key is this call's: run, and keep the answer under it.
    Claimed(String),
    /// An earlier call with this key answered: this is its answer again.
    Replay(StoredAnswer),
}

impl Keyed {
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Claimed(key) => Some(key),
            _ => None,
        }
    }
}

/// Claims the call's key, if it has one. The request is identified by its route, who is
/// calling and its body, so that a key cannot replay someone else's or another route's answer.
pub async fn claim(
    state: &AppState,
    headers: &HeaderMap,
    route: &str,
    invoker: Option<SalesforceId>,
    body: &[u8],
) -> Result<Keyed, PlatformError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(Keyed::Unkeyed);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            PlatformError::bad_request(
                "INVALID_IDEMPOTENCY_KEY",
                format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )
        })?;
    let fingerprint = fingerprint(route, invoker, body);
    let expired_before = Timestamp::from_millis(
        Timestamp::now().millis() - state.limits().idempotency_ttl.as_millis() as i64,
    );
    let deadline = Instant::now() + WAIT_FOR_FIRST;
    loop {
        match state
            .storage()
            .claim_key(key, &fingerprint, Timestamp::now(), LEASE, expired_before)
            .await?
        {
            Claim::Claimed => return Ok(Keyed::Claimed(key.to_owned())),
            Claim::Answered(answer) => return Ok(Keyed::Replay(answer)),
            Claim::Mismatch => {
                return Err(PlatformError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "IDEMPOTENCY_KEY_REUSED",
                    "This Idempotency-Key was used for a different request (route, caller or body)",
                ));
            }
            Claim::Running if Instant::now() < deadline => tokio::time::sleep(POLL).await,
            Claim::Running => {
                return Err(PlatformError::new(
                    StatusCode::CONFLICT,
                    "IDEMPOTENCY_KEY_IN_USE",
                    "The first request with this Idempotency-Key is still running; retry later",
                ));
            }
        }
    }
}

/// Gives up a claimed key after the call failed without storing anything (the database
/// was unavailable, say), so that a retry runs it.
pub async fn release(state: &AppState, keyed: &Keyed, error: StorageError) -> PlatformError {
    if let Some(key) = keyed.key()
        && let Err(release_error) = state.storage().release_key(key).await
    {
        tracing::warn!(error = %release_error, "cannot release an idempotency key");
    }
    error.into()
}

/// An earlier call's answer, marked as replayed.
pub fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Answer {
        status,
        body: answer.body,
    }
    .into_response();
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn fingerprint(route: &str, invoker: Option<SalesforceId>, body: &[u8]) -> String {
    let mut digest = Sha256::new();
    digest.update(route.as_bytes());
    digest.update([0]);
    digest.update(invoker.as_ref().map_or("", SalesforceId::as_str).as_bytes());
    digest.update([0]);
    digest.update(body);
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
