//! Indexer benchmark: `cargo bench --bench indexer [-- --events 100000 --live-samples 20]`.
//!
//! In one run on a local anvil and an embedded PostgreSQL it:
//! 1. generates N board events through the contract's batch-friendly paths,
//! 2. measures the machine's limits: plain `eth_getLogs` throughput and a raw `COPY` of N rows,
//! 3. runs `jobboard index` (the release binary) as a separate process on an empty database and
//!    reports events/s, RPC calls per 1000 events, peak RSS, and the ratio to the raw fetch,
//! 4. measures how soon a new block's events are in the database while following the head.
//!
//! With `--chains N` (N >= 2) it instead generates the same load on N anvils with distinct
//! chain ids and compares one `jobboard index --config` over all of them with the first chain
//! alone, in the same run (`indexer/chains.rs`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolCall;
use anyhow::{Context, Result, bail, ensure};
use futures::StreamExt;
use jobboard::contract::JobBoard;
use jobboard::local::postgres::{EmbeddedPostgres, PostgresOptions};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};

#[path = "common/mod.rs"]
mod common;

#[path = "indexer/chains.rs"]
mod chains;

use common::{Sender, checkpoint, create_database, free_port, peak_rss_kib, rpc, say, start_and_generate};

const POLL_INTERVAL_MS: u64 = 200;

struct Args {
    events: usize,
    live_samples: usize,
    /// 1: the single-chain bench; more: the several-chains comparison.
    chains: u64,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { events: 100_000, live_samples: 20, chains: 1 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--events" => args.events = it.next().context("--events takes a number")?.parse()?,
            "--live-samples" => {
                args.live_samples = it.next().context("--live-samples takes a number")?.parse()?
            }
            "--chains" => {
                args.chains = it.next().context("--chains takes a number")?.parse()?;
                ensure!((1..=8).contains(&args.chains), "--chains takes 1 to 8");
            }
            "--bench" => {} // passed by `cargo bench`
            other => bail!("unknown argument {other}; use --events N --live-samples N --chains N"),
        }
    }
    Ok(args)
}

/// Plain `eth_getLogs` over the whole history, `concurrency` calls in flight, ranges sized for
/// about `per_call` logs each: what the node can serve, with no database and no decoding.
async fn raw_fetch(
    provider: &RootProvider,
    board: Address,
    from: u64,
    to: u64,
    events: usize,
    concurrency: usize,
) -> Result<(usize, Duration, usize)> {
    let blocks = to - from + 1;
    let per_call = 5_000usize;
    let calls = events.div_ceil(per_call).max(1) as u64;
    let span = blocks.div_ceil(calls).max(1);
    let ranges: Vec<(u64, u64)> = (0..)
        .map(|i| from + i * span)
        .take_while(|s| *s <= to)
        .map(|s| (s, (s + span - 1).min(to)))
        .collect();
    let started = Instant::now();
    let counts: Vec<Result<usize>> = futures::stream::iter(ranges.iter().copied())
        .map(|(a, b)| async move {
            let logs = provider.get_logs(&Filter::new().address(board).from_block(a).to_block(b)).await?;
            Ok(logs.len())
        })
        .buffered(concurrency)
        .collect()
        .await;
    let total = counts.into_iter().sum::<Result<usize>>()?;
    Ok((total, started.elapsed(), ranges.len()))
}

/// A raw `COPY` of `rows` event-shaped rows into a copy of the events table (with its keys and
/// indexes): what PostgreSQL can absorb here, with no RPC and no projection.
async fn raw_copy(url: &str, rows: usize) -> Result<Duration> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query("CREATE TABLE raw_copy (LIKE events INCLUDING ALL)").execute(&mut conn).await?;
    let data_hex = "00".repeat(64);
    let mut text = String::with_capacity(rows * 400);
    for i in 0..rows {
        let block = i / 100;
        text.push_str(&format!(
            "31337\t{block}\t{}\t\\\\x{}\t\\\\x{}\t2026-01-01 00:00:00+00\t\\\\x{}\t0\tApplicationStatusChanged\t{}\t{i}\t\\N\t1\t\\\\x{}\t\\\\x{data_hex}\n",
            i % 100,
            "ab".repeat(20),
            "cd".repeat(32),
            "ef".repeat(32),
            i / 100,
            "01".repeat(96),
        ));
    }
    let started = Instant::now();
    let mut copy = conn
        .copy_in_raw(
            "COPY raw_copy (chain_id, block_number, log_index, contract, block_hash, block_time, tx_hash, tx_index, \
             kind, job_id, application_id, actor, status, topics, data) FROM STDIN",
        )
        .await?;
    copy.send(text.as_bytes()).await?;
    copy.finish().await?;
    let took = started.elapsed();
    sqlx::query("DROP TABLE raw_copy").execute(&mut conn).await?;
    Ok(took)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir()?;
    say(format!(
        "== jobboard indexer bench: {} events{}, {} cores",
        args.events,
        if args.chains > 1 { format!(" on each of {} chains", args.chains) } else { String::new() },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    ));
    if args.chains > 1 {
        return chains::run(&root, work.path(), args.events, args.chains).await;
    }

    let chain = start_and_generate(&root, args.events).await?;
    let (anvil, provider, board, generated, head_after) =
        (&chain.anvil, &chain.provider, chain.board, chain.generated, chain.head_after);
    let start_block = chain.deploy_block;

    let (fetched, fetch_time, calls) =
        raw_fetch(provider, board, start_block, head_after, generated, 4).await?;
    ensure!(fetched == generated, "raw fetch returned {fetched} logs, but {generated} were sent");
    let raw_fetch_rate = fetched as f64 / fetch_time.as_secs_f64();
    say(format!(
        "raw fetch   {fetched} logs in {calls} eth_getLogs calls (4 in flight): {fetch_time:.2?} = {raw_fetch_rate:.0} logs/s"
    ));

    let pg = EmbeddedPostgres::start(PostgresOptions::new(work.path().join("pg"))).await?;
    let url = create_database(&pg, "bench").await?;
    let pool = PgPoolOptions::new().max_connections(2).connect(&url).await?;
    jobboard::store::MIGRATOR.run(&pool).await?;
    let copy_time = raw_copy(&url, generated).await?;
    say(format!(
        "raw COPY    {generated} event rows: {copy_time:.2?} = {:.0} rows/s",
        generated as f64 / copy_time.as_secs_f64()
    ));

    // The real thing, as an operator runs it.
    let metrics_port = free_port()?;
    // BENCH_INDEX_LOG keeps the indexer's log (with RUST_LOG, e.g. `jobboard::indexer=debug`).
    let log_path =
        std::env::var_os("BENCH_INDEX_LOG").map_or_else(|| work.path().join("index.log"), PathBuf::from);
    std::fs::File::create(&log_path)?;
    let index = |extra: &[&str]| -> Result<Child> {
        let log = std::fs::OpenOptions::new().append(true).open(&log_path)?;
        Ok(Command::new(env!("CARGO_BIN_EXE_jobboard"))
            .args(["index", "--rpc-url", anvil.endpoint.as_str(), "--database-url", &url])
            .args(["--contract", &board.to_string(), "--start-block", &start_block.to_string()])
            .args(extra)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?)
    };
    let poll_interval = format!("{POLL_INTERVAL_MS}ms");
    let metrics_listen = format!("127.0.0.1:{metrics_port}");
    let mut child = index(&["--poll-interval", &poll_interval, "--metrics-listen", &metrics_listen])?;
    let pid = child.id();
    let mut conn = PgConnection::connect(&url).await?;
    let started = Instant::now();
    loop {
        if checkpoint(&mut conn).await? == Some(head_after as i64) {
            break;
        }
        if let Some(status) = child.try_wait()? {
            bail!("jobboard index exited with {status}: {}", std::fs::read_to_string(&log_path)?);
        }
        ensure!(started.elapsed() < Duration::from_secs(1800), "backfill did not finish in 30 minutes");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let backfill_time = started.elapsed();
    let indexed: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&mut conn).await?;
    ensure!(indexed as usize == generated, "indexed {indexed} events, expected {generated}");
    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await?.text().await?;
    let rpc_calls: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("jobboard_rpc_calls_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    let rate = generated as f64 / backfill_time.as_secs_f64();
    say(format!(
        "backfill    {generated} events in {backfill_time:.2?} = {rate:.0} events/s ({:.0}% of raw fetch); {:.2} RPC calls per 1000 events; peak RSS {:.1} MiB",
        100.0 * rate / raw_fetch_rate,
        rpc_calls * 1000.0 / generated as f64,
        peak_rss_kib(pid).unwrap_or(0) as f64 / 1024.0,
    ));

    // Following the head: how long from a block appearing at the node to its events being
    // queryable, first polling only, then woken by the node's WebSocket with polling nearly off.
    let _: serde_json::Value = rpc(provider, "evm_setAutomine", serde_json::json!([true])).await?;
    let employer = anvil.address(0).context("dev account 0")?;
    let samples = args.live_samples;
    let polled = follow_latencies(provider, &mut conn, board, employer, 0..samples).await?;
    report_follow(&format!("poll every {POLL_INTERVAL_MS} ms (target <= poll + 100 ms)"), &polled);
    let peak_rss = peak_rss_kib(pid).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();

    let ws = anvil.ws_endpoint().context("anvil's WebSocket URL")?;
    let mut child = index(&["--poll-interval", "10s", "--ws-url", ws.as_str()])?;
    // Caught up and subscribed before the first sample.
    let head = provider.get_block_number().await? as i64;
    let resumed = Instant::now();
    while checkpoint(&mut conn).await? < Some(head) {
        ensure!(resumed.elapsed() < Duration::from_secs(60), "restarted indexer did not catch up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let woken = follow_latencies(provider, &mut conn, board, employer, samples..2 * samples).await?;
    report_follow("poll every 10 s, woken by --ws-url newHeads", &woken);
    let _ = child.kill();
    let _ = child.wait();
    say(format!("peak RSS of jobboard index after following: {:.1} MiB", peak_rss as f64 / 1024.0));
    Ok(())
}

/// One block per sample (closing job `i + 1`): returns, per block, the time from its appearing
/// at the node to the checkpoint covering it, and the time anvil took to mine it (which grows
/// with the chain's state and is not the indexer's).
async fn follow_latencies(
    provider: &RootProvider,
    conn: &mut PgConnection,
    board: Address,
    employer: Address,
    jobs: std::ops::Range<usize>,
) -> Result<Vec<(Duration, Duration)>> {
    let mut samples = Vec::new();
    for i in jobs {
        // Spread the samples over the poll cycle.
        tokio::time::sleep(Duration::from_millis(37 * (i as u64 % 7))).await;
        // Automine puts the transaction in the next block; nothing else mines meanwhile.
        let block = provider.get_block_number().await? + 1;
        let sent = Instant::now();
        Sender::new(provider, employer)
            .await?
            .send(board, JobBoard::closeJobCall { jobId: U256::from(i as u64 + 1) }.abi_encode())
            .await?;
        while provider.get_block_number().await? < block {
            ensure!(sent.elapsed() < Duration::from_secs(60), "anvil did not mine block {block}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let visible = Instant::now();
        // The checkpoint moves in the same transaction as the block's events, and reading it is
        // one row (a count over the events table would itself take milliseconds and load the
        // database the indexer is writing to).
        while checkpoint(conn).await?.is_none_or(|c| c < block as i64) {
            ensure!(visible.elapsed() < Duration::from_secs(20), "block {block} not indexed within 20 s");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        samples.push((visible.elapsed(), visible - sent));
    }
    Ok(samples)
}

fn report_follow(how: &str, samples: &[(Duration, Duration)]) {
    let mut indexed: Vec<Duration> = samples.iter().map(|s| s.0).collect();
    let mut mined: Vec<Duration> = samples.iter().map(|s| s.1).collect();
    indexed.sort();
    mined.sort();
    let (Some(p50), Some(max), Some(mined_p50)) =
        (indexed.get(indexed.len() / 2), indexed.last(), mined.get(mined.len() / 2))
    else {
        return;
    };
    say(format!(
        "follow      {how}: block at node -> in database over {} blocks: p50 {p50:.1?}, max {max:.1?} \
         (anvil took p50 {mined_p50:.0?} to mine each)",
        indexed.len()
    ));
}
