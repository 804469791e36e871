//! The `jobboard` binary: parse the command line, start logging, dispatch.

use std::str::FromStr;
use std::time::Duration;

use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail};
use clap::Parser;
use jobboard::chain::{ChainClient, RetryPolicy, deploy_board, redact};
use jobboard::cli::{Cli, Command, DatabaseArgs, DeployArgs, IndexArgs, PRIVATE_KEY_ENV};
use jobboard::indexer::{Indexer, IndexerConfig, lock};
use jobboard::shutdown;
use jobboard::store::{Board, MIGRATOR};
use jobboard::telemetry::{self, Metrics};
use sqlx::postgres::PgPoolOptions;
use tracing::{info, warn};

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    telemetry::init();
    match cli.command {
        Command::Deploy(args) => deploy(args).await,
        Command::Index(args) => index(args).await,
        Command::Migrate(args) => migrate(&args).await,
    }
}

/// Reads the signing key from the environment, never from a flag.
fn signer_from_env() -> Result<PrivateKeySigner> {
    let key = std::env::var(PRIVATE_KEY_ENV)
        .with_context(|| format!("set {PRIVATE_KEY_ENV} to the hex private key of the deploying account"))?;
    PrivateKeySigner::from_str(key.trim())
        .with_context(|| format!("{PRIVATE_KEY_ENV} is not a valid hex private key"))
}

async fn deploy(args: DeployArgs) -> Result<()> {
    let signer = signer_from_env()?;
    let provider = ProviderBuilder::new().wallet(signer).connect_http(args.node.rpc_url.clone());
    let deployment = deploy_board(&provider)
        .await
        .with_context(|| format!("deploying JobBoard through {}", redact(&args.node.rpc_url)))?;
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
        .context("connecting to the database given by --database-url")?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    info!("database schema is up to date");
    Ok(())
}

async fn index(args: IndexArgs) -> Result<()> {
    let cancel = shutdown::on_signal();
    let metrics = Metrics::default();
    let retry = RetryPolicy { timeout: args.rpc_timeout, ..RetryPolicy::default() };
    let client = ChainClient::new(&args.rpc_urls, retry, metrics.clone()).context("configuring --rpc-url")?;
    let urls: Vec<String> = args.rpc_urls.iter().map(redact).collect();
    let chain_id = client.chain_id().await.with_context(|| {
        format!("asking {} for its chain id: is --rpc-url an Ethereum JSON-RPC node?", urls.join(", "))
    })?;
    if let Some(expected) = args.chain_id
        && expected != chain_id
    {
        bail!("--chain-id is {expected} but the node at {} is on chain {chain_id}", urls.join(", "));
    }
    if !client.has_code(args.contract).await.context("checking --contract")? {
        bail!(
            "no contract at {} on chain {chain_id}: check --contract and that --rpc-url points at the right network",
            args.contract
        );
    }
    migrate(&args.database).await?;
    if let Some(addr) = args.metrics_listen {
        telemetry::serve_metrics(addr, metrics.clone(), cancel.clone())
            .await
            .with_context(|| format!("serving metrics on --metrics-listen {addr}"))?;
        info!(%addr, "metrics at /metrics");
    }

    let board = Board { chain_id, contract: args.contract };
    let mut config = IndexerConfig::new(args.contract, args.start_block);
    config.confirmations = args.confirmations;
    config.poll_interval = args.poll_interval;
    config.fetch_concurrency = usize::from(args.fetch_concurrency);
    config.batch_events = args.batch_events as usize;
    config.max_range = args.max_range;
    info!(chain_id, contract = %args.contract, start_block = args.start_block, rpc = ?urls, "starting indexer");

    while !cancel.is_cancelled() {
        let conn = lock::acquire_writer(&args.database.database_url, &board, Duration::from_secs(1), &cancel)
            .await
            .context("connecting to the database given by --database-url")?;
        let Some(mut conn) = conn else { break };
        let mut indexer = Indexer::new(client.clone(), &mut conn, board, config.clone()).await?;
        match indexer.run(&cancel).await {
            Ok(()) => break,
            Err(error) if error.is_transient() => {
                warn!(%error, "indexer interrupted by a transient failure; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(error) => return Err(error).context("indexing stopped"),
        }
    }
    Ok(())
}
