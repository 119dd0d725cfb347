//! Where the database relays committed events to every instance (PostgreSQL's NOTIFY),
//! the events this instance committed itself, kept for its relay until their announcement
//! arrives: the relay hands them on without reading them back from the table, and reads
//! only what other instances committed (or what it missed).
//!
//! An announcement can outrun the commit it announces: PostgreSQL notifies the listening
//! connection as it commits, before the committer has read its answer and kept its events.
//! So the group commit, which stores every message and call, keeps a ticket while it is
//! under way (`committing`), and the relay, when it is announced seqs it does not have, first
//! waits for the commits under way then to end (`settled`): only what is still missing after
//! that is read back, such as the events of other instances and of this one's other writes
//! (status changes and moves, which take no ticket).
//!
//! The relay names the highest seq it has handed on; seqs grow in commit order
//! (`Dialect::INSERT_EVENTS`), so every event at or below it was handed on or never will be
//! (its transaction was rolled back). Events at or below it are dropped, on arrival and
//! once the relay moves on, so nothing is kept for an announcement that never comes.

use std::collections::{BTreeMap, BTreeSet};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use crate::records::StoredEvent;

/// The most events kept: past it, the newest are left to be read back, as if another
/// instance had committed them.
const KEPT: usize = 4_096;

/// This instance's committed events, until the relay takes them.
#[derive(Default)]
pub(in crate::storage) struct OwnEvents {
    kept: Mutex<Kept>,
    /// Told when a commit ends.
    ended: Notify,
}

#[derive(Default)]
struct Kept {
    events: BTreeMap<i64, Arc<StoredEvent>>,
    /// The highest seq the relay has handed on.
    relayed: i64,
    /// The tickets of the commits under way.
    under_way: BTreeSet<u64>,
    /// The next commit's ticket.
    next_ticket: u64,
}

/// A commit under way, until it is dropped: once it has kept its events, or failed.
pub(in crate::storage) struct Committing {
    own: Arc<OwnEvents>,
    ticket: u64,
}

impl Drop for Committing {
    fn drop(&mut self) {
        self.own.kept().under_way.remove(&self.ticket);
        self.own.ended.notify_waiters();
    }
}

impl OwnEvents {
    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A commit that may store events begins; it keeps them (`committed`) before the ticket
    /// is dropped.
    pub(in crate::storage) fn committing(self: &Arc<Self>) -> Committing {
        let mut kept = self.kept();
        let ticket = kept.next_ticket;
        kept.next_ticket += 1;
        kept.under_way.insert(ticket);
        Committing {
            own: self.clone(),
            ticket,
        }
    }

    /// Waits until every commit under way now has ended.
    pub(in crate::storage) async fn settled(&self) {
        let begun = self.kept().next_ticket;
        loop {
            let mut ended = pin!(self.ended.notified());
            ended.as_mut().enable();
            if self
                .kept()
                .under_way
                .first()
                .is_none_or(|first| *first >= begun)
            {
                return;
            }
            ended.await;
        }
    }

    /// Keeps committed events for the relay.
    pub(in crate::storage) fn committed(&self, events: Vec<StoredEvent>) {
        let mut kept = self.kept();
        for event in events {
            if event.seq > kept.relayed && kept.events.len() < KEPT {
                kept.events.insert(event.seq, Arc::new(event));
            }
        }
    }

    /// Takes the announced events this instance committed, in seq order; the seqs of the
    /// others stay in `seqs`, to be read.
    pub(in crate::storage) fn take(&self, seqs: &mut Vec<i64>) -> Vec<Arc<StoredEvent>> {
        let mut kept = self.kept();
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
    pub(in crate::storage) fn relayed(&self, seq: i64) {
        let mut kept = self.kept();
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

    #[tokio::test]
    async fn the_relay_waits_for_the_commits_under_way_and_only_those() {
        let own = Arc::new(OwnEvents::default());
        // Nothing under way: settled at once.
        own.settled().await;
        let first = own.committing();
        let waiting = tokio::spawn({
            let own = own.clone();
            async move { own.settled().await }
        });
        tokio::task::yield_now().await;
        // A commit begun after the wait began is not waited for.
        let later = own.committing();
        assert!(!waiting.is_finished());
        own.committed(vec![event(9)]);
        drop(first);
        waiting.await.unwrap();
        let mut announced = vec![9];
        assert_eq!(seqs(&own.take(&mut announced)), [9]);
        drop(later);
        own.settled().await;
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
