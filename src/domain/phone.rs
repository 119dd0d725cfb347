//! Phone numbers as Fastcall dials them (its international-dialling guide): formatting is
//! dropped, a leading `+` is dialled as it is, and anything else is national, in the org's
//! default country. Whether the result is a real number is the provider's to judge.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::{LazyLock, Mutex};

use phonenumber::country;
use serde::{Serialize, Serializer};
use tinystr::TinyAsciiStr;

/// The most digits a number may have: twice E.164's 15, so that whatever was typed reaches
/// the provider to be judged, within a small inline buffer.
pub const MAX_DIGITS: usize = 30;

/// What [`DialledNumber::is_valid`] remembers, hashed with foldhash (seeded per process)
/// rather than SipHash, which would cost more than the lookup. Callers choose the numbers,
/// but at most [`JUDGED`] are held: numbers made to collide could cost a lookup no more
/// than a scan of those.
type Judgements = HashMap<DialledNumber, bool, foldhash::fast::RandomState>;

/// How many numbers' validity [`DialledNumber::is_valid`] remembers.
const JUDGED: usize = 4096;

/// The longest value, formatting included, that is taken for a phone number.
pub const MAX_INPUT_CHARS: usize = 100;

/// A number as Fastcall dials it: `+` and its digits (`+14155550123`), stored inline. The
/// digits are not judged: [`DialledNumber::is_valid`] tells what a provider would say.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DialledNumber(TinyAsciiStr<{ MAX_DIGITS + 1 }>);

// Hashed as one slice of bytes, as `SalesforceId` is and for the same reason.
impl Hash for DialledNumber {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().as_bytes().hash(state);
    }
}

/// A number being written: `+`, then digits.
struct Digits {
    len: usize,
    bytes: [u8; MAX_DIGITS + 1],
}

/// The country whose calling code is put in front of numbers written without a leading `+`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Country {
    id: country::Id,
    calling_code: u16,
}

/// Why a value cannot be dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    /// Nothing to dial: such a value counts as missing.
    #[error("has no digits")]
    NoDigits,
    /// More than [`MAX_DIGITS`] digits, or [`MAX_INPUT_CHARS`] characters in all.
    #[error("is too long to dial: more than {MAX_DIGITS} digits, or {MAX_INPUT_CHARS} characters")]
    TooLong,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO 3166 two-letter country code that phone numbers know")]
pub struct UnknownCountry(pub String);

impl DialledNumber {
    /// Dials `input` as Fastcall does: every character but the digits is formatting and
    /// dropped; a `+` before the first digit means the digits are international and are
    /// dialled as they are; otherwise one leading `0` (a trunk prefix) is dropped and
    /// `country`'s calling code put in front.
    pub fn dial(input: &str, country: Country) -> Result<Self, DialError> {
        if input.len() > MAX_INPUT_CHARS && input.chars().nth(MAX_INPUT_CHARS).is_some() {
            return Err(DialError::TooLong);
        }
        let international = input
            .bytes()
            .find(|b| *b == b'+' || b.is_ascii_digit())
            .is_some_and(|b| b == b'+');
        let mut digits = input.bytes().filter(u8::is_ascii_digit).peekable();
        if digits.peek().is_none() {
            return Err(DialError::NoDigits);
        }
        let mut number = Digits {
            len: 1,
            bytes: [0; MAX_DIGITS + 1],
        };
        number.bytes[0] = b'+';
        if !international {
            digits.next_if_eq(&b'0');
            number.push(itoa::Buffer::new().format(country.calling_code).bytes())?;
        }
        number.push(digits)?;
        Ok(Self::ascii(&number.bytes[..number.len]))
    }

    /// `+` and digits, checked by the caller.
    fn ascii(number: &[u8]) -> Self {
        Self(TinyAsciiStr::try_from_utf8(number).expect("a number is `+` and ASCII digits"))
    }

    /// Takes a number already in dialled form (as the emulator stores them); `None` when it
    /// is not `+` and 1 to [`MAX_DIGITS`] digits.
    pub fn from_canonical(formatted: &str) -> Option<Self> {
        let raw = formatted.as_bytes();
        if raw.len() < 2
            || raw.len() > MAX_DIGITS + 1
            || raw.first() != Some(&b'+')
            || !raw[1..].iter().all(u8::is_ascii_digit)
        {
            return None;
        }
        Some(Self::ascii(raw))
    }

    /// Whether libphonenumber judges this a valid number of the country its calling code
    /// names: what a provider such as Twilio checks before it accepts a destination.
    ///
    /// libphonenumber's judgement costs tens of thousands of instructions (its regexes are
    /// looked up by their patterns in a SipHash cache), and the same destinations come again
    /// and again, so judgements are remembered: up to [`JUDGED`] numbers, then afresh.
    pub fn is_valid(&self) -> bool {
        static JUDGEMENTS: LazyLock<Mutex<Judgements>> = LazyLock::new(Mutex::default);
        let remembered = |judgements: &Judgements| judgements.get(self).copied();
        if let Some(valid) = JUDGEMENTS.lock().ok().as_deref().and_then(remembered) {
            return valid;
        }
        let valid = phonenumber::parse(None, self.as_str())
            .is_ok_and(|number| phonenumber::is_valid(&number));
        if let Ok(mut judgements) = JUDGEMENTS.lock() {
            if judgements.len() >= JUDGED {
                judgements.clear();
            }
            judgements.insert(*self, valid);
        }
        valid
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Digits {
    fn push(&mut self, digits: impl Iterator<Item = u8>) -> Result<(), DialError> {
        for digit in digits {
            *self.bytes.get_mut(self.len).ok_or(DialError::TooLong)? = digit;
            self.len += 1;
        }
        Ok(())
    }
}

impl Country {
    pub const US: Country = Country {
        id: country::Id::US,
        calling_code: 1,
    };

    pub fn code(&self) -> &str {
        self.id.as_ref()
    }
}

impl Default for Country {
    fn default() -> Self {
        Self::US
    }
}

impl FromStr for Country {
    type Err = UnknownCountry;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownCountry(s.to_owned());
        let id = country::Id::from_str(&s.trim().to_ascii_uppercase()).map_err(|_| unknown())?;
        let metadata = phonenumber::metadata::DATABASE
            .by_id(id.as_ref())
            .ok_or_else(unknown)?;
        Ok(Self {
            id,
            calling_code: metadata.country_code(),
        })
    }
}

impl fmt::Display for DialledNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for DialledNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DialledNumber({})", self.as_str())
    }
}

impl Serialize for DialledNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dial(input: &str, country: &str) -> Result<String, DialError> {
        DialledNumber::dial(input, country.parse().unwrap()).map(|n| n.to_string())
    }

    #[test]
    fn national_numbers_get_the_default_countrys_code_after_one_trunk_zero_is_dropped() {
        let cases = [
            ("(415) 555-0123", "US", "+14155550123"),
            ("0415 555 0123", "US", "+14155550123"),
            ("415.555.0123", "US", "+14155550123"),
            ("020 7946 0958", "GB", "+442079460958"),
            ("07700 900123", "GB", "+447700900123"),
            // Only one zero is a trunk prefix; and a national 1 is not the country code.
            ("00 44 20 7946 0958", "US", "+10442079460958"),
            ("1 415 555 0123", "US", "+114155550123"),
        ];
        for (input, country, expected) in cases {
            assert_eq!(
                dial(input, country).as_deref(),
                Ok(expected),
                "{input:?} in {country}"
            );
        }
    }

    #[test]
    fn a_plus_before_the_first_digit_is_international_whatever_the_default_country() {
        for country in ["US", "GB", "de"] {
            assert_eq!(
                dial("+44 20 7946 0958", country).as_deref(),
                Ok("+442079460958")
            );
            assert_eq!(
                dial(" (+1) 415-555-0123 ", country).as_deref(),
                Ok("+14155550123")
            );
            assert_eq!(
                dial("+0 415", country).as_deref(),
                Ok("+0415"),
                "dialled as it is"
            );
        }
        // A plus after a digit is formatting.
        assert_eq!(dial("415+555 0123", "US").as_deref(), Ok("+14155550123"));
    }

    #[test]
    fn everything_but_the_digits_is_formatting_and_validity_is_not_judged() {
        assert_eq!(
            dial("+1 415 555 0123 ext 12", "US").as_deref(),
            Ok("+1415555012312")
        );
        assert_eq!(
            dial("tel:+15551234567", "US").as_deref(),
            Ok("+15551234567")
        );
        assert_eq!(dial("123", "US").as_deref(), Ok("+1123"));
    }

    #[test]
    fn a_value_without_digits_or_with_too_many_cannot_be_dialled() {
        for input in ["", "   ", "hello", "+", "(-.-)"] {
            assert_eq!(dial(input, "US"), Err(DialError::NoDigits), "{input:?}");
        }
        let longest = format!("+{}", "1".repeat(MAX_DIGITS));
        assert_eq!(dial(&longest, "US").as_deref(), Ok(longest.as_str()));
        assert_eq!(dial(&format!("{longest}2"), "US"), Err(DialError::TooLong));
        assert_eq!(
            dial(&"2".repeat(MAX_DIGITS), "US"),
            Err(DialError::TooLong),
            "with the +1"
        );
        let padded = format!("+1 415 555 0123{}", " ".repeat(MAX_INPUT_CHARS - 15));
        assert_eq!(dial(&padded, "US").as_deref(), Ok("+14155550123"));
        assert_eq!(dial(&format!("{padded}."), "US"), Err(DialError::TooLong));
        assert_eq!(dial(&"x".repeat(10_000), "US"), Err(DialError::TooLong));
    }

    #[test]
    fn validity_is_libphonenumbers_judgement_for_the_numbers_country() {
        for valid in [
            "+14155550123",
            "+442079460958",
            "+15005550006",
            "+15005550001",
        ] {
            assert!(
                DialledNumber::from_canonical(valid).unwrap().is_valid(),
                "{valid}"
            );
        }
        for invalid in [
            "+15551234567",
            "+1123",
            "+114155550123",
            "+0415",
            "+1415555012312",
        ] {
            assert!(
                !DialledNumber::from_canonical(invalid).unwrap().is_valid(),
                "{invalid}"
            );
        }
    }

    #[test]
    fn countries_are_iso_codes_with_a_calling_code() {
        assert!("XX".parse::<Country>().is_err());
        assert!("".parse::<Country>().is_err());
        assert_eq!("us".parse::<Country>().unwrap(), Country::US);
        assert_eq!("GB".parse::<Country>().unwrap().calling_code, 44);
        assert_eq!("de".parse::<Country>().unwrap().code(), "DE");
    }
}
