//! What the emulator knows of its database's health, in front of every storage call.
//!
//! - **An outage is answered at once.** The first call that finds the database unreachable
//!   waits as long as the pool lets it (`--db-acquire-timeout-ms`); from then on every call
//!   fails at once with that error, while a probe pings the database every
//!   [`PROBE_INTERVAL`] and lets calls through again as soon as it answers.
//! - **Failing writes make the service not ready.** A write the database could not store
//!   (a full disk) is answered 503 like any other, and `/readyz` answers 503 until a write
//!   commits again: a real one, or the probe write `/readyz` makes while writes fail.
//!   Reads are not held back: they still work on a full disk.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use async_trait::async_trait;
use tokio::sync::broadcast;

use super::{
    ActivityStore, Batch, Claim, IdempotencyStore, KeyClaim, LifecycleStore, ListFilter, Moved,
    OrgSummary, StatusChange, StatusChangeOutcome, StepsRun, Storage, StorageError, StorageGauges,
    StoredAnswer,
};
use crate::domain::{
    CallStatus, DialledNumber, OrgName, ProviderError, SalesforceId, SmsStatus, Timestamp,
};
use crate::org::OrgDocument;
use crate::records::{
    Call, OptOut, SmsMessage, StatusLogEntry, StoredEvent, Task, UserState, VoipErrorLog,
};

/// How often the probe looks for a database that went away.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// How long one probe waits for an answer: a database that hangs is not back.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// A storage whose calls fail at once while its database is known to be down.
pub(super) struct Guarded {
    inner: Arc<dyn Storage>,
    health: Arc<Health>,
}

#[derive(Default)]
struct Health {
    /// The error that showed the database unreachable, while it is; `None` when up.
    outage: ArcSwapOption<sqlx::Error>,
    /// Set by a write the database could not store, cleared by one it stored.
    writes_failing: AtomicBool,
}

/// What a call's success tells of writes.
#[derive(Clone, Copy)]
enum Access {
    /// It succeeds only once it has stored something: writes commit again.
    Commits,
    /// Nothing: it reads, or may well have had nothing to write.
    Other,
}

impl Guarded {
    pub(super) fn new(inner: Arc<dyn Storage>) -> Self {
        Self {
            inner,
            health: Arc::default(),
        }
    }

    /// Fails at once while the database is known to be down.
    fn check(&self) -> Result<(), StorageError> {
        match self.health.outage.load_full() {
            Some(cause) => Err(StorageError::Unavailable(cause)),
            None => Ok(()),
        }
    }

    /// Learns from a call's outcome.
    fn observe<T>(&self, access: Access, outcome: &Result<T, StorageError>) {
        let failing = &self.health.writes_failing;
        match (outcome, access) {
            (Err(StorageError::Unavailable(cause)), _) => self.trip(cause.clone()),
            (Err(StorageError::CannotWrite(_)), _) if !failing.swap(true, Ordering::Relaxed) => {
                tracing::warn!(
                    "the database cannot store writes (is its disk full?): not ready until one commits"
                );
            }
            (Ok(_), Access::Commits) if failing.swap(false, Ordering::Relaxed) => {
                tracing::info!("the database stores writes again");
            }
            _ => {}
        }
    }

    /// Marks the database down and, unless one runs already, starts a probe that marks it
    /// up again once it answers.
    fn trip(&self, cause: Arc<sqlx::Error>) {
        if self.health.outage.swap(Some(cause.clone())).is_some() {
            return;
        }
        tracing::warn!(error = %cause, "the database is unreachable: failing requests at once until it answers");
        let storage = Arc::downgrade(&self.inner);
        let health = self.health.clone();
        tokio::spawn(probe(storage, health));
    }
}

/// Pings until the database answers, then lets calls through. Ends early when the storage
/// is dropped.
async fn probe(storage: Weak<dyn Storage>, health: Arc<Health>) {
    loop {
        tokio::time::sleep(PROBE_INTERVAL).await;
        let Some(storage) = storage.upgrade() else {
            return;
        };
        if let Ok(Ok(())) = tokio::time::timeout(PROBE_TIMEOUT, storage.ping()).await {
            health.outage.store(None);
            tracing::info!("the database answers again");
            return;
        }
    }
}

/// Implements a storage trait by passing each call on to `inner` between `check` and
/// `observe`.
macro_rules! guarded {
    (impl $trait:ident { $(
        $access:ident async fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;
    )* } $($extra:item)*) => {
        #[async_trait]
        impl $trait for Guarded {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    self.check()?;
                    let outcome = self.inner.$name($($arg),*).await;
                    self.observe(Access::$access, &outcome);
                    outcome
                }
            )*
            $($extra)*
        }
    };
}

guarded! {
    impl Storage {
        Other async fn ping(&self) -> Result<(), StorageError>;
        Other async fn load_org(&self, org: &OrgName) -> Result<Option<OrgDocument>, StorageError>;
        Other async fn load_orgs(&self) -> Result<Vec<(OrgName, OrgDocument)>, StorageError>;
        Other async fn list_orgs(&self) -> Result<Vec<OrgSummary>, StorageError>;
        Commits async fn delete_org(&self, org: &OrgName) -> Result<bool, StorageError>;
        Commits async fn save_org(&self, org: &OrgName, document: &OrgDocument) -> Result<(), StorageError>;
        Commits async fn reset(&self, org: &OrgName, document: Option<&OrgDocument>) -> Result<(), StorageError>;
        Other async fn user_state(&self, org: &OrgName, user_id: SalesforceId) -> Result<Option<UserState>, StorageError>;
        Other async fn change_user_statuses(&self, org: &OrgName, changes: &[StatusChange]) -> Result<Vec<StatusChangeOutcome>, StorageError>;
        Other async fn status_log_entry(&self, org: &OrgName, id: SalesforceId) -> Result<Option<StatusLogEntry>, StorageError>;
        Other async fn list_status_log(&self, org: &OrgName, filter: &ListFilter) -> Result<Vec<StatusLogEntry>, StorageError>;
        Other async fn events_after(&self, org: &OrgName, after: i64, limit: u32) -> Result<Vec<StoredEvent>, StorageError>;
        Other async fn prune_events(&self, before: Timestamp) -> Result<(), StorageError>;
        Commits async fn probe_write(&self) -> Result<(), StorageError>;
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.inner.subscribe()
    }

    fn gauges(&self) -> StorageGauges {
        self.inner.gauges()
    }

    /// Not ready while the database is down, nor while writes fail and a probe write does
    /// not commit.
    async fn ready(&self) -> Result<(), StorageError> {
        if self.health.writes_failing.load(Ordering::Relaxed) {
            self.probe_write().await
        } else {
            self.ping().await
        }
    }
}

guarded! {
    impl ActivityStore {
        Commits async fn write(&self, org: &OrgName, batch: Batch) -> Result<(), StorageError>;
        Other async fn sms_message(&self, org: &OrgName, id: SalesforceId) -> Result<Option<SmsMessage>, StorageError>;
        Other async fn sms_message_by_provider_id(&self, org: &OrgName, provider_id: &str) -> Result<Option<SmsMessage>, StorageError>;
        Other async fn list_sms_messages(&self, org: &OrgName, filter: &ListFilter) -> Result<Vec<SmsMessage>, StorageError>;
        Other async fn call(&self, org: &OrgName, id: SalesforceId) -> Result<Option<Call>, StorageError>;
        Other async fn call_by_provider_id(&self, org: &OrgName, provider_id: &str) -> Result<Option<Call>, StorageError>;
        Other async fn list_calls(&self, org: &OrgName, filter: &ListFilter) -> Result<Vec<Call>, StorageError>;
        Other async fn task(&self, org: &OrgName, id: SalesforceId) -> Result<Option<Task>, StorageError>;
        Other async fn list_tasks(&self, org: &OrgName, filter: &ListFilter) -> Result<Vec<Task>, StorageError>;
        Other async fn voip_error(&self, org: &OrgName, id: SalesforceId) -> Result<Option<VoipErrorLog>, StorageError>;
        Other async fn list_voip_errors(&self, org: &OrgName, filter: &ListFilter) -> Result<Vec<VoipErrorLog>, StorageError>;
        Other async fn list_opt_outs(&self, org: &OrgName, filter: &ListFilter) -> Result<Vec<OptOut>, StorageError>;
        Other async fn opted_out(&self, org: &OrgName, routes: &[(DialledNumber, DialledNumber)]) -> Result<Vec<(DialledNumber, DialledNumber)>, StorageError>;
    }
}

guarded! {
    impl LifecycleStore {
        Other async fn run_due_steps(&self, now: Timestamp, limit: u32) -> Result<StepsRun, StorageError>;
        Other async fn next_step_due(&self) -> Result<Option<Timestamp>, StorageError>;
        Other async fn move_sms(&self, org: &OrgName, id: SalesforceId, to: SmsStatus, error: Option<ProviderError>) -> Result<Moved<SmsMessage, SmsStatus>, StorageError>;
        Other async fn move_call(&self, org: &OrgName, id: SalesforceId, to: CallStatus, error: Option<ProviderError>) -> Result<Moved<Call, CallStatus>, StorageError>;
    }
}

guarded! {
    impl IdempotencyStore {
        Other async fn claim_key(&self, claim: &KeyClaim<'_>) -> Result<Claim, StorageError>;
        Other async fn answer_key(&self, org: &OrgName, key: &str, answer: &StoredAnswer) -> Result<(), StorageError>;
        Other async fn release_key(&self, org: &OrgName, key: &str) -> Result<(), StorageError>;
        Other async fn prune_keys(&self, before: Timestamp) -> Result<(), StorageError>;
    }
}
