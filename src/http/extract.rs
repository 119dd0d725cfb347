//! Extractors: the request body under the size limit, JSON parsed with errors that name the
//! field, and the caller's identity.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::PlatformError;
use crate::domain::SalesforceId;
use crate::org::Org;
use crate::state::AppState;

/// The raw request body, within the configured size limit.
pub struct Body(pub Bytes);

/// Why a body could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Unreadable(String),
    Malformed(String),
}

impl BodyError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::TooLarge => {
                "The request body is larger than the limit (see --max-body-bytes).".into()
            }
            Self::Unreadable(reason) => format!("The request body could not be read: {reason}"),
            Self::Malformed(reason) => {
                format!("The request body is not valid JSON for this call: {reason}")
            }
        }
    }
}

/// Where a route does not map body errors to its own shape: a platform error.
impl axum::response::IntoResponse for BodyError {
    fn into_response(self) -> axum::response::Response {
        PlatformError::new(self.status(), "JSON_PARSER_ERROR", self.message()).into_response()
    }
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = BodyError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(BodyError::TooLarge)
            }
            Err(rejection) => Err(BodyError::Unreadable(rejection.body_text())),
        }
    }
}

/// Parses JSON whatever the Content-Type says (curl's `-d` sends form encoding), naming
/// the field that did not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(describe_json_error)?;
    deserializer
        .end()
        .map_err(|e| BodyError::Malformed(e.to_string()))?;
    Ok(value)
}

fn describe_json_error(error: serde_path_to_error::Error<serde_json::Error>) -> BodyError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if path == "." {
        BodyError::Malformed(inner.to_string())
    } else {
        BodyError::Malformed(format!("{path}: {inner}"))
    }
}

/// Who is calling, read against the org current when the request arrived.
pub struct Caller {
    pub org: Arc<Org>,
    /// The running user, when the request names one (or the org has a default).
    pub invoker: Option<SalesforceId>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = PlatformError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let org = state.org();
        let invoker = identify(&parts.headers, &org)?;
        Ok(Self { org, invoker })
    }
}

pub const USER_HEADER: &str = "x-fastcall-user-id";
pub const API_KEY_HEADER: &str = "x-api-key";

/// With API keys in the org, the key's user; without, `X-Fastcall-User-Id` or the org's
/// default user.
fn identify(headers: &HeaderMap, org: &Org) -> Result<Option<SalesforceId>, PlatformError> {
    if org.has_api_keys() {
        let user = presented_key(headers).and_then(|key| org.user_for_api_key(key));
        return user
            .map(Some)
            .ok_or_else(|| PlatformError::unauthorized("Session expired or invalid"));
    }
    match headers.get(USER_HEADER) {
        None => Ok(org.settings().default_user_id),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| SalesforceId::parse(v.trim()).ok())
            .map(Some)
            .ok_or_else(|| {
                PlatformError::unauthorized("X-Fastcall-User-Id is not a valid Salesforce user Id")
            }),
    }
}

/// The key from `Authorization: Bearer <key>` or `X-API-Key: <key>`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    bearer_token(headers).or_else(|| headers.get(API_KEY_HEADER)?.to_str().ok().map(str::trim))
}

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("Bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Input {
        to_phone: Option<String>,
    }

    fn malformed(body: &str) -> String {
        match parse_json::<Input>(body.as_bytes()) {
            Err(BodyError::Malformed(reason)) => reason,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        assert!(malformed(r#"{"toPhone": 5}"#).starts_with("toPhone: invalid type: integer `5`"));
        assert!(
            malformed(r#"{"toPhone": "1", "colour": "red"}"#).contains("unknown field `colour`")
        );
        assert!(malformed("{").contains("EOF"));
        assert!(malformed(r#"{"toPhone": "1"} trailing"#).contains("trailing"));
        assert!(malformed("").contains("EOF"));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "bearer  k-1 ".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("k-1"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }
}
