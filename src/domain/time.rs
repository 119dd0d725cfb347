//! Instants, stored as milliseconds since the Unix epoch and written as Salesforce writes
//! datetimes: `2026-11-26T13:13:22.000+0000`.

use std::fmt;

use chrono::{DateTime, Utc};
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

    /// Salesforce's form, as `Display` writes it, added to `out`: for the JSON writer
    /// (`views::json`), which has no formatter. Digits, signs and separators only.
    pub fn push_to(self, out: &mut String) {
        match self.text() {
            Some(text) => out.push_str(text.as_str()),
            None => {
                use fmt::Write as _;
                let _ = write!(out, "{self}");
            }
        }
    }

    /// RFC 3339 with milliseconds (`2026-11-26T13:13:22.000Z`).
    pub fn to_rfc3339(self) -> String {
        let mut text = self.to_string();
        text.truncate(text.len() - "+0000".len());
        text.push('Z');
        text
    }
}

/// Salesforce's datetime form. Every stored record and every event payload writes a few,
/// so the digits are written directly rather than through a chrono format string, which
/// is parsed again on every call (years outside 0000-9999, which Salesforce cannot hold
/// anyway, take chrono's way).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text() {
            Some(text) => f.write_str(text.as_str()),
            None => write!(
                f,
                "{}",
                self.to_datetime().format("%Y-%m-%dT%H:%M:%S%.3f%z")
            ),
        }
    }
}

/// A timestamp in Salesforce's form, written on the stack.
struct TimestampText([u8; 28]);

impl TimestampText {
    fn as_str(&self) -> &str {
        // Only ASCII digits and separators are written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Timestamp {
    /// Salesforce's form, for years 0000-9999.
    fn text(self) -> Option<TimestampText> {
        let seconds = self.0.div_euclid(1000);
        let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
        let year = u16::try_from(year).ok().filter(|year| *year <= 9999)?;
        let of_day = seconds.rem_euclid(86_400) as u32;
        let mut text = *b"0000-00-00T00:00:00.000+0000";
        digits(&mut text[0..4], year.into());
        digits(&mut text[5..7], month);
        digits(&mut text[8..10], day);
        digits(&mut text[11..13], of_day / 3600);
        digits(&mut text[14..16], of_day / 60 % 60);
        digits(&mut text[17..19], of_day % 60);
        digits(&mut text[20..23], self.0.rem_euclid(1000) as u32);
        Some(TimestampText(text))
    }
}

/// Writes `value`'s last `into.len()` decimal digits into `into`, zero-padded.
pub(crate) fn digits(into: &mut [u8], mut value: u32) {
    for digit in into.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// The proleptic Gregorian date (year, month, day) `days` after 1970-01-01: Howard Hinnant's
/// `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>), a few
/// divisions where chrono's calendar takes hundreds of instructions per field.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Counted from 0000-03-01, so that the leap day ends the year; in 400-year eras.
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March.
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // As a string, rather than through `Display` (`collect_str`): the serializer then
        // escapes it in one piece.
        match self.text() {
            Some(text) => serializer.serialize_str(text.as_str()),
            None => serializer.collect_str(self),
        }
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
    fn written_as_chrono_writes_them_across_the_calendar() {
        for millis in [
            0,
            -1,
            -86_400_001,
            951_782_400_999,
            4_102_444_799_999,
            253_402_300_799_999,
            -62_167_219_200_000,
        ] {
            let at = DateTime::from_timestamp_millis(millis).unwrap();
            let ts = Timestamp::from_millis(millis);
            assert_eq!(
                ts.to_string(),
                at.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
            );
            assert_eq!(
                ts.to_rfc3339(),
                at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            );
        }
        // Past year 9999, chrono's own form.
        let far = Timestamp::from_millis(253_402_300_800_000);
        assert_eq!(far.to_string(), "+10000-01-01T00:00:00.000+0000");
    }

    #[test]
    fn written_as_chrono_writes_them_day_by_day() {
        // Every day of 1600-2400 and some of every year since 0000, at odd times of day.
        let days = (-135_140..157_000).chain((-719_528..2_932_896).step_by(97));
        for (i, day) in days.enumerate() {
            let millis = day * 86_400_000 + (i as i64 * 7_919_993) % 86_400_000;
            let at = DateTime::from_timestamp_millis(millis).unwrap();
            assert_eq!(
                Timestamp::from_millis(millis).to_string(),
                at.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string(),
                "{millis}"
            );
        }
    }

    #[test]
    fn parses_both_rfc3339_and_salesforce_forms() {
        let a = Timestamp::parse("2026-11-26T14:13:22.500+01:00").unwrap();
        let b = Timestamp::parse("2026-11-26T13:13:22.500+0000").unwrap();
        assert_eq!(a, b);
        assert!(Timestamp::parse("yesterday").is_err());
    }
}
