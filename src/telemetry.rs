//! Logging: `tracing` with an env-configurable filter (`RUST_LOG`, default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: human-readable lines on stderr, filtered by `RUST_LOG`.
///
/// Logs go to stderr so that a command's stdout (e.g. `deploy --json`) stays machine-readable.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (e.g. from tests) keeps the first subscriber, which is what we want.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
