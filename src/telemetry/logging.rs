//! Logging: `tracing` with an env-configurable filter (`RUST_LOG`, default `info`) and a line
//! as each of this crate's spans closes.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: human-readable lines on stderr, filtered by `RUST_LOG`, and a
/// line as each of this crate's spans closes (a backfill range, a batch, a revert, a request)
/// saying how long it took: the spans time the work, not hand-kept `Instant`s.
///
/// Logs go to stderr so that a command's stdout (e.g. `deploy --json`) stays machine-readable.
pub fn init() {
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::prelude::*;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let events = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    // Only our own spans' closes: a dependency's (alloy opens an info span per RPC call) would
    // drown the log. Events pass through `events` alone.
    let span_times = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .fmt_fields(SpanFields::default())
        .with_span_events(FmtSpan::CLOSE)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.is_span() && meta.target().starts_with("jobboard")
        }));
    // A second init (e.g. from tests) keeps the first subscriber, which is what we want.
    let _ = tracing_subscriber::registry().with(filter).with(events).with(span_times).try_init();
}

/// The default field format under a type of its own, for the span-closing layer: the two
/// layers keep a span's formatted fields apart (sharing them, each layer appended every
/// recorded value, so a field showed twice).
#[derive(Debug, Default)]
struct SpanFields(tracing_subscriber::fmt::format::DefaultFields);

impl<'writer> tracing_subscriber::fmt::FormatFields<'writer> for SpanFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: tracing_subscriber::fmt::format::Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        self.0.format_fields(writer, fields)
    }
}
