//! The HTTP surface: `POST /graphql` (JSON, batches too), `GET /graphql` (GraphiQL, or the
//! graphql-transport-ws upgrade), `/healthz`, `/readyz`, `/metrics`; and the `X-Min-Block`
//! wait.

use std::time::Instant;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql::{BatchRequest, Executor};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::ApiState;
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
        .with_state(state)
}

/// A GraphQL-shaped error response with one error and its code.
fn error_response(status: StatusCode, code: &str, message: impl Into<String>) -> axum::response::Response {
    let body = json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

async fn graphql_post(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> axum::response::Response {
    let started = Instant::now();
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("the request body is larger than {} bytes", state.config.max_body_bytes),
            );
        }
        Err(rejection) => return error_response(rejection.status(), "BAD_REQUEST", rejection.body_text()),
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
    if let Some(value) = headers.get(MIN_BLOCK_HEADER) {
        let Some(block) = value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) else {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                "X-Min-Block must be a decimal block number",
            );
        };
        if let Err(at) = state.context.live.wait_for_block(block, state.config.min_block_wait).await {
            let at = at.map_or_else(|| "no block".to_owned(), |b| format!("block {b}"));
            let error = super::ApiError::NotYetIndexed { wanted: block, at };
            state.metrics.api_request(None, "not_yet_indexed", started.elapsed());
            return error_response(StatusCode::OK, error.code(), error.to_string());
        }
    }
    let operation = match &request {
        BatchRequest::Single(r) => r.operation_name.clone(),
        BatchRequest::Batch(_) => Some("batch".to_owned()),
    };
    let response = state.schema.execute_batch(request).await;
    let outcome = if response.is_ok() { "ok" } else { "error" };
    state.metrics.api_request(operation.as_deref(), outcome, started.elapsed());
    Json(response).into_response()
}

async fn graphql_get(
    State(state): State<ApiState>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    protocol: Result<GraphQLProtocol, StatusCode>,
) -> axum::response::Response {
    match (upgrade, protocol) {
        (Ok(upgrade), Ok(protocol)) => {
            let schema = state.schema.clone();
            upgrade
                .protocols(ALL_WEBSOCKET_PROTOCOLS)
                .on_upgrade(move |socket| GraphQLWebSocket::new(socket, schema, protocol).serve())
        }
        (Ok(_), Err(_)) => error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "WebSocket upgrades need the graphql-transport-ws subprotocol",
        ),
        (Err(_), _) => {
            Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql").finish())
                .into_response()
        }
    }
}

/// Ready when the database answers, the backfill is done and the index is not stalled (see
/// [`crate::store::health`]); otherwise 503 with the reason. In `run`, the body also says what
/// this process's writer is doing (`indexer`: writing, standby, connecting, retrying).
async fn readyz(State(state): State<ApiState>) -> axum::response::Response {
    let reader = &state.context.reader;
    let writer = state.metrics.writer().state;
    let indexer = (writer != WriterState::Off).then(|| writer.label());
    let not_ready = |reason: String| {
        let body = json!({ "ready": false, "reason": reason, "indexer": indexer });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    };
    let status = match reader.status().await {
        Ok(Some(status)) => status,
        Ok(None) => return not_ready("the indexer has not registered this board yet".into()),
        Err(error) => {
            tracing::warn!(%error, "readiness check cannot read the database");
            return not_ready("the database is unreachable".into());
        }
    };
    if !status.backfill_done {
        let at = status.block.as_ref().map(|b| b.number);
        return not_ready(format!("backfilling: at block {at:?} of {:?}", status.finalized_number));
    }
    let health = status.health(state.config.stall_after);
    if let Some(stall) = health.stalled {
        return not_ready(stall.to_string());
    }
    let body = json!({
        "ready": true,
        "block": status.block.as_ref().map(|b| b.number),
        "head": status.head_block,
        "synced": health.synced,
        "indexer": indexer,
    });
    (StatusCode::OK, Json(body)).into_response()
}

/// The process's metrics, and the index's lag and stall as this API judges them from the
/// database (so `serve` reports them for an indexer in another process).
async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    text.push_str(&format!(
        "# HELP jobboard_api_sql_statements_total SQL statements run by API reads.\n\
         # TYPE jobboard_api_sql_statements_total counter\njobboard_api_sql_statements_total {}\n",
        state.context.reader.statements()
    ));
    if let Ok(Some(status)) = state.context.reader.status_unmetered().await {
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
        for (name, help, value) in series {
            text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"));
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
