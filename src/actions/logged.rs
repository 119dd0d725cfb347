//! What the SMS and call actions log besides their message or call: the Task on the related
//! record, and, when the provider refused, the VoIP error log entry and the 100 error that
//! reports it.

use super::{ApiException, ErrorCode};
use crate::domain::objects::{
    self, ObjectType, TASK, TaskPriority, TaskStatus, TaskSubtype, VOIP_ERROR_LOG,
};
use crate::domain::{DialledNumber, ProviderError, SalesforceId, Timestamp};
use crate::records::{Task, VoipErrorLog};
use crate::storage::Batch;
use crate::voip::VoipError;

/// `(WhoId, WhatId)` for a Task about `related`: people (Contacts, Leads) are "who",
/// everything else "what".
pub(super) fn who_and_what(
    related: Option<SalesforceId>,
) -> (Option<SalesforceId>, Option<SalesforceId>) {
    match related {
        Some(id) if objects::is_who(id.key_prefix()) => (Some(id), None),
        other => (None, other),
    }
}

/// A completed Task owned by the acting user, about `related` when given.
pub(super) fn task(
    created_at: Timestamp,
    owner_id: SalesforceId,
    subject: String,
    related: Option<SalesforceId>,
) -> Task {
    let (who_id, what_id) = who_and_what(related);
    Task {
        id: SalesforceId::generate(TASK.key_prefix),
        created_at,
        owner_id,
        subject,
        description: None,
        status: TaskStatus::Completed,
        priority: TaskPriority::Normal,
        task_subtype: TaskSubtype::Task,
        call_type: None,
        who_id,
        what_id,
        sms_message_id: None,
        call_id: None,
    }
}

/// A provider's refusal of a message or call, which is kept as Failed.
pub(super) struct ProviderRefusal<'a> {
    pub object: ObjectType,
    pub record_id: SalesforceId,
    pub provider: &'a str,
    pub error: VoipError,
    pub from: DialledNumber,
    pub to: DialledNumber,
    pub user_id: Option<SalesforceId>,
    pub at: Timestamp,
}

impl ProviderRefusal<'_> {
    /// The provider's error, for the Failed record, and the error 100 to answer.
    pub(super) fn exception(&self) -> (ProviderError, ApiException) {
        let what = match &self.error {
            VoipError::Refused { code, message } => {
                format!("The VoIP provider refused the request with error {code}: {message}")
            }
            VoipError::Unanswered(message) => {
                format!("The VoIP provider did not answer the request: {message}")
            }
        };
        let exception = ApiException::new(
            ErrorCode::Provider,
            format!(
                "{what} Check the VoIP error logs ({} {}).",
                self.object.api_name, self.record_id
            ),
        );
        (self.error.clone().provider_error(), exception)
    }

    /// Logs the refusal in `batch` (its VoIP error log entry). Returns the provider's error,
    /// for the Failed record, and the error 100 to answer.
    pub(super) fn record(self, batch: &mut Batch) -> (ProviderError, ApiException) {
        let (error, exception) = self.exception();
        batch.voip_errors.push(VoipErrorLog {
            id: SalesforceId::generate(VOIP_ERROR_LOG.key_prefix),
            created_at: self.at,
            record_type: self.object,
            record_id: self.record_id,
            provider: self.provider.to_owned(),
            provider_id: None,
            error: error.clone(),
            from_phone: self.from,
            to_phone: self.to,
            user_id: self.user_id,
        });
        (error, exception)
    }
}
