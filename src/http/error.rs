//! Error responses. Direct action calls answer an APIException object; everything else
//! answers Salesforce's platform error, `{"errorCode": "...", "message": "..."}`, as a bare
//! object, or in an array on the Salesforce-shaped `/services` routes.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::answer::Answer;
use crate::actions::{ActionError, ApiException, ErrorCode};
use crate::storage::StorageError;

pub const EXCEPTION_TYPE: &str = "FastCall.SubscriberAPI.APIException";

/// What Salesforce answers to every refused session, whatever was wrong with it.
pub const SESSION_INVALID: &str = "Session expired or invalid";

/// The HTTP status of a direct call that failed with `code`.
pub fn exception_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Provider => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `{"exceptionType": "FastCall.SubscriberAPI.APIException", "errorCode": 103, "message": "..."}`
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExceptionBody<'a> {
    exception_type: &'static str,
    error_code: u16,
    message: &'a str,
}

/// An APIException answered to a direct call, with the status its code calls for
/// (or an explicit one, such as 413 for an oversized body).
#[derive(Debug)]
pub struct ExceptionResponse {
    pub status: StatusCode,
    pub exception: ApiException,
}

impl From<ApiException> for ExceptionResponse {
    fn from(exception: ApiException) -> Self {
        Self {
            status: exception_status(exception.code),
            exception,
        }
    }
}

impl ExceptionResponse {
    pub fn answer(&self) -> Answer {
        let body = ExceptionBody {
            exception_type: EXCEPTION_TYPE,
            error_code: self.exception.code.code(),
            message: &self.exception.message,
        };
        Answer::json(self.status, &body)
    }
}

impl IntoResponse for ExceptionResponse {
    fn into_response(self) -> Response {
        self.answer().into_response()
    }
}

/// A failure outside the APIException contract: unknown route, bad session, bad filter,
/// or the emulator's own trouble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Cow<'static, str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlatformBody<'a> {
    error_code: &'a str,
    message: &'a str,
}

impl PlatformError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID", message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "HTTP method not allowed for this resource",
        )
    }

    fn body(&self) -> PlatformBody<'_> {
        PlatformBody {
            error_code: self.code,
            message: &self.message,
        }
    }
}

/// The database's trouble is the caller's only as "try again"; details go to the log.
impl From<StorageError> for PlatformError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Unavailable(_) => {
                tracing::warn!(%error, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "The database is unavailable; try again shortly.",
                )
            }
            StorageError::CannotWrite(_) => {
                tracing::warn!(%error, "the database cannot write");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "The database cannot store this now (its disk may be full); nothing was kept. Try again shortly.",
                )
            }
            StorageError::Stopped => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "The emulator is shutting down; try again shortly.",
            ),
            other => {
                tracing::error!(error = %other, "storage failure");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "UNKNOWN_EXCEPTION",
                    "The emulator failed; its log has the details.",
                )
            }
        }
    }
}

impl IntoResponse for PlatformError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// A platform error in the array envelope of Salesforce's REST API.
#[derive(Debug)]
pub struct SalesforceError(pub PlatformError);

impl<E: Into<PlatformError>> From<E> for SalesforceError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for SalesforceError {
    fn into_response(self) -> Response {
        let mut error = self.0;
        // Salesforce tells a refused caller only that its session is invalid, whatever the
        // reason; the reason goes to the log.
        if error.status == StatusCode::UNAUTHORIZED && error.message != SESSION_INVALID {
            tracing::info!(reason = %error.message, "refused an invalid session");
            error.message = SESSION_INVALID.into();
        }
        (error.status, Json([error.body()])).into_response()
    }
}

/// A direct action call's failure.
impl IntoResponse for ActionError {
    fn into_response(self) -> Response {
        match self {
            ActionError::Api(exception) => ExceptionResponse::from(exception).into_response(),
            ActionError::Storage(error) => PlatformError::from(error).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(response: Response) -> (StatusCode, serde_json::Value) {
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a body");
        (status, serde_json::from_slice(&body).expect("JSON"))
    }

    #[tokio::test]
    async fn every_401_in_the_salesforce_envelope_says_session_expired_or_invalid() {
        let refused =
            PlatformError::unauthorized("X-Fastcall-User-Id is not a valid Salesforce user Id");
        let expected = serde_json::json!([
            { "errorCode": "INVALID_SESSION_ID", "message": SESSION_INVALID }
        ]);
        let answered = answer(SalesforceError(refused.clone()).into_response()).await;
        assert_eq!(answered, (StatusCode::UNAUTHORIZED, expected));
        // A bare platform error (direct and admin routes) keeps its reason.
        let (_, bare) = answer(refused.into_response()).await;
        assert_eq!(
            bare["message"],
            "X-Fastcall-User-Id is not a valid Salesforce user Id"
        );
    }

    #[tokio::test]
    async fn other_salesforce_errors_keep_their_message() {
        let (status, body) =
            answer(SalesforceError(PlatformError::not_found()).into_response()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body[0]["message"], "The requested resource does not exist");
    }
}
