//! What the actions did: messages, calls, Tasks, VoIP errors, the status log, and users'
//! current statuses. Lists answer `{"items": [...]}`, newest first.

mod wake;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

pub use self::wake::List;
use super::kinds::{Listed, Provided, Shown};
use super::{PathId, RecordRef};
use crate::actions::user_status;
use crate::domain::objects::{StatusType, TaskStatus};
use crate::domain::{CallStatus, OrgName, SmsStatus};
use crate::http::error::PlatformError;
use crate::http::extract::Scoped;
use crate::http::query::{Accepts, ListQuery, QueryPairs, Statuses, list_query};
use crate::records::StoredEvent;
use crate::state::AppState;
use crate::storage::{StatusFilter, StorageError};
use crate::views::{Items, UserStateItem};

/// The filters each list takes.
fn accepts(list: List) -> Accepts {
    let statuses = |names, parse| Some(Statuses { names, parse });
    // Most lists take the Id and user filters, and none but messages a direction.
    let records = Accepts {
        records: true,
        phones: false,
        related: false,
        directions: false,
        statuses: None,
    };
    match list {
        List::Messages => Accepts {
            phones: true,
            related: true,
            directions: true,
            statuses: statuses(SmsStatus::NAMES, |s| {
                SmsStatus::parse(s).map(StatusFilter::Message)
            }),
            ..records
        },
        List::Calls => Accepts {
            phones: true,
            related: true,
            statuses: statuses(CallStatus::NAMES, |s| {
                CallStatus::parse(s).map(StatusFilter::Call)
            }),
            ..records
        },
        List::Tasks => Accepts {
            related: true,
            statuses: statuses(TaskStatus::NAMES, |s| {
                TaskStatus::parse(s).map(StatusFilter::Task)
            }),
            ..records
        },
        List::VoipErrors => Accepts {
            phones: true,
            related: true,
            ..records
        },
        // `status`: the availability changed to.
        List::StatusLog => Accepts {
            statuses: statuses(StatusType::NAMES, |s| {
                StatusType::parse(s).map(StatusFilter::User)
            }),
            ..records
        },
        // `from`: the customer; `to`: the org's number. An opt-out has no Id or user.
        List::OptOuts => Accepts {
            records: false,
            phones: true,
            ..records
        },
    }
}

/// Runs a list's query; with `wait`, and nothing matching yet, runs it again whenever an
/// event that can give it a match arrives (every change raises one: `wake`) until a match
/// exists or the wait is over. Nothing polls the database while nothing happens.
async fn matching<'a, T, F>(
    state: &'a AppState,
    org: &OrgName,
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
    let wakes = |event: &StoredEvent| event.org == *org && list.may_match(&query.filter, event);
    wake::until_found(changes, wakes, over, run).await
}

/// `GET /_emulator/messages` and the other lists: `{"items": [...]}`.
pub async fn list<R: Listed>(
    State(state): State<AppState>,
    scoped: Scoped,
    pairs: QueryPairs,
) -> Result<Response, PlatformError> {
    let query = list_query(&pairs, &scoped.org, accepts(R::LIST))?;
    let org = scoped.name;
    let records = matching(&state, &org, R::LIST, &query, || {
        R::query(state.storage(), &org, &query.filter)
    })
    .await?;
    let items: Vec<_> = records.iter().map(R::View::from).collect();
    Ok(Json(Items { items }).into_response())
}

/// `GET /_emulator/tasks/{id}` and the other items, by their record Id.
pub async fn item<R: Shown>(
    State(state): State<AppState>,
    scoped: Scoped,
    id: PathId,
) -> Result<Response, PlatformError> {
    shown(R::find(state.storage(), &scoped.name, id.salesforce()?).await?)
}

/// `GET /_emulator/messages/{id}` and `/_emulator/calls/{id}`: by the record Id or the
/// provider's id (`SM...`, `CA...`).
pub async fn provided<R: Provided>(
    State(state): State<AppState>,
    Scoped { name: org, .. }: Scoped,
    id: PathId,
) -> Result<Response, PlatformError> {
    let found = match id.record_or_provider(R::SID_PREFIXES)? {
        RecordRef::Id(id) => R::find(state.storage(), &org, id).await?,
        RecordRef::Provider(sid) => R::find_by_sid(state.storage(), &org, sid).await?,
    };
    shown(found)
}

fn shown<R: Shown>(found: Option<R>) -> Result<Response, PlatformError> {
    found
        .map(|record| Json(R::View::from(&record)).into_response())
        .ok_or_else(PlatformError::not_found)
}

/// A user of the org and their status now.
pub async fn user(
    State(state): State<AppState>,
    Scoped {
        name: org_name,
        org,
    }: Scoped,
    id: PathId,
) -> Result<Response, PlatformError> {
    let user = org
        .user(id.salesforce()?)
        .ok_or_else(PlatformError::not_found)?;
    let current = user_status::current(state.storage(), &org_name, &org, user).await?;
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
