//! The connections the group tasks run their queries on: the group commit (`commit.rs`) and
//! the group read of opt-outs (`screen.rs`).
//!
//! Each query of a request's path would otherwise take a connection from sqlx's pool and
//! hand it back. Taking one through `Pool::acquire` builds a future kilobytes large (it may
//! connect) and copies it; handing one back spawns a task that pings the connection, a round
//! trip, every time (sqlx 0.9 does so unconditionally). So where the database takes many
//! connections (PostgreSQL), the lanes keep a few connections of their own, beside the
//! pool and out of its budget (`own_lanes`), that stay with them between queries. Beyond
//! those, and where the one writer connection is shared with every other write (SQLite),
//! they take an idle connection of the pool directly, and only when none is idle build
//! `acquire`, boxed.
//!
//! Whichever it is, a connection is made sure of before use, as the pool's `acquire` makes
//! sure of one (`test_before_acquire`): a ping, within the acquire timeout, so that a
//! database that hangs still fails the caller within it, before anything is written, and so
//! that what a failed query left behind (a rollback sqlx queued) is flushed first. Two are
//! taken as they are: an idle connection to a database in this process (SQLite's), which
//! sqlx pinged as it was given back and whose thread has had nothing to do since
//! (`Dialect::IN_PROCESS`); and one for a read, which writes nothing (`Lanes::take_idle`:
//! the read is bounded by the acquire timeout instead, and made again on a connection made
//! sure of if it fails).

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::pool::PoolConnection;
use sqlx::{Connection as _, Pool};
use tokio::time::Instant;

use super::{Connection, Db};
use crate::storage::dialect::Dialect;

/// How many connections the group tasks may keep of their own, out of a budget of
/// `max_connections` for the database: one for each group task that may run at once (the
/// committer's and the opt-out reader's), but never more than half, and none where the
/// database has one writer connection. The pool gets the rest.
pub(in crate::storage) fn own_lanes(max_connections: u32) -> u32 {
    if Db::SOLE_WRITER {
        return 0;
    }
    let tasks = Db::GROUP_COMMITS + super::screen::READS_AT_ONCE;
    u32::try_from(tasks)
        .unwrap_or(u32::MAX)
        .min(max_connections / 2)
}

/// The group tasks' connections: `own` of their own at most, then the pool's.
pub(super) struct Lanes {
    pool: Pool<Db>,
    /// The most connections of their own the lanes keep.
    own: u32,
    /// How many they hold now, idle or in use.
    opened: AtomicU32,
    /// Those idle, the most recently used last.
    idle: Mutex<Vec<Connection>>,
}

impl Lanes {
    /// Lanes that keep up to `own` connections of their own, opened as `pool` opens its,
    /// and take `pool`'s beyond them.
    pub(super) fn new(pool: Pool<Db>, own: u32) -> Self {
        Self {
            pool,
            own,
            opened: AtomicU32::new(0),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The connections of their own the lanes hold: (in use, idle).
    pub(super) fn held(&self) -> (u32, u32) {
        let idle = u32::try_from(self.idle().len()).unwrap_or(u32::MAX);
        let opened = self.opened.load(Ordering::Relaxed);
        (opened.saturating_sub(idle), idle)
    }

    /// A connection, made sure of: an idle one of the lanes', a new one while the lanes
    /// hold fewer than they may, or else the pool's.
    pub(super) async fn take(&self) -> Result<Lane<'_>, sqlx::Error> {
        if self.pool.is_closed() {
            return Err(sqlx::Error::PoolClosed);
        }
        let deadline = self.deadline();
        loop {
            // Its own statement: the lock is not held across the ping.
            let idle = self.idle().pop();
            let Some(mut conn) = idle else { break };
            match sure(&mut conn, deadline).await {
                Ok(()) => return Ok(Lane::own(conn, self)),
                Err(error) => {
                    // Closed without a goodbye, which could hang as the ping did.
                    drop(conn);
                    self.opened.fetch_sub(1, Ordering::Relaxed);
                    if let sqlx::Error::PoolTimedOut = error {
                        return Err(error);
                    }
                    tracing::debug!(%error, "a lane's connection is broken: opening another");
                }
            }
        }
        if self.may_open() {
            let options = self.pool.connect_options();
            let opened = tokio::time::timeout_at(deadline, Connection::connect_with(&*options))
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)
                .and_then(|opened| opened);
            return match opened {
                Ok(conn) => Ok(Lane::own(conn, self)),
                Err(error) => {
                    self.opened.fetch_sub(1, Ordering::Relaxed);
                    Err(error)
                }
            };
        }
        self.pooled(deadline).await.map(Lane::pooled)
    }

    /// An idle connection, the lanes' own or the pool's, taken as it is: without the ping
    /// [`Lanes::take`] makes, for a query that writes nothing. Bound it by
    /// [`Lanes::deadline`], so that a database that hangs still fails the caller in time,
    /// close it if it fails, and make the query again on a connection `take` gives.
    pub(super) fn take_idle(&self) -> Option<Lane<'_>> {
        if self.pool.is_closed() {
            return None;
        }
        // Its own statement: the lock is not held while the pool is asked.
        let idle = self.idle().pop();
        match idle {
            Some(conn) => Some(Lane::own(conn, self)),
            None => self.pool.try_acquire().map(Lane::pooled),
        }
    }

    /// When a connection taken now, or a query on it, must have answered: the acquire
    /// timeout.
    pub(super) fn deadline(&self) -> Instant {
        Instant::now() + self.pool.options().get_acquire_timeout()
    }

    /// Counts a connection about to be opened, if the lanes may hold one more.
    fn may_open(&self) -> bool {
        self.opened
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |opened| {
                (opened < self.own).then_some(opened + 1)
            })
            .is_ok()
    }

    /// An idle connection of the pool, made sure of (where the database is out of process);
    /// or, when none is idle or the one taken is broken, what `acquire` gives.
    async fn pooled(&self, deadline: Instant) -> Result<PoolConnection<Db>, sqlx::Error> {
        if let Some(mut conn) = self.pool.try_acquire() {
            if Db::IN_PROCESS {
                return Ok(conn);
            }
            match sure(&mut conn, deadline).await {
                Ok(()) => return Ok(conn),
                // Dropped from the pool, as the pool drops a broken connection, so that it
                // makes room for a new one, without a goodbye.
                Err(sqlx::Error::PoolTimedOut) => {
                    drop(conn.detach());
                    return Err(sqlx::Error::PoolTimedOut);
                }
                Err(error) => {
                    tracing::debug!(%error, "an idle connection is broken: closing it");
                    drop(conn.detach());
                }
            }
        }
        Box::pin(self.pool.acquire()).await
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // Nothing panics while holding it: a push or a pop.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Pings `conn` by `deadline`: `PoolTimedOut` if it has not answered by then.
async fn sure(conn: &mut Connection, deadline: Instant) -> Result<(), sqlx::Error> {
    tokio::time::timeout_at(deadline, conn.ping())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
}

/// A connection taken from the lanes, given back when dropped, or closed when dropped while
/// it is `closing`.
pub(super) struct Lane<'a> {
    held: Held<'a>,
    closing: bool,
}

enum Held<'a> {
    /// One of the lanes' own, which goes back to their idle ones.
    Own {
        conn: Option<Connection>,
        lanes: &'a Lanes,
    },
    /// The pool's, which goes back to the pool.
    Pooled(Option<PoolConnection<Db>>),
}

impl<'a> Lane<'a> {
    fn own(conn: Connection, lanes: &'a Lanes) -> Self {
        Self {
            held: Held::Own {
                conn: Some(conn),
                lanes,
            },
            closing: false,
        }
    }

    fn pooled(conn: PoolConnection<Db>) -> Self {
        Self {
            held: Held::Pooled(Some(conn)),
            closing: false,
        }
    }

    /// While set, the connection is closed when dropped instead of given back: for a query
    /// that begins and ends a transaction itself, which sqlx does not know of. Failed or
    /// dropped midway, it may leave that transaction open; closed, the connection ends it.
    pub(super) fn set_closing(&mut self, closing: bool) {
        self.closing = closing;
    }
}

impl Deref for Lane<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match &self.held {
            Held::Own { conn, .. } => conn.as_ref(),
            Held::Pooled(conn) => conn.as_deref(),
        }
        .expect("held until dropped")
    }
}

impl DerefMut for Lane<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match &mut self.held {
            Held::Own { conn, .. } => conn.as_mut(),
            Held::Pooled(conn) => conn.as_deref_mut(),
        }
        .expect("held until dropped")
    }
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        // Given back as it is: whatever a failed query left, the ping of its next use finds
        // or flushes. Closed (dropped out of the lanes' count or the pool's) when closing.
        match &mut self.held {
            Held::Own { conn, lanes } => {
                if let Some(conn) = conn.take() {
                    if self.closing {
                        drop(conn);
                        lanes.opened.fetch_sub(1, Ordering::Relaxed);
                    } else {
                        lanes.idle().push(conn);
                    }
                }
            }
            Held::Pooled(conn) => {
                if self.closing
                    && let Some(conn) = conn.take()
                {
                    drop(conn.detach());
                }
            }
        }
    }
}
