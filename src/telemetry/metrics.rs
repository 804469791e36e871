//! The indexer's and the API's counters, rendered in Prometheus' text format (ADR 0014 says why
//! by hand), and the indexer's own `/metrics` endpoint.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Exposition;

/// One open subscription, counted by [`Metrics::live_subscriber`] while it lives.
#[derive(Debug)]
pub struct LiveSubscriber(Metrics);

impl Drop for LiveSubscriber {
    fn drop(&mut self) {
        self.0.inner.live_subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The indexer's metrics: cheap to clone, shared by the chain client, the indexer and the
/// `/metrics` endpoint.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<MetricsInner>,
}

#[derive(Debug, Default)]
struct MetricsInner {
    rpc_calls: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    events_indexed: AtomicU64,
    indexed_block: AtomicU64,
    head_block: AtomicU64,
    finalized_block: AtomicU64,
    reorgs: AtomicU64,
    reorg_depth_total: AtomicU64,
    reorg_depth_max: AtomicU64,
    batches: AtomicU64,
    batch_write_micros: AtomicU64,
    decode_errors: AtomicU64,
    api_requests: Mutex<BTreeMap<(String, &'static str), RequestStats>>,
    writer: Mutex<WriterReport>,
    database_retries: AtomicU64,
    lock_takeovers: AtomicU64,
    rpc_endpoints: Mutex<BTreeMap<usize, EndpointStats>>,
    logs_refetched: AtomicU64,
    id_gaps: AtomicU64,
    live_events: AtomicU64,
    live_subscribers: AtomicU64,
    live_reorgs: AtomicU64,
    ws_closes: Mutex<BTreeMap<u16, u64>>,
}

// ---- Per-endpoint RPC health (recorded by chain::endpoints and the client's retry loop) ----

/// A per-endpoint metric family: name, type, help, and the value it reads.
type EndpointFamily = (&'static str, &'static str, &'static str, fn(&EndpointStats) -> u64);

/// One `--rpc-url`'s counters, labelled by its position and redacted URL.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EndpointStats {
    /// The endpoint's URL, redacted.
    pub url: String,
    /// Failed calls (transport errors, time-outs, transient error answers).
    pub errors: u64,
    /// Calls retried on it after a backoff.
    pub retries: u64,
    /// Times the indexer's reads switched to it.
    pub chosen: u64,
    /// Its head as last seen.
    pub head: u64,
}

impl Metrics {
    fn endpoint(&self, index: usize, url: &str, update: impl FnOnce(&mut EndpointStats)) {
        let mut endpoints = self.inner.rpc_endpoints.lock().unwrap_or_else(PoisonError::into_inner);
        let stats = endpoints.entry(index).or_default();
        if stats.url.is_empty() {
            url.clone_into(&mut stats.url);
        }
        update(stats);
    }

    /// Counts a failed call (transport error, time-out, transient error answer) to an endpoint.
    pub fn rpc_endpoint_error(&self, index: usize, url: &str) {
        self.endpoint(index, url, |s| s.errors += 1);
    }

    /// Counts a retry of a call on an endpoint (after its backoff).
    pub fn rpc_endpoint_retry(&self, index: usize, url: &str) {
        self.endpoint(index, url, |s| s.retries += 1);
    }

    /// Counts a switch of the indexer's reads to an endpoint.
    pub fn rpc_endpoint_chosen(&self, index: usize, url: &str) {
        self.endpoint(index, url, |s| s.chosen += 1);
    }

    /// Records an endpoint's head as last seen.
    pub fn rpc_endpoint_head(&self, index: usize, url: &str, head: u64) {
        self.endpoint(index, url, |s| s.head = head);
    }

    /// Counts a block whose logs were fetched again by hash (they did not match its header).
    pub fn logs_refetched(&self) {
        self.inner.logs_refetched.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a batch refused because a job or application id skipped (logs were missing).
    pub fn id_gap(&self) {
        self.inner.id_gaps.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts events the live hub pushed to subscriptions.
    pub fn live_events_pushed(&self, events: usize) {
        self.inner.live_events.fetch_add(events as u64, Ordering::Relaxed);
    }

    /// Counts a REORG the live hub pushed to subscriptions.
    pub fn live_reorg_pushed(&self) {
        self.inner.live_reorgs.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a WebSocket connection the server closed, by close code (4000 silent, 4001 not
    /// reading, 4408 no connection_init, 1009 message too big, ...).
    pub fn ws_closed(&self, code: u16) {
        *self.inner.ws_closes.lock().unwrap_or_else(PoisonError::into_inner).entry(code).or_default() += 1;
    }

    /// WebSocket connections the server closed with `code` so far, for tests.
    pub fn ws_closes_total(&self, code: u16) -> u64 {
        self.inner.ws_closes.lock().unwrap_or_else(PoisonError::into_inner).get(&code).copied().unwrap_or(0)
    }

    /// Events and REORGs the live hub has pushed so far, for tests and benches.
    pub fn live_pushed_total(&self) -> (u64, u64) {
        (self.inner.live_events.load(Ordering::Relaxed), self.inner.live_reorgs.load(Ordering::Relaxed))
    }

    /// The counters of endpoint `index` so far (zero when never used), for tests and benches.
    pub fn rpc_endpoint(&self, index: usize) -> EndpointStats {
        let endpoints = self.inner.rpc_endpoints.lock().unwrap_or_else(PoisonError::into_inner);
        endpoints.get(&index).cloned().unwrap_or_default()
    }

    /// Blocks whose logs were fetched again by hash so far.
    pub fn logs_refetched_total(&self) -> u64 {
        self.inner.logs_refetched.load(Ordering::Relaxed)
    }

    fn render_endpoints(&self, out: &mut Exposition) {
        for (name, help, value) in [
            (
                "jobboard_logs_refetched_total",
                "Blocks whose logs were fetched again by hash.",
                &self.inner.logs_refetched,
            ),
            (
                "jobboard_id_gaps_total",
                "Batches refused because a job or application id skipped.",
                &self.inner.id_gaps,
            ),
        ] {
            out.single(name, "counter", help, value.load(Ordering::Relaxed));
        }
        let endpoints = self.inner.rpc_endpoints.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let families: [EndpointFamily; 4] = [
            ("jobboard_rpc_endpoint_errors_total", "counter", "Failed calls per RPC endpoint.", |s| s.errors),
            ("jobboard_rpc_endpoint_retries_total", "counter", "Retried calls per RPC endpoint.", |s| {
                s.retries
            }),
            (
                "jobboard_rpc_endpoint_chosen_total",
                "counter",
                "Switches of the reads to an RPC endpoint.",
                |s| s.chosen,
            ),
            ("jobboard_rpc_endpoint_head_block", "gauge", "An RPC endpoint's head as last seen.", |s| s.head),
        ];
        for (name, kind, help, value) in families {
            if endpoints.is_empty() {
                break;
            }
            out.family(name, kind, help);
            for (index, stats) in &endpoints {
                let url = stats.url.replace('\\', "\\\\").replace('"', "\\\"");
                out.sample("", &format!("endpoint=\"{index}\",url=\"{url}\""), value(stats));
            }
        }
    }
}

/// Upper bounds (seconds) of the API latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Distinct operation names tracked before the rest are counted as `other` (names come from
/// clients, so their number must be bounded).
const MAX_OPERATIONS: usize = 200;

#[derive(Debug, Default, Clone)]
struct RequestStats {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; LATENCY_BUCKETS.len()],
}

impl Metrics {
    /// Counts one RPC call by method and result (`ok`, `error_response`, `transient_error`).
    pub fn rpc_call(&self, method: &'static str, result: &'static str) {
        let mut calls = self.inner.rpc_calls.lock().unwrap_or_else(PoisonError::into_inner);
        *calls.entry((method, result)).or_default() += 1;
    }

    /// Total RPC calls so far (all methods and results), for the bench's calls-per-event figure.
    pub fn rpc_calls_total(&self) -> u64 {
        self.inner.rpc_calls.lock().unwrap_or_else(PoisonError::into_inner).values().sum()
    }

    /// Records a committed batch.
    pub fn batch_written(&self, events: usize, last_block: u64, took: Duration) {
        self.inner.events_indexed.fetch_add(events as u64, Ordering::Relaxed);
        self.inner.indexed_block.store(last_block, Ordering::Relaxed);
        self.inner.batches.fetch_add(1, Ordering::Relaxed);
        self.inner.batch_write_micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Records the node's head and finalized block.
    pub fn chain_seen(&self, head: u64, finalized: u64) {
        self.inner.head_block.store(head, Ordering::Relaxed);
        self.inner.finalized_block.store(finalized, Ordering::Relaxed);
    }

    /// Records a reorg of `depth` blocks and the block reverted to.
    pub fn reorg(&self, depth: u64, fork: u64) {
        self.inner.reorgs.fetch_add(1, Ordering::Relaxed);
        self.inner.reorg_depth_total.fetch_add(depth, Ordering::Relaxed);
        self.inner.reorg_depth_max.fetch_max(depth, Ordering::Relaxed);
        self.inner.indexed_block.store(fork, Ordering::Relaxed);
    }

    /// Counts a log that did not decode (reported and stopped on, never dropped).
    pub fn decode_error(&self) {
        self.inner.decode_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one API request: its operation name (as sent by the client), its outcome (`ok`,
    /// `error`) and how long it took.
    pub fn api_request(&self, operation: Option<&str>, outcome: &'static str, took: Duration) {
        let name: String = operation
            .unwrap_or("anonymous")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        let mut requests = self.inner.api_requests.lock().unwrap_or_else(PoisonError::into_inner);
        let key = if requests.len() >= MAX_OPERATIONS && !requests.contains_key(&(name.clone(), outcome)) {
            ("other".to_owned(), outcome)
        } else {
            (name, outcome)
        };
        let stats = requests.entry(key).or_default();
        let seconds = took.as_secs_f64();
        stats.count += 1;
        stats.sum_seconds += seconds;
        for (bucket, bound) in stats.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// Counts one open subscription until the returned guard drops (with its stream): the
    /// `jobboard_live_subscribers` gauge, which also tells a client or a test that a
    /// subscription is registered.
    pub fn live_subscriber(&self) -> LiveSubscriber {
        self.inner.live_subscribers.fetch_add(1, Ordering::Relaxed);
        LiveSubscriber(self.clone())
    }

    /// Subscriptions open now.
    pub fn live_subscribers(&self) -> u64 {
        self.inner.live_subscribers.load(Ordering::Relaxed)
    }

    /// Events written so far.
    pub fn events_indexed(&self) -> u64 {
        self.inner.events_indexed.load(Ordering::Relaxed)
    }

    /// The metrics in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut exposition = Exposition::default();
        self.render_into(&mut exposition);
        exposition.finish()
    }

    /// Writes every metric into `out` (which may label them, and hold other boards' too).
    pub fn render_into(&self, out: &mut Exposition) {
        let m = &self.inner;
        let indexed = m.indexed_block.load(Ordering::Relaxed);
        let head = m.head_block.load(Ordering::Relaxed);
        let load = |v: &AtomicU64| v.load(Ordering::Relaxed);
        let series: [(&str, &str, &str, u64); 14] = [
            ("jobboard_indexed_block", "gauge", "Last block whose events are all in the database.", indexed),
            ("jobboard_head_block", "gauge", "The node's latest block as last seen.", head),
            (
                "jobboard_finalized_block",
                "gauge",
                "The newest block treated as final.",
                load(&m.finalized_block),
            ),
            ("jobboard_lag_blocks", "gauge", "Head minus indexed block.", head.saturating_sub(indexed)),
            ("jobboard_events_indexed_total", "counter", "Board events written.", load(&m.events_indexed)),
            ("jobboard_reorgs_total", "counter", "Reorganisations handled.", load(&m.reorgs)),
            (
                "jobboard_reorg_depth_blocks_total",
                "counter",
                "Sum of the depths of handled reorgs.",
                load(&m.reorg_depth_total),
            ),
            ("jobboard_reorg_depth_max_blocks", "gauge", "Deepest reorg handled.", load(&m.reorg_depth_max)),
            ("jobboard_decode_errors_total", "counter", "Logs that did not decode.", load(&m.decode_errors)),
            ("jobboard_batches_total", "counter", "Batches committed.", load(&m.batches)),
            (
                "jobboard_live_events_pushed_total",
                "counter",
                "Events the API pushed to its subscriptions' queue.",
                load(&m.live_events),
            ),
            (
                "jobboard_live_subscribers",
                "gauge",
                "Subscriptions open on this API (activity and _meta).",
                load(&m.live_subscribers),
            ),
            (
                "jobboard_live_reorgs_pushed_total",
                "counter",
                "REORGs the API pushed to its subscriptions' queue.",
                load(&m.live_reorgs),
            ),
            (
                "jobboard_rpc_calls_all_total",
                "counter",
                "JSON-RPC calls of every method and result.",
                self.rpc_calls_total(),
            ),
        ];
        for (name, kind, help, value) in series {
            out.single(name, kind, help, value);
        }
        let seconds = m.batch_write_micros.load(Ordering::Relaxed) as f64 / 1e6;
        out.single(
            "jobboard_batch_write_seconds_total",
            "counter",
            "Time spent writing batches.",
            format_args!("{seconds:.6}"),
        );
        out.family("jobboard_rpc_calls_total", "counter", "JSON-RPC calls by method and result.");
        for ((method, result), n) in m.rpc_calls.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            out.sample("", &format!("method=\"{method}\",result=\"{result}\""), n);
        }
        out.family(
            "jobboard_ws_closes_total",
            "counter",
            "WebSocket connections the server closed, by close code.",
        );
        for (code, n) in m.ws_closes.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            out.sample("", &format!("code=\"{code}\""), n);
        }
        self.render_endpoints(out);
        let requests = m.api_requests.lock().unwrap_or_else(PoisonError::into_inner);
        if !requests.is_empty() {
            out.family(
                "jobboard_api_request_duration_seconds",
                "histogram",
                "GraphQL requests by operation and outcome.",
            );
            for ((operation, outcome), stats) in requests.iter() {
                let labels = format!("operation=\"{operation}\",outcome=\"{outcome}\"");
                for (n, bound) in stats.buckets.iter().zip(LATENCY_BUCKETS) {
                    out.sample("_bucket", &format!("{labels},le=\"{bound}\""), n);
                }
                out.sample("_bucket", &format!("{labels},le=\"+Inf\""), stats.count);
                out.sample("_sum", &labels, format_args!("{:.6}", stats.sum_seconds));
                out.sample("_count", &labels, stats.count);
            }
        }
        drop(requests);
        self.render_writer(out);
    }
}

/// What this process's writer is doing, as its supervisor last reported it: `/readyz` of
/// `run` and the metrics show it, so an operator sees *why* the index does not move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriterState {
    /// No writer runs in this process (`serve`), or it has not started yet.
    #[default]
    Off,
    /// Connecting to the database (again).
    Connecting,
    /// Connected, waiting for another process to release the writer lock.
    Standby,
    /// Holding the lock and indexing.
    Writing,
    /// Waiting out a transient failure (database or node) before reconnecting.
    Retrying,
}

impl WriterState {
    /// The label value in `jobboard_writer_state{state=...}`.
    pub fn label(self) -> &'static str {
        match self {
            WriterState::Off => "off",
            WriterState::Connecting => "connecting",
            WriterState::Standby => "standby",
            WriterState::Writing => "writing",
            WriterState::Retrying => "retrying",
        }
    }

    const ALL: [WriterState; 5] = [
        WriterState::Off,
        WriterState::Connecting,
        WriterState::Standby,
        WriterState::Writing,
        WriterState::Retrying,
    ];
}

/// The writer's state and, while it waits, the failure it waits out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriterReport {
    /// What it does.
    pub state: WriterState,
    /// The last failure, while connecting or retrying (redacted: errors carry no URL).
    pub error: Option<String>,
}

impl Metrics {
    /// Records what the writer does now.
    pub fn writer_state(&self, state: WriterState, error: Option<String>) {
        *self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner) = WriterReport { state, error };
    }

    /// What the writer does now.
    pub fn writer(&self) -> WriterReport {
        self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Counts one retry of the writer after a transient failure.
    pub fn database_retry(&self) {
        self.inner.database_retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one acquisition of the writer lock (the first, and every takeover after it).
    pub fn lock_acquired(&self) {
        self.inner.lock_takeovers.fetch_add(1, Ordering::Relaxed);
    }

    fn render_writer(&self, out: &mut Exposition) {
        let now = self.writer().state;
        out.family(
            "jobboard_writer_state",
            "gauge",
            "What this process's writer does (1 for the current state).",
        );
        for state in WriterState::ALL {
            out.sample("", &format!("state=\"{}\"", state.label()), u8::from(state == now));
        }
        let load = |v: &AtomicU64| v.load(Ordering::Relaxed);
        let series = [
            (
                "jobboard_writer_retries_total",
                "Reconnects of the writer after a transient database or node failure.",
                load(&self.inner.database_retries),
            ),
            (
                "jobboard_writer_lock_acquired_total",
                "Times this process took the writer lock.",
                load(&self.inner.lock_takeovers),
            ),
        ];
        for (name, help, value) in series {
            out.single(name, "counter", help, value);
        }
    }
}

/// Serves `GET /metrics` on `listener` until `cancel` fires: the indexer's own endpoint when it
/// runs without the API (a critical task of `jobboard index`), every board's metrics labelled
/// by its chain id (see [`super::render_boards`]).
///
/// # Errors
/// The I/O error that stopped the server.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    boards: Vec<(u64, Metrics)>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let boards = Arc::new(boards);
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let boards = boards.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    super::render_boards(&boards),
                )
            }
        }),
    );
    axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_in_prometheus_format() {
        let metrics = Metrics::default();
        metrics.rpc_call("eth_getLogs", "ok");
        metrics.rpc_call("eth_getLogs", "ok");
        metrics.batch_written(5, 100, Duration::from_millis(3));
        metrics.chain_seen(110, 90);
        metrics.reorg(3, 97);
        let text = metrics.render();
        assert!(text.contains("jobboard_rpc_calls_total{method=\"eth_getLogs\",result=\"ok\"} 2"), "{text}");
        assert!(text.contains("jobboard_events_indexed_total 5"), "{text}");
        assert!(text.contains("jobboard_lag_blocks 13"), "{text}");
        assert!(text.contains("jobboard_reorg_depth_max_blocks 3"), "{text}");
        assert_eq!(metrics.rpc_calls_total(), 2);
    }

    #[test]
    fn renders_the_writer_state_and_its_retries() {
        let metrics = Metrics::default();
        metrics.writer_state(WriterState::Retrying, Some("database error: connection refused".into()));
        metrics.database_retry();
        let text = metrics.render();
        assert!(text.contains("jobboard_writer_state{state=\"retrying\"} 1"), "{text}");
        assert!(text.contains("jobboard_writer_state{state=\"writing\"} 0"), "{text}");
        assert!(text.contains("jobboard_writer_retries_total 1"), "{text}");
        assert_eq!(metrics.writer().error.as_deref(), Some("database error: connection refused"));
    }

    #[test]
    fn renders_per_endpoint_counters() {
        let metrics = Metrics::default();
        metrics.rpc_endpoint_error(1, "https://node.example/v2/…");
        metrics.rpc_endpoint_retry(1, "https://node.example/v2/…");
        metrics.rpc_endpoint_head(0, "http://127.0.0.1:8545", 42);
        let text = metrics.render();
        assert!(
            text.contains(
                "jobboard_rpc_endpoint_errors_total{endpoint=\"1\",url=\"https://node.example/v2/…\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "jobboard_rpc_endpoint_head_block{endpoint=\"0\",url=\"http://127.0.0.1:8545\"} 42"
            ),
            "{text}"
        );
        assert_eq!(metrics.rpc_endpoint(1).errors, 1);
    }
}
