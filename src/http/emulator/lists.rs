//! What the actions did: messages, calls, Tasks, VoIP errors, the status log, and users'
//! current statuses. Lists answer `{"items": [...]}`, newest first.

mod wake;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use serde::Serialize;
use tokio::time::Instant;

pub use self::wake::List;
use super::{PathId, RecordRef};
use crate::actions::user_status;
use crate::domain::objects::StatusType;
use crate::domain::{CallStatus, SalesforceId, SmsStatus};
use crate::http::error::PlatformError;
use crate::http::query::{Accepts, ListQuery, QueryPairs, list_query};
use crate::state::AppState;
use crate::storage::{
    Call, ListFilter, SmsMessage, StatusLogEntry, Storage, StorageError, StoredEvent, Task,
    VoipErrorLog,
};
use crate::views::{
    CallItem, Items, MessageItem, StatusLogItem, TaskItem, UserStateItem, VoipErrorItem,
};

/// Salesforce's standard Task statuses (the emulator's Tasks are Completed).
const TASK_STATUSES: &[&str] = &[
    "Not Started",
    "In Progress",
    "Completed",
    "Waiting on someone else",
    "Deferred",
];

/// The filters each list takes.
fn accepts(list: List) -> Accepts {
    let (phones, related, statuses) = match list {
        List::Messages => (true, true, Some(SmsStatus::NAMES)),
        List::Calls => (true, true, Some(CallStatus::NAMES)),
        List::Tasks => (false, true, Some(TASK_STATUSES)),
        List::VoipErrors => (true, true, None),
        // `status`: the availability changed to.
        List::StatusLog => (false, false, Some(StatusType::NAMES)),
    };
    Accepts {
        phones,
        related,
        statuses,
    }
}

/// Runs a list's query; with `wait`, and nothing matching yet, runs it again whenever an
/// event that can give it a match arrives (every change raises one: `wake`) until a match
/// exists or the wait is over. Nothing polls the database while nothing happens.
async fn matching<'a, T, F>(
    state: &'a AppState,
    list: List,
    query: &ListQuery,
    run: impl Fn() -> F,
) -> Result<Vec<T>, StorageError>
where
    F: Future<Output = Result<Vec<T>, StorageError>> + 'a,
{
    let Some(wait) = query.wait else {
        return run().await;
    };
    let deadline = Instant::now() + wait;
    // Subscribe before the first query, so a change in between is not missed.
    let changes = state.storage().subscribe();
    let mut stopping = state.stopping();
    let over = async move {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            _ = stopping.wait_for(|stopping| *stopping) => {}
        }
    };
    let wakes = |event: &StoredEvent| list.may_match(&query.filter, event);
    wake::until_found(changes, wakes, over, run).await
}

/// A storage call's answer, on its way: a list's query or lookup.
type Found<'a, T> = BoxFuture<'a, Result<T, StorageError>>;

/// A kind of record the inspection API lists, newest first, and shows by Id, through its
/// view.
pub trait Listed: Sized + Send + 'static {
    /// The list, for the filters it takes and the events that wake its long polls.
    const LIST: List;
    type View<'a>: Serialize + From<&'a Self>;
    /// The records that `filter` matches.
    fn query<'a>(storage: &'a dyn Storage, filter: &'a ListFilter) -> Found<'a, Vec<Self>>;
    fn find(storage: &dyn Storage, id: SalesforceId) -> Found<'_, Option<Self>>;
}

/// Each kind of record: `Record: List, View, its list query, its lookup by Id` (the
/// `Storage` methods).
macro_rules! listed {
    ($($record:ty: $list:expr, $view:ty, $query:ident, $find:ident;)+) => {$(
        impl Listed for $record {
            const LIST: List = $list;
            type View<'a> = $view;
            fn query<'a>(storage: &'a dyn Storage, filter: &'a ListFilter) -> Found<'a, Vec<Self>> {
                storage.$query(filter)
            }
            fn find(storage: &dyn Storage, id: SalesforceId) -> Found<'_, Option<Self>> {
                storage.$find(id)
            }
        }
    )+};
}

listed! {
    SmsMessage: List::Messages, MessageItem<'a>, list_sms_messages, sms_message;
    Call: List::Calls, CallItem<'a>, list_calls, call;
    Task: List::Tasks, TaskItem<'a>, list_tasks, task;
    VoipErrorLog: List::VoipErrors, VoipErrorItem<'a>, list_voip_errors, voip_error;
    StatusLogEntry: List::StatusLog, StatusLogItem, list_status_log, status_log_entry;
}

/// `GET /_emulator/messages` and the other lists: `{"items": [...]}`.
pub async fn list<R: Listed>(
    State(state): State<AppState>,
    pairs: QueryPairs,
) -> Result<Response, PlatformError> {
    let query = list_query(&pairs, &state.org(), accepts(R::LIST))?;
    let records = matching(&state, R::LIST, &query, || {
        R::query(state.storage(), &query.filter)
    })
    .await?;
    let items: Vec<_> = records.iter().map(R::View::from).collect();
    Ok(Json(Items { items }).into_response())
}

/// `GET /_emulator/tasks/{id}` and the other items, by their record Id.
pub async fn item<R: Listed>(
    State(state): State<AppState>,
    id: PathId,
) -> Result<Response, PlatformError> {
    shown(R::find(state.storage(), id.salesforce()?).await?)
}

/// One message, by its record Id or the provider's `SM...` id.
pub async fn message(State(state): State<AppState>, id: PathId) -> Result<Response, PlatformError> {
    let found = match id.record_or_provider("SM")? {
        RecordRef::Id(id) => SmsMessage::find(state.storage(), id).await?,
        RecordRef::Provider(sid) => state.storage().sms_message_by_provider_id(sid).await?,
    };
    shown(found)
}

/// One call, by its record Id or the provider's `CA...` id.
pub async fn call(State(state): State<AppState>, id: PathId) -> Result<Response, PlatformError> {
    let found = match id.record_or_provider("CA")? {
        RecordRef::Id(id) => Call::find(state.storage(), id).await?,
        RecordRef::Provider(sid) => state.storage().call_by_provider_id(sid).await?,
    };
    shown(found)
}

fn shown<R: Listed>(found: Option<R>) -> Result<Response, PlatformError> {
    found
        .map(|record| Json(R::View::from(&record)).into_response())
        .ok_or_else(PlatformError::not_found)
}

/// A user of the org and their status now.
pub async fn user(State(state): State<AppState>, id: PathId) -> Result<Response, PlatformError> {
    let org = state.org();
    let user = org
        .user(id.salesforce()?)
        .ok_or_else(PlatformError::not_found)?;
    let current = user_status::current(state.storage(), &org, user).await?;
    let status = current.status;
    Ok(Json(UserStateItem {
        id: user.id,
        name: &user.name,
        fastcall_user: user.fastcall_user,
        user_status_id: status.user_status_id,
        user_status_name: status
            .user_status_id
            .and_then(|id| org.user_status(id))
            .map(|s| s.name.as_str()),
        status_type: status.status_type,
        changed_date: current.changed_at,
    })
    .into_response())
}
