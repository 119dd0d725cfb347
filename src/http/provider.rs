//! Twilio's requests to the emulator (SPEC 9), under `/_provider/twilio` (and
//! `/orgs/{name}/...`): status callbacks, customers' messages, and the TwiML of a call's
//! IVR. Each is taken only with a valid `X-Twilio-Signature`, which stands in for the admin
//! token Twilio cannot send: anything else is 403 and changes nothing.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::emulator::PathId;
use super::emulator::kinds::Provided;
use super::error::{PlatformCode, PlatformError};
use super::extract::{Body, BodyError, Scoped};
use crate::actions::inbound::{self, InboundError, InboundInput};
use crate::domain::{OrgName, ProviderError};
use crate::records::{Call, SmsMessage};
use crate::state::AppState;
use crate::storage::Moved;
use crate::voip::twilio::{self, EMPTY_TWIML, Report};

const SIGNATURE: &str = "x-twilio-signature";

/// The form parameters of a request whose `X-Twilio-Signature` holds; 403 otherwise, and
/// 404 when the provider is not Twilio.
fn signed(
    state: &AppState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: Result<Body, BodyError>,
) -> Result<Vec<(String, String)>, PlatformError> {
    let twilio = state.twilio().ok_or_else(|| {
        PlatformError::new(
            PlatformCode::NotFound,
            "These routes take Twilio's requests, and this emulator runs the simulated \
             provider (--provider twilio serves them).",
        )
    })?;
    let Body(bytes) = body?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let path = uri.0.path_and_query().map_or("/", |p| p.as_str());
    let signature = headers.get(SIGNATURE).and_then(|v| v.to_str().ok());
    if !twilio.is_signed(path, &params, signature) {
        return Err(PlatformError::new(
            PlatformCode::InvalidSignature,
            "X-Twilio-Signature is missing, or is not Twilio's signature of this request with \
             the account's auth token at --public-url.",
        ));
    }
    Ok(params)
}

/// `POST /_provider/twilio/status`: a message or call moved on. The record moves as a
/// simulated step would move it; a callback for a SID the org does not have, or a status
/// the record is past (a late or repeated callback), is acknowledged and changes nothing.
/// Answered with empty TwiML, as the messaging webhook is.
pub async fn status(
    State(state): State<AppState>,
    Scoped { name, .. }: Scoped,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Result<Body, BodyError>,
) -> Result<Response, PlatformError> {
    let params = signed(&state, &uri, &headers, body)?;
    let moved = match twilio::report(&params) {
        Some(Report::Message { sid, status, error }) => {
            follow::<SmsMessage>(&state, &name, sid, status, error).await?
        }
        Some(Report::Call { sid, status, error }) => {
            follow::<Call>(&state, &name, sid, status, error).await?
        }
        None => false,
    };
    if moved {
        state.lifecycle().steps_scheduled();
    }
    Ok(twiml(EMPTY_TWIML.to_owned()))
}

/// Moves the record Twilio calls `sid` to `to`; whether it moved.
async fn follow<R: Provided>(
    state: &AppState,
    org: &OrgName,
    sid: &str,
    to: R::Status,
    error: Option<ProviderError>,
) -> Result<bool, PlatformError> {
    let Some(record) = R::find_by_sid(state.storage(), org, sid).await? else {
        return Ok(false);
    };
    let moved = R::move_to(state.storage(), org, record.id(), to, error).await?;
    Ok(matches!(moved, Moved::Done(_)))
}

/// `POST /_provider/twilio/sms`: a customer texted one of the org's numbers (the number's
/// messaging webhook). The message takes the inbound path of `POST /_emulator/inbound`,
/// keywords included, with Twilio's SID; the answer is empty TwiML, as Twilio sends its
/// keyword replies itself.
pub async fn sms(
    State(state): State<AppState>,
    Scoped { name, org }: Scoped,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Result<Body, BodyError>,
) -> Result<Response, PlatformError> {
    let params = signed(&state, &uri, &headers, body)?;
    let param = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let input = InboundInput {
        from: param("From"),
        to: param("To"),
        body: param("Body"),
        // The first attachment: a message record keeps one media URL.
        media_url: param("MediaUrl0"),
    };
    let ctx = state.action_context(&name, &org, None);
    inbound::receive(
        &ctx,
        &input,
        param("MessageSid").or_else(|| param("SmsSid")),
    )
    .await
    .map_err(|error| match error {
        InboundError::Invalid(message) => PlatformError::new(PlatformCode::InvalidField, message),
        InboundError::Storage(error) => PlatformError::from(error),
    })?;
    Ok(twiml(EMPTY_TWIML.to_owned()))
}

/// `GET` or `POST /_provider/twilio/ivr/{ivrId}`: the TwiML of a call Twilio connected,
/// for the IVR the call was placed for.
pub async fn ivr(
    State(state): State<AppState>,
    Scoped { org, .. }: Scoped,
    id: PathId,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Result<Body, BodyError>,
) -> Result<Response, PlatformError> {
    signed(&state, &uri, &headers, body)?;
    let ivr = org
        .ivr(id.salesforce()?)
        .ok_or_else(PlatformError::not_found)?;
    Ok(twiml(twilio::ivr_twiml(&ivr.name)))
}

/// TwiML, as Twilio reads its webhooks' answers.
fn twiml(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}
