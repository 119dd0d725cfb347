//! What the emulator records: messages, calls, Tasks, VoIP error log entries, user
//! statuses and their log, and the events raised by all of them.

use serde::{Deserialize, Serialize};

use crate::domain::lifecycle::ProviderError;
use crate::domain::objects::StatusType;
use crate::domain::{CallStatus, E164, SalesforceId, SmsStatus, Timestamp};

/// A `FastCall__SMS_Message__c` record.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SmsMessage {
    pub id: SalesforceId,
    /// The provider's message id (`SM...`); none when the provider refused it outright.
    pub provider_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The acting user, or the group whose number was the caller ID.
    pub owner_id: SalesforceId,
    /// The acting user.
    pub user_id: SalesforceId,
    pub phone_number_id: SalesforceId,
    pub from_phone: E164,
    pub to_phone: E164,
    pub body: String,
    pub media_url: Option<String>,
    pub related_record_id: Option<SalesforceId>,
    pub task_id: Option<SalesforceId>,
    pub status: SmsStatus,
    pub status_history: StatusHistory,
    pub error_code: Option<i32>,
    pub error_message: Option<String>,
}

/// A `FastCall__Call__c` record.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
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
    pub from_phone: E164,
    pub to_phone: E164,
    pub ivr_id: SalesforceId,
    pub related_record_id: Option<SalesforceId>,
    pub task_id: Option<SalesforceId>,
    pub status: CallStatus,
    pub status_history: StatusHistory,
    pub error_code: Option<i32>,
    pub error_message: Option<String>,
}

/// Every status a message or call had, with when it got it and the provider's error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatusHistory(pub Vec<StatusStep>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusStep {
    pub status: String,
    pub date: Timestamp,
    pub error_code: Option<i32>,
}

impl StatusHistory {
    /// A history that starts with `status` at `date`.
    pub fn starting(status: &str, date: Timestamp, error_code: Option<i32>) -> Self {
        Self(vec![StatusStep {
            status: status.to_owned(),
            date,
            error_code,
        }])
    }
}

/// Which kind of record a scheduled step moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Message,
    Call,
}

impl RecordKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Message => "sms",
            Self::Call => "call",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Message, Self::Call]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A status a message or call is due to reach, as its provider will report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingStep {
    pub kind: RecordKind,
    pub record_id: SalesforceId,
    /// The status name (`Sent`, `In Progress`, ...).
    pub status: String,
    pub error_code: Option<i32>,
    pub error_message: Option<String>,
    pub due_at: Timestamp,
}

impl PendingStep {
    /// The provider's error the step reports, if it is a failure with one.
    pub fn provider_error(&self) -> Option<ProviderError> {
        self.error_code.map(|code| ProviderError {
            code,
            message: self.error_message.clone().unwrap_or_default(),
        })
    }
}

/// A `Task` logged for an SMS or a call.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Task {
    pub id: SalesforceId,
    pub created_at: Timestamp,
    pub owner_id: SalesforceId,
    pub subject: String,
    pub description: Option<String>,
    pub status: String,
    pub priority: String,
    /// `Task` for messages, `Call` for calls.
    pub task_subtype: String,
    /// `Outbound` for calls.
    pub call_type: Option<String>,
    /// The Contact or Lead the Task is about.
    pub who_id: Option<SalesforceId>,
    /// Any other record the Task is about.
    pub what_id: Option<SalesforceId>,
    pub sms_message_id: Option<SalesforceId>,
    pub call_id: Option<SalesforceId>,
}

/// A `FastCall__VoIP_Error_Log__c` entry: what the provider refused, and why.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VoipErrorLog {
    pub id: SalesforceId,
    pub created_at: Timestamp,
    /// The object of the failed record (`FastCall__SMS_Message__c`, ...).
    pub record_type: String,
    pub record_id: SalesforceId,
    pub provider: String,
    pub provider_id: Option<String>,
    pub error_code: i32,
    pub error_message: String,
    pub from_phone: E164,
    pub to_phone: E164,
    pub user_id: SalesforceId,
}

/// Everything one request creates, committed together or not at all. Storing a message or
/// a call also raises its `*.created` event, in the same transaction.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub messages: Vec<SmsMessage>,
    pub calls: Vec<Call>,
    pub tasks: Vec<Task>,
    pub voip_errors: Vec<VoipErrorLog>,
    /// The first step of each accepted message or call, when the provider will report one.
    pub steps: Vec<PendingStep>,
    /// The answer to store under the request's idempotency key, with the records, so that a
    /// retry gets it exactly when the records exist.
    pub answer: Option<KeyedAnswer>,
}

/// An HTTP answer kept for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    /// The JSON body.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedAnswer {
    pub key: String,
    pub answer: StoredAnswer,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: run it, then store its answer.
    Claimed,
    /// The key's first request answered this.
    Answered(StoredAnswer),
    /// The key was first used for a different request.
    Mismatch,
    /// The key's first request is still running.
    Running,
}

impl Batch {
    /// Moves another batch's records into this one.
    pub fn append(&mut self, mut other: Batch) {
        self.messages.append(&mut other.messages);
        self.calls.append(&mut other.calls);
        self.tasks.append(&mut other.tasks);
        self.voip_errors.append(&mut other.voip_errors);
        self.steps.append(&mut other.steps);
        if other.answer.is_some() {
            self.answer = other.answer;
        }
    }

    /// Nothing to store: no records, and no answer to keep under an idempotency key (a bulk
    /// call whose every input failed its checks stores only its answer).
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
            && self.calls.is_empty()
            && self.tasks.is_empty()
            && self.voip_errors.is_empty()
            && self.answer.is_none()
    }
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

/// A request to set a user's status.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub user_id: SalesforceId,
    /// The status the org data gives the user, used when it was never changed.
    pub initial: UserStatusValue,
    pub to: UserStatusValue,
    pub changed_by: Option<SalesforceId>,
    /// The Id the log entry gets if the status really changes.
    pub log_id: SalesforceId,
}

/// What setting a status did: nothing (the user already had it), or one logged change.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChangeOutcome {
    pub previous: UserState,
    /// The log entry of a real change; `None` when nothing changed.
    pub logged: Option<StatusLogEntry>,
}

/// A `FastCall__User_Status_Log__c` entry.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
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

/// An event as stored and streamed: its place in the order of all events, its kind
/// (`sms.created`, ...) and its JSON payload.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredEvent {
    pub seq: i64,
    pub kind: String,
    pub payload: String,
    pub created_at: Timestamp,
}

/// Filters of the inspection lists; each list applies those that fit its items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// One item, by its record Id: with `status` and `wait`, "wait until this one is ...".
    pub id: Option<SalesforceId>,
    pub to: Option<E164>,
    pub from: Option<E164>,
    pub user_id: Option<SalesforceId>,
    pub related_record_id: Option<SalesforceId>,
    pub status: Option<String>,
    pub since: Option<Timestamp>,
    pub limit: u32,
}
