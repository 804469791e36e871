//! The GraphQL API over HTTP and WebSocket: axum + async-graphql, reading through
//! [`crate::store::Reader`] only.
//!
//! ```text
//! router(state)
//!   POST /graphql   -> limits (body, batch, cost, deadline, answer size) -> X-Min-Block wait
//!                   -> schema (QueryRoot) -> loaders / reader -> PostgreSQL
//!   GET  /graphql   -> GraphiQL, or graphql-transport-ws (bounded: ws.rs) -> SubscriptionRoot
//!                   <- live hub <- NOTIFY
//!   /healthz /readyz /metrics
//! ```
//!
//! The state can exist before the board does (`serve` started before `index`): until the
//! indexer registers it, `/readyz` says so and queries answer `NOT_YET_INDEXED`.

mod across;
mod codes;
mod config;
mod cursor;
mod error;
mod http;
mod live;
mod loaders;
mod min_block;
mod result_cache;
mod scalars;
mod schema;
mod snapshot;
mod ws;

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub use config::{ApiConfig, defaults, page_limits};
pub use error::ApiError;
pub use http::MIN_BLOCK_HEADER;
pub use schema::{ApiSchema, PageLimits};
pub use ws::WsLimits;

use crate::store::Reader;
use crate::tasks::Tasks;
use crate::telemetry::Metrics;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    config: Arc<ApiConfig>,
    metrics: Metrics,
    /// The schema and the boards' readers, once the indexer has registered the boards; replaced
    /// whole when a board is added, so a request reads one set of boards from start to end.
    board: Arc<RwLock<Option<Arc<Board>>>>,
    /// One permit per WebSocket connection the server may still accept.
    connections: Arc<Semaphore>,
    /// Why there is no board yet, when it is not simply "not registered" (the database is
    /// unreachable): `/readyz` says it.
    waiting_for: Arc<std::sync::Mutex<Option<String>>>,
}

/// The part of the state that needs the boards.
#[derive(Clone)]
struct Board {
    schema: codes::CodedSchema,
    context: schema::ApiContext,
    /// The answers of every board, kept valid by every board's live hub.
    results: Arc<result_cache::ResultCache>,
}

impl ApiState {
    /// Builds the state for `reader`'s board and starts the live hub (stopped by `cancel`,
    /// which it fires if it fails).
    pub fn new(reader: Reader, config: ApiConfig, metrics: Metrics, cancel: CancellationToken) -> ApiState {
        let state = ApiState::waiting(config, metrics);
        state.attach(reader, &Tasks::new(cancel));
        state
    }

    /// A state with no board yet: it serves `/healthz`, and says "not indexed yet" everywhere
    /// else until [`ApiState::attach`] gives it one.
    pub fn waiting(config: ApiConfig, metrics: Metrics) -> ApiState {
        let connections = Arc::new(Semaphore::new(config.ws.max_connections));
        ApiState {
            config: Arc::new(config),
            metrics,
            board: Arc::default(),
            connections,
            waiting_for: Arc::default(),
        }
    }

    /// Records why the board cannot be looked up yet (`None`: it simply is not registered);
    /// `/readyz` reports it until the board is attached.
    pub fn set_waiting_for(&self, reason: Option<String>) {
        *self.waiting_for.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = reason;
    }

    fn waiting_for(&self) -> Option<String> {
        self.waiting_for.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Gives the state its board: see [`ApiState::attach_all`].
    pub fn attach(&self, reader: Reader, tasks: &Tasks) -> bool {
        self.attach_all(vec![reader], tasks)
    }

    /// Adds the boards of `readers` this state does not serve yet: starts a live hub for each
    /// as one of `tasks` (critical tasks: the API cannot push to subscriptions without them)
    /// and swaps in a schema over every board. Boards already served keep their place, reader,
    /// loaders and hub, so the first board stays the one that lookups without `chainId` (while
    /// it is the only one) and `X-Min-Block: N` mean. A request, or a WebSocket connection,
    /// keeps the set of boards it started with; the next ones see the new set.
    ///
    /// Returns false (and changes nothing) if no reader adds a board: `readers` is empty, or
    /// every chain it names is served already. A chain named twice is added once (a `chainId`
    /// must say which board).
    pub fn attach_all(&self, readers: Vec<Reader>, tasks: &Tasks) -> bool {
        let config = &self.config;
        let mut slot = self.board.write().unwrap_or_else(PoisonError::into_inner);
        let (mut boards, results) = match slot.as_deref() {
            Some(board) => (board.context.boards.to_vec(), Arc::clone(&board.results)),
            None => (
                Vec::new(),
                Arc::new(result_cache::ResultCache::new(
                    config.result_cache_bytes,
                    config.result_cache_ttl,
                    0,
                )),
            ),
        };
        let served = boards.len();
        for reader in readers {
            if boards.iter().any(|b| b.chain_id() == reader.board().chain_id) {
                continue;
            }
            // The hub's number in the cache is the board's place in the list.
            let hub = results.add_hub();
            boards.push(schema::BoardApi {
                loaders: Arc::new(loaders::loaders(reader.clone(), config.batch_wait)),
                live: live::spawn(reader.clone(), self.metrics.clone(), results.clone(), hub, tasks),
                reader,
            });
        }
        if boards.len() == served {
            return false;
        }
        let context = schema::ApiContext {
            boards: boards.into(),
            pages: config.pages,
            stall_after: config.stall_after,
            public_rpc_urls: config.public_rpc_urls.clone().into(),
        };
        let schema = schema::build_schema(Some(context.clone()), config.max_depth, config.max_complexity);
        let schema = codes::CodedSchema::new(schema, schema::build_pricing_schema(), config.max_complexity);
        *slot = Some(Arc::new(Board { schema, context, results }));
        true
    }

    /// Whether a board on `chain_id` is served.
    pub fn serves_chain(&self, chain_id: u64) -> bool {
        self.board().is_some_and(|board| board.context.boards.iter().any(|b| b.chain_id() == chain_id))
    }

    /// The boards served now (`None` before the first is attached).
    fn board(&self) -> Option<Arc<Board>> {
        self.board.read().unwrap_or_else(PoisonError::into_inner).clone()
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
