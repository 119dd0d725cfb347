//! SQLite, the embedded default: a file in WAL mode, one writer connection and a pool of
//! readers, so reads never wait for writes and writes never fight over the lock. One
//! process owns the file (`claim` makes sure), so events are published in-process.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Sqlite};

use super::dialect::{Dialect, InsertsAsOne};
use super::{EncodeEvent, StepRules, StorageError, StorageOptions};

// The SQL shared with PostgreSQL, compiled for SQLite.
#[path = "sql/mod.rs"]
mod sql;

use sql::OptOutOrgs;
pub(super) use sql::SqlStorage;

/// The database `sql/` is compiled for here.
type Db = Sqlite;
type DbRow = sqlx::sqlite::SqliteRow;

/// The page size of a database this creates (an existing one keeps its own). An SMS writes
/// its row and index entries to about 16 B-tree pages (the message's, its Task's, its
/// event's), and each dirty page goes to the WAL whole and is checksummed there: at 2 KiB
/// a commit writes half what it writes at SQLite's default 4 KiB, about 16,000
/// instructions less per SMS (BENCHMARKS.md). At 1 KiB, B-trees split so much more often
/// that it gains nothing more. A row too long for a page (a long MMS body) goes on overflow
/// pages, as at any page size.
const PAGE_SIZE: u32 = 2048;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

impl Dialect for Sqlite {
    // The single writer connection serialises every read-modify-write: no row locks needed.
    const FOR_UPDATE: &'static str = "";
    const FOR_UPDATE_SKIP_LOCKED: &'static str = "";
    const INSERT_EVENTS: (&'static str, &'static str) = (
        "INSERT INTO events (org, kind, payload, created_at) ",
        " RETURNING seq",
    );
    const INSERTS_AS_ONE: InsertsAsOne = InsertsAsOne::Statements {
        events: ("INSERT INTO events (org, kind, payload, created_at) ", ""),
    };
    const RELAYS_EVENTS: bool = false;
    // The file's claim (`claim`) keeps every other process out.
    const SOLE_WRITER: bool = true;
    const IN_PROCESS: bool = true;
    // One writer.
    const NUMBERED_PARAMETERS: bool = false;
    const GROUP_COMMITS: usize = 1;
    // A new event takes one above the highest seq in the table (migration 0010), so the
    // newest event stays, blanked when it goes (no org is named ''): a seq is never given
    // twice, and no replay reads a blank one.
    const PRUNE_EVENTS: &'static [&'static str] = &[
        "UPDATE events SET kind = '', payload = '', org = '' \
         WHERE seq = (SELECT max(seq) FROM events) AND created_at < $1",
        "DELETE FROM events WHERE seq < coalesce(\
         (SELECT seq FROM events WHERE created_at >= $1 ORDER BY seq LIMIT 1), \
         (SELECT max(seq) FROM events))",
    ];
    const FORGET_EVENTS: &'static [&'static str] = &[
        "UPDATE events SET kind = '', payload = '', org = '' \
         WHERE seq = (SELECT max(seq) FROM events) AND org = $1",
        "DELETE FROM events WHERE org = $1",
    ];

    fn last_insert_id(done: &sqlx::sqlite::SqliteQueryResult) -> Option<i64> {
        Some(done.last_insert_rowid())
    }
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
        .page_size(PAGE_SIZE)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    // An in-memory database lives in one connection: it cannot be split into pools.
    if is_in_memory(url) {
        let pool = writer_options(options)
            .connect_with(connect_options)
            .await?;
        migrate(&pool).await?;
        let opt_outs = OptOutOrgs::load(&pool).await?;
        return Ok(SqlStorage::new(
            pool.clone(),
            pool,
            sql::own_lanes(options.max_connections),
            rules,
            encode,
            opt_outs,
            options.metrics.clone(),
        ));
    }
    let file_lock = claim(connect_options.get_filename())?;
    // WAL lets readers run beside the writer; NORMAL sync keeps every commit across a
    // process crash (the WAL is written before commit returns) and syncs at checkpoints.
    let connect_options = connect_options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    // Migrated on a connection of its own, closed before the writer's is opened: a
    // connection that ran the migrations went on allocating outside SQLite's lookaside
    // memory, about 8,500 instructions more for every SMS it stored after (BENCHMARKS.md).
    let mut migrating = sqlx::SqliteConnection::connect_with(&connect_options).await?;
    let migrated = migrate(&mut migrating).await;
    migrating.close().await?;
    migrated?;
    let writer = writer_options(options)
        .connect_with(connect_options.clone())
        .await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect_options.read_only(true))
        .await?;
    let opt_outs = OptOutOrgs::load(&writer).await?;
    let mut storage = SqlStorage::new(
        reader,
        writer,
        // None: the one writer connection is the writer pool's.
        sql::own_lanes(options.max_connections),
        rules,
        encode,
        opt_outs,
        options.metrics.clone(),
    );
    storage.separate_reader = true;
    storage._file_lock = Some(file_lock);
    Ok(storage)
}

/// Claims the database file for this process, for as long as the returned file is open.
///
/// A second process on the same file would start, then queue behind this one's writer until
/// its writes failed with "database is locked", and its subscribers would never see this
/// one's events. So it is refused at start. The claim is an exclusive lock on `<file>.lock`,
/// not on the database: closing any other descriptor of the database file would drop the
/// locks SQLite holds on it. The system releases the claim when the process ends, however
/// it ends; the empty lock file stays.
fn claim(database: &Path) -> Result<File, StorageError> {
    let database = std::path::absolute(database).unwrap_or_else(|_| database.to_owned());
    let path = lock_path(&database);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            StorageError::Config(format!("cannot open the lock file {}: {e}", path.display()))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StorageError::Config(format!(
            "{} is in use by another fastcall-emulator process (it holds {}). One process \
             serves a SQLite file: stop the other one, or give this one another --database-url \
             (instances that share a database need PostgreSQL)",
            database.display(),
            path.display()
        ))),
        Err(TryLockError::Error(e)) => Err(StorageError::Config(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// `<file>.lock`, beside the database file.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The one writer connection. A transaction whose COMMIT failed (a full disk, an I/O
/// error) may already have been rolled back by SQLite itself; sqlx's ROLLBACK then fails,
/// it goes on counting the transaction as open, and nests every later transaction in a
/// savepoint of it: those answer as committed, yet are lost (the full-disk test in
/// `tests/api/resilience/disk_full.rs` saw hundreds go). So a connection that comes back
/// with a transaction still counted open is closed, and the pool opens a clean one. That
/// includes one whose dropped transaction's rollback is still queued: no ping waits for it
/// (a round trip on every write), as failures are rare and a new connection is cheap.
fn writer_options(options: &StorageOptions) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(options.acquire_timeout)
        .after_release(|conn, _| {
            let in_transaction = conn.is_in_transaction();
            Box::pin(async move { Ok(!in_transaction) })
        })
}

async fn migrate<'c>(on: impl sqlx::Acquire<'c, Database = Sqlite>) -> Result<(), StorageError> {
    MIGRATOR
        .run(on)
        .await
        .map_err(|e| StorageError::Config(format!("migrating SQLite: {e}")))
}

fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}
