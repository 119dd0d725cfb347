//! Steering lifecycles by hand: `POST /_emulator/messages/{id}/status` and
//! `POST /_emulator/calls/{id}/status` move a record as its provider would report it.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::domain::lifecycle::ProviderError;
use crate::domain::{CallStatus, SalesforceId, SmsStatus};
use crate::http::error::{PlatformCode, PlatformError};
use crate::http::extract::{Body, BodyError, parse_json};
use crate::state::AppState;
use crate::storage::Moved;
use crate::views::{CallItem, MessageItem};

/// `{"status": "Undelivered", "errorCode": 30005, "errorMessage": "Unknown destination handset"}`
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MoveRequest {
    status: String,
    error_code: Option<i32>,
    error_message: Option<String>,
}

impl MoveRequest {
    fn parse(body: Result<Body, BodyError>) -> Result<Self, PlatformError> {
        let Body(bytes) = body.map_err(PlatformError::from)?;
        parse_json(&bytes).map_err(PlatformError::from)
    }

    /// The provider's error; a failure status without one gets its usual code.
    fn error(&self) -> Result<Option<ProviderError>, PlatformError> {
        match (self.error_code, &self.error_message) {
            (Some(code), message) => Ok(Some(ProviderError {
                code,
                message: message
                    .clone()
                    .unwrap_or_else(|| format!("Provider error {code}")),
            })),
            (None, Some(_)) => Err(PlatformError::new(
                PlatformCode::InvalidField,
                "errorMessage needs the errorCode it explains",
            )),
            (None, None) => Ok(None),
        }
    }
}

fn unknown_status(status: &str, names: &[&str]) -> PlatformError {
    PlatformError::new(
        PlatformCode::InvalidField,
        format!("status `{status}` is not one of {}", names.join(", ")),
    )
}

fn refused(object: &str, current: &str, to: &str) -> PlatformError {
    let message = format!(
        "The {object} is {current} and cannot become {to}: providers report moves forward only, \
         and none out of a final status"
    );
    PlatformError::new(PlatformCode::InvalidTransition, message)
}

pub async fn move_message(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Body, BodyError>,
) -> Result<Response, PlatformError> {
    let request = MoveRequest::parse(body)?;
    let to = SmsStatus::parse(&request.status)
        .ok_or_else(|| unknown_status(&request.status, SmsStatus::NAMES))?;
    let error = request.error()?;
    let id = match id.map_err(|_| PlatformError::not_found())? {
        Path(raw) if raw.starts_with("SM") => state
            .storage()
            .sms_message_by_provider_id(&raw)
            .await?
            .map(|m| m.id),
        Path(raw) => SalesforceId::parse(&raw).ok(),
    }
    .ok_or_else(PlatformError::not_found)?;
    match state.storage().move_sms(id, to, error).await? {
        Moved::Done(message) => {
            state.lifecycle().steps_scheduled();
            Ok(Json(MessageItem::from(&message)).into_response())
        }
        Moved::NotFound => Err(PlatformError::not_found()),
        Moved::Refused { current } => Err(refused("message", current.as_str(), to.as_str())),
    }
}

pub async fn move_call(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Body, BodyError>,
) -> Result<Response, PlatformError> {
    let request = MoveRequest::parse(body)?;
    let to = CallStatus::parse(&request.status)
        .ok_or_else(|| unknown_status(&request.status, CallStatus::NAMES))?;
    let error = request.error()?;
    let id = match id.map_err(|_| PlatformError::not_found())? {
        Path(raw) if raw.starts_with("CA") => state
            .storage()
            .call_by_provider_id(&raw)
            .await?
            .map(|c| c.id),
        Path(raw) => SalesforceId::parse(&raw).ok(),
    }
    .ok_or_else(PlatformError::not_found)?;
    match state.storage().move_call(id, to, error).await? {
        Moved::Done(call) => {
            state.lifecycle().steps_scheduled();
            Ok(Json(CallItem::from(&call)).into_response())
        }
        Moved::NotFound => Err(PlatformError::not_found()),
        Moved::Refused { current } => Err(refused("call", current.as_str(), to.as_str())),
    }
}
