//! How the API behaves, and its defaults: the one place they are written. The `serve`/`run`
//! flags take their defaults from [`defaults`] (`crate::cli`), and so does [`ApiConfig::default`]
//! (used by tests and benches), so a flag's help and the library cannot disagree.

use std::time::Duration;

use tower_http::cors::CorsLayer;

use super::schema::PageLimits;
use super::ws::WsLimits;

/// The API's defaults, as the `serve`/`run` flags show them (docs/adr/0011-api-limits.md).
pub mod defaults {
    use std::time::Duration;

    /// `--cors-origin`: any origin.
    pub const CORS_ORIGIN: &str = "*";
    /// `--max-body-bytes`.
    pub const MAX_BODY_BYTES: usize = 256 * 1024;
    /// `--max-depth`.
    pub const MAX_DEPTH: usize = 12;
    /// `--max-complexity`.
    pub const MAX_COMPLEXITY: usize = 50_000;
    /// `--max-batch-size`.
    pub const MAX_BATCH_SIZE: u32 = 10;
    /// `--max-response-bytes`.
    pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
    /// `--request-timeout`.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
    /// `--ws-max-connections`.
    pub const WS_MAX_CONNECTIONS: u32 = 1024;
    /// `--ws-max-subscriptions`.
    pub const WS_MAX_SUBSCRIPTIONS: u32 = 32;
    /// `--ws-init-timeout`.
    pub const WS_INIT_TIMEOUT: Duration = Duration::from_secs(10);
    /// `--ws-keepalive`.
    pub const WS_KEEPALIVE: Duration = Duration::from_secs(30);
    /// `--ws-send-timeout`.
    pub const WS_SEND_TIMEOUT: Duration = Duration::from_secs(10);
    /// Rows of a list when the query gives neither `first` nor `last` (capped by
    /// `--max-page-size`).
    pub const PAGE_SIZE: usize = 20;
    /// `--max-page-size`.
    pub const MAX_PAGE_SIZE: u32 = 1000;
    /// `--statement-timeout`.
    pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
    /// `--min-block-wait`.
    pub const MIN_BLOCK_WAIT: Duration = Duration::from_secs(5);
    /// `--stall-after`.
    pub const STALL_AFTER: Duration = Duration::from_secs(120);
    /// `--batch-wait`.
    pub const BATCH_WAIT: Duration = Duration::from_millis(2);
    /// `--db-connections`.
    pub const DB_CONNECTIONS: u32 = 16;
    /// `--result-cache-bytes`.
    pub const RESULT_CACHE_BYTES: usize = 32 * 1024 * 1024;
    /// `--result-cache-ttl`: the precision of deadlines, which decide whether a job is open.
    pub const RESULT_CACHE_TTL: Duration = Duration::from_secs(1);
}

/// How the API behaves; every field is a `serve`/`run` flag (docs/adr/0011-api-limits.md).
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
    /// Query cost limit: a list costs its page size times its fields (see `schema::cost`).
    pub max_complexity: usize,
    /// Most operations in one JSON batch; 1 turns batching off.
    pub max_batch_size: usize,
    /// Largest answer sent; a larger one is replaced by a `RESPONSE_TOO_LARGE` error.
    pub max_response_bytes: usize,
    /// Longest a request may run, whatever it waits on.
    pub request_timeout: Duration,
    /// WebSocket bounds.
    pub ws: WsLimits,
    /// Page sizes.
    pub pages: PageLimits,
    /// Cross-origin policy.
    pub cors: CorsLayer,
    /// JSON-RPC endpoints offered to browser wallets in `_meta.publicRpcUrls`.
    pub public_rpc_urls: Vec<String>,
    /// The web page served beside the API (`/` and every path the API does not answer).
    pub page: crate::web::PageConfig,
    /// Most bytes of answers the result cache keeps; 0 turns it off.
    pub result_cache_bytes: usize,
    /// Longest a cached answer is served, for what changes with time alone (a deadline
    /// passing, `_meta.head`); the index moving invalidates answers at once.
    pub result_cache_ttl: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: defaults::MAX_BODY_BYTES,
            min_block_wait: defaults::MIN_BLOCK_WAIT,
            stall_after: defaults::STALL_AFTER,
            batch_wait: defaults::BATCH_WAIT,
            max_depth: defaults::MAX_DEPTH,
            max_complexity: defaults::MAX_COMPLEXITY,
            max_batch_size: defaults::MAX_BATCH_SIZE as usize,
            max_response_bytes: defaults::MAX_RESPONSE_BYTES,
            request_timeout: defaults::REQUEST_TIMEOUT,
            ws: WsLimits::default(),
            pages: page_limits(defaults::MAX_PAGE_SIZE as usize),
            cors: CorsLayer::permissive(),
            public_rpc_urls: Vec::new(),
            page: crate::web::PageConfig::default(),
            result_cache_bytes: defaults::RESULT_CACHE_BYTES,
            result_cache_ttl: defaults::RESULT_CACHE_TTL,
        }
    }
}

/// Page sizes under a largest page of `max`: the default page never exceeds it.
pub fn page_limits(max: usize) -> PageLimits {
    PageLimits { default: defaults::PAGE_SIZE.min(max), max }
}
