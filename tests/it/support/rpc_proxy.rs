//! A fault-injecting JSON-RPC proxy for integration tests: it sits between the code under test and
//! a real anvil and misbehaves the way hosted providers do, so the indexer can be shown to converge
//! to the right data anyway.
//!
//! Faults come in two kinds:
//! - transport faults (`fail_ratio`, `stall_ratio`) hit a whole HTTP request, batch or not, and
//!   are drawn from an RNG seeded with `Faults::seed`, so a failing test replays the same faults
//!   as long as its requests arrive in the same order;
//! - provider limits (`max_logs`, `max_block_range`) hit single `eth_getLogs` calls, also inside a
//!   batch, and are deterministic by construction.
//!
//! - node faults (`lag_ratio`, `logs_lag_blocks`, `finalized_error_ratio`) make the proxy answer
//!   as a lagging node behind a load balancer, a provider whose log index trails its head, or a
//!   rate-limited `finalized` call would (see the `lagging` module).
//!
//! When no fault applies the upstream's status, `Content-Type` and body are passed through
//! unchanged: nothing is re-serialized, so number formats and field order stay the node's own.
//! Any path is accepted (`/v2/<key>?apikey=...`), so tests can give URLs that carry secrets.
//!
//! Over 600 lines: the proxy's request plan, fault draws and answers share its state; the
//! lagging node's rewriting is in `rpc_proxy/lagging.rs`.

mod lagging;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::post;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use url::Url;

/// The stats key for calls whose method could not be read (malformed JSON, a non-object item).
pub const UNPARSED: &str = "<unparsed>";

/// How long the proxy waits for anvil; far beyond any local answer, it only bounds a hung node.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// The misbehaviour to inject. `Faults::default()` injects nothing: a transparent proxy.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// `eth_getLogs` answers with more than N logs are replaced by the error a real provider gives:
    /// code -32005, `query returned more than N results. Try with this block range [0xA, 0xB].`
    /// The hint starts at the request's `fromBlock` and holds at most N of the logs upstream
    /// returned; when even the first block holds more than N, no such range exists and the
    /// message has no hint.
    pub max_logs: Option<usize>,
    /// With `max_logs`, leave the hint out (`query returned more than N results`), as some
    /// providers do.
    pub max_logs_without_hint: bool,
    /// `eth_getLogs` spanning more than N blocks (`toBlock - fromBlock + 1 > N`, tags resolved
    /// against upstream) is refused without asking upstream: code -32600,
    /// `exceed maximum block range: N`.
    pub max_block_range: Option<u64>,
    /// The fraction (0.0..=1.0) of requests that fail, each as one of: HTTP 503 with an empty
    /// body, HTTP 200 with JSON-RPC error -32603 `internal error`, or HTTP 200 whose body is
    /// cut off by a dropped connection.
    pub fail_ratio: f64,
    /// The fraction (0.0..=1.0) of the requests that do not fail that wait `stall_for` before
    /// being forwarded, to exercise client time-outs.
    pub stall_ratio: f64,
    /// How long a stalled request waits; a long one means the client never gets an answer.
    pub stall_for: Duration,
    /// Restricts `fail_ratio` and `stall_ratio` to requests holding one of these methods
    /// (empty: every request).
    pub only_methods: Vec<String>,
    /// Seeds the RNG that picks which requests fail or stall, and how they fail.
    pub seed: u64,
    /// The fraction (0.0..=1.0) of requests (a batch as a whole, as a load balancer routes it)
    /// answered by a node `lag_blocks` behind upstream: its `eth_blockNumber` is lower, blocks
    /// above its head do not exist, and `eth_getLogs` silently stops at its head.
    pub lag_ratio: f64,
    /// How far the lagging node of `lag_ratio` trails upstream's head.
    pub lag_blocks: u64,
    /// A provider whose log index trails its head by N blocks: `eth_getLogs` (by range or by
    /// block hash) silently leaves out the logs of the newest N blocks, while every other call
    /// (heads, headers, receipts) is upstream's own.
    pub logs_lag_blocks: Option<u64>,
    /// The fraction (0.0..=1.0) of `eth_getBlockByNumber("finalized")` calls answered with a
    /// rate-limit error (-32005 `rate limit exceeded`), as busy providers do.
    pub finalized_error_ratio: f64,
}

/// What happened to the calls of one method. A batch counts once per call; a stalled call counts
/// as stalled when its stall starts and under its outcome once it is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MethodStats {
    /// Calls answered with upstream's answer, unchanged.
    pub forwarded: u64,
    /// Calls refused by `max_logs` or `max_block_range`.
    pub refused: u64,
    /// Calls in a request failed by `fail_ratio`.
    pub failed: u64,
    /// Calls in a request delayed by `stall_ratio` (whatever answer came after).
    pub stalled: u64,
    /// Calls answered 502 because upstream could not be reached.
    pub upstream_errors: u64,
    /// Calls answered by the lagging node of `lag_ratio`, or trimmed by `logs_lag_blocks`.
    pub lagged: u64,
}

/// A snapshot of the proxy's counters, by JSON-RPC method.
#[derive(Clone, Debug, Default)]
pub struct ProxyStats {
    /// Counters per method name; [`UNPARSED`] collects calls without a readable method.
    pub by_method: HashMap<String, MethodStats>,
}

impl ProxyStats {
    /// The counters of `method`, zero when it was never called.
    pub fn method(&self, method: &str) -> MethodStats {
        self.by_method.get(method).copied().unwrap_or_default()
    }

    /// The counters summed over every method.
    pub fn total(&self) -> MethodStats {
        self.by_method.values().fold(MethodStats::default(), |sum, stats| MethodStats {
            forwarded: sum.forwarded + stats.forwarded,
            refused: sum.refused + stats.refused,
            failed: sum.failed + stats.failed,
            stalled: sum.stalled + stats.stalled,
            upstream_errors: sum.upstream_errors + stats.upstream_errors,
            lagged: sum.lagged + stats.lagged,
        })
    }
}

/// A running proxy on 127.0.0.1. Dropping it stops the server and releases stalled requests.
pub struct RpcProxy {
    /// Where clients send their JSON-RPC requests.
    pub url: Url,
    shared: Arc<Shared>,
}

impl RpcProxy {
    /// Starts a proxy in front of `upstream` on an OS-chosen port.
    ///
    /// # Errors
    /// When the port cannot be bound or the HTTP client cannot be built.
    pub async fn start(upstream: Url, faults: Faults) -> Result<RpcProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.context("binding the rpc proxy")?;
        let address = listener.local_addr().context("rpc proxy address")?;
        let url = Url::parse(&format!("http://{address}/")).context("rpc proxy url")?;
        let client =
            reqwest::Client::builder().timeout(UPSTREAM_TIMEOUT).build().context("rpc proxy http client")?;
        let shared = Arc::new(Shared {
            upstream,
            client,
            injector: Mutex::new(Injector::new(faults)),
            stats: Mutex::new(HashMap::new()),
            shutdown: CancellationToken::new(),
        });
        let router = Router::new()
            .route("/", post(answer_request))
            .route("/{*path}", post(answer_request))
            // A proxy must not refuse what the node would accept: no body limit of its own.
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&shared));
        let shutdown = shared.shutdown.clone();
        tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned());
            if let Err(error) = server.await {
                eprintln!("rpc proxy on {address} stopped: {error}");
            }
        });
        Ok(RpcProxy { url, shared })
    }

    /// Replaces the faults for the requests that arrive from now on, and reseeds the RNG with
    /// `faults.seed`.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.lock_injector() = Injector::new(faults);
    }

    /// A snapshot of the counters so far.
    pub fn stats(&self) -> ProxyStats {
        let by_method = self.shared.stats.lock().unwrap_or_else(PoisonError::into_inner).clone();
        ProxyStats { by_method }
    }
}

impl Drop for RpcProxy {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

/// State shared by the handle and every request.
struct Shared {
    upstream: Url,
    client: reqwest::Client,
    injector: Mutex<Injector>,
    stats: Mutex<HashMap<String, MethodStats>>,
    /// Cancelled when the handle drops: stops accepting and ends stalls early.
    shutdown: CancellationToken,
}

/// The faults and the RNG that draws them, under one lock so each request's draw is atomic.
struct Injector {
    faults: Faults,
    rng: StdRng,
}

impl Injector {
    fn new(faults: Faults) -> Injector {
        let rng = StdRng::seed_from_u64(faults.seed);
        Injector { faults, rng }
    }
}

/// How an injected failure looks on the wire.
#[derive(Clone, Copy, Debug)]
enum Failure {
    /// HTTP 503, empty body.
    Unavailable,
    /// HTTP 200, JSON-RPC error -32603 `internal error` (one per call for a batch).
    InternalError,
    /// HTTP 200, then the connection drops halfway through the body.
    TruncatedBody,
}

/// The transport faults drawn for one request, with the faults in force when it arrived.
struct Plan {
    faults: Faults,
    failure: Option<Failure>,
    stall: Option<Duration>,
    /// Answered by the lagging node.
    lagging: bool,
}

/// One JSON-RPC call as the client sent it.
struct Call<'a> {
    /// The call's exact text, forwarded as is when a batch is split.
    raw: &'a RawValue,
    /// Echoed in answers the proxy makes up; `null` when absent.
    id: Option<&'a RawValue>,
    /// `None` when the call is not an object with a string `method`.
    method: Option<String>,
    params: Option<Value>,
}

#[derive(Deserialize)]
struct CallFields<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Value>,
}

impl<'a> Call<'a> {
    fn parse(raw: &'a RawValue) -> Call<'a> {
        match serde_json::from_str::<CallFields<'a>>(raw.get()) {
            Ok(fields) => Call { raw, id: fields.id, method: fields.method, params: fields.params },
            Err(_) => Call { raw, id: None, method: None, params: None },
        }
    }

    fn method(&self) -> &str {
        self.method.as_deref().unwrap_or(UNPARSED)
    }

    fn is_get_logs(&self) -> bool {
        self.method.as_deref() == Some("eth_getLogs")
    }

    /// The `eth_getLogs` filter, when the call is one and its filter is readable.
    fn log_filter(&self) -> Option<LogFilter> {
        if !self.is_get_logs() {
            return None;
        }
        LogFilter::deserialize(self.params.as_ref()?.get(0)?).ok()
    }

    /// A JSON-RPC error answer to this call.
    fn error_answer(&self, code: i64, message: &str) -> String {
        let id = self.id.map_or("null", RawValue::get);
        // `Value`'s Display writes a correctly escaped JSON string and cannot fail.
        let message = Value::String(message.to_owned());
        format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":{code},"message":{message}}}}}"#)
    }
}

/// The body of a request: what the proxy can see of it.
enum Envelope<'a> {
    /// Not JSON, or an empty batch: forwarded as is, for upstream to answer.
    Unparsed,
    Single(Call<'a>),
    Batch(Vec<Call<'a>>),
}

impl<'a> Envelope<'a> {
    fn parse(body: &'a [u8]) -> Envelope<'a> {
        let Ok(text) = std::str::from_utf8(body) else { return Envelope::Unparsed };
        if let Ok(items) = serde_json::from_str::<Vec<&'a RawValue>>(text) {
            if items.is_empty() {
                return Envelope::Unparsed;
            }
            return Envelope::Batch(items.into_iter().map(Call::parse).collect());
        }
        match serde_json::from_str::<&'a RawValue>(text) {
            Ok(raw) => Envelope::Single(Call::parse(raw)),
            Err(_) => Envelope::Unparsed,
        }
    }

    fn methods(&self) -> Vec<&str> {
        match self {
            Envelope::Unparsed => vec![UNPARSED],
            Envelope::Single(call) => vec![call.method()],
            Envelope::Batch(calls) => calls.iter().map(Call::method).collect(),
        }
    }
}

/// The parts of an `eth_getLogs` filter that decide its block range.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogFilter {
    from_block: Option<Value>,
    to_block: Option<Value>,
    block_hash: Option<Value>,
}

/// The parts of an `eth_getLogs` answer the log limit needs.
#[derive(Deserialize)]
struct LogsAnswer {
    result: Vec<LogBlock>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogBlock {
    block_number: Option<String>,
}

/// Upstream's answer, kept as bytes so it can be passed on unchanged.
struct Answer {
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

impl Answer {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        if let Some(content_type) = self.content_type {
            response.headers_mut().insert(CONTENT_TYPE, content_type);
        }
        response
    }
}

impl Shared {
    fn lock_injector(&self) -> MutexGuard<'_, Injector> {
        // A panic elsewhere cannot leave `Injector` half-updated: every write replaces it whole.
        self.injector.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count<'m>(&self, methods: impl IntoIterator<Item = &'m str>, bump: impl Fn(&mut MethodStats)) {
        let mut stats = self.stats.lock().unwrap_or_else(PoisonError::into_inner);
        for method in methods {
            bump(stats.entry(method.to_owned()).or_default());
        }
    }

    /// Draws the transport faults for a request holding `methods`. Requests outside
    /// `only_methods` draw nothing, so they do not shift the sequence the others see.
    fn plan_request(&self, methods: &[&str]) -> Plan {
        let mut injector = self.lock_injector();
        let faults = injector.faults.clone();
        let eligible = faults.only_methods.is_empty()
            || methods.iter().any(|method| faults.only_methods.iter().any(|only| only == method));
        let (mut failure, mut stall) = (None, None);
        if eligible {
            // `random::<f64>()` is in [0, 1): a ratio of 1.0 always hits, 0.0 (or NaN) never.
            if injector.rng.random::<f64>() < faults.fail_ratio {
                failure = Some(match injector.rng.random_range(0..3) {
                    0 => Failure::Unavailable,
                    1 => Failure::InternalError,
                    _ => Failure::TruncatedBody,
                });
            } else if injector.rng.random::<f64>() < faults.stall_ratio {
                stall = Some(faults.stall_for);
            }
        }
        // Drawn only when asked for, so the sequences other tests replay stay the same.
        let lagging = faults.lag_ratio > 0.0 && injector.rng.random::<f64>() < faults.lag_ratio;
        Plan { faults, failure, stall, lagging }
    }

    /// Whether this `finalized` call gets `finalized_error_ratio`'s rate-limit error.
    fn fail_finalized(&self, call: &Call<'_>, faults: &Faults) -> bool {
        if faults.finalized_error_ratio <= 0.0
            || call.method() != "eth_getBlockByNumber"
            || call.params.as_ref().and_then(|p| p.get(0)).and_then(Value::as_str) != Some("finalized")
        {
            return false;
        }
        self.lock_injector().rng.random::<f64>() < faults.finalized_error_ratio
    }

    async fn forward(&self, body: Bytes, content_type: Option<&HeaderValue>) -> reqwest::Result<Answer> {
        let content_type =
            content_type.cloned().unwrap_or_else(|| HeaderValue::from_static("application/json"));
        let response = self
            .client
            .post(self.upstream.as_str())
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let content_type = response.headers().get(CONTENT_TYPE).cloned();
        let body = response.bytes().await?;
        Ok(Answer { status, content_type, body })
    }

    /// The proxy's own call to upstream (not counted): its `result`, or `None` on any failure.
    async fn ask_upstream(&self, method: &str, params: Value) -> Option<Value> {
        #[derive(Deserialize)]
        struct Reply {
            result: Value,
        }
        let request = json!({ "jsonrpc": "2.0", "id": 0, "method": method, "params": params });
        let response = self.client.post(self.upstream.as_str()).json(&request).send().await.ok()?;
        let reply: Reply = response.json().await.ok()?;
        Some(reply.result)
    }

    /// A block parameter as a number: hex quantities as they are, tags asked of upstream.
    /// `None` when it cannot be read or resolved; the limits are then not enforced and upstream
    /// answers the call as it sees fit.
    async fn resolve_block(&self, block: Option<&Value>) -> Option<u64> {
        let tag = match block {
            None => "latest",
            Some(value) => value.as_str()?,
        };
        match tag {
            "earliest" => Some(0),
            "latest" | "pending" => {
                parse_quantity(self.ask_upstream("eth_blockNumber", json!([])).await?.as_str()?)
            }
            "safe" | "finalized" => {
                let block = self.ask_upstream("eth_getBlockByNumber", json!([tag, false])).await?;
                parse_quantity(block.get("number")?.as_str()?)
            }
            quantity => parse_quantity(quantity),
        }
    }

    /// The error answer to an `eth_getLogs` call spanning more than `max_block_range` blocks.
    async fn refuse_block_range(&self, call: &Call<'_>, faults: &Faults) -> Option<String> {
        let limit = faults.max_block_range?;
        let filter = call.log_filter()?;
        if filter.block_hash.is_some() {
            return None;
        }
        let from = self.resolve_block(filter.from_block.as_ref()).await?;
        let to = self.resolve_block(filter.to_block.as_ref()).await?;
        let span = to.saturating_sub(from).saturating_add(1);
        (span > limit).then(|| call.error_answer(-32600, &format!("exceed maximum block range: {limit}")))
    }

    /// The error answer replacing upstream's `answer` to an `eth_getLogs` call when it holds more
    /// than `max_logs` logs.
    async fn refuse_log_count(&self, call: &Call<'_>, faults: &Faults, answer: &[u8]) -> Option<String> {
        let limit = faults.max_logs?;
        let filter = call.log_filter()?;
        let logs = serde_json::from_slice::<LogsAnswer>(answer).ok()?.result;
        if logs.len() <= limit {
            return None;
        }
        let mut message = format!("query returned more than {limit} results");
        if !faults.max_logs_without_hint
            && filter.block_hash.is_none()
            && let Some(from) = self.resolve_block(filter.from_block.as_ref()).await
            && let Some((start, end)) = hint_range(from, &logs, limit)
        {
            // Infura's wording and its upper-case hex digits.
            message.push_str(&format!(". Try with this block range [0x{start:X}, 0x{end:X}]."));
        }
        Some(call.error_answer(-32005, &message))
    }
}

/// The range `[from, end]` holding at most `limit` of `logs`: it ends just before the block of
/// the first log past the limit. `None` when that log is in `from` itself (no range fits) or a
/// block number is unreadable.
fn hint_range(from: u64, logs: &[LogBlock], limit: usize) -> Option<(u64, u64)> {
    let mut blocks =
        logs.iter().map(|log| parse_quantity(log.block_number.as_deref()?)).collect::<Option<Vec<u64>>>()?;
    blocks.sort_unstable();
    let first_past_limit = *blocks.get(limit)?;
    (first_past_limit > from).then(|| (from, first_past_limit - 1))
}

/// Reads a JSON-RPC quantity (`0x1a`).
pub fn parse_quantity(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))?;
    u64::from_str_radix(digits, 16).ok()
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// HTTP 503 with an empty body, as a load balancer with no healthy node answers.
fn service_unavailable() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
}

fn bad_gateway(error: &reqwest::Error) -> Response {
    let mut response = Response::new(Body::from(format!("rpc proxy: upstream unreachable: {error}")));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

/// The answer an injected failure gives to `envelope`.
fn fail_request(failure: Failure, envelope: &Envelope<'_>) -> Response {
    match failure {
        Failure::Unavailable => service_unavailable(),
        Failure::InternalError => {
            let body = match envelope {
                Envelope::Unparsed => {
                    r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}"#
                        .to_owned()
                }
                Envelope::Single(call) => call.error_answer(-32603, "internal error"),
                Envelope::Batch(calls) => {
                    let answers: Vec<String> =
                        calls.iter().map(|call| call.error_answer(-32603, "internal error")).collect();
                    format!("[{}]", answers.join(","))
                }
            };
            json_response(StatusCode::OK, body)
        }
        Failure::TruncatedBody => {
            // The stream errs after its first chunk, so hyper aborts the connection mid-body:
            // the client sees a 200 (or nothing at all) and then a closed connection.
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"result":"#)),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "rpc proxy: injected drop")),
            ];
            json_response(StatusCode::OK, Body::from_stream(futures::stream::iter(chunks)))
        }
    }
}

/// The proxy's only route: draws transport faults, then answers the request's calls.
async fn answer_request(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let envelope = Envelope::parse(&body);
    let methods = envelope.methods();
    let plan = shared.plan_request(&methods);
    if let Some(failure) = plan.failure {
        shared.count(methods, |stats| stats.failed += 1);
        return fail_request(failure, &envelope);
    }
    if let Some(stall) = plan.stall {
        shared.count(methods.iter().copied(), |stats| stats.stalled += 1);
        tokio::select! {
            () = tokio::time::sleep(stall) => {}
            () = shared.shutdown.cancelled() => return service_unavailable(),
        }
    }
    let content_type = headers.get(CONTENT_TYPE);
    if (plan.lagging || plan.faults.logs_lag_blocks.is_some())
        && let Some(response) = lagging::answer(&shared, &plan, &envelope).await
    {
        return response;
    }
    match &envelope {
        Envelope::Unparsed => match shared.forward(body.clone(), content_type).await {
            Ok(answer) => {
                shared.count([UNPARSED], |stats| stats.forwarded += 1);
                answer.into_response()
            }
            Err(error) => {
                shared.count([UNPARSED], |stats| stats.upstream_errors += 1);
                bad_gateway(&error)
            }
        },
        Envelope::Single(call) => {
            answer_single(&shared, &plan.faults, call, body.clone(), content_type).await
        }
        Envelope::Batch(calls) => {
            answer_batch(&shared, &plan.faults, calls, body.clone(), content_type).await
        }
    }
}

async fn answer_single(
    shared: &Shared,
    faults: &Faults,
    call: &Call<'_>,
    body: Bytes,
    content_type: Option<&HeaderValue>,
) -> Response {
    if shared.fail_finalized(call, faults) {
        shared.count([call.method()], |stats| stats.failed += 1);
        return json_response(StatusCode::OK, call.error_answer(-32005, "rate limit exceeded"));
    }
    if let Some(refusal) = shared.refuse_block_range(call, faults).await {
        shared.count([call.method()], |stats| stats.refused += 1);
        return json_response(StatusCode::OK, refusal);
    }
    let answer = match shared.forward(body, content_type).await {
        Ok(answer) => answer,
        Err(error) => {
            shared.count([call.method()], |stats| stats.upstream_errors += 1);
            return bad_gateway(&error);
        }
    };
    if let Some(refusal) = shared.refuse_log_count(call, faults, &answer.body).await {
        shared.count([call.method()], |stats| stats.refused += 1);
        return json_response(StatusCode::OK, refusal);
    }
    shared.count([call.method()], |stats| stats.forwarded += 1);
    answer.into_response()
}

/// Answers a batch call by call: calls over `max_block_range` are answered by the proxy, the
/// others go upstream in one batch (the client's bytes when nothing was refused), and answers
/// over `max_logs` are replaced. The answer keeps the request's order; upstream answers that
/// match no call follow at the end. An upstream answer that is not an array is passed on as is.
async fn answer_batch(
    shared: &Shared,
    faults: &Faults,
    calls: &[Call<'_>],
    body: Bytes,
    content_type: Option<&HeaderValue>,
) -> Response {
    let mut answers: Vec<Option<String>> = Vec::with_capacity(calls.len());
    for call in calls {
        answers.push(shared.refuse_block_range(call, faults).await);
    }
    let (refused, pending): (Vec<usize>, Vec<usize>) =
        (0..calls.len()).partition(|&index| answers[index].is_some());
    let methods_of =
        |indices: &[usize]| indices.iter().map(|&index| calls[index].method()).collect::<Vec<_>>();
    shared.count(methods_of(&refused), |stats| stats.refused += 1);
    if pending.is_empty() {
        let answers: Vec<String> = answers.into_iter().flatten().collect();
        return json_response(StatusCode::OK, format!("[{}]", answers.join(",")));
    }

    let upstream_body = if refused.is_empty() {
        body
    } else {
        let items: Vec<&str> = pending.iter().map(|&index| calls[index].raw.get()).collect();
        Bytes::from(format!("[{}]", items.join(",")))
    };
    let answer = match shared.forward(upstream_body, content_type).await {
        Ok(answer) => answer,
        Err(error) => {
            shared.count(methods_of(&pending), |stats| stats.upstream_errors += 1);
            return bad_gateway(&error);
        }
    };
    let Ok(items) = serde_json::from_slice::<Vec<&RawValue>>(&answer.body) else {
        shared.count(methods_of(&pending), |stats| stats.forwarded += 1);
        return answer.into_response();
    };

    // Pair each pending call with the first unclaimed upstream answer carrying its id.
    let mut unclaimed: Vec<Option<&RawValue>> = items.into_iter().map(Some).collect();
    let mut replaced = 0;
    for &index in &pending {
        let call = &calls[index];
        let id = call.id.and_then(|id| serde_json::from_str::<Value>(id.get()).ok()).unwrap_or(Value::Null);
        let Some(item) = unclaimed.iter_mut().find(|item| item.is_some_and(|item| answer_id(item) == id))
        else {
            shared.count([call.method()], |stats| stats.forwarded += 1);
            continue;
        };
        let Some(item) = item.take() else { continue };
        if let Some(refusal) = shared.refuse_log_count(call, faults, item.get().as_bytes()).await {
            shared.count([call.method()], |stats| stats.refused += 1);
            answers[index] = Some(refusal);
            replaced += 1;
        } else {
            shared.count([call.method()], |stats| stats.forwarded += 1);
            answers[index] = Some(item.get().to_owned());
        }
    }
    if refused.is_empty() && replaced == 0 {
        return answer.into_response();
    }
    let ordered: Vec<String> = answers
        .into_iter()
        .flatten()
        .chain(unclaimed.into_iter().flatten().map(|item| item.get().to_owned()))
        .collect();
    json_response(answer.status, format!("[{}]", ordered.join(",")))
}

/// The `id` of one upstream answer in a batch (`null` when absent or unreadable).
fn answer_id(item: &RawValue) -> Value {
    #[derive(Deserialize)]
    struct WithId {
        #[serde(default)]
        id: Value,
    }
    serde_json::from_str::<WithId>(item.get()).map(|answer| answer.id).unwrap_or(Value::Null)
}

/// The proxy's own arithmetic; its behaviour against anvil is tested in `tests/it/rpc_proxy.rs`.
#[test]
fn hint_range_ends_before_the_first_block_past_the_limit() {
    let logs = |blocks: &[u64]| -> Vec<LogBlock> {
        blocks.iter().map(|block| LogBlock { block_number: Some(format!("{block:#x}")) }).collect()
    };
    assert_eq!(hint_range(0, &logs(&[1, 2, 2, 3, 3, 3]), 4), Some((0, 2)));
    assert_eq!(hint_range(0, &logs(&[3, 3, 1, 2, 2, 3]), 3), Some((0, 2)));
    assert_eq!(hint_range(5, &logs(&[5, 5, 5]), 2), None);
    assert_eq!(hint_range(5, &[LogBlock { block_number: None }, LogBlock { block_number: None }], 1), None);
    assert_eq!(parse_quantity("0x1A"), Some(26));
    assert_eq!(parse_quantity("26"), None);
    assert_eq!(parse_quantity("0x"), None);
}
