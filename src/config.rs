//! Settings: every one has a flag and an environment variable (`--help` lists them).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Parser, ValueEnum};

use crate::lifecycle::Progression;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite:fastcall-emulator.db";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_MAX_BULK_INPUTS: usize = 200;
pub const DEFAULT_DB_MAX_CONNECTIONS: u32 = 16;
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 10;
pub const DEFAULT_EVENT_KEEP_ALIVE_SECS: u64 = 15;
pub const DEFAULT_EVENT_RETENTION_SECS: u64 = 3600;
pub const DEFAULT_STEP_DELAY_MS: u64 = 1000;
pub const DEFAULT_IDEMPOTENCY_TTL_SECS: u64 = 24 * 60 * 60;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 5;
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 512;
pub const DEFAULT_DB_ACQUIRE_TIMEOUT_MS: u64 = 3000;
pub const DEFAULT_PROVIDER_CONCURRENCY: usize = 16;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "fastcall-emulator",
    version,
    about = "A stateful local emulator of the Fastcall Subscriber API: SMS/MMS, calls and user status, \
             as Salesforce invocable actions and as plain REST.",
    after_help = "With no options it serves http://127.0.0.1:8080 from ./fastcall-emulator.db (SQLite) with \
                  the built-in demo org."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FASTCALL_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: SocketAddr,

    /// Database: sqlite:PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,

    /// Org data to load at start (YAML, or JSON for a .json file), replacing the stored org.
    /// Without it the stored org is served, or the built-in demo org when none is stored.
    #[arg(long, env = "FASTCALL_ORG", value_name = "FILE")]
    pub org: Option<PathBuf>,

    /// Token that every /_emulator/* request must send as `Authorization: Bearer <token>`.
    /// Prefer --admin-token-file or the variable: a flag's value shows in `ps`.
    #[arg(
        long,
        env = "FASTCALL_ADMIN_TOKEN",
        hide_env_values = true,
        conflicts_with = "admin_token_file"
    )]
    pub admin_token: Option<Secret>,

    /// File holding the admin token (a trailing newline is ignored), for secrets mounted as
    /// files (Docker, Kubernetes).
    #[arg(long, env = "FASTCALL_ADMIN_TOKEN_FILE", value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,

    /// Serve /_emulator/* without an admin token on an address beyond loopback even when the
    /// org has API keys (anyone who reaches the port could then replace the keys). Without
    /// it, the emulator refuses to start, and to take API keys, in that setup.
    #[arg(long, env = "FASTCALL_ALLOW_OPEN_ADMIN")]
    pub allow_open_admin: bool,

    /// The VoIP provider that sends messages and places calls.
    #[arg(long, env = "FASTCALL_PROVIDER", value_enum, default_value_t = Provider::Simulated)]
    pub provider: Provider,

    /// Milliseconds the simulated provider takes to answer each request (a real provider's
    /// network round trip), for testing timeouts and slow paths.
    #[arg(long, env = "FASTCALL_PROVIDER_LATENCY_MS", default_value_t = 0)]
    pub provider_latency_ms: u64,

    /// How messages and calls move on after the provider accepted them: every step at once
    /// (`immediate`), one step per --step-delay-ms (`timed`), or only through
    /// POST /_emulator/{messages,calls}/{id}/status (`manual`).
    #[arg(long, env = "FASTCALL_PROGRESSION", value_enum, default_value_t = Progression::Timed)]
    pub progression: Progression,

    /// Milliseconds between the steps of a message or call in timed progression.
    #[arg(long, env = "FASTCALL_STEP_DELAY_MS", default_value_t = DEFAULT_STEP_DELAY_MS)]
    pub step_delay_ms: u64,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "FASTCALL_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Most inputs accepted in one Salesforce-shaped action call.
    #[arg(long, env = "FASTCALL_MAX_BULK_INPUTS", default_value_t = DEFAULT_MAX_BULK_INPUTS)]
    pub max_bulk_inputs: usize,

    /// Most database connections held open.
    #[arg(long, env = "FASTCALL_DB_MAX_CONNECTIONS", default_value_t = DEFAULT_DB_MAX_CONNECTIONS)]
    pub db_max_connections: u32,

    /// Milliseconds a request waits for a database connection before it fails with 503 (so
    /// that an unreachable database fails requests fast).
    #[arg(long, env = "FASTCALL_DB_ACQUIRE_TIMEOUT_MS", default_value_t = DEFAULT_DB_ACQUIRE_TIMEOUT_MS)]
    pub db_acquire_timeout_ms: u64,

    /// Seconds an action or control request may take before it fails with 503. Long polls
    /// (`wait=`) and the event stream are bounded by their own limits instead.
    #[arg(long, env = "FASTCALL_REQUEST_TIMEOUT_SECS", default_value_t = DEFAULT_REQUEST_TIMEOUT_SECS)]
    pub request_timeout_secs: u64,

    /// Most action and control requests handled at once; more get 503 at once.
    #[arg(long, env = "FASTCALL_MAX_CONCURRENT_REQUESTS", default_value_t = DEFAULT_MAX_CONCURRENT_REQUESTS)]
    pub max_concurrent_requests: usize,

    /// Seconds a client may take to send a request's headers before its connection is closed.
    #[arg(long, env = "FASTCALL_HEADER_READ_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_READ_TIMEOUT_SECS)]
    pub header_read_timeout_secs: u64,

    /// Seconds a client may take to send an action or control request's body, counted apart
    /// from --request-timeout-secs; slower gets 408. The body is read before the request
    /// takes one of --max-concurrent-requests.
    #[arg(long, env = "FASTCALL_BODY_READ_TIMEOUT_SECS", default_value_t = DEFAULT_BODY_READ_TIMEOUT_SECS)]
    pub body_read_timeout_secs: u64,

    /// Seconds that in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "FASTCALL_SHUTDOWN_GRACE_SECS", default_value_t = DEFAULT_SHUTDOWN_GRACE_SECS)]
    pub shutdown_grace_secs: u64,

    /// Seconds an Idempotency-Key's first answer is kept for retries.
    #[arg(long, env = "FASTCALL_IDEMPOTENCY_TTL_SECS", default_value_t = DEFAULT_IDEMPOTENCY_TTL_SECS)]
    pub idempotency_ttl_secs: u64,

    /// Seconds between keep-alive comments on an idle event stream.
    #[arg(long, env = "FASTCALL_EVENT_KEEP_ALIVE_SECS", default_value_t = DEFAULT_EVENT_KEEP_ALIVE_SECS)]
    pub event_keep_alive_secs: u64,

    /// Seconds events are kept for replay to reconnecting subscribers (`Last-Event-ID`).
    #[arg(long, env = "FASTCALL_EVENT_RETENTION_SECS", default_value_t = DEFAULT_EVENT_RETENTION_SECS)]
    pub event_retention_secs: u64,

    /// Ask the emulator listening on --addr whether it is up (`/livez`), exit 0 if so, 1 if
    /// not, instead of serving: for container health checks.
    #[arg(long)]
    pub healthcheck: bool,

    /// Log filter, in tracing's EnvFilter syntax (`info`, `fastcall_emulator=debug`, ...).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log: String,

    /// Most provider hand-offs one bulk call has in flight at once; its outputs keep the
    /// inputs' order. The default keeps a 200-input bulk call well inside the request
    /// timeout at a few hundred milliseconds per hand-off, while staying well under the
    /// concurrent requests Twilio accepts from one account by default (beyond them it
    /// answers 429, error 20429).
    #[arg(long, env = "FASTCALL_PROVIDER_CONCURRENCY", default_value_t = DEFAULT_PROVIDER_CONCURRENCY)]
    pub provider_concurrency: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    /// Never leaves the machine; Twilio's test numbers fail as Twilio's do.
    Simulated,
}

/// A secret: shown as `***` in `Debug`, so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The token in `path`, without the line break that ends it.
    pub fn read_from(path: &std::path::Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        let token = text.trim_end_matches(['\n', '\r']);
        token.parse().map_err(|reason: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the token {reason}"),
            )
        })
    }

    /// Compares in constant time for equal lengths.
    pub fn matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A token is sent as `Bearer <token>`: visible characters only, so none can be lost to
/// the whitespace HTTP trims.
impl FromStr for Secret {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err("must not be empty");
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be visible ASCII characters, without spaces");
        }
        Ok(Self(s.to_owned()))
    }
}

/// The documented defaults, without reading flags or the environment (tests build on it).
impl Default for Config {
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR.parse().expect("the default address parses"),
            database_url: DEFAULT_DATABASE_URL.into(),
            org: None,
            admin_token: None,
            admin_token_file: None,
            allow_open_admin: false,
            provider: Provider::Simulated,
            provider_latency_ms: 0,
            progression: Progression::Timed,
            step_delay_ms: DEFAULT_STEP_DELAY_MS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_bulk_inputs: DEFAULT_MAX_BULK_INPUTS,
            db_max_connections: DEFAULT_DB_MAX_CONNECTIONS,
            db_acquire_timeout_ms: DEFAULT_DB_ACQUIRE_TIMEOUT_MS,
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            header_read_timeout_secs: DEFAULT_HEADER_READ_TIMEOUT_SECS,
            body_read_timeout_secs: DEFAULT_BODY_READ_TIMEOUT_SECS,
            shutdown_grace_secs: DEFAULT_SHUTDOWN_GRACE_SECS,
            idempotency_ttl_secs: DEFAULT_IDEMPOTENCY_TTL_SECS,
            event_keep_alive_secs: DEFAULT_EVENT_KEEP_ALIVE_SECS,
            event_retention_secs: DEFAULT_EVENT_RETENTION_SECS,
            healthcheck: false,
            log: "info".into(),
            provider_concurrency: DEFAULT_PROVIDER_CONCURRENCY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Config::command().debug_assert();
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let config = Config::parse_from(["fastcall-emulator", "--admin-token", "hunter2"]);
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(config.admin_token.as_ref().unwrap().matches("hunter2"));
        assert!(!config.admin_token.as_ref().unwrap().matches("hunter"));
    }
}
