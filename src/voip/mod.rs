//! The VoIP provider that sends messages and places calls, chosen by configuration.

mod simulated;

use async_trait::async_trait;

pub use simulated::Simulated;

use crate::domain::{E164, SmsStatus};

/// A provider hand-off. Implementations answer as soon as the provider has accepted or
/// refused the request; delivery happens later.
#[async_trait]
pub trait VoipProvider: Send + Sync + 'static {
    /// The provider's name, as VoIP error log entries show it.
    fn name(&self) -> &'static str;

    async fn send_sms(&self, request: &SmsRequest<'_>) -> Result<SmsAccepted, VoipError>;
}

#[derive(Debug, Clone, Copy)]
pub struct SmsRequest<'a> {
    pub from: E164,
    pub to: E164,
    pub body: &'a str,
    pub media_url: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsAccepted {
    /// The provider's message id (`SM` + 32 hex digits for Twilio).
    pub provider_id: String,
    pub status: SmsStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoipError {
    /// The provider refused the request, with its own error code.
    #[error("error {code}: {message}")]
    Refused { code: i32, message: String },
}
