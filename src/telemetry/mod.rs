//! Logging and metrics: `tracing` with an env-configurable filter (`RUST_LOG`, default `info`),
//! and the indexer's counters rendered in Prometheus' text format.

mod exposition;
mod logging;
mod metrics;

pub use exposition::{Exposition, render_boards};
pub use logging::init;
pub use metrics::{EndpointStats, LiveSubscriber, Metrics, WriterReport, WriterState, serve_metrics};
