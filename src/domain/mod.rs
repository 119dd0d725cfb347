//! Value types parsed from outside input: Ids, phone numbers, org names, instants, templates,
//! media URLs, secrets.

/// A closed set of names, as Salesforce shows them (a status, a picklist), parsed
/// case-insensitively (filters and moves are typed by hand).
macro_rules! picklist {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
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

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&name).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`{name}` is not one of {}",
                        Self::NAMES.join(", ")
                    ))
                })
            }
        }
    };
}

pub mod keyword;
pub mod media_url;
pub mod objects;
pub mod org_name;
pub mod phone;
pub mod salesforce_id;
pub mod secret;
pub mod segments;
pub mod status;
pub mod template;
pub mod time;
pub mod unique;

pub use keyword::Keyword;
pub use media_url::{MediaUrl, MediaUrlError};
pub use org_name::{OrgName, OrgNameError};
pub use phone::{Country, DialError, DialledNumber};
pub use salesforce_id::{IdError, SalesforceId};
pub use secret::Secret;
pub use segments::{Encoding, Segments};
pub use status::{CallStatus, ProviderError, SmsStatus, Step};
pub use time::Timestamp;
