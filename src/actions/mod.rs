//! What the three invocable actions mean, free of HTTP and SQL: each takes its inputs as
//! the caller sent them, checks them against the org, hands off to the provider and
//! stores what happened.

mod caller_id;
pub mod catalog;
mod resolve;
pub mod sms;

use std::fmt;

use crate::domain::SalesforceId;
use crate::org::Org;
use crate::storage::{Storage, StorageError};
use crate::voip::VoipProvider;

/// Everything an action needs besides its inputs.
pub struct ActionContext<'a> {
    pub org: &'a Org,
    /// The running user: the API key's user, `X-Fastcall-User-Id`, or the org's default.
    pub invoker: Option<SalesforceId>,
    pub storage: &'a dyn Storage,
    pub voip: &'a dyn VoipProvider,
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

/// The three actions, by the names Salesforce knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionName {
    Sms,
}

impl ActionName {
    pub const ALL: [ActionName; 1] = [ActionName::Sms];
    const NAMESPACE: &'static str = "FastCall__";

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "SubscriberSMSInvocable",
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
