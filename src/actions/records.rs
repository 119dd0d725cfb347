//! Records the SMS and call actions share: the Task on the related record, the VoIP error
//! log entry of a refusal, and the 100 error that reports it.

use super::{ApiException, ErrorCode};
use crate::domain::objects::{self, ObjectType, TASK, VOIP_ERROR_LOG};
use crate::domain::{E164, SalesforceId, Timestamp};
use crate::storage::{Batch, Task, VoipErrorLog};
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
        status: "Completed".into(),
        priority: "Normal".into(),
        task_subtype: "Task".into(),
        call_type: None,
        who_id,
        what_id,
        sms_message_id: None,
        call_id: None,
    }
}

/// What a provider refusal leaves behind, besides the Failed record itself.
pub(super) struct Refused<'a> {
    pub object: ObjectType,
    pub record_id: SalesforceId,
    pub provider: &'a str,
    pub error: &'a VoipError,
    pub from: E164,
    pub to: E164,
    pub user_id: SalesforceId,
    pub at: Timestamp,
}

impl Refused<'_> {
    /// Keeps what the refusal leaves: its VoIP error log entry in `batch`, the provider's
    /// error on the Failed record (`error_code`, `error_message`). The error 100 to answer.
    pub(super) fn record(
        self,
        batch: &mut Batch,
        error_code: &mut Option<i32>,
        error_message: &mut Option<String>,
    ) -> ApiException {
        let entry = self.log_entry();
        *error_code = Some(entry.error_code);
        *error_message = Some(entry.error_message.clone());
        batch.voip_errors.push(entry);
        self.exception()
    }

    fn log_entry(&self) -> VoipErrorLog {
        let VoipError::Refused { code, message } = self.error;
        VoipErrorLog {
            id: SalesforceId::generate(VOIP_ERROR_LOG.key_prefix),
            created_at: self.at,
            record_type: self.object.api_name.to_owned(),
            record_id: self.record_id,
            provider: self.provider.to_owned(),
            provider_id: None,
            error_code: *code,
            error_message: message.clone(),
            from_phone: self.from,
            to_phone: self.to,
            user_id: self.user_id,
        }
    }

    /// Error 100, carrying the provider's own code and pointing at the records.
    fn exception(&self) -> ApiException {
        let VoipError::Refused { code, message } = self.error;
        ApiException::new(
            ErrorCode::Provider,
            format!(
                "The VoIP provider refused the request with error {code}: {message} \
                 Check the VoIP error logs ({} {}).",
                self.object.api_name, self.record_id
            ),
        )
    }
}
