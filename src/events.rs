//! Events: what `GET /_emulator/events` streams. Storage raises them in the transaction
//! that makes them true, so an event exists exactly when its change was committed; their
//! payloads are the items the inspection API shows, made here.

use serde::Serialize;

use crate::records::Change;
use crate::views::{CallItem, MessageItem, StatusLogItem};

/// The JSON payload of a change's event: the record as the change left it, as the
/// inspection API shows it. Handed to `storage::connect`.
pub fn payload(change: &Change<'_>) -> String {
    match *change {
        Change::SmsCreated(message)
        | Change::SmsStatusChanged(message)
        | Change::SmsReceived(message) => json(&MessageItem::from(message)),
        Change::CallCreated(call) | Change::CallStatusChanged(call) => json(&CallItem::from(call)),
        Change::UserStatusChanged(entry) => json(&StatusLogItem::from(entry)),
        Change::OrgReplaced { version } => json(&serde_json::json!({ "version": version })),
        Change::OrgDeleted => "{}".to_owned(),
    }
}

fn json(payload: &impl Serialize) -> String {
    // The views hold only strings, numbers and Ids: they always serialise.
    serde_json::to_string(payload).expect("views serialise to JSON")
}
