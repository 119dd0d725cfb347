//! The activity the emulator records: messages, Tasks, VoIP error log entries.

use crate::domain::{E164, SalesforceId, SmsStatus, Timestamp};

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
    pub error_code: Option<i32>,
    pub error_message: Option<String>,
}

/// A `Task` logged on a record for an SMS or call.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Task {
    pub id: SalesforceId,
    pub created_at: Timestamp,
    pub owner_id: SalesforceId,
    pub subject: String,
    pub description: Option<String>,
    pub status: String,
    pub priority: String,
    pub task_subtype: String,
    /// The Contact or Lead the Task is about.
    pub who_id: Option<SalesforceId>,
    /// Any other record the Task is about.
    pub what_id: Option<SalesforceId>,
    pub sms_message_id: Option<SalesforceId>,
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

/// One SMS action's writes, stored together or not at all.
#[derive(Debug, Clone)]
pub struct SmsRecord {
    pub message: SmsMessage,
    pub task: Option<Task>,
    pub voip_error: Option<VoipErrorLog>,
}

/// Filters of the inspection lists; each list applies those that fit its items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    pub to: Option<E164>,
    pub from: Option<E164>,
    pub user_id: Option<SalesforceId>,
    pub related_record_id: Option<SalesforceId>,
    pub status: Option<String>,
    pub since: Option<Timestamp>,
    pub limit: u32,
}
