//! Org data: the users, groups, statuses, phone numbers, templates, IVRs and records an
//! org holds. Validated whole (`Org::new`), then read through indexes on the request path.

mod document;
mod served;
mod validate;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

pub use document::{
    ApiKey, Assignment, Group, Ivr, OrgDocument, PhoneNumber, Record, Settings, SmsTemplate, User,
    UserStatus,
};
pub use served::{KeyTaken, Served, key_digest};

use crate::domain::{DialledNumber, SalesforceId};

/// The built-in demo org's source, served when a database has no org yet.
pub const DEMO_ORG_YAML: &str = include_str!("demo.yaml");

/// An org's index, read on the request path. Hashed with foldhash, seeded per process,
/// not SipHash: its keys (Ids and numbers) come from the org's own data, and each request
/// looks several up, where SipHash costs more than the lookup.
type Index<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A validated org, indexed for lookups.
#[derive(Debug)]
pub struct Org {
    document: OrgDocument,
    /// Normalised numbers, parallel to `document.phone_numbers`.
    numbers: Vec<DialledNumber>,
    number_index: Index<DialledNumber, usize>,
    users: Index<SalesforceId, usize>,
    groups: Index<SalesforceId, usize>,
    statuses: Index<SalesforceId, usize>,
    templates: Index<SalesforceId, usize>,
    ivrs: Index<SalesforceId, usize>,
    /// Index into `document.records` and the record's object type.
    records: Index<SalesforceId, (usize, String)>,
    /// The records each number is in a phone field of, dialled by the org's rule.
    by_phone: Index<DialledNumber, Vec<SalesforceId>>,
}

/// Why org data was refused: every problem found, each naming its entry and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid org data: {}", join(.problems))]
pub struct InvalidOrg {
    pub problems: Vec<OrgProblem>,
}

/// One problem in org data: `path` names the entry and field (`phoneNumbers[2].number`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgProblem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for OrgProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

fn join(problems: &[OrgProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl InvalidOrg {
    fn single(path: String, message: String) -> Self {
        Self {
            problems: vec![OrgProblem { path, message }],
        }
    }
}

/// The input format of org data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgFormat {
    Json,
    Yaml,
}

impl OrgDocument {
    /// Parses org data, naming the field of the first value that does not fit.
    pub fn parse(input: &[u8], format: OrgFormat) -> Result<Self, InvalidOrg> {
        let not_a_mapping = || {
            InvalidOrg::single(
                String::new(),
                "invalid type: org data must be a mapping of sections (settings, users, ...)"
                    .into(),
            )
        };
        let parsed = match format {
            OrgFormat::Json => {
                // serde would read an array as the sections in order; nobody means that.
                if input.trim_ascii_start().first() != Some(&b'{') {
                    return Err(not_a_mapping());
                }
                let mut de = serde_json::Deserializer::from_slice(input);
                serde_path_to_error::deserialize(&mut de)
                    .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
            }
            OrgFormat::Yaml => {
                let value: serde_norway::Value = serde_norway::from_slice(input)
                    .map_err(|e| InvalidOrg::single(String::new(), e.to_string()))?;
                if !value.is_mapping() {
                    return Err(not_a_mapping());
                }
                serde_path_to_error::deserialize(value)
                    .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
            }
        };
        parsed.map_err(|(path, message)| {
            // serde_path_to_error writes "." for the root.
            let path = if path == "." { String::new() } else { path };
            InvalidOrg::single(path, message)
        })
    }
}

impl Org {
    /// Checks that the document's entries fit together, normalising phone numbers.
    pub fn new(document: OrgDocument) -> Result<Self, InvalidOrg> {
        validate::validate(document)
    }

    pub fn demo() -> Self {
        let document = OrgDocument::parse(DEMO_ORG_YAML.as_bytes(), OrgFormat::Yaml)
            .expect("the demo org parses");
        Self::new(document).expect("the demo org is valid")
    }

    /// The org as it would be exported: Ids in 18-character form, numbers in E.164.
    pub fn document(&self) -> &OrgDocument {
        &self.document
    }

    pub fn settings(&self) -> &Settings {
        &self.document.settings
    }

    pub fn user(&self, id: SalesforceId) -> Option<&User> {
        self.users.get(&id).map(|&i| &self.document.users[i])
    }

    pub fn group(&self, id: SalesforceId) -> Option<&Group> {
        self.groups.get(&id).map(|&i| &self.document.groups[i])
    }

    pub fn user_status(&self, id: SalesforceId) -> Option<&UserStatus> {
        self.statuses
            .get(&id)
            .map(|&i| &self.document.user_statuses[i])
    }

    pub fn template(&self, id: SalesforceId) -> Option<&SmsTemplate> {
        self.templates
            .get(&id)
            .map(|&i| &self.document.sms_templates[i])
    }

    pub fn ivr(&self, id: SalesforceId) -> Option<&Ivr> {
        self.ivrs.get(&id).map(|&i| &self.document.ivrs[i])
    }

    pub fn record(&self, id: SalesforceId) -> Option<RecordRef<'_>> {
        self.records.get(&id).map(|(i, object_type)| RecordRef {
            id,
            object_type,
            fields: &self.document.records[*i].fields,
        })
    }

    /// The org's phone numbers in file order, each with its normalised number.
    pub fn phone_numbers(&self) -> impl Iterator<Item = (DialledNumber, &PhoneNumber)> {
        self.numbers
            .iter()
            .copied()
            .zip(&self.document.phone_numbers)
    }

    /// The records that hold `number` in one of their phone fields (see
    /// [`is_phone_field`]), in file order, each once.
    pub fn records_with_phone(&self, number: DialledNumber) -> &[SalesforceId] {
        self.by_phone.get(&number).map_or(&[], Vec::as_slice)
    }

    pub fn phone_number(&self, number: DialledNumber) -> Option<&PhoneNumber> {
        self.number_index
            .get(&number)
            .map(|&i| &self.document.phone_numbers[i])
    }

    pub fn has_api_keys(&self) -> bool {
        !self.document.api_keys.is_empty()
    }

    /// The user an API key belongs to. Compares against every key in constant time per key,
    /// so the answer's timing does not tell how much of a guess was right.
    pub fn user_for_api_key(&self, presented: &str) -> Option<SalesforceId> {
        use subtle::ConstantTimeEq;
        let mut found = None;
        for api_key in &self.document.api_keys {
            if bool::from(api_key.key.as_bytes().ct_eq(presented.as_bytes())) {
                found = Some(api_key.user_id);
            }
        }
        found
    }
}

/// Whether a record's field holds a phone number: Salesforce's phone fields are named so
/// (`Phone`, `MobilePhone`, `HomePhone`, `OtherPhone`, `AssistantPhone`), and so, by
/// convention, are custom ones (`Work_Phone__c`).
pub fn is_phone_field(name: &str) -> bool {
    let name = name.strip_suffix("__c").unwrap_or(name);
    name.len() >= 5 && name[name.len() - 5..].eq_ignore_ascii_case("phone")
}

/// A record of the org, with its object type.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    pub id: SalesforceId,
    pub object_type: &'a str,
    pub fields: &'a BTreeMap<String, serde_json::Value>,
}

impl<'a> RecordRef<'a> {
    /// A field's value as text; field names are case-insensitive, as in Salesforce.
    /// Empty for a null value, `None` for a field the record does not have.
    pub fn field(&self, name: &str) -> Option<Cow<'a, str>> {
        let value = self.fields.get(name).or_else(|| {
            self.fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })?;
        Some(scalar_text(value))
    }
}

/// The text of a scalar field value (validation admits no arrays or objects).
fn scalar_text(value: &serde_json::Value) -> Cow<'_, str> {
    match value {
        serde_json::Value::String(s) => Cow::Borrowed(s),
        serde_json::Value::Null => Cow::Borrowed(""),
        other => Cow::Owned(other.to_string()),
    }
}

impl User {
    /// A merge-field value of `{!User.Field}`: Id, Name, FirstName, LastName or Email.
    pub fn field(&self, name: &str) -> Option<&str> {
        let (first, last) = match self.name.split_once(' ') {
            Some((first, last)) => (first, last),
            None => ("", self.name.as_str()),
        };
        let value = match name {
            _ if name.eq_ignore_ascii_case("Id") => self.id.as_str(),
            _ if name.eq_ignore_ascii_case("Name") => self.name.as_str(),
            _ if name.eq_ignore_ascii_case("FirstName") => first,
            _ if name.eq_ignore_ascii_case("LastName") => last,
            _ if name.eq_ignore_ascii_case("Email") => self.email.as_deref().unwrap_or(""),
            _ => return None,
        };
        Some(value)
    }
}

#[cfg(test)]
mod tests;
