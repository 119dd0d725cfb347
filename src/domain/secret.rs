//! Secrets from the settings (the admin token, Twilio's auth token): kept out of `Debug`
//! output, and so out of every log, and compared in constant time.

use std::fmt;
use std::str::FromStr;

/// A secret: shown as `***` in `Debug`, so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The token in `path`, without the line break that ends it.
    pub fn read_from(path: &std::path::Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        let token = text.trim_end_matches(['\n', '\r']);
        token.parse().map_err(|reason: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the token {reason}"),
            )
        })
    }

    /// Compares in constant time for equal lengths.
    pub fn matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A token is sent as `Bearer <token>`: visible characters only, so none can be lost to
/// the whitespace HTTP trims.
impl FromStr for Secret {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err("must not be empty");
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be visible ASCII characters, without spaces");
        }
        Ok(Self(s.to_owned()))
    }
}
