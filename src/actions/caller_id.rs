//! Caller-ID resolution: which of the org's numbers an action sends from, and who owns
//! the result.

use crate::domain::{DialledNumber, SalesforceId};
use crate::org::{Assignment, Org, PhoneNumber, User};

use super::resolve::dial;
use super::{ApiException, ErrorCode};

/// What the number is needed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Use {
    Sms { mms: bool },
    Voice,
}

impl Use {
    /// Why `phone` cannot serve this use, if it cannot.
    fn unfit(self, phone: &PhoneNumber) -> Option<&'static str> {
        match self {
            Use::Sms { .. } if !phone.sms => Some("is not SMS-capable"),
            Use::Sms { .. } if !phone.outbound_sms => Some("is not enabled for outbound SMS"),
            Use::Sms { mms: true } if !phone.mms => Some("is not MMS-capable"),
            Use::Sms { .. } => None,
            Use::Voice if !phone.voice => Some("is not voice-capable"),
            Use::Voice if !phone.caller_id => Some("is not enabled as a caller ID"),
            Use::Voice => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Use::Sms { mms: false } => "SMS-capable number enabled for outbound SMS",
            Use::Sms { mms: true } => "MMS-capable number enabled for outbound SMS",
            Use::Voice => "voice-capable number enabled as a caller ID",
        }
    }
}

/// The resolved caller ID.
#[derive(Debug, Clone, Copy)]
pub(super) struct CallerId<'o> {
    pub number: DialledNumber,
    pub phone: &'o PhoneNumber,
    /// The acting user, or the group through which the user may use the number.
    pub owner: SalesforceId,
}

/// `fromPhone` when given; otherwise the first fitting number assigned to the user, then
/// to one of the user's groups, then to the whole org.
pub(super) fn resolve<'o>(
    org: &'o Org,
    user: &User,
    from_phone: Option<&str>,
    wanted: Use,
) -> Result<CallerId<'o>, ApiException> {
    let not_found = |detail: String| {
        ApiException::new(
            ErrorCode::CallerId,
            format!("Caller ID not found. {detail}"),
        )
    };
    // A value without digits counts as missing: the caller ID is resolved.
    let dialled = from_phone
        .map(|raw| dial("fromPhone", raw, org.settings().default_country).map(|n| (raw, n)))
        .transpose()?;
    if let Some((raw, Some(number))) = dialled {
        let phone = org.phone_number(number).ok_or_else(|| {
            not_found(format!(
                "fromPhone `{raw}` is not one of the org's phone numbers."
            ))
        })?;
        if let Some(reason) = wanted.unfit(phone) {
            return Err(not_found(format!("fromPhone {number} {reason}.")));
        }
        let owner = group_through(phone, user).unwrap_or(user.id);
        return Ok(CallerId {
            number,
            phone,
            owner,
        });
    }
    let fitting = || {
        org.phone_numbers()
            .filter(|(_, p)| wanted.unfit(p).is_none())
    };
    let direct = fitting()
        .find(|(_, p)| p.assignment == Assignment::User && p.user_ids.contains(&user.id))
        .map(|(number, phone)| CallerId {
            number,
            phone,
            owner: user.id,
        });
    let resolved = direct
        .or_else(|| {
            fitting().find_map(|(number, phone)| {
                let group = group_through(phone, user)?;
                Some(CallerId {
                    number,
                    phone,
                    owner: group,
                })
            })
        })
        .or_else(|| {
            fitting()
                .find(|(_, p)| p.assignment == Assignment::Org)
                .map(|(number, phone)| CallerId {
                    number,
                    phone,
                    owner: user.id,
                })
        });
    resolved.ok_or_else(|| {
        not_found(format!(
            "User {} ({}) has no {} assigned directly, through a group, or org-wide.",
            user.id,
            user.name,
            wanted.describe()
        ))
    })
}

/// The first of a group-assigned number's groups that the user belongs to.
fn group_through(phone: &PhoneNumber, user: &User) -> Option<SalesforceId> {
    if phone.assignment != Assignment::Group {
        return None;
    }
    phone
        .group_ids
        .iter()
        .copied()
        .find(|g| user.group_ids.contains(g))
}
