//! Delivery statuses as the providers report them, and as `FastCall__Status__c` shows them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an outbound SMS/MMS is on its way to the handset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SmsStatus {
    Queued,
    Sent,
    Delivered,
    Undelivered,
    Failed,
}

impl SmsStatus {
    pub const ALL: [SmsStatus; 5] = [
        Self::Queued,
        Self::Sent,
        Self::Delivered,
        Self::Undelivered,
        Self::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "Queued",
            Self::Sent => "Sent",
            Self::Delivered => "Delivered",
            Self::Undelivered => "Undelivered",
            Self::Failed => "Failed",
        }
    }

    /// Case-insensitive, for filters typed by hand.
    pub fn parse(input: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(input.trim()))
    }
}

impl fmt::Display for SmsStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
