//! Persistence: one `Storage` trait, implemented once over SQL (`sql/`), which is compiled
//! for PostgreSQL (`postgres.rs`) and for the embedded SQLite default (`sqlite.rs`).
//!
//! Storage knows the records (`crate::records`) and the org document, nothing above them:
//! the lifecycle's rules ([`StepRules`]) and the events' JSON payloads ([`EncodeEvent`]) are
//! handed to [`connect`].

mod codec;
mod dialect;
mod error;
mod health;
mod postgres;
mod relay;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;

pub use error::StorageError;

use crate::domain::objects::{Direction, StatusType, TaskStatus};
use crate::domain::{
    CallStatus, DialledNumber, OrgName, ProviderError, SalesforceId, SmsStatus, Timestamp,
};
use crate::metrics::Metrics;
use crate::org::OrgDocument;
use crate::records::{
    Call, Change, HandOff, OptOut, OptOutChange, PendingStep, SmsMessage, StatusLogEntry,
    StoredEvent, Task, UserState, UserStatusValue, VoipErrorLog,
};

/// Everything the emulator keeps: the org data, user statuses and the events they raise.
/// The records the actions create are read and written through [`ActivityStore`].
#[async_trait]
pub trait Storage: ActivityStore + LifecycleStore + IdempotencyStore {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<(), StorageError>;
    /// Succeeds when the smallest write commits: a full disk fails it.
    async fn probe_write(&self) -> Result<(), StorageError>;
    /// Succeeds when requests can be served: [`connect`]'s storage also fails it while
    /// writes fail (`health.rs`); the bare SQL storage only pings.
    async fn ready(&self) -> Result<(), StorageError> {
        self.ping().await
    }

    /// The org's stored data, `None` when none was ever stored.
    async fn load_org(&self, org: &OrgName) -> Result<Option<OrgDocument>, StorageError>;
    /// Every org's stored data, by name.
    async fn load_orgs(&self) -> Result<Vec<(OrgName, OrgDocument)>, StorageError>;
    /// Every org, by name, with what it holds.
    async fn list_orgs(&self) -> Result<Vec<OrgSummary>, StorageError>;
    /// Removes the org with everything it holds; an `org.deleted` event tells every
    /// instance. `false` when there was no such org.
    async fn delete_org(&self, org: &OrgName) -> Result<bool, StorageError>;
    /// Replaces the org's data, or creates the org. Statuses set through the action since
    /// are forgotten (users start from the new org's), and an `org.replaced` event tells
    /// every instance.
    async fn save_org(&self, org: &OrgName, document: &OrgDocument) -> Result<(), StorageError>;
    /// Forgets all the org's activity (records, statuses, the status log, events, keys), and
    /// when `document` is given replaces the org's data with it, at once.
    async fn reset(
        &self,
        org: &OrgName,
        document: Option<&OrgDocument>,
    ) -> Result<(), StorageError>;

    /// A user's status as last set through the action; `None` when never set (the org's).
    async fn user_state(
        &self,
        org: &OrgName,
        user_id: SalesforceId,
    ) -> Result<Option<UserState>, StorageError>;
    /// Sets each user's status unless the user already has it, all in one transaction, in
    /// order: one outcome per change. Changes for one user are serialised, so each log
    /// entry's "from" is the previous entry's "to".
    async fn change_user_statuses(
        &self,
        org: &OrgName,
        changes: &[StatusChange],
    ) -> Result<Vec<StatusChangeOutcome>, StorageError>;
    async fn status_log_entry(
        &self,
        org: &OrgName,
        id: SalesforceId,
    ) -> Result<Option<StatusLogEntry>, StorageError>;
    async fn list_status_log(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<StatusLogEntry>, StorageError>;

    /// Live events from every instance sharing the database, in commit order.
    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>>;
    /// The connection pool and the event subscribers, as they are now.
    fn gauges(&self) -> StorageGauges;
    /// The org's stored events after `after` (a seq), oldest first: a reconnecting
    /// subscriber's catch-up.
    async fn events_after(
        &self,
        org: &OrgName,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StorageError>;
    /// Deletes events created before `before`.
    async fn prune_events(&self, before: Timestamp) -> Result<(), StorageError>;
}

/// The records the actions create: messages, calls, Tasks and VoIP error log entries.
#[async_trait]
pub trait ActivityStore: Send + Sync + 'static {
    /// Stores what one request created, with the events of its messages and calls
    /// (`*.created`, `sms.received` for an inbound message) and its opt-out changes, all or
    /// nothing, and returns once it is committed. The batch's steps that are
    /// already due (immediate progression) are taken in the same transaction. Concurrent
    /// writes may share a transaction (group commit), never a batch split across two.
    async fn write(&self, org: &OrgName, batch: Batch) -> Result<(), StorageError>;

    async fn sms_message(
        &self,
        org: &OrgName,
        id: SalesforceId,
    ) -> Result<Option<SmsMessage>, StorageError>;
    /// A message by the provider's id (`SM...`).
    async fn sms_message_by_provider_id(
        &self,
        org: &OrgName,
        provider_id: &str,
    ) -> Result<Option<SmsMessage>, StorageError>;
    async fn list_sms_messages(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<SmsMessage>, StorageError>;

    async fn call(&self, org: &OrgName, id: SalesforceId) -> Result<Option<Call>, StorageError>;
    /// A call by the provider's id (`CA...`).
    async fn call_by_provider_id(
        &self,
        org: &OrgName,
        provider_id: &str,
    ) -> Result<Option<Call>, StorageError>;
    async fn list_calls(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<Call>, StorageError>;

    async fn task(&self, org: &OrgName, id: SalesforceId) -> Result<Option<Task>, StorageError>;
    async fn list_tasks(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<Task>, StorageError>;

    async fn voip_error(
        &self,
        org: &OrgName,
        id: SalesforceId,
    ) -> Result<Option<VoipErrorLog>, StorageError>;
    async fn list_voip_errors(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<VoipErrorLog>, StorageError>;

    /// The org's opt-outs, newest first: `from` filters on the customer, `to` on the org's
    /// number.
    async fn list_opt_outs(
        &self,
        org: &OrgName,
        filter: &ListFilter,
    ) -> Result<Vec<OptOut>, StorageError>;
    /// Which of the `(org number, customer)` routes the customer opted out of, in one read.
    async fn opted_out(
        &self,
        org: &OrgName,
        routes: &[(DialledNumber, DialledNumber)],
    ) -> Result<Vec<(DialledNumber, DialledNumber)>, StorageError>;
}

/// How messages and calls move on: the provider's steps, applied exactly once, by the
/// [`StepRules`] the storage was opened with.
#[async_trait]
pub trait LifecycleStore: Send + Sync + 'static {
    /// Applies up to `limit` steps due at `now`, oldest first. Each step is applied once,
    /// even with several instances sharing the database; a step that no longer applies (the
    /// record moved on, or is gone) is dropped, and so is a step whose row cannot be read,
    /// which the result reports.
    async fn run_due_steps(&self, now: Timestamp, limit: u32) -> Result<StepsRun, StorageError>;
    /// When the earliest pending step is due.
    async fn next_step_due(&self) -> Result<Option<Timestamp>, StorageError>;
    /// Moves a message to `to` now, as its provider would report it.
    async fn move_sms(
        &self,
        org: &OrgName,
        id: SalesforceId,
        to: SmsStatus,
        error: Option<ProviderError>,
    ) -> Result<Moved<SmsMessage, SmsStatus>, StorageError>;
    /// Moves a call to `to` now, as its provider would report it.
    async fn move_call(
        &self,
        org: &OrgName,
        id: SalesforceId,
        to: CallStatus,
        error: Option<ProviderError>,
    ) -> Result<Moved<Call, CallStatus>, StorageError>;
}

/// Idempotency keys: a retry with the same key and request gets the first answer.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims a key for a request, or finds what its first request did. Concurrent claims
    /// of one key: one gets it, the others find it running.
    async fn claim_key(&self, claim: &KeyClaim<'_>) -> Result<Claim, StorageError>;
    /// Stores a claimed key's answer (when no batch carried it).
    async fn answer_key(
        &self,
        org: &OrgName,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StorageError>;
    /// Gives up a claim whose request stored nothing, so a retry runs it.
    async fn release_key(&self, org: &OrgName, key: &str) -> Result<(), StorageError>;
    /// Forgets keys created before `before`.
    async fn prune_keys(&self, before: Timestamp) -> Result<(), StorageError>;
}

/// What storage asks of the lifecycle while it moves a record, inside the transaction.
/// Given to [`connect`].
pub trait StepRules: Send + Sync {
    /// The provider named in VoIP error log entries of later failures.
    fn provider(&self) -> &str;
    /// The step a message takes after the status it has now, if its provider reports one.
    fn next_sms_step(&self, message: &SmsMessage, now: Timestamp) -> Option<PendingStep>;
    /// The step a call takes after the status it has now.
    fn next_call_step(&self, call: &Call, now: Timestamp) -> Option<PendingStep>;
}

/// The result of moving a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Moved<R, S> {
    /// The record as it is now.
    Done(R),
    NotFound,
    /// No provider could report that move from the record's current status.
    NotAllowed {
        current: S,
    },
}

/// Turns a change into its event's JSON payload. The payloads are the public JSON shapes,
/// which live above storage: `connect`'s caller hands this in.
pub type EncodeEvent = fn(&Change<'_>) -> String;

/// Everything one request creates, committed together or not at all. Storing a message or
/// a call also raises its `*.created` event, in the same transaction.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub messages: Vec<SmsMessage>,
    pub calls: Vec<Call>,
    pub tasks: Vec<Task>,
    pub voip_errors: Vec<VoipErrorLog>,
    /// The first step of each accepted message or call, when the provider will report one.
    pub steps: Vec<PendingStep>,
    /// The provider's answers for messages and calls stored before their hand-off: each
    /// record takes the provider's id, or fails with its error (a VoIP error log entry and a
    /// `*.status_changed` event), and drops the step that would have failed it had the
    /// answer never come.
    pub hand_offs: Vec<HandOff>,
    /// What keywords in inbound messages did to the opt-outs, in the order they came.
    pub opt_outs: Vec<OptOutChange>,
    /// The answer to store under the request's idempotency key, with the records, so that a
    /// retry gets it exactly when the records exist.
    pub answer: Option<KeyedAnswer>,
}

impl Batch {
    /// Moves another batch's records into this one.
    pub fn append(&mut self, mut other: Batch) {
        self.messages.append(&mut other.messages);
        self.calls.append(&mut other.calls);
        self.tasks.append(&mut other.tasks);
        self.voip_errors.append(&mut other.voip_errors);
        self.steps.append(&mut other.steps);
        self.hand_offs.append(&mut other.hand_offs);
        self.opt_outs.append(&mut other.opt_outs);
        if other.answer.is_some() {
            self.answer = other.answer;
        }
    }

    /// Nothing to store: no records, and no answer to keep under an idempotency key (a bulk
    /// call whose every input failed its checks stores only its answer).
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
            && self.calls.is_empty()
            && self.tasks.is_empty()
            && self.voip_errors.is_empty()
            && self.hand_offs.is_empty()
            && self.opt_outs.is_empty()
            && self.answer.is_none()
    }
}

/// An HTTP answer kept for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    /// The JSON body.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedAnswer {
    pub key: String,
    pub answer: StoredAnswer,
}

/// A request's claim of an idempotency key, in its org.
#[derive(Debug, Clone, Copy)]
pub struct KeyClaim<'a> {
    pub org: &'a OrgName,
    pub key: &'a str,
    /// What identifies the request: the same key with another fingerprint is a mismatch.
    pub fingerprint: &'a str,
    pub now: Timestamp,
    /// A claim not answered by `now + lease` is taken to have died and can be claimed again.
    pub lease: Duration,
    /// A key created before this is forgotten and claimed afresh.
    pub expired_before: Timestamp,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: run it, then store its answer.
    Claimed,
    /// The key's first request answered this.
    Answered(StoredAnswer),
    /// The key was first used for a different request.
    Mismatch,
    /// The key's first request is still running.
    Running,
}

/// An org and how much it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSummary {
    pub name: OrgName,
    /// Counts its replacements: 1 when created.
    pub version: i64,
    pub updated_at: Timestamp,
    pub messages: i64,
    pub calls: i64,
    pub tasks: i64,
    pub status_changes: i64,
    pub voip_errors: i64,
    pub opt_outs: i64,
}

/// A request to set a user's status.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub user_id: SalesforceId,
    /// The status the org data gives the user, used when it was never changed.
    pub initial: UserStatusValue,
    pub to: UserStatusValue,
    pub changed_by: Option<SalesforceId>,
    /// The Id the log entry gets if the status really changes.
    pub log_id: SalesforceId,
}

/// What setting a status did: nothing (the user already had it), or one logged change.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChangeOutcome {
    pub previous: UserState,
    /// The log entry of a real change; `None` when nothing changed.
    pub logged: Option<StatusLogEntry>,
}

/// What `run_due_steps` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepsRun {
    /// How many steps were taken up (applied, or dropped as no longer applying).
    pub taken: usize,
    /// Steps whose stored row cannot be read: each is dropped, and reported here so that
    /// the runner logs it.
    pub unreadable: Vec<UnreadableStep>,
}

/// A pending step whose stored row the emulator cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableStep {
    pub seq: i64,
    pub reason: String,
}

/// Filters of the inspection lists; each list applies those that fit its items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// One item, by its record Id: with `status` and `wait`, "wait until this one is ...".
    pub id: Option<SalesforceId>,
    pub to: Option<DialledNumber>,
    pub from: Option<DialledNumber>,
    pub user_id: Option<SalesforceId>,
    pub related_record_id: Option<SalesforceId>,
    pub status: Option<StatusFilter>,
    /// Messages: Inbound or Outbound.
    pub direction: Option<Direction>,
    pub since: Option<Timestamp>,
    pub limit: u32,
}

/// A list's status filter: a status of the list's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Message(SmsStatus),
    Call(CallStatus),
    Task(TaskStatus),
    /// The status type a status-log entry changed to.
    User(StatusType),
}

impl StatusFilter {
    /// The status's name, as stored and as event payloads show it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Message(status) => status.as_str(),
            Self::Call(status) => status.as_str(),
            Self::Task(status) => status.as_str(),
            Self::User(status) => status.as_str(),
        }
    }
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct StorageOptions {
    pub max_connections: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
    /// Where the group committer counts its transactions' sizes.
    pub metrics: Arc<Metrics>,
}

impl Default for StorageOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            metrics: Arc::default(),
        }
    }
}

/// The storage's state now, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageGauges {
    pub connections_in_use: u32,
    pub connections_idle: u32,
    /// Receivers of this instance's committed events (event streams, the org follower).
    pub subscribers: usize,
}

/// Opens the database the URL names (`postgres://...` or `sqlite:...`) and brings its
/// schema up to date. Messages and calls move on by `rules`; events carry the payloads
/// `encode` makes.
pub async fn connect(
    url: &str,
    options: &StorageOptions,
    rules: Arc<dyn StepRules>,
    encode: EncodeEvent,
) -> Result<Arc<dyn Storage>, StorageError> {
    let storage: Arc<dyn Storage> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(postgres::connect(url, options, rules, encode).await?)
        } else if url.starts_with("sqlite:") {
            Arc::new(sqlite::connect(url, options, rules, encode).await?)
        } else {
            return Err(StorageError::Config(format!(
                "unsupported database URL `{}`: use postgres://... or sqlite:...",
                redact_url(url)
            )));
        };
    Ok(Arc::new(health::Guarded::new(storage)))
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
