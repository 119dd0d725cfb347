//! Group commit: the writes of concurrent requests share one transaction.
//!
//! `write` queues its batch and waits for the outcome of the transaction that took it. One
//! committer task per storage takes whatever is queued (at most [`MAX_GROUP`] batches),
//! stores it all with multi-row inserts in one transaction, and answers every waiting
//! writer once that transaction has committed. Up to [`Dialect::GROUP_COMMITS`]
//! transactions run at once (PostgreSQL overlaps one group's commit with the next group's
//! inserts; SQLite has one writer); while they all run, writes queue up for the next group.
//!
//! So a write still returns only when its records are committed, and a request's records
//! are still all stored or none: a batch is never split across transactions. What changes
//! is the cost: one transaction, a few statements and one commit for a whole group instead
//! of for each request.
//!
//! When a group's transaction fails because of what one batch holds (a duplicate Id, say),
//! every batch of the group is committed again alone, so a bad batch fails alone. When the
//! database is unavailable or cannot write (a full disk), every writer of the group gets
//! that error at once.

use std::sync::Arc;

use sqlx::query_builder::Separated;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Pool, QueryBuilder, Type};
use tokio::sync::{Semaphore, broadcast, mpsc, oneshot};

use super::idempotency::ANSWER_KEY;
use super::lifecycle::advance;
use super::{
    Dialect, SqlStorage, call_columns, publish, sms_columns, task_columns, voip_error_columns,
};
use crate::domain::{CallStatus, E164, SalesforceId, SmsStatus, Timestamp};
use crate::events::NewEvent;
use crate::storage::{
    Batch, Call, PendingStep, RecordKind, SmsMessage, StatusHistory, StepRules, StorageError,
    StoredEvent, Task, VoipErrorLog,
};

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
pub(super) struct Job {
    batch: Batch,
    done: oneshot::Sender<Result<(), StorageError>>,
}

/// The committer's queue.
pub(super) struct Commits(mpsc::Sender<Job>);

impl Commits {
    /// Queues `batch` and waits until the transaction that took it has committed (or
    /// failed).
    pub(super) async fn write(&self, batch: Batch) -> Result<(), StorageError> {
        let (done, outcome) = oneshot::channel();
        self.0
            .send(Job { batch, done })
            .await
            .map_err(|_| StorageError::Stopped)?;
        outcome.await.unwrap_or(Err(StorageError::Stopped))
    }
}

/// Commits queued writes in groups, on the writer pool.
struct Committer<DB: Database> {
    pool: Pool<DB>,
    events: broadcast::Sender<Arc<StoredEvent>>,
    rules: Arc<dyn StepRules>,
}

impl<DB> SqlStorage<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> &'static str: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i32>: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> Option<SalesforceId>: Encode<'q, DB> + Type<DB>,
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
    for<'q> SmsStatus: Encode<'q, DB> + Type<DB>,
    for<'q> CallStatus: Encode<'q, DB> + Type<DB>,
    for<'q> &'q StatusHistory: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> SmsMessage: FromRow<'r, DB::Row>,
    for<'r> Call: FromRow<'r, DB::Row>,
{
    /// Reads go to `reader`, writes to `writer` (the same pool on PostgreSQL). Starts the
    /// committer, which stops once the storage is dropped and its queue is drained.
    pub(in crate::storage) fn new(
        reader: Pool<DB>,
        writer: Pool<DB>,
        rules: Arc<dyn StepRules>,
    ) -> Self {
        let (events, _) = broadcast::channel(super::EVENT_BUFFER);
        let (queue, jobs) = mpsc::channel(QUEUE);
        let committer = Committer {
            pool: writer.clone(),
            events: events.clone(),
            rules: rules.clone(),
        };
        tokio::spawn(Arc::new(committer).run(jobs));
        Self {
            reader,
            writer,
            events,
            rules,
            commits: Commits(queue),
            background: None,
            file_lock: None,
        }
    }
}

impl<DB> Committer<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> &'static str: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i32>: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> Option<SalesforceId>: Encode<'q, DB> + Type<DB>,
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
    for<'q> SmsStatus: Encode<'q, DB> + Type<DB>,
    for<'q> CallStatus: Encode<'q, DB> + Type<DB>,
    for<'q> &'q StatusHistory: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> SmsMessage: FromRow<'r, DB::Row>,
    for<'r> Call: FromRow<'r, DB::Row>,
{
    async fn run(self: Arc<Self>, mut jobs: mpsc::Receiver<Job>) {
        let transactions = Arc::new(Semaphore::new(DB::GROUP_COMMITS));
        loop {
            // Waits for a free transaction first, so that writes gather meanwhile.
            let Ok(permit) = transactions.clone().acquire_owned().await else {
                return;
            };
            let mut group = Vec::with_capacity(MAX_GROUP);
            if jobs.recv_many(&mut group, MAX_GROUP).await == 0 {
                return;
            }
            let committer = self.clone();
            tokio::spawn(async move {
                committer.commit_group(group).await;
                drop(permit);
            });
        }
    }

    /// Commits the group in one transaction and answers its writers; on failure, as the
    /// module explains.
    async fn commit_group(&self, group: Vec<Job>) {
        let batches: Vec<&Batch> = group.iter().map(|job| &job.batch).collect();
        let outcome = self.commit(&batches).await;
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
                    let outcome = self.commit(&[&job.batch]).await;
                    let _ = job.done.send(outcome);
                }
            }
        }
    }

    /// Stores the batches in one transaction, with the `*.created` events of their
    /// messages and calls. Steps already due (immediate progression) are taken in the same
    /// transaction, so the records are final when their writers hear back.
    #[tracing::instrument(skip_all, fields(writes = batches.len()))]
    async fn commit(&self, batches: &[&Batch]) -> Result<(), StorageError> {
        let now = Timestamp::now();
        let mut tx = self.pool.begin().await?;
        let messages: Vec<&SmsMessage> = batches.iter().flat_map(|b| &b.messages).collect();
        let calls: Vec<&Call> = batches.iter().flat_map(|b| &b.calls).collect();
        insert_rows(
            &mut tx,
            concat!("INSERT INTO sms_messages (", sms_columns!(), ") "),
            &messages,
            |mut row, m| {
                row.push_bind(m.id)
                    .push_bind(&m.provider_id)
                    .push_bind(m.created_at)
                    .push_bind(m.updated_at)
                    .push_bind(m.owner_id)
                    .push_bind(m.user_id)
                    .push_bind(m.phone_number_id)
                    .push_bind(m.from_phone)
                    .push_bind(m.to_phone)
                    .push_bind(&m.body)
                    .push_bind(&m.media_url)
                    .push_bind(m.related_record_id)
                    .push_bind(m.task_id)
                    .push_bind(m.status)
                    .push_bind(&m.status_history)
                    .push_bind(m.error_code)
                    .push_bind(&m.error_message);
            },
        )
        .await?;
        insert_rows(
            &mut tx,
            concat!("INSERT INTO calls (", call_columns!(), ") "),
            &calls,
            |mut row, c| {
                row.push_bind(c.id)
                    .push_bind(&c.provider_id)
                    .push_bind(c.created_at)
                    .push_bind(c.updated_at)
                    .push_bind(c.owner_id)
                    .push_bind(c.user_id)
                    .push_bind(c.phone_number_id)
                    .push_bind(c.from_phone)
                    .push_bind(c.to_phone)
                    .push_bind(c.ivr_id)
                    .push_bind(c.related_record_id)
                    .push_bind(c.task_id)
                    .push_bind(c.status)
                    .push_bind(&c.status_history)
                    .push_bind(c.error_code)
                    .push_bind(&c.error_message);
            },
        )
        .await?;
        let tasks: Vec<&Task> = batches.iter().flat_map(|b| &b.tasks).collect();
        insert_rows(
            &mut tx,
            concat!("INSERT INTO tasks (", task_columns!(), ") "),
            &tasks,
            |mut row, t| {
                row.push_bind(t.id)
                    .push_bind(t.created_at)
                    .push_bind(t.owner_id)
                    .push_bind(&t.subject)
                    .push_bind(&t.description)
                    .push_bind(&t.status)
                    .push_bind(&t.priority)
                    .push_bind(&t.task_subtype)
                    .push_bind(&t.call_type)
                    .push_bind(t.who_id)
                    .push_bind(t.what_id)
                    .push_bind(t.sms_message_id)
                    .push_bind(t.call_id);
            },
        )
        .await?;
        let voip_errors: Vec<&VoipErrorLog> = batches.iter().flat_map(|b| &b.voip_errors).collect();
        insert_voip_errors(&mut tx, &voip_errors).await?;

        let mut events: Vec<NewEvent> = messages
            .iter()
            .map(|m| NewEvent::sms_created(m))
            .chain(calls.iter().map(|c| NewEvent::call_created(c)))
            .collect();
        let (due, later): (Vec<&PendingStep>, Vec<&PendingStep>) = batches
            .iter()
            .flat_map(|b| &b.steps)
            .partition(|step| step.due_at <= now);
        insert_steps(&mut tx, &later).await?;
        for step in due {
            self.take_step(&mut tx, step, now, &mut events).await?;
        }
        for keyed in batches.iter().filter_map(|b| b.answer.as_ref()) {
            sqlx::query(ANSWER_KEY)
                .bind(&keyed.key)
                .bind(i32::from(keyed.answer.status))
                .bind(&keyed.answer.body)
                .execute(&mut *tx)
                .await?;
        }
        let stored = insert_events(&mut tx, &events, now).await?;
        tx.commit().await?;
        publish::<DB>(&self.events, stored);
        Ok(())
    }

    /// Applies a step that is due already: immediate progression.
    async fn take_step(
        &self,
        conn: &mut DB::Connection,
        step: &PendingStep,
        now: Timestamp,
        events: &mut Vec<NewEvent>,
    ) -> Result<(), sqlx::Error> {
        let error = step.provider_error();
        let rules = self.rules.as_ref();
        match step.kind {
            RecordKind::Message => {
                if let Some(to) = SmsStatus::parse(&step.status) {
                    advance::<DB, SmsMessage>(conn, step.record_id, to, error, now, rules, events)
                        .await?;
                }
            }
            RecordKind::Call => {
                if let Some(to) = CallStatus::parse(&step.status) {
                    advance::<DB, Call>(conn, step.record_id, to, error, now, rules, events)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// Answers every writer of a group with the same error.
fn fail_all(group: Vec<Job>, error: impl Fn() -> StorageError) {
    for job in group {
        let _ = job.done.send(Err(error()));
    }
}

/// `head VALUES (...), (...), ...` for all `rows`, in statements of at most
/// [`ROWS_PER_INSERT`] rows.
async fn insert_rows<DB, T>(
    conn: &mut DB::Connection,
    head: &'static str,
    rows: &[&T],
    mut bind: impl FnMut(Separated<'_, DB, &'static str>, &T),
) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<DB>::new(head);
        insert.push_values(chunk, |row, item| bind(row, item));
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Logs providers' refusals and later failures.
pub(super) async fn insert_voip_errors<DB>(
    conn: &mut DB::Connection,
    entries: &[&VoipErrorLog],
) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
{
    insert_rows(
        conn,
        concat!("INSERT INTO voip_errors (", voip_error_columns!(), ") "),
        entries,
        |mut row, e| {
            row.push_bind(e.id)
                .push_bind(e.created_at)
                .push_bind(&e.record_type)
                .push_bind(e.record_id)
                .push_bind(&e.provider)
                .push_bind(&e.provider_id)
                .push_bind(e.error_code)
                .push_bind(&e.error_message)
                .push_bind(e.from_phone)
                .push_bind(e.to_phone)
                .push_bind(e.user_id);
        },
    )
    .await
}

/// Schedules records' next steps.
pub(super) async fn insert_steps<DB>(
    conn: &mut DB::Connection,
    steps: &[&PendingStep],
) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> &'static str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i32>: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
{
    insert_rows(
        conn,
        "INSERT INTO pending_steps (kind, record_id, status, error_code, error_message, due_at) ",
        steps,
        |mut row, s| {
            row.push_bind(s.kind.as_str())
                .push_bind(s.record_id)
                .push_bind(&s.status)
                .push_bind(s.error_code)
                .push_bind(&s.error_message)
                .push_bind(s.due_at);
        },
    )
    .await
}

/// Stores events inside a transaction and, where the database relays them, announces them
/// to every instance on commit. Returns them as stored, in commit order, for in-process
/// publishing.
pub(super) async fn insert_events<DB>(
    conn: &mut DB::Connection,
    events: &[NewEvent],
    at: Timestamp,
) -> Result<Vec<StoredEvent>, sqlx::Error>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'static str: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
{
    let mut stored = Vec::with_capacity(events.len());
    for chunk in events.chunks(EVENTS_PER_INSERT) {
        let (head, tail) = DB::INSERT_EVENTS;
        let mut insert = QueryBuilder::<DB>::new(head);
        insert.push_values(chunk, |mut row, event| {
            row.push_bind(event.kind.as_str())
                .push_bind(&event.payload)
                .push_bind(at);
        });
        insert.push(tail);
        let mut seqs: Vec<(i64,)> = insert.build_query_as().fetch_all(&mut *conn).await?;
        // Both databases number the rows of one INSERT in the order of its VALUES, but do
        // not promise to return them in that order.
        seqs.sort_unstable();
        stored.extend(
            seqs.into_iter()
                .zip(chunk)
                .map(|((seq,), event)| StoredEvent {
                    seq,
                    kind: event.kind.as_str().to_owned(),
                    payload: event.payload.clone(),
                    created_at: at,
                }),
        );
    }
    Ok(stored)
}
