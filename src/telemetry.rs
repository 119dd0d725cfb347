//! Logging: to stderr, as plain text or one JSON object per line, with terminal colours only
//! when stderr is a terminal (never into a file or a pipe).

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `2026-12-04T17:00:00Z  INFO target: message key=value ...`
    Plain,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields`.
    Json,
}

/// Directives added to every filter the user does not override: PostgreSQL's notices (at
/// start, "relation _sqlx_migrations already exists, skipping") are not news at info.
const QUIET: &str = "sqlx::postgres::notice=warn";

/// Logs to stderr, filtered by `filter` (EnvFilter syntax); a bad filter falls back to `info`.
pub fn init(filter: &str, format: LogFormat) {
    let directives = if filter.contains("sqlx") {
        filter.to_owned()
    } else {
        format!("{filter},{QUIET}")
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|error| {
        eprintln!("invalid log filter `{filter}` ({error}); using `info`");
        EnvFilter::new(format!("info,{QUIET}"))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Plain => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}
