//! The query string of the inspection lists: filters, `limit`.

use std::time::Duration;

use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;

use super::error::{PlatformCode, PlatformError};
use crate::domain::objects::Direction;
use crate::domain::{DialledNumber, SalesforceId, Timestamp};
use crate::org::Org;
use crate::storage::{ListFilter, StatusFilter};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// The raw `name=value` pairs, decoded.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = PlatformError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .unwrap_or(RawQuery(None));
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self(pairs))
    }
}

/// The filters a list understands.
#[derive(Debug, Clone, Copy)]
pub struct Accepts {
    /// `id` and `userId`.
    pub records: bool,
    pub phones: bool,
    pub related: bool,
    /// `direction`: Inbound or Outbound.
    pub directions: bool,
    /// The statuses the list's items can have; `None`: no status filter.
    pub statuses: Option<Statuses>,
}

/// The statuses a list's items can have: their names, and the filter a name (of any case)
/// stands for.
#[derive(Debug, Clone, Copy)]
pub struct Statuses {
    pub names: &'static [&'static str],
    pub parse: fn(&str) -> Option<StatusFilter>,
}

/// The longest a list request may wait for a match.
pub const MAX_WAIT: Duration = Duration::from_secs(120);

/// A list request: what to match, and how long to wait for a match (`wait=SECONDS`).
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: ListFilter,
    pub wait: Option<Duration>,
}

/// Parses the filters, refusing unknown ones so a typo does not silently match everything.
pub fn list_query(
    pairs: &QueryPairs,
    org: &Org,
    accepts: Accepts,
) -> Result<ListQuery, PlatformError> {
    let mut filter = ListFilter {
        limit: DEFAULT_LIMIT,
        ..ListFilter::default()
    };
    let mut wait = None;
    for (name, value) in &pairs.0 {
        match name.as_str() {
            "to" if accepts.phones => filter.to = Some(phone(name, value, org)?),
            "from" if accepts.phones => filter.from = Some(phone(name, value, org)?),
            "id" if accepts.records => filter.id = Some(id(name, value)?),
            "userId" if accepts.records => filter.user_id = Some(id(name, value)?),
            "direction" if accepts.directions => {
                let direction = Direction::parse(value).ok_or_else(|| {
                    invalid(format!(
                        "direction `{value}` is not one of {}",
                        Direction::NAMES.join(", ")
                    ))
                })?;
                filter.direction = Some(direction);
            }
            "relatedRecordId" if accepts.related => {
                filter.related_record_id = Some(id(name, value)?)
            }
            "status" if let Some(statuses) = accepts.statuses => {
                let status = (statuses.parse)(value).ok_or_else(|| {
                    invalid(format!(
                        "status `{value}` is not one of {}",
                        statuses.names.join(", ")
                    ))
                })?;
                filter.status = Some(status);
            }
            "since" => {
                filter.since = Some(
                    Timestamp::parse(value.trim()).map_err(|e| invalid(format!("since: {e}")))?,
                )
            }
            "limit" => filter.limit = limit(value)?,
            "wait" => wait = Some(wait_for(value)?),
            other => {
                let mut known = vec!["since", "limit", "wait"];
                if accepts.records {
                    known.extend(["id", "userId"]);
                }
                if accepts.directions {
                    known.push("direction");
                }
                if accepts.phones {
                    known.extend(["to", "from"]);
                }
                if accepts.related {
                    known.push("relatedRecordId");
                }
                if accepts.statuses.is_some() {
                    known.push("status");
                }
                return Err(invalid(format!(
                    "unknown filter `{other}`; this list takes {}",
                    known.join(", ")
                )));
            }
        }
    }
    Ok(ListQuery { filter, wait })
}

fn invalid(message: String) -> PlatformError {
    PlatformError::new(PlatformCode::InvalidFilter, message)
}

/// A number to filter on, dialled as the actions dial theirs, so that it matches what was
/// stored. A `+` in a query string decodes to a space, so ` 14155550100` is taken as
/// `+14155550100`.
fn phone(name: &str, value: &str, org: &Org) -> Result<DialledNumber, PlatformError> {
    let restored;
    let value = match value.strip_prefix(' ') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
            restored = format!("+{rest}");
            &restored
        }
        _ => value,
    };
    DialledNumber::dial(value, org.settings().default_country)
        .map_err(|e| invalid(format!("{name} `{value}` {e}")))
}

fn id(name: &str, value: &str) -> Result<SalesforceId, PlatformError> {
    SalesforceId::parse(value.trim())
        .map_err(|e| invalid(format!("{name} `{value}` is not a Salesforce Id: it {e}")))
}

fn wait_for(value: &str) -> Result<Duration, PlatformError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|secs| (0.0..=MAX_WAIT.as_secs_f64()).contains(secs))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            invalid(format!(
                "wait `{value}` must be a number of seconds from 0 to {}",
                MAX_WAIT.as_secs()
            ))
        })
}

fn limit(value: &str) -> Result<u32, PlatformError> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            invalid(format!(
                "limit `{value}` must be a whole number from 1 to {MAX_LIMIT}"
            ))
        })
}
