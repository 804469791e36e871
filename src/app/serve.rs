//! `jobboard serve`: the API alone, reading an index another process writes. It listens at
//! once and serves the board as soon as the indexer has registered it, so it starts in any
//! order with `index`.

use std::time::Duration;

use alloy::primitives::Address;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::database::{serve_pool_lazy, unreachable_database};
use super::{AppError, listen};
use crate::api::{self, ApiConfig, ApiState};
use crate::cli::ServeArgs;
use crate::store::{Board, ReadPool, Reader, chains_indexing};
use crate::tasks::Tasks;
use crate::telemetry::Metrics;

/// `jobboard serve`: answers `/healthz` at once, and the board's queries from when its index
/// appears. It never migrates (the writer or `jobboard migrate` does) and only reads: a role
/// with SELECT on the tables is enough.
///
/// Without `--chain-id` it serves the contract on every chain the database indexes it on (one
/// API over several chains), adding chains the indexer registers later within seconds.
///
/// # Errors
/// A flag that cannot be used, the listen address taken, or the task that stopped the process.
pub async fn serve(args: ServeArgs, cancel: CancellationToken) -> Result<(), AppError> {
    let config = ApiConfig::try_from(&args.api)?;
    // Lazy: `serve` starts, answers /healthz and says why it is not ready while the database
    // is away or the board is not indexed yet; `find_board` waits for both.
    let pool = serve_pool_lazy(&args)?;
    if pool.notices().is_none() {
        info!(
            "no --listen-database-url behind a transaction pooler: subscriptions follow the index by polling it every 200 ms, and the result cache is off"
        );
    }
    let listener = listen(args.api.listen, "listening", "--listen").await?;
    let addr = listener.local_addr().map_err(|source| AppError::Listen {
        doing: "listening",
        flag: "--listen",
        addr: args.api.listen,
        source,
    })?;
    info!(%addr, "GraphQL API at /graphql (GraphiQL in a browser)");
    let tasks = Tasks::new(cancel);
    let state = ApiState::waiting(config, Metrics::default());
    tasks.spawn_critical("serving the API", api::serve_on(listener, state.clone(), tasks.token().clone()));
    let found = tokio::select! {
        found = find_board(&pool, &args, &state) => Some(found),
        () = tasks.token().cancelled() => None,
    };
    match found.transpose() {
        Ok(Some(boards)) => {
            let mut readers = Vec::with_capacity(boards.len());
            for board in boards {
                info!(chain_id = board.chain_id, contract = %board.contract, "serving the board");
                match Reader::new(pool.clone(), board) {
                    Ok(reader) => readers.push(reader),
                    Err(error) => return stop_with(tasks, error.into()).await,
                }
            }
            state.attach_all(readers, &tasks);
            if args.chain_id.is_none() {
                let (pool, contract, state, adding) =
                    (pool.clone(), args.contract, state.clone(), tasks.clone());
                tasks.spawn_critical_infallible("serving chains registered later", async move {
                    serve_new_chains(&pool, contract, &state, &adding).await;
                });
            }
        }
        Ok(None) => {}
        Err(error) => return stop_with(tasks, error).await,
    }
    Ok(tasks.wait().await?)
}

/// How often `serve` looks for the contract on chains it does not serve yet.
const NEW_CHAINS_EVERY: Duration = Duration::from_secs(5);

/// Serves the contract on every chain the indexer registers it on after `serve` started (an
/// indexer with a boards file registers its boards one by one, and may be started after the
/// API, or given a new board later): looks every [`NEW_CHAINS_EVERY`] until `tasks` stop.
/// A chain whose board cannot be read (an id out of SQL's range) is logged once and left out;
/// the chains served go on meanwhile.
async fn serve_new_chains(pool: &ReadPool, contract: Address, state: &ApiState, tasks: &Tasks) {
    let mut failing = false;
    let mut refused = std::collections::HashSet::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(NEW_CHAINS_EVERY) => {}
            () = tasks.token().cancelled() => return,
        }
        let chains = match chains_indexing(pool, &contract).await {
            Ok(chains) => chains,
            Err(error) => {
                // The served boards' own reads report an unreachable database; say it once here.
                if !failing {
                    warn!(%error, "cannot look for chains registered since; retrying");
                    failing = true;
                }
                continue;
            }
        };
        failing = false;
        let new: Vec<u64> =
            chains.into_iter().filter(|&c| !state.serves_chain(c) && !refused.contains(&c)).collect();
        let mut readers = Vec::with_capacity(new.len());
        for chain_id in new {
            match Reader::new(pool.clone(), Board { chain_id, contract }) {
                Ok(reader) => readers.push(reader),
                Err(error) => {
                    warn!(chain_id, %error, "the board on this chain cannot be served; leaving it out");
                    refused.insert(chain_id);
                }
            }
        }
        let chains: Vec<u64> = readers.iter().map(|r| r.board().chain_id).collect();
        if state.attach_all(readers, tasks) {
            info!(
                ?chains,
                %contract,
                "serving the board on chains registered since start (lookups without chainId now need it when several chains are served)"
            );
        }
    }
}

/// Stops the tasks already started and returns `error`, the reason.
async fn stop_with(tasks: Tasks, error: AppError) -> Result<(), AppError> {
    tasks.token().cancel();
    // Their own exit is a consequence of stopping them; `error` is the cause worth reporting.
    let _stopped = tasks.wait().await;
    Err(error)
}

/// Waits until the indexer has registered the board `serve` was asked for (its tables may not
/// even exist yet), checking every second: the contract on `--chain-id`, or on every chain it
/// is indexed on.
async fn find_board(pool: &ReadPool, args: &ServeArgs, state: &ApiState) -> Result<Vec<Board>, AppError> {
    let mut reported = false;
    let mut unreadable = false;
    loop {
        let chains = match (chains_indexing(pool, &args.contract).await, args.chain_id) {
            (Ok(chains), Some(wanted)) => {
                state.set_waiting_for(None);
                chains.into_iter().filter(|&c| c == wanted).collect()
            }
            (Ok(chains), None) => {
                state.set_waiting_for(None);
                chains
            }
            (Err(error), _) => {
                state.set_waiting_for(if error.is_schema_missing() {
                    None
                } else if error.is_transient() {
                    Some("the database is unreachable".into())
                } else {
                    Some("the database refuses this reader (the log says why)".into())
                });
                if !unreadable {
                    warn!(%error, hint = %unreachable_database(&args.database.database_url), "the board's index cannot be read yet; retrying every second");
                    unreadable = true;
                }
                Vec::new()
            }
        };
        match chains.as_slice() {
            [] if !reported => {
                info!(contract = %args.contract, "waiting for `jobboard index` to register the board; /readyz says not ready until then");
                reported = true;
            }
            [] => {}
            chains => {
                return Ok(chains
                    .iter()
                    .map(|&chain_id| Board { chain_id, contract: args.contract })
                    .collect());
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
