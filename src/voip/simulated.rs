//! The default provider: never leaves the machine, and behaves as Twilio does with its
//! test numbers, so failure paths can be tested on purpose.

use std::time::Duration;

use async_trait::async_trait;

use super::{Accepted, CallRequest, SmsRequest, VoipError, VoipProvider, twilio_sid};
use crate::domain::Step;
use crate::domain::status::remaining;
use crate::domain::{CallStatus, DialledNumber, SmsStatus};

#[derive(Debug, Default, Clone)]
pub struct Simulated {
    /// How long the provider takes to answer a request, as a real one does over the network.
    pub latency: Duration,
}

impl Simulated {
    async fn answer(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }
}

/// A destination Twilio refuses at once: the number, Twilio's error code and message.
type Refusal = (&'static str, i32, &'static str);

/// What Twilio refuses at once with test credentials (SPEC 8), for messages and for calls.
const SMS_REFUSALS: [Refusal; 5] = [
    ("+15005550001", 21211, "This phone number is invalid."),
    ("+15005550002", 21612, "Twilio cannot route to this number."),
    (
        "+15005550003",
        21408,
        "Your account doesn't have the international permissions necessary to SMS this number.",
    ),
    (
        "+15005550004",
        21610,
        "This number is blocked for your account.",
    ),
    (
        "+15005550009",
        21614,
        "This number is incapable of receiving SMS messages.",
    ),
];

const CALL_REFUSALS: [Refusal; 4] = [
    (
        "+15005550001",
        21217,
        "Phone number does not appear to be valid.",
    ),
    (
        "+15005550002",
        21214,
        "'To' phone number cannot be reached.",
    ),
    (
        "+15005550003",
        21215,
        "Geo Permission configuration is not permitting call.",
    ),
    ("+15005550004", 21216, "Call blocked by Twilio blocklist."),
];

/// What Twilio answers a destination that is not a valid number (libphonenumber's judgement),
/// for messages and for calls.
const SMS_INVALID: Refusal = ("", 21211, "The 'To' number is not a valid phone number.");
const CALL_INVALID: Refusal = ("", 21217, "Phone number does not appear to be valid.");

/// Twilio's refusal of `to`, if it refuses it: a test number's own, else `invalid` for a
/// number that is not valid.
fn refusal(table: &[Refusal], invalid: Refusal, to: DialledNumber) -> Result<(), VoipError> {
    let refused = table
        .iter()
        .find(|(number, _, _)| *number == to.as_str())
        .or_else(|| (!to.is_valid()).then_some(&invalid));
    match refused {
        Some((_, code, message)) => Err(VoipError::Refused {
            code: *code,
            message: (*message).to_owned(),
        }),
        None => Ok(()),
    }
}

// Twilio's message path: Queued, Sending, Sent, then Delivered or Undelivered.
const DELIVERED: &[Step<SmsStatus>] = &[
    Step::to(SmsStatus::Sending),
    Step::to(SmsStatus::Sent),
    Step::to(SmsStatus::Delivered),
];
const UNDELIVERED: &[Step<SmsStatus>] = &[
    Step::to(SmsStatus::Sending),
    Step::to(SmsStatus::Sent),
    Step::failing(
        SmsStatus::Undelivered,
        30003,
        "Unreachable destination handset",
    ),
];
const COMPLETED: &[Step<CallStatus>] = &[
    Step::to(CallStatus::Ringing),
    Step::to(CallStatus::InProgress),
    Step::to(CallStatus::Completed),
];
const BUSY: &[Step<CallStatus>] = &[Step::to(CallStatus::Ringing), Step::to(CallStatus::Busy)];
const NO_ANSWER: &[Step<CallStatus>] = &[
    Step::to(CallStatus::Ringing),
    Step::to(CallStatus::NoAnswer),
];
const CALL_FAILED: &[Step<CallStatus>] = &[Step::failing(
    CallStatus::Failed,
    13224,
    "Twilio does not support calling this number or the number is invalid",
)];

#[async_trait]
impl VoipProvider for Simulated {
    fn name(&self) -> &'static str {
        "simulated"
    }

    async fn send_sms(&self, request: &SmsRequest<'_>) -> Result<Accepted<SmsStatus>, VoipError> {
        self.answer().await;
        refusal(&SMS_REFUSALS, SMS_INVALID, request.to)?;
        Ok(Accepted {
            // Twilio gives an MMS an `MM` id.
            provider_id: twilio_sid(if request.media_url.is_some() {
                "MM"
            } else {
                "SM"
            }),
            status: SmsStatus::Queued,
        })
    }

    async fn place_call(
        &self,
        request: &CallRequest<'_>,
    ) -> Result<Accepted<CallStatus>, VoipError> {
        self.answer().await;
        refusal(&CALL_REFUSALS, CALL_INVALID, request.to)?;
        Ok(Accepted {
            provider_id: twilio_sid("CA"),
            status: CallStatus::Queued,
        })
    }

    fn sms_path(&self, to: DialledNumber, current: SmsStatus) -> &'static [Step<SmsStatus>] {
        let path = match to.as_str() {
            "+15005550010" => UNDELIVERED,
            _ => DELIVERED,
        };
        remaining(path, DELIVERED, current, SmsStatus::Queued)
    }

    fn call_path(&self, to: DialledNumber, current: CallStatus) -> &'static [Step<CallStatus>] {
        let path = match to.as_str() {
            "+15005550020" => BUSY,
            "+15005550021" => NO_ANSWER,
            "+15005550022" => CALL_FAILED,
            _ => COMPLETED,
        };
        remaining(path, COMPLETED, current, CallStatus::Queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrgName, SalesforceId};

    fn number(raw: &str) -> DialledNumber {
        DialledNumber::from_canonical(raw).unwrap()
    }

    static ORG: std::sync::LazyLock<OrgName> = std::sync::LazyLock::new(OrgName::default_org);

    fn sms(to: &str) -> SmsRequest<'static> {
        SmsRequest {
            org: &ORG,
            from: number("+14155550100"),
            to: number(to),
            body: "hi",
            media_url: None,
        }
    }

    fn call(to: &str) -> CallRequest<'static> {
        let ivr_id = SalesforceId::parse("a0IDn0000001Mnu").unwrap();
        CallRequest {
            org: &ORG,
            from: number("+14155550100"),
            to: number(to),
            ivr_id,
            ivr_name: "Main menu",
        }
    }

    /// Twilio's form: a two-letter prefix and 32 hex digits.
    fn assert_twilio_id(id: &str, prefix: &str) {
        let hex = id.len() == 34 && id[2..].bytes().all(|b| b.is_ascii_hexdigit());
        assert!(hex && id.starts_with(prefix), "{id}");
    }

    #[tokio::test]
    async fn accepted_requests_get_twilio_like_ids_and_start_queued() {
        let provider = Simulated::default();
        let message = provider.send_sms(&sms("+14155550123")).await.unwrap();
        assert_eq!(message.status, SmsStatus::Queued);
        assert_twilio_id(&message.provider_id, "SM");
        let mms = SmsRequest {
            media_url: Some("https://example.com/a.png"),
            ..sms("+14155550123")
        };
        let mms = provider.send_sms(&mms).await.unwrap();
        assert_twilio_id(&mms.provider_id, "MM");
        let placed = provider.place_call(&call("+14155550123")).await.unwrap();
        assert_eq!(placed.status, CallStatus::Queued);
        assert_twilio_id(&placed.provider_id, "CA");
    }

    #[tokio::test]
    async fn magic_numbers_are_refused_with_twilio_codes() {
        for (to, code, _) in SMS_REFUSALS {
            assert!(
                matches!(Simulated::default().send_sms(&sms(to)).await, Err(VoipError::Refused { code: c, .. }) if c == code)
            );
        }
        for (to, code, _) in CALL_REFUSALS {
            assert!(
                matches!(Simulated::default().place_call(&call(to)).await, Err(VoipError::Refused { code: c, .. }) if c == code)
            );
        }
    }

    #[tokio::test]
    async fn numbers_that_are_not_valid_are_refused_as_twilio_refuses_them() {
        let provider = Simulated::default();
        let code = |error: VoipError| error.provider_error().code;
        for to in ["+15551234567", "+1123", "+114155550123", "+4420"] {
            let sms = provider.send_sms(&sms(to)).await.map(|_| ()).map_err(code);
            assert_eq!(sms, Err(21211), "{to}");
            let call = provider
                .place_call(&call(to))
                .await
                .map(|_| ())
                .map_err(code);
            assert_eq!(call, Err(21217), "{to}");
        }
        // Twilio's test numbers that it accepts are valid numbers.
        for to in [
            "+15005550006",
            "+15005550010",
            "+15005550020",
            "+15005550022",
        ] {
            assert!(provider.place_call(&call(to)).await.is_ok(), "{to}");
        }
    }

    #[test]
    fn paths_follow_twilio_statuses_and_end_in_a_final_one() {
        let delivered = Simulated::default().sms_path(number("+14155550123"), SmsStatus::Queued);
        assert_eq!(delivered.last().unwrap().status, SmsStatus::Delivered);
        let undelivered = Simulated::default().sms_path(number("+15005550010"), SmsStatus::Queued);
        assert_eq!(undelivered.last().unwrap().error.unwrap().0, 30003);
        for (to, last) in [
            ("+14155550123", CallStatus::Completed),
            ("+15005550020", CallStatus::Busy),
            ("+15005550021", CallStatus::NoAnswer),
            ("+15005550022", CallStatus::Failed),
        ] {
            let path = Simulated::default().call_path(number(to), CallStatus::Queued);
            assert_eq!(path.last().unwrap().status, last, "{to}");
            let mut status = CallStatus::Queued;
            for step in path {
                assert!(
                    status.can_become(step.status),
                    "{to}: {status} -> {}",
                    step.status
                );
                status = step.status;
            }
        }
    }

    #[test]
    fn records_moved_by_hand_go_on_from_where_they_were_put() {
        let statuses =
            |path: &[Step<CallStatus>]| path.iter().map(|s| s.status).collect::<Vec<_>>();
        let simulated = Simulated::default();
        let busy = number("+15005550020");
        // Along its own path.
        assert_eq!(
            statuses(simulated.call_path(busy, CallStatus::Ringing)),
            [CallStatus::Busy]
        );
        // Answered by hand: a busy number's call then completes, as any answered call does.
        assert_eq!(
            statuses(simulated.call_path(busy, CallStatus::InProgress)),
            [CallStatus::Completed]
        );
        // Past the end, or off every path: nothing more.
        assert!(simulated.call_path(busy, CallStatus::Busy).is_empty());
        assert!(simulated.call_path(busy, CallStatus::Canceled).is_empty());
        let undelivered = number("+15005550010");
        assert!(
            simulated
                .sms_path(undelivered, SmsStatus::Delivered)
                .is_empty()
        );
        assert_eq!(
            simulated.sms_path(undelivered, SmsStatus::Sent)[0].status,
            SmsStatus::Undelivered
        );
    }

    #[tokio::test]
    async fn a_number_that_cannot_take_sms_can_still_be_called() {
        assert!(
            Simulated::default()
                .send_sms(&sms("+15005550009"))
                .await
                .is_err()
        );
        assert!(
            Simulated::default()
                .place_call(&call("+15005550009"))
                .await
                .is_ok()
        );
    }
}
