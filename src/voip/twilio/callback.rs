//! What Twilio's status callbacks report, in the emulator's terms: which message or call
//! (by Twilio's SID), the status it reached, and the error of a failure.

use crate::domain::{CallStatus, ProviderError, SmsStatus};

/// A status callback's news.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report<'a> {
    Message {
        sid: &'a str,
        status: SmsStatus,
        error: Option<ProviderError>,
    },
    Call {
        sid: &'a str,
        status: CallStatus,
        error: Option<ProviderError>,
    },
}

/// A callback's form parameter.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

/// What the callback with these form parameters reports; `None` when it reports nothing the
/// emulator keeps (no SID, or a status with no counterpart, such as a message's `read` or
/// `canceled`).
pub fn report(params: &[(String, String)]) -> Option<Report<'_>> {
    let error = error(params);
    if let Some(sid) = param(params, "MessageSid").or_else(|| param(params, "SmsSid")) {
        let status = param(params, "MessageStatus").or_else(|| param(params, "SmsStatus"))?;
        return Some(Report::Message {
            sid,
            status: message_status(status)?,
            error,
        });
    }
    let sid = param(params, "CallSid")?;
    Some(Report::Call {
        sid,
        status: call_status(param(params, "CallStatus")?)?,
        error,
    })
}

/// Twilio's message statuses ("Message resource": `Status`) that the emulator's picklist
/// has. `accepted` and `scheduled` come before a message is queued; `read` (WhatsApp)
/// after it was delivered.
fn message_status(status: &str) -> Option<SmsStatus> {
    Some(match status {
        "accepted" | "scheduled" | "queued" => SmsStatus::Queued,
        "sending" => SmsStatus::Sending,
        "sent" => SmsStatus::Sent,
        "delivered" | "read" => SmsStatus::Delivered,
        "undelivered" => SmsStatus::Undelivered,
        "failed" => SmsStatus::Failed,
        _ => return None,
    })
}

/// Twilio's call statuses ("Call resource": `Status`). `initiated` is Twilio dialling,
/// which the picklist counts as still Queued.
fn call_status(status: &str) -> Option<CallStatus> {
    Some(match status {
        "queued" | "initiated" => CallStatus::Queued,
        "ringing" => CallStatus::Ringing,
        "in-progress" => CallStatus::InProgress,
        "completed" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "no-answer" => CallStatus::NoAnswer,
        "failed" => CallStatus::Failed,
        "canceled" => CallStatus::Canceled,
        _ => return None,
    })
}

/// The callback's `ErrorCode`, explained by its `ErrorMessage` when it has one (message
/// callbacks often carry only the code).
fn error(params: &[(String, String)]) -> Option<ProviderError> {
    let code = param(params, "ErrorCode")?.parse().ok()?;
    let message =
        param(params, "ErrorMessage").map_or_else(|| format!("Twilio error {code}"), str::to_owned);
    Some(ProviderError { code, message })
}

#[cfg(test)]
mod tests {
    use super::super::form;
    use super::*;

    #[test]
    fn message_callbacks_report_the_message_and_its_status() {
        let params = form(&[
            ("MessageSid", "SM0123"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30005"),
            ("AccountSid", "AC1"),
        ]);
        assert_eq!(
            report(&params),
            Some(Report::Message {
                sid: "SM0123",
                status: SmsStatus::Undelivered,
                error: Some(ProviderError {
                    code: 30005,
                    message: "Twilio error 30005".into()
                }),
            })
        );
        let sent = form(&[("SmsSid", "SM1"), ("SmsStatus", "sent")]);
        assert!(matches!(
            report(&sent),
            Some(Report::Message {
                status: SmsStatus::Sent,
                error: None,
                ..
            })
        ));
    }

    #[test]
    fn call_callbacks_report_the_call_and_its_status() {
        for (twilio, status) in [
            ("initiated", CallStatus::Queued),
            ("ringing", CallStatus::Ringing),
            ("in-progress", CallStatus::InProgress),
            ("completed", CallStatus::Completed),
            ("busy", CallStatus::Busy),
            ("no-answer", CallStatus::NoAnswer),
            ("canceled", CallStatus::Canceled),
        ] {
            let params = form(&[("CallSid", "CA9"), ("CallStatus", twilio)]);
            assert_eq!(
                report(&params),
                Some(Report::Call {
                    sid: "CA9",
                    status,
                    error: None
                }),
                "{twilio}"
            );
        }
    }

    #[test]
    fn callbacks_about_nothing_kept_report_nothing() {
        for params in [
            form(&[]),
            form(&[("MessageSid", "SM1"), ("MessageStatus", "canceled")]),
            form(&[("MessageSid", "SM1")]),
            form(&[("CallSid", ""), ("CallStatus", "ringing")]),
            form(&[("CallSid", "CA1"), ("CallStatus", "dancing")]),
        ] {
            assert_eq!(report(&params), None, "{params:?}");
        }
    }
}
