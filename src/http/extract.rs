//! Extractors: the request body under the size limit, JSON parsed with errors that name the
//! field, and the caller's identity.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::{BodyProblem, ExceptionResponse, PlatformCode, PlatformError, SESSION_INVALID};
use crate::domain::{OrgName, SalesforceId};
use crate::org::Org;
use crate::state::AppState;

/// The raw request body, within the configured size limit.
pub struct Body(pub Bytes);

/// Why a body could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    /// The client did not send the whole body within `--body-read-timeout-secs`.
    TimedOut(Duration),
    Unreadable(String),
    Malformed(String),
}

impl BodyError {
    pub fn problem(&self) -> BodyProblem {
        match self {
            Self::TooLarge => BodyProblem::TooLarge,
            Self::TimedOut(_) => BodyProblem::TimedOut,
            Self::Unreadable(_) | Self::Malformed(_) => BodyProblem::Malformed,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::TooLarge => {
                "The request body is larger than the limit (see --max-body-bytes).".into()
            }
            Self::TimedOut(limit) => format!(
                "The request body did not arrive within {} s (--body-read-timeout-secs).",
                limit.as_secs_f64()
            ),
            Self::Unreadable(reason) => format!("The request body could not be read: {reason}"),
            Self::Malformed(reason) => {
                format!("The request body is not valid JSON for this call: {reason}")
            }
        }
    }
}

/// In the platform's error shape: `REQUEST_TOO_LARGE`, `REQUEST_TIMEOUT` or
/// `JSON_PARSER_ERROR`.
impl From<BodyError> for PlatformError {
    fn from(error: BodyError) -> Self {
        PlatformError::new(PlatformCode::Body(error.problem()), error.message())
    }
}

/// As the APIException a direct caller expects: 104.
impl From<BodyError> for ExceptionResponse {
    fn from(error: BodyError) -> Self {
        ExceptionResponse::about_body(error.problem(), error.message())
    }
}

/// Where a route does not map body errors to its own shape: a platform error.
impl axum::response::IntoResponse for BodyError {
    fn into_response(self) -> axum::response::Response {
        PlatformError::from(self).into_response()
    }
}

/// The body as the admission guard read it (`guard.rs`), for the route to answer in its
/// own shape when it could not be had.
#[derive(Clone)]
pub struct Buffered(pub Result<Bytes, BodyError>);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = BodyError;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(Buffered(buffered)) = req.extensions_mut().remove::<Buffered>() {
            return buffered.map(Self);
        }
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
    if has_nul_escape(bytes) {
        return Err(nul_error(bytes));
    }
    // Parsed once plainly; only a body that does not fit is parsed again, tracking the path
    // of what is read, to name the field.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(describe_json_error)?;
    deserializer
        .end()
        .map_err(|e| BodyError::Malformed(e.to_string()))?;
    Ok(value)
}

/// Parses an action's inputs: a JSON object (serde would also take an array of the
/// fields in order, which no caller means).
pub fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    let found = match bytes.trim_ascii_start().first() {
        Some(b'{') => return parse_json(bytes),
        None => "an empty body",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(_) => "text that is not JSON",
    };
    Err(BodyError::Malformed(format!(
        "invalid type: {found}, expected a JSON object of inputs"
    )))
}

/// Names the field holding the NUL character; only called when there is one.
fn nul_error(bytes: &[u8]) -> BodyError {
    fn find(value: &serde_json::Value, path: &mut String) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = find(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            serde_json::Value::Object(fields) => fields.iter().any(|(name, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                let found = name.contains('\0') || find(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        find(&value, &mut path);
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    };
    BodyError::Malformed(format!(
        "{prefix}text may not hold the NUL character (\\u0000)"
    ))
}

/// Whether a JSON text escapes a NUL character (`\u0000`) in a string. Such text cannot be
/// stored (PostgreSQL's text type refuses it), so it is refused up front, the same on
/// every backend.
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'\\') {
        let escape = i + offset;
        if bytes[escape + 1..].starts_with(b"u0000") {
            return true;
        }
        // Skip the escaped character: in `\\\\u0000` the backslash is escaped, `u0000` is text.
        i = escape + 2;
        if i >= bytes.len() {
            return false;
        }
    }
    false
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

/// The org a request addresses: the one its `/orgs/{name}` prefix names (`scope.rs` puts
/// it in the request's extensions), else `default`.
#[derive(Clone, Debug)]
pub struct InOrg(pub OrgName);

impl InOrg {
    /// The org the request's prefix named, if it had one.
    fn addressed(parts: &Parts) -> Option<&OrgName> {
        parts.extensions.get::<InOrg>().map(|InOrg(name)| name)
    }

    /// The org the request addresses.
    fn of(parts: &Parts) -> OrgName {
        Self::addressed(parts)
            .cloned()
            .unwrap_or_else(OrgName::default_org)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for InOrg {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(InOrg(Self::of(parts)))
    }
}

/// The path a request's route sits under: `/orgs/{name}` when its prefix named an org, else
/// empty. The URLs the emulator writes into its answers start with it, so that a client
/// that follows them stays in the org it called.
pub struct BasePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BasePath {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let base = InOrg::addressed(parts).map(|name| format!("/orgs/{name}"));
        Ok(Self(base.unwrap_or_default()))
    }
}

/// The org a request addresses, and its data: 404 when no org of that name is served.
pub struct Scoped {
    pub name: OrgName,
    pub org: Arc<Org>,
}

impl FromRequestParts<AppState> for Scoped {
    type Rejection = PlatformError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let name = InOrg::of(parts);
        let org = state.org(&name).ok_or_else(|| no_such_org(&name))?;
        Ok(Self { name, org })
    }
}

/// 404 for an org that is not served.
pub fn no_such_org(name: &OrgName) -> PlatformError {
    PlatformError::new(
        PlatformCode::NotFound,
        format!("There is no org named {name} on this server"),
    )
}

/// Who is calling, read against the org current when the request arrived.
#[derive(Clone)]
pub struct Caller {
    /// The org the request acts in.
    pub org_name: OrgName,
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
        // The admission guard identified the caller before reading the body.
        match parts.extensions.remove::<Caller>() {
            Some(caller) => Ok(caller),
            None => Self::identify(state, parts),
        }
    }
}

impl Caller {
    /// The caller the request names, in the org it acts in: the org of its API key, which
    /// must be the org its prefix names if it names one (else 401); without a key, the
    /// org its prefix names, else `default`.
    pub fn identify(state: &AppState, parts: &Parts) -> Result<Self, PlatformError> {
        let orgs = state.orgs();
        let addressed = InOrg::addressed(parts);
        let holder = presented_key(&parts.headers).and_then(|key| orgs.holder_of_key(key));
        let org_name = match (addressed, holder) {
            (Some(addressed), Some(holder)) if addressed != holder => {
                return Err(PlatformError::unauthorized(
                    "This API key belongs to another org than the one this route serves",
                ));
            }
            (_, Some(holder)) => holder.clone(),
            (Some(addressed), None) => addressed.clone(),
            (None, None) => OrgName::default_org(),
        };
        let org = orgs
            .get(&org_name)
            .cloned()
            .ok_or_else(|| no_such_org(&org_name))?;
        let invoker = identify(&parts.headers, &org)?;
        Ok(Self {
            org_name,
            org,
            invoker,
        })
    }
}

pub const USER_HEADER: &str = "x-fastcall-user-id";
pub const API_KEY_HEADER: &str = "x-api-key";

/// With API keys in the org, the key's user; without, `X-Fastcall-User-Id` or the org's
/// default user. A refusal names its reason; the Salesforce-shaped routes answer only
/// [`SESSION_INVALID`] (see `SalesforceError`), as Salesforce does.
fn identify(headers: &HeaderMap, org: &Org) -> Result<Option<SalesforceId>, PlatformError> {
    if org.has_api_keys() {
        let user = presented_key(headers).and_then(|key| org.user_for_api_key(key));
        return user
            .map(Some)
            .ok_or_else(|| PlatformError::unauthorized(SESSION_INVALID));
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

/// The key from `Authorization: Bearer <key>` or `X-API-Key: <key>`, exactly as sent: a
/// key padded with spaces is not the key.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    bearer_token(headers).or_else(|| headers.get(API_KEY_HEADER)?.to_str().ok())
}

/// The token of `Authorization: Bearer <token>` (RFC 6750: the scheme in any case, then
/// spaces, then the token, which holds none).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_start_matches(' ');
    let whole = !token.is_empty() && !token.contains(char::is_whitespace);
    (scheme.eq_ignore_ascii_case("Bearer") && whole).then_some(token)
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

    fn malformed_object(body: &[u8]) -> String {
        match parse_object::<Input>(body) {
            Err(BodyError::Malformed(reason)) => reason,
            other => panic!("{other:?}"),
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
    fn only_a_real_nul_escape_is_refused() {
        assert!(has_nul_escape(br#"{"a": "x\u0000y"}"#));
        assert!(has_nul_escape(br#"{"a": "\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"a": "\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"a": "\u0001 \\"}"#));
        assert!(!has_nul_escape(b"\\"));
        assert!(!has_nul_escape(b""));
    }

    #[test]
    fn action_inputs_must_be_an_object() {
        assert!(parse_object::<Input>(br#"{"toPhone": "1"}"#).is_ok());
        assert!(malformed_object(br#"["1"]"#).contains("an array"));
        assert!(malformed_object(b"  ").contains("an empty body"));
        assert_eq!(
            malformed(r#"{"toPhone": "a\u0000"}"#),
            "toPhone: text may not hold the NUL character (\\u0000)"
        );
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "bearer  k-1".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("k-1"));
        for padded in [
            "Bearer k-1 ",
            "Bearer k-1\t",
            "Bearer k 1",
            "Bearer ",
            " Bearer k-1",
        ] {
            headers.insert(header::AUTHORIZATION, padded.parse().unwrap());
            assert_eq!(bearer_token(&headers), None, "{padded:?}");
        }
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }
}
