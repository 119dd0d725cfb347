//! What the emulator counts (SPEC 13), for `GET /metrics` in Prometheus' text format:
//! requests by route and status, action outcomes, latencies, provider hand-offs, lifecycle
//! steps, group-commit sizes, and at each scrape the database pool, the event subscribers
//! and the orgs. One [`Metrics`] per application, so that two in one process (the tests)
//! count apart.

use std::fmt;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// A request, by the route template it matched.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

/// An action call: its org, the action, how it ended (`ok`, `exception` with the
/// APIException code, `error` with the platform `errorCode`) and that code (`""` for ok).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    pub org: String,
    pub action: &'static str,
    pub outcome: &'static str,
    pub code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionNameLabels {
    pub action: &'static str,
}

/// A hand-off to the provider: `accepted`, `refused` (the provider's error) or `unanswered`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandOffLabels {
    pub provider: &'static str,
    pub kind: &'static str,
    pub outcome: &'static str,
}

/// A provider's refusal, by its error code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    pub provider: &'static str,
    pub code: i32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds, from half a millisecond to about 16 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Histograms<RouteLabels>,
    pub actions: Family<ActionLabels, Counter>,
    pub action_seconds: Histograms<ActionNameLabels>,
    pub hand_offs: Family<HandOffLabels, Counter>,
    pub refusals: Family<RefusalLabels, Counter>,
    pub lifecycle_steps: Counter,
    /// Writes per group-commit transaction.
    pub group_commit_writes: Histogram,
    pub pool_connections: Family<PoolLabels, Gauge>,
    pub event_subscribers: Gauge,
    pub orgs: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("fastcall");
        let metrics = Self {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency),
            actions: Family::default(),
            action_seconds: Family::new_with_constructor(latency),
            hand_offs: Family::default(),
            refusals: Family::default(),
            lifecycle_steps: Counter::default(),
            group_commit_writes: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            pool_connections: Family::default(),
            event_subscribers: Gauge::default(),
            orgs: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            metrics.request_seconds.clone(),
        );
        registry.register(
            "action_calls",
            "Action calls (direct and Salesforce-shaped), by org, action, outcome and error code",
            metrics.actions.clone(),
        );
        registry.register(
            "action_duration_seconds",
            "Time to answer an action call, by action",
            metrics.action_seconds.clone(),
        );
        registry.register(
            "provider_hand_offs",
            "Messages and calls handed to the VoIP provider, by provider, kind and outcome",
            metrics.hand_offs.clone(),
        );
        registry.register(
            "provider_refusals",
            "The VoIP provider's refusals, by provider and error code",
            metrics.refusals.clone(),
        );
        registry.register(
            "lifecycle_steps",
            "Lifecycle steps taken by the step runner (applied or dropped)",
            metrics.lifecycle_steps.clone(),
        );
        registry.register(
            "group_commit_writes",
            "Writes (one request's records each) per group-commit transaction",
            metrics.group_commit_writes.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections held, by state (idle, in_use)",
            metrics.pool_connections.clone(),
        );
        registry.register(
            "event_subscribers",
            "Open event streams and other subscribers of this instance's event relay",
            metrics.event_subscribers.clone(),
        );
        registry.register("orgs", "Orgs this instance serves", metrics.orgs.clone());
        Self {
            registry,
            ..metrics
        }
    }

    /// Everything counted, in Prometheus' text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(8 * 1024);
        // Writing to a String does not fail.
        let _ = prometheus_text::encode(&mut text, &self.registry);
        text
    }
}
