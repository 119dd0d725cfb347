//! Delivery and call statuses as the providers report them, and as `FastCall__Status__c`
//! shows them.

use std::fmt;

use serde::{Serialize, Serializer};

/// A closed set of status names, parsed case-insensitively (filters are typed by hand).
macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(input: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|s| s.as_str().eq_ignore_ascii_case(input.trim()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

status_enum! {
    /// Where an outbound SMS/MMS is on its way to the handset.
    SmsStatus {
        Queued => "Queued",
        Sent => "Sent",
        Delivered => "Delivered",
        Undelivered => "Undelivered",
        Failed => "Failed",
    }
}

status_enum! {
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
}
