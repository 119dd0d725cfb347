//! The default provider: never leaves the machine, and behaves as Twilio does with its
//! test numbers, so failure paths can be tested on purpose.

use async_trait::async_trait;

use super::{SmsAccepted, SmsRequest, VoipError, VoipProvider};
use crate::domain::SmsStatus;

#[derive(Debug, Default, Clone)]
pub struct Simulated;

/// Destinations that Twilio refuses at once, with Twilio's error code and message.
const SMS_REFUSALS: [(&str, i32, &str); 5] = [
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

/// A Twilio-like resource id: a two-letter prefix and 32 hex digits.
fn provider_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

#[async_trait]
impl VoipProvider for Simulated {
    fn name(&self) -> &'static str {
        "simulated"
    }

    async fn send_sms(&self, request: &SmsRequest<'_>) -> Result<SmsAccepted, VoipError> {
        if let Some((_, code, message)) = SMS_REFUSALS
            .iter()
            .find(|(n, _, _)| *n == request.to.as_str())
        {
            return Err(VoipError::Refused {
                code: *code,
                message: (*message).to_owned(),
            });
        }
        Ok(SmsAccepted {
            provider_id: provider_id("SM"),
            status: SmsStatus::Queued,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Country, E164};

    fn request(to: &str) -> SmsRequest<'static> {
        SmsRequest {
            from: E164::parse("+14155550100", Country::US).unwrap(),
            to: E164::parse(to, Country::US).unwrap(),
            body: "hi",
            media_url: None,
        }
    }

    #[tokio::test]
    async fn accepted_messages_get_twilio_like_ids_and_start_queued() {
        let accepted = Simulated.send_sms(&request("+14155550123")).await.unwrap();
        assert_eq!(accepted.status, SmsStatus::Queued);
        assert_eq!(accepted.provider_id.len(), 34);
        assert!(accepted.provider_id.starts_with("SM"));
        assert!(
            accepted.provider_id[2..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        );
    }

    #[tokio::test]
    async fn magic_numbers_are_refused_with_twilio_codes() {
        for (number, code, _) in SMS_REFUSALS {
            match Simulated.send_sms(&request(number)).await {
                Err(VoipError::Refused { code: got, .. }) => assert_eq!(got, code, "{number}"),
                other => panic!("{number}: {other:?}"),
            }
        }
    }
}
