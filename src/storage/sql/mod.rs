//! The storage implementation shared by PostgreSQL and SQLite. Both accept the same SQL
//! (`$n` parameters, `ON CONFLICT`, `RETURNING`), so the queries live here once. This
//! module is compiled once per backend: `sqlite.rs` and `postgres.rs` each mount it, with
//! `Db` naming their database and its [`Dialect`] saying what differs. So the code reads
//! concrete types, and needs no trait bounds to bind or read a value.

mod activity;
mod build;
mod commit;
mod idempotency;
mod lanes;
mod moves;
mod org_and_users;
mod screen;
mod tables;

use std::collections::HashSet;
use std::sync::Arc;

use arc_swap::ArcSwap;
use sqlx::{Database, Pool, QueryBuilder};
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio::task::JoinHandle;

use self::commit::Commits;
use self::lanes::Lanes;
pub(in crate::storage) use self::lanes::own_lanes;
use self::screen::Screens;
use self::tables::{Readable, Table, select};
pub(in crate::storage) use self::tables::{SELECT_EVENTS, statement};
use super::{Db, DbRow};
use crate::domain::{OrgName, SalesforceId, Timestamp};
use crate::records::StoredEvent;
use crate::storage::dialect::Dialect;
use crate::storage::relay::{Committing, OwnEvents};
use crate::storage::{EncodeEvent, ListFilter, StepRules, StorageError};

/// A connection of the backend, inside a transaction or not.
type Connection = <Db as Database>::Connection;

/// Reads go to `reader`, writes to `writer`: the same pool on PostgreSQL, a one-connection
/// pool on SQLite, whose single writer would otherwise make writers queue on a busy lock.
pub(in crate::storage) struct SqlStorage {
    pub(in crate::storage) reader: Pool<Db>,
    pub(in crate::storage) writer: Pool<Db>,
    /// Where committed events go.
    pub(in crate::storage) publisher: Publisher,
    /// How records move on after a write or a move.
    rules: Arc<dyn StepRules>,
    /// The JSON payload of each event.
    encode: EncodeEvent,
    /// The group committer of `write`.
    commits: Commits,
    /// Which orgs may hold opt-outs, where this process alone writes the database.
    opt_outs: OptOutOrgs,
    /// The group reader of `opted_out`.
    screens: Screens,
    /// The group tasks' connections, for the pool's gauges.
    lanes: Arc<Lanes>,
    /// Background work tied to this storage (PostgreSQL's event relay); stopped on drop.
    pub(in crate::storage) _background: Option<AbortOnDrop>,
    /// SQLite's claim on its database file (`sqlite.rs`), released on drop.
    pub(in crate::storage) _file_lock: Option<std::fs::File>,
    /// Whether reads have a pool of their own (SQLite on a file), for the pool's gauges.
    pub(in crate::storage) separate_reader: bool,
}

/// Which orgs may hold opt-outs, known where this process is the database's only writer
/// (SQLite: its file lock), so that the opt-out read every SMS invocation makes is skipped
/// for an org that has none, as most never do. Only the group committer adds opt-outs; it
/// adds their org here once they are committed and before their writer hears back, so a
/// request that starts after a STOP was answered reads. An org is never taken out (a reset
/// or a deletion leaves it "may"), which costs only reads. Where other processes write too
/// (PostgreSQL), nothing is known and every screen reads.
#[derive(Clone)]
pub(in crate::storage) struct OptOutOrgs(Option<Arc<ArcSwap<HashSet<OrgName>>>>);

impl OptOutOrgs {
    /// Where this process is the database's only writer, the orgs that hold opt-outs now;
    /// elsewhere, no knowledge.
    pub(in crate::storage) async fn load(pool: &Pool<Db>) -> Result<Self, StorageError> {
        if !Db::SOLE_WRITER {
            return Ok(Self(None));
        }
        let orgs: Vec<(OrgName,)> = sqlx::query_as("SELECT DISTINCT org FROM opt_outs")
            .fetch_all(pool)
            .await?;
        let orgs = orgs.into_iter().map(|(org,)| org).collect();
        Ok(Self(Some(Arc::new(ArcSwap::from_pointee(orgs)))))
    }

    /// False only when `org` is known to hold no opt-out.
    fn may_hold(&self, org: &OrgName) -> bool {
        self.0.as_ref().is_none_or(|orgs| orgs.load().contains(org))
    }

    /// An opt-out of `org` was committed.
    fn added(&self, org: &OrgName) {
        if let Some(orgs) = &self.0
            && !orgs.load().contains(org)
        {
            orgs.rcu(|known| {
                let mut known = HashSet::clone(known);
                known.insert(org.clone());
                known
            });
        }
    }
}

/// How many events a slow subscriber may fall behind before it must catch up from the
/// database.
const EVENT_BUFFER: usize = 4096;

impl SqlStorage {
    /// Commits `tx` and hands its events on, in commit order (`Publisher::commit`).
    async fn commit(
        &self,
        tx: sqlx::Transaction<'_, Db>,
        events: Vec<StoredEvent>,
    ) -> Result<(), sqlx::Error> {
        self.publisher.commit(tx, events).await
    }

    /// A record of the org, by its Id.
    async fn by_id<T: Readable>(
        &self,
        org: &OrgName,
        id: SalesforceId,
    ) -> Result<Option<T>, StorageError> {
        Ok(sqlx::query_as(T::BY_ID)
            .bind(org)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?)
    }

    /// Runs `delete`, whose `$1` is `before`: forgets what was created before then.
    async fn delete_before(
        &self,
        delete: &'static str,
        before: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query(delete)
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A list of the org's records, newest first.
    async fn list<T: Readable>(
        &self,
        org: &OrgName,
        filter: &ListFilter,
        on: &FilterColumns,
    ) -> Result<Vec<T>, StorageError> {
        let mut query = list_query::<T>(org, filter, on);
        Ok(query.build_query_as().fetch_all(&self.reader).await?)
    }
}

/// Where committed events go: to this instance's subscribers, or, where the database relays
/// them (PostgreSQL's NOTIFY reaches this instance too), to the relay, which hands them on
/// when their announcement arrives, in seq order among every instance's events.
#[derive(Clone)]
pub(in crate::storage) struct Publisher {
    pub(in crate::storage) subscribers: broadcast::Sender<Arc<StoredEvent>>,
    /// Where the database relays events: this instance's, kept for the relay.
    pub(in crate::storage) own: Option<Arc<OwnEvents>>,
    /// Where it does not: held from a commit until its events are handed on (`commit`).
    order: Arc<tokio::sync::Mutex<()>>,
}

impl Publisher {
    fn new() -> Self {
        let (subscribers, _) = broadcast::channel(EVENT_BUFFER);
        let own = Db::RELAYS_EVENTS.then(Arc::default);
        Self {
            subscribers,
            own,
            order: Arc::default(),
        }
    }

    /// A commit begins: where the database relays events, the relay waits for it when it is
    /// announced events it does not have yet (`relay.rs`). Held until the events are handed
    /// on (`committed`), or the commit failed.
    fn committing(&self) -> Option<Committing> {
        self.own.as_ref().map(OwnEvents::committing)
    }

    /// Commits `tx` and hands its events on. Where events are handed on in-process (no
    /// relay), they reach subscribers in commit order only if each commit hands its events on
    /// before the next one commits: the next writer may have the connection as soon as this
    /// one's COMMIT is done. So the commit and the handing on hold `order`. It is taken while
    /// holding the connection (SQLite's one writer), so whoever holds it is either this
    /// writer or one that is handing on its events, and never waits for the connection.
    async fn commit(
        &self,
        tx: sqlx::Transaction<'_, Db>,
        events: Vec<StoredEvent>,
    ) -> Result<(), sqlx::Error> {
        let _order = self.in_order().await;
        tx.commit().await?;
        self.committed(events);
        Ok(())
    }

    /// Held from before a commit until its events are handed on, where they are handed on
    /// in-process (`commit` says why).
    async fn in_order(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.own {
            Some(_) => None,
            None => Some(self.order.lock().await),
        }
    }

    /// Hands on the events of a transaction once it has committed.
    fn committed(&self, events: Vec<StoredEvent>) {
        match &self.own {
            Some(own) => own.committed(events),
            None => {
                for event in events {
                    // No subscriber is not an error.
                    let _ = self.subscribers.send(Arc::new(event));
                }
            }
        }
    }
}

/// Takes what is queued in groups of at most `max_group` and hands each group to `handle`,
/// up to `at_once` groups at a time. A group is taken only once a place is free, so that
/// work gathers meanwhile: the group commit (`commit.rs`) and the group read of opt-outs
/// (`screen.rs`). Ends once the queue is closed and drained.
async fn in_groups<J, F, Done>(
    mut queue: mpsc::Receiver<J>,
    max_group: usize,
    at_once: usize,
    handle: F,
) where
    F: Fn(Vec<J>) -> Done,
    Done: Future<Output = ()> + Send + 'static,
{
    let places = Arc::new(Semaphore::new(at_once));
    loop {
        let Ok(place) = places.clone().acquire_owned().await else {
            return;
        };
        let mut group = Vec::with_capacity(max_group);
        if queue.recv_many(&mut group, max_group).await == 0 {
            return;
        }
        // Boxed: a task's future is copied whole when it is spawned and again when it is
        // done, and a group's is hundreds of bytes.
        let done = Box::pin(handle(group));
        tokio::spawn(async move {
            done.await;
            drop(place);
        });
    }
}

/// Begins a transaction on `pool` in a task of its own, so that it is begun whole even when
/// the caller is dropped meanwhile (a client that hung up, a request that ran out of time).
/// sqlx's `begin` is not safe to drop midway: dropped once its `BEGIN` went out, it hands the
/// connection back to the pool inside a transaction sqlx does not know of, and what runs on
/// that connection next runs in a transaction nobody ends, holding its locks (on PostgreSQL
/// the events' advisory lock, on which every write then waits). A transaction that has begun
/// is rolled back when dropped, as sqlx promises. The committer's tasks, which nothing drops
/// midway, begin theirs directly.
async fn begin(pool: &Pool<Db>) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    let pool = pool.clone();
    match tokio::spawn(async move { pool.begin().await }).await {
        Ok(begun) => begun,
        Err(failure) if failure.is_panic() => std::panic::resume_unwind(failure.into_panic()),
        // The runtime is shutting down.
        Err(_) => Err(sqlx::Error::PoolClosed),
    }
}

/// Aborts a background task when dropped.
pub(in crate::storage) struct AbortOnDrop(pub(in crate::storage) JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Which filters apply to a list, and the columns they test.
struct FilterColumns {
    to: Option<&'static str>,
    from: Option<&'static str>,
    user: Option<&'static str>,
    /// Columns any of which may hold the related record.
    related: &'static [&'static str],
    status: Option<&'static str>,
    direction: Option<&'static str>,
    time: &'static str,
}

const SMS_FILTERS: FilterColumns = FilterColumns {
    to: Some("to_phone"),
    from: Some("from_phone"),
    user: Some("user_id"),
    related: &["related_record_id"],
    status: Some("status"),
    direction: Some("direction"),
    time: "created_at",
};
const CALL_FILTERS: FilterColumns = FilterColumns {
    direction: None,
    ..SMS_FILTERS
};
const TASK_FILTERS: FilterColumns = FilterColumns {
    to: None,
    from: None,
    user: Some("owner_id"),
    related: &["who_id", "what_id"],
    status: Some("status"),
    direction: None,
    time: "created_at",
};
const VOIP_ERROR_FILTERS: FilterColumns = FilterColumns {
    to: Some("to_phone"),
    from: Some("from_phone"),
    user: Some("user_id"),
    related: &["record_id"],
    status: None,
    direction: None,
    time: "created_at",
};
const OPT_OUT_FILTERS: FilterColumns = FilterColumns {
    to: Some("org_number"),
    from: Some("sender"),
    user: None,
    related: &[],
    status: None,
    direction: None,
    time: "since",
};
const STATUS_LOG_FILTERS: FilterColumns = FilterColumns {
    to: None,
    from: None,
    user: Some("user_id"),
    related: &[],
    status: Some("to_status_type"),
    direction: None,
    time: "changed_at",
};

/// `SELECT columns FROM table WHERE org = ... <filters> ORDER BY seq DESC LIMIT n`: the
/// org's, newest first. Filters a list does not take were refused before they got here.
fn list_query<T: Table>(
    org: &OrgName,
    filter: &ListFilter,
    on: &FilterColumns,
) -> QueryBuilder<Db> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {} FROM {} WHERE org = ",
        T::COLUMNS,
        T::NAME
    ));
    query.push_bind(org.clone());
    if let Some(id) = filter.id {
        query.push(" AND id = ").push_bind(id);
    }
    if let (Some(to), Some(column)) = (filter.to, on.to) {
        query.push(format_args!(" AND {column} = ")).push_bind(to);
    }
    if let (Some(from), Some(column)) = (filter.from, on.from) {
        query.push(format_args!(" AND {column} = ")).push_bind(from);
    }
    if let (Some(user), Some(column)) = (filter.user_id, on.user) {
        query.push(format_args!(" AND {column} = ")).push_bind(user);
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
    if let (Some(status), Some(column)) = (filter.status, on.status) {
        query
            .push(format_args!(" AND {column} = "))
            .push_bind(status.as_str());
    }
    if let (Some(direction), Some(column)) = (filter.direction, on.direction) {
        query
            .push(format_args!(" AND {column} = "))
            .push_bind(direction);
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
