//! `SubscriberCallInvocable`: place an outbound call that connects the callee to an IVR.

use serde::Deserialize;

use super::caller_id::{self, Use};
use super::hand_off;
use super::logged;
use super::resolve::{Route, acting_user, destination, given, parse_id, related_record};
use super::{ActionContext, ApiException, Dispatch, Dispatched, ErrorCode};
use crate::domain::objects::CALL;
use crate::domain::objects::{CallType, TaskSubtype};
use crate::domain::{CallStatus, SalesforceId, Timestamp};
use crate::org::{Ivr, Org};
use crate::records::{Call, StatusHistory};
use crate::views::CallOutput;
use crate::voip::CallRequest;

/// The action's inputs, as the caller sent them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallInput {
    pub from_phone: Option<String>,
    pub ivr_id: Option<String>,
    pub phone_number_field_name: Option<String>,
    pub record_id: Option<String>,
    pub to_phone: Option<String>,
    pub user_id: Option<String>,
}

impl Dispatch for CallInput {
    type Output = CallOutput;
    type Plan<'o> = Plan<'o>;
    type Record = Call;

    fn check<'o>(
        &self,
        org: &'o Org,
        invoker: Option<SalesforceId>,
    ) -> Result<Plan<'o>, ApiException> {
        plan(org, invoker, self)
    }

    fn record(plan: &Plan<'_>, now: Timestamp) -> Call {
        record(plan, now)
    }

    fn hand_off<'a, 'o>(
        plan: Plan<'o>,
        call: Call,
        ctx: &'a ActionContext<'o>,
    ) -> impl Future<Output = Dispatched<CallOutput>> + Send + 'a {
        hand_off(plan, call, ctx)
    }
}

/// A call that passed every check, ready for the provider.
#[derive(Debug)]
pub struct Plan<'o> {
    route: Route<'o>,
    ivr: &'o Ivr,
}

/// Every check, in the order the errors are reported: the org's capability (105), the Ids
/// the caller passed (104), the destination (104), the caller ID (103).
fn plan<'o>(
    org: &'o Org,
    invoker: Option<SalesforceId>,
    input: &CallInput,
) -> Result<Plan<'o>, ApiException> {
    if !org.settings().voice_enabled {
        return Err(ApiException::new(
            ErrorCode::Capability,
            "Voice calls are not enabled for this org (settings.voiceEnabled).",
        ));
    }
    let user = acting_user(org, invoker, given(&input.user_id))?;
    let record = related_record(org, given(&input.record_id))?;
    let raw_ivr = given(&input.ivr_id)
        .ok_or_else(|| ApiException::invalid("ivrId is required: the IVR the call connects to."))?;
    let ivr_id = parse_id("ivrId", raw_ivr)?;
    let ivr = org.ivr(ivr_id).ok_or_else(|| {
        ApiException::invalid(format!("ivrId {ivr_id} is not an IVR of the org."))
    })?;
    let to = destination(
        org,
        given(&input.to_phone),
        record.as_ref(),
        given(&input.phone_number_field_name),
    )?;
    let caller = caller_id::resolve(org, user, given(&input.from_phone), Use::Voice)?;
    Ok(Plan {
        route: Route {
            user,
            caller,
            to,
            related: record.map(|r| r.id),
        },
        ivr,
    })
}

/// The call a plan becomes, Queued.
fn record(plan: &Plan<'_>, now: Timestamp) -> Call {
    Call {
        id: SalesforceId::generate(CALL.key_prefix),
        provider_id: None,
        created_at: now,
        updated_at: now,
        owner_id: plan.route.caller.owner,
        user_id: plan.route.user.id,
        phone_number_id: plan.route.caller.phone.id,
        from_phone: plan.route.caller.number,
        to_phone: plan.route.to,
        ivr_id: plan.ivr.id,
        related_record_id: plan.route.related,
        task_id: None,
        status: CallStatus::Queued,
        status_history: StatusHistory::starting(CallStatus::Queued, now, None),
        error: None,
    }
}

/// Hands the call to the provider and builds what is to be stored either way: an accepted
/// call always gets a Task (about the record when there is one); a refused call is kept
/// as Failed, with a VoIP error log entry and no Task.
async fn hand_off(plan: Plan<'_>, call: Call, ctx: &ActionContext<'_>) -> Dispatched<CallOutput> {
    let request = CallRequest {
        org: ctx.org_name,
        from: call.from_phone,
        to: call.to_phone,
        ivr_id: plan.ivr.id,
        ivr_name: &plan.ivr.name,
    };
    let answer = ctx.voip.place_call(&request).await;
    let task = |call: &Call| {
        let mut task = logged::task(
            call.created_at,
            call.user_id,
            format!("Call to {}", call.to_phone),
            call.related_record_id,
        );
        task.description = Some(format!(
            "Outbound call from {}, connected to the IVR {}.",
            call.from_phone, plan.ivr.name
        ));
        task.task_subtype = TaskSubtype::Call;
        task.call_type = Some(CallType::Outbound);
        task.call_id = Some(call.id);
        Some(task)
    };
    hand_off::settle(ctx, call, answer, task, |call| CallOutput::from(call))
}
