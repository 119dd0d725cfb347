//! The records' tables: each record's columns, written once in the order inserts bind them,
//! and how a row reads back into the record. A row that cannot be read is an error
//! (`StorageError::Corrupt`), never a record with a value made up or left out.

use sqlx::{FromRow, Row};

use super::DbRow;
use super::build::ValuesRow;
use crate::domain::{OrgName, ProviderError};
use crate::records::{
    Call, OptOut, PendingStep, SmsMessage, StatusLogEntry, StoredEvent, Task, VoipErrorLog,
};
use crate::storage::codec::Text;

/// A record stored as one row of its own table, which belongs to one org: the table's
/// `org` column, which the record itself does not hold.
pub(in crate::storage) trait Table {
    const NAME: &'static str;
    /// The record's columns, in the order [`Table::bind`] binds them after `org`.
    const COLUMNS: &'static str;
    /// `INSERT INTO <table> (org, <columns>) `, for a `VALUES` list of bound rows.
    const INSERT: &'static str;
    /// `SELECT <columns> FROM <table> `, for a `WHERE` to follow.
    const SELECT: &'static str;
    /// Reads the record of the org `$1` with the Id `$2`.
    const BY_ID: &'static str;
    /// Binds the org and the record's values, one per column, as one row of a multi-row
    /// `INSERT`.
    fn bind(&self, org: &OrgName, row: &mut ValuesRow<'_>);
}

/// A [`Table`] whose rows read back into the record.
pub(in crate::storage) trait Readable:
    Table + for<'r> FromRow<'r, DbRow> + Send + Unpin
{
}

impl<T: Table + for<'r> FromRow<'r, DbRow> + Send + Unpin> Readable for T {}

/// Implements [`Table`] from one list of `column: value` pairs, so that the column order is
/// written once.
macro_rules! table {
    ($record:ty => $name:literal, |$r:ident| {
        $first:ident: $first_value:expr $(, $column:ident: $value:expr)* $(,)?
    }) => {
        impl Table for $record {
            const NAME: &'static str = $name;
            const COLUMNS: &'static str =
                concat!(stringify!($first) $(, ", ", stringify!($column))*);
            const INSERT: &'static str = concat!(
                "INSERT INTO ", $name, " (org, ", stringify!($first) $(, ", ", stringify!($column))*, ") "
            );
            const SELECT: &'static str = concat!(
                "SELECT ", stringify!($first) $(, ", ", stringify!($column))*, " FROM ", $name, " "
            );
            const BY_ID: &'static str = concat!(
                "SELECT ", stringify!($first) $(, ", ", stringify!($column))*, " FROM ", $name,
                " WHERE org = $1 AND id = $2"
            );

            fn bind(&self, org: &OrgName, row: &mut ValuesRow<'_>) {
                let $r = self;
                row.bind(org).bind($first_value)$(.bind($value))*;
            }
        }
    };
}

/// A statement joined from `&str` parts, constants among them (`Db::FOR_UPDATE`), made
/// once per call site. In a generic function every instantiation shares it: its parts must
/// not depend on the type parameters.
macro_rules! statement {
    ($($part:expr),+ $(,)?) => {{
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| [$($part),+].concat());
        SQL.as_str()
    }};
}
pub(in crate::storage) use statement;

/// `SELECT <columns> FROM <table> <rest...>` for a [`Table`], made once per call site.
/// Where it is used, `Table` and `statement!` must be in scope.
macro_rules! select {
    ($record:ty, $($rest:expr),+ $(,)?) => {
        statement!(<$record as Table>::SELECT, $($rest),+)
    };
}
pub(in crate::storage) use select;

table!(SmsMessage => "sms_messages", |m| {
    id: m.id, provider_id: m.provider_id.as_deref().map(Text), created_at: m.created_at,
    updated_at: m.updated_at,
    owner_id: m.owner_id, user_id: m.user_id, phone_number_id: m.phone_number_id,
    from_phone: m.from_phone, to_phone: m.to_phone, body: Text(&m.body),
    media_url: m.media_url.as_deref().map(Text),
    related_record_id: m.related_record_id, task_id: m.task_id, status: m.status,
    status_history: &m.status_history, error_code: m.error.as_ref().map(|e| e.code),
    error_message: m.error.as_ref().map(|e| Text(&e.message)), direction: m.direction,
});

table!(Call => "calls", |c| {
    id: c.id, provider_id: c.provider_id.as_deref().map(Text), created_at: c.created_at,
    updated_at: c.updated_at,
    owner_id: c.owner_id, user_id: c.user_id, phone_number_id: c.phone_number_id,
    from_phone: c.from_phone, to_phone: c.to_phone, ivr_id: c.ivr_id,
    related_record_id: c.related_record_id, task_id: c.task_id, status: c.status,
    status_history: &c.status_history, error_code: c.error.as_ref().map(|e| e.code),
    error_message: c.error.as_ref().map(|e| Text(&e.message)),
});

table!(Task => "tasks", |t| {
    id: t.id, created_at: t.created_at, owner_id: t.owner_id, subject: Text(&t.subject),
    description: t.description.as_deref().map(Text), status: t.status, priority: t.priority,
    task_subtype: t.task_subtype, call_type: t.call_type, who_id: t.who_id, what_id: t.what_id,
    sms_message_id: t.sms_message_id, call_id: t.call_id,
});

table!(VoipErrorLog => "voip_errors", |e| {
    id: e.id, created_at: e.created_at, record_type: e.record_type, record_id: e.record_id,
    provider: &e.provider, provider_id: &e.provider_id, error_code: e.error.code,
    error_message: &e.error.message, from_phone: e.from_phone, to_phone: e.to_phone,
    user_id: e.user_id,
});

table!(StatusLogEntry => "status_log", |e| {
    id: e.id, user_id: e.user_id, from_user_status_id: e.from_user_status_id,
    from_status_type: e.from_status_type, to_user_status_id: e.to_user_status_id,
    to_status_type: e.to_status_type, changed_at: e.changed_at, changed_by: e.changed_by,
});

// Opt-outs are inserted by `commit::change_opt_outs`, which keeps the first one's `since`.
table!(OptOut => "opt_outs", |o| {
    sender: o.sender, org_number: o.org_number, phone_number_id: o.phone_number_id,
    message_id: o.message_id, since: o.since,
});

// Steps are read back through `moves::StepRow`, which reports a row it cannot read.
table!(PendingStep => "pending_steps", |s| {
    kind: s.to.record_kind(), record_id: s.record_id, status: s.to.as_str(),
    error_code: s.error.as_ref().map(|e| e.code),
    error_message: s.error.as_ref().map(|e| e.message.as_str()), due_at: s.due_at,
});

/// Implements `FromRow`: each field from the column of its name, and the fields that span
/// columns through their readers.
macro_rules! from_row {
    ($record:ident { $($column:ident),+ $(; $($field:ident: $read:expr),+)? }) => {
        impl FromRow<'_, DbRow> for $record {
            fn from_row(row: &DbRow) -> sqlx::Result<Self> {
                Ok(Self {
                    $($column: row.try_get(stringify!($column))?,)+
                    $($($field: $read(row)?,)+)?
                })
            }
        }
    };
}

// Events are inserted by `commit::insert_events`, with the dialect's announcement.
from_row! { StoredEvent { seq, org, kind, payload, created_at } }

/// `SELECT <the columns StoredEvent reads> FROM events `, for a `WHERE` to follow.
pub(in crate::storage) const SELECT_EVENTS: &str =
    "SELECT seq, org, kind, payload, created_at FROM events ";
from_row! { SmsMessage {
    id, provider_id, created_at, updated_at, owner_id, user_id, phone_number_id, from_phone,
    to_phone, body, media_url, related_record_id, task_id, status, status_history, direction;
    error: provider_error
} }
from_row! { OptOut { sender, org_number, phone_number_id, message_id, since } }
from_row! { Call {
    id, provider_id, created_at, updated_at, owner_id, user_id, phone_number_id, from_phone,
    to_phone, ivr_id, related_record_id, task_id, status, status_history;
    error: provider_error
} }
from_row! { Task {
    id, created_at, owner_id, subject, description, status, priority, task_subtype, call_type,
    who_id, what_id, sms_message_id, call_id
} }
from_row! { VoipErrorLog {
    id, created_at, record_type, record_id, provider, provider_id, from_phone, to_phone, user_id;
    error: logged_error
} }
from_row! { StatusLogEntry {
    id, user_id, from_user_status_id, from_status_type, to_user_status_id, to_status_type,
    changed_at, changed_by
} }

/// A VoIP error log entry's `error_code` and `error_message`.
fn logged_error(row: &DbRow) -> sqlx::Result<ProviderError> {
    Ok(ProviderError {
        code: row.try_get("error_code")?,
        message: row.try_get("error_message")?,
    })
}

/// A message's or call's `error_code` and `error_message`.
fn provider_error(row: &DbRow) -> sqlx::Result<Option<ProviderError>> {
    both_or_neither(row.try_get("error_code")?, row.try_get("error_message")?).map_err(|reason| {
        sqlx::Error::ColumnDecode {
            index: "error_code".into(),
            source: reason.into(),
        }
    })
}

/// A stored provider error (of a message, a call or a pending step): its code and its
/// message, both or neither.
pub(super) fn both_or_neither(
    code: Option<i32>,
    message: Option<String>,
) -> Result<Option<ProviderError>, &'static str> {
    match (code, message) {
        (Some(code), Some(message)) => Ok(Some(ProviderError { code, message })),
        (None, None) => Ok(None),
        _ => Err("a provider error needs both its code and its message"),
    }
}
