//! Group commit: the writes of concurrent requests share one transaction.
//!
//! `write` queues its batch and waits for the outcome of the transaction that took it. One
//! committer task per storage takes whatever is queued (at most [`MAX_GROUP`] batches),
//! stores it all with multi-row inserts in one transaction, and answers every waiting
//! writer once that transaction has committed. Up to `Dialect::GROUP_COMMITS`
//! transactions run at once (PostgreSQL overlaps one group's commit with the next group's
//! inserts; SQLite has one writer); while they all run, writes queue up for the next group.
//!
//! So a write still returns only when its records are committed, and a request's records
//! are still all stored or none: a batch is never split across transactions. What changes
//! is the cost: one transaction, a few statements and one commit for a whole group instead
//! of for each request. A group that only inserts (no step due now, no provider's answer,
//! no opt-out change) sends its inserts as one query: on PostgreSQL a single statement of
//! data-modifying `WITH` queries, one round trip; on SQLite its statements, from `BEGIN` to
//! `COMMIT`, in one call.
//!
//! When a group's transaction fails because of what one batch holds (a duplicate Id, say),
//! every batch of the group is committed again alone, so a bad batch fails alone. When the
//! database is unavailable or cannot write (a full disk), every writer of the group gets
//! that error at once.

use std::sync::Arc;

use sqlx::Pool;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use super::build::Sql;
use super::idempotency::push_answer_keys;
use super::moves::{DROP_STEPS_OF_RECORD, Moves, take_step};
use super::{
    Connection, Db, Lanes, OptOutOrgs, Publisher, Screens, SqlStorage, Table, in_groups, statement,
};
use crate::domain::objects::Direction;
use crate::domain::{OrgName, Timestamp};
use crate::metrics::Metrics;
use crate::records::{
    Call, Change, EventKind, HandOff, NextStatus, OptOut, OptOutChange, SmsMessage, StoredEvent,
};
use crate::storage::codec::Text;
use crate::storage::dialect::{Dialect, InsertsAsOne};
use crate::storage::{Batch, EncodeEvent, KeyedAnswer, StepRules, StorageError};

/// How many writes may wait for the committer before writers wait to queue.
const QUEUE: usize = 1024;
/// The most writes one transaction takes.
const MAX_GROUP: usize = 256;
/// Rows per multi-row `INSERT`: 17 columns of 500 rows stay well under the bind limits of
/// both databases (PostgreSQL 65535, SQLite 32766).
const ROWS_PER_INSERT: usize = 500;
/// Events per `INSERT`: PostgreSQL announces their seqs in one NOTIFY payload, which holds
/// at most 8000 bytes.
const EVENTS_PER_INSERT: usize = 300;

/// A write waiting for its transaction.
struct Job {
    org: OrgName,
    batch: Batch,
    done: oneshot::Sender<Result<(), StorageError>>,
}

/// The committer's queue.
pub(super) struct Commits(mpsc::Sender<Job>);

impl Commits {
    /// Queues `batch` and waits until the transaction that took it has committed (or
    /// failed).
    pub(super) async fn write(&self, org: &OrgName, batch: Batch) -> Result<(), StorageError> {
        let (done, outcome) = oneshot::channel();
        let org = org.clone();
        self.0
            .send(Job { org, batch, done })
            .await
            .map_err(|_| StorageError::Stopped)?;
        outcome.await.unwrap_or(Err(StorageError::Stopped))
    }
}

/// An event to store: the org it belongs to, its kind and its JSON payload.
pub(super) struct NewEvent {
    org: OrgName,
    kind: EventKind,
    payload: String,
}

impl NewEvent {
    pub(super) fn of(org: &OrgName, change: &Change<'_>, encode: EncodeEvent) -> Self {
        Self {
            org: org.clone(),
            kind: change.kind(),
            payload: encode(change),
        }
    }
}

/// Commits queued writes in groups, on the writer pool.
struct Committer {
    pool: Pool<Db>,
    /// The connections of a group that only inserts.
    lanes: Arc<Lanes>,
    publisher: Publisher,
    rules: Arc<dyn StepRules>,
    encode: EncodeEvent,
    opt_outs: OptOutOrgs,
    metrics: Arc<Metrics>,
}

impl SqlStorage {
    /// Reads go to `reader`, writes to `writer` (the same pool on PostgreSQL). Starts the
    /// committer, which stops once the storage is dropped and its queue is drained.
    /// `opt_outs` knows which orgs hold opt-outs where this process alone writes. The group
    /// tasks keep up to `own_lanes` connections of their own beside the pools (`lanes.rs`).
    pub(in crate::storage) fn new(
        reader: Pool<Db>,
        writer: Pool<Db>,
        own_lanes: u32,
        rules: Arc<dyn StepRules>,
        encode: EncodeEvent,
        opt_outs: OptOutOrgs,
        metrics: Arc<Metrics>,
    ) -> Self {
        let publisher = Publisher::new();
        let (queue, jobs) = mpsc::channel(QUEUE);
        let commit_lanes = Arc::new(Lanes::new(writer.clone(), own_lanes));
        // Where the lanes keep their own, reads and writes share them (and the one pool).
        let screen_lanes = if own_lanes > 0 {
            commit_lanes.clone()
        } else {
            Arc::new(Lanes::new(reader.clone(), 0))
        };
        let committer = Committer {
            pool: writer.clone(),
            lanes: commit_lanes.clone(),
            publisher: publisher.clone(),
            rules: rules.clone(),
            encode,
            opt_outs: opt_outs.clone(),
            metrics,
        };
        tokio::spawn(Arc::new(committer).run(jobs));
        let screens = Screens::start(screen_lanes);
        Self {
            reader,
            writer,
            publisher,
            rules,
            encode,
            commits: Commits(queue),
            lanes: commit_lanes,
            opt_outs,
            screens,
            _background: None,
            _file_lock: None,
            separate_reader: false,
        }
    }
}

impl Committer {
    async fn run(self: Arc<Self>, jobs: mpsc::Receiver<Job>) {
        in_groups(jobs, MAX_GROUP, Db::GROUP_COMMITS, |group| {
            let committer = self.clone();
            async move { committer.commit_group(group).await }
        })
        .await;
    }

    /// Commits the group in one transaction and answers its writers; on failure, as the
    /// module explains.
    async fn commit_group(&self, group: Vec<Job>) {
        self.metrics.group_commit_writes.observe(group.len() as f64);
        let batches: Vec<(&OrgName, &Batch)> =
            group.iter().map(|job| (&job.org, &job.batch)).collect();
        let span = tracing::debug_span!("commit", writes = group.len());
        let outcome = self.commit(&batches).instrument(span).await;
        drop(batches);
        match outcome {
            // A writer that stopped waiting is no error: its batch is committed.
            Ok(()) => group.into_iter().for_each(|job| {
                let _ = job.done.send(Ok(()));
            }),
            // The database is down or its disk full: committing each write alone would
            // fail each alike, only slower.
            Err(StorageError::Unavailable(cause)) => {
                fail_all(group, || StorageError::Unavailable(cause.clone()));
            }
            Err(StorageError::CannotWrite(cause)) => {
                fail_all(group, || StorageError::CannotWrite(cause.clone()));
            }
            Err(error) if group.len() == 1 => {
                if let Some(job) = group.into_iter().next() {
                    let _ = job.done.send(Err(error));
                }
            }
            Err(error) => {
                tracing::debug!(%error, writes = group.len(), "a group commit failed: committing each write alone");
                for job in group {
                    let outcome = self.commit(&[(&job.org, &job.batch)]).await;
                    let _ = job.done.send(outcome);
                }
            }
        }
    }

    /// Stores the batches in one transaction, with the events of their messages and calls
    /// and their opt-out changes. Steps already due (immediate progression) are taken in the
    /// same transaction, so the records are final when their writers hear back. A group that
    /// only inserts sends its inserts as one query ([`inserts_as_one`]).
    ///
    /// The transaction of statements is a future of a few kilobytes: it is boxed, so that
    /// this one stays small for the common case, one query, and moving it copies little.
    async fn commit(&self, batches: &[(&OrgName, &Batch)]) -> Result<(), StorageError> {
        let _committing = self.publisher.committing();
        let now = Timestamp::now();
        let messages: Vec<(&OrgName, &SmsMessage)> = rows_of(batches, |b| &b.messages);
        let calls: Vec<(&OrgName, &Call)> = rows_of(batches, |b| &b.calls);
        let encode = self.encode;
        let events: Vec<NewEvent> = messages
            .iter()
            .map(|(org, m)| {
                let change = match m.direction {
                    Direction::Outbound => Change::SmsCreated(m),
                    Direction::Inbound => Change::SmsReceived(m),
                };
                NewEvent::of(org, &change, encode)
            })
            .chain(
                calls
                    .iter()
                    .map(|(org, c)| NewEvent::of(org, &Change::CallCreated(c), encode)),
            )
            .collect();
        let Some(inserts) = inserts_as_one(batches, &messages, &calls, &events, now) else {
            let moves = Moves {
                now,
                rules: self.rules.as_ref(),
                encode,
                events,
            };
            return Box::pin(self.commit_statements(batches, &messages, &calls, moves)).await;
        };
        let mut conn = self.lanes.take().await?;
        match Db::INSERTS_AS_ONE {
            // A statement of its own: committed once it answers.
            InsertsAsOne::With { .. } => {
                let seqs = ascending(inserts.query_as()?.fetch_all(&mut *conn).await?);
                self.publisher
                    .committed(stored_events(seqs, &events, now).collect());
            }
            // The query begins and commits its transaction itself (`Writes`), which sqlx
            // does not know of: until it has answered, the connection is closed rather than
            // given back, so that a transaction a failed (or abandoned) call left open ends.
            InsertsAsOne::Statements { .. } => {
                let _order = self.publisher.in_order().await;
                conn.set_closing(true);
                let done = inserts.query()?.execute(&mut *conn).await?;
                conn.set_closing(false);
                let last = Db::last_insert_id(&done).ok_or_else(|| {
                    sqlx::Error::Protocol("the database did not tell the events' seqs".into())
                })?;
                let first = last + 1 - i64::try_from(events.len()).unwrap_or(i64::MAX);
                self.publisher
                    .committed(stored_events(first..=last, &events, now).collect());
            }
        }
        Ok(())
    }

    /// [`Committer::commit`]'s transaction of statements, one or a few per table, and one
    /// per step due and provider's answer.
    async fn commit_statements(
        &self,
        batches: &[(&OrgName, &Batch)],
        messages: &[(&OrgName, &SmsMessage)],
        calls: &[(&OrgName, &Call)],
        mut moves: Moves<'_>,
    ) -> Result<(), StorageError> {
        let now = moves.now;
        let mut tx = self.pool.begin().await?;
        insert_rows(&mut tx, messages).await?;
        insert_rows(&mut tx, calls).await?;
        insert_rows(&mut tx, &rows_of(batches, |b| &b.tasks)).await?;
        insert_rows(&mut tx, &rows_of(batches, |b| &b.voip_errors)).await?;

        for (org, change) in rows_of(batches, |b| &b.opt_outs) {
            change_opt_out(&mut tx, org, change).await?;
        }

        for (org, hand_off) in rows_of(batches, |b| &b.hand_offs) {
            answer_hand_off(&mut tx, &mut moves, org, hand_off).await?;
        }
        let (due, later): (Vec<_>, Vec<_>) = rows_of(batches, |b| &b.steps)
            .into_iter()
            .partition(|(_, step)| step.due_at <= now);
        insert_rows(&mut tx, &later).await?;
        // Immediate progression.
        for (org, step) in due {
            take_step(
                &mut tx,
                &mut moves,
                org,
                step.record_id,
                step.to,
                step.error.clone(),
            )
            .await?;
        }
        if answers(batches).next().is_some() {
            let mut answer = Sql::new("");
            push_answer_keys(&mut answer, answers(batches));
            answer.query()?.execute(&mut *tx).await?;
        }
        let stored = insert_events(&mut tx, &moves.events, now).await?;
        self.publisher.commit(tx, stored).await?;
        for (org, change) in rows_of(batches, |b| &b.opt_outs) {
            if let OptOutChange::Out(_) = change {
                self.opt_outs.added(org);
            }
        }
        Ok(())
    }
}

/// A group's writes as one query (`Dialect::INSERTS_AS_ONE`), when they are all inserts
/// (and answers kept under idempotency keys), none of which reads what another writes: the
/// records, the Tasks, the VoIP error log entries, the steps to come, the answers, then the
/// events, whose seqs it returns. What it stores, and how all or nothing, is what the
/// transaction of one statement per table would store.
///
/// `None` where that transaction is needed: a step due now or a provider's answer (which
/// move records, reading their status first), an opt-out change, no event to end the query
/// with, or more rows than one query may carry.
fn inserts_as_one(
    batches: &[(&OrgName, &Batch)],
    messages: &[(&OrgName, &SmsMessage)],
    calls: &[(&OrgName, &Call)],
    events: &[NewEvent],
    now: Timestamp,
) -> Option<Sql> {
    let only_inserts = batches.iter().all(|(_, b)| {
        b.hand_offs.is_empty()
            && b.opt_outs.is_empty()
            && b.steps.iter().all(|step| step.due_at > now)
    });
    let rows: usize = batches
        .iter()
        .map(|(_, b)| {
            b.messages.len() + b.calls.len() + b.tasks.len() + b.voip_errors.len() + b.steps.len()
        })
        .sum();
    if !only_inserts
        || events.is_empty()
        || events.len() > EVENTS_PER_INSERT
        || rows > ROWS_PER_INSERT
    {
        return None;
    }
    let mut query = Writes::new();
    query.table(messages);
    query.table(calls);
    query.table(&rows_of(batches, |b| &b.tasks));
    query.table(&rows_of(batches, |b| &b.voip_errors));
    query.table(&rows_of(batches, |b| &b.steps));
    if answers(batches).next().is_some() {
        query.write("idempotency_keys", |sql| {
            push_answer_keys(sql, answers(batches));
        });
    }
    Some(query.ending_with(events, now))
}

/// The writes of [`inserts_as_one`]: data-modifying `WITH` queries of one statement, or
/// statements one after another (`Dialect::INSERTS_AS_ONE`).
struct Writes {
    sql: Sql,
}

impl Writes {
    /// Whether the writes are `WITH` queries.
    const WITH: bool = matches!(Db::INSERTS_AS_ONE, InsertsAsOne::With { .. });

    fn new() -> Self {
        Self {
            sql: Sql::new(if Self::WITH { "WITH " } else { "BEGIN; " }),
        }
    }

    /// Adds a write to `table`.
    fn write(&mut self, table: &str, write: impl FnOnce(&mut Sql)) {
        if Self::WITH {
            self.sql.push(table).push("_written AS (");
        }
        write(&mut self.sql);
        self.sql.push(if Self::WITH { "), " } else { "; " });
    }

    /// Adds the insert of `rows`, when there are any.
    fn table<T: Table>(&mut self, rows: &[(&OrgName, &T)]) {
        if !rows.is_empty() {
            self.write(T::NAME, |sql| {
                sql.push(T::INSERT)
                    .values(rows, |row, (org, item)| item.bind(org, row));
            });
        }
    }

    /// Ends with the insert of `events` (`InsertsAsOne` says how their seqs are told).
    fn ending_with(mut self, events: &[NewEvent], at: Timestamp) -> Sql {
        let (head, tail) = Db::INSERTS_AS_ONE.events();
        self.sql.push(head);
        push_events(&mut self.sql, events, at);
        self.sql.push(tail);
        if !Self::WITH {
            self.sql.push("; COMMIT");
        }
        self.sql
    }
}

/// The answers to keep under the batches' idempotency keys, each with its batch's org.
fn answers<'a>(
    batches: &[(&'a OrgName, &'a Batch)],
) -> impl Iterator<Item = (&'a OrgName, &'a KeyedAnswer)> {
    batches
        .iter()
        .filter_map(|(org, b)| Some((*org, b.answer.as_ref()?)))
}

/// Answers every writer of a group with the same error.
fn fail_all(group: Vec<Job>, error: impl Fn() -> StorageError) {
    for job in group {
        let _ = job.done.send(Err(error()));
    }
}

/// Every batch's records of one kind, each with its batch's org.
fn rows_of<'a, T>(
    batches: &[(&'a OrgName, &'a Batch)],
    records: impl Fn(&'a Batch) -> &'a Vec<T>,
) -> Vec<(&'a OrgName, &'a T)> {
    batches
        .iter()
        .flat_map(|(org, batch)| records(batch).iter().map(move |record| (*org, record)))
        .collect()
}

/// `INSERT INTO <table> (org, <columns>) VALUES (...), (...), ...` for all `rows`, each of
/// its org, in statements of at most [`ROWS_PER_INSERT`] rows.
pub(super) async fn insert_rows<T: Table>(
    conn: &mut Connection,
    rows: &[(&OrgName, &T)],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = Sql::new(T::INSERT);
        insert.values(chunk, |row, (org, item)| item.bind(org, row));
        insert.query()?.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Gives a record stored before its hand-off the provider's answer. A record that failed
/// meanwhile (its hand-off outlasted the deadline) still learns its provider id.
async fn answer_hand_off(
    conn: &mut Connection,
    moves: &mut Moves<'_>,
    org: &OrgName,
    hand_off: &HandOff,
) -> Result<(), sqlx::Error> {
    let taken = match &hand_off.outcome {
        Ok(taken) => taken,
        Err(error) => {
            let (id, to) = (hand_off.record_id, hand_off.to);
            return take_step(conn, moves, org, id, to, Some(error.clone())).await;
        }
    };
    let update = match hand_off.to {
        NextStatus::Message(_) => statement!(
            "UPDATE ",
            <SmsMessage as Table>::NAME,
            " SET provider_id = $3, task_id = $4 WHERE org = $1 AND id = $2"
        ),
        NextStatus::Call(_) => statement!(
            "UPDATE ",
            <Call as Table>::NAME,
            " SET provider_id = $3, task_id = $4 WHERE org = $1 AND id = $2"
        ),
    };
    sqlx::query(update)
        .bind(org)
        .bind(hand_off.record_id)
        .bind(&taken.provider_id)
        .bind(taken.task_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(DROP_STEPS_OF_RECORD)
        .bind(hand_off.record_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Opts a customer out of one of the org's numbers (keeping the first opt-out's time when
/// they already are), or back in.
async fn change_opt_out(
    conn: &mut Connection,
    org: &OrgName,
    change: &OptOutChange,
) -> Result<(), sqlx::Error> {
    match change {
        OptOutChange::Out(opt_out) => {
            let mut insert = Sql::new(<OptOut as Table>::INSERT);
            insert.values([opt_out], |row, opt_out| opt_out.bind(org, row));
            insert.push(" ON CONFLICT (org, org_number, sender) DO NOTHING");
            insert.query()?.execute(&mut *conn).await?;
        }
        OptOutChange::In { sender, org_number } => {
            sqlx::query("DELETE FROM opt_outs WHERE org = $1 AND org_number = $2 AND sender = $3")
                .bind(org)
                .bind(org_number)
                .bind(sender)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Stores events inside a transaction and, where the database relays them, announces them
/// to every instance on commit. Returns them as stored, in commit order, for in-process
/// publishing.
pub(super) async fn insert_events(
    conn: &mut Connection,
    events: &[NewEvent],
    at: Timestamp,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let mut stored = Vec::with_capacity(events.len());
    for chunk in events.chunks(EVENTS_PER_INSERT) {
        let (head, tail) = Db::INSERT_EVENTS;
        let mut insert = Sql::new(head);
        push_events(&mut insert, chunk, at);
        insert.push(tail);
        let seqs = ascending(insert.query_as()?.fetch_all(&mut *conn).await?);
        stored.extend(stored_events(seqs, chunk, at));
    }
    Ok(stored)
}

/// The `VALUES` of new events.
fn push_events(statement: &mut Sql, events: &[NewEvent], at: Timestamp) {
    statement.values(events, |row, event| {
        row.bind(&event.org)
            .bind(event.kind)
            .bind(Text(&event.payload))
            .bind(at);
    });
}

/// The seqs an `INSERT ... RETURNING seq` returned, ascending: both databases number the
/// rows of one `INSERT` in the order of its `VALUES`, but do not promise to return them so.
fn ascending(mut seqs: Vec<(i64,)>) -> impl Iterator<Item = i64> {
    seqs.sort_unstable();
    seqs.into_iter().map(|(seq,)| seq)
}

/// The events of one `INSERT`, as stored under its seqs, ascending (the order of its
/// `VALUES`).
fn stored_events(
    seqs: impl IntoIterator<Item = i64>,
    events: &[NewEvent],
    at: Timestamp,
) -> impl Iterator<Item = StoredEvent> {
    seqs.into_iter()
        .zip(events)
        .map(move |(seq, event)| StoredEvent {
            seq,
            org: event.org.clone(),
            kind: event.kind,
            payload: event.payload.clone(),
            created_at: at,
        })
}
