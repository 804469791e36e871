//! `jobboard index` and `jobboard run`: the writer alone (with its metrics server), or the
//! writer and the API in one process; each a set of critical tasks that stop together.

use tokio_util::sync::CancellationToken;
use tracing::info;

use super::database::{api_pool_lazy, unreachable_database};
use super::node::connect_node;
use super::{AppError, listen};
use crate::api::{self, ApiConfig, ApiState};
use crate::chain::{ChainClient, redact, watch_new_heads};
use crate::cli::{IndexArgs, RunArgs};
use crate::indexer::{IndexerConfig, Writer, lock};
use crate::store::{Board, Reader};
use crate::tasks::Tasks;
use crate::telemetry::{self, Metrics};

/// `jobboard index`: the writer, and `/metrics` on `--metrics-listen` if set, until `cancel`
/// fires or one of them stops.
///
/// # Errors
/// A start-up check that failed, or the task that stopped the process.
pub async fn index(args: IndexArgs, cancel: CancellationToken) -> Result<(), AppError> {
    let tasks = Tasks::new(cancel);
    let metrics = Metrics::default();
    let (client, board) = connect_node(&args, &metrics).await?;
    if let Some(addr) = args.metrics_listen {
        let listener = listen(addr, "serving metrics", "--metrics-listen").await?;
        let token = tasks.token().clone();
        tasks.spawn_critical("serving metrics", telemetry::serve_metrics(listener, metrics.clone(), token));
        info!(%addr, "metrics at /metrics");
    }
    let writer = writer(&args, client, board, metrics, tasks.token())?;
    let cancel = tasks.token().clone();
    Ok(tasks.wait_with("indexing", writer.run(&cancel)).await?)
}

/// `jobboard run`: `index` and `serve` in one process, until `cancel` fires or one of the
/// writer, the API server and the live hub stops (then all stop).
///
/// # Errors
/// A start-up check that failed (the listen address first, so a taken port fails before the
/// node is asked anything), or the task that stopped the process.
pub async fn run(args: RunArgs, cancel: CancellationToken) -> Result<(), AppError> {
    let config = ApiConfig::try_from(&args.api)?;
    let listener = listen(args.api.listen, "listening", "--listen").await?;
    let tasks = Tasks::new(cancel);
    let metrics = Metrics::default();
    let (client, board) = connect_node(&args.index, &metrics).await?;
    // The writer migrates; until then (or while the database is away) reads fail and /readyz
    // says why, but the API answers.
    let pool = api_pool_lazy(&args.index.database.database_url, &args.api)?;
    let state = ApiState::waiting(config, metrics.clone());
    state.attach(Reader::new(pool, board)?, &tasks);
    info!(addr = %args.api.listen, "GraphQL API at /graphql (GraphiQL in a browser)");
    tasks.spawn_critical("serving the API", api::serve_on(listener, state, tasks.token().clone()));
    let writer = writer(&args.index, client, board, metrics, tasks.token())?;
    let cancel = tasks.token().clone();
    Ok(tasks.wait_with("indexing", writer.run(&cancel)).await?)
}

/// The writer, the critical task of `index` and `run`: it migrates the database, waits as a
/// standby while another process holds the writer lock, and waits out database and node
/// outages itself (see [`crate::indexer::supervise`]), so it stops only on shutdown or a
/// deterministic error.
fn writer(
    args: &IndexArgs,
    client: ChainClient,
    board: Board,
    metrics: Metrics,
    cancel: &CancellationToken,
) -> Result<Writer, AppError> {
    let urls: Vec<String> = args.rpc_urls.iter().map(redact).collect();
    info!(chain_id = board.chain_id, contract = %args.contract, start_block = args.start_block, rpc = ?urls, "starting indexer");
    let wake = args.ws_url.clone().map(|url| watch_new_heads(url, client.metrics().clone(), cancel.clone()));
    let database_url = &args.database.database_url;
    Ok(Writer {
        client,
        database: lock::writer_options(database_url).map_err(AppError::WriterDatabaseUrl)?,
        board,
        config: IndexerConfig::from(args),
        wake,
        metrics,
        hint: unreachable_database(database_url),
        rewind_to: args.rewind_to,
    })
}
