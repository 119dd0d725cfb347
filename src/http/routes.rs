//! Building the router together with the list of what it answers, so that the list (which
//! a test holds against `openapi.yaml`) cannot disagree with the router, and so that each
//! path's 405 names the methods it has.

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post, put};

use super::error::PlatformError;
use crate::state::AppState;

/// One method on one path, as `openapi.yaml` writes it (`{version}`, `{id}`...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: String,
}

/// A router under construction, and the endpoints it answers.
pub(super) struct Routes {
    /// Each path template with its methods, in the order first routed.
    paths: Vec<PathRoutes>,
    endpoints: Vec<Endpoint>,
    /// Where the router will be nested, for the endpoints' full paths.
    prefix: &'static str,
    /// How this group answers an error (the `/services` routes wrap it in an array).
    answer: fn(PlatformError) -> Response,
}

/// One path template and the methods routed on it.
struct PathRoutes {
    template: &'static str,
    router: MethodRouter<AppState>,
    methods: Vec<&'static str>,
}

impl Routes {
    pub(super) fn new(prefix: &'static str, answer: fn(PlatformError) -> Response) -> Self {
        Self {
            paths: Vec::new(),
            endpoints: Vec::new(),
            prefix,
            answer,
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

    pub(super) fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
    ) -> Self {
        self.add("DELETE", path, &[path], delete(handler))
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
        match self.paths.iter_mut().find(|p| p.template == template) {
            Some(path) => {
                path.router = std::mem::take(&mut path.router).merge(method_router);
                path.methods.push(method);
            }
            None => self.paths.push(PathRoutes {
                template,
                router: method_router,
                methods: vec![method],
            }),
        }
        self
    }

    /// The router, each path answering a method it lacks with a 405 that lists the ones it
    /// has (as Salesforce words it), and the endpoints.
    pub(super) fn into_parts(self) -> (Router<AppState>, Vec<Endpoint>) {
        let answer = self.answer;
        let router = self.paths.into_iter().fold(Router::new(), |router, path| {
            let allowed = path.allowed();
            let refuse = move |method: Method| {
                let refusal = PlatformError::method_not_allowed(&method, &allowed);
                async move { answer(refusal) }
            };
            router.route(path.template, path.router.fallback(refuse))
        });
        (router, self.endpoints)
    }
}

impl PathRoutes {
    /// The methods, sorted, with `HEAD` wherever there is `GET` (which answers it):
    /// `GET,HEAD,POST`.
    fn allowed(&self) -> Arc<str> {
        let mut methods = self.methods.clone();
        if methods.contains(&"GET") {
            methods.push("HEAD");
        }
        methods.sort_unstable();
        methods.dedup();
        methods.join(",").into()
    }
}
