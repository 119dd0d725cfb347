//! What the three invocable actions mean, free of HTTP and SQL: each takes its inputs as
//! the caller sent them, checks them against the org, hands off to the provider and
//! stores what happened. The inputs of one call are one invocation (SPEC 2.2): all are
//! checked before anything happens, and one failure fails them all. Messages and calls are
//! dispatched first and stored together ([`dispatch_all`], [`store`]); status changes
//! store themselves, all in one transaction (`user_status::set_all`).

pub mod call;
mod caller_id;
pub mod catalog;
mod hand_off;
pub mod inbound;
mod logged;
mod resolve;
pub mod sms;
pub mod user_status;

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use futures_util::{StreamExt, stream};
use tokio::sync::oneshot;

use crate::domain::{OrgName, SalesforceId, Timestamp};
use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::org::Org;
use crate::storage::{Batch, KeyedAnswer, Storage, StorageError};
use crate::voip::VoipProvider;

/// Everything an action needs besides its inputs.
pub struct ActionContext<'a> {
    /// The org the action runs in, and its data.
    pub org_name: &'a OrgName,
    pub org: &'a Org,
    /// The running user: the API key's user, `X-Fastcall-User-Id`, or the org's default.
    pub invoker: Option<SalesforceId>,
    /// Owned, as [`store`] hands its write to a task of its own.
    pub storage: Arc<dyn Storage>,
    pub voip: &'a dyn VoipProvider,
    pub lifecycle: Arc<Lifecycle>,
    /// How many inputs of a bulk call are with the provider at once.
    pub provider_concurrency: usize,
    /// Where hand-offs are counted.
    pub metrics: &'a Metrics,
}

/// The error codes of `FastCall.SubscriberAPI.APIException`, as Fastcall's reference lists
/// them: there is no 102 (a missing destination is 104; one that cannot be delivered to is
/// the provider's refusal, 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The VoIP provider refused or failed.
    Provider = 100,
    /// No body text.
    BodyMissing = 101,
    /// No usable caller ID.
    CallerId = 103,
    /// Anything else the caller can fix.
    Invalid = 104,
    /// The org's setup lacks the capability.
    Capability = 105,
}

impl ErrorCode {
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The code as text, as logs and metrics label it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "100",
            Self::BodyMissing => "101",
            Self::CallerId => "103",
            Self::Invalid => "104",
            Self::Capability => "105",
        }
    }
}

/// A `FastCall.SubscriberAPI.APIException`: the caller's to fix, or the provider's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[{}] {message}", code.code())]
pub struct ApiException {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiException {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }
}

/// Why an action did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Api(#[from] ApiException),
    /// The emulator's own failure: not the caller's to fix.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What handing off to the provider left to store, and what the caller is told once it is.
#[derive(Debug)]
pub struct Dispatched<O> {
    pub batch: Batch,
    pub outcome: Result<O, ApiException>,
}

/// The inputs of the actions that hand off to the provider (messages, calls): each is
/// checked against the org first ([`Dispatch::check`]), becomes its record
/// ([`Dispatch::record`]), and is handed off only once every input of its invocation passed
/// ([`Dispatch::hand_off`]). The records of a provider outside the emulator are stored
/// before their hand-off (`hand_off::queue`).
pub trait Dispatch: Sized {
    type Output: Send;
    /// An input that passed every check, ready for the provider.
    type Plan<'o>: Send;
    /// The record an input becomes: a message or a call.
    type Record: hand_off::Outgoing;

    /// Every check against the org, in the order the action reports its errors.
    fn check<'o>(
        &self,
        org: &'o Org,
        invoker: Option<SalesforceId>,
    ) -> Result<Self::Plan<'o>, ApiException>;

    /// What the provider's answer depends on that the emulator stores, looked up for all
    /// the plans of an invocation at once before any is handed off: which recipients opted
    /// out of their sending number (messages). Nothing, by default.
    fn screen<'a, 'o>(
        plans: &'a mut [Self::Plan<'o>],
        ctx: &'a ActionContext<'o>,
    ) -> impl Future<Output = Result<(), StorageError>> + Send + 'a {
        let _ = (plans, ctx);
        std::future::ready(Ok(()))
    }

    /// The record a checked input becomes, as it is before the hand-off: Queued, without
    /// the provider's id.
    fn record(plan: &Self::Plan<'_>, now: Timestamp) -> Self::Record;

    /// Hands a checked input to the provider, and builds what is to be stored either way
    /// (`hand_off::settle`): the provider's refusal is kept too, as a Failed record with
    /// its VoIP error log entry.
    fn hand_off<'a, 'o>(
        plan: Self::Plan<'o>,
        record: Self::Record,
        ctx: &'a ActionContext<'o>,
    ) -> impl Future<Output = Dispatched<Self::Output>> + Send + 'a;
}

/// One input, on its own: checked, screened, then handed off.
pub async fn dispatch<I: Dispatch>(
    ctx: &ActionContext<'_>,
    input: &I,
) -> Result<Dispatched<I::Output>, ActionError> {
    let mut plan = [input.check(ctx.org, ctx.invoker)?];
    I::screen(&mut plan, ctx).await?;
    let [plan] = plan;
    let record = I::record(&plan, Timestamp::now());
    hand_off::queue(ctx, std::slice::from_ref(&record)).await?;
    Ok(I::hand_off(plan, record, ctx).await)
}

/// The inputs of one invocation of the Apex method (SPEC 2.2), all or nothing as far as
/// can be: every input is checked before any is handed off, and the first failure, in
/// input order, fails the invocation with nothing handed off or to store. Once all passed
/// (and were screened together), they all go to the provider; a refusal then fails the
/// invocation too (the first refusal's error), but what the provider accepted cannot be
/// taken back, so the batch holds every input's records, to be committed together.
///
/// Up to `ctx.provider_concurrency` inputs are with the provider at once: one after another,
/// 200 inputs at 200 ms per hand-off would outlast the request timeout. Outputs, and the
/// records in the batch, keep the inputs' order.
pub async fn dispatch_all<I: Dispatch>(
    ctx: &ActionContext<'_>,
    inputs: Vec<Result<I, ApiException>>,
) -> Result<Dispatched<Vec<I::Output>>, ActionError> {
    let mut plans = inputs
        .into_iter()
        .map(|input| input?.check(ctx.org, ctx.invoker))
        .collect::<Result<Vec<_>, _>>()?;
    I::screen(&mut plans, ctx).await?;
    let count = plans.len();
    let now = Timestamp::now();
    let records: Vec<_> = plans.iter().map(|plan| I::record(plan, now)).collect();
    hand_off::queue(ctx, &records).await?;
    // Futures do nothing until polled: `buffered` runs them, a few at a time.
    let hand_offs: Vec<_> = plans
        .into_iter()
        .zip(records)
        .map(|(plan, record)| I::hand_off(plan, record, ctx))
        .collect();
    let mut handed_off = stream::iter(hand_offs).buffered(ctx.provider_concurrency.max(1));
    let mut batch = Batch::default();
    let mut outputs = Ok(Vec::with_capacity(count));
    while let Some(dispatched) = handed_off.next().await {
        batch.append(dispatched.batch);
        match (&mut outputs, dispatched.outcome) {
            (Ok(outputs), Ok(output)) => outputs.push(output),
            (Ok(_), Err(refusal)) => outputs = Err(refusal),
            // A later refusal: the first one is what the invocation reports.
            (Err(_), _) => {}
        }
    }
    Ok(Dispatched {
        batch,
        outcome: outputs,
    })
}

/// The idempotency key of a call whose records are being stored, with the answer to keep
/// under it (`http::idempotency`). The answer is stored in the records' transaction, and
/// the key learns how the write ended even when its call was cut off meanwhile, so that
/// it ends up answered or free.
pub trait HeldKey: Send + 'static {
    /// The key, and the answer to keep under it.
    fn answer(&self) -> KeyedAnswer;
    /// The records are stored, and the answer with them.
    fn settle(self);
    /// Nothing was stored: the key is given up, so that a retry runs the call.
    fn release(self) -> impl Future<Output = ()> + Send;
    /// What the call did was not all stored, and must not be done again: the key stays
    /// claimed, unanswered, until its lease ends (a retry meanwhile finds it running).
    fn hold(self);
}

/// Stores what a call dispatched, all or nothing, with the answer under its key when it
/// has one (so a retry gets the answer exactly when the records exist); then lets their
/// lifecycles start.
///
/// The write runs to its end even if the call is cut off meanwhile (its request timed out,
/// or its client went away): the provider has accepted the messages and calls already, so
/// they must be recorded, and the key must end up either answered or free.
pub async fn store(
    ctx: &ActionContext<'_>,
    mut batch: Batch,
    key: Option<impl HeldKey>,
) -> Result<(), StorageError> {
    batch.answer = key.as_ref().map(HeldKey::answer);
    // Records stored before their hand-off are with the provider already.
    let handed_off = !batch.hand_offs.is_empty();
    let org = ctx.org_name.clone();
    let storage = ctx.storage.clone();
    let lifecycle = ctx.lifecycle.clone();
    // Closed when this call is dropped: then nobody answers a failure, so it is logged here.
    let (to_caller, _caller) = oneshot::channel::<Infallible>();
    // Boxed: a task's future is copied whole when it is spawned and again when it is done.
    let write = tokio::spawn(Box::pin(async move {
        let written = storage.write(&org, batch).await;
        match &written {
            Ok(()) => {
                lifecycle.steps_scheduled();
                if let Some(key) = key {
                    key.settle();
                }
            }
            Err(error) => {
                match key {
                    // What was sent cannot be taken back: the key stays claimed until its
                    // lease ends, so that a retry meanwhile does not send it again. The
                    // records fail at their hand-off's deadline.
                    Some(key) if handed_off => key.hold(),
                    Some(key) => key.release().await,
                    None => {}
                }
                if to_caller.is_closed() {
                    tracing::warn!(%error, "cannot store what a call cut off meanwhile dispatched");
                }
            }
        }
        written
    }));
    match write.await {
        Ok(written) => written,
        Err(failure) if failure.is_panic() => std::panic::resume_unwind(failure.into_panic()),
        // The runtime is shutting down.
        Err(_) => Err(StorageError::Stopped),
    }
}

/// The three actions, by the names Salesforce knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionName {
    UserStatus,
    Sms,
    Call,
}

impl ActionName {
    pub const ALL: [ActionName; 3] = [ActionName::UserStatus, ActionName::Sms, ActionName::Call];
    const NAMESPACE: &'static str = "FastCall__";

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserStatus => "SubscriberUserStatusInvocable",
            Self::Sms => "SubscriberSMSInvocable",
            Self::Call => "SubscriberCallInvocable",
        }
    }

    /// Accepts the plain name and the namespaced one (`FastCall__SubscriberSMSInvocable`).
    pub fn parse(name: &str) -> Option<Self> {
        let plain = name.strip_prefix(Self::NAMESPACE).unwrap_or(name);
        Self::ALL.into_iter().find(|a| a.as_str() == plain)
    }

    /// Its direct route (SPEC 2.1).
    pub fn direct_route(self) -> &'static str {
        match self {
            Self::UserStatus => "/actions/SubscriberUserStatusInvocable",
            Self::Sms => "/actions/SubscriberSMSInvocable",
            Self::Call => "/actions/SubscriberCallInvocable",
        }
    }

    pub fn namespaced(self) -> String {
        format!("{}{}", Self::NAMESPACE, self.as_str())
    }
}

impl fmt::Display for ActionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_direct_route_is_its_name_under_actions() {
        for action in ActionName::ALL {
            assert_eq!(action.direct_route(), format!("/actions/{action}"));
        }
    }
}
