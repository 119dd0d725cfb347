//! Persistence: one `Storage` trait, implemented once over SQL (`sql.rs`) for both
//! PostgreSQL (`postgres.rs`) and the embedded SQLite default (`sqlite.rs`).

mod codec;
mod postgres;
mod records;
mod sql;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use records::{ListFilter, SmsMessage, SmsRecord, Task, VoipErrorLog};

use crate::domain::SalesforceId;
use crate::org::OrgDocument;

/// Everything the emulator keeps: the org data and what the actions did.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<(), StorageError>;

    /// The stored org data, `None` when none was ever stored.
    async fn load_org(&self) -> Result<Option<OrgDocument>, StorageError>;
    /// Replaces the org data.
    async fn save_org(&self, document: &OrgDocument) -> Result<(), StorageError>;

    /// Stores messages with their Tasks and VoIP error log entries, all or nothing.
    async fn record_sms(&self, records: &[SmsRecord]) -> Result<(), StorageError>;
    async fn sms_message(&self, id: SalesforceId) -> Result<Option<SmsMessage>, StorageError>;
    /// A message by the provider's id (`SM...`).
    async fn sms_message_by_provider_id(
        &self,
        provider_id: &str,
    ) -> Result<Option<SmsMessage>, StorageError>;
    async fn list_sms_messages(&self, filter: &ListFilter)
    -> Result<Vec<SmsMessage>, StorageError>;

    async fn task(&self, id: SalesforceId) -> Result<Option<Task>, StorageError>;
    async fn list_tasks(&self, filter: &ListFilter) -> Result<Vec<Task>, StorageError>;

    async fn voip_error(&self, id: SalesforceId) -> Result<Option<VoipErrorLog>, StorageError>;
    async fn list_voip_errors(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<VoipErrorLog>, StorageError>;

    /// Forgets all activity, and when `org` is given replaces the org data with it, at once.
    async fn reset(&self, org: Option<&OrgDocument>) -> Result<(), StorageError>;
}

/// What can go wrong with the database, in terms callers can act on.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database cannot be reached or is overloaded; worth retrying later.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
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
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &error {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
                Self::Unavailable(error)
            }
            E::Database(db) if db.is_unique_violation() => Self::Conflict(error),
            E::Database(db) if is_unavailable_code(db.code().as_deref()) => {
                Self::Unavailable(error)
            }
            E::ColumnDecode { .. } | E::Decode(_) => Self::Corrupt(error.to_string()),
            _ => Self::Internal(error),
        }
    }
}

/// PostgreSQL's "cannot connect now" / admin shutdown / too many connections, and SQLite's
/// busy and locked codes: transient, so 503 rather than 500.
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("57P01" | "57P02" | "57P03" | "53300" | "5" | "6")
    )
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
/// schema up to date.
pub async fn connect(
    url: &str,
    options: &StorageOptions,
) -> Result<Arc<dyn Storage>, StorageError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::connect(url, options).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::connect(url, options).await?))
    } else {
        Err(StorageError::Config(format!(
            "unsupported database URL `{}`: use postgres://... or sqlite:...",
            redact_url(url)
        )))
    }
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
