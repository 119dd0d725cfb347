//! What the actions did: messages, calls, Tasks, VoIP errors, the status log, and users'
//! current statuses. Lists answer `{"items": [...]}`, newest first.

mod wake;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::time::Instant;

use self::wake::List;
use crate::actions::user_status;
use crate::domain::objects::{StatusType, TaskStatus};
use crate::domain::{CallStatus, SalesforceId, SmsStatus};
use crate::http::error::PlatformError;
use crate::http::query::{Accepts, ListQuery, QueryPairs, Statuses, list_query};
use crate::records::StoredEvent;
use crate::state::AppState;
use crate::storage::{StatusFilter, StorageError};
use crate::views::{
    CallItem, Items, MessageItem, StatusLogItem, TaskItem, UserStateItem, VoipErrorItem,
};

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

/// Serialises records through their view.
fn items<'a, R, V>(records: &'a [R]) -> Response
where
    V: Serialize + From<&'a R>,
{
    Json(Items {
        items: records.iter().map(V::from).collect::<Vec<V>>(),
    })
    .into_response()
}

fn item<'a, R, V>(record: Option<&'a R>) -> Result<Response, PlatformError>
where
    V: Serialize + From<&'a R>,
{
    record
        .map(|r| Json(V::from(r)).into_response())
        .ok_or_else(PlatformError::not_found)
}

pub async fn messages(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Response, PlatformError> {
    let accepts = Accepts {
        phones: true,
        related: true,
        statuses: Some(Statuses {
            names: SmsStatus::NAMES,
            parse: |s| SmsStatus::parse(s).map(StatusFilter::Message),
        }),
    };
    let query = list_query(&query, &state.org(), accepts)?;
    let records = matching(&state, List::Messages, &query, || {
        state.storage().list_sms_messages(&query.filter)
    })
    .await?;
    Ok(items::<_, MessageItem>(&records))
}

/// One message, by its record Id or the provider's `SM...` id.
pub async fn message(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PlatformError> {
    let Path(raw) = id.map_err(|_| PlatformError::not_found())?;
    let found = match SalesforceId::parse(&raw) {
        Ok(id) => state.storage().sms_message(id).await?,
        Err(_) if raw.starts_with("SM") => state.storage().sms_message_by_provider_id(&raw).await?,
        Err(_) => None,
    };
    item::<_, MessageItem>(found.as_ref())
}

pub async fn calls(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Response, PlatformError> {
    let accepts = Accepts {
        phones: true,
        related: true,
        statuses: Some(Statuses {
            names: CallStatus::NAMES,
            parse: |s| CallStatus::parse(s).map(StatusFilter::Call),
        }),
    };
    let query = list_query(&query, &state.org(), accepts)?;
    let records = matching(&state, List::Calls, &query, || {
        state.storage().list_calls(&query.filter)
    })
    .await?;
    Ok(items::<_, CallItem>(&records))
}

/// One call, by its record Id or the provider's `CA...` id.
pub async fn call(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PlatformError> {
    let Path(raw) = id.map_err(|_| PlatformError::not_found())?;
    let found = match SalesforceId::parse(&raw) {
        Ok(id) => state.storage().call(id).await?,
        Err(_) if raw.starts_with("CA") => state.storage().call_by_provider_id(&raw).await?,
        Err(_) => None,
    };
    item::<_, CallItem>(found.as_ref())
}

pub async fn tasks(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Response, PlatformError> {
    let accepts = Accepts {
        phones: false,
        related: true,
        statuses: Some(Statuses {
            names: TaskStatus::NAMES,
            parse: |s| TaskStatus::parse(s).map(StatusFilter::Task),
        }),
    };
    let query = list_query(&query, &state.org(), accepts)?;
    let records = matching(&state, List::Tasks, &query, || {
        state.storage().list_tasks(&query.filter)
    })
    .await?;
    Ok(items::<_, TaskItem>(&records))
}

pub async fn task(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PlatformError> {
    let found = state.storage().task(path_id(id)?).await?;
    item::<_, TaskItem>(found.as_ref())
}

pub async fn voip_errors(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Response, PlatformError> {
    let accepts = Accepts {
        phones: true,
        related: true,
        statuses: None,
    };
    let query = list_query(&query, &state.org(), accepts)?;
    let records = matching(&state, List::VoipErrors, &query, || {
        state.storage().list_voip_errors(&query.filter)
    })
    .await?;
    Ok(items::<_, VoipErrorItem>(&records))
}

pub async fn voip_error(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PlatformError> {
    let found = state.storage().voip_error(path_id(id)?).await?;
    item::<_, VoipErrorItem>(found.as_ref())
}

/// Status changes, newest first; `status` filters on the availability changed to.
pub async fn status_log(
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Response, PlatformError> {
    let accepts = Accepts {
        phones: false,
        related: false,
        statuses: Some(Statuses {
            names: StatusType::NAMES,
            parse: |s| StatusType::parse(s).map(StatusFilter::User),
        }),
    };
    let query = list_query(&query, &state.org(), accepts)?;
    let records = matching(&state, List::StatusLog, &query, || {
        state.storage().list_status_log(&query.filter)
    })
    .await?;
    Ok(items::<_, StatusLogItem>(&records))
}

pub async fn status_log_entry(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PlatformError> {
    let found = state.storage().status_log_entry(path_id(id)?).await?;
    item::<_, StatusLogItem>(found.as_ref())
}

/// A user of the org and their status now.
pub async fn user(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PlatformError> {
    let org = state.org();
    let user = org
        .user(path_id(id)?)
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

/// A malformed Id names nothing the emulator has: 404, as for an unknown one.
fn path_id(id: Result<Path<String>, PathRejection>) -> Result<SalesforceId, PlatformError> {
    id.ok()
        .and_then(|Path(raw)| SalesforceId::parse(&raw).ok())
        .ok_or_else(PlatformError::not_found)
}
