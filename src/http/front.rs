//! What a route group's requests go through before their handler, in this order: they are
//! observed (counted, timed, logged: `observe`), the admin token is checked (the
//! `/_emulator` groups: `emulator::admin_refusal`), and they are admitted (the caller
//! identified, the body read, a slot taken: `guard`). Observing comes first so that what the
//! other two refuse is counted too; the admin token before admission so that a caller
//! without it cannot take a slot.
//!
//! One route layer does all three, rather than a `middleware::from_fn` layer each: each of
//! those clones the route's boxed service, boxes another future and wraps what follows in a
//! boxed service again, on every request.

use std::convert::Infallible;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower_layer::Layer;
use tower_service::Service;

use super::emulator::admin_refusal;
use super::guard::{Admission, guard};
use super::observe::observe;
use crate::state::AppState;

/// The route layer of a group: what its requests go through (the module says what, and in
/// which order).
#[derive(Clone)]
pub struct Front {
    state: AppState,
    /// Whether the admin token is needed.
    admin: bool,
    /// How requests are admitted; `None` for routes that take no body and hold no slot.
    admission: Option<Admission>,
}

impl Front {
    /// Routes that are only observed.
    pub fn observed(state: &AppState) -> Self {
        Self {
            state: state.clone(),
            admin: false,
            admission: None,
        }
    }

    /// Routes that need the admin token.
    pub fn admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// Routes admitted as `admission` says.
    pub fn admitted(mut self, admission: Admission) -> Self {
        self.admission = Some(admission);
        self
    }

    async fn serve<S>(self, request: Request, route: S) -> Response
    where
        S: Service<Request, Response = Response, Error = Infallible>,
    {
        let state = &self.state;
        observe(state, request, move |request| async move {
            if self.admin
                && let Some(refused) = admin_refusal(state, &request)
            {
                return refused;
            }
            match self.admission {
                Some(admission) => {
                    guard(state, admission, request, |request| call(route, request)).await
                }
                None => call(route, request).await,
            }
        })
        .await
    }
}

/// Runs the request through the route.
async fn call<S>(mut route: S, request: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let Ok(()) = poll_fn(|cx| route.poll_ready(cx)).await;
    let Ok(response) = route.call(request).await;
    response
}

impl<S> Layer<S> for Front {
    type Service = FrontService<S>;

    fn layer(&self, route: S) -> Self::Service {
        FrontService {
            front: self.clone(),
            route,
        }
    }
}

/// A route behind its group's [`Front`].
#[derive(Clone)]
pub struct FrontService<S> {
    front: Front,
    route: S,
}

impl<S> Service<Request> for FrontService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    /// The route is made ready for each request (`call`), on a clone of its own.
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let front = self.front.clone();
        let route = self.route.clone();
        Box::pin(async move { Ok(front.serve(request, route).await) })
    }
}
