//! SQLite, the embedded default: a file in WAL mode, one writer connection and a pool of
//! readers, so reads never wait for writes and writes never fight over the lock. One
//! process owns the file, so events are published in-process.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Sqlite};

use super::dialect::Dialect;
use super::{EncodeEvent, StepRules, StorageError, StorageOptions};

// The SQL shared with PostgreSQL, compiled for SQLite.
#[path = "sql/mod.rs"]
mod sql;

pub(super) use sql::SqlStorage;

/// The database `sql/` is compiled for here.
type Db = Sqlite;
type DbRow = sqlx::sqlite::SqliteRow;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

impl Dialect for Sqlite {
    // The single writer connection serialises every read-modify-write: no row locks needed.
    const FOR_UPDATE: &'static str = "";
    const FOR_UPDATE_SKIP_LOCKED: &'static str = "";
    const INSERT_EVENTS: (&'static str, &'static str) = (
        "INSERT INTO events (kind, payload, created_at) ",
        " RETURNING seq",
    );
    const RELAYS_EVENTS: bool = false;
    // One writer.
    const GROUP_COMMITS: usize = 1;
}

pub(super) async fn connect(
    url: &str,
    options: &StorageOptions,
    rules: Arc<dyn StepRules>,
    encode: EncodeEvent,
) -> Result<SqlStorage, StorageError> {
    let connect_options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StorageError::Config(format!("bad SQLite URL: {e}")))?
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    // An in-memory database lives in one connection: it cannot be split into pools.
    if is_in_memory(url) {
        let pool = writer_options(options)
            .connect_with(connect_options)
            .await?;
        migrate(&pool).await?;
        return Ok(SqlStorage::new(pool.clone(), pool, rules, encode));
    }
    // WAL lets readers run beside the writer; NORMAL sync keeps every commit across a
    // process crash (the WAL is written before commit returns) and syncs at checkpoints.
    let connect_options = connect_options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let writer = writer_options(options)
        .connect_with(connect_options.clone())
        .await?;
    migrate(&writer).await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect_options.read_only(true))
        .await?;
    Ok(SqlStorage::new(reader, writer, rules, encode))
}

/// The one writer connection. A transaction whose COMMIT failed (a full disk, an I/O
/// error) may already have been rolled back by SQLite itself; sqlx's ROLLBACK then fails,
/// it goes on counting the transaction as open, and nests every later transaction in a
/// savepoint of it: those answer as committed, yet are lost (the full-disk test in
/// `tests/api/resilience/disk_full.rs` saw hundreds go). So a connection that comes back
/// with a transaction still counted open is closed, and the pool opens a clean one.
fn writer_options(options: &StorageOptions) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(options.acquire_timeout)
        .after_release(|conn, _| {
            Box::pin(async move {
                // The ping waits behind a rollback queued when the transaction was dropped.
                conn.ping().await?;
                Ok(!conn.is_in_transaction())
            })
        })
}

async fn migrate(pool: &sqlx::SqlitePool) -> Result<(), StorageError> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| StorageError::Config(format!("migrating SQLite: {e}")))
}

fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}
