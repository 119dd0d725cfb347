//! Moving messages and calls along their status paths, over SQL.

use async_trait::async_trait;
use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};

use super::{Dialect, SqlStorage, insert_events, insert_steps, insert_voip_errors};
use crate::domain::lifecycle::ProviderError;
use crate::domain::objects::{CALL, ObjectType, SMS_MESSAGE, VOIP_ERROR_LOG};
use crate::domain::{CallStatus, E164, SalesforceId, SmsStatus, Timestamp};
use crate::events::NewEvent;
use crate::storage::{
    Call, LifecycleStore, Moved, PendingStep, RecordKind, SmsMessage, StatusHistory, StatusStep,
    StepRules, StorageError, VoipErrorLog,
};

const UPDATE_SMS: &str = "UPDATE sms_messages SET status = $2, updated_at = $3, status_history = $4, \
     error_code = $5, error_message = $6 WHERE id = $1";
const UPDATE_CALL: &str = "UPDATE calls SET status = $2, updated_at = $3, status_history = $4, \
     error_code = $5, error_message = $6 WHERE id = $1";
const DROP_STEPS_OF_RECORD: &str = "DELETE FROM pending_steps WHERE record_id = $1";
const DROP_STEP: &str = "DELETE FROM pending_steps WHERE seq = $1";

/// A pending step as stored.
#[derive(sqlx::FromRow)]
struct StepRow {
    seq: i64,
    kind: String,
    record_id: SalesforceId,
    status: String,
    error_code: Option<i32>,
    error_message: Option<String>,
    #[allow(dead_code)]
    due_at: Timestamp,
}

/// A record whose status moves: a message or a call.
pub(super) trait Movable: Sized {
    type Status: Copy + PartialEq;
    const OBJECT: ObjectType;
    const UPDATE: &'static str;

    fn lock<DB: Dialect>() -> &'static str;
    fn status(&self) -> Self::Status;
    fn can_become(from: Self::Status, to: Self::Status) -> bool;
    fn default_error(to: Self::Status) -> Option<ProviderError>;
    fn status_name(status: Self::Status) -> &'static str;
    fn parse_status(name: &str) -> Option<Self::Status>;
    /// Takes the new status, with its history step and the provider's error.
    fn set(&mut self, status: Self::Status, now: Timestamp, error: Option<&ProviderError>);
    fn history(&self) -> &StatusHistory;
    fn error(&self) -> (Option<i32>, Option<String>);
    /// The VoIP error log entry of a failure reported for this record.
    fn log_entry(&self, provider: &str, error: &ProviderError, now: Timestamp) -> VoipErrorLog;
    fn changed_event(&self) -> NewEvent;
    fn next_step(&self, rules: &dyn StepRules, now: Timestamp) -> Option<PendingStep>;
}

/// Messages and calls keep their status the same way; only the types, tables, events and
/// next steps differ.
macro_rules! movable {
    ($record:ty, $status:ty, $object:expr, $update:expr, $lock:ident, $event:path, $next:ident) => {
        impl Movable for $record {
            type Status = $status;
            const OBJECT: ObjectType = $object;
            const UPDATE: &'static str = $update;

            fn lock<DB: Dialect>() -> &'static str {
                DB::$lock
            }
            fn status(&self) -> $status {
                self.status
            }
            fn can_become(from: $status, to: $status) -> bool {
                from.can_become(to)
            }
            fn default_error(to: $status) -> Option<ProviderError> {
                to.default_error()
            }
            fn status_name(status: $status) -> &'static str {
                status.as_str()
            }
            fn parse_status(name: &str) -> Option<$status> {
                <$status>::parse(name)
            }
            fn set(&mut self, status: $status, now: Timestamp, error: Option<&ProviderError>) {
                self.status = status;
                self.updated_at = now;
                self.status_history.0.push(StatusStep {
                    status: status.as_str().to_owned(),
                    date: now,
                    error_code: error.map(|e| e.code),
                });
                if let Some(error) = error {
                    self.error_code = Some(error.code);
                    self.error_message = Some(error.message.clone());
                }
            }
            fn history(&self) -> &StatusHistory {
                &self.status_history
            }
            fn error(&self) -> (Option<i32>, Option<String>) {
                (self.error_code, self.error_message.clone())
            }
            fn log_entry(
                &self,
                provider: &str,
                error: &ProviderError,
                now: Timestamp,
            ) -> VoipErrorLog {
                VoipErrorLog {
                    id: SalesforceId::generate(VOIP_ERROR_LOG.key_prefix),
                    created_at: now,
                    record_type: Self::OBJECT.api_name.to_owned(),
                    record_id: self.id,
                    provider: provider.to_owned(),
                    provider_id: self.provider_id.clone(),
                    error_code: error.code,
                    error_message: error.message.clone(),
                    from_phone: self.from_phone,
                    to_phone: self.to_phone,
                    user_id: self.user_id,
                }
            }
            fn changed_event(&self) -> NewEvent {
                $event(self)
            }
            fn next_step(&self, rules: &dyn StepRules, now: Timestamp) -> Option<PendingStep> {
                rules.$next(self, now)
            }
        }
    };
}

movable!(
    SmsMessage,
    SmsStatus,
    SMS_MESSAGE,
    UPDATE_SMS,
    LOCK_SMS,
    NewEvent::sms_status_changed,
    next_sms_step
);
movable!(
    Call,
    CallStatus,
    CALL,
    UPDATE_CALL,
    LOCK_CALL,
    NewEvent::call_status_changed,
    next_call_step
);

/// Moves one record inside the caller's transaction: locks its pending steps, then the
/// record (the order the step runner takes its locks in), and checks the move. Then, while
/// the next step of its path is already due (immediate progression), takes that one too, so
/// a record is final when the transaction commits. Writes the new status and its history,
/// a VoIP error log entry per failure, an event per step, and schedules the first step not
/// yet due.
pub(super) async fn advance<DB, R>(
    conn: &mut DB::Connection,
    id: SalesforceId,
    mut to: R::Status,
    mut error: Option<ProviderError>,
    now: Timestamp,
    rules: &dyn StepRules,
    events: &mut Vec<NewEvent>,
) -> Result<Moved<R, R::Status>, sqlx::Error>
where
    DB: Dialect,
    R: Movable + Send + Unpin + for<'r> FromRow<'r, DB::Row>,
    R::Status: Send,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> &'static str: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i32>: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
    for<'q> &'q StatusHistory: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(DB::LOCK_STEPS_OF_RECORD)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let Some(mut record) = sqlx::query_as::<_, R>(R::lock::<DB>())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(Moved::NotFound);
    };
    let current = record.status();
    if !R::can_become(current, to) {
        return Ok(Moved::Refused { current });
    }
    sqlx::query(DROP_STEPS_OF_RECORD)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let later = loop {
        let failure = error.take().or_else(|| R::default_error(to));
        record.set(to, now, failure.as_ref());
        if let Some(failure) = &failure {
            let entry = record.log_entry(rules.provider(), failure, now);
            insert_voip_errors(&mut *conn, &[&entry]).await?;
        }
        events.push(record.changed_event());
        let Some(next) = record.next_step(rules, now) else {
            break None;
        };
        match R::parse_status(&next.status) {
            Some(status) if next.due_at <= now && R::can_become(record.status(), status) => {
                to = status;
                error = next.provider_error();
            }
            _ => break Some(next),
        }
    };
    let (error_code, error_message) = record.error();
    sqlx::query(R::UPDATE)
        .bind(id)
        .bind(R::status_name(record.status()))
        .bind(now)
        .bind(record.history())
        .bind(error_code)
        .bind(error_message)
        .execute(&mut *conn)
        .await?;
    if let Some(next) = later {
        insert_steps(&mut *conn, &[&next]).await?;
    }
    Ok(Moved::Done(record))
}

#[async_trait]
impl<DB> LifecycleStore for SqlStorage<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> &'static str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i32>: Encode<'q, DB> + Type<DB>,
    for<'q> SalesforceId: Encode<'q, DB> + Type<DB>,
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
    for<'q> &'q StatusHistory: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (Option<i64>,): FromRow<'r, DB::Row>,
    for<'r> StepRow: FromRow<'r, DB::Row>,
    for<'r> SmsMessage: FromRow<'r, DB::Row>,
    for<'r> Call: FromRow<'r, DB::Row>,
{
    #[tracing::instrument(skip_all)]
    async fn run_due_steps(&self, now: Timestamp, limit: u32) -> Result<usize, StorageError> {
        let rules = self.rules.as_ref();
        let mut tx = self.writer.begin().await?;
        let claimed: Vec<StepRow> = sqlx::query_as(DB::CLAIM_DUE_STEPS)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut events = Vec::new();
        for step in &claimed {
            // Taken up first: advancing the record schedules its next step.
            sqlx::query(DROP_STEP)
                .bind(step.seq)
                .execute(&mut *tx)
                .await?;
            let error = step.error_code.map(|code| ProviderError {
                code,
                message: step.error_message.clone().unwrap_or_default(),
            });
            // A step whose kind or status cannot be read is dropped.
            match RecordKind::parse(&step.kind) {
                Some(RecordKind::Message) => {
                    if let Some(to) = SmsStatus::parse(&step.status) {
                        advance::<DB, SmsMessage>(
                            &mut tx,
                            step.record_id,
                            to,
                            error,
                            now,
                            rules,
                            &mut events,
                        )
                        .await?;
                    }
                }
                Some(RecordKind::Call) => {
                    if let Some(to) = CallStatus::parse(&step.status) {
                        advance::<DB, Call>(
                            &mut tx,
                            step.record_id,
                            to,
                            error,
                            now,
                            rules,
                            &mut events,
                        )
                        .await?;
                    }
                }
                None => {}
            }
        }
        let stored = insert_events(&mut *tx, &events, now).await?;
        tx.commit().await?;
        self.publish_committed(stored);
        Ok(claimed.len())
    }

    #[tracing::instrument(skip_all)]
    async fn next_step_due(&self) -> Result<Option<Timestamp>, StorageError> {
        let (due,): (Option<i64>,) = sqlx::query_as("SELECT min(due_at) FROM pending_steps")
            .fetch_one(&self.reader)
            .await?;
        Ok(due.map(Timestamp::from_millis))
    }

    #[tracing::instrument(skip_all, fields(%id, %to))]
    async fn move_sms(
        &self,
        id: SalesforceId,
        to: SmsStatus,
        error: Option<ProviderError>,
    ) -> Result<Moved<SmsMessage, SmsStatus>, StorageError> {
        self.move_now::<SmsMessage>(id, to, error).await
    }

    #[tracing::instrument(skip_all, fields(%id, %to))]
    async fn move_call(
        &self,
        id: SalesforceId,
        to: CallStatus,
        error: Option<ProviderError>,
    ) -> Result<Moved<Call, CallStatus>, StorageError> {
        self.move_now::<Call>(id, to, error).await
    }
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
    for<'q> E164: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Type<DB>,
    for<'q> &'q StatusHistory: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
{
    /// A move of its own transaction (the manual route).
    async fn move_now<R>(
        &self,
        id: SalesforceId,
        to: R::Status,
        error: Option<ProviderError>,
    ) -> Result<Moved<R, R::Status>, StorageError>
    where
        R: Movable + Send + Unpin + for<'r> FromRow<'r, DB::Row>,
        R::Status: Send,
    {
        let now = Timestamp::now();
        let mut tx = self.writer.begin().await?;
        let mut events = Vec::new();
        let rules = self.rules.as_ref();
        let moved = advance::<DB, R>(&mut tx, id, to, error, now, rules, &mut events).await?;
        let stored = insert_events(&mut *tx, &events, now).await?;
        tx.commit().await?;
        self.publish_committed(stored);
        Ok(moved)
    }
}
