//! Inbound messages (SPEC 10): a customer texts one of the org's numbers. The message is
//! stored as an Inbound `FastCall__SMS_Message__c`, Received, owned by the number's user or
//! group and related to the record whose phone field holds the sender's number (when
//! exactly one does, with a Task). A message that is an opt-out keyword opts the sender out
//! of that number (or back in), and gets Twilio's default reply, recorded as an outbound
//! message: all in one write, with an `sms.received` event.
//!
//! Not an invocable action, but it reads the org and stores records as the actions do.

use serde::Deserialize;

use super::ActionContext;
use super::logged;
use super::resolve::{dial, given};
use super::sms::MAX_BODY_CHARS;
use crate::domain::objects::{Direction, SMS_MESSAGE};
use crate::domain::{
    Country, DialledNumber, Keyword, MediaUrl, SalesforceId, SmsStatus, Timestamp,
};
use crate::org::{Assignment, Org, PhoneNumber};
use crate::records::{OptOut, OptOutChange, SmsMessage, StatusHistory};
use crate::storage::{Batch, StepRules, StorageError};
use crate::voip::twilio_sid;

/// What the customer texted: `POST /_emulator/inbound`'s body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundInput {
    /// The customer's number.
    pub from: Option<String>,
    /// The org's number they texted.
    pub to: Option<String>,
    pub body: Option<String>,
    #[serde(rename = "mediaURL")]
    pub media_url: Option<String>,
}

/// What a customer's message did once stored.
#[derive(Debug)]
pub struct Received {
    pub message: SmsMessage,
    /// The opt-out keyword the message was, if it was one.
    pub keyword: Option<Keyword>,
    /// The provider's reply to the keyword.
    pub reply: Option<SmsMessage>,
}

/// Why a message could not be received: the caller's to fix, or the emulator's failure.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn invalid(message: impl Into<String>) -> InboundError {
    InboundError::Invalid(message.into())
}

/// Receives a customer's message at one of the org's numbers, and stores it with what it
/// did. `provider_id` is the provider's id of the message, when it gave one (a webhook);
/// else one is made as Twilio makes them.
pub async fn receive(
    ctx: &ActionContext<'_>,
    input: &InboundInput,
    provider_id: Option<String>,
) -> Result<Received, InboundError> {
    let checked = check(ctx.org, input)?;
    let now = Timestamp::now();
    let mut batch = Batch::default();
    let received = checked.build(ctx, provider_id, now, &mut batch);
    ctx.storage.write(ctx.org_name, batch).await?;
    ctx.lifecycle.steps_scheduled();
    Ok(received)
}

/// A message that passed every check.
struct Checked<'o> {
    from: DialledNumber,
    to: DialledNumber,
    phone: &'o PhoneNumber,
    owner: SalesforceId,
    user: Option<SalesforceId>,
    /// Who a Task about the message would belong to, if anybody can own one.
    task_owner: Option<SalesforceId>,
    body: String,
    media_url: Option<MediaUrl>,
}

fn check<'o>(org: &'o Org, input: &InboundInput) -> Result<Checked<'o>, InboundError> {
    if !org.settings().sms_enabled {
        return Err(invalid(
            "SMS is not enabled for this org (settings.smsEnabled): its numbers receive no messages.",
        ));
    }
    let country = org.settings().default_country;
    let from = number("from", "the customer's number", given(&input.from), country)?;
    let to = number("to", "the org's number texted", given(&input.to), country)?;
    let phone = org.phone_number(to).ok_or_else(|| {
        invalid(format!(
            "to {to} is not one of the org's phone numbers (phoneNumbers)."
        ))
    })?;
    if !phone.sms {
        return Err(invalid(format!(
            "to {to} is not SMS-capable (its sms is false): it receives no messages."
        )));
    }
    let media_url = given(&input.media_url)
        .map(|raw| MediaUrl::parse(raw).map_err(|e| invalid(format!("mediaURL `{raw}` {e}."))))
        .transpose()?;
    if media_url.is_some() && !phone.mms {
        return Err(invalid(format!(
            "to {to} is not MMS-capable (its mms is false): it receives no mediaURL."
        )));
    }
    let body = input.body.clone().unwrap_or_default();
    if body.trim().is_empty() && media_url.is_none() {
        return Err(invalid("Pass body, mediaURL, or both."));
    }
    let length = body.chars().count();
    if length > MAX_BODY_CHARS {
        return Err(invalid(format!(
            "The body is {length} characters long; the providers take at most {MAX_BODY_CHARS}."
        )));
    }
    let (owner, user) = recipient(org, to, phone)?;
    Ok(Checked {
        from,
        to,
        phone,
        owner,
        user,
        task_owner: task_owner(org, user, phone),
        body,
        media_url,
    })
}

/// `field`, dialled by the org's rule: required.
fn number(
    field: &str,
    what: &str,
    raw: Option<&str>,
    country: Country,
) -> Result<DialledNumber, InboundError> {
    let raw = raw.ok_or_else(|| invalid(format!("{field} is required: {what}.")))?;
    dial(field, raw, country)
        .map_err(|exception| InboundError::Invalid(exception.message))?
        .ok_or_else(|| invalid(format!("{field} `{raw}` has no digits: {what}.")))
}

/// Who an inbound message at `phone` is for: its owner (the number's first user or group,
/// or for an org-wide number the org's default user) and its user, if a user owns it.
fn recipient(
    org: &Org,
    to: DialledNumber,
    phone: &PhoneNumber,
) -> Result<(SalesforceId, Option<SalesforceId>), InboundError> {
    let user = match phone.assignment {
        Assignment::User => phone.user_ids.first().copied(),
        Assignment::Group => {
            if let Some(&group) = phone.group_ids.first() {
                return Ok((group, None));
            }
            None
        }
        Assignment::Org => org.settings().default_user_id,
    };
    user.map(|user| (user, Some(user))).ok_or_else(|| {
        invalid(format!(
            "to {to} has no user or group to own its messages: assign it, or set the org's \
             settings.defaultUserId for an org-wide number."
        ))
    })
}

/// Who owns the Task of an inbound message: a user, as a group cannot own a Task. The
/// message's user; for a group's number, the org's default user (the running user when
/// nobody is named), else the group's first Fastcall user; none when the group has none.
fn task_owner(org: &Org, user: Option<SalesforceId>, phone: &PhoneNumber) -> Option<SalesforceId> {
    user.or(org.settings().default_user_id).or_else(|| {
        org.document()
            .users
            .iter()
            .find(|u| u.fastcall_user && u.group_ids.iter().any(|g| phone.group_ids.contains(g)))
            .map(|u| u.id)
    })
}

impl Checked<'_> {
    /// The records the message makes, put in `batch`.
    fn build(
        self,
        ctx: &ActionContext<'_>,
        provider_id: Option<String>,
        now: Timestamp,
        batch: &mut Batch,
    ) -> Received {
        let keyword = Keyword::of(&self.body);
        // Twilio gives an MMS an `MM` id.
        let prefix = if self.media_url.is_some() { "MM" } else { "SM" };
        let related = match ctx.org.records_with_phone(self.from) {
            [only] => Some(*only),
            _ => None,
        };
        let mut message = SmsMessage {
            id: SalesforceId::generate(SMS_MESSAGE.key_prefix),
            provider_id: Some(provider_id.unwrap_or_else(|| twilio_sid(prefix))),
            created_at: now,
            updated_at: now,
            direction: Direction::Inbound,
            owner_id: self.owner,
            user_id: self.user,
            phone_number_id: self.phone.id,
            from_phone: self.from,
            to_phone: self.to,
            body: self.body,
            media_url: self.media_url.map(|url| url.as_str().to_owned()),
            related_record_id: related,
            task_id: None,
            status: SmsStatus::Received,
            status_history: StatusHistory::starting(SmsStatus::Received, now, None),
            error: None,
        };
        if let (Some(related), Some(task_owner)) = (related, self.task_owner) {
            let mut task = logged::task(
                now,
                task_owner,
                format!("SMS from {}", self.from),
                Some(related),
            );
            task.description = Some(message.body.clone());
            task.sms_message_id = Some(message.id);
            message.task_id = Some(task.id);
            batch.tasks.push(task);
        }
        let reply = keyword.map(|keyword| {
            batch.opt_outs.extend(opt_out_change(keyword, &message));
            let reply = reply(keyword, &message, ctx.voip.keyword_reply_status(), now);
            batch.steps.extend(ctx.lifecycle.next_sms_step(&reply, now));
            reply
        });
        batch.messages.push(message.clone());
        batch.messages.extend(reply.clone());
        Received {
            message,
            keyword,
            reply,
        }
    }
}

/// The provider's reply to a keyword, from the number texted back to the customer, as the
/// provider first reports it (`status`).
fn reply(keyword: Keyword, to: &SmsMessage, status: SmsStatus, now: Timestamp) -> SmsMessage {
    SmsMessage {
        id: SalesforceId::generate(SMS_MESSAGE.key_prefix),
        provider_id: Some(twilio_sid("SM")),
        created_at: now,
        updated_at: now,
        direction: Direction::Outbound,
        owner_id: to.owner_id,
        user_id: to.user_id,
        phone_number_id: to.phone_number_id,
        from_phone: to.to_phone,
        to_phone: to.from_phone,
        body: keyword.reply().to_owned(),
        media_url: None,
        related_record_id: None,
        task_id: None,
        status,
        status_history: StatusHistory::starting(status, now, None),
        error: None,
    }
}

/// What `keyword` in `message` does to the sender's opt-out of the number texted.
fn opt_out_change(keyword: Keyword, message: &SmsMessage) -> Option<OptOutChange> {
    match keyword {
        Keyword::OptOut => Some(OptOutChange::Out(OptOut {
            sender: message.from_phone,
            org_number: message.to_phone,
            phone_number_id: message.phone_number_id,
            message_id: message.id,
            since: message.created_at,
        })),
        Keyword::OptIn => Some(OptOutChange::In {
            sender: message.from_phone,
            org_number: message.to_phone,
        }),
        Keyword::Help => None,
    }
}
