//! The HTTP surface: routes, extractors, error responses.

mod actions;
mod answer;
pub mod contract;
mod emulator;
pub mod error;
pub mod extract;
mod front;
mod guard;
mod idempotency;
mod observe;
mod page;
mod provider;
mod query;
mod routes;
mod salesforce;
mod scope;
mod sobjects;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

pub use routes::Endpoint;
pub use scope::App;

use crate::actions::ActionName;
use crate::records::{Call, OptOut, SmsMessage, StatusLogEntry, Task, VoipErrorLog};
use crate::state::AppState;
use crate::storage::StorageError;
use emulator::{lists, moves, orgs};
use error::{PlatformError, SalesforceError};
use front::Front;
use guard::Admission;
use routes::Routes;

/// The emulator's routes, in groups that differ in who may call them and how they are
/// bounded: actions and control requests get the concurrency and time bounds; long polls,
/// the event stream, health and the contract do not.
struct RouteGroups {
    /// The Salesforce REST shape, nested under `/services`.
    services: Routes,
    /// Direct action calls.
    actions: Routes,
    /// Admin routes that change things.
    control: Routes,
    /// Admin routes that watch: lists (which may long-poll), records, the event stream.
    watch: Routes,
    /// Twilio's requests, which its signature admits instead of the admin token.
    provider: Routes,
    /// The web page, health and the contract.
    public: Routes,
}

fn routes() -> RouteGroups {
    let action_names = || ActionName::ALL.into_iter().map(ActionName::as_str);
    let apex = |name: &str| format!("/data/{{version}}/actions/custom/apex/{name}");
    let services = Routes::new("/services", salesforce_answer)
        .get("/data/{version}/actions/custom/apex", salesforce::list)
        .get_each(
            "/data/{version}/actions/custom/apex/{action}",
            &action_names().map(apex).collect::<Vec<_>>(),
            salesforce::describe,
        )
        .post_each(
            "/data/{version}/actions/custom/apex/{action}",
            &action_names().map(apex).collect::<Vec<_>>(),
            salesforce::invoke,
        )
        .get(
            "/data/{version}/sobjects/{object}/{id}",
            salesforce::sobject,
        );
    let actions = Routes::new("", platform_answer).post_each(
        "/actions/{action}",
        &action_names()
            .map(|name| format!("/actions/{name}"))
            .collect::<Vec<_>>(),
        actions::invoke,
    );
    let control = Routes::new("", platform_answer)
        .get("/_emulator/org", emulator::get_org)
        .put("/_emulator/org", emulator::put_org)
        .post(
            "/_emulator/messages/{id}/status",
            moves::move_to::<SmsMessage>,
        )
        .post("/_emulator/calls/{id}/status", moves::move_to::<Call>)
        .post("/_emulator/inbound", emulator::inbound::receive)
        .post("/_emulator/reset", emulator::reset)
        .delete("/orgs/{name}", orgs::delete);
    let watch = Routes::new("", platform_answer)
        .get("/_emulator/messages", lists::list::<SmsMessage>)
        .get("/_emulator/messages/{id}", lists::provided::<SmsMessage>)
        .get("/_emulator/calls", lists::list::<Call>)
        .get("/_emulator/calls/{id}", lists::provided::<Call>)
        .get("/_emulator/tasks", lists::list::<Task>)
        .get("/_emulator/tasks/{id}", lists::item::<Task>)
        .get("/_emulator/voip-errors", lists::list::<VoipErrorLog>)
        .get("/_emulator/voip-errors/{id}", lists::item::<VoipErrorLog>)
        .get("/_emulator/status-log", lists::list::<StatusLogEntry>)
        .get("/_emulator/status-log/{id}", lists::item::<StatusLogEntry>)
        .get("/_emulator/opt-outs", lists::list::<OptOut>)
        .get("/_emulator/users/{id}", lists::user)
        .get("/_emulator/events", emulator::events::stream)
        .get("/metrics", observe::metrics)
        .get("/orgs", orgs::list);
    let provider = Routes::new("", platform_answer)
        .post("/_provider/twilio/status", provider::status)
        .post("/_provider/twilio/sms", provider::sms)
        .get("/_provider/twilio/ivr/{id}", provider::ivr)
        .post("/_provider/twilio/ivr/{id}", provider::ivr);
    let public = Routes::new("", platform_answer)
        .get("/", page::index)
        .get("/ui/app.js", page::script)
        .get("/ui/app.css", page::style)
        .get("/livez", livez)
        .get("/readyz", readyz)
        .get("/openapi.yaml", contract::full_yaml)
        .get("/openapi.json", contract::full_json)
        .get("/openapi/actions.yaml", contract::actions_yaml)
        .get("/openapi/actions.json", contract::actions_json);
    RouteGroups {
        services,
        actions,
        control,
        watch,
        provider,
        public,
    }
}

impl RouteGroups {
    fn into_all(self) -> [Routes; 6] {
        [
            self.services,
            self.actions,
            self.control,
            self.watch,
            self.provider,
            self.public,
        ]
    }
}

/// Every method and path the emulator answers, as `openapi.yaml` documents them. The
/// actions' routes take any name, but answer only the three actions' (and their
/// `FastCall__` forms, an alias the document mentions): those are listed.
pub fn endpoints() -> Vec<Endpoint> {
    let mut endpoints: Vec<Endpoint> = routes()
        .into_all()
        .into_iter()
        .flat_map(|routes| routes.into_parts().1)
        .collect();
    endpoints.sort();
    endpoints
}

/// The emulator's HTTP service: every route, at the root and under `/orgs/{name}`.
pub fn app(state: AppState) -> App {
    App::new(router(state.clone()), state)
}

/// Every route the emulator serves.
fn router(state: AppState) -> Router {
    let groups = routes();
    let observed = || Front::observed(&state);
    let services = groups
        .services
        .into_parts()
        .0
        .route_layer(observed().admitted(Admission::Salesforce))
        .fallback(salesforce_not_found);
    let actions = groups
        .actions
        .into_parts()
        .0
        .route_layer(observed().admitted(Admission::Actions));
    let control = groups
        .control
        .into_parts()
        .0
        .route_layer(observed().admin().admitted(Admission::Control));
    let watch = groups.watch.into_parts().0.route_layer(observed().admin());
    let provider = groups
        .provider
        .into_parts()
        .0
        .route_layer(observed().admitted(Admission::Provider));
    groups
        .public
        .into_parts()
        .0
        .route_layer(observed())
        .merge(actions)
        .merge(control)
        .merge(watch)
        .merge(provider)
        .nest("/services", services)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.limits().max_body_bytes))
        .with_state(state)
}

async fn livez() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers and, after a write failed, stores a write again.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let reason = match state.storage().ready().await {
        Ok(()) => return (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(StorageError::CannotWrite(_)) => "database cannot store writes",
        Err(_) => "database unreachable",
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "reason": reason })),
    )
}

/// An error as the `/services` routes answer it: in an array.
fn salesforce_answer(error: PlatformError) -> Response {
    SalesforceError::from(error).into_response()
}

fn platform_answer(error: PlatformError) -> Response {
    error.into_response()
}

async fn not_found() -> PlatformError {
    PlatformError::not_found()
}

async fn salesforce_not_found() -> SalesforceError {
    PlatformError::not_found().into()
}
