//! The name of one of the server's orgs (SPEC 11): what `/orgs/{name}` addresses.

use std::fmt;
use std::sync::{Arc, LazyLock};

/// An org's name: 1 to [`OrgName::MAX_LEN`] ASCII letters, digits, `-` and `_`, compared
/// exactly (`QA` and `qa` are two orgs, as two URL paths are). Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgName(Arc<str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgNameError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {} characters", OrgName::MAX_LEN)]
    TooLong,
    #[error("holds `{0}`: an org name takes letters, digits, `-` and `_`")]
    Character(char),
}

static DEFAULT: LazyLock<OrgName> = LazyLock::new(|| OrgName(Arc::from("default")));

impl OrgName {
    pub const MAX_LEN: usize = 64;

    /// The org the root routes serve.
    pub fn default_org() -> Self {
        DEFAULT.clone()
    }

    pub fn parse(name: &str) -> Result<Self, OrgNameError> {
        if name.is_empty() {
            return Err(OrgNameError::Empty);
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(OrgNameError::Character(bad));
        }
        if name.len() > Self::MAX_LEN {
            return Err(OrgNameError::TooLong);
        }
        Ok(Self(Arc::from(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as the `Arc` every clone shares.
    pub fn shared(&self) -> &Arc<str> {
        &self.0
    }

    pub fn is_default(&self) -> bool {
        *self == *DEFAULT
    }
}

impl fmt::Display for OrgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgName({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_letters_digits_dashes_and_underscores_up_to_64() {
        for name in ["default", "qa", "UAT-2", "ci_job_1234", &"x".repeat(64)] {
            assert_eq!(OrgName::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(OrgName::parse(""), Err(OrgNameError::Empty));
        assert_eq!(OrgName::parse(&"x".repeat(65)), Err(OrgNameError::TooLong));
        for (name, bad) in [
            ("a b", ' '),
            ("a/b", '/'),
            ("..", '.'),
            ("é", 'é'),
            ("a%2F", '%'),
        ] {
            assert_eq!(
                OrgName::parse(name),
                Err(OrgNameError::Character(bad)),
                "{name}"
            );
        }
    }

    #[test]
    fn the_default_org_is_named_default_and_names_are_exact() {
        assert!(OrgName::default_org().is_default());
        assert!(OrgName::parse("default").unwrap().is_default());
        assert!(!OrgName::parse("Default").unwrap().is_default());
        assert_ne!(OrgName::parse("QA"), OrgName::parse("qa"));
    }
}
