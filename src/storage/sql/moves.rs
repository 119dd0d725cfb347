//! Moving messages and calls along their status paths, over SQL.

use async_trait::async_trait;

use super::commit::{NewEvent, insert_events, insert_rows};
use super::tables::both_or_neither;
use super::{Connection, Db, Readable, SqlStorage, Table, begin, select, statement};
use crate::domain::objects::{CALL, ObjectType, SMS_MESSAGE, VOIP_ERROR_LOG};
use crate::domain::{CallStatus, OrgName, ProviderError, SalesforceId, SmsStatus, Timestamp};
use crate::records::{Call, Change, NextStatus, PendingStep, SmsMessage, VoipErrorLog};
use crate::storage::dialect::Dialect;
use crate::storage::{
    EncodeEvent, LifecycleStore, Moved, StepRules, StepsRun, StorageError, UnreadableStep,
};

pub(super) const DROP_STEPS_OF_RECORD: &str = "DELETE FROM pending_steps WHERE record_id = $1";
const DROP_STEP: &str = "DELETE FROM pending_steps WHERE seq = $1";

/// A pending step as stored, read as plain values so that a row that cannot be read is
/// reported rather than failing the whole run.
#[derive(sqlx::FromRow)]
struct StepRow {
    seq: i64,
    org: String,
    kind: String,
    record_id: String,
    status: String,
    error_code: Option<i32>,
    error_message: Option<String>,
}

impl StepRow {
    /// The record to move, in which org, where to and with which provider error.
    fn read(&self) -> Result<(OrgName, SalesforceId, NextStatus, Option<ProviderError>), String> {
        let org = OrgName::parse(&self.org)
            .map_err(|e| format!("org `{}` is not an org name: it {e}", self.org))?;
        let record_id = SalesforceId::parse(&self.record_id).map_err(|e| {
            format!(
                "record_id `{}` is not a Salesforce Id: it {e}",
                self.record_id
            )
        })?;
        let to = NextStatus::parse(&self.kind, &self.status).ok_or_else(|| {
            format!(
                "`{}` is not a status of a `{}` record",
                self.status, self.kind
            )
        })?;
        let error = both_or_neither(self.error_code, self.error_message.clone())?;
        Ok((org, record_id, to, error))
    }
}

/// What a transaction that moves records carries: when, by which rules, and the events
/// its moves raise.
pub(super) struct Moves<'a> {
    pub(super) now: Timestamp,
    pub(super) rules: &'a dyn StepRules,
    pub(super) encode: EncodeEvent,
    pub(super) events: Vec<NewEvent>,
}

/// A record whose status moves: a message or a call.
pub(super) trait Movable: Readable {
    type Status: Copy + PartialEq + Send;
    const OBJECT: ObjectType;

    /// Reads the record (`$1`: its org, `$2`: its Id) and locks it until commit.
    fn lock() -> &'static str;
    /// The status a step moves this kind of record to; `None` for the other kind's steps.
    fn step_status(to: NextStatus) -> Option<Self::Status>;
    fn status(&self) -> Self::Status;
    fn can_become(from: Self::Status, to: Self::Status) -> bool;
    fn default_error(to: Self::Status) -> Option<ProviderError>;
    /// Takes the new status, with its history step and the provider's error.
    fn set(&mut self, status: Self::Status, now: Timestamp, error: Option<&ProviderError>);
    /// Writes the status, its history and the error back.
    async fn update(&self, conn: &mut Connection) -> Result<(), sqlx::Error>;
    /// The VoIP error log entry of a failure reported for this record.
    fn log_entry(&self, provider: &str, error: &ProviderError, now: Timestamp) -> VoipErrorLog;
    fn changed(&self) -> Change<'_>;
    fn next_step(&self, rules: &dyn StepRules, now: Timestamp) -> Option<PendingStep>;
}

/// Messages and calls keep their status the same way; only the types, tables, events and
/// next steps differ.
macro_rules! movable {
    ($record:ident, $status:ty, $object:expr, $step:ident, $changed:ident, $next:ident) => {
        impl Movable for $record {
            type Status = $status;
            const OBJECT: ObjectType = $object;

            fn lock() -> &'static str {
                select!($record, "WHERE org = $1 AND id = $2", Db::FOR_UPDATE)
            }
            fn step_status(to: NextStatus) -> Option<$status> {
                match to {
                    NextStatus::$step(status) => Some(status),
                    _ => None,
                }
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
            fn set(&mut self, status: $status, now: Timestamp, error: Option<&ProviderError>) {
                self.status = status;
                self.updated_at = now;
                self.status_history.push(status, now, error);
                if let Some(error) = error {
                    self.error = Some(error.clone());
                }
            }
            async fn update(&self, conn: &mut Connection) -> Result<(), sqlx::Error> {
                let sql = statement!(
                    "UPDATE ",
                    <$record as Table>::NAME,
                    " SET status = $2, updated_at = $3, status_history = $4, error_code = $5, \
                     error_message = $6 WHERE id = $1"
                );
                sqlx::query(sql)
                    .bind(self.id)
                    .bind(self.status)
                    .bind(self.updated_at)
                    .bind(&self.status_history)
                    .bind(self.error.as_ref().map(|e| e.code))
                    .bind(self.error.as_ref().map(|e| e.message.as_str()))
                    .execute(conn)
                    .await?;
                Ok(())
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
                    record_type: Self::OBJECT,
                    record_id: self.id,
                    provider: provider.to_owned(),
                    provider_id: self.provider_id.clone(),
                    error: error.clone(),
                    from_phone: self.from_phone,
                    to_phone: self.to_phone,
                    // A message's user may be none (a reply to a keyword); a call's never is.
                    user_id: self.user_id.into(),
                }
            }
            fn changed(&self) -> Change<'_> {
                Change::$changed(self)
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
    Message,
    SmsStatusChanged,
    next_sms_step
);
movable!(
    Call,
    CallStatus,
    CALL,
    Call,
    CallStatusChanged,
    next_call_step
);

/// Moves one record inside the caller's transaction: locks its pending steps, then the
/// record (the order the step runner takes its locks in), and checks the move. Then, while
/// the next step of its path is already due (immediate progression), takes that one too, so
/// a record is final when the transaction commits. Writes the new status and its history,
/// a VoIP error log entry per failure, an event per step, and schedules the first step not
/// yet due.
pub(super) async fn advance<R: Movable>(
    conn: &mut Connection,
    moves: &mut Moves<'_>,
    org: &OrgName,
    id: SalesforceId,
    mut to: R::Status,
    mut error: Option<ProviderError>,
) -> Result<Moved<R, R::Status>, sqlx::Error> {
    let lock_steps = statement!(
        "SELECT seq FROM pending_steps WHERE record_id = $1",
        Db::FOR_UPDATE
    );
    sqlx::query(lock_steps).bind(id).execute(&mut *conn).await?;
    let Some(mut record) = sqlx::query_as::<_, R>(R::lock())
        .bind(org)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(Moved::NotFound);
    };
    let current = record.status();
    if !R::can_become(current, to) {
        return Ok(Moved::NotAllowed { current });
    }
    sqlx::query(DROP_STEPS_OF_RECORD)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let now = moves.now;
    let later = loop {
        let failure = error.take().or_else(|| R::default_error(to));
        record.set(to, now, failure.as_ref());
        if let Some(failure) = &failure {
            let entry = record.log_entry(moves.rules.provider(), failure, now);
            insert_rows(&mut *conn, &[(org, &entry)]).await?;
        }
        moves
            .events
            .push(NewEvent::of(org, &record.changed(), moves.encode));
        let Some(next) = record.next_step(moves.rules, now) else {
            break None;
        };
        match R::step_status(next.to) {
            Some(status) if next.due_at <= now && R::can_become(record.status(), status) => {
                to = status;
                error = next.error;
            }
            _ => break Some(next),
        }
    };
    record.update(&mut *conn).await?;
    if let Some(next) = later {
        insert_rows(&mut *conn, &[(org, &next)]).await?;
    }
    Ok(Moved::Done(record))
}

/// Applies a step read back from the database or taken straight from a batch.
pub(super) async fn take_step(
    conn: &mut Connection,
    moves: &mut Moves<'_>,
    org: &OrgName,
    record_id: SalesforceId,
    to: NextStatus,
    error: Option<ProviderError>,
) -> Result<(), sqlx::Error> {
    match to {
        NextStatus::Message(to) => {
            advance::<SmsMessage>(conn, moves, org, record_id, to, error).await?;
        }
        NextStatus::Call(to) => {
            advance::<Call>(conn, moves, org, record_id, to, error).await?;
        }
    }
    Ok(())
}

#[async_trait]
impl LifecycleStore for SqlStorage {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn run_due_steps(&self, now: Timestamp, limit: u32) -> Result<StepsRun, StorageError> {
        let claim = statement!(
            "SELECT seq, org, kind, record_id, status, error_code, error_message FROM pending_steps \
             WHERE due_at <= $1 ORDER BY due_at, seq LIMIT $2",
            Db::FOR_UPDATE_SKIP_LOCKED
        );
        let mut tx = begin(&self.writer).await?;
        let claimed: Vec<StepRow> = sqlx::query_as(claim)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut moves = self.moves(now);
        let mut run = StepsRun {
            taken: claimed.len(),
            unreadable: Vec::new(),
        };
        for row in &claimed {
            // Taken up first: advancing the record schedules its next step.
            sqlx::query(DROP_STEP)
                .bind(row.seq)
                .execute(&mut *tx)
                .await?;
            match row.read() {
                Ok((org, record_id, to, error)) => {
                    take_step(&mut tx, &mut moves, &org, record_id, to, error).await?;
                }
                Err(reason) => run.unreadable.push(UnreadableStep {
                    seq: row.seq,
                    reason,
                }),
            }
        }
        let stored = insert_events(&mut tx, &moves.events, now).await?;
        self.commit(tx, stored).await?;
        Ok(run)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn next_step_due(&self) -> Result<Option<Timestamp>, StorageError> {
        let (due,): (Option<i64>,) = sqlx::query_as("SELECT min(due_at) FROM pending_steps")
            .fetch_one(&self.reader)
            .await?;
        Ok(due.map(Timestamp::from_millis))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, %id, %to))]
    async fn move_sms(
        &self,
        org: &OrgName,
        id: SalesforceId,
        to: SmsStatus,
        error: Option<ProviderError>,
    ) -> Result<Moved<SmsMessage, SmsStatus>, StorageError> {
        self.move_now::<SmsMessage>(org, id, to, error).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%org, %id, %to))]
    async fn move_call(
        &self,
        org: &OrgName,
        id: SalesforceId,
        to: CallStatus,
        error: Option<ProviderError>,
    ) -> Result<Moved<Call, CallStatus>, StorageError> {
        self.move_now::<Call>(org, id, to, error).await
    }
}

impl SqlStorage {
    /// A transaction's moves, at `now`, by this storage's rules.
    pub(super) fn moves(&self, now: Timestamp) -> Moves<'_> {
        Moves {
            now,
            rules: self.rules.as_ref(),
            encode: self.encode,
            events: Vec::new(),
        }
    }

    /// A move of its own transaction (the manual route).
    async fn move_now<R: Movable>(
        &self,
        org: &OrgName,
        id: SalesforceId,
        to: R::Status,
        error: Option<ProviderError>,
    ) -> Result<Moved<R, R::Status>, StorageError> {
        let now = Timestamp::now();
        let mut tx = begin(&self.writer).await?;
        let mut moves = self.moves(now);
        let moved = advance::<R>(&mut tx, &mut moves, org, id, to, error).await?;
        let stored = insert_events(&mut tx, &moves.events, now).await?;
        self.commit(tx, stored).await?;
        Ok(moved)
    }
}
