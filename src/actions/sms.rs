//! `SubscriberSMSInvocable`: send an SMS or MMS from a resolved caller ID.

use std::borrow::Cow;

use serde::Deserialize;

use super::caller_id::{self, Use};
use super::hand_off;
use super::logged;
use super::resolve::{Route, acting_user, destination, given, parse_id, related_record};
use super::{ActionContext, ApiException, Dispatch, Dispatched, ErrorCode};
use crate::domain::objects::{Direction, SMS_MESSAGE};
use crate::domain::{MediaUrl, SalesforceId, SmsStatus, Timestamp, template};
use crate::org::{Org, RecordRef, User};
use crate::records::{SmsMessage, StatusHistory};
use crate::storage::StorageError;
use crate::views::SmsOutput;
use crate::voip::{SmsRequest, VoipError};

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

impl Dispatch for SmsInput {
    type Output = SmsOutput;
    type Plan<'o> = Plan<'o>;
    type Record = SmsMessage;

    fn check<'o>(
        &self,
        org: &'o Org,
        invoker: Option<SalesforceId>,
    ) -> Result<Plan<'o>, ApiException> {
        plan(org, invoker, self)
    }

    fn screen<'a, 'o>(
        plans: &'a mut [Plan<'o>],
        ctx: &'a ActionContext<'o>,
    ) -> impl Future<Output = Result<(), StorageError>> + Send + 'a {
        screen(plans, ctx)
    }

    fn record(plan: &Plan<'_>, now: Timestamp) -> SmsMessage {
        record(plan, now)
    }

    fn hand_off<'a, 'o>(
        plan: Plan<'o>,
        message: SmsMessage,
        ctx: &'a ActionContext<'o>,
    ) -> impl Future<Output = Dispatched<SmsOutput>> + Send + 'a {
        hand_off(plan, message, ctx)
    }
}

/// A message that passed every check, ready for the provider.
#[derive(Debug)]
pub struct Plan<'o> {
    route: Route<'o>,
    body: String,
    media_url: Option<MediaUrl>,
    /// The recipient opted out of the sending number: the provider refuses it (21610).
    opted_out: bool,
}

/// Every check, in the order the errors are reported: the org's capability (105), the Ids
/// and values the caller passed (104), the body (101), the destination (104), the caller
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
        route: Route {
            user,
            caller,
            to,
            related: record.map(|r| r.id),
        },
        body,
        media_url,
        opted_out: false,
    })
}

/// Marks the messages whose recipient opted out of the sending number (SPEC 10), in one
/// read for the whole invocation.
async fn screen(plans: &mut [Plan<'_>], ctx: &ActionContext<'_>) -> Result<(), StorageError> {
    let routes: Vec<_> = plans
        .iter()
        .map(|plan| (plan.route.caller.number, plan.route.to))
        .collect();
    let opted_out = ctx.storage.opted_out(ctx.org_name, &routes).await?;
    if !opted_out.is_empty() {
        for (plan, route) in plans.iter_mut().zip(&routes) {
            plan.opted_out = opted_out.contains(route);
        }
    }
    Ok(())
}

/// Twilio's refusal of a message to a recipient who opted out of the sending number.
fn unsubscribed() -> VoipError {
    VoipError::Refused {
        code: 21610,
        message: "Attempt to send to unsubscribed recipient.".into(),
    }
}

/// Whether `user_id` could send a plain SMS with no `fromPhone`: SMS is enabled, the user
/// is a Fastcall user of the org, and a caller ID resolves for them.
pub fn can_send(org: &Org, user_id: SalesforceId) -> bool {
    org.settings().sms_enabled
        && acting_user(org, Some(user_id), None)
            .is_ok_and(|user| caller_id::resolve(org, user, None, Use::Sms { mms: false }).is_ok())
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

/// The message a plan becomes, Queued.
fn record(plan: &Plan<'_>, now: Timestamp) -> SmsMessage {
    SmsMessage {
        id: SalesforceId::generate(SMS_MESSAGE.key_prefix),
        provider_id: None,
        created_at: now,
        updated_at: now,
        direction: Direction::Outbound,
        owner_id: plan.route.caller.owner,
        user_id: Some(plan.route.user.id),
        phone_number_id: plan.route.caller.phone.id,
        from_phone: plan.route.caller.number,
        to_phone: plan.route.to,
        body: plan.body.clone(),
        media_url: plan.media_url.as_ref().map(|u| u.as_str().to_owned()),
        related_record_id: plan.route.related,
        task_id: None,
        status: SmsStatus::Queued,
        status_history: StatusHistory::starting(SmsStatus::Queued, now, None),
        error: None,
    }
}

/// Hands the message to the provider and builds what is to be stored either way: a
/// message sent about a record gets a Task on it; a refused message is kept as Failed,
/// with a VoIP error log entry and no Task.
async fn hand_off(
    plan: Plan<'_>,
    message: SmsMessage,
    ctx: &ActionContext<'_>,
) -> Dispatched<SmsOutput> {
    let answer = if plan.opted_out {
        Err(unsubscribed())
    } else {
        let request = SmsRequest {
            org: ctx.org_name,
            from: message.from_phone,
            to: message.to_phone,
            body: &message.body,
            media_url: message.media_url.as_deref(),
        };
        ctx.voip.send_sms(&request).await
    };
    let task = |message: &SmsMessage| {
        let related = plan.route.related?;
        let mut task = logged::task(
            message.created_at,
            plan.route.user.id,
            format!("SMS to {}", message.to_phone),
            Some(related),
        );
        task.description = Some(message.body.clone());
        task.sms_message_id = Some(message.id);
        Some(task)
    };
    hand_off::settle(ctx, message, answer, task, |message| {
        SmsOutput::from(message)
    })
}
