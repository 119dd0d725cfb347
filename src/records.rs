//! What the emulator keeps: messages, calls, Tasks, VoIP error log entries, user statuses
//! and their log, the steps messages and calls are due to take, and the events all of them
//! raise. Storage reads and writes these; lifecycle, events, views and actions build on them.

use serde::{Deserialize, Serialize};

use crate::domain::objects::{
    CallType, Direction, ObjectType, StatusType, TaskPriority, TaskStatus, TaskSubtype,
};
use crate::domain::{
    CallStatus, DialledNumber, OrgName, ProviderError, SalesforceId, SmsStatus, Timestamp,
};

/// A `FastCall__SMS_Message__c` record: one the action sent, or one a customer texted to
/// one of the org's numbers (`direction` Inbound, status Received).
#[derive(Debug, Clone, PartialEq)]
pub struct SmsMessage {
    pub id: SalesforceId,
    /// The provider's message id (`SM...`); none when the provider refused it outright.
    pub provider_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub direction: Direction,
    /// Outbound: the acting user, or the group whose number was the caller ID. Inbound: the
    /// number's user or group.
    pub owner_id: SalesforceId,
    /// Outbound: the acting user. Inbound: the user the number's message is for, if a user
    /// owns it (none for a group's number).
    pub user_id: Option<SalesforceId>,
    /// The org's number it was sent from or received at.
    pub phone_number_id: SalesforceId,
    pub from_phone: DialledNumber,
    pub to_phone: DialledNumber,
    pub body: String,
    pub media_url: Option<String>,
    pub related_record_id: Option<SalesforceId>,
    pub task_id: Option<SalesforceId>,
    pub status: SmsStatus,
    pub status_history: StatusHistory<SmsStatus>,
    /// The provider's error of the latest failure.
    pub error: Option<ProviderError>,
}

/// A `FastCall__Call__c` record.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: SalesforceId,
    /// The provider's call id (`CA...`); none when the provider refused it outright.
    pub provider_id: Option<String>,
    /// When the call was placed (the action's `startTime`).
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub owner_id: SalesforceId,
    pub user_id: SalesforceId,
    pub phone_number_id: SalesforceId,
    pub from_phone: DialledNumber,
    pub to_phone: DialledNumber,
    pub ivr_id: SalesforceId,
    pub related_record_id: Option<SalesforceId>,
    pub task_id: Option<SalesforceId>,
    pub status: CallStatus,
    pub status_history: StatusHistory<CallStatus>,
    /// The provider's error of the latest failure.
    pub error: Option<ProviderError>,
}

/// Every status a message or call had, with when it got it and the provider's error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatusHistory<S>(pub Vec<StatusStep<S>>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusStep<S> {
    pub status: S,
    pub date: Timestamp,
    pub error_code: Option<i32>,
}

impl<S> Default for StatusHistory<S> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<S> StatusHistory<S> {
    /// A history that starts with `status` at `date`.
    pub fn starting(status: S, date: Timestamp, error: Option<&ProviderError>) -> Self {
        Self(vec![StatusStep {
            status,
            date,
            error_code: error.map(|e| e.code),
        }])
    }

    /// Adds the status a record moved to.
    pub fn push(&mut self, status: S, date: Timestamp, error: Option<&ProviderError>) {
        self.0.push(StatusStep {
            status,
            date,
            error_code: error.map(|e| e.code),
        });
    }
}

/// The status a message or call is due to reach next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStatus {
    Message(SmsStatus),
    Call(CallStatus),
}

impl NextStatus {
    /// The status's name, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Message(status) => status.as_str(),
            Self::Call(status) => status.as_str(),
        }
    }

    /// Which kind of record moves, as stored beside the status: `sms` or `call`.
    pub const fn record_kind(self) -> &'static str {
        match self {
            Self::Message(_) => "sms",
            Self::Call(_) => "call",
        }
    }

    /// The status stored as `status` for a record of `record_kind`.
    pub fn parse(record_kind: &str, status: &str) -> Option<Self> {
        match record_kind {
            "sms" => SmsStatus::parse(status).map(Self::Message),
            "call" => CallStatus::parse(status).map(Self::Call),
            _ => None,
        }
    }
}

/// A status a message or call is due to reach, as its provider will report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingStep {
    pub record_id: SalesforceId,
    pub to: NextStatus,
    /// The provider's error, for a failure.
    pub error: Option<ProviderError>,
    pub due_at: Timestamp,
}

/// The provider's answer to the hand-off of a message or call stored before it: a provider
/// outside the emulator gets nothing that is not recorded first (SPEC 9).
#[derive(Debug, Clone, PartialEq)]
pub struct HandOff {
    pub record_id: SalesforceId,
    /// The record's kind, and the status the answer gives it: the provider's first (Queued)
    /// when it took the record, Failed when it did not.
    pub to: NextStatus,
    /// What the record gains when taken; the provider's error when not.
    pub outcome: Result<Taken, ProviderError>,
}

/// What a record handed off gains once the provider took it.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub provider_id: String,
    /// The Task logged for it.
    pub task_id: Option<SalesforceId>,
}

/// A `Task` logged for an SMS or a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: SalesforceId,
    pub created_at: Timestamp,
    pub owner_id: SalesforceId,
    pub subject: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    pub priority: TaskPriority,
    /// `Task` for messages, `Call` for calls.
    pub task_subtype: TaskSubtype,
    /// `Outbound` for calls.
    pub call_type: Option<CallType>,
    /// The Contact or Lead the Task is about.
    pub who_id: Option<SalesforceId>,
    /// Any other record the Task is about.
    pub what_id: Option<SalesforceId>,
    pub sms_message_id: Option<SalesforceId>,
    pub call_id: Option<SalesforceId>,
}

/// A `FastCall__VoIP_Error_Log__c` entry: what the provider refused, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct VoipErrorLog {
    pub id: SalesforceId,
    pub created_at: Timestamp,
    /// The object of the failed record (`FastCall__SMS_Message__c`, ...).
    pub record_type: ObjectType,
    pub record_id: SalesforceId,
    pub provider: String,
    pub provider_id: Option<String>,
    pub error: ProviderError,
    pub from_phone: DialledNumber,
    pub to_phone: DialledNumber,
    /// The acting user; none for a reply the provider sent on its own (to a keyword).
    pub user_id: Option<SalesforceId>,
}

/// A customer who texted an opt-out keyword to one of the org's numbers: that number sends
/// them nothing more until they opt back in (the provider refuses, 21610).
#[derive(Debug, Clone, PartialEq)]
pub struct OptOut {
    /// The customer's number.
    pub sender: DialledNumber,
    /// The org's number they opted out of, and its Id.
    pub org_number: DialledNumber,
    pub phone_number_id: SalesforceId,
    /// The inbound message that opted them out.
    pub message_id: SalesforceId,
    pub since: Timestamp,
}

/// What a keyword does to the opt-outs, stored with its inbound message.
#[derive(Debug, Clone, PartialEq)]
pub enum OptOutChange {
    /// Opts the sender out, unless they already are (then they stay so since the first time).
    Out(OptOut),
    /// Opts `sender` back in to `org_number`.
    In {
        sender: DialledNumber,
        org_number: DialledNumber,
    },
}

/// A user's Fastcall status: a status record, or only an availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserStatusValue {
    pub user_status_id: Option<SalesforceId>,
    pub status_type: StatusType,
}

/// A user's current status and when it was last set through the action (`None`: as the
/// org data gave it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserState {
    pub status: UserStatusValue,
    pub changed_at: Option<Timestamp>,
}

/// A `FastCall__User_Status_Log__c` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusLogEntry {
    pub id: SalesforceId,
    pub user_id: SalesforceId,
    pub from_user_status_id: Option<SalesforceId>,
    pub from_status_type: StatusType,
    pub to_user_status_id: Option<SalesforceId>,
    pub to_status_type: StatusType,
    pub changed_at: Timestamp,
    pub changed_by: Option<SalesforceId>,
}

/// What an event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    SmsCreated,
    SmsStatusChanged,
    /// A customer's message reached one of the org's numbers.
    SmsReceived,
    CallCreated,
    CallStatusChanged,
    UserStatusChanged,
    /// The org data was replaced (or the org created): every instance reloads it.
    OrgReplaced,
    /// The org was deleted: every instance stops serving it, and its streams end.
    OrgDeleted,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        Self::SmsCreated,
        Self::SmsStatusChanged,
        Self::SmsReceived,
        Self::CallCreated,
        Self::CallStatusChanged,
        Self::UserStatusChanged,
        Self::OrgReplaced,
        Self::OrgDeleted,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SmsCreated => "sms.created",
            Self::SmsStatusChanged => "sms.status_changed",
            Self::SmsReceived => "sms.received",
            Self::CallCreated => "call.created",
            Self::CallStatusChanged => "call.status_changed",
            Self::UserStatusChanged => "user_status.changed",
            Self::OrgReplaced => "org.replaced",
            Self::OrgDeleted => "org.deleted",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name.trim())
    }
}

/// A change that raises an event, in the transaction that makes it: the record as the
/// change left it.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    SmsCreated(&'a SmsMessage),
    SmsStatusChanged(&'a SmsMessage),
    SmsReceived(&'a SmsMessage),
    CallCreated(&'a Call),
    CallStatusChanged(&'a Call),
    UserStatusChanged(&'a StatusLogEntry),
    /// `version` counts the replacements, so subscribers can tell a stale notice.
    OrgReplaced {
        version: i64,
    },
    OrgDeleted,
}

impl Change<'_> {
    pub const fn kind(&self) -> EventKind {
        match self {
            Self::SmsCreated(_) => EventKind::SmsCreated,
            Self::SmsStatusChanged(_) => EventKind::SmsStatusChanged,
            Self::SmsReceived(_) => EventKind::SmsReceived,
            Self::CallCreated(_) => EventKind::CallCreated,
            Self::CallStatusChanged(_) => EventKind::CallStatusChanged,
            Self::UserStatusChanged(_) => EventKind::UserStatusChanged,
            Self::OrgReplaced { .. } => EventKind::OrgReplaced,
            Self::OrgDeleted => EventKind::OrgDeleted,
        }
    }
}

/// An event as stored and streamed: its place in the order of all events, its kind and its
/// JSON payload (the item the inspection API shows).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    /// The org whose change it tells: only that org's subscribers hear it.
    pub org: OrgName,
    pub kind: EventKind,
    pub payload: String,
    pub created_at: Timestamp,
}
