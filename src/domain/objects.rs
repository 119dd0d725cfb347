//! Salesforce object types, their key prefixes, and the picklists the actions use.

use serde::{Deserialize, Serialize};

/// An sObject type the emulator creates or reads, with its fixed key prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectType {
    pub api_name: &'static str,
    pub key_prefix: &'static str,
}

pub const USER: ObjectType = ObjectType::new("User", "005");
pub const GROUP: ObjectType = ObjectType::new("Group", "00G");
pub const TASK: ObjectType = ObjectType::new("Task", "00T");
pub const CONTACT: ObjectType = ObjectType::new("Contact", "003");
pub const LEAD: ObjectType = ObjectType::new("Lead", "00Q");

// The emulator's own custom objects. A managed package fixes its prefixes; these are the
// emulator's (docs/org-data.md lists them).
pub const SMS_MESSAGE: ObjectType = ObjectType::new("FastCall__SMS_Message__c", "a0S");
pub const CALL: ObjectType = ObjectType::new("FastCall__Call__c", "a0C");
pub const VOIP_ERROR_LOG: ObjectType = ObjectType::new("FastCall__VoIP_Error_Log__c", "a0E");
pub const STATUS_LOG: ObjectType = ObjectType::new("FastCall__User_Status_Log__c", "a0L");

/// The objects above, which stored records name by API name.
const KNOWN: [ObjectType; 9] = [
    USER,
    GROUP,
    TASK,
    CONTACT,
    LEAD,
    SMS_MESSAGE,
    CALL,
    VOIP_ERROR_LOG,
    STATUS_LOG,
];

impl ObjectType {
    const fn new(api_name: &'static str, key_prefix: &'static str) -> Self {
        Self {
            api_name,
            key_prefix,
        }
    }

    pub const fn as_str(self) -> &'static str {
        self.api_name
    }

    /// One of the objects above, by its API name.
    pub fn parse(api_name: &str) -> Option<Self> {
        KNOWN.into_iter().find(|o| o.api_name == api_name)
    }
}

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
    pub const ALL: &'static [StatusType] = &[Self::Available, Self::Offline];
    pub const NAMES: &'static [&'static str] = &["Available", "Offline"];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Available => "Available",
            Self::Offline => "Offline",
        }
    }

    /// Case-insensitive, as Flow authors type picklist values by hand.
    pub fn parse(input: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
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

picklist! {
    /// `Task.Status`: Salesforce's standard values (the emulator's Tasks are Completed).
    TaskStatus {
        NotStarted => "Not Started",
        InProgress => "In Progress",
        Completed => "Completed",
        WaitingOnSomeoneElse => "Waiting on someone else",
        Deferred => "Deferred",
    }
}

picklist! {
    /// `Task.Priority`.
    TaskPriority {
        High => "High",
        Normal => "Normal",
        Low => "Low",
    }
}

picklist! {
    /// `Task.TaskSubtype`: what kind of activity the Task records.
    TaskSubtype {
        Task => "Task",
        Email => "Email",
        ListEmail => "ListEmail",
        Cadence => "Cadence",
        Call => "Call",
    }
}

picklist! {
    /// `Task.CallType`.
    CallType {
        Inbound => "Inbound",
        Outbound => "Outbound",
        Internal => "Internal",
    }
}

picklist! {
    /// Which way a message went: the actions' messages and calls are Outbound, what a
    /// customer texts to one of the org's numbers is Inbound.
    Direction {
        Inbound => "Inbound",
        Outbound => "Outbound",
    }
}
