//! Admission of action and control requests, cheapest check first, so that a stranger
//! cannot hold what keyed callers need:
//!
//! 1. who is calling, from the headers alone (actions): a wrong key is 401 before anything
//!    else is spent on the request;
//! 2. the body, read whole within `--body-read-timeout-secs` and `--max-body-bytes` (a
//!    client that trickles it in gets 408), before the request takes a slot;
//! 3. a slot among `--max-concurrent-requests` (none free: 503 at once, rather than queueing
//!    without end), held while the request is handled within `--request-timeout-secs`
//!    (then 503).
//!
//! Long polls and the event stream are bounded by their own limits instead.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::error::{PlatformCode, PlatformError, SalesforceError};
use super::extract::{BodyError, Buffered, Caller};
use crate::state::AppState;

/// How a group of routes is admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Direct action routes: the caller is identified first; errors as a bare object.
    Actions,
    /// Admin routes that change things: the admin token, checked by their own layer
    /// before this one, says who may call; errors as a bare object.
    Control,
    /// The Salesforce-shaped routes: the caller is identified first; errors in the array
    /// envelope.
    Salesforce,
    /// Twilio's requests: the signature, checked by the route once the body is read, says
    /// who may call; errors as a bare object.
    Provider,
}

/// Admits `request` as its group's routes are (`Front`), then runs it through `next`; or
/// refuses it in the group's error shape.
pub async fn guard<Run>(
    state: &AppState,
    admission: Admission,
    request: Request,
    next: impl FnOnce(Request) -> Run,
) -> Response
where
    Run: Future<Output = Response>,
{
    match admit(state, request, next, admission).await {
        Ok(response) => response,
        Err(error) if admission == Admission::Salesforce => SalesforceError(error).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn admit<Run>(
    state: &AppState,
    mut request: Request,
    next: impl FnOnce(Request) -> Run,
    admission: Admission,
) -> Result<Response, PlatformError>
where
    Run: Future<Output = Response>,
{
    if matches!(admission, Admission::Actions | Admission::Salesforce) {
        let (parts, body) = request.into_parts();
        let caller = Caller::identify(state, &parts);
        request = Request::from_parts(parts, body);
        request.extensions_mut().insert(caller?);
    }
    let request = buffer_body(state, request).await;
    let Some(_permit) = state.try_start_request() else {
        return Err(PlatformError::new(
            PlatformCode::ServerBusy,
            "The emulator is handling as many requests as it may (--max-concurrent-requests); retry shortly.",
        ));
    };
    let limit = state.limits().request_timeout;
    tokio::time::timeout(limit, next(request))
        .await
        .map_err(|_| {
            tracing::warn!(?limit, "a request ran out of time");
            PlatformError::new(
                PlatformCode::RequestTimedOut,
                format!(
                    "The request took longer than {} s (--request-timeout-secs).",
                    limit.as_secs()
                ),
            )
        })
}

/// Reads the whole body within the time and size limits and hands it, or why it could not
/// be had, to the route's `Body` extractor, which answers in the route's own shape.
async fn buffer_body(state: &AppState, request: Request) -> Request {
    let limits = state.limits();
    let (mut parts, body) = request.into_parts();
    let read = read_body(&parts.headers, body, limits.max_body_bytes);
    let buffered = match tokio::time::timeout(limits.body_read_timeout, read).await {
        Ok(read) => read,
        Err(_) => Err(BodyError::TimedOut(limits.body_read_timeout)),
    };
    let body = match &buffered {
        Ok(bytes) => axum::body::Body::from(bytes.clone()),
        Err(_) => axum::body::Body::empty(),
    };
    parts.extensions.insert(Buffered(buffered));
    Request::from_parts(parts, body)
}

async fn read_body(
    headers: &HeaderMap,
    body: axum::body::Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut chunks = body.into_data_stream();
    // Most bodies come in one chunk: kept as it is, not copied.
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| BodyError::Unreadable(e.to_string()))?;
        let so_far = first.as_ref().map_or(0, Bytes::len) + joined.len();
        if so_far + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            None => joined.extend_from_slice(&chunk),
            Some(earlier) => {
                joined.reserve(earlier.len() + chunk.len());
                joined.extend_from_slice(&earlier);
                joined.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}
