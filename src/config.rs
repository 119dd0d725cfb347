//! Settings: every one has a flag and an environment variable (`--help` lists them).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Arg, CommandFactory, FromArgMatches, Parser, ValueEnum};

pub use crate::domain::Secret;
use crate::lifecycle::Progression;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "fastcall-emulator",
    version,
    about = "A stateful local emulator of the Fastcall Subscriber API: SMS/MMS, calls and user status, \
             as Salesforce invocable actions and as plain REST.",
    after_help = "With no options it serves http://127.0.0.1:8080 from ./fastcall-emulator.db (SQLite) with \
                  the built-in demo org.",
    mut_args = hide_env_value
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "FASTCALL_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Database: sqlite:PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite:fastcall-emulator.db"
    )]
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

    /// Twilio's Account SID (`AC...`), for --provider twilio.
    #[arg(long, env = "TWILIO_ACCOUNT_SID", value_name = "SID")]
    pub twilio_account_sid: Option<String>,

    /// Twilio's auth token, for --provider twilio: it signs the requests to Twilio and checks
    /// Twilio's callbacks. Prefer the variable: a flag's value shows in `ps`.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", value_name = "TOKEN")]
    pub twilio_auth_token: Option<Secret>,

    /// Twilio's REST API (a test points it at a stand-in).
    #[arg(
        long,
        env = "FASTCALL_TWILIO_API_URL",
        value_name = "URL",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_api_url: url::Url,

    /// Milliseconds a request to Twilio may take, all told; then it fails with error 100.
    #[arg(long, env = "FASTCALL_TWILIO_TIMEOUT_MS", default_value_t = 10_000)]
    pub twilio_timeout_ms: u64,

    /// The base URL where Twilio reaches this emulator (a tunnel's, for a real account):
    /// status callback and TwiML URLs are built on it, and Twilio's signatures are checked
    /// against it. Needed by --provider twilio.
    #[arg(long, env = "FASTCALL_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<url::Url>,

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
    #[arg(long, env = "FASTCALL_STEP_DELAY_MS", default_value_t = 1000)]
    pub step_delay_ms: u64,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "FASTCALL_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Most inputs accepted in one Salesforce-shaped action call.
    #[arg(long, env = "FASTCALL_MAX_BULK_INPUTS", default_value_t = 200)]
    pub max_bulk_inputs: usize,

    /// Most database connections held open (on PostgreSQL, up to 3 of them, never more than
    /// half, are kept by the group commit and the opt-out read; the rest are pooled).
    #[arg(
        long,
        env = "FASTCALL_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub db_max_connections: u32,

    /// Milliseconds a request waits for a database connection before it fails with 503 (so
    /// that an unreachable database fails requests fast).
    #[arg(long, env = "FASTCALL_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 3000)]
    pub db_acquire_timeout_ms: u64,

    /// Seconds an action or control request may take before it fails with 503. Long polls
    /// (`wait=`) and the event stream are bounded by their own limits instead.
    #[arg(long, env = "FASTCALL_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Most action and control requests handled at once; more get 503 at once.
    #[arg(long, env = "FASTCALL_MAX_CONCURRENT_REQUESTS", default_value_t = 512)]
    pub max_concurrent_requests: usize,

    /// Seconds a client may take to send a request's headers before its connection is closed.
    #[arg(long, env = "FASTCALL_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Seconds a client may take to send an action or control request's body, counted apart
    /// from --request-timeout-secs; slower gets 408. The body is read before the request
    /// takes one of --max-concurrent-requests.
    #[arg(long, env = "FASTCALL_BODY_READ_TIMEOUT_SECS", default_value_t = 5)]
    pub body_read_timeout_secs: u64,

    /// Seconds that in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "FASTCALL_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Seconds an Idempotency-Key's first answer is kept for retries.
    #[arg(long, env = "FASTCALL_IDEMPOTENCY_TTL_SECS", default_value_t = 24 * 60 * 60)]
    pub idempotency_ttl_secs: u64,

    /// Seconds between keep-alive comments on an idle event stream.
    #[arg(long, env = "FASTCALL_EVENT_KEEP_ALIVE_SECS", default_value_t = 15)]
    pub event_keep_alive_secs: u64,

    /// Seconds events are kept for replay to reconnecting subscribers (`Last-Event-ID`).
    #[arg(long, env = "FASTCALL_EVENT_RETENTION_SECS", default_value_t = 3600)]
    pub event_retention_secs: u64,

    /// Ask the emulator listening on --addr whether it is up (`/livez`), exit 0 if so, 1 if
    /// not, instead of serving: for container health checks.
    #[arg(long)]
    pub healthcheck: bool,

    /// Log filter, in tracing's EnvFilter syntax (`info`, `fastcall_emulator=debug`, ...).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log: String,

    /// How log lines are written: `plain` text, or one JSON object per line.
    #[arg(long, env = "FASTCALL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Plain)]
    pub log_format: LogFormat,

    /// Most provider hand-offs one bulk call has in flight at once; its outputs keep the
    /// inputs' order. The default keeps a 200-input bulk call well inside the request
    /// timeout at a few hundred milliseconds per hand-off, while staying well under the
    /// concurrent requests Twilio accepts from one account by default (beyond them it
    /// answers 429, error 20429).
    #[arg(long, env = "FASTCALL_PROVIDER_CONCURRENCY", default_value_t = 16)]
    pub provider_concurrency: usize,
}

/// `--help` names each setting's variable without its value: clap would print the value
/// the variable has now (`[env: FASTCALL_ADDR=]` when unset, which reads as a default of
/// nothing), and some values are secrets (a password in `DATABASE_URL`, the admin token).
fn hide_env_value(arg: Arg) -> Arg {
    arg.hide_env_values(true)
}

/// The defaults `--help` shows: the settings parsed from no flags and no environment, so
/// that each default is written once, in its `#[arg]`. Tests build their settings on it.
impl Default for Config {
    fn default() -> Self {
        let matches = Self::command()
            .mut_args(|arg| arg.env(None))
            .try_get_matches_from(["fastcall-emulator"])
            .expect("no flags parse");
        Self::from_arg_matches(&matches).expect("the defaults are valid settings")
    }
}

pub use crate::telemetry::LogFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    /// Never leaves the machine; Twilio's test numbers fail as Twilio's do.
    Simulated,
    /// Sends through Twilio's REST API, and learns what became of it from Twilio's signed
    /// callbacks (SPEC 9).
    Twilio,
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
    fn defaults_are_the_documented_ones() {
        let config = Config::default();
        assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url, "sqlite:fastcall-emulator.db");
        assert_eq!(config.max_body_bytes, 1024 * 1024);
        assert_eq!(config.progression, Progression::Timed);
        assert_eq!(config.log, "info");
        assert!(config.org.is_none() && config.admin_token.is_none());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let config = Config::parse_from([
            "fastcall-emulator",
            "--admin-token",
            "hunter2",
            "--twilio-auth-token",
            "0123456789abcdef",
        ]);
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
        assert!(config.admin_token.as_ref().unwrap().matches("hunter2"));
        assert!(!config.admin_token.as_ref().unwrap().matches("hunter"));
    }

    #[test]
    fn a_pool_of_no_connections_is_refused_with_a_message_not_a_panic() {
        let refused = Config::try_parse_from(["fastcall-emulator", "--db-max-connections", "0"])
            .expect_err("0 connections refused");
        assert_eq!(refused.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(
            refused.to_string().contains("--db-max-connections"),
            "{refused}"
        );
        let one = Config::parse_from(["fastcall-emulator", "--db-max-connections", "1"]);
        assert_eq!(one.db_max_connections, 1);
    }
}
