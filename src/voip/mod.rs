//! The VoIP provider that sends messages and places calls, chosen by configuration.

mod simulated;

use async_trait::async_trait;

pub use simulated::Simulated;

use crate::domain::{CallStatus, DialledNumber, SalesforceId, SmsStatus, Step};

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
}

/// A Twilio-like resource id: a two-letter prefix (`SM`, `MM`, `CA`) and 32 hex digits.
pub fn twilio_sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

#[derive(Debug, Clone, Copy)]
pub struct SmsRequest<'a> {
    pub from: DialledNumber,
    pub to: DialledNumber,
    pub body: &'a str,
    pub media_url: Option<&'a str>,
}

/// A call that connects the callee to one of the org's IVRs.
#[derive(Debug, Clone, Copy)]
pub struct CallRequest<'a> {
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
}
