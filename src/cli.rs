//! The command line: every flag is also a `JOBBOARD_*` environment variable, and values are
//! parsed into typed form at start-up so a bad one fails fast, naming the flag.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::Address;
use clap::{Args, Parser, Subcommand};
use tower_http::cors::{AllowOrigin, CorsLayer};
use url::Url;

use crate::api::{self, ApiConfig, WsLimits};
use crate::args::{NodeArgs, parse_duration};
use crate::chain::RetryPolicy;
use crate::config::BoardConfig;
use crate::contract::LogAt;
use crate::indexer::{self, IndexerConfig};
use crate::web::PageConfig;

/// jobboard: an on-chain job board's contract tooling, indexer and GraphQL API.
#[derive(Debug, Parser)]
#[command(name = "jobboard", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once at start-up and moved once: boxing buys nothing")]
pub enum Command {
    /// Deploy a new JobBoard contract, signing with the key in JOBBOARD_PRIVATE_KEY or
    /// --keystore; prints its address and deploy block (the indexer's --contract and
    /// --start-block).
    Deploy(DeployArgs),
    /// Follow the board's events into PostgreSQL: backfill from the start block, then follow
    /// the head. One writer per board and database; a second one waits as a hot standby.
    /// Connect it to PostgreSQL directly: its writer lock is session-level, which a pooler in
    /// transaction mode does not keep.
    Index(IndexArgs),
    /// Apply the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Serve the GraphQL API from the database (any number of replicas; no node needed).
    Serve(ServeArgs),
    /// Index and serve in one process: `index` and `serve` together.
    Run(RunArgs),
    /// Print the GraphQL schema (SDL), as committed in schema.graphql.
    Schema,
    /// Employers: post, update and close jobs (signs with JOBBOARD_PRIVATE_KEY or --keystore).
    Job(crate::actions::JobArgs),
    /// Applicants and employers: submit, withdraw, set status, verify a document.
    Application(crate::actions::ApplicationArgs),
    /// The whole board on this machine: an embedded PostgreSQL and an anvil chain (data kept
    /// in --data-dir), the contract deployed, a demo seeded, the indexer and the API running.
    /// Ctrl-C stops everything; the next run resumes with the same data.
    Dev(DevArgs),
}

/// `jobboard dev`'s `--poll-interval`: faster than `index`'s, so a local transaction shows at once.
pub const DEV_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Arguments of `jobboard dev`.
#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Where the cluster, the chain's state and the demo documents are kept between runs.
    #[arg(long = "data-dir", env = "JOBBOARD_DEV_DATA_DIR", default_value = ".jobboard/dev")]
    pub data_dir: std::path::PathBuf,
    /// Delete the data directory first and start from a fresh chain and database.
    #[arg(long)]
    pub reset: bool,
    /// Deploy the board but seed no demo data.
    #[arg(long = "no-seed")]
    pub no_seed: bool,
    /// anvil's port on 127.0.0.1.
    #[arg(long = "anvil-port", env = "JOBBOARD_DEV_ANVIL_PORT", default_value_t = 8545)]
    pub anvil_port: u16,
    /// The embedded PostgreSQL's port on 127.0.0.1.
    #[arg(long = "postgres-port", env = "JOBBOARD_DEV_POSTGRES_PORT", default_value_t = 54320)]
    pub postgres_port: u16,
    /// How many chains to run: anvils on consecutive ports from --anvil-port with chain ids
    /// 31337, 31338, ..., the board deployed and seeded on each, all indexed by this process
    /// from a boards file it writes to the data directory. The API and the page show the first.
    #[arg(long, env = "JOBBOARD_DEV_CHAINS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub chains: u16,
    /// How often the indexer polls the chain for new blocks.
    #[arg(long = "poll-interval", env = "JOBBOARD_POLL_INTERVAL", default_value = shown(DEV_POLL_INTERVAL), value_parser = parse_duration)]
    pub poll_interval: Duration,
    #[command(flatten)]
    #[allow(missing_docs, reason = "flattened group")]
    pub api: ApiArgs,
}

/// Arguments of `jobboard serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    #[allow(missing_docs, reason = "flattened group")]
    pub database: DatabaseArgs,
    /// The JobBoard contract whose index to serve.
    #[arg(long, env = "JOBBOARD_CONTRACT")]
    pub contract: Address,
    /// Serve the board on this chain only; by default every chain the database indexes it on.
    #[arg(long = "chain-id", env = "JOBBOARD_CHAIN_ID")]
    pub chain_id: Option<u64>,
    #[command(flatten)]
    #[allow(missing_docs, reason = "flattened group")]
    pub pooler: PoolerArgs,
    #[command(flatten)]
    #[allow(missing_docs, reason = "flattened group")]
    pub api: ApiArgs,
}

/// What sits between `serve` and PostgreSQL (docs/adr/0018-connection-poolers.md).
#[derive(Debug, Clone, Args)]
pub struct PoolerArgs {
    /// What --database-url reaches: `none` (PostgreSQL itself, or a pooler in session mode),
    /// or `transaction` (a pooler in transaction mode, e.g. pgbouncer's pool_mode =
    /// transaction): every read then runs in its own read-only transaction as an unnamed
    /// statement, with --statement-timeout set for it; no startup options, no statement cache.
    #[arg(long = "db-pooler", env = "JOBBOARD_DB_POOLER", value_enum, default_value_t = Pooler::None)]
    pub db_pooler: Pooler,
    /// A direct PostgreSQL URL (never through a transaction pooler) on which subscriptions
    /// LISTEN for the indexer's change notices; one connection. Default: --database-url, unless
    /// --db-pooler transaction, where subscriptions then poll the index every 200 ms instead.
    #[arg(long = "listen-database-url", env = "JOBBOARD_LISTEN_DATABASE_URL", value_parser = parse_database_url)]
    pub listen_database_url: Option<String>,
}

/// The kinds of connection pooler `serve` knows how to read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pooler {
    /// No pooler, or one in session mode: the API's connections are sessions of their own.
    None,
    /// A pooler in transaction mode: a server connection is lent for one transaction.
    Transaction,
}

/// Arguments of `jobboard run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    #[allow(missing_docs, reason = "flattened group")]
    pub index: IndexArgs,
    #[command(flatten)]
    #[allow(missing_docs, reason = "flattened group")]
    pub api: ApiArgs,
}

/// How the API listens and what it allows.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// Address to serve HTTP on.
    #[arg(long, env = "JOBBOARD_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// Origins allowed to call the API from a browser; repeat or comma-separate; `*` for any.
    #[arg(long = "cors-origin", env = "JOBBOARD_CORS_ORIGIN", value_delimiter = ',', default_value = api::defaults::CORS_ORIGIN)]
    pub cors_origins: Vec<String>,
    /// Largest request body (and WebSocket message) accepted, in bytes.
    #[arg(long = "max-body-bytes", env = "JOBBOARD_MAX_BODY_BYTES", default_value_t = api::defaults::MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Deepest query accepted (nesting levels).
    #[arg(long = "max-depth", env = "JOBBOARD_MAX_DEPTH", default_value_t = api::defaults::MAX_DEPTH)]
    pub max_depth: usize,
    /// Most costly query accepted: a field costs 1, a list 1 plus its page size (first/last,
    /// default 20) times its fields, so aliases add up and nesting multiplies.
    #[arg(long = "max-complexity", env = "JOBBOARD_MAX_COMPLEXITY", default_value_t = api::defaults::MAX_COMPLEXITY)]
    pub max_complexity: usize,
    /// Most operations in one JSON batch (1 turns batching off).
    #[arg(long = "max-batch-size", env = "JOBBOARD_MAX_BATCH_SIZE", default_value_t = api::defaults::MAX_BATCH_SIZE, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_batch_size: u32,
    /// Largest answer sent, in bytes; a larger one is replaced by a RESPONSE_TOO_LARGE error.
    #[arg(long = "max-response-bytes", env = "JOBBOARD_MAX_RESPONSE_BYTES", default_value_t = api::defaults::MAX_RESPONSE_BYTES)]
    pub max_response_bytes: usize,
    /// Longest a request may run (the X-Min-Block wait included) before it is cancelled.
    #[arg(long = "request-timeout", env = "JOBBOARD_REQUEST_TIMEOUT", default_value = shown(api::defaults::REQUEST_TIMEOUT), value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Most WebSocket connections open at once.
    #[arg(long = "ws-max-connections", env = "JOBBOARD_WS_MAX_CONNECTIONS", default_value_t = api::defaults::WS_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..))]
    pub ws_max_connections: u32,
    /// Most subscriptions one WebSocket connection may hold at once.
    #[arg(long = "ws-max-subscriptions", env = "JOBBOARD_WS_MAX_SUBSCRIPTIONS", default_value_t = api::defaults::WS_MAX_SUBSCRIPTIONS, value_parser = clap::value_parser!(u32).range(1..))]
    pub ws_max_subscriptions: u32,
    /// How long a WebSocket client has to send connection_init.
    #[arg(long = "ws-init-timeout", env = "JOBBOARD_WS_INIT_TIMEOUT", default_value = shown(api::defaults::WS_INIT_TIMEOUT), value_parser = parse_duration)]
    pub ws_init_timeout: Duration,
    /// How often the server pings WebSocket clients; one silent for two intervals is dropped.
    #[arg(long = "ws-keepalive", env = "JOBBOARD_WS_KEEPALIVE", default_value = shown(api::defaults::WS_KEEPALIVE), value_parser = parse_duration)]
    pub ws_keepalive: Duration,
    /// How long a message may wait for a WebSocket client to read it before the client is
    /// dropped as a slow consumer.
    #[arg(long = "ws-send-timeout", env = "JOBBOARD_WS_SEND_TIMEOUT", default_value = shown(api::defaults::WS_SEND_TIMEOUT), value_parser = parse_duration)]
    pub ws_send_timeout: Duration,
    /// Largest `first`/`last` accepted.
    #[arg(long = "max-page-size", env = "JOBBOARD_MAX_PAGE_SIZE", default_value_t = api::defaults::MAX_PAGE_SIZE, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_page_size: u32,
    /// Cancel any SQL statement running longer than this.
    #[arg(long = "statement-timeout", env = "JOBBOARD_STATEMENT_TIMEOUT", default_value = shown(api::defaults::STATEMENT_TIMEOUT), value_parser = parse_duration)]
    pub statement_timeout: Duration,
    /// Longest wait for the index to reach a client's X-Min-Block.
    #[arg(long = "min-block-wait", env = "JOBBOARD_MIN_BLOCK_WAIT", default_value = shown(api::defaults::MIN_BLOCK_WAIT), value_parser = parse_duration)]
    pub min_block_wait: Duration,
    /// /readyz fails when the indexer has not reported for this long.
    #[arg(long = "stall-after", env = "JOBBOARD_STALL_AFTER", default_value = shown(api::defaults::STALL_AFTER), value_parser = parse_duration)]
    pub stall_after: Duration,
    /// How long a batched read (employers, revisions, nested pages of a list) gathers the keys
    /// of one level of a query before it runs.
    #[arg(long = "batch-wait", env = "JOBBOARD_BATCH_WAIT", default_value = shown(api::defaults::BATCH_WAIT), value_parser = parse_duration)]
    pub batch_wait: Duration,
    /// Most bytes of answers kept by the result cache (0 turns it off). Answers are keyed by
    /// query and variables, forgotten whenever the index moves, and only kept while change
    /// notices arrive (docs/adr/0017-result-cache.md).
    #[arg(long = "result-cache-bytes", env = "JOBBOARD_RESULT_CACHE_BYTES", default_value_t = api::defaults::RESULT_CACHE_BYTES)]
    pub result_cache_bytes: usize,
    /// Longest a cached answer is served, for what changes with time alone (a deadline
    /// passing, `_meta.head`).
    #[arg(long = "result-cache-ttl", env = "JOBBOARD_RESULT_CACHE_TTL", default_value = shown(api::defaults::RESULT_CACHE_TTL), value_parser = parse_duration)]
    pub result_cache_ttl: Duration,
    /// A JSON-RPC URL of the board's chain that the web page may offer to a browser wallet
    /// lacking the chain (`wallet_addEthereumChain`), shown in `_meta.publicRpcUrls`; repeat or
    /// comma-separate. Only public endpoints: everyone can read it.
    #[arg(long = "public-rpc-url", env = "JOBBOARD_PUBLIC_RPC_URL", value_delimiter = ',', value_parser = parse_public_rpc_url)]
    pub public_rpc_urls: Vec<String>,
    /// Serve the web page from this directory (a `web/dist` built by `node scripts/web.mjs
    /// build`) instead of the copy built into the binary: for working on the page.
    #[arg(long = "web-dir", env = "JOBBOARD_WEB_DIR", conflicts_with = "no_page")]
    pub web_dir: Option<std::path::PathBuf>,
    /// Serve no web page: only the API, health and metrics routes answer.
    #[arg(long = "no-page", env = "JOBBOARD_NO_PAGE")]
    pub no_page: bool,
    /// Database connections of the API's pool.
    #[arg(long = "db-connections", env = "JOBBOARD_DB_CONNECTIONS", default_value_t = api::defaults::DB_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_connections: u32,
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection URL. `index`, `run` and `migrate` need a session of their own (the
    /// writer's lock is session-level): PostgreSQL itself or a pooler in session mode, never one
    /// in transaction mode; `serve` can use one with --db-pooler transaction.
    #[arg(long = "database-url", env = "JOBBOARD_DATABASE_URL", value_parser = parse_database_url)]
    pub database_url: String,
}

/// Arguments of `jobboard index`: one board by flags, or several from a boards file
/// (`--config`); the two exclude each other.
#[derive(Debug, Clone, Args)]
pub struct IndexArgs {
    /// A boards file (TOML) listing the boards to index, on one or more chains, each in its own
    /// task (see jobboard.example.toml); replaces the board flags (--rpc-url, --contract, ...).
    #[arg(long, env = "JOBBOARD_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// JSON-RPC URL of an Ethereum node; repeat (or comma-separate) for failover: all must be on
    /// one chain, and the first whose head is near the highest is read from.
    #[arg(
        long = "rpc-url",
        env = "JOBBOARD_RPC_URL",
        value_delimiter = ',',
        required_unless_present = "config",
        conflicts_with = "config"
    )]
    pub rpc_urls: Vec<Url>,
    /// The JobBoard contract's address.
    #[arg(long, env = "JOBBOARD_CONTRACT", required_unless_present = "config", conflicts_with = "config")]
    pub contract: Option<Address>,
    /// The block to start from: the contract's deploy block (`jobboard deploy` prints it).
    #[arg(
        long = "start-block",
        env = "JOBBOARD_START_BLOCK",
        required_unless_present = "config",
        conflicts_with = "config"
    )]
    pub start_block: Option<u64>,
    /// The chain id the node must report (guards against indexing the wrong network).
    #[arg(long = "chain-id", env = "JOBBOARD_CHAIN_ID", conflicts_with = "config")]
    pub chain_id: Option<u64>,
    /// PostgreSQL connection URL (with --config, overrides the file's `database_url`).
    #[arg(long = "database-url", env = "JOBBOARD_DATABASE_URL", value_parser = parse_database_url, required_unless_present = "config")]
    pub database_url: Option<String>,
    /// Blocks below the head treated as final when the node has no `finalized` tag.
    #[arg(long, env = "JOBBOARD_CONFIRMATIONS", default_value_t = indexer::defaults::CONFIRMATIONS, conflicts_with = "config")]
    pub confirmations: u64,
    /// How often to poll the node for new blocks once caught up (e.g. 500ms, 2s, 1m).
    #[arg(long = "poll-interval", env = "JOBBOARD_POLL_INTERVAL", default_value = shown(indexer::defaults::POLL_INTERVAL), value_parser = parse_duration, conflicts_with = "config")]
    pub poll_interval: Duration,
    /// WebSocket URL of the node (ws:// or wss://): new heads announced over it wake the indexer
    /// at once instead of at the next poll; polling goes on as the fallback.
    #[arg(long = "ws-url", env = "JOBBOARD_WS_URL", value_parser = parse_ws_url, conflicts_with = "config")]
    pub ws_url: Option<Url>,
    /// Time-out of one JSON-RPC request.
    #[arg(long = "rpc-timeout", env = "JOBBOARD_RPC_TIMEOUT", default_value = shown(RetryPolicy::default().timeout), value_parser = parse_duration, conflicts_with = "config")]
    pub rpc_timeout: Duration,
    /// eth_getLogs requests in flight during backfill.
    #[arg(long = "fetch-concurrency", env = "JOBBOARD_FETCH_CONCURRENCY", default_value_t = indexer::defaults::FETCH_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=64), conflicts_with = "config")]
    pub fetch_concurrency: u16,
    /// Events per database transaction during backfill.
    #[arg(long = "batch-events", env = "JOBBOARD_BATCH_EVENTS", default_value_t = indexer::defaults::BATCH_EVENTS, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "config")]
    pub batch_events: u32,
    /// Most events loaded raw during the backfill and waiting for their projection beyond the
    /// chunk being projected (chunks are projected on a second connection beside the loads;
    /// the backfill's end projects the rest).
    #[arg(long = "projection-events", env = "JOBBOARD_PROJECTION_EVENTS", default_value_t = indexer::defaults::PROJECTION_EVENTS, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "config")]
    pub projection_events: u32,
    /// Longest eth_getLogs block range to request (ranges adapt below it).
    #[arg(long = "max-range", env = "JOBBOARD_MAX_RANGE", default_value_t = indexer::defaults::MAX_RANGE, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "config")]
    pub max_range: u64,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9100); off if unset. With
    /// --config, overrides the file's `metrics_listen`.
    #[arg(long = "metrics-listen", env = "JOBBOARD_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// At start, revert the index to block N (one transaction, as a reorg revert) and index
    /// again from N+1: the way past a reorg deeper than the reorg window. Unset it afterwards.
    #[arg(long = "rewind-to", env = "JOBBOARD_REWIND_TO", value_name = "N", conflicts_with = "config")]
    pub rewind_to: Option<u64>,
    /// Leave out a log that does not decode as a board event, at BLOCK:LOGINDEX as the
    /// indexer's error names it (repeat or comma-separate); a log that decodes is never skipped.
    #[arg(
        long = "skip-log",
        env = "JOBBOARD_SKIP_LOG",
        value_delimiter = ',',
        value_name = "BLOCK:LOGINDEX",
        conflicts_with = "config"
    )]
    pub skip_logs: Vec<LogAt>,
}

impl IndexArgs {
    /// Arguments as the command line would give them with only the required flags set: every
    /// other value is its flag's default (what `jobboard dev` runs with).
    pub fn with_defaults(
        rpc_url: Url,
        contract: Address,
        start_block: u64,
        database_url: String,
    ) -> IndexArgs {
        IndexArgs {
            config: None,
            rpc_urls: vec![rpc_url],
            contract: Some(contract),
            start_block: Some(start_block),
            chain_id: None,
            database_url: Some(database_url),
            confirmations: indexer::defaults::CONFIRMATIONS,
            poll_interval: indexer::defaults::POLL_INTERVAL,
            ws_url: None,
            rpc_timeout: RetryPolicy::default().timeout,
            fetch_concurrency: indexer::defaults::FETCH_CONCURRENCY,
            batch_events: indexer::defaults::BATCH_EVENTS,
            projection_events: indexer::defaults::PROJECTION_EVENTS,
            max_range: indexer::defaults::MAX_RANGE,
            metrics_listen: None,
            rewind_to: None,
            skip_logs: Vec::new(),
        }
    }

    /// The one board the flags describe, on `chain_id` (`--chain-id`, or the node's answer
    /// when it is unset), named by its chain id; `None` with `--config` (clap makes the board
    /// flags required otherwise).
    pub fn board_config(&self, chain_id: u64) -> Option<BoardConfig> {
        let (contract, start_block) = (self.contract?, self.start_block?);
        let mut config = IndexerConfig::new(contract, start_block);
        config.confirmations = self.confirmations;
        config.poll_interval = self.poll_interval;
        config.fetch_concurrency = usize::from(self.fetch_concurrency);
        config.batch_events = self.batch_events as usize;
        config.projection_events = self.projection_events as usize;
        config.max_range = self.max_range;
        config.skip_logs = self.skip_logs.iter().copied().collect();
        Some(BoardConfig {
            name: chain_id.to_string(),
            chain_id,
            rpc_urls: self.rpc_urls.clone(),
            ws_url: self.ws_url.clone(),
            rpc_timeout: self.rpc_timeout,
            indexer: config,
        })
    }
}

/// A flag whose value parsed but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    /// A `--cors-origin` is not something a browser sends as an `Origin` header.
    #[error("--cors-origin {origin:?} is not a valid origin")]
    CorsOrigin {
        /// The value given.
        origin: String,
        /// Why it is not a header value.
        #[source]
        source: axum::http::header::InvalidHeaderValue,
    },
}

impl TryFrom<&ApiArgs> for ApiConfig {
    type Error = FlagError;

    fn try_from(api: &ApiArgs) -> Result<ApiConfig, FlagError> {
        Ok(ApiConfig {
            max_body_bytes: api.max_body_bytes,
            min_block_wait: api.min_block_wait,
            stall_after: api.stall_after,
            batch_wait: api.batch_wait,
            max_depth: api.max_depth,
            max_complexity: api.max_complexity,
            max_batch_size: api.max_batch_size as usize,
            max_response_bytes: api.max_response_bytes,
            request_timeout: api.request_timeout,
            ws: WsLimits {
                max_connections: api.ws_max_connections as usize,
                max_subscriptions: api.ws_max_subscriptions as usize,
                max_message_bytes: api.max_body_bytes,
                init_timeout: api.ws_init_timeout,
                keepalive: api.ws_keepalive,
                send_timeout: api.ws_send_timeout,
            },
            pages: api::page_limits(api.max_page_size as usize),
            cors: cors_layer(&api.cors_origins)?,
            public_rpc_urls: api.public_rpc_urls.clone(),
            page: match (&api.web_dir, api.no_page) {
                (_, true) => PageConfig::Off,
                (Some(dir), false) => PageConfig::Directory(dir.clone()),
                (None, false) => PageConfig::Embedded,
            },
            result_cache_bytes: api.result_cache_bytes,
            result_cache_ttl: api.result_cache_ttl,
        })
    }
}

/// The cross-origin policy of `--cors-origin`: any origin for `*`, else exactly those listed.
fn cors_layer(origins: &[String]) -> Result<CorsLayer, FlagError> {
    if origins.iter().any(|o| o == "*") {
        return Ok(CorsLayer::permissive());
    }
    let origins = origins
        .iter()
        .map(|origin| {
            origin.parse().map_err(|source| FlagError::CorsOrigin { origin: origin.clone(), source })
        })
        .collect::<Result<Vec<axum::http::HeaderValue>, FlagError>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers(tower_http::cors::Any))
}

/// A default duration as its flag's help shows it ("250ms", "15s", "2m"): the shortest unit
/// that writes it exactly, read back by [`parse_duration`].
fn shown(duration: Duration) -> String {
    let millis = duration.as_millis();
    match (millis % 1000, millis / 1000) {
        (0, seconds) if seconds != 0 && seconds % 3600 == 0 => format!("{}h", seconds / 3600),
        (0, seconds) if seconds != 0 && seconds % 60 == 0 => format!("{}m", seconds / 60),
        (0, seconds) => format!("{seconds}s"),
        _ => format!("{millis}ms"),
    }
}

/// Parses a WebSocket URL, refusing other schemes (an http:// URL here is a likely mix-up with
/// --rpc-url).
///
/// # Errors
/// A message naming the accepted schemes.
pub fn parse_ws_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "ws" | "wss" => Ok(url),
        other => Err(format!("scheme {other}:// is not a WebSocket; use ws:// or wss://")),
    }
}

/// Checks that a database URL is a PostgreSQL URL, so a typo fails at start-up (a flag, or the
/// boards file's `database_url`).
///
/// # Errors
/// A message naming the expected form.
pub fn parse_database_url(text: &str) -> Result<String, String> {
    let url =
        Url::parse(text).map_err(|e| format!("not a URL ({e}); expected postgres://user@host:port/db"))?;
    if url.scheme() != "postgres" && url.scheme() != "postgresql" {
        return Err(format!("scheme '{}' is not postgres:// or postgresql://", url.scheme()));
    }
    Ok(text.to_owned())
}

/// Checks that a public RPC URL is an http(s) URL a wallet can use, so a typo fails at start-up.
fn parse_public_rpc_url(text: &str) -> Result<String, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL ({e}); expected https://host/path"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("scheme '{}' is not http:// or https://", url.scheme()));
    }
    Ok(url.to_string())
}

/// Arguments of `jobboard deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// The node to deploy through.
    #[command(flatten)]
    pub node: NodeArgs,
    /// The deploying account's key, loaded like every signing command's.
    #[command(flatten)]
    pub key: crate::actions::KeyArgs,
    /// Print the result as one JSON object (chainId, address, block, txHash) for scripts.
    #[arg(long, env = "JOBBOARD_JSON")]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn index_flags_fail_naming_the_flag() {
        let base = [
            "jobboard",
            "index",
            "--rpc-url",
            "http://127.0.0.1:8545",
            "--database-url",
            "postgres://x@h/db",
        ];
        let err =
            Cli::try_parse_from(base.iter().copied().chain(["--contract", "0x12", "--start-block", "1"]))
                .expect_err("a short address must be rejected");
        assert!(err.to_string().contains("--contract"), "{err}");
        let ok = Cli::try_parse_from(base.iter().copied().chain([
            "--contract",
            "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            "--start-block",
            "1",
            "--rpc-url",
            "http://127.0.0.1:8546",
        ]))
        .expect("valid flags parse");
        let Command::Index(args) = ok.command else { panic!("expected index") };
        assert_eq!(args.rpc_urls.len(), 2);
        assert_eq!(args.ws_url, None);
        let with_ws = ["--contract", "0x5fbdb2315678afecb367f032d93f642f64180aa3", "--start-block", "1"];
        let err =
            Cli::try_parse_from(base.iter().copied().chain(with_ws).chain(["--ws-url", "http://h:8545"]))
                .expect_err("an http:// URL must be rejected as --ws-url");
        assert!(err.to_string().contains("--ws-url") && err.to_string().contains("ws://"), "{err}");
        let ok = Cli::try_parse_from(base.iter().copied().chain(with_ws).chain(["--ws-url", "wss://h/ws"]))
            .expect("a wss:// URL parses");
        let Command::Index(args) = ok.command else { panic!("expected index") };
        assert_eq!(args.ws_url.map(String::from).as_deref(), Some("wss://h/ws"));
        let err = Cli::try_parse_from(["jobboard", "migrate", "--database-url", "mysql://x@h/db"])
            .expect_err("a non-postgres URL must be rejected");
        assert!(err.to_string().contains("--database-url"), "{err}");
    }

    #[test]
    fn defaults_show_as_they_parse() {
        for (duration, text) in [
            (Duration::from_millis(250), "250ms"),
            (Duration::from_millis(2), "2ms"),
            (Duration::from_secs(15), "15s"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_secs(7200), "2h"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(shown(duration), text);
            assert_eq!(parse_duration(text), Ok(duration));
        }
    }

    #[test]
    fn the_flags_defaults_are_the_configs_defaults() {
        let contract = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
        let command = Cli::command().mut_subcommand("run", |run| run.mut_args(|arg| arg.env(None)));
        let matches = command
            .try_get_matches_from([
                "jobboard",
                "run",
                "--rpc-url",
                "http://127.0.0.1:8545",
                "--database-url",
                "postgres://x@h/db",
                "--contract",
                contract,
                "--start-block",
                "7",
            ])
            .expect("the required flags suffice");
        let Command::Run(args) = Cli::from_arg_matches(&matches).expect("run's flags").command else {
            panic!("expected run")
        };
        let url: Url = "http://127.0.0.1:8545".parse().expect("a URL");
        let contract: Address = contract.parse().expect("an address");
        let by_hand = IndexArgs::with_defaults(url, contract, 7, "postgres://x@h/db".into());
        assert_eq!(format!("{:?}", args.index), format!("{by_hand:?}"));
        let from_flags = args.index.board_config(1).expect("flags, not a file").indexer;
        let library = IndexerConfig::new(contract, 7);
        assert_eq!(format!("{from_flags:?}"), format!("{library:?}"));
        let from_flags = ApiConfig::try_from(&args.api).expect("the default origin is valid");
        let library = ApiConfig::default();
        assert_eq!(format!("{from_flags:?}"), format!("{library:?}"));
    }

    #[test]
    fn a_boards_file_replaces_the_board_flags_and_refuses_them_beside_it() {
        let command = || Cli::command().mut_subcommand("index", |index| index.mut_args(|arg| arg.env(None)));
        let matches = command()
            .try_get_matches_from(["jobboard", "index", "--config", "boards.toml"])
            .expect("--config alone suffices");
        let Command::Index(args) = Cli::from_arg_matches(&matches).expect("index's flags").command else {
            panic!("expected index")
        };
        assert_eq!(args.config.as_deref(), Some(std::path::Path::new("boards.toml")));
        assert!(args.board_config(1).is_none());
        for flag in [["--contract", "0x5fbdb2315678afecb367f032d93f642f64180aa3"], ["--poll-interval", "1s"]]
        {
            let err = command()
                .try_get_matches_from(["jobboard", "index", "--config", "boards.toml", flag[0], flag[1]])
                .expect_err("a board flag beside --config is refused");
            let text = err.to_string();
            assert!(text.contains("--config") && text.contains(flag[0]), "{text}");
        }
        // --database-url and --metrics-listen are the process's, not a board's: they go with it.
        command()
            .try_get_matches_from([
                "jobboard",
                "index",
                "--config",
                "boards.toml",
                "--database-url",
                "postgres://x@h/db",
                "--metrics-listen",
                "127.0.0.1:9100",
            ])
            .expect("process-wide flags beside --config");
    }

    #[test]
    fn bad_rpc_url_fails_naming_the_flag() {
        let err = Cli::try_parse_from(["jobboard", "deploy", "--rpc-url", "not a url"])
            .expect_err("a malformed URL must be rejected at parse time");
        assert!(err.to_string().contains("--rpc-url"), "{err}");
    }
}
