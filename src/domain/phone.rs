//! Phone numbers in E.164 form, normalised with the org's default country.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;
use serde::{Serialize, Serializer};

/// A valid phone number in E.164 form (`+14155550100`), stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct E164 {
    len: u8,
    bytes: [u8; 16],
}

/// The country whose national rules apply to numbers written without a leading `+`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Country(country::Id);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is empty")]
    Empty,
    #[error("is not a phone number")]
    Unparseable,
    #[error("is not a valid phone number")]
    Invalid,
    #[error("has an extension, which a message or call cannot dial")]
    Extension,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO 3166 two-letter country code that phone numbers know")]
pub struct UnknownCountry(pub String);

impl E164 {
    /// Parses a number: a leading `+` is international, anything else follows the
    /// national rules of `country`.
    pub fn parse(input: &str, country: Country) -> Result<Self, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        let number =
            phonenumber::parse(Some(country.0), input).map_err(|_| PhoneError::Unparseable)?;
        if number.extension().is_some() {
            return Err(PhoneError::Extension);
        }
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        let formatted = number.format().mode(phonenumber::Mode::E164).to_string();
        Self::from_canonical(&formatted).ok_or(PhoneError::Invalid)
    }

    /// Takes a number already in E.164 form (as the emulator stores them) without the
    /// national-rules check; `None` when it is not `+` and up to 15 digits.
    pub fn from_canonical(formatted: &str) -> Option<Self> {
        let raw = formatted.as_bytes();
        if raw.len() < 2
            || raw.len() > 16
            || raw.first() != Some(&b'+')
            || !raw[1..].iter().all(u8::is_ascii_digit)
        {
            return None;
        }
        let mut bytes = [0u8; 16];
        bytes[..raw.len()].copy_from_slice(raw);
        Some(Self {
            len: raw.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only '+' and ASCII digits are ever stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("an E164 is ASCII")
    }
}

impl Country {
    pub const US: Country = Country(country::Id::US);

    pub fn code(&self) -> &str {
        self.0.as_ref()
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
        country::Id::from_str(&s.trim().to_ascii_uppercase())
            .map(Country)
            .map_err(|_| UnknownCountry(s.to_owned()))
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.as_str())
    }
}

impl Serialize for E164 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(input: &str) -> Result<String, PhoneError> {
        E164::parse(input, Country::US).map(|n| n.to_string())
    }

    #[test]
    fn national_formats_use_the_default_country() {
        for input in [
            "(415) 555-0123",
            "415-555-0123",
            "4155550123",
            "1 415 555 0123",
            " +1 415 555 0123 ",
        ] {
            assert_eq!(us(input).as_deref(), Ok("+14155550123"), "{input:?}");
        }
    }

    #[test]
    fn leading_plus_is_international_whatever_the_default_country() {
        let gb: Country = "gb".parse().unwrap();
        assert_eq!(
            E164::parse("+1 415 555 0123", gb).unwrap().as_str(),
            "+14155550123"
        );
        assert_eq!(
            E164::parse("020 7946 0018", gb).unwrap().as_str(),
            "+442079460018"
        );
        assert_eq!(us("+44 20 7946 0018").as_deref(), Ok("+442079460018"));
    }

    #[test]
    fn twilio_test_numbers_are_valid() {
        assert_eq!(us("+15005550001").as_deref(), Ok("+15005550001"));
        assert_eq!(us("+15005550006").as_deref(), Ok("+15005550006"));
    }

    #[test]
    fn bad_numbers_are_rejected() {
        let cases = [
            ("", PhoneError::Empty),
            ("   ", PhoneError::Empty),
            ("hello", PhoneError::Unparseable),
            ("123", PhoneError::Invalid),
            ("+15551234567", PhoneError::Invalid),
            ("+1 415 555 0123 ext 12", PhoneError::Extension),
        ];
        for (input, expected) in cases {
            assert_eq!(us(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn unknown_country_codes_are_rejected() {
        assert!("XX".parse::<Country>().is_err());
        assert!("".parse::<Country>().is_err());
        assert_eq!("us".parse::<Country>().unwrap().code(), "US");
    }
}
