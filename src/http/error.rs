//! Error responses, each with the HTTP status that what went wrong calls for: the status is
//! chosen here, from the error, never at the call site. Direct action calls answer an
//! APIException object; everything else answers Salesforce's platform error,
//! `{"errorCode": "...", "message": "..."}`, as a bare object, or in an array on the
//! Salesforce-shaped `/services` routes.

use std::borrow::Cow;

use axum::Json;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::answer::Answer;
use super::observe::AnswerCode;
use crate::actions::{ActionError, ApiException, ErrorCode};
use crate::org::{InvalidOrg, OrgProblem};
use crate::storage::StorageError;

pub const EXCEPTION_TYPE: &str = "FastCall.SubscriberAPI.APIException";

/// What Salesforce answers to every refused session, whatever was wrong with it.
pub const SESSION_INVALID: &str = "Session expired or invalid";

/// What was wrong with a request body, as far as the answer's status tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyProblem {
    /// Larger than `--max-body-bytes`.
    TooLarge,
    /// Not sent whole within `--body-read-timeout-secs`.
    TimedOut,
    /// Unreadable, or not what the route takes.
    Malformed,
}

impl BodyProblem {
    fn status(self) -> StatusCode {
        match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TimedOut => StatusCode::REQUEST_TIMEOUT,
            Self::Malformed => StatusCode::BAD_REQUEST,
        }
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

/// An APIException answered to a direct call.
#[derive(Debug)]
pub struct ExceptionResponse {
    exception: ApiException,
    /// Set when the request body itself could not be used (104): its problem sets the status.
    body: Option<BodyProblem>,
}

impl From<ApiException> for ExceptionResponse {
    fn from(exception: ApiException) -> Self {
        Self {
            exception,
            body: None,
        }
    }
}

impl ExceptionResponse {
    /// The body could not be had or parsed: 104, with the status of its problem.
    pub fn about_body(problem: BodyProblem, message: String) -> Self {
        Self {
            exception: ApiException::invalid(message),
            body: Some(problem),
        }
    }

    /// 502 for the provider's failure (100), 400 for the rest, which the caller can fix;
    /// a body that could not be used has its own (413, 408).
    pub fn status(&self) -> StatusCode {
        match (self.body, self.exception.code) {
            (Some(problem), _) => problem.status(),
            (None, ErrorCode::Provider) => StatusCode::BAD_GATEWAY,
            (None, _) => StatusCode::BAD_REQUEST,
        }
    }

    pub fn answer(&self) -> Answer {
        let body = ExceptionBody {
            exception_type: EXCEPTION_TYPE,
            error_code: self.exception.code.code(),
            message: &self.exception.message,
        };
        Answer::json(self.status(), &body).failing(self.exception.code.as_str())
    }
}

impl IntoResponse for ExceptionResponse {
    fn into_response(self) -> Response {
        self.answer().into_response()
    }
}

/// The failures outside the APIException contract, each with its HTTP status and its
/// `errorCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformCode {
    NotFound,
    MethodNotAllowed,
    /// A missing or wrong API key, or a malformed `X-Fastcall-User-Id`.
    InvalidSession,
    /// API keys on an emulator that listens beyond loopback without an admin token.
    AdminTokenRequired,
    /// A request to a Twilio route without Twilio's valid signature.
    InvalidSignature,
    /// A request body that could not be had or parsed.
    Body(BodyProblem),
    /// An org document that could not be had, parsed or validated.
    InvalidOrg(BodyProblem),
    /// A Salesforce-shaped call with no inputs, or too many.
    InvalidInput,
    /// An `/orgs/{name}` whose name is not an org name.
    InvalidOrgName,
    /// The org `default` cannot be deleted.
    DefaultOrg,
    /// A list filter, stream parameter or reset option that is not understood.
    InvalidFilter,
    /// A field of a move or an inbound message that does not fit.
    InvalidField,
    /// A move that no provider reports from the record's current status.
    InvalidTransition,
    InvalidIdempotencyKey,
    /// The key's first request is still running.
    IdempotencyKeyInUse,
    /// The key was first used for another request.
    IdempotencyKeyReused,
    /// Every slot among `--max-concurrent-requests` is taken.
    ServerBusy,
    /// The request outlasted `--request-timeout-secs`.
    RequestTimedOut,
    /// The database is unavailable or cannot write, or the emulator is stopping.
    Unavailable,
    /// The emulator's own failure.
    Internal,
}

impl PlatformCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::InvalidSession => StatusCode::UNAUTHORIZED,
            Self::AdminTokenRequired | Self::InvalidSignature => StatusCode::FORBIDDEN,
            Self::Body(problem) | Self::InvalidOrg(problem) => problem.status(),
            Self::InvalidInput
            | Self::InvalidOrgName
            | Self::DefaultOrg
            | Self::InvalidFilter
            | Self::InvalidField
            | Self::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
            Self::InvalidTransition | Self::IdempotencyKeyInUse => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::ServerBusy | Self::RequestTimedOut | Self::Unavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `errorCode` of the answer.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::InvalidSession => "INVALID_SESSION_ID",
            Self::AdminTokenRequired => "ADMIN_TOKEN_REQUIRED",
            Self::InvalidSignature => "INVALID_SIGNATURE",
            Self::Body(BodyProblem::TooLarge) => "REQUEST_TOO_LARGE",
            Self::Body(BodyProblem::TimedOut) | Self::RequestTimedOut => "REQUEST_TIMEOUT",
            Self::Body(BodyProblem::Malformed) => "JSON_PARSER_ERROR",
            Self::InvalidOrg(_) => "INVALID_ORG",
            Self::InvalidInput => "INVALID_INPUT",
            Self::InvalidOrgName => "INVALID_ORG_NAME",
            Self::DefaultOrg => "DEFAULT_ORG",
            Self::InvalidFilter => "INVALID_FILTER",
            Self::InvalidField => "INVALID_FIELD",
            Self::InvalidTransition => "INVALID_TRANSITION",
            Self::InvalidIdempotencyKey => "INVALID_IDEMPOTENCY_KEY",
            Self::IdempotencyKeyInUse => "IDEMPOTENCY_KEY_IN_USE",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::ServerBusy => "SERVER_BUSY",
            Self::Unavailable => "SERVICE_UNAVAILABLE",
            Self::Internal => "UNKNOWN_EXCEPTION",
        }
    }
}

/// A failure outside the APIException contract: unknown route, bad session, bad filter,
/// or the emulator's own trouble.
#[derive(Debug)]
pub struct PlatformError {
    pub code: PlatformCode,
    pub message: Cow<'static, str>,
    /// The database's failure behind a 5xx: logged as it is answered, never shown.
    cause: Option<StorageError>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlatformBody<'a> {
    error_code: &'a str,
    message: &'a str,
}

impl PlatformError {
    pub fn new(code: PlatformCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            cause: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            PlatformCode::NotFound,
            "The requested resource does not exist",
        )
    }

    /// `method` on a path that has only `allowed` (`GET,HEAD,POST`), in Salesforce's words.
    pub fn method_not_allowed(method: &Method, allowed: &str) -> Self {
        Self::new(
            PlatformCode::MethodNotAllowed,
            format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
        )
    }

    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(PlatformCode::InvalidSession, message)
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    fn body(&self) -> PlatformBody<'_> {
        PlatformBody {
            error_code: self.code.as_str(),
            message: &self.message,
        }
    }

    /// Logs the database's failure behind the answer, once: the caller sees only the
    /// message.
    fn log_cause(&self) {
        match &self.cause {
            Some(error @ StorageError::Unavailable(_)) => {
                tracing::warn!(%error, "database unavailable");
            }
            Some(error @ StorageError::CannotWrite(_)) => {
                tracing::warn!(%error, "the database cannot write");
            }
            Some(StorageError::Stopped) | None => {}
            Some(error) => tracing::error!(%error, "storage failure"),
        }
    }
}

/// The database's trouble is the caller's only as "try again"; details go to the log when
/// the error is answered.
impl From<StorageError> for PlatformError {
    fn from(error: StorageError) -> Self {
        let (code, message) = match &error {
            StorageError::Unavailable(_) => (
                PlatformCode::Unavailable,
                "The database is unavailable; try again shortly.",
            ),
            StorageError::CannotWrite(_) => (
                PlatformCode::Unavailable,
                "The database cannot store this now (its disk may be full); nothing was kept. Try again shortly.",
            ),
            StorageError::Stopped => (
                PlatformCode::Unavailable,
                "The emulator is shutting down; try again shortly.",
            ),
            _ => (
                PlatformCode::Internal,
                "The emulator failed; its log has the details.",
            ),
        };
        Self {
            cause: Some(error),
            ..Self::new(code, message)
        }
    }
}

impl IntoResponse for PlatformError {
    fn into_response(self) -> Response {
        self.log_cause();
        let mut response = (self.status(), Json(self.body())).into_response();
        response
            .extensions_mut()
            .insert(AnswerCode(self.code.as_str()));
        response
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
        error.log_cause();
        // Salesforce tells a refused caller only that its session is invalid, whatever the
        // reason; the reason goes to the log.
        if error.code == PlatformCode::InvalidSession && error.message != SESSION_INVALID {
            tracing::info!(reason = %error.message, "refused an invalid session");
            error.message = SESSION_INVALID.into();
        }
        let mut response = (error.status(), Json([error.body()])).into_response();
        response
            .extensions_mut()
            .insert(AnswerCode(error.code.as_str()));
        response
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

/// An org document that does not parse or validate: `INVALID_ORG`, with every problem.
impl IntoResponse for InvalidOrg {
    fn into_response(self) -> Response {
        let code = PlatformCode::InvalidOrg(BodyProblem::Malformed);
        let body = InvalidOrgBody {
            error_code: code.as_str(),
            message: self.to_string(),
            problems: self
                .problems
                .into_iter()
                .map(|OrgProblem { path, message }| ProblemBody { path, message })
                .collect(),
        };
        (code.status(), Json(body)).into_response()
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
            || PlatformError::unauthorized("X-Fastcall-User-Id is not a valid Salesforce user Id");
        let expected = serde_json::json!([
            { "errorCode": "INVALID_SESSION_ID", "message": SESSION_INVALID }
        ]);
        let answered = answer(SalesforceError(refused()).into_response()).await;
        assert_eq!(answered, (StatusCode::UNAUTHORIZED, expected));
        // A bare platform error (direct and admin routes) keeps its reason.
        let (_, bare) = answer(refused().into_response()).await;
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

    #[test]
    fn a_body_problem_sets_the_status_of_both_shapes() {
        let cases = [
            (
                BodyProblem::TooLarge,
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUEST_TOO_LARGE",
            ),
            (
                BodyProblem::TimedOut,
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
            ),
            (
                BodyProblem::Malformed,
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
            ),
        ];
        for (problem, status, code) in cases {
            let exception = ExceptionResponse::about_body(problem, "why".into());
            assert_eq!(exception.status(), status, "{problem:?}");
            assert_eq!(PlatformCode::Body(problem).status(), status, "{problem:?}");
            assert_eq!(PlatformCode::Body(problem).as_str(), code, "{problem:?}");
            assert_eq!(
                PlatformCode::InvalidOrg(problem).status(),
                status,
                "{problem:?}"
            );
        }
    }

    #[test]
    fn an_exception_status_follows_its_code() {
        let status = |code| ExceptionResponse::from(ApiException::new(code, "why")).status();
        assert_eq!(status(ErrorCode::Provider), StatusCode::BAD_GATEWAY);
        for code in [
            ErrorCode::BodyMissing,
            ErrorCode::CallerId,
            ErrorCode::Invalid,
            ErrorCode::Capability,
        ] {
            assert_eq!(status(code), StatusCode::BAD_REQUEST, "{code:?}");
        }
    }
}
