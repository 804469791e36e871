//! What the benches share: a local anvil with the board deployed and N events generated, and
//! small helpers to watch the `jobboard` process under test.
//!
//! Used by `benches/indexer.rs` and `benches/api.rs` as `#[path = "common/mod.rs"] mod common;`.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use anyhow::{Context, Result};
use jobboard::chain::deploy_board;
use jobboard::contract::JobBoard;
use jobboard::local::anvil::{AnvilProcess, find_anvil};
use jobboard::local::postgres::EmbeddedPostgres;
use sqlx::PgConnection;
use sqlx::postgres::PgPoolOptions;

/// Dev accounts 1..=APPLICANTS apply; account 0 is the employer.
pub const APPLICANTS: usize = 100;

/// A local chain with the board deployed and the load generated.
pub struct Chain {
    /// The anvil process (stopped on drop) and its dev accounts.
    pub anvil: AnvilProcess,
    /// A provider without fillers, for raw RPC calls.
    pub provider: RootProvider,
    /// The board's address.
    pub board: Address,
    /// The block the board was deployed in.
    pub deploy_block: u64,
    /// How many events were generated.
    pub generated: usize,
    /// The head after the empty blocks mined on top (so the history is all finalized).
    pub head_after: u64,
}

pub fn say(line: impl AsRef<str>) {
    println!("{}", line.as_ref());
    let _ = std::io::stdout().flush();
}

/// anvil's own chain id, which [`start_and_generate`] keeps.
pub const ANVIL_CHAIN_ID: u64 = 31337;

/// Starts anvil (101 funded accounts, manual mining), deploys the board, generates about
/// `events` events, mines 72 empty blocks on top so that the whole history is below anvil's
/// finalized block (head - 64), and prints a `generated` line.
pub async fn start_and_generate(root: &Path, events: usize) -> Result<Chain> {
    start_and_generate_on(root, events, ANVIL_CHAIN_ID).await
}

/// [`start_and_generate`] on an anvil reporting `chain_id`: the same load on several chains.
pub async fn start_and_generate_on(root: &Path, events: usize, chain_id: u64) -> Result<Chain> {
    let (anvil, provider, board, deploy_block) = start_with_board(root, chain_id).await?;
    let started = Instant::now();
    let generated = generate(&provider, board, &anvil, events).await?;
    let head = provider.get_block_number().await?;
    // Enough empty blocks on top that the whole history is below anvil's finalized (head - 64).
    let _: serde_json::Value = rpc(&provider, "anvil_mine", serde_json::json!(["0x48"])).await?;
    let head_after = provider.get_block_number().await?;
    say(format!(
        "generated   {generated} events in blocks {deploy_block}..={head} of chain {chain_id} in {:.1?}",
        started.elapsed()
    ));
    Ok(Chain { anvil, provider, board, deploy_block, generated, head_after })
}

/// Starts anvil (101 funded accounts, manual mining, chain id `chain_id`) and deploys the
/// board: the anvil, a provider without fillers, the board's address and its deploy block.
pub async fn start_with_board(
    root: &Path,
    chain_id: u64,
) -> Result<(AnvilProcess, RootProvider, Address, u64)> {
    let chain_id_arg = chain_id.to_string();
    // No block states spilled to ~/.foundry: nothing here reads state at an old block, and
    // anvil otherwise writes every older block's state there (12 GB for the sparse 100k shape,
    // more for the remote one), which also slows the generation.
    let anvil = AnvilProcess::start(
        &find_anvil(root)?,
        &[
            "--accounts",
            "101",
            "--gas-limit",
            "300000000",
            "--no-mining",
            "--chain-id",
            &chain_id_arg,
            "--max-persisted-states",
            "0",
        ],
    )?;
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(anvil.endpoint.clone())
        .root()
        .clone();
    let deployer = ProviderBuilder::new()
        .wallet(anvil.wallet().context("dev keys")?)
        .connect_http(anvil.endpoint.clone());
    let deploy = tokio::spawn(async move { deploy_board(&deployer).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    mine_all(&provider).await?;
    let deployment = deploy.await??;
    Ok((anvil, provider, deployment.address, deployment.block))
}

/// Sends transactions from one dev account with nonces counted here: left to anvil, a nonce
/// picked while a concurrent `evm_mine` runs can skip one, and every later transaction of the
/// account then waits in the pool's queued set forever (seen: a tenth of the load missing).
pub struct Sender {
    provider: RootProvider,
    from: Address,
    nonce: u64,
}

impl Sender {
    /// A sender for `from`, starting at its next nonce.
    pub async fn new(provider: &RootProvider, from: Address) -> Result<Sender> {
        let nonce =
            provider.get_transaction_count(from).pending().await.context("eth_getTransactionCount")?;
        Ok(Sender { provider: provider.clone(), from, nonce })
    }

    /// Sends one call to `to`.
    pub async fn send(&mut self, to: Address, data: Vec<u8>) -> Result<()> {
        let tx = TransactionRequest::default()
            .from(self.from)
            .to(to)
            .input(data.into())
            .gas_limit(8_000_000)
            .nonce(self.nonce);
        // Fire and forget: the caller mines; receipts are not needed to generate load.
        let _pending = self.provider.send_transaction(tx).await.context("eth_sendTransaction")?;
        self.nonce += 1;
        Ok(())
    }
}

pub async fn rpc(
    provider: &RootProvider,
    method: &'static str,
    params: serde_json::Value,
) -> Result<serde_json::Value> {
    Ok(provider.raw_request(method.into(), params).await?)
}

/// Mines until the pool is empty.
pub async fn mine_all(provider: &RootProvider) -> Result<()> {
    loop {
        let status = rpc(provider, "txpool_status", serde_json::json!([])).await?;
        let count = |key: &str| {
            status[key]
                .as_str()
                .and_then(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).ok())
                .unwrap_or(0)
        };
        if count("pending") == 0 {
            // Queued transactions wait for a nonce that never comes: the load would be short.
            anyhow::ensure!(
                count("queued") == 0,
                "{} transactions stuck in anvil's queued pool",
                count("queued")
            );
            return Ok(());
        }
        let _: serde_json::Value = rpc(provider, "evm_mine", serde_json::json!([])).await?;
    }
}

/// Posts jobs, has 100 applicants apply to each, then moves every application twice with
/// `setApplicationStatusBatch`: about 1 + 3 events per application.
async fn generate(
    provider: &RootProvider,
    board: Address,
    anvil: &AnvilProcess,
    events: usize,
) -> Result<usize> {
    let employer = anvil.address(0).context("dev account 0")?;
    // A block every 20 ms while transactions arrive: a history of many blocks of realistic
    // size, and a pool that never grows large.
    let miner_provider = provider.clone();
    let miner = tokio::spawn(async move {
        loop {
            let _ = rpc(&miner_provider, "evm_mine", serde_json::json!([])).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let result = generate_load(provider, board, anvil, employer, events).await;
    miner.abort();
    mine_all(provider).await?;
    result
}

async fn generate_load(
    provider: &RootProvider,
    board: Address,
    anvil: &AnvilProcess,
    employer: Address,
    events: usize,
) -> Result<usize> {
    let applications = events / 3;
    let jobs = applications.div_ceil(APPLICANTS).max(1);
    let posting = bench_posting();
    let mut employer = Sender::new(provider, employer).await?;
    for _ in 0..jobs {
        employer.send(board, JobBoard::postJobCall { posting: posting.clone() }.abi_encode()).await?;
    }
    mine_all(provider).await?;

    // Each applicant applies to jobs in order; applicants run concurrently.
    let per_applicant = applications.div_ceil(APPLICANTS);
    let mut tasks = Vec::new();
    for a in 1..=APPLICANTS {
        let applicant = anvil.address(a).context("dev account")?;
        let provider = provider.clone();
        let count = per_applicant.min(applications.saturating_sub((a - 1) * per_applicant)).min(jobs);
        tasks.push(tokio::spawn(async move {
            let mut applicant = Sender::new(&provider, applicant).await?;
            for job in 1..=count {
                let hash = B256::from(U256::from(job * 1_000 + a));
                let call = JobBoard::applyToCall { jobId: U256::from(job), applicationHash: hash };
                applicant.send(board, call.abi_encode()).await?;
            }
            Ok::<usize, anyhow::Error>(count)
        }));
    }
    let mut submitted = 0;
    for task in tasks {
        submitted += task.await??;
    }
    mine_all(provider).await?;

    let ids: Vec<U256> = (1..=submitted as u64).map(U256::from).collect();
    for (round, status) in [(0u8, 1u8), (1, 3)] {
        for (i, chunk) in ids.chunks(400).enumerate() {
            // The second round hires the even chunks and rejects the odd ones.
            let status = if round == 1 && i % 2 == 1 { 2 } else { status };
            let call = JobBoard::setApplicationStatusBatchCall { applicationIds: chunk.to_vec(), status };
            employer.send(board, call.abi_encode()).await?;
        }
        mine_all(provider).await?;
    }
    Ok(jobs + submitted * 3)
}

/// The posting every generated job carries (a realistic size: about 1 KiB of ABI data).
pub fn bench_posting() -> JobBoard::Posting {
    JobBoard::Posting {
        title: "Senior Rust Engineer".into(),
        company: "Acme Chain Tools".into(),
        location: "Remote".into(),
        tags: "rust,ethereum,postgres".into(),
        description: "## The role\n\nBuild a fast, correct indexer for an on-chain job board.\n\n- Rust\n- PostgreSQL\n- Ethereum".into(),
        salaryCurrency: "USD".into(),
        salaryMin: 120_000,
        salaryMax: 160_000,
        deadline: 0,
    }
}

/// The process's peak resident set size (VmHWM), in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The indexer's checkpoint: the last block whose events are all in the database.
pub async fn checkpoint(conn: &mut PgConnection) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT block_number FROM indexer_state LIMIT 1")
        .fetch_optional(conn)
        .await?
        .flatten())
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Creates the database `name` in `pg` (empty, not migrated); its URL.
pub async fn create_database(pg: &EmbeddedPostgres, name: &str) -> Result<String> {
    let admin = PgPoolOptions::new().max_connections(1).connect(&pg.url("postgres")).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await?;
    admin.close().await;
    Ok(pg.url(name))
}
