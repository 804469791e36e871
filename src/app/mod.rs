//! The long-running commands, from parsed flags to supervised tasks: `migrate`, `index`,
//! `serve`, `run` and `dev`. `main` parses and dispatches here; what each stage does lives in
//! its own module (`chain`, `indexer`, `store`, `api`), this one only wires them together.
//!
//! ```text
//! index: boards (flags or --config) -> a writer per board (+ metrics server)  \
//! serve: listen -> API; wait for the board's index -> live hub                  > critical tasks (crate::tasks):
//! run:   listen -> boards -> writers + API (first board) + live hub            /  one ends, all stop
//! dev:   local stack (anvil, PostgreSQL, demo) -> run -> stack stopped
//! ```

mod boards;
mod database;
mod dev;
mod node;
mod run;
mod serve;

use std::net::SocketAddr;

use alloy::primitives::Address;

pub use boards::{BoardStopped, NoDatabaseUrl};
pub use database::{LISTENER_NAME, migrate, unreachable_database};
pub use dev::dev;
pub use run::{index, run};
pub use serve::serve;

use crate::chain::ChainError;
use crate::cli::FlagError;
use crate::config::ConfigError;
use crate::local::dev::DevError;
use crate::store::StoreError;
use crate::tasks::TaskError;

/// Why a command could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A flag's value parsed but cannot be used.
    #[error(transparent)]
    Flag(#[from] FlagError),
    /// The boards file (`--config`) cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The boards file sets no `database_url` and no `--database-url` was given.
    #[error(transparent)]
    NoDatabaseUrl(NoDatabaseUrl),
    /// Neither `--config` nor the board flags (clap requires one of them: a bug if seen).
    #[error(
        "give the board by --rpc-url, --contract, --start-block and --database-url, or a boards file by --config"
    )]
    MissingFlags,
    /// `--database-url` does not parse as PostgreSQL connect options.
    #[error("parsing --database-url")]
    DatabaseUrl(#[source] sqlx::Error),
    /// The writer's connect options could not be built from `--database-url`.
    #[error("parsing --database-url")]
    WriterDatabaseUrl(#[source] StoreError),
    /// The database cannot be reached; `hint` says where we looked and what to check.
    #[error("{hint}")]
    Database {
        /// See [`unreachable_database`].
        hint: String,
        /// The connection error.
        #[source]
        source: sqlx::Error,
    },
    /// `jobboard migrate` failed to apply the migrations.
    #[error("applying migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The `--rpc-url` list cannot make a client.
    #[error("configuring --rpc-url")]
    RpcUrls(#[source] ChainError),
    /// The node is on another chain than `--chain-id`.
    #[error("--chain-id is {expected} but the node at {url} is on chain {found}")]
    WrongChainId {
        /// The endpoint, redacted.
        url: String,
        /// `--chain-id`.
        expected: u64,
        /// The node's chain.
        found: u64,
    },
    /// Two `--rpc-url`s are on different chains.
    #[error("every --rpc-url must serve the same chain")]
    MixedChains(#[source] ChainError),
    /// No endpoint answered `eth_chainId`.
    #[error("asking {urls} for its chain id: is --rpc-url an Ethereum JSON-RPC node?")]
    NotANode {
        /// The endpoints, redacted and comma-separated.
        urls: String,
        /// The last failure.
        #[source]
        source: ChainError,
    },
    /// The node failed while `--contract`'s code was looked up.
    #[error("checking --contract")]
    CheckContract(#[source] ChainError),
    /// `--contract` has no code on the node's chain.
    #[error(
        "no contract at {contract} on chain {chain_id}: check --contract and that --rpc-url points at the right network"
    )]
    NoContract {
        /// `--contract`.
        contract: Address,
        /// The node's chain.
        chain_id: u64,
    },
    /// A listening address cannot be bound (in use, or not local).
    #[error("{doing} on {flag} {addr}")]
    Listen {
        /// What the listener is for ("listening", "serving metrics").
        doing: &'static str,
        /// The flag that gave the address.
        flag: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The bind error.
        #[source]
        source: std::io::Error,
    },
    /// The store refused the board (e.g. a chain id beyond PostgreSQL's BIGINT).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A critical task ended: the process stops with it.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// `dev`'s `--listen` is taken.
    #[error(
        "{0} is already in use (another `jobboard dev`?): stop what listens there, or pass --listen 127.0.0.1:<free port>"
    )]
    DevListenTaken(SocketAddr),
    /// The dev stack (anvil, PostgreSQL, the demo) did not start.
    #[error("starting the dev stack")]
    DevStart(#[source] DevError),
    /// The dev stack did not stop cleanly.
    #[error("stopping the dev stack")]
    DevStop(#[source] DevError),
}

/// Binds `addr` for `flag`, failing with an error that names both.
async fn listen(
    addr: SocketAddr,
    doing: &'static str,
    flag: &'static str,
) -> Result<tokio::net::TcpListener, AppError> {
    tokio::net::TcpListener::bind(addr).await.map_err(|source| AppError::Listen { doing, flag, addr, source })
}
