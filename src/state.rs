//! What every request shares: the storage, the provider, and the org data held in memory.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore, SemaphorePermit, watch};

use crate::actions::ActionContext;
use crate::config::Secret;
use crate::domain::{OrgName, SalesforceId};
use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::org::{KeyTaken, Org, OrgDocument, Served};
use crate::storage::{Storage, StorageError};
use crate::voip::{Twilio, VoipProvider};

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Arc<dyn Storage>,
    voip: Arc<dyn VoipProvider>,
    /// The provider, when it is Twilio: its callbacks' signatures are checked with it.
    twilio: Option<Arc<Twilio>>,
    lifecycle: Arc<Lifecycle>,
    metrics: Arc<Metrics>,
    /// Every org served: read on every request without a lock; replaced whole.
    orgs: ArcSwap<Served>,
    /// Serialises org changes so the stored orgs and the ones in memory agree.
    org_writes: Mutex<()>,
    limits: Limits,
    admin: Admin,
    /// Turns true when the server starts shutting down, ending long-lived streams.
    stopping: watch::Sender<bool>,
    /// Permits for action and control requests in flight.
    in_flight: Arc<Semaphore>,
    /// Permits for the inputs of bulk calls being dispatched and stored, one per input.
    bulk_inputs: Semaphore,
}

/// How many full bulk calls are dispatched and stored at once; more wait their turn. Each
/// input holds its records, event and output until its call is stored, so this bounds the
/// memory that many concurrent bulk calls take, while enough of them run to fill the group
/// commits.
const BULK_CALLS_AT_ONCE: usize = 8;

/// The VoIP provider, and the same one as Twilio when it is Twilio (whose callbacks the HTTP
/// routes check with it).
pub struct Providers {
    pub voip: Arc<dyn VoipProvider>,
    pub twilio: Option<Arc<Twilio>>,
}

/// Who may use the `/_emulator/*` routes.
#[derive(Debug, Clone, Default)]
pub struct Admin {
    /// The bearer token those routes need, when set.
    pub token: Option<Secret>,
    /// The server listens beyond loopback without a token, and was not told that this is
    /// fine with API keys: anyone who reaches the port could replace the keys, so an org
    /// with keys is refused.
    pub keys_need_token: bool,
}

/// Bounds on what one request may ask for, and how long-lived responses behave.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// The most inputs one Salesforce-shaped call may carry.
    pub max_bulk_inputs: usize,
    /// How often an idle event stream gets a keep-alive comment.
    pub event_keep_alive: Duration,
    /// How long an idempotency key's answer is kept.
    pub idempotency_ttl: Duration,
    /// How long an action or control request may take, once its body is read.
    pub request_timeout: Duration,
    /// How long a client may take to send an action or control request's body.
    pub body_read_timeout: Duration,
    /// How many action and control requests run at once.
    pub max_concurrent_requests: usize,
    /// How many provider hand-offs one bulk call has in flight at once.
    pub provider_concurrency: usize,
}

impl AppState {
    pub fn new(
        storage: Arc<dyn Storage>,
        provider: Providers,
        lifecycle: Arc<Lifecycle>,
        metrics: Arc<Metrics>,
        orgs: Served,
        limits: Limits,
        admin: Admin,
    ) -> Self {
        let inner = Inner {
            storage,
            voip: provider.voip,
            twilio: provider.twilio,
            lifecycle,
            metrics,
            orgs: ArcSwap::from_pointee(orgs),
            org_writes: Mutex::new(()),
            limits,
            admin,
            stopping: watch::Sender::new(false),
            in_flight: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            bulk_inputs: Semaphore::new(BULK_CALLS_AT_ONCE * limits.max_bulk_inputs.max(1)),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The org `name` as it is now, if it is served; a request keeps the snapshot it
    /// started with.
    pub fn org(&self, name: &OrgName) -> Option<Arc<Org>> {
        self.inner.orgs.load().get(name).cloned()
    }

    /// Every org served, as they are now.
    pub fn orgs(&self) -> Arc<Served> {
        self.inner.orgs.load_full()
    }

    pub fn storage(&self) -> &dyn Storage {
        self.inner.storage.as_ref()
    }

    /// The storage, for work that outlives a request.
    pub fn storage_handle(&self) -> Arc<dyn Storage> {
        self.inner.storage.clone()
    }

    /// The Twilio provider, when it is the one in use.
    pub fn twilio(&self) -> Option<&Twilio> {
        self.inner.twilio.as_deref()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn lifecycle(&self) -> &Lifecycle {
        &self.inner.lifecycle
    }

    /// Applies lifecycle steps as they fall due, until the task is dropped.
    pub(crate) fn run_lifecycle(&self) -> impl Future<Output = ()> + Send + 'static {
        self.inner.lifecycle.clone().run(self.inner.storage.clone())
    }

    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    pub fn admin_token(&self) -> Option<&Secret> {
        self.inner.admin.token.as_ref()
    }

    /// Whether an org with API keys must be refused (see [`Admin::keys_need_token`]).
    pub fn keys_need_admin_token(&self) -> bool {
        self.inner.admin.keys_need_token
    }

    pub fn action_context<'a>(
        &'a self,
        org_name: &'a OrgName,
        org: &'a Org,
        invoker: Option<SalesforceId>,
    ) -> ActionContext<'a> {
        ActionContext {
            org_name,
            org,
            invoker,
            storage: self.inner.storage.clone(),
            voip: self.inner.voip.as_ref(),
            lifecycle: self.inner.lifecycle.clone(),
            provider_concurrency: self.inner.limits.provider_concurrency,
            metrics: &self.inner.metrics,
        }
    }

    /// A permit for one more action or control request, if the bound allows it.
    pub fn try_start_request(&self) -> Option<OwnedSemaphorePermit> {
        self.inner.in_flight.clone().try_acquire_owned().ok()
    }

    /// Waits until `inputs` more bulk inputs may be dispatched (at most `max_bulk_inputs`
    /// wait at once for one call, so a call is never refused for its size here).
    pub async fn admit_bulk_inputs(&self, inputs: usize) -> Option<SemaphorePermit<'_>> {
        let inputs = u32::try_from(inputs.min(self.inner.limits.max_bulk_inputs.max(1))).ok()?;
        // The semaphore is never closed.
        self.inner.bulk_inputs.acquire_many(inputs).await.ok()
    }

    /// Turns true when shutdown begins.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.inner.stopping.subscribe()
    }

    pub(crate) fn begin_stopping(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// Stores a validated org as `name` (creating the org, or replacing its data), then
    /// serves it. Other instances learn of it through the `org.replaced` event.
    pub async fn replace_org(&self, name: &OrgName, org: Org) -> Result<Arc<Org>, OrgWriteError> {
        let _guard = self.inner.org_writes.lock().await;
        let org = Arc::new(org);
        let served = self.inner.orgs.load().with(name.clone(), org.clone())?;
        match self.inner.storage.save_org(name, org.document()).await {
            Ok(()) => {}
            // Another instance gave one of its keys to another org meanwhile.
            Err(StorageError::Conflict(_)) => return Err(OrgWriteError::KeyHeldElsewhere),
            Err(error) => return Err(error.into()),
        }
        self.inner.orgs.store(Arc::new(served));
        Ok(org)
    }

    /// Serves the org `name` as the database holds it now (another instance created,
    /// replaced or deleted it).
    pub async fn reload_org(&self, name: &OrgName) -> Result<(), StorageError> {
        let _guard = self.inner.org_writes.lock().await;
        let served = self.inner.orgs.load_full();
        let Some(document) = self.inner.storage.load_org(name).await? else {
            self.inner.orgs.store(Arc::new(served.without(name)));
            return Ok(());
        };
        let next = Org::new(document)
            .map_err(|error| error.to_string())
            .and_then(|org| {
                served
                    .with(name.clone(), Arc::new(org))
                    .map_err(|taken| taken.to_string())
            });
        match next {
            Ok(next) => self.inner.orgs.store(Arc::new(next)),
            // Every writer validates first, so this is a database edited by hand, or two
            // instances that gave one key to two orgs at once.
            Err(error) => {
                tracing::error!(%name, %error, "the stored org cannot be served; keeping the one in memory")
            }
        }
        Ok(())
    }

    /// Removes the org `name` with everything it holds; `false` when there is none.
    pub async fn delete_org(&self, name: &OrgName) -> Result<bool, StorageError> {
        let _guard = self.inner.org_writes.lock().await;
        let deleted = self.inner.storage.delete_org(name).await?;
        let served = self.inner.orgs.load().without(name);
        self.inner.orgs.store(Arc::new(served));
        Ok(deleted)
    }

    /// Forgets all the org's activity; with `clear_org`, its data too (an empty org is
    /// stored, so a restart does not bring the demo org back).
    pub async fn reset(&self, name: &OrgName, clear_org: bool) -> Result<(), StorageError> {
        let _guard = self.inner.org_writes.lock().await;
        if !clear_org {
            return self.inner.storage.reset(name, None).await;
        }
        let empty = Arc::new(Org::new(OrgDocument::default()).expect("an empty org is valid"));
        self.inner
            .storage
            .reset(name, Some(empty.document()))
            .await?;
        // Served in place of the org it replaces, whose keys go with it; it takes none.
        let served = self.inner.orgs.load().with(name.clone(), empty);
        self.inner
            .orgs
            .store(Arc::new(served.expect("an org without keys takes none")));
        Ok(())
    }
}

/// Why an org could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum OrgWriteError {
    /// One of its API keys is another org's.
    #[error(transparent)]
    KeyTaken(#[from] KeyTaken),
    /// One of its API keys is another org's, as another instance stored it.
    #[error("an API key is already another org's")]
    KeyHeldElsewhere,
    #[error(transparent)]
    Storage(#[from] StorageError),
}
