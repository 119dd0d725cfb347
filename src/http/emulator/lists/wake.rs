//! Which events wake a long poll. Every change raises an event, but most events cannot
//! change a given poll's answer: re-running each waiting poll's query on every event made
//! 200 waiting polls cut action throughput by 78%. A poll re-runs its query only after an
//! event of a kind that comes with its list's writes, about a record its filters could match.

use std::sync::Arc;

use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::domain::objects::Direction;
use crate::domain::{DialledNumber, SalesforceId};
use crate::records::EventKind;
use crate::records::StoredEvent;
use crate::storage::{ListFilter, StatusFilter, StorageError};

/// The list a poll waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Messages,
    Calls,
    Tasks,
    VoipErrors,
    StatusLog,
    OptOuts,
}

impl List {
    /// The events raised in the transactions that add to this list or change its items
    /// (`src/storage/sql`). A reset only removes items and an org replacement changes none,
    /// so neither can end a wait for a match.
    fn kinds(self) -> &'static [EventKind] {
        use EventKind::*;
        match self {
            Self::Messages => &[SmsCreated, SmsStatusChanged, SmsReceived],
            Self::Calls => &[CallCreated, CallStatusChanged],
            // A Task is stored with the message or call it records.
            Self::Tasks => &[SmsCreated, SmsReceived, CallCreated],
            // An entry is logged with a refused message or call, or with a failure step.
            Self::VoipErrors => &[SmsCreated, SmsStatusChanged, CallCreated, CallStatusChanged],
            Self::StatusLog => &[UserStatusChanged],
            // An opt-out is stored with the inbound message that asks for it.
            Self::OptOuts => &[SmsReceived],
        }
    }

    /// Whether `event` may have given `filter` a match: false only when it cannot have.
    ///
    /// The payload of a message, call or status-log event is the record as the change left
    /// it, and every value these lists filter on (an Id, an E.164 number, a status name) is
    /// written there as a whole JSON string with nothing to escape. So the event of a record
    /// that matches holds each filtered value; a value found in another field only costs a
    /// query. The payload is searched, never parsed. An opt-out's customer and number are
    /// its inbound message's `fromPhone` and `toPhone`. Tasks and VoIP error entries are not
    /// their event's payload, so for them only the event's kind counts.
    pub(super) fn may_match(self, filter: &ListFilter, event: &StoredEvent) -> bool {
        if !self.kinds().contains(&event.kind) {
            return false;
        }
        match self {
            Self::Messages | Self::Calls | Self::StatusLog | Self::OptOuts => {
                filtered_values(filter).all(|value| holds_string(&event.payload, value))
            }
            Self::Tasks | Self::VoipErrors => true,
        }
    }
}

/// The values of the filters that an event's record shows as they are given; `since` is
/// left out (a timestamp is written in another form).
fn filtered_values(filter: &ListFilter) -> impl Iterator<Item = &str> {
    [
        filter.id.as_ref().map(SalesforceId::as_str),
        filter.to.as_ref().map(DialledNumber::as_str),
        filter.from.as_ref().map(DialledNumber::as_str),
        filter.user_id.as_ref().map(SalesforceId::as_str),
        filter.related_record_id.as_ref().map(SalesforceId::as_str),
        filter.status.map(StatusFilter::as_str),
        filter.direction.map(Direction::as_str),
    ]
    .into_iter()
    .flatten()
}

/// Whether `json` holds the string `value` (as a whole string, between its quotes).
fn holds_string(json: &str, value: &str) -> bool {
    json.match_indices(value)
        .any(|(at, _)| json[..at].ends_with('"') && json[at + value.len()..].starts_with('"'))
}

/// Runs `query` until it finds something: at once, then again after each event that
/// `wakes`, until `over` completes or no more events can come (the answer is then empty).
pub(super) async fn until_found<T, F>(
    mut changes: Receiver<Arc<StoredEvent>>,
    wakes: impl Fn(&StoredEvent) -> bool,
    over: impl Future<Output = ()>,
    query: impl Fn() -> F,
) -> Result<Vec<T>, StorageError>
where
    F: Future<Output = Result<Vec<T>, StorageError>>,
{
    let mut over = std::pin::pin!(over);
    loop {
        let found = query().await?;
        if !found.is_empty() {
            return Ok(found);
        }
        tokio::select! {
            woken = next_wake(&mut changes, &wakes) => if !woken {
                return Ok(found);
            },
            () = &mut over => return Ok(found),
        }
    }
}

/// Waits for an event that wakes the poll, then takes the events queued behind it: one
/// query for a burst (they were committed before the query runs, so it sees them). False
/// when the events have ended.
async fn next_wake(
    changes: &mut Receiver<Arc<StoredEvent>>,
    wakes: impl Fn(&StoredEvent) -> bool,
) -> bool {
    loop {
        match changes.recv().await {
            Ok(event) if wakes(&event) => break,
            Ok(_) => {}
            // The events missed may have matched.
            Err(RecvError::Lagged(_)) => break,
            Err(RecvError::Closed) => return false,
        }
    }
    while !matches!(
        changes.try_recv(),
        Err(TryRecvError::Empty | TryRecvError::Closed)
    ) {}
    true
}

#[cfg(test)]
mod tests;
