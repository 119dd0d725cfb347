//! Instants, stored as milliseconds since the Unix epoch and written as Salesforce writes
//! datetimes: `2026-11-26T13:13:22.000+0000`.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a datetime (use 2026-11-26T13:13:22Z or 2026-11-26T13:13:22.000+0000)")]
pub struct TimestampError(String);

impl Timestamp {
    pub fn now() -> Self {
        Self(Utc::now().timestamp_millis())
    }

    pub fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }

    /// Accepts RFC 3339 and Salesforce's own form (offset without a colon).
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        DateTime::parse_from_rfc3339(input)
            .or_else(|_| DateTime::parse_from_str(input, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .map(|dt| Self(dt.timestamp_millis()))
            .map_err(|_| TimestampError(input.to_owned()))
    }

    /// The UTC calendar date, as Salesforce writes Date fields (`2026-11-26`).
    pub fn date(self) -> String {
        self.to_datetime().format("%Y-%m-%d").to_string()
    }

    /// RFC 3339 with milliseconds, for logs and event payloads.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// Salesforce's datetime form.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.to_datetime().format("%Y-%m-%dT%H:%M:%S%.3f%z")
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_salesforce_writes_datetimes() {
        let ts = Timestamp::parse("2026-11-26T13:13:22Z").unwrap();
        assert_eq!(ts.to_string(), "2026-11-26T13:13:22.000+0000");
        assert_eq!(
            Timestamp::from_millis(ts.millis() + 7).to_string(),
            "2026-11-26T13:13:22.007+0000"
        );
    }

    #[test]
    fn parses_both_rfc3339_and_salesforce_forms() {
        let a = Timestamp::parse("2026-11-26T14:13:22.500+01:00").unwrap();
        let b = Timestamp::parse("2026-11-26T13:13:22.500+0000").unwrap();
        assert_eq!(a, b);
        assert!(Timestamp::parse("yesterday").is_err());
    }
}
