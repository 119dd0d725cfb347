//! The inspection and control API under `/_emulator`: org data, what the actions did, reset.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::PlatformError;
use super::extract::{Body, BodyError, bearer_token};
use super::query::{Accepts, QueryPairs, list_filter};
use super::views::{Items, MessageItem, TaskItem, VoipErrorItem};
use crate::domain::{SalesforceId, SmsStatus};
use crate::org::{InvalidOrg, Org, OrgDocument, OrgFormat, OrgProblem};
use crate::state::AppState;

/// With an admin token configured, every `/_emulator` route needs it as a bearer token.
pub async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = state.admin_token() {
        let presented = bearer_token(request.headers()).unwrap_or("");
        if !token.matches(presented) {
            return PlatformError::unauthorized(
                "This route needs Authorization: Bearer <FASTCALL_ADMIN_TOKEN>",
            )
            .into_response();
        }
    }
    next.run(request).await
}

const YAML: &str = "application/yaml";

fn wants_yaml(headers: &HeaderMap, header_name: header::HeaderName) -> bool {
    headers
        .get(header_name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("yaml"))
}

/// The org data: JSON, or YAML when the Accept header asks for it.
pub async fn get_org(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let org = state.org();
    if wants_yaml(&headers, header::ACCEPT) {
        match serde_norway::to_string(org.document()) {
            Ok(yaml) => (
                [(header::CONTENT_TYPE, HeaderValue::from_static(YAML))],
                yaml,
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "cannot write the org as YAML");
                PlatformError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "UNKNOWN_EXCEPTION",
                    "cannot write YAML",
                )
                .into_response()
            }
        }
    } else {
        Json(org.document()).into_response()
    }
}

/// A refused org: every problem, each naming its entry and field.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvalidOrgBody {
    error_code: &'static str,
    message: String,
    problems: Vec<ProblemBody>,
}

#[derive(Serialize)]
struct ProblemBody {
    path: String,
    message: String,
}

fn invalid_org(error: InvalidOrg) -> Response {
    let body = InvalidOrgBody {
        error_code: "INVALID_ORG",
        message: error.to_string(),
        problems: error
            .problems
            .into_iter()
            .map(|OrgProblem { path, message }| ProblemBody { path, message })
            .collect(),
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Replaces the org data with the body (JSON, or YAML by Content-Type), all or nothing.
pub async fn put_org(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Body, BodyError>,
) -> Response {
    let body = match body {
        Ok(Body(bytes)) => bytes,
        Err(error) => {
            return PlatformError::new(error.status(), "INVALID_ORG", error.message())
                .into_response();
        }
    };
    let format = if wants_yaml(&headers, header::CONTENT_TYPE) {
        OrgFormat::Yaml
    } else {
        OrgFormat::Json
    };
    let org = match OrgDocument::parse(&body, format).and_then(Org::new) {
        Ok(org) => org,
        Err(error) => return invalid_org(error),
    };
    match state.replace_org(org).await {
        Ok(org) => Json(org.document()).into_response(),
        Err(error) => PlatformError::from(error).into_response(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetDone {
    activity_cleared: bool,
    org_cleared: bool,
}

pub async fn reset(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<ResetDone>, PlatformError> {
    let mut clear_org = false;
    for (name, value) in &query.0 {
        match (name.as_str(), value.as_str()) {
            ("org", "true") => clear_org = true,
            ("org", "false") => clear_org = false,
            _ => {
                return Err(PlatformError::bad_request(
                    "INVALID_FILTER",
                    "reset takes only org=true or org=false",
                ));
            }
        }
    }
    state.reset(clear_org).await?;
    Ok(Json(ResetDone {
        activity_cleared: true,
        org_cleared: clear_org,
    }))
}

const SMS_STATUSES: [&str; 5] = {
    let all = SmsStatus::ALL;
    [
        all[0].as_str(),
        all[1].as_str(),
        all[2].as_str(),
        all[3].as_str(),
        all[4].as_str(),
    ]
};
const TASK_STATUSES: [&str; 2] = ["Completed", "Not Started"];

pub async fn list_messages(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<Items<MessageItem>>, PlatformError> {
    let accepts = Accepts {
        phones: true,
        statuses: Some(&SMS_STATUSES),
    };
    let filter = list_filter(&query, &state.org(), accepts)?;
    let items = state.storage().list_sms_messages(&filter).await?;
    Ok(Json(Items {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One message, by its record Id or the provider's `SM...` id.
pub async fn get_message(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<MessageItem>, PlatformError> {
    let Path(raw) = id.map_err(|_| PlatformError::not_found())?;
    let message = match SalesforceId::parse(&raw) {
        Ok(id) => state.storage().sms_message(id).await?,
        Err(_) if raw.starts_with("SM") => state.storage().sms_message_by_provider_id(&raw).await?,
        Err(_) => None,
    };
    message
        .map(|m| Json(m.into()))
        .ok_or_else(PlatformError::not_found)
}

pub async fn list_tasks(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<Items<TaskItem>>, PlatformError> {
    let accepts = Accepts {
        phones: false,
        statuses: Some(&TASK_STATUSES),
    };
    let filter = list_filter(&query, &state.org(), accepts)?;
    let items = state.storage().list_tasks(&filter).await?;
    Ok(Json(Items {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

pub async fn get_task(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<TaskItem>, PlatformError> {
    let id = parse_path_id(id)?;
    let task = state.storage().task(id).await?;
    task.map(|t| Json(t.into()))
        .ok_or_else(PlatformError::not_found)
}

pub async fn list_voip_errors(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<Items<VoipErrorItem>>, PlatformError> {
    let accepts = Accepts {
        phones: true,
        statuses: None,
    };
    let filter = list_filter(&query, &state.org(), accepts)?;
    let items = state.storage().list_voip_errors(&filter).await?;
    Ok(Json(Items {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

pub async fn get_voip_error(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<VoipErrorItem>, PlatformError> {
    let id = parse_path_id(id)?;
    let entry = state.storage().voip_error(id).await?;
    entry
        .map(|e| Json(e.into()))
        .ok_or_else(PlatformError::not_found)
}

/// A malformed Id names nothing the emulator has: 404, as for an unknown one.
fn parse_path_id(id: Result<Path<String>, PathRejection>) -> Result<SalesforceId, PlatformError> {
    id.ok()
        .and_then(|Path(raw)| SalesforceId::parse(&raw).ok())
        .ok_or_else(PlatformError::not_found)
}
