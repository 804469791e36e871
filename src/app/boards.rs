//! The boards `index` and `run` follow, each in a task of its own: one board from the flags,
//! or every board of the boards file (`--config`).
//!
//! ```text
//! plan:  flags -> check the node (fails the start, as ever)      \
//!        file  -> parse and check it (fails the start)            > one Writer per board
//! index_boards: every board's Writer at once, none waiting on another; a board that stops
//!               on a deterministic error is logged and reported ERROR, the others go on;
//!               the call ends when every board has stopped (or on shutdown)
//! ```
//!
//! Each board has its own node client, writer lock, checkpoint, reorg window, metrics and
//! status; a board's node failing (at start or later) is waited out inside its own task
//! (docs/adr/0016).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::AppError;
use super::database::unreachable_database;
use super::node::connect_node;
use crate::chain::{ChainClient, RetryPolicy, redact, watch_new_heads};
use crate::cli::IndexArgs;
use crate::config::{BoardConfig, ConfigFile};
use crate::indexer::{IndexerError, Statuses, Writer, lock};
use crate::store::{Board, StatusWriter};
use crate::tasks::Tasks;
use crate::telemetry::Metrics;

/// What `index` or `run` was asked to index, checked.
pub(super) struct Plan {
    /// The database every board is written to.
    pub database_url: String,
    /// Where to serve `/metrics` (`index` only).
    pub metrics_listen: Option<SocketAddr>,
    /// The boards, in the order given; never empty.
    pub boards: Vec<PlannedBoard>,
}

/// One board, ready for its writer.
pub(super) struct PlannedBoard {
    /// Its settings.
    pub config: BoardConfig,
    /// Its node client (already connected for a board given by flags).
    pub client: ChainClient,
    /// Its own metrics, labelled by its chain id on `/metrics`.
    pub metrics: Metrics,
    /// Whether its task must check the node first (a board from the file).
    pub verify_node: bool,
    /// `--rewind-to` (flags only).
    pub rewind_to: Option<u64>,
}

impl PlannedBoard {
    /// The board's key.
    pub fn board(&self) -> Board {
        Board { chain_id: self.config.chain_id, contract: self.config.indexer.contract }
    }
}

/// Why the boards file gave no database.
#[derive(Debug, thiserror::Error)]
#[error("no database: set database_url in {} or pass --database-url", path.display())]
pub struct NoDatabaseUrl {
    /// The boards file.
    pub path: PathBuf,
}

/// Reads the boards file, or checks the flags' board against its node.
///
/// # Errors
/// A boards file that cannot be used, or (flags) a start-up check that failed.
pub(super) async fn plan(args: &IndexArgs) -> Result<Plan, AppError> {
    let Some(path) = &args.config else {
        let (Some(contract), Some(database_url)) = (args.contract, args.database_url.clone()) else {
            return Err(AppError::MissingFlags);
        };
        let metrics = Metrics::default();
        let (client, chain_id) = connect_node(args, contract, &metrics).await?;
        let config = args.board_config(chain_id).ok_or(AppError::MissingFlags)?;
        let board = PlannedBoard { config, client, metrics, verify_node: false, rewind_to: args.rewind_to };
        return Ok(Plan { database_url, metrics_listen: args.metrics_listen, boards: vec![board] });
    };
    let file = ConfigFile::load(path)?;
    let database_url = args
        .database_url
        .clone()
        .or(file.database_url)
        .ok_or_else(|| AppError::NoDatabaseUrl(NoDatabaseUrl { path: path.clone() }))?;
    let boards = file
        .boards
        .into_iter()
        .map(|config| {
            let metrics = Metrics::default();
            let retry = RetryPolicy { timeout: config.rpc_timeout, ..RetryPolicy::default() };
            let client =
                ChainClient::new(&config.rpc_urls, retry, metrics.clone()).map_err(AppError::RpcUrls)?;
            Ok(PlannedBoard { config, client, metrics, verify_node: true, rewind_to: None })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    info!(file = %path.display(), boards = boards.len(), "read the boards file");
    Ok(Plan { database_url, metrics_listen: args.metrics_listen.or(file.metrics_listen), boards })
}

/// One board's writer and what its log calls it.
pub(super) struct BoardWriter {
    name: String,
    board: Board,
    writer: Writer,
}

/// The writers of the plan's boards, and the task that writes their statuses (a critical task
/// of `tasks`: it never fails, and stops on the token).
///
/// # Errors
/// [`AppError::WriterDatabaseUrl`] if the database URL cannot make connect options.
pub(super) fn writers(plan: Plan, tasks: &Tasks) -> Result<Vec<BoardWriter>, AppError> {
    let database = lock::writer_options(&plan.database_url).map_err(AppError::WriterDatabaseUrl)?;
    let statuses = Statuses::default();
    let status_writer = StatusWriter::connect_lazy(&database, STATUS_CONNECT_TIMEOUT);
    tasks.spawn_critical_infallible(
        "writing board statuses",
        statuses.clone().write_until_cancelled(status_writer, tasks.token().clone()),
    );
    let cancel = tasks.token();
    let writers = plan
        .boards
        .into_iter()
        .map(|planned| {
            let board = planned.board();
            let PlannedBoard { config, client, metrics, verify_node, rewind_to } = planned;
            let urls: Vec<String> = config.rpc_urls.iter().map(redact).collect();
            info!(
                board = %config.name,
                chain_id = board.chain_id,
                contract = %board.contract,
                start_block = config.indexer.start_block,
                rpc = ?urls,
                "starting indexer"
            );
            let wake = config.ws_url.clone().map(|url| watch_new_heads(url, metrics.clone(), cancel.clone()));
            let status = statuses.reporter(board, &config.name);
            let writer = Writer {
                client,
                database: database.clone(),
                board,
                config: config.indexer,
                wake,
                metrics,
                hint: unreachable_database(&plan.database_url),
                rewind_to,
                verify_node,
                status: Some(status),
            };
            BoardWriter { name: config.name, board, writer }
        })
        .collect();
    Ok(writers)
}

/// How long a status write waits for a connection before it is retried later.
const STATUS_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A board stopped on an error that retrying cannot fix (its node on another chain, no
/// contract at its address, a log that does not decode, a reorg deeper than its window).
#[derive(Debug, thiserror::Error)]
#[error("board {name} (chain {chain_id}) stopped")]
pub struct BoardStopped {
    /// The board's name.
    pub name: String,
    /// Its chain.
    pub chain_id: u64,
    /// Why.
    #[source]
    pub source: IndexerError,
}

/// Runs every board's writer at once on this task until `cancel` fires or every board has
/// stopped. A board that stops is logged and left stopped (its status says ERROR); the others
/// go on.
///
/// The writers run on the caller's task (their futures are not `Send`, see
/// [`Tasks::wait_with`]): concurrently, each yielding at every await, so one board waiting on
/// its node never waits for another.
///
/// # Errors
/// The first board that stopped, once every board has stopped or shutdown was asked for.
pub(super) async fn index_boards(
    writers: Vec<BoardWriter>,
    cancel: &CancellationToken,
) -> Result<(), BoardStopped> {
    let total = writers.len();
    let runs = writers.into_iter().map(|BoardWriter { name, board, writer }| async move {
        let result = writer.run(cancel).await;
        result.map_err(|source| {
            error!(
                board = %name,
                chain_id = board.chain_id,
                error = %source,
                "BOARD STOPPED: this board is no longer indexed until the error is fixed and the process restarted; the other boards go on"
            );
            BoardStopped { name, chain_id: board.chain_id, source }
        })
    });
    let results = futures::future::join_all(runs).await;
    let mut stopped = results.into_iter().filter_map(Result::err);
    match stopped.next() {
        Some(first) => {
            if total > 1 {
                warn!(stopped = 1 + stopped.count(), total, "every board has ended");
            }
            Err(first)
        }
        None => Ok(()),
    }
}
