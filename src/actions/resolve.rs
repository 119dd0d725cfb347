//! Input resolution shared by the actions: Ids, the acting user, the related record and the
//! destination number.

use crate::domain::{E164, SalesforceId};
use crate::org::{Org, RecordRef, User};

use super::caller_id::CallerId;
use super::{ApiException, ErrorCode};

/// A trimmed, non-blank input value. Flow passes `""` for variables it has no value for,
/// so blank means absent.
pub(super) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub(super) fn parse_id(field: &str, value: &str) -> Result<SalesforceId, ApiException> {
    SalesforceId::parse(value).map_err(|e| {
        ApiException::invalid(format!(
            "{field} `{value}` is not a valid Salesforce Id: it {e}."
        ))
    })
}

/// The user an action acts as: `userId` when given, else the running user. Either must be a
/// Fastcall user of the org.
pub(super) fn acting_user<'o>(
    org: &'o Org,
    invoker: Option<SalesforceId>,
    user_id: Option<&str>,
) -> Result<&'o User, ApiException> {
    let (id, source) = match user_id {
        Some(raw) => (parse_id("userId", raw)?, "userId"),
        None => (
            invoker.ok_or_else(|| {
                ApiException::invalid(
                    "No acting user: pass userId, call with an API key or X-Fastcall-User-Id, \
                     or set the org's settings.defaultUserId.",
                )
            })?,
            "The running user",
        ),
    };
    fastcall_user(org, id, source)
}

/// The user `id` names (`source` says where the Id came from), which must be a Fastcall
/// user of the org.
pub(super) fn fastcall_user<'o>(
    org: &'o Org,
    id: SalesforceId,
    source: &str,
) -> Result<&'o User, ApiException> {
    let user = org
        .user(id)
        .ok_or_else(|| ApiException::invalid(format!("{source} {id} is not a user of the org.")))?;
    if !user.fastcall_user {
        return Err(ApiException::invalid(format!(
            "User {id} ({}) is not a Fastcall user.",
            user.name
        )));
    }
    Ok(user)
}

/// The record `recordId` names, when given.
pub(super) fn related_record<'o>(
    org: &'o Org,
    record_id: Option<&str>,
) -> Result<Option<RecordRef<'o>>, ApiException> {
    let Some(raw) = record_id else {
        return Ok(None);
    };
    let id = parse_id("recordId", raw)?;
    org.record(id)
        .map(Some)
        .ok_or_else(|| ApiException::invalid(format!("recordId {id} is not a record of the org.")))
}

/// The number to message or call: `toPhone`, else the record's `phoneNumberFieldName` field.
pub(super) fn destination(
    org: &Org,
    to_phone: Option<&str>,
    record: Option<&RecordRef<'_>>,
    field_name: Option<&str>,
) -> Result<E164, ApiException> {
    let country = org.settings().default_country;
    let invalid =
        |what: String, e| ApiException::new(ErrorCode::Destination, format!("{what} {e}."));
    if let Some(raw) = to_phone {
        return E164::parse(raw, country).map_err(|e| invalid(format!("toPhone `{raw}`"), e));
    }
    let missing = |message: String| ApiException::new(ErrorCode::Destination, message);
    match (record, field_name) {
        (Some(record), Some(field)) => {
            let value = record.field(field).ok_or_else(|| {
                missing(format!(
                    "Record {} has no field {field} to take the destination from.",
                    record.id
                ))
            })?;
            if value.trim().is_empty() {
                return Err(missing(format!(
                    "Field {field} of record {} is empty: no destination.",
                    record.id
                )));
            }
            E164::parse(&value, country).map_err(|e| {
                invalid(
                    format!("Field {field} of record {} (`{value}`)", record.id),
                    e,
                )
            })
        }
        (None, Some(_)) => Err(missing(
            "phoneNumberFieldName needs a recordId to read the destination from.".into(),
        )),
        _ => Err(missing(
            "No destination: pass toPhone, or recordId and phoneNumberFieldName.".into(),
        )),
    }
}

/// Who sends or calls, from which number, to whom, and about what: what every message and
/// call that passed its checks has.
#[derive(Debug)]
pub(super) struct Route<'o> {
    pub user: &'o User,
    pub caller: CallerId<'o>,
    pub to: E164,
    pub related: Option<SalesforceId>,
}
