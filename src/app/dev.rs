//! `jobboard dev`: the whole board on this machine. The local stack (`crate::local::dev`)
//! comes up, `run` runs against it with the indexer's defaults, and the stack stops with it.

use std::net::SocketAddr;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::AppError;
use super::run::run;
use crate::cli::{ApiArgs, DevArgs, IndexArgs, RunArgs};
use crate::local::banner::dev_banner;
use crate::local::dev::{DevError, DevOptions, DevStack};
use crate::store::{Board, Reader};

/// The dev stack, then `run` against it, then the stack stopped.
///
/// # Errors
/// `--listen` taken, the stack not starting or stopping, or what stopped `run`.
pub async fn dev(args: DevArgs, cancel: CancellationToken) -> Result<(), AppError> {
    if std::net::TcpListener::bind(args.api.listen).is_err() {
        return Err(AppError::DevListenTaken(args.api.listen));
    }
    let options = DevOptions {
        data_dir: args.data_dir.clone(),
        anvil_port: args.anvil_port,
        postgres_port: args.postgres_port,
        reset: args.reset,
        seed: !args.no_seed,
        chains: args.chains,
    };
    // Dropping a half-started stack (Ctrl-C during start-up) stops what it started.
    let stack = tokio::select! {
        stack = DevStack::up(&options) => stack.map_err(AppError::DevStart)?,
        () = cancel.cancelled() => return Ok(()),
    };
    let run_args = match run_args(&stack, &args) {
        Ok(run_args) => run_args,
        Err(error) => {
            let _stopped = stack.down().await;
            return Err(error);
        }
    };
    let boards = std::iter::once(&stack.board)
        .chain(stack.others.iter().map(|chain| &chain.board))
        .map(|board| (Board { chain_id: board.chain_id, contract: board.address }, board.seeded_through))
        .collect();
    let ready = tokio::spawn(announce_when_indexed(
        args.api.listen,
        stack.database_url(),
        boards,
        dev_banner(&stack, args.api.listen),
        cancel.clone(),
    ));
    let ran = run(run_args, cancel.clone()).await;
    cancel.cancel();
    ready.abort();
    let stopped = stack.down().await.map_err(AppError::DevStop);
    ran?;
    stopped?;
    eprintln!(
        "jobboard dev: stopped; data kept in {} (run again to resume; `make dev-reset` starts clean)",
        args.data_dir.display()
    );
    Ok(())
}

/// `run`'s arguments against the stack: the indexer's defaults (as `jobboard index` with only
/// the required flags), new heads over anvil's WebSocket, `dev`'s own poll interval and API
/// flags. With several chains, the same through a boards file written to the data directory
/// ([`DevStack::boards_path`]), one board per chain.
///
/// # Errors
/// [`AppError::DevStart`] if the boards file cannot be written.
fn run_args(stack: &DevStack, args: &DevArgs) -> Result<RunArgs, AppError> {
    let board = stack.board;
    let mut index = IndexArgs::with_defaults(
        stack.anvil.endpoint.clone(),
        board.address,
        board.deploy_block,
        stack.database_url(),
    );
    // anvil serves WebSockets on the same port: new blocks show up at once.
    index.ws_url = stack.anvil.ws_endpoint();
    index.chain_id = Some(board.chain_id);
    index.poll_interval = args.poll_interval;
    if !stack.others.is_empty() {
        let path = stack.boards_path();
        std::fs::write(&path, stack.boards_file(args.poll_interval)).map_err(|source| {
            AppError::DevStart(DevError::Io { action: "writing", path: path.clone(), source })
        })?;
        index = IndexArgs {
            config: Some(path),
            rpc_urls: Vec::new(),
            contract: None,
            start_block: None,
            chain_id: None,
            ws_url: None,
            ..index
        };
    }
    Ok(RunArgs {
        index,
        api: ApiArgs {
            // The page offers anvil to a browser wallet that lacks the chain.
            public_rpc_urls: if args.api.public_rpc_urls.is_empty() {
                vec![stack.anvil.endpoint.to_string()]
            } else {
                args.api.public_rpc_urls.clone()
            },
            ..args.api.clone()
        },
    })
}

/// Prints `banner` once the index of every board has reached its block and the API listens on
/// `listen`: the demo is queryable by then. Only a courtesy: if the database cannot be read it
/// says nothing.
async fn announce_when_indexed(
    listen: SocketAddr,
    database_url: String,
    boards: Vec<(Board, u64)>,
    banner: String,
    cancel: CancellationToken,
) {
    let pool = match PgPoolOptions::new().max_connections(1).connect(&database_url).await {
        Ok(pool) => pool,
        Err(error) => {
            debug!(%error, "cannot watch the dev index; the banner is not printed");
            return;
        }
    };
    let Ok(readers) = boards
        .into_iter()
        .map(|(board, block)| Reader::new(pool.clone(), board).map(|reader| (reader, block)))
        .collect::<Result<Vec<_>, _>>()
    else {
        return;
    };
    while !cancel.is_cancelled() {
        // The tables appear with the indexer's migrations; until then reading fails.
        let mut indexed = true;
        for (reader, block) in &readers {
            let reached = matches!(reader.status().await, Ok(Some(status)) if status.block.as_ref().is_some_and(|b| b.number >= *block));
            indexed &= reached;
        }
        if indexed && tokio::net::TcpStream::connect(listen).await.is_ok() {
            println!("{banner}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
