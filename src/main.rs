//! The `jobboard` binary: parse the command line, start logging, dispatch.

use std::str::FromStr;

use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result};
use clap::Parser;
use jobboard::chain::deploy_board;
use jobboard::cli::{Cli, Command, DeployArgs, PRIVATE_KEY_ENV};
use jobboard::telemetry;

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    telemetry::init();
    match cli.command {
        Command::Deploy(args) => deploy(args).await,
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
        .with_context(|| format!("deploying JobBoard through {}", args.node.rpc_url))?;
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
