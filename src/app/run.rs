//! `jobboard index` and `jobboard run`: the writers of every board (with their metrics server),
//! or the writers and the API in one process; each a set of critical tasks that stop together.

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::boards::{index_boards, plan, writers};
use super::database::api_pool_lazy;
use super::{AppError, listen};
use crate::api::{self, ApiConfig, ApiState};
use crate::cli::{IndexArgs, RunArgs};
use crate::store::Reader;
use crate::tasks::Tasks;
use crate::telemetry;

/// `jobboard index`: a writer per board, and `/metrics` on `--metrics-listen` (or the boards
/// file's `metrics_listen`) if set, until `cancel` fires or every board has stopped.
///
/// # Errors
/// A start-up check that failed (a boards file that cannot be used, or the flags' board's
/// node), or the task that stopped the process.
pub async fn index(args: IndexArgs, cancel: CancellationToken) -> Result<(), AppError> {
    let plan = plan(&args).await?;
    let tasks = Tasks::new(cancel);
    if let Some(addr) = plan.metrics_listen {
        let flag = if args.metrics_listen.is_some() { "--metrics-listen" } else { "metrics_listen" };
        let listener = listen(addr, "serving metrics", flag).await?;
        let token = tasks.token().clone();
        let boards = plan.boards.iter().map(|b| (b.config.chain_id, b.metrics.clone())).collect();
        tasks.spawn_critical("serving metrics", telemetry::serve_metrics(listener, boards, token));
        info!(%addr, "metrics at /metrics");
    }
    let writers = writers(plan, &tasks)?;
    let cancel = tasks.token().clone();
    Ok(tasks.wait_with("indexing", index_boards(writers, &cancel)).await?)
}

/// `jobboard run`: `index` and `serve` in one process, until `cancel` fires or the API server
/// or the live hub stops, or every board has stopped (then all stop).
///
/// The API serves every board of the boards file (lookups without `chainId` need one board;
/// lists without it merge every board), one board per chain: a second board on a chain already
/// served is indexed but not served (the log says so; `jobboard serve --chain-id` serves it).
///
/// # Errors
/// A start-up check that failed (the listen address first, so a taken port fails before the
/// node is asked anything), or the task that stopped the process.
pub async fn run(args: RunArgs, cancel: CancellationToken) -> Result<(), AppError> {
    let config = ApiConfig::try_from(&args.api)?;
    let listener = listen(args.api.listen, "listening", "--listen").await?;
    let plan = plan(&args.index).await?;
    let tasks = Tasks::new(cancel);
    let first = plan.boards.first().ok_or(AppError::MissingFlags)?;
    // The writer migrates; until then (or while the database is away) reads fail and /readyz
    // says why, but the API answers.
    let pool = api_pool_lazy(&plan.database_url, &args.api)?;
    let mut readers: Vec<Reader> = Vec::with_capacity(plan.boards.len());
    for planned in &plan.boards {
        let board = planned.board();
        if readers.iter().any(|r| r.board().chain_id == board.chain_id) {
            warn!(
                board = %planned.config.name,
                chain_id = board.chain_id,
                "a second board on this chain is indexed but not served by this API (`jobboard serve --contract … --chain-id …` serves it)"
            );
            continue;
        }
        readers.push(Reader::new(pool.clone(), board)?);
    }
    let state = ApiState::waiting(config, first.metrics.clone());
    state.attach_all(readers, &tasks);
    info!(addr = %args.api.listen, "GraphQL API at /graphql (GraphiQL in a browser)");
    tasks.spawn_critical("serving the API", api::serve_on(listener, state, tasks.token().clone()));
    let writers = writers(plan, &tasks)?;
    let cancel = tasks.token().clone();
    Ok(tasks.wait_with("indexing", index_boards(writers, &cancel)).await?)
}
