//! A message or call around its hand-off, the same for both: the record the checked input
//! becomes, and what the provider's answer makes of it.
//!
//! A provider inside the emulator (the simulator) sends nothing anywhere, so a record is
//! stored once, whole, after the provider answered. A provider outside it (Twilio) sends
//! what cannot be taken back, so the record is stored first, Queued and without the
//! provider's id ([`queue`]), with a step that fails it at the hand-off's deadline; the
//! answer then comes as a [`HandOff`] that the record takes in a second write (SPEC 9).

use super::logged::ProviderRefusal;
use super::{ActionContext, Dispatched};
use crate::domain::objects::{CALL, ObjectType, SMS_MESSAGE};
use crate::domain::{CallStatus, DialledNumber, ProviderError, SalesforceId, SmsStatus, Timestamp};
use crate::lifecycle::Lifecycle;
use crate::metrics::{HandOffLabels, RefusalLabels};
use crate::records::{
    Call, HandOff, NextStatus, PendingStep, SmsMessage, StatusHistory, Taken, Task,
};
use crate::storage::{Batch, StepRules};
use crate::voip::{Accepted, UNANSWERED, VoipError};

/// A message or a call, as it is handed off.
pub trait Outgoing: Clone + Send {
    type Status: Copy + Send;
    const OBJECT: ObjectType;
    const FAILED: Self::Status;

    fn id(&self) -> SalesforceId;
    fn user_id(&self) -> Option<SalesforceId>;
    fn route(&self) -> (DialledNumber, DialledNumber);
    fn next(status: Self::Status) -> NextStatus;
    /// Starts at `status` now, as a record stored only once its provider answered: created
    /// now, with that one status in its history.
    fn start(&mut self, status: Self::Status, now: Timestamp, error: Option<ProviderError>);
    fn take(&mut self, provider_id: String, task_id: Option<SalesforceId>);
    fn next_step(&self, lifecycle: &Lifecycle, now: Timestamp) -> Option<PendingStep>;
    fn push(self, batch: &mut Batch);
}

macro_rules! outgoing {
    ($record:ident, $status:ident, $object:expr, $next:ident, $step:ident, $rows:ident, $user:expr) => {
        impl Outgoing for $record {
            type Status = $status;
            const OBJECT: ObjectType = $object;
            const FAILED: $status = $status::Failed;

            fn id(&self) -> SalesforceId {
                self.id
            }
            fn user_id(&self) -> Option<SalesforceId> {
                $user(self)
            }
            fn route(&self) -> (DialledNumber, DialledNumber) {
                (self.from_phone, self.to_phone)
            }
            fn next(status: $status) -> NextStatus {
                NextStatus::$next(status)
            }
            fn start(&mut self, status: $status, now: Timestamp, error: Option<ProviderError>) {
                self.status = status;
                self.created_at = now;
                self.updated_at = now;
                self.status_history = StatusHistory::starting(status, now, error.as_ref());
                self.error = error;
            }
            fn take(&mut self, provider_id: String, task_id: Option<SalesforceId>) {
                self.provider_id = Some(provider_id);
                self.task_id = task_id;
            }
            fn next_step(&self, lifecycle: &Lifecycle, now: Timestamp) -> Option<PendingStep> {
                lifecycle.$step(self, now)
            }
            fn push(self, batch: &mut Batch) {
                batch.$rows.push(self);
            }
        }
    };
}

outgoing!(
    SmsMessage,
    SmsStatus,
    SMS_MESSAGE,
    Message,
    next_sms_step,
    messages,
    |m: &SmsMessage| m.user_id
);
outgoing!(
    Call,
    CallStatus,
    CALL,
    Call,
    next_call_step,
    calls,
    |c: &Call| Some(c.user_id)
);

/// Stores the records of an invocation before they are handed off, when the provider is
/// outside the emulator; each with the step that fails it at the hand-off's deadline, which
/// its answer drops. Nothing when the provider is inside: its records are stored once it
/// answered.
pub(super) async fn queue<R: Outgoing>(
    ctx: &ActionContext<'_>,
    records: &[R],
) -> Result<(), crate::storage::StorageError> {
    let Some(deadline) = ctx.voip.hand_off_deadline() else {
        return Ok(());
    };
    let now = Timestamp::now();
    let due_at = Timestamp::from_millis(now.millis() + deadline.as_millis() as i64);
    let mut batch = Batch::default();
    for record in records {
        batch.steps.push(PendingStep {
            record_id: record.id(),
            to: R::next(R::FAILED),
            error: Some(ProviderError {
                code: UNANSWERED,
                message: format!(
                    "The hand-off to {} did not finish: the emulator stopped, or lost its \
                     database, before the provider's answer was stored. It is not retried; \
                     the provider may or may not have taken it.",
                    ctx.voip.name()
                ),
            }),
            due_at,
        });
        record.clone().push(&mut batch);
    }
    ctx.storage.write(ctx.org_name, batch).await?;
    // The runner learns of the deadlines.
    ctx.lifecycle.steps_scheduled();
    Ok(())
}

/// Counts a hand-off by its outcome, and a refusal by its code.
fn count<R: Outgoing>(ctx: &ActionContext<'_>, answer: &Result<Accepted<R::Status>, VoipError>) {
    let provider = ctx.voip.name();
    let outcome = match answer {
        Ok(_) => "accepted",
        Err(VoipError::Refused { code, .. }) => {
            let labels = RefusalLabels {
                provider,
                code: *code,
            };
            ctx.metrics.refusals.get_or_create(&labels).inc();
            "refused"
        }
        Err(VoipError::Unanswered(_)) => "unanswered",
    };
    let labels = HandOffLabels {
        provider,
        kind: R::next(R::FAILED).record_kind(),
        outcome,
    };
    ctx.metrics.hand_offs.get_or_create(&labels).inc();
}

/// What the provider's `answer` makes of `record`, in the batch that stores it: taken, it
/// keeps the provider's status and id and gets its Task (`task`, when it has one), and the
/// caller gets `output`; refused or unanswered, it fails with the provider's error and a
/// VoIP error log entry, and the caller gets error 100.
pub(super) fn settle<R: Outgoing, O>(
    ctx: &ActionContext<'_>,
    mut record: R,
    answer: Result<Accepted<R::Status>, VoipError>,
    task: impl FnOnce(&R) -> Option<Task>,
    output: impl FnOnce(&R) -> O,
) -> Dispatched<O> {
    let stored_first = ctx.voip.hand_off_deadline().is_some();
    let now = Timestamp::now();
    let mut batch = Batch::default();
    count::<R>(ctx, &answer);
    let outcome = match answer {
        Ok(accepted) => {
            if !stored_first {
                record.start(accepted.status, now, None);
            }
            let task = task(&record);
            let task_id = task.as_ref().map(|task| task.id);
            if stored_first {
                batch.hand_offs.push(HandOff {
                    record_id: record.id(),
                    to: R::next(accepted.status),
                    outcome: Ok(Taken {
                        provider_id: accepted.provider_id.clone(),
                        task_id,
                    }),
                });
            }
            record.take(accepted.provider_id, task_id);
            batch.tasks.extend(task);
            batch.steps.extend(record.next_step(&ctx.lifecycle, now));
            Ok(output(&record))
        }
        Err(error) => {
            let (from, to) = record.route();
            let refusal = ProviderRefusal {
                object: R::OBJECT,
                record_id: record.id(),
                provider: ctx.voip.name(),
                error,
                from,
                to,
                user_id: record.user_id(),
                at: now,
            };
            if stored_first {
                // Storage logs the failure as it moves the record to Failed.
                let (error, exception) = refusal.exception();
                batch.hand_offs.push(HandOff {
                    record_id: record.id(),
                    to: R::next(R::FAILED),
                    outcome: Err(error),
                });
                Err(exception)
            } else {
                let (error, exception) = refusal.record(&mut batch);
                record.start(R::FAILED, now, Some(error));
                Err(exception)
            }
        }
    };
    if !stored_first {
        record.push(&mut batch);
    }
    Dispatched { batch, outcome }
}
