//! Persistence: one `Storage` trait, implemented once over SQL (`sql.rs`) for both
//! PostgreSQL (`postgres.rs`) and the embedded SQLite default (`sqlite.rs`).

mod codec;
mod health;
mod postgres;
mod records;
mod sql;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;

pub use records::{
    Batch, Call, Claim, KeyedAnswer, ListFilter, PendingStep, RecordKind, SmsMessage, StatusChange,
    StatusChangeOutcome, StatusHistory, StatusLogEntry, StatusStep, StoredAnswer, StoredEvent,
    Task, UserState, UserStatusValue, VoipErrorLog,
};

use crate::domain::lifecycle::ProviderError;
use crate::domain::{CallStatus, SalesforceId, SmsStatus, Timestamp};
use crate::org::OrgDocument;

/// Everything the emulator keeps: the org data, user statuses and the events they raise.
/// The records the actions create are read and written through [`ActivityStore`].
#[async_trait]
pub trait Storage: ActivityStore + LifecycleStore + IdempotencyStore {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<(), StorageError>;
    /// Succeeds when the smallest write commits: a full disk fails it.
    async fn probe_write(&self) -> Result<(), StorageError>;
    /// Succeeds when requests can be served: [`connect`]'s storage also fails it while
    /// writes fail (`health.rs`); the bare SQL storage only pings.
    async fn ready(&self) -> Result<(), StorageError> {
        self.ping().await
    }

    /// The stored org data, `None` when none was ever stored.
    async fn load_org(&self) -> Result<Option<OrgDocument>, StorageError>;
    /// Replaces the org data. Statuses set through the action since are forgotten (users
    /// start from the new org's), and an `org.replaced` event tells every instance.
    async fn save_org(&self, document: &OrgDocument) -> Result<(), StorageError>;
    /// Forgets all activity (records, statuses, the status log, events), and when `org` is
    /// given replaces the org data with it, at once.
    async fn reset(&self, org: Option<&OrgDocument>) -> Result<(), StorageError>;

    /// A user's status as last set through the action; `None` when never set (the org's).
    async fn user_state(&self, user_id: SalesforceId) -> Result<Option<UserState>, StorageError>;
    /// Sets a user's status unless the user already has it. Changes for one user are
    /// serialised, so each log entry's "from" is the previous entry's "to".
    async fn change_user_status(
        &self,
        change: &StatusChange,
    ) -> Result<StatusChangeOutcome, StorageError>;
    async fn status_log_entry(
        &self,
        id: SalesforceId,
    ) -> Result<Option<StatusLogEntry>, StorageError>;
    async fn list_status_log(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<StatusLogEntry>, StorageError>;

    /// Live events from every instance sharing the database, in commit order.
    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>>;
    /// Stored events after `after` (a seq), oldest first: a reconnecting subscriber's catch-up.
    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>, StorageError>;
    /// Deletes events created before `before`.
    async fn prune_events(&self, before: Timestamp) -> Result<(), StorageError>;
}

/// The records the actions create: messages, calls, Tasks and VoIP error log entries.
#[async_trait]
pub trait ActivityStore: Send + Sync + 'static {
    /// Stores what one request created, with the `*.created` events of its messages and
    /// calls, all or nothing, and returns once it is committed. The batch's steps that are
    /// already due (immediate progression) are taken in the same transaction. Concurrent
    /// writes may share a transaction (group commit), never a batch split across two.
    async fn write(&self, batch: Batch) -> Result<(), StorageError>;

    async fn sms_message(&self, id: SalesforceId) -> Result<Option<SmsMessage>, StorageError>;
    /// A message by the provider's id (`SM...`).
    async fn sms_message_by_provider_id(
        &self,
        provider_id: &str,
    ) -> Result<Option<SmsMessage>, StorageError>;
    async fn list_sms_messages(&self, filter: &ListFilter)
    -> Result<Vec<SmsMessage>, StorageError>;

    async fn call(&self, id: SalesforceId) -> Result<Option<Call>, StorageError>;
    /// A call by the provider's id (`CA...`).
    async fn call_by_provider_id(&self, provider_id: &str) -> Result<Option<Call>, StorageError>;
    async fn list_calls(&self, filter: &ListFilter) -> Result<Vec<Call>, StorageError>;

    async fn task(&self, id: SalesforceId) -> Result<Option<Task>, StorageError>;
    async fn list_tasks(&self, filter: &ListFilter) -> Result<Vec<Task>, StorageError>;

    async fn voip_error(&self, id: SalesforceId) -> Result<Option<VoipErrorLog>, StorageError>;
    async fn list_voip_errors(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<VoipErrorLog>, StorageError>;
}

/// How messages and calls move on: the provider's steps, applied exactly once, by the
/// [`StepRules`] the storage was opened with.
#[async_trait]
pub trait LifecycleStore: Send + Sync + 'static {
    /// Applies up to `limit` steps due at `now`, oldest first. Each step is applied once,
    /// even with several instances sharing the database; a step that no longer applies (the
    /// record moved on, or is gone) is dropped. Returns how many steps were taken up.
    async fn run_due_steps(&self, now: Timestamp, limit: u32) -> Result<usize, StorageError>;
    /// When the earliest pending step is due.
    async fn next_step_due(&self) -> Result<Option<Timestamp>, StorageError>;
    /// Moves a message to `to` now, as its provider would report it.
    async fn move_sms(
        &self,
        id: SalesforceId,
        to: SmsStatus,
        error: Option<ProviderError>,
    ) -> Result<Moved<SmsMessage, SmsStatus>, StorageError>;
    /// Moves a call to `to` now, as its provider would report it.
    async fn move_call(
        &self,
        id: SalesforceId,
        to: CallStatus,
        error: Option<ProviderError>,
    ) -> Result<Moved<Call, CallStatus>, StorageError>;
}

/// Idempotency keys: a retry with the same key and request gets the first answer.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `key` for a request with `fingerprint`, or finds what its first request did.
    /// A claim not answered by `now + lease` is taken to have died and can be claimed again;
    /// a key created before `expired_before` is forgotten and claimed afresh. Concurrent
    /// claims of one key: one gets it, the others find it running.
    async fn claim_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        lease: Duration,
        expired_before: Timestamp,
    ) -> Result<Claim, StorageError>;
    /// Stores a claimed key's answer (when no batch carried it).
    async fn answer_key(&self, key: &str, answer: &StoredAnswer) -> Result<(), StorageError>;
    /// Gives up a claim whose request stored nothing, so a retry runs it.
    async fn release_key(&self, key: &str) -> Result<(), StorageError>;
    /// Forgets keys created before `before`.
    async fn prune_keys(&self, before: Timestamp) -> Result<(), StorageError>;
}

/// What storage asks of the lifecycle while it moves a record, inside the transaction.
/// Given to [`connect`].
pub trait StepRules: Send + Sync {
    /// The provider named in VoIP error log entries of later failures.
    fn provider(&self) -> &str;
    /// The step a message takes after the status it has now, if its provider reports one.
    fn next_sms_step(&self, message: &SmsMessage, now: Timestamp) -> Option<PendingStep>;
    /// The step a call takes after the status it has now.
    fn next_call_step(&self, call: &Call, now: Timestamp) -> Option<PendingStep>;
}

/// The result of moving a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Moved<R, S> {
    /// The record as it is now.
    Done(R),
    NotFound,
    /// No provider could report that move from the record's current status.
    Refused {
        current: S,
    },
}

/// What can go wrong with the database, in terms callers can act on.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database cannot be reached or is overloaded; worth retrying later.
    /// Shared by every write of a failed group commit.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] Arc<sqlx::Error>),
    /// The database answers but cannot store more: its disk is full or failing. Reads
    /// still work; writes are worth retrying once space is freed.
    #[error("the database cannot write: {0}")]
    CannotWrite(#[source] Arc<sqlx::Error>),
    /// A write collided with existing data.
    #[error("conflicting write: {0}")]
    Conflict(#[source] sqlx::Error),
    /// Stored data that the emulator cannot read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Internal(#[source] sqlx::Error),
    #[error("cannot open the database: {0}")]
    Config(String),
    /// The storage stopped (the process is shutting down) before the write was done.
    #[error("the storage has stopped")]
    Stopped,
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &error {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
                Self::Unavailable(Arc::new(error))
            }
            E::Database(db) if db.is_unique_violation() => Self::Conflict(error),
            E::Database(db) => match transient(db.as_ref()) {
                Some(Transient::Unavailable) => Self::Unavailable(Arc::new(error)),
                Some(Transient::CannotWrite) => Self::CannotWrite(Arc::new(error)),
                None => Self::Internal(error),
            },
            E::ColumnDecode { .. } | E::Decode(_) => Self::Corrupt(error.to_string()),
            _ => Self::Internal(error),
        }
    }
}

enum Transient {
    Unavailable,
    CannotWrite,
}

/// Database errors worth a retry (503, not 500): PostgreSQL's "cannot connect now", admin
/// shutdown, too many connections and out of memory, SQLite's busy and locked; a full or
/// failing disk (PostgreSQL's `disk_full` and `io_error`, SQLite's FULL and IOERR).
fn transient(error: &dyn sqlx::error::DatabaseError) -> Option<Transient> {
    let code = error.code()?;
    if error
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        // Extended result codes keep the primary code in their low byte.
        return match code.parse::<i32>().ok()? & 0xff {
            5 | 6 => Some(Transient::Unavailable),
            10 | 13 => Some(Transient::CannotWrite),
            _ => None,
        };
    }
    match code.as_ref() {
        "57P01" | "57P02" | "57P03" | "53300" | "53200" => Some(Transient::Unavailable),
        "53100" | "58030" => Some(Transient::CannotWrite),
        _ => None,
    }
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct StorageOptions {
    pub max_connections: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for StorageOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Opens the database the URL names (`postgres://...` or `sqlite:...`) and brings its
/// schema up to date. Messages and calls move on by `rules`.
pub async fn connect(
    url: &str,
    options: &StorageOptions,
    rules: Arc<dyn StepRules>,
) -> Result<Arc<dyn Storage>, StorageError> {
    let storage: Arc<dyn Storage> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(postgres::connect(url, options, rules).await?)
        } else if url.starts_with("sqlite:") {
            Arc::new(sqlite::connect(url, options, rules).await?)
        } else {
            return Err(StorageError::Config(format!(
                "unsupported database URL `{}`: use postgres://... or sqlite:...",
                redact_url(url)
            )));
        };
    Ok(Arc::new(health::Guarded::new(storage)))
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
