//! The Twilio provider (SPEC 9): messages and calls go to Twilio's REST API (2010-04-01),
//! form-encoded with HTTP Basic auth, and their fate comes back through Twilio's signed
//! status callbacks, which `http` verifies here ([`Twilio::is_signed`]) and reads with
//! [`report`].
//!
//! Twilio moves a record along its path itself, so the paths are empty: nothing is
//! scheduled, and a callback moves the record as a simulated step would.

mod callback;
mod signature;

use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

pub use callback::{Report, report};
pub use signature::{sign, verify};

use super::{Accepted, CallRequest, SmsRequest, VoipError, VoipProvider};
use crate::domain::{CallStatus, DialledNumber, OrgName, Secret, SmsStatus, Step};

/// The most bytes of Twilio's answer that are read: a resource or an error is a few KiB.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// How long a hand-off's record waits, past the request timeout, before it counts as
/// never finished.
const DEADLINE_MARGIN: Duration = Duration::from_secs(5);
/// The longest wait for a connection to Twilio, within the request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to reach Twilio, and where Twilio reaches the emulator.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub auth_token: Secret,
    /// Twilio's REST API: `https://api.twilio.com`, or a stand-in's.
    pub api_url: url::Url,
    /// Where Twilio reaches the emulator (a tunnel's address, say): callback and TwiML URLs
    /// are built on it.
    pub public_url: url::Url,
    /// How long one request to Twilio may take, all told.
    pub timeout: Duration,
}

/// The Twilio provider, with the one HTTP client every hand-off shares.
pub struct Twilio {
    client: reqwest::Client,
    account_sid: String,
    auth_token: Secret,
    /// `.../Accounts/{AccountSid}/Messages.json` and `.../Calls.json`.
    messages_url: String,
    calls_url: String,
    api_origin: String,
    /// The public URL, without a trailing slash.
    public_url: String,
    timeout: Duration,
}

/// Why the provider cannot be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the HTTP client for Twilio: {0}")]
pub struct SetupError(String);

impl Twilio {
    pub fn new(settings: TwilioSettings) -> Result<Self, SetupError> {
        install_tls();
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout))
            .timeout(settings.timeout)
            // Basic auth must not follow a redirect elsewhere; Twilio's API does not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("fastcall-emulator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SetupError(e.to_string()))?;
        let api = settings.api_url.as_str().trim_end_matches('/');
        let account = format!("{api}/2010-04-01/Accounts/{}", settings.account_sid);
        Ok(Self {
            client,
            messages_url: format!("{account}/Messages.json"),
            calls_url: format!("{account}/Calls.json"),
            api_origin: settings.api_url.origin().ascii_serialization(),
            account_sid: settings.account_sid,
            auth_token: settings.auth_token,
            public_url: settings
                .public_url
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            timeout: settings.timeout,
        })
    }

    /// The URL Twilio requests for the emulator's `path` (`/_provider/twilio/...`) of `org`.
    pub fn public_url(&self, org: &OrgName, path: &str) -> String {
        let mut url = self.public_url.clone();
        if !org.is_default() {
            let _ = write!(url, "/orgs/{org}");
        }
        url.push_str(path);
        url
    }

    /// Whether a request Twilio made carries a valid `X-Twilio-Signature`: `path_and_query`
    /// is the request's as the emulator received it (with its `/orgs/{name}` prefix), and
    /// Twilio requested it at the public URL.
    pub fn is_signed(
        &self,
        path_and_query: &str,
        params: &[(String, String)],
        signature: Option<&str>,
    ) -> bool {
        let Some(signature) = signature else {
            return false;
        };
        let url = format!("{}{path_and_query}", self.public_url);
        verify(&self.auth_token, &url, params, signature)
    }

    /// Creates a resource (a message or a call) with the form `fields`; Twilio's answer.
    async fn create(&self, url: &str, fields: &[(&str, &str)]) -> Result<String, VoipError> {
        let response = self
            .client
            .post(url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .form(fields)
            .send()
            .await
            .map_err(|e| self.unanswered(&e))?;
        let status = response.status();
        let body = read_answer(response)
            .await
            .map_err(|e| self.unanswered(&e))?;
        if status.is_success() {
            return match serde_json::from_slice::<Created>(&body) {
                Ok(created) if !created.sid.is_empty() => Ok(created.sid),
                _ => Err(VoipError::Unanswered(format!(
                    "Twilio answered {status} with a body that is not the resource it created; \
                     it may have been sent, and is not retried."
                ))),
            };
        }
        match serde_json::from_slice::<TwilioError>(&body) {
            Ok(error) => Err(VoipError::Refused {
                code: error.code,
                message: error.message,
            }),
            Err(_) => Err(VoipError::Unanswered(format!(
                "Twilio answered {status} without an error code."
            ))),
        }
    }

    /// What a request that got no answer reports.
    fn unanswered(&self, error: &reqwest::Error) -> VoipError {
        let message = if error.is_timeout() {
            format!(
                "Twilio did not answer within {} ms; the request may have reached it, and is \
                 not retried.",
                self.timeout.as_millis()
            )
        } else if error.is_connect() {
            format!("Cannot connect to Twilio at {}.", self.api_origin)
        } else {
            format!("The request to Twilio at {} failed.", self.api_origin)
        };
        VoipError::Unanswered(message)
    }
}

/// Makes rustls on ring the process's TLS: the only one built in (no OpenSSL, and no C
/// build of aws-lc). HTTP clients need it before they are built; installing it again
/// changes nothing.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads at most [`MAX_ANSWER_BYTES`] of the answer.
async fn read_answer(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Ok(body)
}

/// The part of a created Message or Call resource the emulator keeps.
#[derive(Deserialize)]
struct Created {
    sid: String,
}

/// Twilio's error answer: `{"code": 21211, "message": "...", "more_info": "...", "status": 400}`.
#[derive(Deserialize)]
struct TwilioError {
    code: i32,
    message: String,
}

/// The call events Twilio reports to the status callback.
const CALL_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

#[async_trait]
impl VoipProvider for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    async fn send_sms(&self, request: &SmsRequest<'_>) -> Result<Accepted<SmsStatus>, VoipError> {
        let callback = self.public_url(request.org, "/_provider/twilio/status");
        let mut fields = vec![
            ("To", request.to.as_str()),
            ("From", request.from.as_str()),
            ("Body", request.body),
            ("StatusCallback", callback.as_str()),
        ];
        fields.extend(request.media_url.map(|url| ("MediaUrl", url)));
        let sid = self.create(&self.messages_url, &fields).await?;
        Ok(Accepted {
            provider_id: sid,
            status: SmsStatus::Queued,
        })
    }

    async fn place_call(
        &self,
        request: &CallRequest<'_>,
    ) -> Result<Accepted<CallStatus>, VoipError> {
        let twiml = self.public_url(
            request.org,
            &format!("/_provider/twilio/ivr/{}", request.ivr_id),
        );
        let callback = self.public_url(request.org, "/_provider/twilio/status");
        let mut fields = vec![
            ("To", request.to.as_str()),
            ("From", request.from.as_str()),
            ("Url", twiml.as_str()),
            ("StatusCallback", callback.as_str()),
        ];
        fields.extend(CALL_EVENTS.map(|event| ("StatusCallbackEvent", event)));
        let sid = self.create(&self.calls_url, &fields).await?;
        Ok(Accepted {
            provider_id: sid,
            status: CallStatus::Queued,
        })
    }

    fn sms_path(&self, _: DialledNumber, _: SmsStatus) -> &'static [Step<SmsStatus>] {
        &[]
    }

    fn call_path(&self, _: DialledNumber, _: CallStatus) -> &'static [Step<CallStatus>] {
        &[]
    }

    fn hand_off_deadline(&self) -> Option<Duration> {
        Some(self.timeout + DEADLINE_MARGIN)
    }

    /// Twilio answers opt-out keywords itself (Advanced Opt-Out) and reports nothing about
    /// its reply: it is recorded as sent.
    fn keyword_reply_status(&self) -> SmsStatus {
        SmsStatus::Sent
    }
}

/// The TwiML a call connected to `ivr_name` is given: the emulator has no IVR to run, so it
/// says which one the call reached, then hangs up.
pub fn ivr_twiml(ivr_name: &str) -> String {
    let mut name = String::with_capacity(ivr_name.len());
    for c in ivr_name.chars() {
        match c {
            '&' => name.push_str("&amp;"),
            '<' => name.push_str("&lt;"),
            '>' => name.push_str("&gt;"),
            '"' => name.push_str("&quot;"),
            '\'' => name.push_str("&apos;"),
            c => name.push(c),
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Say>You are connected to the \
         {name} IVR of the Fastcall emulator.</Say><Hangup/></Response>"
    )
}

/// TwiML that does nothing: the answer to an inbound message (Twilio sends the keyword
/// replies itself).
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response/>";

/// Form fields as a request carries them, for the tests.
#[cfg(test)]
fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
