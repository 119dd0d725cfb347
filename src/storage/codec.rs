//! How the domain's value types are written to and read from a column, for any database
//! whose text and bigint types sqlx knows.

use std::sync::{Arc, LazyLock};

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::objects::{
    CallType, Direction, ObjectType, StatusType, TaskPriority, TaskStatus, TaskSubtype,
};
use crate::domain::{CallStatus, DialledNumber, OrgName, SalesforceId, SmsStatus, Timestamp};
use crate::records::{EventKind, StatusHistory};

/// How a database takes a value's text as an argument.
pub(super) trait BindText: Database {
    fn bind_text(text: &str, buf: &mut Self::ArgumentBuffer) -> Result<IsNull, BoxDynError>;

    /// Text already held in an `Arc`, which the argument may share.
    fn bind_shared(text: &Arc<str>, buf: &mut Self::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Self::bind_text(text, buf)
    }
}

/// PostgreSQL's arguments are the bytes of the message sent: the text is copied into it.
impl BindText for Postgres {
    fn bind_text(text: &str, buf: &mut Self::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&str as Encode<'_, Postgres>>::encode(text, buf)
    }
}

/// SQLite's arguments are owned until its thread binds them: a `&str` becomes an `Arc` of a
/// new `String`, two allocations (freed on that thread), where an `Arc<str>` is one, and a
/// shared one none. A stored SMS binds some twenty such texts.
impl BindText for Sqlite {
    fn bind_text(text: &str, buf: &mut Self::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Arc<str> as Encode<'_, Sqlite>>::encode(Arc::from(text), buf)
    }

    fn bind_shared(text: &Arc<str>, buf: &mut Self::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Arc<str> as Encode<'_, Sqlite>>::encode(Arc::clone(text), buf)
    }
}

/// Writes a value as text (its `as_str`), bound as its database takes text best; or, given
/// how to reach the value's text in an `Arc`, shared.
macro_rules! text_argument {
    ($type:ty) => {
        text_argument!($type, |value: &$type, buf| DB::bind_text(
            value.as_str(),
            buf
        ));
    };
    ($type:ty, $bind:expr) => {
        impl<DB: Database> Type<DB> for $type
        where
            str: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: BindText> Encode<'q, DB> for $type {
            fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                let bind: fn(&$type, &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> =
                    $bind;
                bind(self, buf)
            }
        }
    };
}

/// Free text (a message's body, a Task's subject), written only: it is read back as a
/// `String`.
pub(super) struct Text<'a>(pub &'a str);

impl Text<'_> {
    fn as_str(&self) -> &str {
        self.0
    }
}

text_argument!(Text<'_>);

/// Stores a value as text, reading it back through a parser that rejects what the
/// emulator could not have written.
macro_rules! text_column {
    ($type:ty, $parse:expr, $what:literal) => {
        text_column!($type, $parse, $what, |value: &$type, buf| DB::bind_text(
            value.as_str(),
            buf
        ));
    };
    ($type:ty, $parse:expr, $what:literal, $bind:expr) => {
        text_argument!($type, $bind);

        impl<'r, DB: Database> Decode<'r, DB> for $type
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&'r str as Decode<'r, DB>>::decode(value)?;
                let parse: fn(&str) -> Option<$type> = $parse;
                parse(text).ok_or_else(|| format!("`{text}` is not {}", $what).into())
            }
        }
    };
}

text_column!(
    SalesforceId,
    |s| SalesforceId::parse(s).ok(),
    "a Salesforce Id"
);
text_column!(
    DialledNumber,
    DialledNumber::from_canonical,
    "a dialled phone number"
);
text_column!(
    OrgName,
    |s| OrgName::parse(s).ok(),
    "an org name",
    |org: &OrgName, buf| DB::bind_shared(org.shared(), buf)
);

/// A picklist's value, stored as its name, which is bound shared: its names are made into
/// `Arc`s once.
macro_rules! picklist_column {
    ($type:ty, $what:literal) => {
        text_column!($type, <$type>::parse, $what, |value: &$type, buf| {
            static NAMES: LazyLock<Vec<($type, Arc<str>)>> = LazyLock::new(|| {
                <$type>::ALL
                    .iter()
                    .map(|value| (*value, Arc::from(value.as_str())))
                    .collect()
            });
            match NAMES.iter().find(|(named, _)| named == value) {
                Some((_, name)) => DB::bind_shared(name, buf),
                None => DB::bind_text(value.as_str(), buf),
            }
        });
    };
}

picklist_column!(SmsStatus, "an SMS status");
picklist_column!(CallStatus, "a call status");
picklist_column!(StatusType, "a status type");
picklist_column!(TaskStatus, "a Task status");
picklist_column!(TaskPriority, "a Task priority");
picklist_column!(TaskSubtype, "a Task subtype");
picklist_column!(CallType, "a call type");
picklist_column!(Direction, "a direction");
picklist_column!(EventKind, "an event kind");
text_column!(
    ObjectType,
    |s| ObjectType::parse(s),
    "an object the emulator knows"
);

/// Instants are stored as milliseconds since the Unix epoch.
impl<DB: Database> Type<DB> for Timestamp
where
    i64: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for Timestamp
where
    i64: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, DB>>::encode(self.millis(), buf)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for Timestamp
where
    i64: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<'r, DB>>::decode(value).map(Timestamp::from_millis)
    }
}

/// A status history is stored as its JSON text.
impl<DB: Database, S> Type<DB> for StatusHistory<S>
where
    str: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <str as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <str as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database, S: Serialize> Encode<'q, DB> for StatusHistory<S>
where
    String: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, DB>>::encode(serde_json::to_string(self)?, buf)
    }
}

impl<'r, DB: Database, S: DeserializeOwned> Decode<'r, DB> for StatusHistory<S>
where
    &'r str: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(serde_json::from_str(<&'r str as Decode<'r, DB>>::decode(
            value,
        )?)?)
    }
}
