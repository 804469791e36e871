//! The GraphQL API over HTTP and WebSocket: axum + async-graphql, reading through
//! [`crate::store::Reader`] only.
//!
//! ```text
//! router(state)
//!   POST /graphql   -> X-Min-Block wait -> schema (QueryRoot) -> loaders / reader -> PostgreSQL
//!   GET  /graphql   -> GraphiQL, or graphql-transport-ws -> SubscriptionRoot <- live hub <- NOTIFY
//!   /healthz /readyz /metrics
//! ```

mod codes;
mod cursor;
mod error;
mod http;
mod live;
mod loaders;
mod scalars;
mod schema;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tower_http::cors::CorsLayer;

pub use error::ApiError;
pub use http::MIN_BLOCK_HEADER;
pub use schema::{ApiSchema, PageLimits};

use crate::store::Reader;
use crate::telemetry::Metrics;

/// How the API behaves; every field is a `serve`/`run` flag.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Longest wait for `X-Min-Block`.
    pub min_block_wait: Duration,
    /// `/readyz` fails and `_meta.synced` is false when the indexer has not reported for this
    /// long, or has not advanced for this long while behind the head.
    pub stall_after: Duration,
    /// How long a batched read gathers one level's keys: longer batches more under load,
    /// shorter answers sooner.
    pub batch_wait: Duration,
    /// Query depth limit.
    pub max_depth: usize,
    /// Query complexity limit (roughly: fields selected, times page sizes).
    pub max_complexity: usize,
    /// Page sizes.
    pub pages: PageLimits,
    /// Cross-origin policy.
    pub cors: CorsLayer,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            min_block_wait: Duration::from_secs(5),
            stall_after: Duration::from_secs(120),
            batch_wait: Duration::from_millis(2),
            max_depth: 12,
            max_complexity: 5_000,
            pages: PageLimits::default(),
            cors: CorsLayer::permissive(),
        }
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    schema: codes::CodedSchema,
    context: schema::ApiContext,
    config: Arc<ApiConfig>,
    metrics: Metrics,
}

impl ApiState {
    /// Builds the state and starts the live hub (stopped by `cancel`).
    pub fn new(reader: Reader, config: ApiConfig, metrics: Metrics, cancel: CancellationToken) -> ApiState {
        let live = live::spawn(reader.clone(), cancel);
        let context = schema::ApiContext {
            loaders: Arc::new(loaders::loaders(reader.clone(), config.batch_wait)),
            reader,
            live,
            pages: config.pages,
            stall_after: config.stall_after,
        };
        let schema = schema::build_schema(Some(context.clone()), config.max_depth, config.max_complexity);
        ApiState { schema: codes::CodedSchema::new(schema), context, config: Arc::new(config), metrics }
    }

    /// The executable schema, for in-process queries (errors coded as over HTTP).
    pub fn schema(&self) -> &impl async_graphql::Executor {
        &self.schema
    }
}

/// The API's routes.
pub fn router(state: ApiState) -> axum::Router {
    http::routes(state)
}

/// Serves the API on `listen` until `cancel` fires, then drains for at most five seconds
/// (open subscriptions are closed).
///
/// # Errors
/// The bind error if the address is taken or not local.
pub async fn serve(listen: SocketAddr, state: ApiState, cancel: CancellationToken) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "GraphQL API at /graphql (GraphiQL in a browser)");
    serve_on(listener, state, cancel).await
}

/// Like [`serve`], on a listener the caller bound (tests bind port 0 and read the port).
///
/// # Errors
/// The I/O error that stopped the server.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: ApiState,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let server =
        axum::serve(listener, router(state)).with_graceful_shutdown(cancel.clone().cancelled_owned());
    let server = tokio::spawn(async move { server.await });
    cancel.cancelled().await;
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(std::io::Error::other(join)),
        Err(_) => {
            tracing::warn!("connections still open after 5 s; closing them");
            Ok(())
        }
    }
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema::build_schema(None, 1, 1).sdl()
}
