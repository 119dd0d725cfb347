//! Orgs side by side (SPEC 11): `/orgs/{name}/...` is served as the root's `/...`, for the
//! org `name`. The prefix is taken off before routing, and the org is left in the request's
//! extensions ([`InOrg`]), so that every route is served under it without being written
//! twice, and a client only changes its base URL.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::Method;
use axum::http::uri::{PathAndQuery, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use futures_util::future::Either;
use tower_service::Service;

use super::error::{PlatformCode, PlatformError, SalesforceError};
use super::extract::{InOrg, no_such_org};
use crate::domain::OrgName;
use crate::state::AppState;

/// A request `scope` refuses, answered in the shape of the route it was for.
struct Refused {
    error: PlatformError,
    /// For a `/services` route, whose errors come in an array.
    salesforce: bool,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        if self.salesforce {
            SalesforceError::from(self.error).into_response()
        } else {
            self.error.into_response()
        }
    }
}

/// The prefix of an org's routes.
const ORGS: &str = "/orgs/";

/// The emulator's HTTP service: the router, behind the `/orgs/{name}` prefix.
#[derive(Clone)]
pub struct App {
    router: Router,
    state: AppState,
}

impl App {
    pub fn new(router: Router, state: AppState) -> Self {
        Self { router, state }
    }
}

impl<B> Service<axum::http::Request<B>> for App
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, RouteFuture<Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        let mut request = request.map(Body::new);
        match scope(&self.state, &mut request) {
            Ok(()) => Either::Right(self.router.call(request)),
            Err(refused) => Either::Left(ready(Ok(refused.into_response()))),
        }
    }
}

/// Takes an `/orgs/{name}` prefix off the request, leaving the org in its extensions. A
/// name that is not an org name is 400; an org that is not served is 404, except to `PUT`
/// its org data, which creates it. `/orgs` and `/orgs/{name}` themselves are the root's
/// routes, and an org's routes do not nest.
fn scope(state: &AppState, request: &mut Request) -> Result<(), Refused> {
    let Some(rest) = request.uri().path().strip_prefix(ORGS) else {
        return Ok(());
    };
    let Some((raw_name, path)) = rest.split_once('/') else {
        return Ok(());
    };
    let salesforce = path.starts_with("services/");
    let refuse = |error| Refused { error, salesforce };
    let name = OrgName::parse(raw_name).map_err(|e| {
        refuse(PlatformError::new(
            PlatformCode::InvalidOrgName,
            format!("`{raw_name}` is not an org name: it {e}"),
        ))
    })?;
    let creating = request.method() == Method::PUT && path == "_emulator/org";
    if path.starts_with("orgs/") || (!creating && state.org(&name).is_none()) {
        return Err(refuse(no_such_org(&name)));
    }
    let routed = match request.uri().query() {
        Some(query) => format!("/{path}?{query}"),
        None => format!("/{path}"),
    };
    // What the client asked for, as `OriginalUri` tells it (Twilio signs the URL it called).
    let original = axum::extract::OriginalUri(request.uri().clone());
    request.extensions_mut().insert(original);
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query =
        Some(PathAndQuery::try_from(routed).map_err(|_| refuse(PlatformError::not_found()))?);
    *request.uri_mut() = Uri::from_parts(parts).map_err(|_| refuse(PlatformError::not_found()))?;
    request.extensions_mut().insert(InOrg(name));
    Ok(())
}
