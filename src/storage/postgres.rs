//! PostgreSQL: one pool for reads and writes. Several instances may share the database;
//! each learns of the others' events through LISTEN/NOTIFY.

use std::collections::{BTreeSet, VecDeque};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::broadcast;

use super::dialect::{Dialect, InsertsAsOne};
use super::relay::OwnEvents;
use super::{EncodeEvent, StepRules, StorageError, StorageOptions};
use crate::records::StoredEvent;

// The SQL shared with SQLite, compiled again for PostgreSQL (`sql/mod.rs` says why).
#[path = "sql/mod.rs"]
#[allow(
    clippy::duplicate_mod,
    reason = "compiled once per backend, on purpose"
)]
mod sql;

pub(super) use sql::SqlStorage;
use sql::{AbortOnDrop, OptOutOrgs, SELECT_EVENTS, statement};

/// The database `sql/` is compiled for here.
type Db = Postgres;
type DbRow = sqlx::postgres::PgRow;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The most events one catch-up of the relay reads.
const CATCH_UP: i64 = 10_000;

/// The channel committed events are announced on (payload: their seqs).
const CHANNEL: &str = "fastcall_events";

/// The advisory lock that numbers events in commit order (`INSERT_EVENTS`): "fastcall"
/// in ASCII, as a `bigint`.
macro_rules! events_lock {
    () => {
        "7377304608330312812"
    };
}

// `INSERT_EVENTS` in two parts: the insert, as a `WITH` query named `inserted`, up to its
// `VALUES`; and what follows them, up to the end of the statement.
macro_rules! events_insert {
    () => {
        "inserted AS (INSERT INTO events (org, kind, payload, created_at) SELECT * FROM ("
    };
}
macro_rules! events_announce {
    () => {
        concat!(
            ") AS new (org, kind, payload, created_at) \
             WHERE (SELECT pg_advisory_xact_lock(",
            events_lock!(),
            ")) IS NOT NULL RETURNING seq), \
             announced AS (SELECT pg_notify('fastcall_events', string_agg(CAST(seq AS TEXT), ',')) \
             FROM inserted) SELECT inserted.seq FROM inserted, announced"
        )
    };
}

impl Dialect for Postgres {
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const FOR_UPDATE_SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    // One round trip stores the events and announces them on `CHANNEL`. A NOTIFY payload
    // holds at most 8000 bytes: `EVENTS_PER_INSERT` seqs fit.
    //
    // Seqs must grow in commit order, or a reader could see seq 10 committed while seq 9
    // is still to come, and skip it for good (a replay after `Last-Event-ID: 10`, a
    // catch-up). So the insert first takes the `events_lock!` advisory lock (a one-time
    // filter, evaluated before any row is numbered) and holds it to the end of the
    // transaction, of which it is always the last statement: events are numbered and
    // committed one transaction at a time, while everything else the transactions write
    // still goes on side by side. (A group commit that only inserts is one statement, its
    // other writes `WITH` queries before this one, `INSERTS_AS_ONE`: they run under the
    // lock too, and take microseconds.)
    const INSERT_EVENTS: (&'static str, &'static str) =
        (concat!("WITH ", events_insert!()), events_announce!());
    const INSERTS_AS_ONE: InsertsAsOne = InsertsAsOne::With {
        events: (events_insert!(), events_announce!()),
    };
    const RELAYS_EVENTS: bool = true;
    // Instances share the database.
    const SOLE_WRITER: bool = false;
    const IN_PROCESS: bool = false;
    const NUMBERED_PARAMETERS: bool = true;
    // One group commits while the next one inserts: the commit's WAL flush is the wait. A
    // third at once made groups smaller, so PostgreSQL ran more, smaller transactions: about
    // a fifth more of its CPU per SMS at 16 clients (BENCHMARKS.md).
    const GROUP_COMMITS: usize = 2;
    // Seqs come from the table's sequence, whatever rows are left.
    const PRUNE_EVENTS: &'static [&'static str] = &["DELETE FROM events WHERE seq < coalesce(\
         (SELECT seq FROM events WHERE created_at >= $1 ORDER BY seq LIMIT 1), \
         (SELECT max(seq) + 1 FROM events))"];
    const FORGET_EVENTS: &'static [&'static str] = &["DELETE FROM events WHERE org = $1"];

    // Its inserts return what they stored (`RETURNING`).
    fn last_insert_id(_: &sqlx::postgres::PgQueryResult) -> Option<i64> {
        None
    }
}

pub(super) async fn connect(
    url: &str,
    options: &StorageOptions,
    rules: Arc<dyn StepRules>,
    encode: EncodeEvent,
) -> Result<SqlStorage, StorageError> {
    let connect_options = PgConnectOptions::from_str(url)
        .map_err(|e| StorageError::Config(format!("bad PostgreSQL URL: {e}")))?
        .application_name("fastcall-emulator");
    // The group tasks keep a few connections of their own (`sql/lanes.rs`), out of the same
    // budget.
    let own_lanes = sql::own_lanes(options.max_connections);
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections - own_lanes)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect_options)
        .await?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| StorageError::Config(format!("migrating PostgreSQL: {e}")))?;
    let opt_outs = OptOutOrgs::load(&pool).await?;
    let mut storage = SqlStorage::new(
        pool.clone(),
        pool.clone(),
        own_lanes,
        rules,
        encode,
        opt_outs,
        options.metrics.clone(),
    );
    // Listen before answering any request, so no event committed from now on is missed.
    let listener = listen(&pool).await?;
    let own = storage.publisher.own.clone().unwrap_or_default();
    let subscribers = storage.publisher.subscribers.clone();
    let relay = tokio::spawn(relay_events(pool, listener, own, subscribers));
    storage._background = Some(AbortOnDrop(relay));
    Ok(storage)
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Hands every committed event, from any instance, to this instance's subscribers, in
/// seq order (which is commit order: `INSERT_EVENTS`). Its own events it has at hand
/// (`own`); the others' it reads. When an announced event cannot be read, or the connection
/// was lost, it catches up from the events table, retrying until it can: a subscriber may
/// get an event late, never lose it.
async fn relay_events(
    pool: PgPool,
    mut listener: PgListener,
    own: Arc<OwnEvents>,
    sender: broadcast::Sender<Arc<StoredEvent>>,
) {
    let mut relayed = Relayed::default();
    let mut latest = match sqlx::query_as::<_, (Option<i64>,)>("SELECT max(seq) FROM events")
        .fetch_one(&pool)
        .await
    {
        Ok((seq,)) => seq.unwrap_or(0),
        Err(error) => {
            tracing::warn!(%error, "cannot read the latest event; relaying new ones only");
            0
        }
    };
    let mut behind = false;
    loop {
        if behind {
            let sql = statement!(SELECT_EVENTS, "WHERE seq > $1 ORDER BY seq LIMIT $2");
            match sqlx::query_as::<_, StoredEvent>(sql)
                .bind(latest)
                .bind(CATCH_UP)
                .fetch_all(&pool)
                .await
            {
                Ok(events) => {
                    behind = events.len() as i64 == CATCH_UP;
                    relayed.send(&sender, events.into_iter().map(Arc::new), &mut latest);
                    own.relayed(latest);
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot catch up on events yet");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            continue;
        }
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                let Some(mut seqs) = announced_seqs(notification.payload()) else {
                    tracing::warn!(
                        payload = notification.payload(),
                        "an event announcement is not a list of seqs; catching up"
                    );
                    behind = true;
                    continue;
                };
                let mut events = own.take(&mut seqs);
                if !seqs.is_empty() {
                    // They may be this instance's, of a commit that has not kept them yet.
                    own.settled().await;
                    events.extend(own.take(&mut seqs));
                    events.sort_unstable_by_key(|event| event.seq);
                }
                if !seqs.is_empty() {
                    let sql = statement!(SELECT_EVENTS, "WHERE seq = ANY($1)");
                    match sqlx::query_as::<_, StoredEvent>(sql)
                        .bind(&seqs)
                        .fetch_all(&pool)
                        .await
                    {
                        Ok(read) => {
                            events.extend(read.into_iter().map(Arc::new));
                            events.sort_unstable_by_key(|event| event.seq);
                        }
                        // What was at hand is read back with the rest: none is handed
                        // on before an earlier one.
                        Err(error) => {
                            tracing::warn!(%error, "cannot read announced events; catching up");
                            behind = true;
                            continue;
                        }
                    }
                }
                relayed.send(&sender, events, &mut latest);
                own.relayed(latest);
            }
            // The connection was lost: listen again, then fetch what was committed meanwhile.
            Ok(None) | Err(_) => {
                tracing::warn!("event listener disconnected; reconnecting");
                listener = loop {
                    match listen(&pool).await {
                        Ok(listener) => break listener,
                        Err(error) => {
                            tracing::warn!(%error, "cannot listen for events yet");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                };
                behind = true;
            }
        }
    }
}

/// The seqs an announcement names (`INSERT_EVENTS`: comma-separated); `None` when it is not
/// such a list, so that the relay catches up rather than miss one.
fn announced_seqs(payload: &str) -> Option<Vec<i64>> {
    payload.split(',').map(|seq| seq.parse().ok()).collect()
}

/// The seqs relayed lately, so an event fetched twice (announced, and caught up after a
/// reconnect) reaches subscribers once.
#[derive(Default)]
struct Relayed {
    order: VecDeque<i64>,
    seen: BTreeSet<i64>,
}

impl Relayed {
    const REMEMBERED: usize = 16_384;

    fn send(
        &mut self,
        sender: &broadcast::Sender<Arc<StoredEvent>>,
        events: impl IntoIterator<Item = Arc<StoredEvent>>,
        latest: &mut i64,
    ) {
        for event in events {
            if !self.seen.insert(event.seq) {
                continue;
            }
            self.order.push_back(event.seq);
            if self.order.len() > Self::REMEMBERED
                && let Some(oldest) = self.order.pop_front()
            {
                self.seen.remove(&oldest);
            }
            *latest = (*latest).max(event.seq);
            let _ = sender.send(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announcement_is_read_whole_or_not_at_all() {
        assert_eq!(announced_seqs("7"), Some(vec![7]));
        assert_eq!(announced_seqs("7,8,10"), Some(vec![7, 8, 10]));
        for garbled in ["", "7,,8", "7,x", "7, 8", "9223372036854775808"] {
            assert_eq!(announced_seqs(garbled), None, "{garbled:?}");
        }
    }
}
