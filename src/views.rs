//! The public JSON shapes of what the emulator records: the actions' output maps, the
//! inspection items of `/_emulator/*`, and the payloads of the event stream (which are the
//! same items). Those made on every request are also written by hand ([`json`]).

pub mod json;

use serde::Serialize;

use crate::domain::objects::{
    CallType, Direction, StatusType, TaskPriority, TaskStatus, TaskSubtype,
};
use crate::domain::{
    CallStatus, DialledNumber, Encoding, SalesforceId, Segments, SmsStatus, Timestamp,
};
use crate::records::{Call, OptOut, SmsMessage, StatusHistory, StatusLogEntry, Task, VoipErrorLog};
use json::{Object, WriteJson, key};

/// `view` as JSON text. Written into room for a message's payload from the start: serde_json's
/// own `to_string` starts at 128 bytes and grows, a copy each time, to about 1 KiB for a
/// message. Views hold only strings, numbers and Ids, so they always serialise. The views
/// made on every request take [`json::to_string`] instead.
pub fn to_json(view: &impl Serialize) -> String {
    let mut json = Vec::with_capacity(1024);
    serde_json::to_writer(&mut json, view).expect("views serialise to JSON");
    String::from_utf8(json).expect("serde_json writes UTF-8")
}

/// `{"items": [...]}`, as every inspection list answers.
#[derive(Serialize)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// The output map of `SubscriberSMSInvocable`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsOutput {
    pub created_date: Timestamp,
    pub direction: Direction,
    pub id: SalesforceId,
    pub owner: SalesforceId,
    pub phone_number_id: SalesforceId,
    pub related_record_id: Option<SalesforceId>,
    pub sms_id: Option<String>,
    pub status: SmsStatus,
    pub task_id: Option<SalesforceId>,
}

impl From<&SmsMessage> for SmsOutput {
    fn from(m: &SmsMessage) -> Self {
        Self {
            created_date: m.created_at,
            direction: m.direction,
            id: m.id,
            owner: m.owner_id,
            phone_number_id: m.phone_number_id,
            related_record_id: m.related_record_id,
            sms_id: m.provider_id.clone(),
            status: m.status,
            task_id: m.task_id,
        }
    }
}

impl WriteJson for SmsOutput {
    fn write_fields(&self, object: &mut Object<'_>) {
        let Self {
            created_date,
            direction,
            id,
            owner,
            phone_number_id,
            related_record_id,
            sms_id,
            status,
            task_id,
        } = self;
        object.field(key!("createdDate"), created_date);
        object.field(key!("direction"), direction);
        object.field(key!("id"), id);
        object.field(key!("owner"), owner);
        object.field(key!("phoneNumberId"), phone_number_id);
        object.field(key!("relatedRecordId"), related_record_id);
        object.field(key!("smsId"), sms_id);
        object.field(key!("status"), status);
        object.field(key!("taskId"), task_id);
    }
}

/// The output map of `SubscriberCallInvocable`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallOutput {
    pub call_id: Option<String>,
    /// Every call the emulator places is outbound.
    pub direction: Direction,
    pub id: SalesforceId,
    pub ivr: SalesforceId,
    pub owner: SalesforceId,
    pub related_record_id: Option<SalesforceId>,
    pub start_time: Timestamp,
    pub status: CallStatus,
    pub task_id: Option<SalesforceId>,
}

impl From<&Call> for CallOutput {
    fn from(c: &Call) -> Self {
        Self {
            call_id: c.provider_id.clone(),
            direction: Direction::Outbound,
            id: c.id,
            ivr: c.ivr_id,
            owner: c.owner_id,
            related_record_id: c.related_record_id,
            start_time: c.created_at,
            status: c.status,
            task_id: c.task_id,
        }
    }
}

impl WriteJson for CallOutput {
    fn write_fields(&self, object: &mut Object<'_>) {
        let Self {
            call_id,
            direction,
            id,
            ivr,
            owner,
            related_record_id,
            start_time,
            status,
            task_id,
        } = self;
        object.field(key!("callId"), call_id);
        object.field(key!("direction"), direction);
        object.field(key!("id"), id);
        object.field(key!("ivr"), ivr);
        object.field(key!("owner"), owner);
        object.field(key!("relatedRecordId"), related_record_id);
        object.field(key!("startTime"), start_time);
        object.field(key!("status"), status);
        object.field(key!("taskId"), task_id);
    }
}

/// The output map of `SubscriberUserStatusInvocable`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserStatusOutput {
    pub user_id: SalesforceId,
    pub user_status_id: Option<SalesforceId>,
    pub status_type: StatusType,
    pub previous_user_status_id: Option<SalesforceId>,
    pub previous_status_type: StatusType,
    pub changed: bool,
    /// When the status became what it is now; `null` when it is still the org's.
    pub changed_date: Option<Timestamp>,
    pub log_id: Option<SalesforceId>,
}

impl WriteJson for UserStatusOutput {
    fn write_fields(&self, object: &mut Object<'_>) {
        let Self {
            user_id,
            user_status_id,
            status_type,
            previous_user_status_id,
            previous_status_type,
            changed,
            changed_date,
            log_id,
        } = self;
        object.field(key!("userId"), user_id);
        object.field(key!("userStatusId"), user_status_id);
        object.field(key!("statusType"), status_type);
        object.field(key!("previousUserStatusId"), previous_user_status_id);
        object.field(key!("previousStatusType"), previous_status_type);
        object.field(key!("changed"), changed);
        object.field(key!("changedDate"), changed_date);
        object.field(key!("logId"), log_id);
    }
}

/// A message: the action's output keys, and what was sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageItem<'a> {
    #[serde(flatten)]
    output: SmsOutput,
    body: &'a str,
    /// The body's character set, as the provider sends it: `GSM-7` or `UCS-2`.
    encoding: Encoding,
    /// How many SMS segments the body takes.
    num_segments: u32,
    from_phone: DialledNumber,
    to_phone: DialledNumber,
    #[serde(rename = "mediaURL")]
    media_url: Option<&'a str>,
    /// None for an inbound message to a group's number, and for a reply to a keyword there.
    user_id: Option<SalesforceId>,
    error_code: Option<i32>,
    error_message: Option<&'a str>,
    /// Every status the message had, oldest first, with when and the provider's error.
    status_history: &'a StatusHistory<SmsStatus>,
}

impl<'a> From<&'a SmsMessage> for MessageItem<'a> {
    fn from(m: &'a SmsMessage) -> Self {
        let segments = Segments::of(&m.body);
        Self {
            output: SmsOutput::from(m),
            body: &m.body,
            encoding: segments.encoding,
            num_segments: segments.count,
            from_phone: m.from_phone,
            to_phone: m.to_phone,
            media_url: m.media_url.as_deref(),
            user_id: m.user_id,
            error_code: m.error.as_ref().map(|e| e.code),
            error_message: m.error.as_ref().map(|e| e.message.as_str()),
            status_history: &m.status_history,
        }
    }
}

/// The output's keys first, as `flatten` writes them.
impl WriteJson for MessageItem<'_> {
    fn write_fields(&self, object: &mut Object<'_>) {
        let Self {
            output,
            body,
            encoding,
            num_segments,
            from_phone,
            to_phone,
            media_url,
            user_id,
            error_code,
            error_message,
            status_history,
        } = self;
        output.write_fields(object);
        object.field(key!("body"), body);
        object.field(key!("encoding"), encoding);
        object.field(key!("numSegments"), num_segments);
        object.field(key!("fromPhone"), from_phone);
        object.field(key!("toPhone"), to_phone);
        object.field(key!("mediaURL"), media_url);
        object.field(key!("userId"), user_id);
        object.field(key!("errorCode"), error_code);
        object.field(key!("errorMessage"), error_message);
        object.field(key!("statusHistory"), status_history);
    }
}

/// A call: the action's output keys, and who called whom.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallItem<'a> {
    #[serde(flatten)]
    output: CallOutput,
    from_phone: DialledNumber,
    to_phone: DialledNumber,
    user_id: SalesforceId,
    error_code: Option<i32>,
    error_message: Option<&'a str>,
    /// Every status the call had, oldest first, with when and the provider's error.
    status_history: &'a StatusHistory<CallStatus>,
}

impl<'a> From<&'a Call> for CallItem<'a> {
    fn from(c: &'a Call) -> Self {
        Self {
            output: CallOutput::from(c),
            from_phone: c.from_phone,
            to_phone: c.to_phone,
            user_id: c.user_id,
            error_code: c.error.as_ref().map(|e| e.code),
            error_message: c.error.as_ref().map(|e| e.message.as_str()),
            status_history: &c.status_history,
        }
    }
}

/// The output's keys first, as `flatten` writes them.
impl WriteJson for CallItem<'_> {
    fn write_fields(&self, object: &mut Object<'_>) {
        let Self {
            output,
            from_phone,
            to_phone,
            user_id,
            error_code,
            error_message,
            status_history,
        } = self;
        output.write_fields(object);
        object.field(key!("fromPhone"), from_phone);
        object.field(key!("toPhone"), to_phone);
        object.field(key!("userId"), user_id);
        object.field(key!("errorCode"), error_code);
        object.field(key!("errorMessage"), error_message);
        object.field(key!("statusHistory"), status_history);
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskItem<'a> {
    id: SalesforceId,
    created_date: Timestamp,
    owner_id: SalesforceId,
    subject: &'a str,
    description: Option<&'a str>,
    status: TaskStatus,
    priority: TaskPriority,
    task_subtype: TaskSubtype,
    call_type: Option<CallType>,
    who_id: Option<SalesforceId>,
    what_id: Option<SalesforceId>,
    sms_message_id: Option<SalesforceId>,
    call_id: Option<SalesforceId>,
}

impl<'a> From<&'a Task> for TaskItem<'a> {
    fn from(t: &'a Task) -> Self {
        Self {
            id: t.id,
            created_date: t.created_at,
            owner_id: t.owner_id,
            subject: &t.subject,
            description: t.description.as_deref(),
            status: t.status,
            priority: t.priority,
            task_subtype: t.task_subtype,
            call_type: t.call_type,
            who_id: t.who_id,
            what_id: t.what_id,
            sms_message_id: t.sms_message_id,
            call_id: t.call_id,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VoipErrorItem<'a> {
    id: SalesforceId,
    created_date: Timestamp,
    record_type: &'a str,
    record_id: SalesforceId,
    provider: &'a str,
    provider_id: Option<&'a str>,
    error_code: i32,
    error_message: &'a str,
    from_phone: DialledNumber,
    to_phone: DialledNumber,
    user_id: Option<SalesforceId>,
}

impl<'a> From<&'a VoipErrorLog> for VoipErrorItem<'a> {
    fn from(e: &'a VoipErrorLog) -> Self {
        Self {
            id: e.id,
            created_date: e.created_at,
            record_type: e.record_type.api_name,
            record_id: e.record_id,
            provider: &e.provider,
            provider_id: e.provider_id.as_deref(),
            error_code: e.error.code,
            error_message: &e.error.message,
            from_phone: e.from_phone,
            to_phone: e.to_phone,
            user_id: e.user_id,
        }
    }
}

/// A status-log entry: one real change of a user's status.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusLogItem {
    id: SalesforceId,
    user_id: SalesforceId,
    from_user_status_id: Option<SalesforceId>,
    from_status_type: StatusType,
    to_user_status_id: Option<SalesforceId>,
    to_status_type: StatusType,
    changed_date: Timestamp,
    changed_by: Option<SalesforceId>,
}

impl From<&StatusLogEntry> for StatusLogItem {
    fn from(e: &StatusLogEntry) -> Self {
        Self {
            id: e.id,
            user_id: e.user_id,
            from_user_status_id: e.from_user_status_id,
            from_status_type: e.from_status_type,
            to_user_status_id: e.to_user_status_id,
            to_status_type: e.to_status_type,
            changed_date: e.changed_at,
            changed_by: e.changed_by,
        }
    }
}

impl WriteJson for StatusLogItem {
    fn write_fields(&self, object: &mut Object<'_>) {
        let Self {
            id,
            user_id,
            from_user_status_id,
            from_status_type,
            to_user_status_id,
            to_status_type,
            changed_date,
            changed_by,
        } = self;
        object.field(key!("id"), id);
        object.field(key!("userId"), user_id);
        object.field(key!("fromUserStatusId"), from_user_status_id);
        object.field(key!("fromStatusType"), from_status_type);
        object.field(key!("toUserStatusId"), to_user_status_id);
        object.field(key!("toStatusType"), to_status_type);
        object.field(key!("changedDate"), changed_date);
        object.field(key!("changedBy"), changed_by);
    }
}

/// A user's current status, as `/_emulator/users/{id}` shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserStateItem<'a> {
    pub id: SalesforceId,
    pub name: &'a str,
    pub fastcall_user: bool,
    pub user_status_id: Option<SalesforceId>,
    /// The status record's name, when there is one.
    pub user_status_name: Option<&'a str>,
    pub status_type: StatusType,
    /// When the status was last set through the action; `null` while it is the org's.
    pub changed_date: Option<Timestamp>,
}

/// An opt-out: the customer who texted an opt-out keyword, the org's number they opted out
/// of, and since when.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptOutItem {
    /// The customer's number.
    from_phone: DialledNumber,
    /// The org's number, and its Id.
    to_phone: DialledNumber,
    phone_number_id: SalesforceId,
    /// The inbound message that opted them out.
    message_id: SalesforceId,
    since: Timestamp,
}

impl From<&OptOut> for OptOutItem {
    fn from(o: &OptOut) -> Self {
        Self {
            from_phone: o.sender,
            to_phone: o.org_number,
            phone_number_id: o.phone_number_id,
            message_id: o.message_id,
            since: o.since,
        }
    }
}
