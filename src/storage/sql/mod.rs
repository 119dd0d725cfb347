//! The storage implementation shared by PostgreSQL and SQLite. Both accept the same SQL
//! (`$n` parameters, `ON CONFLICT`, `RETURNING`), so the queries live here once; what
//! differs is in [`Dialect`], and the backend modules only open the database.

mod activity;
mod commit;
mod idempotency;
mod lifecycle;
mod storage;

use std::sync::Arc;

use sqlx::{Database, Encode, Pool, QueryBuilder, Type};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use self::commit::Commits;
use self::commit::{insert_events, insert_steps, insert_voip_errors};
use super::{ListFilter, StepRules, StoredEvent};
use crate::domain::{E164, SalesforceId, Timestamp};

/// What PostgreSQL and SQLite do differently.
pub(super) trait Dialect: Database {
    /// Reads a user's state inside a status change, locking the row until commit where
    /// the database has row locks (SQLite serialises writers on its one writer connection).
    const SELECT_USER_STATE_FOR_UPDATE: &'static str;
    /// What goes before and after the `VALUES` of new events: an `INSERT INTO events (kind,
    /// payload, created_at)` that returns their seqs and, where
    /// several instances share the database, announces their seqs to every instance on
    /// commit, in the same statement.
    const INSERT_EVENTS: (&'static str, &'static str);
    /// Whether the database relays committed events to every instance, this one included.
    /// Where it does not (one process owns the database), events are published in-process
    /// after the commit.
    const RELAYS_EVENTS: bool;
    /// Reads a message (`$1`: its Id) and locks it until commit.
    const LOCK_SMS: &'static str;
    /// Reads a call (`$1`: its Id) and locks it until commit.
    const LOCK_CALL: &'static str;
    /// Locks a record's pending steps (`$1`: its Id), before the record itself, in the order
    /// the step runner takes its locks.
    const LOCK_STEPS_OF_RECORD: &'static str;
    /// Claims the steps due at `$1`, at most `$2`, oldest first; steps another instance is
    /// applying are skipped, so each step is applied once.
    const CLAIM_DUE_STEPS: &'static str;
    /// Reads an idempotency key (`$1`) and locks it until commit.
    const LOCK_KEY: &'static str;
    /// How many group commits may run at once.
    const GROUP_COMMITS: usize;
}

/// Reads go to `reader`, writes to `writer`: the same pool on PostgreSQL, a one-connection
/// pool on SQLite, whose single writer would otherwise make writers queue on a busy lock.
pub(super) struct SqlStorage<DB: Database> {
    pub(super) reader: Pool<DB>,
    pub(super) writer: Pool<DB>,
    /// Committed events, for this instance's subscribers.
    pub(super) events: broadcast::Sender<Arc<StoredEvent>>,
    /// How records move on after a write or a move.
    pub(super) rules: Arc<dyn StepRules>,
    /// The group committer of `write`.
    commits: Commits,
    /// Background work tied to this storage (PostgreSQL's event relay); stopped on drop.
    pub(super) background: Option<AbortOnDrop>,
    /// SQLite's claim on its database file (`sqlite.rs`), released on drop.
    pub(super) file_lock: Option<std::fs::File>,
}

/// How many events a slow subscriber may fall behind before it must catch up from the
/// database.
pub(super) const EVENT_BUFFER: usize = 4096;

impl<DB: Dialect> SqlStorage<DB> {
    /// After a commit, hands its events to this instance's subscribers.
    fn publish_committed(&self, events: Vec<StoredEvent>) {
        publish::<DB>(&self.events, events);
    }
}

/// Hands committed events to this instance's subscribers, unless the database relays them
/// (PostgreSQL's NOTIFY reaches this instance too).
fn publish<DB: Dialect>(to: &broadcast::Sender<Arc<StoredEvent>>, events: Vec<StoredEvent>) {
    if !DB::RELAYS_EVENTS {
        for event in events {
            // No subscriber is not an error.
            let _ = to.send(Arc::new(event));
        }
    }
}

/// Aborts a background task when dropped.
pub(super) struct AbortOnDrop(pub(super) JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// Column lists as macros, so whole statements can be `concat!`ed into static strings.
macro_rules! sms_columns {
    () => {
        "id, provider_id, created_at, updated_at, owner_id, user_id, phone_number_id, from_phone, to_phone, \
         body, media_url, related_record_id, task_id, status, status_history, error_code, error_message"
    };
}
macro_rules! call_columns {
    () => {
        "id, provider_id, created_at, updated_at, owner_id, user_id, phone_number_id, from_phone, to_phone, \
         ivr_id, related_record_id, task_id, status, status_history, error_code, error_message"
    };
}
macro_rules! task_columns {
    () => {
        "id, created_at, owner_id, subject, description, status, priority, task_subtype, call_type, who_id, \
         what_id, sms_message_id, call_id"
    };
}
macro_rules! voip_error_columns {
    () => {
        "id, created_at, record_type, record_id, provider, provider_id, error_code, error_message, from_phone, \
         to_phone, user_id"
    };
}
macro_rules! status_log_columns {
    () => {
        "id, user_id, from_user_status_id, from_status_type, to_user_status_id, to_status_type, changed_at, \
         changed_by"
    };
}
macro_rules! event_columns {
    () => {
        "seq, kind, payload, created_at"
    };
}
macro_rules! pending_step_columns {
    () => {
        "seq, kind, record_id, status, error_code, error_message, due_at"
    };
}
pub(crate) use {
    call_columns, event_columns, pending_step_columns, sms_columns, status_log_columns,
    task_columns, voip_error_columns,
};

const UPSERT_ORG: &str = "INSERT INTO org_data (id, document, version, updated_at) VALUES (1, $1, 1, $2) \
     ON CONFLICT (id) DO UPDATE SET document = excluded.document, version = org_data.version + 1, \
     updated_at = excluded.updated_at RETURNING version";
/// Which filters apply to a list, and the columns they test.
pub(super) struct FilterColumns {
    to: Option<&'static str>,
    from: Option<&'static str>,
    user: &'static str,
    /// Columns any of which may hold the related record.
    related: &'static [&'static str],
    status: Option<&'static str>,
    time: &'static str,
}

pub(super) const SMS_FILTERS: FilterColumns = FilterColumns {
    to: Some("to_phone"),
    from: Some("from_phone"),
    user: "user_id",
    related: &["related_record_id"],
    status: Some("status"),
    time: "created_at",
};
pub(super) const CALL_FILTERS: FilterColumns = SMS_FILTERS;
pub(super) const TASK_FILTERS: FilterColumns = FilterColumns {
    to: None,
    from: None,
    user: "owner_id",
    related: &["who_id", "what_id"],
    status: Some("status"),
    time: "created_at",
};
pub(super) const VOIP_ERROR_FILTERS: FilterColumns = FilterColumns {
    to: Some("to_phone"),
    from: Some("from_phone"),
    user: "user_id",
    related: &["record_id"],
    status: None,
    time: "created_at",
};
pub(super) const STATUS_LOG_FILTERS: FilterColumns = FilterColumns {
    to: None,
    from: None,
    user: "user_id",
    related: &[],
    status: Some("to_status_type"),
    time: "changed_at",
};

/// `SELECT columns FROM table WHERE <filters> ORDER BY seq DESC LIMIT n`: newest first.
/// Filters a list does not take were refused before they got here.
pub(super) fn list_query<DB>(
    columns: &str,
    table: &str,
    filter: &ListFilter,
    on: &FilterColumns,
) -> QueryBuilder<DB>
where
    DB: Database,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(format!("SELECT {columns} FROM {table} WHERE 1 = 1"));
    if let Some(id) = filter.id {
        query.push(" AND id = ").push_bind(id);
    }
    if let (Some(to), Some(column)) = (filter.to, on.to) {
        query.push(format_args!(" AND {column} = ")).push_bind(to);
    }
    if let (Some(from), Some(column)) = (filter.from, on.from) {
        query.push(format_args!(" AND {column} = ")).push_bind(from);
    }
    if let Some(user) = filter.user_id {
        query
            .push(format_args!(" AND {} = ", on.user))
            .push_bind(user);
    }
    if let Some(related) = filter.related_record_id.filter(|_| !on.related.is_empty()) {
        query.push(" AND (");
        for (i, column) in on.related.iter().enumerate() {
            if i > 0 {
                query.push(" OR ");
            }
            query.push(format_args!("{column} = ")).push_bind(related);
        }
        query.push(")");
    }
    if let (Some(status), Some(column)) = (&filter.status, on.status) {
        query
            .push(format_args!(" AND {column} = "))
            .push_bind(status.clone());
    }
    if let Some(since) = filter.since {
        query
            .push(format_args!(" AND {} >= ", on.time))
            .push_bind(since);
    }
    query
        .push(" ORDER BY seq DESC LIMIT ")
        .push_bind(i64::from(filter.limit));
    query
}
