//! Delivery and call statuses as the providers report them, and as `FastCall__Status__c`
//! shows them; which moves a provider could report, and which statuses are final.

picklist! {
    /// Where an outbound SMS/MMS is on its way to the handset; an inbound one is Received.
    SmsStatus {
        Queued => "Queued",
        Sending => "Sending",
        Sent => "Sent",
        Delivered => "Delivered",
        Undelivered => "Undelivered",
        Failed => "Failed",
        /// An inbound message: the customer's, as the org's number received it.
        Received => "Received",
    }
}

picklist! {
    /// Where an outbound call is, from dialling to hang-up.
    CallStatus {
        Queued => "Queued",
        Ringing => "Ringing",
        InProgress => "In Progress",
        Completed => "Completed",
        Busy => "Busy",
        NoAnswer => "No Answer",
        Failed => "Failed",
        Canceled => "Canceled",
    }
}

/// A provider's own error, reported with a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub code: i32,
    pub message: String,
}

/// One step of the path a provider reports for a message or call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<S> {
    pub status: S,
    /// The provider's error code and message, for a failure.
    pub error: Option<(i32, &'static str)>,
}

impl<S> Step<S> {
    pub const fn to(status: S) -> Self {
        Self {
            status,
            error: None,
        }
    }

    pub const fn failing(status: S, code: i32, message: &'static str) -> Self {
        Self {
            status,
            error: Some((code, message)),
        }
    }
}

/// What is left of a provider's `path` for a record at `current`: all of it before the
/// record has started on it (`current` is the status the provider accepted it with), what
/// follows `current` on it, and, for a record moved by hand to a status `path` does not pass
/// through, what follows `current` on `regular`, the path of a request that goes well (a
/// call to a busy number moved to In Progress goes on to Completed). Nothing past the end.
pub fn remaining<S: Copy + PartialEq>(
    path: &'static [Step<S>],
    regular: &'static [Step<S>],
    current: S,
    accepted: S,
) -> &'static [Step<S>] {
    if current == accepted {
        return path;
    }
    let after = |path: &'static [Step<S>]| {
        let i = path.iter().position(|step| step.status == current)?;
        Some(&path[i + 1..])
    };
    after(path).or_else(|| after(regular)).unwrap_or(&[])
}

impl SmsStatus {
    /// How far along the way to the handset: a provider only reports moves forward.
    fn stage(self) -> u8 {
        match self {
            Self::Queued => 0,
            Self::Sending => 1,
            Self::Sent => 2,
            Self::Delivered | Self::Undelivered | Self::Failed | Self::Received => 3,
        }
    }

    pub fn is_final(self) -> bool {
        self.stage() == 3
    }

    /// Whether a provider could report `next` after `self`: forward only (a step may be
    /// skipped, as when a "sent" callback is lost), never out of a final status. Only an
    /// inbound message is Received, and it arrives so: nothing becomes Received.
    pub fn can_become(self, next: Self) -> bool {
        !self.is_final() && next != Self::Received && next.stage() > self.stage()
    }

    /// The error a failure reports when none is given.
    pub fn default_error(self) -> Option<ProviderError> {
        let (code, message) = match self {
            Self::Undelivered => (30003, "Unreachable destination handset"),
            Self::Failed => (30008, "Unknown error"),
            _ => return None,
        };
        Some(ProviderError {
            code,
            message: message.into(),
        })
    }
}

impl CallStatus {
    fn stage(self) -> u8 {
        match self {
            Self::Queued => 0,
            Self::Ringing => 1,
            Self::InProgress => 2,
            Self::Completed | Self::Busy | Self::NoAnswer | Self::Failed | Self::Canceled => 3,
        }
    }

    pub fn is_final(self) -> bool {
        self.stage() == 3
    }

    /// Forward only, never out of a final status; a call that was answered can only be
    /// completed or fail, not turn busy, unanswered or canceled.
    pub fn can_become(self, next: Self) -> bool {
        let answered_outcome = matches!(next, Self::Completed | Self::Failed);
        !self.is_final()
            && next.stage() > self.stage()
            && (self != Self::InProgress || answered_outcome)
    }

    pub fn default_error(self) -> Option<ProviderError> {
        match self {
            Self::Failed => Some(ProviderError {
                code: 13224,
                message: "Twilio does not support calling this number or the number is invalid"
                    .into(),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_case_insensitively_and_print_as_salesforce_shows_them() {
        assert_eq!(CallStatus::parse("no answer"), Some(CallStatus::NoAnswer));
        assert_eq!(CallStatus::InProgress.to_string(), "In Progress");
        assert_eq!(SmsStatus::parse(" delivered "), Some(SmsStatus::Delivered));
        assert_eq!(SmsStatus::parse("Ringing"), None);
        assert_eq!(
            serde_json::to_string(&CallStatus::NoAnswer).unwrap(),
            r#""No Answer""#
        );
        assert_eq!(SmsStatus::NAMES.len(), SmsStatus::ALL.len());
    }

    #[test]
    fn only_an_inbound_message_is_received_and_it_moves_no_further() {
        assert!(!SmsStatus::Queued.can_become(SmsStatus::Received));
        assert!(!SmsStatus::Sent.can_become(SmsStatus::Received));
        assert!(SmsStatus::Received.is_final());
        assert!(!SmsStatus::Received.can_become(SmsStatus::Delivered));
    }

    const PATH: &[Step<SmsStatus>] = &[Step::to(SmsStatus::Sent), Step::to(SmsStatus::Delivered)];
    const FAILING: &[Step<SmsStatus>] = &[Step::failing(SmsStatus::Failed, 30008, "Unknown")];

    #[test]
    fn what_remains_of_a_path_follows_the_status() {
        let left = |path, current| {
            remaining(path, PATH, current, SmsStatus::Queued)
                .iter()
                .map(|s| s.status)
                .collect::<Vec<_>>()
        };
        use SmsStatus::*;
        assert_eq!(left(PATH, Queued), [Sent, Delivered]);
        assert_eq!(left(PATH, Sent), [Delivered]);
        assert_eq!(left(PATH, Delivered), []);
        assert_eq!(left(PATH, Undelivered), []);
        // Moved off a failing path by hand: on along the regular one.
        assert_eq!(left(FAILING, Queued), [Failed]);
        assert_eq!(left(FAILING, Sent), [Delivered]);
    }

    #[test]
    fn messages_only_move_forward_and_stop_at_a_final_status() {
        use SmsStatus::*;
        for (from, to, allowed) in [
            (Queued, Sending, true),
            (Sending, Sent, true),
            (Queued, Sent, true),
            (Queued, Delivered, true),
            (Sending, Failed, true),
            (Sent, Sending, false),
            (Sent, Delivered, true),
            (Sent, Undelivered, true),
            (Queued, Failed, true),
            (Sent, Queued, false),
            (Delivered, Queued, false),
            (Delivered, Undelivered, false),
            (Failed, Sent, false),
            (Queued, Queued, false),
        ] {
            assert_eq!(from.can_become(to), allowed, "{from} -> {to}");
        }
    }

    #[test]
    fn calls_only_move_forward_and_an_answered_call_can_only_complete_or_fail() {
        use CallStatus::*;
        for (from, to, allowed) in [
            (Queued, Ringing, true),
            (Ringing, InProgress, true),
            (InProgress, Completed, true),
            (Ringing, Busy, true),
            (Ringing, NoAnswer, true),
            (Queued, Failed, true),
            (Queued, Canceled, true),
            (InProgress, Failed, true),
            (InProgress, Busy, false),
            (InProgress, Canceled, false),
            (Completed, Queued, false),
            (Busy, Completed, false),
            (Ringing, Queued, false),
        ] {
            assert_eq!(from.can_become(to), allowed, "{from} -> {to}");
        }
    }

    #[test]
    fn failures_have_a_default_provider_error() {
        assert_eq!(SmsStatus::Undelivered.default_error().unwrap().code, 30003);
        assert_eq!(CallStatus::Failed.default_error().unwrap().code, 13224);
        assert_eq!(CallStatus::Busy.default_error(), None);
    }
}
