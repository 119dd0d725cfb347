//! The inspection and control API under `/_emulator`: org data and reset here, the lists
//! of what the actions did in `lists`, the live event stream in `events`.

pub mod events;
pub mod inbound;
pub(in crate::http) mod kinds;
pub mod lists;
pub mod moves;
pub mod orgs;

use std::convert::Infallible;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{PlatformCode, PlatformError};
use super::extract::{Body, BodyError, InOrg, Scoped, bearer_token};
use super::query::QueryPairs;
use crate::domain::SalesforceId;
use crate::org::{InvalidOrg, Org, OrgDocument, OrgFormat, OrgProblem};
use crate::state::{AppState, OrgWriteError};

/// With an admin token configured, every `/_emulator` route needs it as a bearer token: the
/// refusal of a request without it.
pub fn admin_refusal(state: &AppState, request: &Request) -> Option<Response> {
    let token = state.admin_token()?;
    let presented = bearer_token(request.headers()).unwrap_or("");
    (!token.matches(presented)).then(|| {
        PlatformError::unauthorized("This route needs Authorization: Bearer <FASTCALL_ADMIN_TOKEN>")
            .into_response()
    })
}

/// The `{id}` of a record's path. A value that names nothing the emulator could have (a
/// malformed Id, say) is 404, as an unknown one.
pub struct PathId(Option<String>);

/// A message or call as its path names it.
pub enum RecordRef<'a> {
    Id(SalesforceId),
    /// The provider's id (`SM...`, `CA...`).
    Provider(&'a str),
}

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let path = Path::<String>::from_request_parts(parts, state).await;
        Ok(Self(path.ok().map(|Path(raw)| raw)))
    }
}

impl PathId {
    pub fn salesforce(&self) -> Result<SalesforceId, PlatformError> {
        self.0
            .as_deref()
            .and_then(|raw| SalesforceId::parse(raw).ok())
            .ok_or_else(PlatformError::not_found)
    }

    /// A record Id, or a provider's id starting with one of `provider_prefixes`.
    pub fn record_or_provider(
        &self,
        provider_prefixes: &[&str],
    ) -> Result<RecordRef<'_>, PlatformError> {
        match (self.salesforce(), self.0.as_deref()) {
            (Ok(id), _) => Ok(RecordRef::Id(id)),
            (Err(_), Some(raw)) if provider_prefixes.iter().any(|p| raw.starts_with(p)) => {
                Ok(RecordRef::Provider(raw))
            }
            (Err(not_found), _) => Err(not_found),
        }
    }
}

const YAML: &str = "application/yaml";

fn wants_yaml(headers: &HeaderMap, header_name: header::HeaderName) -> bool {
    headers
        .get(header_name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("yaml"))
}

/// The org data: JSON, or YAML when the Accept header asks for it.
pub async fn get_org(scoped: Result<Scoped, PlatformError>, headers: HeaderMap) -> Response {
    let exported = match scoped {
        Ok(scoped) => scoped.org.document().exported(),
        Err(error) => return error.into_response(),
    };
    if wants_yaml(&headers, header::ACCEPT) {
        match serde_norway::to_string(&exported) {
            Ok(yaml) => (
                [(header::CONTENT_TYPE, HeaderValue::from_static(YAML))],
                yaml,
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "cannot write the org as YAML");
                PlatformError::new(PlatformCode::Internal, "cannot write YAML").into_response()
            }
        }
    } else {
        Json(exported).into_response()
    }
}

/// Replaces the org data with the body (JSON, or YAML by Content-Type), all or nothing;
/// under `/orgs/{name}`, creates the org when there is none of that name.
pub async fn put_org(
    State(state): State<AppState>,
    InOrg(name): InOrg,
    headers: HeaderMap,
    body: Result<Body, BodyError>,
) -> Response {
    let body = match body {
        Ok(Body(bytes)) => bytes,
        Err(error) => {
            return PlatformError::new(PlatformCode::InvalidOrg(error.problem()), error.message())
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
        Err(error) => return error.into_response(),
    };
    if org.has_api_keys() && state.keys_need_admin_token() {
        return PlatformError::new(
            PlatformCode::AdminTokenRequired,
            "This emulator listens beyond loopback without an admin token, so anyone could \
             replace API keys: set FASTCALL_ADMIN_TOKEN_FILE or FASTCALL_ADMIN_TOKEN (or start it \
             with --allow-open-admin) to use them.",
        )
        .into_response();
    }
    match state.replace_org(&name, org).await {
        Ok(org) => Json(org.document().exported()).into_response(),
        Err(OrgWriteError::KeyTaken(taken)) => InvalidOrg::from(taken).into_response(),
        Err(OrgWriteError::KeyHeldElsewhere) => InvalidOrg {
            problems: vec![OrgProblem {
                path: "apiKeys".into(),
                message: "a key is already the key of another org".into(),
            }],
        }
        .into_response(),
        Err(OrgWriteError::Storage(error)) => PlatformError::from(error).into_response(),
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
    Scoped { name, .. }: Scoped,
    query: QueryPairs,
) -> Result<Json<ResetDone>, PlatformError> {
    let mut clear_org = false;
    for (name, value) in &query.0 {
        match (name.as_str(), value.as_str()) {
            ("org", "true") => clear_org = true,
            ("org", "false") => clear_org = false,
            _ => {
                return Err(PlatformError::new(
                    PlatformCode::InvalidFilter,
                    "reset takes only org=true or org=false",
                ));
            }
        }
    }
    state.reset(&name, clear_org).await?;
    Ok(Json(ResetDone {
        activity_cleared: true,
        org_cleared: clear_org,
    }))
}
