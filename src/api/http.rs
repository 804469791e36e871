//! The HTTP surface: `POST /graphql` (JSON, batches too), `GET /graphql` (GraphiQL, or the
//! graphql-transport-ws upgrade), `/healthz`, `/readyz`, `/metrics`; the `X-Min-Block`
//! wait; and the request limits: body size (an oversized body is drained so the client reads
//! the 413), batch length, a deadline, and the answer-size ceiling.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::BatchRequest;
use async_graphql::futures_util::StreamExt;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use axum::body::{Body, Bytes};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tracing::{Span, field, instrument};

use super::min_block::{MinBlockError, parse_min_block};
use super::result_cache::Lookup;
use super::schema::BoardMeta;
use super::{ApiError, ApiState, snapshot, ws};
use crate::store;
use crate::telemetry::WriterState;

/// The header a client sets to read its own writes: the block its transaction landed in.
pub const MIN_BLOCK_HEADER: &str = "x-min-block";

/// The routes, with the body limit and CORS layers applied.
pub fn routes(state: ApiState) -> Router {
    let cors = state.config.cors.clone();
    let body_limit = state.config.max_body_bytes;
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(cors)
        .merge(crate::web::routes(&state.config.page))
        .with_state(state)
}

/// A GraphQL-shaped error response with one error and its code.
fn error_response(status: StatusCode, code: &str, message: impl Into<String>) -> axum::response::Response {
    let body = json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

/// Most bytes of an oversized body read (and dropped) before answering 413, so that a client
/// still sending sees the answer instead of a connection reset; past it the connection is
/// closed as it is.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;

/// The body, read up to `limit` bytes; past it, the rest is drained (up to [`DRAIN_BYTES`],
/// for at most five seconds) and `None` returned.
async fn read_body(body: Body, limit: usize) -> Result<Option<Bytes>, axum::Error> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if buf.len() + chunk.len() > limit {
            let mut drained = buf.len() + chunk.len();
            let drain = async {
                while drained < DRAIN_BYTES
                    && let Some(Ok(chunk)) = stream.next().await
                {
                    drained += chunk.len();
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Some(Bytes::from(buf)))
}

/// One GraphQL request over HTTP, in a `request` span that records its operation and outcome.
#[instrument(level = "debug", name = "request", skip_all, fields(operation = field::Empty, outcome = field::Empty))]
async fn graphql_post(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    // Feeds the latency histogram (the span's own timing is only logged).
    let started = Instant::now();
    let span = Span::current();
    let finished = |operation: Option<&str>, outcome: &'static str| {
        span.record("operation", operation);
        span.record("outcome", outcome);
        state.metrics.api_request(operation, outcome, started.elapsed());
    };
    let limits = &state.config;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        let mut response = error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than {} bytes", limits.max_body_bytes),
        );
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    };
    if declared.is_some_and(|n| n > DRAIN_BYTES) {
        return too_large();
    }
    let body = match read_body(body, limits.max_body_bytes).await {
        Ok(Some(body)) => body,
        Ok(None) => return too_large(),
        Err(error) => return error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", error.to_string()),
    };
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                format!("the body is not a GraphQL request in JSON ({error}); send {{\"query\": \"…\"}}"),
            );
        }
    };
    if let BatchRequest::Batch(requests) = &request
        && requests.len() > limits.max_batch_size
    {
        let error = ApiError::BatchTooLarge { limit: limits.max_batch_size, got: requests.len() };
        finished(Some("batch"), "batch_too_large");
        return error_response(StatusCode::BAD_REQUEST, error.code(), error.to_string());
    }
    let Some(board) = state.board() else {
        return error_response(
            StatusCode::OK,
            ApiError::BoardNotIndexed.code(),
            ApiError::BoardNotIndexed.to_string(),
        );
    };
    let mut min_block = None;
    let boards = &board.context.boards;
    if let Some(value) = headers.get(MIN_BLOCK_HEADER) {
        let chains: Vec<u64> = boards.iter().map(|b| b.chain_id()).collect();
        let parsed =
            value.to_str().map_err(|_| MinBlockError::Malformed).and_then(|v| parse_min_block(v, &chains));
        let (on, block) = match parsed {
            Ok(block) => block,
            Err(error) => {
                return error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", error.to_string());
            }
        };
        // The wait counts against the request's deadline: whichever ends first ends it.
        let deadline_first = limits.request_timeout < limits.min_block_wait;
        let bound = limits.min_block_wait.min(limits.request_timeout.saturating_sub(started.elapsed()));
        if let Err(at) = boards[on].live.wait_for_block(block, bound).await {
            if deadline_first {
                state.metrics.api_request(None, "timeout", started.elapsed());
                return error_response(
                    StatusCode::OK,
                    ApiError::QueryTimeout.code(),
                    ApiError::QueryTimeout.to_string(),
                );
            }
            let at = at.map_or_else(|| "no block".to_owned(), |b| format!("block {b}"));
            let error = ApiError::NotYetIndexed { wanted: block, at };
            finished(None, "not_yet_indexed");
            return error_response(StatusCode::OK, error.code(), error.to_string());
        }
        min_block = Some((on, block));
    }
    let operation = match &request {
        BatchRequest::Single(r) => r.operation_name.clone(),
        BatchRequest::Batch(_) => Some("batch".to_owned()),
    };
    let results = &board.results;
    let lookup = match &request {
        BatchRequest::Single(single) => {
            let indexed = boards.iter().map(|b| b.live.indexed_block()).collect();
            results.lookup(single, indexed, min_block)
        }
        BatchRequest::Batch(_) => Lookup::Bypass,
    };
    let ticket = match lookup {
        Lookup::Hit(answer) => {
            finished(operation.as_deref(), "ok");
            return json_answer(answer);
        }
        Lookup::Miss(ticket) => Some(ticket),
        Lookup::Bypass => None,
    };
    let deadline = limits.request_timeout.saturating_sub(started.elapsed());
    let execution = snapshot::execute_batch(&board.schema, &board.context, limits.batch_wait, request);
    let Ok(response) = tokio::time::timeout(deadline, execution).await else {
        finished(operation.as_deref(), "timeout");
        return error_response(
            StatusCode::OK,
            ApiError::QueryTimeout.code(),
            ApiError::QueryTimeout.to_string(),
        );
    };
    let outcome = if response.is_ok() { "ok" } else { "error" };
    let mut answer = Capped { bytes: Vec::with_capacity(4096), limit: limits.max_response_bytes };
    if serde_json::to_writer(&mut answer, &response).is_err() {
        let error = ApiError::ResponseTooLarge { limit: limits.max_response_bytes };
        finished(operation.as_deref(), "too_large");
        return error_response(StatusCode::OK, error.code(), error.to_string());
    }
    finished(operation.as_deref(), outcome);
    let answer = Bytes::from(answer.bytes);
    if let Some(ticket) = ticket
        && response.is_ok()
    {
        results.store(ticket, answer.clone());
    }
    json_answer(answer)
}

/// A GraphQL answer already serialised.
fn json_answer(answer: Bytes) -> axum::response::Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], answer).into_response()
}

/// A buffer that refuses to grow past `limit` bytes: the answer is serialised into it, and a
/// too-large one stops at the limit instead of being built whole.
struct Capped {
    bytes: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + data.len() > self.limit {
            return Err(std::io::Error::other("the answer is over the size limit"));
        }
        self.bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn graphql_get(
    State(state): State<ApiState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> axum::response::Response {
    let Ok(upgrade) = upgrade else {
        return Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql").finish())
            .into_response();
    };
    let Some(protocol) = ws::protocol_of(&headers) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "WebSocket upgrades need the graphql-transport-ws subprotocol",
        );
    };
    let Some(board) = state.board() else {
        let error = ApiError::BoardNotIndexed;
        return error_response(StatusCode::SERVICE_UNAVAILABLE, error.code(), error.to_string());
    };
    let limits = state.config.ws;
    let Ok(connection) = Arc::clone(&state.connections).try_acquire_owned() else {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "TOO_MANY_CONNECTIONS",
            format!(
                "the server holds {} WebSocket connections, its limit; retry later",
                limits.max_connections
            ),
        );
    };
    let schema = board.schema.clone();
    let metrics = state.metrics.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        .on_upgrade(move |socket| ws::serve_socket(socket, schema, protocol, limits, metrics, connection))
}

/// Ready when the database answers, the backfill is done and the index is not stalled (see
/// [`crate::store::health`]); otherwise 503 with the reason. In `run`, the body also says what
/// this process's writer is doing (`indexer`: writing, standby, connecting, retrying).
async fn readyz(State(state): State<ApiState>) -> axum::response::Response {
    let writer = state.metrics.writer().state;
    let indexer = (writer != WriterState::Off).then(|| writer.label());
    let not_ready = |reason: String| {
        let body = json!({ "ready": false, "reason": reason, "indexer": indexer });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    };
    let Some(board) = state.board() else {
        let reason =
            state.waiting_for().unwrap_or_else(|| "the indexer has not registered this board yet".into());
        return not_ready(reason);
    };
    let served = &board.context.boards;
    let mut statuses = Vec::with_capacity(served.len());
    for on in served.iter() {
        match on.reader.status().await {
            Ok(status) => statuses.push((on.chain_id(), status)),
            Err(error) => {
                tracing::warn!(%error, "readiness check cannot read the database");
                return not_ready("the database is unreachable".into());
            }
        }
    }
    // Every board of the database, for the operator: which chain is unhealthy. Readiness is
    // this API's own boards': another chain's outage must not take this one out of service.
    // Read only once the database answered: a second wait on an unreachable one would double
    // the probe's time.
    let boards: Vec<serde_json::Value> = match served[0].reader.board_statuses_unmetered().await {
        Ok(statuses) => statuses
            .into_iter()
            .map(|status| {
                let on = served.iter().any(|b| b.reader.board() == status.board);
                let meta = BoardMeta::from_status(status, state.config.stall_after, on);
                json!({
                    "chainId": meta.chain_id.0,
                    "name": meta.name,
                    "status": store::BoardState::from(meta.status).as_str(),
                    "block": meta.block.map(|b| b.number.0),
                    "head": meta.head_block.map(|h| h.0),
                    "lastError": meta.last_error,
                })
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let unhealthy: Vec<&serde_json::Value> = boards
        .iter()
        .filter(|b| matches!(b["status"].as_str(), Some("ERROR" | "STALLED")))
        .map(|b| &b["name"])
        .collect();
    // Each served board's own readiness; the API is ready while any of them is (an API over
    // several chains keeps serving the healthy ones).
    let checks: Vec<(u64, Result<serde_json::Value, String>)> = statuses
        .iter()
        .map(|(chain_id, status)| (*chain_id, board_readiness(status.as_ref(), state.config.stall_after)))
        .collect();
    let each: Vec<serde_json::Value> = checks
        .iter()
        .map(|(chain_id, check)| match check {
            Ok(ready) => json!({ "chainId": chain_id, "ready": true, "synced": ready["synced"] }),
            Err(reason) => json!({ "chainId": chain_id, "ready": false, "reason": reason }),
        })
        .collect();
    let served_list = (checks.len() > 1).then_some(&each);
    let Some(ready) = checks.iter().find_map(|(_, check)| check.as_ref().ok()) else {
        let reason = checks
            .iter()
            .filter_map(|(chain_id, check)| check.as_ref().err().map(|r| (chain_id, r)))
            .map(
                |(chain_id, reason)| {
                    if checks.len() > 1 { format!("chain {chain_id}: {reason}") } else { reason.clone() }
                },
            )
            .collect::<Vec<_>>()
            .join("; ");
        let body = json!({ "ready": false, "reason": reason, "indexer": indexer, "boards": boards, "unhealthy": unhealthy, "served": served_list });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    };
    let body = json!({
        "ready": true,
        "block": ready["block"],
        "head": ready["head"],
        "synced": ready["synced"],
        "indexer": indexer,
        "boards": boards,
        "unhealthy": unhealthy,
        "served": served_list,
    });
    (StatusCode::OK, Json(body)).into_response()
}

/// Whether one served board can be served: registered, backfilled and not stalled; its block,
/// head and `synced`, or why not.
fn board_readiness(
    status: Option<&store::IndexStatus>,
    stall_after: std::time::Duration,
) -> Result<serde_json::Value, String> {
    let Some(status) = status else {
        return Err("the indexer has not registered this board yet".into());
    };
    if !status.backfill_done {
        let at = status.block.as_ref().map(|b| b.number);
        return Err(format!("backfilling: at block {at:?} of {:?}", status.finalized_number));
    }
    let health = status.health(stall_after);
    if let Some(stall) = health.stalled {
        return Err(stall.to_string());
    }
    Ok(json!({
        "block": status.block.as_ref().map(|b| b.number),
        "head": status.head_block,
        "synced": health.synced,
    }))
}

/// The process's metrics, and the index's lag and stall as this API judges them from the
/// database (so `serve` reports them for an indexer in another process).
async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    let statements = state
        .board()
        .map_or(0, |board| board.context.boards.iter().map(|b| b.reader.statements()).sum::<u64>());
    text.push_str(&format!(
        "# HELP jobboard_api_sql_statements_total SQL statements run by API reads.\n\
         # TYPE jobboard_api_sql_statements_total counter\njobboard_api_sql_statements_total {statements}\n",
    ));
    if let Some(board) = state.board() {
        let conflicts = board.context.boards[0].reader.pool().conflicts().counts();
        text.push_str(&format!(
            "# HELP jobboard_api_replica_conflicts_total Reads a hot standby cancelled to replay the primary (recovery conflicts), by what the API did: retried (ran the statement, or the request's snapshot, once more), gave_up (passed on as REPLICA_CONFLICT).\n\
             # TYPE jobboard_api_replica_conflicts_total counter\n\
             jobboard_api_replica_conflicts_total{{outcome=\"retried\"}} {}\n\
             jobboard_api_replica_conflicts_total{{outcome=\"gave_up\"}} {}\n",
            conflicts.retried, conflicts.gave_up,
        ));
        let cache = board.results.stats();
        text.push_str(&format!(
            "# HELP jobboard_api_result_cache_requests_total Requests by what the result cache did: hit (answered from it), miss (run, then kept), bypass (cache off, no change notices, a batch or extensions).\n\
             # TYPE jobboard_api_result_cache_requests_total counter\n\
             jobboard_api_result_cache_requests_total{{result=\"hit\"}} {}\n\
             jobboard_api_result_cache_requests_total{{result=\"miss\"}} {}\n\
             jobboard_api_result_cache_requests_total{{result=\"bypass\"}} {}\n\
             # HELP jobboard_api_result_cache_bytes Bytes of answers the result cache holds.\n\
             # TYPE jobboard_api_result_cache_bytes gauge\njobboard_api_result_cache_bytes {}\n\
             # HELP jobboard_api_result_cache_entries Answers the result cache holds.\n\
             # TYPE jobboard_api_result_cache_entries gauge\njobboard_api_result_cache_entries {}\n",
            cache.hits, cache.misses, cache.bypasses, cache.bytes, cache.entries,
        ));
    }
    let served = state.board().map(|board| board.context.boards.clone());
    let several = served.as_ref().is_some_and(|s| s.len() > 1);
    let mut index_series: Vec<(&str, &str, String, f64)> = Vec::new();
    for on in served.iter().flat_map(|s| s.iter()) {
        let Some(status) = on.reader.status_unmetered().await.ok().flatten() else { continue };
        // One board: unlabelled, as always; several: one series per chain.
        let label = if several { format!("{{chain_id=\"{}\"}}", on.chain_id()) } else { String::new() };
        let health = status.health(state.config.stall_after);
        let series = [
            (
                "jobboard_index_behind_blocks",
                "Head minus checkpoint, as the indexer last reported.",
                health.behind.unwrap_or(0) as f64,
            ),
            (
                "jobboard_index_stalled",
                "1 when the indexer is silent or stuck for --stall-after.",
                f64::from(u8::from(health.stalled.is_some())),
            ),
            ("jobboard_index_synced", "1 when _meta.synced is true.", f64::from(u8::from(health.synced))),
            (
                "jobboard_index_report_age_seconds",
                "Seconds since the indexer last reported.",
                status.reported_ago.as_secs_f64(),
            ),
            (
                "jobboard_index_progress_age_seconds",
                "Seconds since the checkpoint last moved.",
                status.advanced_ago.as_secs_f64(),
            ),
        ];
        index_series.extend(series.into_iter().map(|(name, help, value)| (name, help, label.clone(), value)));
    }
    // Each family once, with every board's sample under it.
    index_series.sort_by_key(|(name, ..)| *name);
    let mut family = "";
    for (name, help, label, value) in &index_series {
        if *name != family {
            text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
            family = name;
        }
        text.push_str(&format!("{name}{label} {value}\n"));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
