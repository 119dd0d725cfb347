//! Input resolution shared by the actions: Ids, the acting user, the related record and the
//! destination number.

use crate::domain::{Country, DialError, DialledNumber, SalesforceId};
use crate::org::{Org, RecordRef, User};

use super::ApiException;
use super::caller_id::CallerId;

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

/// The number to message or call, as Fastcall dials it: `toPhone`, else the record's
/// `phoneNumberFieldName` field. A value without digits counts as missing; no number at all
/// is 104. Whether the number is real is the provider's to judge.
pub(super) fn destination(
    org: &Org,
    to_phone: Option<&str>,
    record: Option<&RecordRef<'_>>,
    field_name: Option<&str>,
) -> Result<DialledNumber, ApiException> {
    let country = org.settings().default_country;
    if let Some(number) = to_phone
        .map(|raw| dial("toPhone", raw, country))
        .transpose()?
        .flatten()
    {
        return Ok(number);
    }
    let no_destination =
        |detail: String| ApiException::invalid(format!("No destination: {detail}"));
    match (record, field_name) {
        (Some(record), Some(field)) => {
            let value = record.field(field).ok_or_else(|| {
                no_destination(format!(
                    "record {} has no field {field} to take it from.",
                    record.id
                ))
            })?;
            let what = format!("Field {field} of record {}", record.id);
            dial(&what, &value, country)?.ok_or_else(|| {
                no_destination(format!(
                    "field {field} of record {} has no number (`{value}`).",
                    record.id
                ))
            })
        }
        (None, Some(_)) => Err(no_destination(
            "phoneNumberFieldName needs a recordId to read the number from.".into(),
        )),
        _ => Err(no_destination(match to_phone {
            Some(raw) => format!(
                "toPhone `{raw}` has no digits, and no recordId and phoneNumberFieldName give a number."
            ),
            None => "pass toPhone, or recordId and phoneNumberFieldName.".into(),
        })),
    }
}

/// Dials `raw` (`what` names it in errors): `None` when it has no digits, which counts as
/// missing.
pub(super) fn dial(
    what: &str,
    raw: &str,
    country: Country,
) -> Result<Option<DialledNumber>, ApiException> {
    match DialledNumber::dial(raw, country) {
        Ok(number) => Ok(Some(number)),
        Err(DialError::NoDigits) => Ok(None),
        // Not quoted: it may be megabytes long.
        Err(error @ DialError::TooLong) => Err(ApiException::invalid(format!("{what} {error}."))),
    }
}

/// Who sends or calls, from which number, to whom, and about what: what every message and
/// call that passed its checks has.
#[derive(Debug)]
pub(super) struct Route<'o> {
    pub user: &'o User,
    pub caller: CallerId<'o>,
    pub to: DialledNumber,
    pub related: Option<SalesforceId>,
}
