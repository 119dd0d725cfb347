//! Events: what `GET /_emulator/events` streams. Storage raises them in the transaction
//! that makes them true, so an event exists exactly when its change was committed; their
//! payloads are the items the inspection API shows, made here: those of messages, calls and
//! status changes, one for every change, by the views' own JSON writer (`views::json`).

use crate::records::Change;
use crate::views::json::to_string;
use crate::views::{CallItem, MessageItem, StatusLogItem, to_json};

/// The JSON payload of a change's event: the record as the change left it, as the
/// inspection API shows it. Handed to `storage::connect`.
pub fn payload(change: &Change<'_>) -> String {
    match *change {
        Change::SmsCreated(message)
        | Change::SmsStatusChanged(message)
        | Change::SmsReceived(message) => to_string(&MessageItem::from(message)),
        Change::CallCreated(call) | Change::CallStatusChanged(call) => {
            to_string(&CallItem::from(call))
        }
        Change::UserStatusChanged(entry) => to_string(&StatusLogItem::from(entry)),
        Change::OrgReplaced { version } => to_json(&serde_json::json!({ "version": version })),
        Change::OrgDeleted => "{}".to_owned(),
    }
}
