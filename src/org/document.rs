//! The org data file, as users write it (YAML or JSON, camelCase) and as the emulator
//! exports it. Parsing checks each value's form; `Org::new` checks how they fit together.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::objects::{IvrType, StatusType};
use crate::domain::{Country, SalesforceId};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgDocument {
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub user_statuses: Vec<UserStatus>,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(default)]
    pub sms_templates: Vec<SmsTemplate>,
    #[serde(default)]
    pub ivrs: Vec<Ivr>,
    #[serde(default)]
    pub records: Vec<Record>,
    /// Never exported: see [`OrgDocument::exported`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_keys: Vec<ApiKey>,
}

impl OrgDocument {
    /// The org as `GET /_emulator/org` shows it: each API key replaced by a fingerprint that
    /// tells the keys apart without giving them away.
    pub fn exported(&self) -> ExportedOrg {
        let mut document = self.clone();
        let api_keys = std::mem::take(&mut document.api_keys)
            .iter()
            .map(KeyFingerprint::of)
            .collect();
        ExportedOrg { document, api_keys }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedOrg {
    #[serde(flatten)]
    document: OrgDocument,
    api_keys: Vec<KeyFingerprint>,
}

/// `{"keyFingerprint": "sha256:1f2e3d4c", "userId": "005..."}`: the first 8 hex digits of the
/// key's SHA-256, as `sha256sum` prints them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyFingerprint {
    key_fingerprint: String,
    user_id: SalesforceId,
}

impl KeyFingerprint {
    fn of(api_key: &ApiKey) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(api_key.key.as_bytes());
        let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            key_fingerprint: format!("sha256:{hex}"),
            user_id: api_key.user_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "yes")]
    pub sms_enabled: bool,
    #[serde(default = "yes")]
    pub voice_enabled: bool,
    #[serde(default, with = "country_code")]
    pub default_country: Country,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_user_id: Option<SalesforceId>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sms_enabled: true,
            voice_enabled: true,
            default_country: Country::US,
            default_user_id: None,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub id: SalesforceId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default = "yes")]
    pub fastcall_user: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_ids: Vec<SalesforceId>,
    /// The user's Fastcall status when the org is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_status_id: Option<SalesforceId>,
    /// The user's availability when no `userStatusId` is set (emulator extension; default Offline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_type: Option<StatusType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Group {
    pub id: SalesforceId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserStatus {
    pub id: SalesforceId,
    pub name: String,
    pub status_type: StatusType,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhoneNumber {
    pub id: SalesforceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// As written; `Org::new` normalises it to E.164.
    pub number: String,
    #[serde(default)]
    pub sms: bool,
    #[serde(default)]
    pub mms: bool,
    #[serde(default)]
    pub voice: bool,
    #[serde(default)]
    pub outbound_sms: bool,
    #[serde(default)]
    pub caller_id: bool,
    pub assignment: Assignment,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_ids: Vec<SalesforceId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_ids: Vec<SalesforceId>,
}

/// Who may use a phone number as caller ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assignment {
    User,
    Group,
    Org,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsTemplate {
    pub id: SalesforceId,
    pub name: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ivr {
    pub id: SalesforceId,
    pub name: String,
    #[serde(rename = "type")]
    pub ivr_type: IvrType,
}

/// A record of the org (Contact, Lead, Account, ...) that actions relate to and read fields
/// from. Its object type comes from the Id's key prefix, or from `type` for other objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Record {
    pub id: SalesforceId,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKey {
    pub key: String,
    pub user_id: SalesforceId,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("key", &"***")
            .field("user_id", &self.user_id)
            .finish()
    }
}

mod country_code {
    use super::*;

    pub fn serialize<S: Serializer>(country: &Country, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(country.code())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Country, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}
