//! Bounds on action and control requests: how many run at once (more get 503 at once, rather
//! than queueing without end) and how long each may take (then 503). Long polls and the event
//! stream are bounded by their own limits instead.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{PlatformError, SalesforceError};
use crate::state::AppState;

/// For the direct and admin routes: errors as a bare object.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match bounded(&state, request, next).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// For the Salesforce-shaped routes: errors in the array envelope.
pub async fn guard_salesforce(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match bounded(&state, request, next).await {
        Ok(response) => response,
        Err(error) => SalesforceError(error).into_response(),
    }
}

async fn bounded(
    state: &AppState,
    request: Request,
    next: Next,
) -> Result<Response, PlatformError> {
    let Some(_permit) = state.try_start_request() else {
        return Err(PlatformError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_BUSY",
            "The emulator is handling as many requests as it may (--max-concurrent-requests); retry shortly.",
        ));
    };
    let limit = state.limits().request_timeout;
    tokio::time::timeout(limit, next.run(request))
        .await
        .map_err(|_| {
            tracing::warn!(?limit, "a request ran out of time");
            PlatformError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "REQUEST_TIMEOUT",
                format!(
                    "The request took longer than {} s (--request-timeout-secs).",
                    limit.as_secs()
                ),
            )
        })
}
