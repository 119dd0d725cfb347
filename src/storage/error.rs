//! Storage errors, and which database errors are worth a retry.

use std::sync::Arc;

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
