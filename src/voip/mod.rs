//! The VoIP provider that sends messages and places calls, chosen by configuration: the
//! simulator, or Twilio.

mod simulated;
pub mod twilio;

use std::time::Duration;

use async_trait::async_trait;

pub use simulated::Simulated;
pub use twilio::Twilio;

use crate::domain::{
    CallStatus, DialledNumber, OrgName, ProviderError, SalesforceId, SmsStatus, Step, unique,
};

/// A provider hand-off. Implementations answer as soon as the provider has accepted or
/// refused the request; delivery happens later.
#[async_trait]
pub trait VoipProvider: Send + Sync + 'static {
    /// The provider's name, as VoIP error log entries show it.
    fn name(&self) -> &'static str;

    async fn send_sms(&self, request: &SmsRequest<'_>) -> Result<Accepted<SmsStatus>, VoipError>;

    async fn place_call(
        &self,
        request: &CallRequest<'_>,
    ) -> Result<Accepted<CallStatus>, VoipError>;

    /// The statuses an accepted message to `to`, now `current`, goes on to reach, in order,
    /// as the provider will report them (`domain::status::remaining`).
    fn sms_path(&self, to: DialledNumber, current: SmsStatus) -> &'static [Step<SmsStatus>];

    /// The statuses an accepted call to `to`, now `current`, goes on to reach, in order.
    fn call_path(&self, to: DialledNumber, current: CallStatus) -> &'static [Step<CallStatus>];

    /// For a provider outside the emulator, how long a hand-off may take at most: what it
    /// sends cannot be taken back, so its record is stored before the hand-off, and fails if
    /// the hand-off has not finished by then (the emulator stopped meanwhile, SPEC 9).
    /// `None` for a provider inside the emulator, whose records are stored once it answered.
    fn hand_off_deadline(&self) -> Option<Duration> {
        None
    }

    /// The status of the reply the provider sends itself to an opt-out keyword: `Queued`,
    /// to go on along [`Self::sms_path`], when the provider reports its statuses.
    fn keyword_reply_status(&self) -> SmsStatus {
        SmsStatus::Queued
    }
}

/// A Twilio-like resource id: a two-letter prefix (`SM`, `MM`, `CA`) and 32 hex digits
/// (`domain::unique`).
pub fn twilio_sid(prefix: &str) -> String {
    let mut sid = String::with_capacity(prefix.len() + 32);
    sid.push_str(prefix);
    sid.extend(unique::hex32().map(char::from));
    sid
}

#[derive(Debug, Clone, Copy)]
pub struct SmsRequest<'a> {
    /// The org sending it, whose routes the provider's callbacks come back to.
    pub org: &'a OrgName,
    pub from: DialledNumber,
    pub to: DialledNumber,
    pub body: &'a str,
    pub media_url: Option<&'a str>,
}

/// A call that connects the callee to one of the org's IVRs.
#[derive(Debug, Clone, Copy)]
pub struct CallRequest<'a> {
    /// The org placing it, whose routes the provider's callbacks and TwiML requests come
    /// back to.
    pub org: &'a OrgName,
    pub from: DialledNumber,
    pub to: DialledNumber,
    pub ivr_id: SalesforceId,
    pub ivr_name: &'a str,
}

/// What the provider answers when it takes a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted<S> {
    /// The provider's id (`SM...` or `CA...` + 32 hex digits for Twilio).
    pub provider_id: String,
    pub status: S,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoipError {
    /// The provider refused the request, with its own error code.
    #[error("error {code}: {message}")]
    Refused { code: i32, message: String },
    /// The provider gave no answer that says what became of the request: it could not be
    /// reached, did not answer in time, or failed without an error of its own.
    #[error("{0}")]
    Unanswered(String),
}

/// The error code a record keeps when its provider gave none (a hand-off without an
/// answer): Twilio's 20500, "an internal server error has occurred".
pub const UNANSWERED: i32 = 20500;

impl VoipError {
    /// The error the record keeps, and its VoIP error log entry shows.
    pub fn provider_error(self) -> ProviderError {
        match self {
            Self::Refused { code, message } => ProviderError { code, message },
            Self::Unanswered(message) => ProviderError {
                code: UNANSWERED,
                message,
            },
        }
    }
}
