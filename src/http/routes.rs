//! Building the router together with the list of what it answers, so that the list (which
//! a test holds against `openapi.yaml`) cannot disagree with the router.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, get, post, put};

use crate::state::AppState;

/// One method on one path, as `openapi.yaml` writes it (`{version}`, `{id}`...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: String,
}

/// A router under construction, and the endpoints it answers.
pub(super) struct Routes {
    router: Router<AppState>,
    endpoints: Vec<Endpoint>,
    /// Where the router will be nested, for the endpoints' full paths.
    prefix: &'static str,
}

impl Routes {
    pub(super) fn new(prefix: &'static str) -> Self {
        Self {
            router: Router::new(),
            endpoints: Vec::new(),
            prefix,
        }
    }

    pub(super) fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
    ) -> Self {
        self.add("GET", path, &[path], get(handler))
    }

    pub(super) fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
    ) -> Self {
        self.add("POST", path, &[path], post(handler))
    }

    pub(super) fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
    ) -> Self {
        self.add("PUT", path, &[path], put(handler))
    }

    /// A handler for a path template whose only meaningful values are `paths` (one per
    /// action): those are what the endpoints list.
    pub(super) fn get_each<H: Handler<T, AppState>, T: 'static>(
        self,
        template: &'static str,
        paths: &[String],
        handler: H,
    ) -> Self {
        self.add("GET", template, paths, get(handler))
    }

    pub(super) fn post_each<H: Handler<T, AppState>, T: 'static>(
        self,
        template: &'static str,
        paths: &[String],
        handler: H,
    ) -> Self {
        self.add("POST", template, paths, post(handler))
    }

    fn add(
        mut self,
        method: &'static str,
        template: &'static str,
        paths: &[impl AsRef<str>],
        method_router: MethodRouter<AppState>,
    ) -> Self {
        let prefix = self.prefix;
        self.endpoints.extend(paths.iter().map(|path| Endpoint {
            method,
            path: format!("{prefix}{}", path.as_ref()),
        }));
        // Routing a path again merges the methods.
        self.router = self.router.route(template, method_router);
        self
    }

    pub(super) fn into_parts(self) -> (Router<AppState>, Vec<Endpoint>) {
        (self.router, self.endpoints)
    }
}
