//! Watching it run (SPEC 13): every routed request is counted and timed by its route
//! template, each action call is counted by org, action, outcome and error code and logged on
//! one line, and every answer carries its request id (`X-Request-Id`: the caller's, when it
//! sent a usable one). `GET /metrics` shows the counts.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};

use super::extract::InOrg;
use crate::actions::ActionName;
use crate::domain::{OrgName, unique};
use crate::metrics::{
    ActionLabels, ActionNameLabels, CONTENT_TYPE, PoolLabels, RequestLabels, RouteLabels,
};
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest request id taken from a caller.
const MAX_REQUEST_ID: usize = 64;

/// The error code an answer carries (an APIException's `100`..`105`, or a platform
/// `errorCode`), left in its extensions for the count and the log line.
#[derive(Debug, Clone, Copy)]
pub struct AnswerCode(pub &'static str);

/// What every group's routes do first (`Front`): counts, times and, for an action, logs the
/// request that `next` answers.
pub async fn observe<Run>(
    state: &AppState,
    request: Request,
    next: impl FnOnce(Request) -> Run,
) -> Response
where
    Run: Future<Output = Response>,
{
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = method_label(request.method());
    let id = request_id(&request);
    let action = (request.method() == Method::POST)
        .then(|| request.uri().path().rsplit('/').next())
        .flatten()
        .filter(|_| route.ends_with("/{action}"))
        .and_then(ActionName::parse);
    // Only an action call's org is labelled and logged.
    let org = action.map(|_| {
        request
            .extensions()
            .get::<InOrg>()
            .map_or_else(OrgName::default_org, |InOrg(name)| name.clone())
    });

    let mut response = next(request).await;

    let elapsed = started.elapsed();
    let status = response.status();
    let metrics = state.metrics();
    let labels = RequestLabels {
        method,
        route,
        status: status.as_u16(),
    };
    metrics.requests.get_or_create(&labels).inc();
    let route = RouteLabels {
        route: labels.route,
    };
    metrics
        .request_seconds
        .get_or_create(&route)
        .observe(elapsed.as_secs_f64());
    if let (Some(action), Some(org)) = (action, org) {
        let code = response.extensions().get::<AnswerCode>().map(|c| c.0);
        let outcome = match code {
            Some(code) if code.starts_with('1') => "exception",
            Some(_) => "error",
            None if status.is_success() => "ok",
            // A replayed answer's code is not kept.
            None => "error",
        };
        let labels = ActionLabels {
            org: org.to_string(),
            action: action.as_str(),
            outcome,
            code: code.unwrap_or(""),
        };
        metrics.actions.get_or_create(&labels).inc();
        let name = ActionNameLabels {
            action: action.as_str(),
        };
        metrics
            .action_seconds
            .get_or_create(&name)
            .observe(elapsed.as_secs_f64());
        tracing::info!(
            target: "fastcall_emulator::action",
            request_id = id.to_str().unwrap_or("-"),
            %org,
            action = action.as_str(),
            outcome,
            code = code.unwrap_or("-"),
            status = status.as_u16(),
            // Whole microseconds: a plain line writes them without `core::fmt`.
            duration_ms = elapsed.as_micros() as f64 / 1000.0,
            "action call"
        );
    }
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// The caller's request id when it is a short run of visible characters, else a new one: 32
/// hex digits (`domain::unique`).
fn request_id(request: &Request) -> HeaderValue {
    request
        .headers()
        .get(REQUEST_ID)
        .filter(|v| {
            let bytes = v.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= MAX_REQUEST_ID
                && bytes.iter().all(u8::is_ascii_graphic)
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_bytes(&unique::hex32()).expect("hex digits make a header value")
        })
}

/// The method as a label: the ones routes take, or `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// `GET /metrics`: everything counted, and the gauges as they are now.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let metrics = state.metrics();
    let gauges = state.storage().gauges();
    for (pool_state, count) in [
        ("in_use", gauges.connections_in_use),
        ("idle", gauges.connections_idle),
    ] {
        let labels = PoolLabels { state: pool_state };
        metrics
            .pool_connections
            .get_or_create(&labels)
            .set(i64::from(count));
    }
    metrics
        .event_subscribers
        .set(i64::try_from(gauges.subscribers).unwrap_or(i64::MAX));
    metrics
        .orgs
        .set(i64::try_from(state.orgs().len()).unwrap_or(i64::MAX));
    let content_type = [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))];
    (content_type, metrics.encode()).into_response()
}
