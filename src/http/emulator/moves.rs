//! Steering lifecycles by hand: `POST /_emulator/messages/{id}/status` and
//! `POST /_emulator/calls/{id}/status` move a record as its provider would report it.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::PathId;
use super::kinds::{Provided, provided_id};
use crate::domain::ProviderError;
use crate::http::error::{PlatformCode, PlatformError};
use crate::http::extract::{Body, BodyError, Scoped, parse_json};
use crate::state::AppState;
use crate::storage::Moved;

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

    /// The status to move to, and the provider's error.
    fn target<R: Provided>(self) -> Result<(R::Status, Option<ProviderError>), PlatformError> {
        let to = R::parse_status(&self.status).ok_or_else(|| {
            PlatformError::new(
                PlatformCode::InvalidField,
                format!(
                    "status `{}` is not one of {}",
                    self.status,
                    R::STATUSES.join(", ")
                ),
            )
        })?;
        Ok((to, self.error()?))
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

/// `POST /_emulator/messages/{id}/status` and `/_emulator/calls/{id}/status`, by the record
/// Id or the provider's id.
pub async fn move_to<R: Provided>(
    State(state): State<AppState>,
    Scoped { name: org, .. }: Scoped,
    id: PathId,
    body: Result<Body, BodyError>,
) -> Result<Response, PlatformError> {
    let (to, error) = MoveRequest::parse(body)?.target::<R>()?;
    let id = provided_id::<R>(state.storage(), &org, &id)
        .await?
        .ok_or_else(PlatformError::not_found)?;
    match R::move_to(state.storage(), &org, id, to, error).await? {
        Moved::Done(record) => {
            state.lifecycle().steps_scheduled();
            Ok(Json(R::View::from(&record)).into_response())
        }
        Moved::NotFound => Err(PlatformError::not_found()),
        Moved::NotAllowed { current } => {
            let message = format!(
                "The {} is {current} and cannot become {to}: providers report moves forward \
                 only, and none out of a final status",
                R::NOUN
            );
            Err(PlatformError::new(PlatformCode::InvalidTransition, message))
        }
    }
}
