//! The orgs one server serves side by side (SPEC 11), by name, with the index that tells
//! which org an API key belongs to: a key is unique on the server.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::Org;
use crate::domain::OrgName;

/// Every org served, by name. Replaced whole on a change, so a request reads a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Served {
    by_name: HashMap<OrgName, Arc<Org>>,
    /// Which org holds each API key, by its [`key_digest`]: keys are looked up without
    /// keeping them in a second place.
    keys: HashMap<String, OrgName>,
}

/// An org cannot take a key another org holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("apiKeys[{index}].key is already the key of another org ({holder})")]
pub struct KeyTaken {
    pub index: usize,
    pub holder: OrgName,
}

impl Served {
    pub fn get(&self, name: &OrgName) -> Option<&Arc<Org>> {
        self.by_name.get(name)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &OrgName> {
        self.by_name.keys()
    }

    /// Whether any org has API keys.
    pub fn any_api_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The org that holds `key`, if one does.
    pub fn holder_of_key(&self, key: &str) -> Option<&OrgName> {
        self.keys.get(&key_digest(key))
    }

    /// These orgs, with `org` served as `name` (created, or replacing the org of that name);
    /// refused when `org` has a key that another org holds.
    pub fn with(&self, name: OrgName, org: Arc<Org>) -> Result<Self, KeyTaken> {
        let mut next = self.without(&name);
        for (index, api_key) in org.document().api_keys.iter().enumerate() {
            if let Some(holder) = next.keys.insert(key_digest(&api_key.key), name.clone())
                && holder != name
            {
                return Err(KeyTaken { index, holder });
            }
        }
        next.by_name.insert(name, org);
        Ok(next)
    }

    /// These orgs without the org `name`, and without its keys.
    pub fn without(&self, name: &OrgName) -> Self {
        let mut next = self.clone();
        if next.by_name.remove(name).is_some() {
            next.keys.retain(|_, holder| holder != name);
        }
        next
    }
}

impl From<KeyTaken> for super::InvalidOrg {
    fn from(taken: KeyTaken) -> Self {
        Self {
            problems: vec![super::OrgProblem {
                path: format!("apiKeys[{}].key", taken.index),
                message: format!("is already the key of another org ({})", taken.holder),
            }],
        }
    }
}

/// An API key as it is indexed and stored beside its org: its SHA-256, in hex.
pub fn key_digest(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{OrgDocument, OrgFormat};

    fn org_with_key(key: &str) -> Arc<Org> {
        let yaml = format!(
            "users: [{{id: 005Dn0000001AdaIAE, name: Ada, fastcallUser: true}}]\n\
             apiKeys: [{{key: {key}, userId: 005Dn0000001AdaIAE}}]"
        );
        let document = OrgDocument::parse(yaml.as_bytes(), OrgFormat::Yaml).unwrap();
        Arc::new(Org::new(document).unwrap())
    }

    fn name(raw: &str) -> OrgName {
        OrgName::parse(raw).unwrap()
    }

    #[test]
    fn a_key_belongs_to_one_org() {
        let served = Served::default()
            .with(name("qa"), org_with_key("qa-key-123"))
            .unwrap();
        assert_eq!(served.holder_of_key("qa-key-123"), Some(&name("qa")));
        assert_eq!(served.holder_of_key("qa-key-12"), None);
        let taken = served
            .with(name("uat"), org_with_key("qa-key-123"))
            .unwrap_err();
        assert_eq!(
            taken,
            KeyTaken {
                index: 0,
                holder: name("qa")
            }
        );
        // Replacing the org that holds it keeps the key; removing the org frees it.
        let replaced = served.with(name("qa"), org_with_key("qa-key-123")).unwrap();
        assert_eq!(replaced.len(), 1);
        let freed = served.without(&name("qa"));
        assert!(freed.is_empty() && freed.holder_of_key("qa-key-123").is_none());
        assert!(freed.with(name("uat"), org_with_key("qa-key-123")).is_ok());
    }
}
