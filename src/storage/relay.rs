//! Where the database relays committed events to every instance (PostgreSQL's NOTIFY),
//! the events this instance committed itself, kept for its relay until their announcement
//! arrives: the relay hands them on without reading them back from the table, and reads
//! only what other instances committed (or what it missed).
//!
//! The relay names the highest seq it has handed on; seqs grow in commit order
//! (`Dialect::INSERT_EVENTS`), so every event at or below it was handed on or never will be
//! (its transaction was rolled back). Events at or below it are dropped, on arrival and
//! once the relay moves on, so nothing is kept for an announcement that never comes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::records::StoredEvent;

/// The most events kept: past it, the newest are left to be read back, as if another
/// instance had committed them.
const KEPT: usize = 4_096;

/// This instance's committed events, until the relay takes them.
#[derive(Default)]
pub(super) struct OwnEvents(Mutex<Kept>);

#[derive(Default)]
struct Kept {
    events: BTreeMap<i64, Arc<StoredEvent>>,
    /// The highest seq the relay has handed on.
    relayed: i64,
}

impl OwnEvents {
    /// Keeps committed events for the relay.
    pub(super) fn committed(&self, events: Vec<StoredEvent>) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for event in events {
            if event.seq > kept.relayed && kept.events.len() < KEPT {
                kept.events.insert(event.seq, Arc::new(event));
            }
        }
    }

    /// Takes the announced events this instance committed, in seq order; the seqs of the
    /// others stay in `seqs`, to be read.
    pub(super) fn take(&self, seqs: &mut Vec<i64>) -> Vec<Arc<StoredEvent>> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.events.is_empty() {
            return Vec::new();
        }
        let mut taken = Vec::with_capacity(seqs.len());
        seqs.retain(|seq| match kept.events.remove(seq) {
            Some(event) => {
                taken.push(event);
                false
            }
            None => true,
        });
        taken.sort_unstable_by_key(|event| event.seq);
        taken
    }

    /// The relay has handed on every event up to `seq`.
    pub(super) fn relayed(&self, seq: i64) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if seq > kept.relayed {
            kept.relayed = seq;
            kept.events = kept.events.split_off(&(seq + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrgName, Timestamp};
    use crate::records::EventKind;

    fn event(seq: i64) -> StoredEvent {
        StoredEvent {
            seq,
            org: OrgName::default_org(),
            kind: EventKind::SmsCreated,
            payload: "{}".into(),
            created_at: Timestamp::from_millis(0),
        }
    }

    fn seqs(events: &[Arc<StoredEvent>]) -> Vec<i64> {
        events.iter().map(|event| event.seq).collect()
    }

    #[test]
    fn the_relay_takes_its_own_events_and_is_left_the_others_to_read() {
        let own = OwnEvents::default();
        own.committed(vec![event(3), event(5)]);
        let mut announced = vec![5, 4, 3];
        assert_eq!(seqs(&own.take(&mut announced)), [3, 5]);
        assert_eq!(announced, [4]);
        // Taken once.
        let mut again = vec![3, 5];
        assert!(own.take(&mut again).is_empty());
        assert_eq!(again, [3, 5]);
    }

    #[test]
    fn nothing_is_kept_at_or_below_what_the_relay_handed_on() {
        let own = OwnEvents::default();
        // A rolled-back transaction's events are never announced.
        own.committed(vec![event(1), event(2), event(7)]);
        own.relayed(6);
        let mut announced = vec![1, 2, 7];
        assert_eq!(seqs(&own.take(&mut announced)), [7]);
        // Events that arrive after the relay read them back are not kept.
        own.committed(vec![event(6)]);
        let mut late = vec![6];
        assert!(own.take(&mut late).is_empty());
        assert_eq!(late, [6]);
    }
}
