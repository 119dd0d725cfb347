//! Logging.

use tracing_subscriber::EnvFilter;

/// Logs to stderr, filtered by `filter` (EnvFilter syntax); a bad filter falls back to `info`.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|error| {
        eprintln!("invalid log filter `{filter}` ({error}); using `info`");
        EnvFilter::new("info")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
