//! The HTTP surface: routes, extractors, error responses.

mod actions;
mod emulator;
pub mod error;
pub mod extract;
mod query;
mod salesforce;
mod sobjects;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde_json::json;

use crate::state::AppState;
use emulator::{lists, moves};
use error::{PlatformError, SalesforceError};

/// Every route the emulator serves.
pub fn router(state: AppState) -> Router {
    let services = Router::new()
        .route("/data/{version}/actions/custom/apex", get(salesforce::list))
        .route(
            "/data/{version}/actions/custom/apex/{action}",
            get(salesforce::describe).post(salesforce::invoke),
        )
        .route(
            "/data/{version}/sobjects/{object}/{id}",
            get(salesforce::sobject),
        )
        .fallback(salesforce_not_found)
        .method_not_allowed_fallback(salesforce_method_not_allowed);

    let emulator = Router::new()
        .route(
            "/_emulator/org",
            get(emulator::get_org).put(emulator::put_org),
        )
        .route("/_emulator/messages", get(lists::messages))
        .route("/_emulator/messages/{id}", get(lists::message))
        .route("/_emulator/messages/{id}/status", post(moves::move_message))
        .route("/_emulator/calls", get(lists::calls))
        .route("/_emulator/calls/{id}", get(lists::call))
        .route("/_emulator/calls/{id}/status", post(moves::move_call))
        .route("/_emulator/tasks", get(lists::tasks))
        .route("/_emulator/tasks/{id}", get(lists::task))
        .route("/_emulator/voip-errors", get(lists::voip_errors))
        .route("/_emulator/voip-errors/{id}", get(lists::voip_error))
        .route("/_emulator/status-log", get(lists::status_log))
        .route("/_emulator/status-log/{id}", get(lists::status_log_entry))
        .route("/_emulator/users/{id}", get(lists::user))
        .route("/_emulator/events", get(emulator::events::stream))
        .route("/_emulator/reset", post(emulator::reset))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            emulator::require_admin,
        ));

    Router::new()
        .route("/actions/{action}", post(actions::invoke))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .merge(emulator)
        .nest("/services", services)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.limits().max_body_bytes))
        .with_state(state)
}

async fn livez() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.storage().ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "database unreachable" })),
            )
        }
    }
}

async fn not_found() -> PlatformError {
    PlatformError::not_found()
}

async fn method_not_allowed() -> PlatformError {
    PlatformError::method_not_allowed()
}

async fn salesforce_not_found() -> SalesforceError {
    PlatformError::not_found().into()
}

async fn salesforce_method_not_allowed() -> SalesforceError {
    PlatformError::method_not_allowed().into()
}
