//! What the three invocable actions mean, free of HTTP and SQL: each takes its inputs as
//! the caller sent them, checks them against the org, hands off to the provider and
//! stores what happened. Messages and calls are dispatched first and stored together
//! ([`dispatch_all`], [`store`]), so that a bulk call's records are kept all or none; a
//! status change stores itself.

pub mod call;
mod caller_id;
pub mod catalog;
mod logged;
mod resolve;
pub mod sms;
pub mod user_status;

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use futures_util::{StreamExt, stream};
use tokio::sync::oneshot;

use crate::domain::SalesforceId;
use crate::lifecycle::Lifecycle;
use crate::org::Org;
use crate::storage::{Batch, KeyedAnswer, Storage, StorageError};
use crate::voip::VoipProvider;

/// Everything an action needs besides its inputs.
pub struct ActionContext<'a> {
    pub org: &'a Org,
    /// The running user: the API key's user, `X-Fastcall-User-Id`, or the org's default.
    pub invoker: Option<SalesforceId>,
    /// Owned, as [`store`] hands its write to a task of its own.
    pub storage: Arc<dyn Storage>,
    pub voip: &'a dyn VoipProvider,
    pub lifecycle: Arc<Lifecycle>,
    /// How many inputs of a bulk call are with the provider at once.
    pub provider_concurrency: usize,
}

/// The error codes of `FastCall.SubscriberAPI.APIException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The VoIP provider refused or failed.
    Provider = 100,
    /// No body text.
    BodyMissing = 101,
    /// No usable destination number.
    Destination = 102,
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

/// An input that passed its checks and went to the provider: the records it created, to
/// be stored, and what its caller is told once they are.
#[derive(Debug)]
pub struct Dispatched<O> {
    pub batch: Batch,
    pub outcome: Result<O, ApiException>,
}

/// The inputs of the actions that hand off to the provider (messages, calls).
pub trait Dispatch: Sized {
    type Output;

    /// Checks the input against the org and hands it to the provider.
    fn dispatch<'a>(
        &'a self,
        ctx: &'a ActionContext<'a>,
    ) -> impl Future<Output = Result<Dispatched<Self::Output>, ApiException>> + Send + 'a;
}

/// Dispatches every input of a bulk call on its own (a bad input fails alone), gathering
/// all their records into one batch, to be committed together: all of them, or none.
///
/// Up to `ctx.provider_concurrency` inputs are with the provider at once: one after another,
/// 200 inputs at 200 ms per hand-off would outlast the request timeout. Outcomes, and the
/// records in the batch, keep the inputs' order.
pub async fn dispatch_all<I: Dispatch>(
    ctx: &ActionContext<'_>,
    inputs: Vec<Result<I, ApiException>>,
) -> (Batch, Vec<Result<I::Output, ApiException>>) {
    let dispatched: Vec<_> = stream::iter(inputs)
        .map(|input| async move {
            match input {
                Ok(input) => input.dispatch(ctx).await,
                Err(exception) => Err(exception),
            }
        })
        .buffered(ctx.provider_concurrency.max(1))
        .collect()
        .await;
    let mut batch = Batch::default();
    let outcomes = dispatched
        .into_iter()
        .map(|dispatched| {
            dispatched.and_then(|d| {
                batch.append(d.batch);
                d.outcome
            })
        })
        .collect();
    (batch, outcomes)
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
    let storage = ctx.storage.clone();
    let lifecycle = ctx.lifecycle.clone();
    // Closed when this call is dropped: then nobody answers a failure, so it is logged here.
    let (to_caller, _caller) = oneshot::channel::<Infallible>();
    let write = tokio::spawn(async move {
        let written = storage.write(batch).await;
        match &written {
            Ok(()) => {
                lifecycle.steps_scheduled();
                if let Some(key) = key {
                    key.settle();
                }
            }
            Err(error) => {
                if let Some(key) = key {
                    key.release().await;
                }
                if to_caller.is_closed() {
                    tracing::warn!(%error, "cannot store what a call cut off meanwhile dispatched");
                }
            }
        }
        written
    });
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

    pub fn namespaced(self) -> String {
        format!("{}{}", Self::NAMESPACE, self.as_str())
    }
}

impl fmt::Display for ActionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
