//! Salesforce object types, their key prefixes, and the picklists the actions use.

use serde::{Deserialize, Serialize};

/// An sObject type the emulator creates or reads, with its fixed key prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectType {
    pub api_name: &'static str,
    pub key_prefix: &'static str,
}

pub const USER: ObjectType = ObjectType {
    api_name: "User",
    key_prefix: "005",
};
pub const GROUP: ObjectType = ObjectType {
    api_name: "Group",
    key_prefix: "00G",
};
pub const TASK: ObjectType = ObjectType {
    api_name: "Task",
    key_prefix: "00T",
};
pub const CONTACT: ObjectType = ObjectType {
    api_name: "Contact",
    key_prefix: "003",
};
pub const LEAD: ObjectType = ObjectType {
    api_name: "Lead",
    key_prefix: "00Q",
};

// The emulator's own custom objects. A managed package fixes its prefixes; these are the
// emulator's (docs/org-data.md lists them).
pub const SMS_MESSAGE: ObjectType = ObjectType {
    api_name: "FastCall__SMS_Message__c",
    key_prefix: "a0S",
};
pub const CALL: ObjectType = ObjectType {
    api_name: "FastCall__Call__c",
    key_prefix: "a0C",
};
pub const VOIP_ERROR_LOG: ObjectType = ObjectType {
    api_name: "FastCall__VoIP_Error_Log__c",
    key_prefix: "a0E",
};
pub const STATUS_LOG: ObjectType = ObjectType {
    api_name: "FastCall__User_Status_Log__c",
    key_prefix: "a0L",
};

/// Standard objects that org records may belong to, by key prefix.
const STANDARD_RECORD_OBJECTS: [(&str, &str); 5] = [
    ("001", "Account"),
    ("003", "Contact"),
    ("006", "Opportunity"),
    ("00Q", "Lead"),
    ("500", "Case"),
];

/// The standard object a key prefix stands for, when it is one the emulator knows.
pub fn standard_object_for_prefix(key_prefix: &str) -> Option<&'static str> {
    STANDARD_RECORD_OBJECTS
        .iter()
        .find(|(p, _)| *p == key_prefix)
        .map(|(_, name)| *name)
}

/// Whether a Task relates to a record through `WhoId` (people) rather than `WhatId`.
pub fn is_who(key_prefix: &str) -> bool {
    key_prefix == CONTACT.key_prefix || key_prefix == LEAD.key_prefix
}

/// A Fastcall user's availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatusType {
    Available,
    Offline,
}

impl StatusType {
    pub const NAMES: &'static [&'static str] = &["Available", "Offline"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "Available",
            Self::Offline => "Offline",
        }
    }

    /// Case-insensitive, as Flow authors type picklist values by hand.
    pub fn parse(input: &str) -> Option<Self> {
        [Self::Available, Self::Offline]
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(input.trim()))
    }
}

/// The kinds of IVR a Fastcall org can define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IvrType {
    Menu,
    CallTransfer,
    Voicemail,
    TimeBasedRouting,
    PlayDirectory,
}
