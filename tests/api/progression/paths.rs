//! The simulated provider's paths: which record goes where, and the statuses it takes.

use super::stream::{CALL_STATUS_CHANGED, SMS_STATUS_CHANGED};

pub(super) const JANE_PHONE: &str = "+14155550123";
pub(super) const UNDELIVERED_PHONE: &str = "+15005550010";
pub(super) const BUSY_PHONE: &str = "+15005550020";
pub(super) const NO_ANSWER_PHONE: &str = "+15005550021";
pub(super) const FAILING_PHONE: &str = "+15005550022";
/// Refused at once by the provider, for messages (21211) and calls (21217).
pub(super) const INVALID_PHONE: &str = "+15005550001";
/// Refused for messages (21614), a fine call destination.
pub(super) const NOT_SMS_PHONE: &str = "+15005550009";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Message,
    Call,
}

impl Kind {
    pub(super) fn list(self) -> &'static str {
        match self {
            Kind::Message => "/_emulator/messages",
            Kind::Call => "/_emulator/calls",
        }
    }

    pub(super) fn sobject(self) -> &'static str {
        match self {
            Kind::Message => "FastCall__SMS_Message__c",
            Kind::Call => "FastCall__Call__c",
        }
    }

    /// The output key of the provider's id (`SM...` / `CA...`).
    pub(super) fn provider_key(self) -> &'static str {
        match self {
            Kind::Message => "smsId",
            Kind::Call => "callId",
        }
    }

    pub(super) fn event(self) -> &'static str {
        match self {
            Kind::Message => SMS_STATUS_CHANGED,
            Kind::Call => CALL_STATUS_CHANGED,
        }
    }
}

/// A path of the simulated provider: where to, every status in order, and the failure
/// step's error.
#[derive(Debug)]
pub(super) struct Path {
    pub(super) name: &'static str,
    pub(super) kind: Kind,
    pub(super) to: &'static str,
    pub(super) statuses: &'static [&'static str],
    pub(super) error: Option<(i64, &'static str)>,
}

impl Path {
    pub(super) fn last(&self) -> &'static str {
        self.statuses[self.statuses.len() - 1]
    }

    pub(super) fn steps(&self) -> usize {
        self.statuses.len() - 1
    }
}

pub(super) const SMS_PATHS: [Path; 2] = [
    Path {
        name: "delivered",
        kind: Kind::Message,
        to: JANE_PHONE,
        statuses: &["Queued", "Sending", "Sent", "Delivered"],
        error: None,
    },
    Path {
        name: "undelivered",
        kind: Kind::Message,
        to: UNDELIVERED_PHONE,
        statuses: &["Queued", "Sending", "Sent", "Undelivered"],
        error: Some((30003, "Unreachable destination handset")),
    },
];

pub(super) const CALL_PATHS: [Path; 4] = [
    Path {
        name: "completed",
        kind: Kind::Call,
        to: JANE_PHONE,
        statuses: &["Queued", "Ringing", "In Progress", "Completed"],
        error: None,
    },
    Path {
        name: "busy",
        kind: Kind::Call,
        to: BUSY_PHONE,
        statuses: &["Queued", "Ringing", "Busy"],
        error: None,
    },
    Path {
        name: "no answer",
        kind: Kind::Call,
        to: NO_ANSWER_PHONE,
        statuses: &["Queued", "Ringing", "No Answer"],
        error: None,
    },
    Path {
        name: "failed",
        kind: Kind::Call,
        to: FAILING_PHONE,
        statuses: &["Queued", "Failed"],
        error: Some((
            13224,
            "Twilio does not support calling this number or the number is invalid",
        )),
    },
];

/// Every path, messages first.
pub(super) fn all_paths() -> impl Iterator<Item = &'static Path> {
    SMS_PATHS.iter().chain(CALL_PATHS.iter())
}
