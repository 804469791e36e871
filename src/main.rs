//! The `jobboard` binary: parse the command line, start logging, dispatch.

use std::time::Duration;

use alloy::providers::ProviderBuilder;
use anyhow::{Context, Result, bail};
use clap::Parser;
use jobboard::api::{self, ApiConfig, ApiState};
use jobboard::chain::{ChainClient, ChainError, RetryPolicy, deploy_board, redact, watch_new_heads};
use jobboard::cli::{
    ApiArgs, Cli, Command, DatabaseArgs, DeployArgs, DevArgs, IndexArgs, RunArgs, ServeArgs,
};
use jobboard::indexer::{IndexerConfig, Writer, lock};
use jobboard::local::dev::{DevOptions, DevStack};
use jobboard::shutdown;
use jobboard::store::{Board, MIGRATOR, Reader, chains_indexing};
use jobboard::telemetry::{self, Metrics};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio_util::sync::CancellationToken;
use tracing::info;

/// mimalloc instead of glibc's malloc: the API allocates many small, short-lived objects per
/// request across threads, where glibc spent a fifth of the server's CPU (measured with perf
/// under `cargo bench --bench api`). See [`with_allocator_options`] for its one setting.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The mimalloc option `jobboard` runs with, and its value.
const PURGE_DELAY: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "0");

fn main() -> Result<()> {
    with_allocator_options();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run_command())
}

/// Makes sure mimalloc returns freed memory to the OS at once (`MIMALLOC_PURGE_DELAY=0`)
/// instead of after its default second: the indexer frees a batch's buffers every fraction of a
/// second, and the delay alone held ~90 MiB (peak RSS of `jobboard index` over 100k events:
/// 216 MiB with the default, 130 MiB with 0; API requests/s unchanged; docs/adr/0006).
///
/// mimalloc reads its options from the environment as it initialises, before `main`, and
/// setting one later takes `unsafe` FFI, which this crate forbids; so unless the variable is
/// already set (an operator's choice wins), `jobboard` replaces itself once with the same
/// program, arguments and PID, the variable set. If that fails, it runs on with the default.
fn with_allocator_options() {
    use std::os::unix::process::CommandExt;

    let (name, value) = PURGE_DELAY;
    if std::env::var_os(name).is_some() {
        return;
    }
    let Ok(program) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| program.clone().into_os_string());
    // `exec` returns only if it failed.
    let _failed = std::process::Command::new(&program).arg0(arg0).args(args).env(name, value).exec();
}

async fn run_command() -> Result<()> {
    let cli = Cli::parse();
    telemetry::init();
    match cli.command {
        Command::Deploy(args) => deploy(args).await,
        Command::Index(args) => index(args).await,
        Command::Migrate(args) => migrate(&args).await,
        Command::Serve(args) => serve(args).await,
        Command::Run(args) => run(args, shutdown::on_signal()).await,
        Command::Dev(args) => dev(args).await,
        Command::Schema => {
            print!("{}", jobboard::api::sdl());
            Ok(())
        }
        Command::Job(args) => Ok(jobboard::actions::run_job(args).await?),
        Command::Application(args) => application(args).await,
    }
}

/// `jobboard application`: `verify` exits with 1 on a mismatch (after printing its report)
/// and with 2 when it could not check, so scripts can tell the two apart.
async fn application(args: jobboard::actions::ApplicationArgs) -> Result<()> {
    use jobboard::actions::{ApplicationCommand, Verdict};
    let verifying = matches!(args.command, ApplicationCommand::Verify(_));
    match jobboard::actions::run_application(args).await {
        Ok(Verdict::Done) => Ok(()),
        Ok(Verdict::Mismatch) => std::process::exit(1),
        Err(error) if verifying => {
            eprintln!("Error: {:?}", anyhow::Error::from(error));
            std::process::exit(2)
        }
        Err(error) => Err(error.into()),
    }
}

async fn deploy(args: DeployArgs) -> Result<()> {
    let signer = jobboard::actions::load_signer(args.key.keystore.as_deref())?;
    let account = signer.address();
    let url = redact(&args.node.rpc_url);
    let provider = ProviderBuilder::new().wallet(signer).connect_http(args.node.rpc_url.clone());
    let deployment = match deploy_board(&provider).await {
        Ok(deployment) => deployment,
        Err(error) => {
            if let Some(explained) =
                jobboard::actions::explain_deploy_refusal(&provider, account, &url, &error).await
            {
                return Err(explained.into());
            }
            return Err(error).with_context(|| format!("deploying JobBoard through {url}"));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string(&deployment).context("serializing the deployment")?);
    } else {
        println!("JobBoard deployed on chain {}", deployment.chain_id);
        println!("  address: {}", deployment.address);
        println!("  block:   {}", deployment.block);
        println!("  tx:      {}", deployment.tx_hash);
    }
    Ok(())
}

async fn migrate(args: &DatabaseArgs) -> Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&args.database_url)
        .await
        .with_context(|| unreachable_database(&args.database_url))?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    info!("database schema is up to date");
    Ok(())
}

async fn index(args: IndexArgs) -> Result<()> {
    let cancel = shutdown::on_signal();
    let metrics = Metrics::default();
    let (client, board) = connect_node(&args, &metrics).await?;
    if let Some(addr) = args.metrics_listen {
        telemetry::serve_metrics(addr, metrics.clone(), cancel.clone())
            .await
            .with_context(|| format!("serving metrics on --metrics-listen {addr}"))?;
        info!(%addr, "metrics at /metrics");
    }
    run_indexer(&args, client, board, metrics, cancel).await
}

/// Connects to the node and checks it is the right chain and holds the contract.
async fn connect_node(args: &IndexArgs, metrics: &Metrics) -> Result<(ChainClient, Board)> {
    let retry = RetryPolicy { timeout: args.rpc_timeout, ..RetryPolicy::default() };
    let client = ChainClient::new(&args.rpc_urls, retry, metrics.clone()).context("configuring --rpc-url")?;
    let urls: Vec<String> = args.rpc_urls.iter().map(redact).collect();
    // Every endpoint must be on one chain: a second --rpc-url on another chain is refused here.
    let chain_id = match client.connect(args.chain_id).await {
        Ok(chain_id) => chain_id,
        Err(ChainError::WrongChain { url, expected, found }) if args.chain_id.is_some() => {
            bail!("--chain-id is {expected} but the node at {url} is on chain {found}")
        }
        Err(error @ ChainError::WrongChain { .. }) => {
            return Err(error).context("every --rpc-url must serve the same chain");
        }
        Err(error) => {
            return Err(error).with_context(|| {
                format!(
                    "asking {} for its chain id: is --rpc-url an Ethereum JSON-RPC node?",
                    urls.join(", ")
                )
            });
        }
    };
    if !client.has_code(args.contract).await.context("checking --contract")? {
        bail!(
            "no contract at {} on chain {chain_id}: check --contract and that --rpc-url points at the right network",
            args.contract
        );
    }
    Ok((client, Board { chain_id, contract: args.contract }))
}

/// Runs the indexer until `cancel` fires or it fails permanently: migrates the database, waits
/// as a standby while another process holds the writer lock, and waits out database and node
/// outages (see `jobboard::indexer::supervise`).
async fn run_indexer(
    args: &IndexArgs,
    client: ChainClient,
    board: Board,
    metrics: Metrics,
    cancel: CancellationToken,
) -> Result<()> {
    let config = IndexerConfig::from(args);
    let urls: Vec<String> = args.rpc_urls.iter().map(redact).collect();
    info!(chain_id = board.chain_id, contract = %args.contract, start_block = args.start_block, rpc = ?urls, "starting indexer");
    let wake = args.ws_url.clone().map(|url| watch_new_heads(url, client.metrics().clone(), cancel.clone()));
    let writer = Writer {
        client,
        database: lock::writer_options(&args.database.database_url).context("parsing --database-url")?,
        board,
        config,
        wake,
        metrics,
        hint: unreachable_database(&args.database.database_url),
        rewind_to: args.rewind_to,
    };
    writer.run(&cancel).await.context("indexing stopped")
}

/// The API's connection pool (statement timeout on every connection), connecting on first use:
/// `run` and `serve` answer (and say on `/readyz` why they are not ready) while the database is away.
fn api_pool_lazy(database_url: &str, api: &ApiArgs) -> Result<PgPool> {
    Ok(api_pool_options(api).connect_lazy_with(api_connect_options(database_url, api)?))
}

fn api_connect_options(database_url: &str, api: &ApiArgs) -> Result<PgConnectOptions> {
    let options: PgConnectOptions = database_url.parse().context("parsing --database-url")?;
    let timeout_ms = api.statement_timeout.as_millis().to_string();
    // Generic plans: the API's statements are a few fixed shapes over matching indexes, and
    // planning them anew for each request's parameters cost more PostgreSQL CPU than running
    // them (0.1 ms to bind vs 0.06 ms to execute a page of applications, measured).
    Ok(options
        .options([("statement_timeout", timeout_ms.as_str()), ("plan_cache_mode", "force_generic_plan")]))
}

fn api_pool_options(api: &ApiArgs) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(api.db_connections)
        .min_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        // No ping before each statement (a round trip per read): a connection that broke
        // fails its statement, which is reported and the connection dropped from the pool.
        .test_before_acquire(false)
}

/// The context of a failed database connection: where we looked and what to check.
fn unreachable_database(database_url: &str) -> String {
    let target = url::Url::parse(database_url).ok().map_or_else(
        || "?".to_owned(),
        |url| format!("{}:{}", url.host_str().unwrap_or("localhost"), url.port().unwrap_or(5432)),
    );
    format!(
        "cannot use the database at {target} given by --database-url: is PostgreSQL running there, and are \
         the user, password and database name right? (`make dev` runs a local one)"
    )
}

fn api_config(api: &ApiArgs) -> Result<ApiConfig> {
    Ok(ApiConfig::try_from(api)?)
}

/// `jobboard serve`: listens at once and serves the board as soon as the indexer has
/// registered it, so it starts in any order with `index`. It never migrates (the writer or
/// `jobboard migrate` does) and only reads: a role with SELECT on the tables is enough.
async fn serve(args: ServeArgs) -> Result<()> {
    let cancel = shutdown::on_signal();
    let config = api_config(&args.api)?;
    // Lazy: `serve` starts, answers /healthz and says why it is not ready while the database
    // is away or the board is not indexed yet; `find_board` waits for both.
    let pool = api_pool_lazy(&args.database.database_url, &args.api)?;
    let listener = tokio::net::TcpListener::bind(args.api.listen)
        .await
        .with_context(|| format!("listening on --listen {}", args.api.listen))?;
    info!(addr = %listener.local_addr()?, "GraphQL API at /graphql (GraphiQL in a browser)");
    let state = ApiState::waiting(config, Metrics::default());
    let server = tokio::spawn(api::serve_on(listener, state.clone(), cancel.clone()));
    let found = tokio::select! {
        found = find_board(&pool, &args, &state) => Some(found?),
        () = cancel.cancelled() => None,
    };
    if let Some(board) = found {
        info!(chain_id = board.chain_id, contract = %board.contract, "serving the board");
        state.attach(Reader::new(pool, board)?, cancel.clone());
    }
    server
        .await
        .context("the API task panicked")?
        .with_context(|| format!("serving on --listen {}", args.api.listen))
}

/// Waits until the indexer has registered the board `serve` was asked for (its tables may not
/// even exist yet), checking every second.
///
/// # Errors
/// The contract is indexed on several chains and no `--chain-id` says which.
async fn find_board(pool: &PgPool, args: &ServeArgs, state: &ApiState) -> Result<Board> {
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
                    tracing::warn!(%error, hint = %unreachable_database(&args.database.database_url), "the board's index cannot be read yet; retrying every second");
                    unreadable = true;
                }
                Vec::new()
            }
        };
        match chains.as_slice() {
            [chain_id] => return Ok(Board { chain_id: *chain_id, contract: args.contract }),
            [] if !reported => {
                info!(contract = %args.contract, "waiting for `jobboard index` to register the board; /readyz says not ready until then");
                reported = true;
            }
            [] => {}
            many => bail!("{} is indexed on chains {many:?}: pass --chain-id", args.contract),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `index` and `serve` in one process, until `cancel` fires or the indexer stops.
async fn run(args: RunArgs, cancel: CancellationToken) -> Result<()> {
    let config = api_config(&args.api)?;
    let metrics = Metrics::default();
    let (client, board) = connect_node(&args.index, &metrics).await?;
    // The writer migrates; until then (or while the database is away) reads fail and /readyz
    // says why, but the API answers.
    let pool = api_pool_lazy(&args.index.database.database_url, &args.api)?;
    let state = ApiState::new(Reader::new(pool, board)?, config, metrics.clone(), cancel.clone());
    let listener = tokio::net::TcpListener::bind(args.api.listen)
        .await
        .with_context(|| format!("listening on --listen {}", args.api.listen))?;
    info!(addr = %args.api.listen, "GraphQL API at /graphql (GraphiQL in a browser)");
    let server = tokio::spawn(api::serve_on(listener, state, cancel.clone()));
    let indexed = run_indexer(&args.index, client, board, metrics, cancel.clone()).await;
    // The indexer is the critical task: it waits out outages itself, so when it stops (a
    // deterministic error, or shutdown), the process stops.
    cancel.cancel();
    let served = server.await.context("the API task panicked")?;
    indexed?;
    served.context("serving the API")
}

/// The whole board locally: the dev stack, then `run` against it, then the stack stopped.
async fn dev(args: DevArgs) -> Result<()> {
    let cancel = shutdown::on_signal();
    if std::net::TcpListener::bind(args.api.listen).is_err() {
        bail!(
            "{} is already in use (another `jobboard dev`?): stop what listens there, or pass --listen 127.0.0.1:<free port>",
            args.api.listen
        );
    }
    let options = DevOptions {
        data_dir: args.data_dir.clone(),
        anvil_port: args.anvil_port,
        postgres_port: args.postgres_port,
        reset: args.reset,
        seed: !args.no_seed,
    };
    // Dropping a half-started stack (Ctrl-C during start-up) stops what it started.
    let stack = tokio::select! {
        stack = DevStack::up(&options) => stack.context("starting the dev stack")?,
        () = cancel.cancelled() => return Ok(()),
    };
    let board = stack.board;
    let database_url = stack.database_url();
    let run_args = RunArgs {
        index: IndexArgs {
            // anvil serves WebSockets on the same port: new blocks show up at once.
            ws_url: stack.anvil.ws_endpoint(),
            chain_id: Some(board.chain_id),
            poll_interval: args.poll_interval,
            ..IndexArgs::with_defaults(
                stack.anvil.endpoint.clone(),
                board.address,
                board.deploy_block,
                database_url.clone(),
            )
        },
        api: ApiArgs {
            // The page offers anvil to a browser wallet that lacks the chain.
            public_rpc_urls: if args.api.public_rpc_urls.is_empty() {
                vec![stack.anvil.endpoint.to_string()]
            } else {
                args.api.public_rpc_urls.clone()
            },
            ..args.api.clone()
        },
    };
    let banner = dev_banner(&stack, &args);
    let ready = tokio::spawn(announce_when_indexed(
        args.api.listen,
        database_url,
        Board { chain_id: board.chain_id, contract: board.address },
        board.seeded_through,
        banner,
        cancel.clone(),
    ));
    let ran = run(run_args, cancel.clone()).await;
    cancel.cancel();
    ready.abort();
    let stopped = stack.down().await.context("stopping the dev stack");
    ran?;
    stopped?;
    eprintln!(
        "jobboard dev: stopped; data kept in {} (run again to resume; `make dev-reset` starts clean)",
        args.data_dir.display()
    );
    Ok(())
}

/// Prints `banner` once the index has reached `block` and the API listens on `listen`: the
/// demo is queryable by then.
async fn announce_when_indexed(
    listen: std::net::SocketAddr,
    database_url: String,
    board: Board,
    block: u64,
    banner: String,
    cancel: CancellationToken,
) -> Result<()> {
    let pool = PgPoolOptions::new().max_connections(1).connect(&database_url).await?;
    let reader = Reader::new(pool, board)?;
    let target = i64::try_from(block).unwrap_or(i64::MAX);
    while !cancel.is_cancelled() {
        // The tables appear with the indexer's migrations; until then reading fails.
        if let Ok(Some(status)) = reader.status().await
            && status.block.is_some_and(|b| b.number >= target)
            && tokio::net::TcpStream::connect(listen).await.is_ok()
        {
            println!("{banner}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Where the running binary is (its real path, wherever CARGO_TARGET_DIR put it) and how to
/// call it by name.
fn on_path_hint(exe: Option<&std::path::Path>) -> String {
    match exe.and_then(|exe| Some((exe, exe.parent()?))) {
        Some((exe, dir)) => format!(
            "  (jobboard is {}: `export PATH=\"{}:$PATH\"` puts it on PATH, or `cargo install --path .` \
             copies it to ~/.cargo/bin)",
            exe.display(),
            dir.display()
        ),
        None => "  (`cargo install --path .` puts jobboard on PATH)".to_owned(),
    }
}

/// What a newcomer needs once the board is up: where things are and what to try.
fn dev_banner(stack: &DevStack, args: &DevArgs) -> String {
    use std::fmt::Write as _;
    let page = format!("http://{}/", args.api.listen);
    let api = format!("{page}graphql");
    let rpc = stack.anvil.endpoint.as_str().trim_end_matches('/').to_owned();
    let board = stack.board;
    let mut text = String::new();
    let resumed = if stack.resumed { " (resumed: same chain and data as last time)" } else { "" };
    let _ = writeln!(text, "\njobboard dev is up{resumed}\n");
    let _ = writeln!(text, "  Board      {page}   (the job board's page: open it in a browser)");
    let _ = writeln!(text, "  GraphiQL   {api}");
    let _ = writeln!(
        text,
        "  chain      {rpc}   chain id {}; JobBoard at {} (deployed in block {})",
        board.chain_id, board.address, board.deploy_block
    );
    let _ = writeln!(text, "  database   {}", stack.database_url());
    let _ = writeln!(
        text,
        "  data       {}   (kept across runs; `make dev-reset` starts clean)",
        stack.data_dir.display()
    );
    let _ = writeln!(text, "\nThree queries to try (paste them into GraphiQL, or run the curl lines):");
    for (n, (title, query)) in jobboard::local::demo::EXAMPLE_QUERIES.iter().enumerate() {
        let compact = query.split_whitespace().collect::<Vec<_>>().join(" ");
        let body = serde_json::json!({ "query": compact }).to_string().replace('\'', "'\\''");
        let _ = writeln!(text, "\n  {}. {title}", n + 1);
        for line in query.lines() {
            let _ = writeln!(text, "     {line}");
        }
        let _ = writeln!(text, "     curl -s {api} -H 'content-type: application/json' -d '{body}'");
    }
    let employer_key = stack
        .anvil
        .keys
        .get(1)
        .map(|k| format!("0x{}", alloy::hex::encode(k.to_bytes())))
        .unwrap_or_default();
    let wallet_key = stack
        .anvil
        .keys
        .get(10)
        .map(|k| format!("0x{}", alloy::hex::encode(k.to_bytes())))
        .unwrap_or_default();
    let _ = writeln!(
        text,
        "\nUse the page with a browser wallet: add the network {rpc} (chain id {}), then import\n  \
         anvil dev account 10, left unused by the demo (a public test key): {wallet_key}",
        board.chain_id
    );
    let _ = writeln!(text, "\nAct as the demo's first employer (anvil dev account 1; a public test key):");
    let _ = writeln!(text, "  export JOBBOARD_RPC_URL={rpc} JOBBOARD_CONTRACT={}", board.address);
    let _ = writeln!(text, "  export JOBBOARD_PRIVATE_KEY={employer_key}");
    let _ = writeln!(
        text,
        "  jobboard job post --title 'Staff Engineer' --company 'Tidewater Labs' --location Remote"
    );
    let _ = writeln!(text, "{}", on_path_hint(std::env::current_exe().ok().as_deref()));
    let _ = write!(text, "\nCtrl-C stops everything.");
    text
}
