//! `SubscriberSMSInvocable`: send an SMS or MMS from a resolved caller ID.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::caller_id::{self, Use};
use super::resolve::{acting_user, destination, given, parse_id, related_record};
use super::{ActionContext, ActionError, ApiException, ErrorCode};
use crate::domain::objects::{self, SMS_MESSAGE, TASK, VOIP_ERROR_LOG};
use crate::domain::{E164, MediaUrl, SalesforceId, SmsStatus, Timestamp, template};
use crate::org::{Org, RecordRef, User};
use crate::storage::{SmsMessage, SmsRecord, Task, VoipErrorLog};
use crate::voip::{SmsRequest, VoipError, VoipProvider};

/// The providers' limit on one message's length, in characters.
pub const MAX_BODY_CHARS: usize = 1600;

/// The action's inputs, as the caller sent them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsInput {
    pub body_text: Option<String>,
    pub from_phone: Option<String>,
    #[serde(rename = "mediaURL")]
    pub media_url: Option<String>,
    pub phone_number_field_name: Option<String>,
    pub record_id: Option<String>,
    pub template_id: Option<String>,
    pub to_phone: Option<String>,
    pub user_id: Option<String>,
}

/// The action's output map.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsOutput {
    pub created_date: Timestamp,
    pub direction: &'static str,
    pub id: SalesforceId,
    pub owner: SalesforceId,
    pub phone_number_id: SalesforceId,
    pub related_record_id: Option<SalesforceId>,
    pub sms_id: Option<String>,
    pub status: SmsStatus,
    pub task_id: Option<SalesforceId>,
}

pub const DIRECTION: &str = "Outbound";

impl From<&SmsMessage> for SmsOutput {
    fn from(m: &SmsMessage) -> Self {
        Self {
            created_date: m.created_at,
            direction: DIRECTION,
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

/// A message that passed every check, ready for the provider.
#[derive(Debug)]
struct Plan<'o> {
    user: &'o User,
    owner: SalesforceId,
    phone_number_id: SalesforceId,
    from: E164,
    to: E164,
    body: String,
    media_url: Option<MediaUrl>,
    related: Option<SalesforceId>,
}

/// A message handed to the provider, accepted or refused, and what to store for it.
#[derive(Debug)]
pub struct Dispatched {
    pub record: SmsRecord,
    refusal: Option<VoipError>,
}

impl Dispatched {
    /// What the caller is told once the record is stored: the output map, or error 100 when
    /// the provider refused (the record is kept as Failed, with a VoIP error log entry).
    pub fn outcome(&self) -> Result<SmsOutput, ApiException> {
        match &self.refusal {
            None => Ok(SmsOutput::from(&self.record.message)),
            Some(VoipError::Refused { code, message }) => Err(ApiException::new(
                ErrorCode::Provider,
                format!(
                    "The VoIP provider refused the message with error {code}: {message} \
                     Check the VoIP error logs ({} {}).",
                    SMS_MESSAGE.api_name, self.record.message.id
                ),
            )),
        }
    }
}

/// Checks the inputs and hands the message to the provider; storing it is the caller's
/// next step (one at a time in `send`, together for a bulk call).
pub async fn dispatch(
    ctx: &ActionContext<'_>,
    input: &SmsInput,
) -> Result<Dispatched, ApiException> {
    let plan = plan(ctx.org, ctx.invoker, input)?;
    Ok(hand_off(plan, ctx.voip).await)
}

/// Sends one message and stores it.
pub async fn send(ctx: &ActionContext<'_>, input: &SmsInput) -> Result<SmsOutput, ActionError> {
    let dispatched = dispatch(ctx, input).await?;
    ctx.storage
        .record_sms(std::slice::from_ref(&dispatched.record))
        .await?;
    Ok(dispatched.outcome()?)
}

/// Every check, in the order the errors are reported: the org's capability (105), the Ids
/// and values the caller passed (104), the body (101), the destination (102), the caller
/// ID (103).
fn plan<'o>(
    org: &'o Org,
    invoker: Option<SalesforceId>,
    input: &SmsInput,
) -> Result<Plan<'o>, ApiException> {
    if !org.settings().sms_enabled {
        return Err(ApiException::new(
            ErrorCode::Capability,
            "SMS is not enabled for this org (settings.smsEnabled).",
        ));
    }
    let user = acting_user(org, invoker, given(&input.user_id))?;
    let record = related_record(org, given(&input.record_id))?;
    let template = given(&input.template_id)
        .map(|raw| {
            let id = parse_id("templateId", raw)?;
            org.template(id).ok_or_else(|| {
                ApiException::invalid(format!(
                    "templateId {id} is not an SMS template of the org."
                ))
            })
        })
        .transpose()?;
    let media_url = given(&input.media_url)
        .map(|raw| {
            MediaUrl::parse(raw)
                .map_err(|e| ApiException::invalid(format!("mediaURL `{raw}` {e}.")))
        })
        .transpose()?;

    let body = match template {
        Some(template) => render(&template.body, user, record.as_ref()),
        None => input.body_text.clone().unwrap_or_default(),
    };
    if body.trim().is_empty() {
        let detail = if template.is_some() {
            "The template rendered an empty body."
        } else {
            "Pass bodyText or templateId."
        };
        return Err(ApiException::new(
            ErrorCode::BodyMissing,
            format!("Body text not provided. {detail}"),
        ));
    }
    let length = body.chars().count();
    if length > MAX_BODY_CHARS {
        return Err(ApiException::invalid(format!(
            "The body is {length} characters long; the providers accept at most {MAX_BODY_CHARS}."
        )));
    }

    let to = destination(
        org,
        given(&input.to_phone),
        record.as_ref(),
        given(&input.phone_number_field_name),
    )?;
    let caller = caller_id::resolve(
        org,
        user,
        given(&input.from_phone),
        Use::Sms {
            mms: media_url.is_some(),
        },
    )?;
    Ok(Plan {
        user,
        owner: caller.owner,
        phone_number_id: caller.phone.id,
        from: caller.number,
        to,
        body,
        media_url,
        related: record.map(|r| r.id),
    })
}

/// Fills `{!User.Field}` from the acting user and `{!Object.Field}` from the related record.
fn render(body: &str, user: &User, record: Option<&RecordRef<'_>>) -> String {
    template::render(body, |object, field| {
        if object.eq_ignore_ascii_case("User") {
            user.field(field).map(Cow::Borrowed)
        } else {
            record
                .filter(|r| r.object_type.eq_ignore_ascii_case(object))
                .and_then(|r| r.field(field))
        }
    })
}

/// Hands the message to the provider and builds what is to be stored either way.
async fn hand_off(plan: Plan<'_>, voip: &dyn VoipProvider) -> Dispatched {
    let request = SmsRequest {
        from: plan.from,
        to: plan.to,
        body: &plan.body,
        media_url: plan.media_url.as_ref().map(MediaUrl::as_str),
    };
    let outcome = voip.send_sms(&request).await;
    let now = Timestamp::now();
    let id = SalesforceId::generate(SMS_MESSAGE.key_prefix);
    let mut message = SmsMessage {
        id,
        provider_id: None,
        created_at: now,
        updated_at: now,
        owner_id: plan.owner,
        user_id: plan.user.id,
        phone_number_id: plan.phone_number_id,
        from_phone: plan.from,
        to_phone: plan.to,
        body: plan.body,
        media_url: plan.media_url.map(|u| u.as_str().to_owned()),
        related_record_id: plan.related,
        task_id: None,
        status: SmsStatus::Failed,
        error_code: None,
        error_message: None,
    };
    match outcome {
        Ok(accepted) => {
            message.provider_id = Some(accepted.provider_id);
            message.status = accepted.status;
            let task = plan.related.map(|related| task_for(&message, related));
            message.task_id = task.as_ref().map(|t| t.id);
            Dispatched {
                record: SmsRecord {
                    message,
                    task,
                    voip_error: None,
                },
                refusal: None,
            }
        }
        Err(refusal) => {
            let VoipError::Refused {
                code,
                message: reason,
            } = &refusal;
            message.error_code = Some(*code);
            message.error_message = Some(reason.clone());
            let voip_error = VoipErrorLog {
                id: SalesforceId::generate(VOIP_ERROR_LOG.key_prefix),
                created_at: now,
                record_type: SMS_MESSAGE.api_name.to_owned(),
                record_id: id,
                provider: voip.name().to_owned(),
                provider_id: None,
                error_code: *code,
                error_message: reason.clone(),
                from_phone: message.from_phone,
                to_phone: message.to_phone,
                user_id: message.user_id,
            };
            let record = SmsRecord {
                message,
                task: None,
                voip_error: Some(voip_error),
            };
            Dispatched {
                record,
                refusal: Some(refusal),
            }
        }
    }
}

/// The activity logged on the related record, owned by the acting user.
fn task_for(message: &SmsMessage, related: SalesforceId) -> Task {
    let (who_id, what_id) = if objects::is_who(related.key_prefix()) {
        (Some(related), None)
    } else {
        (None, Some(related))
    };
    Task {
        id: SalesforceId::generate(TASK.key_prefix),
        created_at: message.created_at,
        owner_id: message.user_id,
        subject: format!("SMS to {}", message.to_phone),
        description: Some(message.body.clone()),
        status: "Completed".into(),
        priority: "Normal".into(),
        task_subtype: "Task".into(),
        who_id,
        what_id,
        sms_message_id: Some(message.id),
    }
}
