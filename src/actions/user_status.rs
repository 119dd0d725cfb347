//! `SubscriberUserStatusInvocable`: set a Fastcall user's status, logging each real change.

use serde::Deserialize;

use super::resolve::{fastcall_user, given, parse_id};
use super::{ActionContext, ActionError, ApiException};
use crate::domain::objects::{STATUS_LOG, StatusType};
use crate::domain::{OrgName, SalesforceId};
use crate::org::{Org, User};
use crate::records::{UserState, UserStatusValue};
use crate::storage::{StatusChange, StatusChangeOutcome, Storage, StorageError};
use crate::views::UserStatusOutput;

/// The action's inputs, as the caller sent them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserStatusInput {
    pub user_id: Option<String>,
    pub user_status_id: Option<String>,
    pub status_type: Option<String>,
}

/// Sets the statuses one invocation asks for (SPEC 2.2): every input is checked first, and
/// the first failure, in input order, fails them all with nothing changed; then all the
/// changes are stored in one transaction, in input order. Setting the status a user
/// already has changes and logs nothing.
pub async fn set_all(
    ctx: &ActionContext<'_>,
    inputs: Vec<Result<UserStatusInput, ApiException>>,
) -> Result<Vec<UserStatusOutput>, ActionError> {
    let changes = inputs
        .into_iter()
        .map(|input| {
            let (user, to) = plan(ctx.org, &input?)?;
            Ok(StatusChange {
                user_id: user.id,
                initial: initial_status(ctx.org, user),
                to,
                changed_by: ctx.invoker,
                log_id: SalesforceId::generate(STATUS_LOG.key_prefix),
            })
        })
        .collect::<Result<Vec<_>, ApiException>>()?;
    let outcomes = ctx
        .storage
        .change_user_statuses(ctx.org_name, &changes)
        .await?;
    Ok(changes.iter().zip(outcomes).map(output).collect())
}

/// One input, on its own.
pub async fn set(
    ctx: &ActionContext<'_>,
    input: UserStatusInput,
) -> Result<UserStatusOutput, ActionError> {
    let mut outputs = set_all(ctx, vec![Ok(input)]).await?;
    Ok(outputs.pop().expect("set_all answers one output per input"))
}

/// What the action answers about one change.
fn output((change, outcome): (&StatusChange, StatusChangeOutcome)) -> UserStatusOutput {
    let previous = outcome.previous.status;
    UserStatusOutput {
        user_id: change.user_id,
        user_status_id: change.to.user_status_id,
        status_type: change.to.status_type,
        previous_user_status_id: previous.user_status_id,
        previous_status_type: previous.status_type,
        changed: outcome.logged.is_some(),
        changed_date: outcome
            .logged
            .as_ref()
            .map(|e| e.changed_at)
            .or(outcome.previous.changed_at),
        log_id: outcome.logged.map(|e| e.id),
    }
}

/// The user (a Fastcall user of the org) and the status to give them: `userStatusId` when it
/// names one of the org's statuses, else the availability `statusType` names.
fn plan<'o>(
    org: &'o Org,
    input: &UserStatusInput,
) -> Result<(&'o User, UserStatusValue), ApiException> {
    let raw_user =
        given(&input.user_id).ok_or_else(|| ApiException::invalid("userId is required."))?;
    let user = fastcall_user(org, parse_id("userId", raw_user)?, "userId")?;
    let status = given(&input.user_status_id)
        .map(|raw| parse_id("userStatusId", raw))
        .transpose()?
        .and_then(|id| org.user_status(id));
    if let Some(status) = status {
        return Ok((
            user,
            UserStatusValue {
                user_status_id: Some(status.id),
                status_type: status.status_type,
            },
        ));
    }
    let status_type = match given(&input.status_type) {
        Some(raw) => StatusType::parse(raw).ok_or_else(|| {
            ApiException::invalid(format!("statusType `{raw}` is not Available or Offline."))
        })?,
        None if given(&input.user_status_id).is_some() => {
            return Err(ApiException::invalid(
                "userStatusId is not one of the org's user statuses, and no statusType was given to fall back on.",
            ));
        }
        None => {
            return Err(ApiException::invalid(
                "Pass userStatusId or statusType (Available or Offline).",
            ));
        }
    };
    Ok((
        user,
        UserStatusValue {
            user_status_id: None,
            status_type,
        },
    ))
}

/// The status the org data gives a user: their status record's, else their availability
/// (Offline when the org says nothing).
pub fn initial_status(org: &Org, user: &User) -> UserStatusValue {
    match user.user_status_id.and_then(|id| org.user_status(id)) {
        Some(status) => UserStatusValue {
            user_status_id: Some(status.id),
            status_type: status.status_type,
        },
        None => UserStatusValue {
            user_status_id: None,
            status_type: user.status_type.unwrap_or(StatusType::Offline),
        },
    }
}

/// A user's status now: as last set through the action, else the org's.
pub async fn current(
    storage: &dyn Storage,
    org_name: &OrgName,
    org: &Org,
    user: &User,
) -> Result<UserState, StorageError> {
    let stored = storage.user_state(org_name, user.id).await?;
    Ok(stored.unwrap_or(UserState {
        status: initial_status(org, user),
        changed_at: None,
    }))
}
