//! Events: what `GET /_emulator/events` streams. Storage raises them in the transaction
//! that makes them true, so an event exists exactly when its change was committed.

use serde::Serialize;

use crate::storage::{Call, SmsMessage, StatusLogEntry};
use crate::views::{CallItem, MessageItem, StatusLogItem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    SmsCreated,
    SmsStatusChanged,
    CallCreated,
    CallStatusChanged,
    UserStatusChanged,
    /// The org data was replaced: every instance reloads it.
    OrgReplaced,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        Self::SmsCreated,
        Self::SmsStatusChanged,
        Self::CallCreated,
        Self::CallStatusChanged,
        Self::UserStatusChanged,
        Self::OrgReplaced,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SmsCreated => "sms.created",
            Self::SmsStatusChanged => "sms.status_changed",
            Self::CallCreated => "call.created",
            Self::CallStatusChanged => "call.status_changed",
            Self::UserStatusChanged => "user_status.changed",
            Self::OrgReplaced => "org.replaced",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name.trim())
    }
}

/// An event to store: its kind and its JSON payload (the item the inspection API shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub payload: String,
}

impl NewEvent {
    pub fn sms_created(message: &SmsMessage) -> Self {
        Self::new(EventKind::SmsCreated, MessageItem::from(message))
    }

    /// The message as it is after the change.
    pub fn sms_status_changed(message: &SmsMessage) -> Self {
        Self::new(EventKind::SmsStatusChanged, MessageItem::from(message))
    }

    pub fn call_created(call: &Call) -> Self {
        Self::new(EventKind::CallCreated, CallItem::from(call))
    }

    /// The call as it is after the change.
    pub fn call_status_changed(call: &Call) -> Self {
        Self::new(EventKind::CallStatusChanged, CallItem::from(call))
    }

    pub fn user_status_changed(entry: &StatusLogEntry) -> Self {
        Self::new(EventKind::UserStatusChanged, StatusLogItem::from(entry))
    }

    /// `version` counts the replacements, so subscribers can tell a stale notice.
    pub fn org_replaced(version: i64) -> Self {
        Self::new(
            EventKind::OrgReplaced,
            serde_json::json!({ "version": version }),
        )
    }

    fn new(kind: EventKind, payload: impl Serialize) -> Self {
        // The views hold only strings, numbers and Ids: they always serialise.
        let payload = serde_json::to_string(&payload).expect("views serialise to JSON");
        Self { kind, payload }
    }
}
