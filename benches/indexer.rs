//! Indexer benchmark: `cargo bench --bench indexer [-- --shape dense|sparse|remote --events 100000
//! --live-samples 20]`.
//!
//! In one run on a local anvil and an embedded PostgreSQL it:
//! 1. generates N board events in one of issue 16's shapes: `dense` (~700 events a block, the
//!    contract's batch-friendly paths), `sparse` (~62 a block over ~1,600 blocks, `sparse.rs`)
//!    or `remote` (the sparse load spread over 2M blocks, read through a proxy adding 100 ms a
//!    request and refusing ranges over 10,000 blocks, `remote.rs`),
//! 2. measures the machine's limits: plain `eth_getLogs` throughput and a raw `COPY` of N rows,
//! 3. runs `jobboard index` (the release binary) as a separate process on an empty database and
//!    reports events/s, its ratio to the raw fetch, RPC calls per 1000 events and peak RSS; for
//!    `remote`, also the RPC-bound ideal (the fewest calls the range cap allows x the latency /
//!    the requests in flight) and the backfill's time against it,
//! 4. measures how soon a new block's events are in the database while following the head
//!    (`dense` and `sparse`; through the remote proxy every new real block is thousands of
//!    virtual ones).
//!
//! `--baseline PATH --repeat N` runs the backfill N times with this build's `jobboard` and N
//! times with the binary at PATH, alternating, each into a fresh database on the same chain,
//! and prints each run and the medians: an A/B on a shared machine. `--index-args "FLAGS"` and
//! `--baseline-args "FLAGS"` add `jobboard index` flags to either side (an A/B of a flag with
//! `--baseline` naming this build's own binary).
//!
//! With `--chains N` (N >= 2) it instead generates the same dense load on N anvils with distinct
//! chain ids and compares one `jobboard index --config` over all of them with the first chain
//! alone, in the same run (`indexer/chains.rs`).

use std::path::{Path, PathBuf};
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

#[path = "indexer/remote.rs"]
mod remote;

#[path = "indexer/sparse.rs"]
mod sparse;

use common::{Sender, checkpoint, create_database, free_port, peak_rss_kib, rpc, say, start_and_generate};

const POLL_INTERVAL_MS: u64 = 200;

/// Issue 16's targets.
const TARGET_SHARE_OF_RAW_FETCH: f64 = 0.5;
const TARGET_TIMES_IDEAL: f64 = 1.25;
const TARGET_PEAK_RSS_MIB: f64 = 150.0;

/// The remote-like shape: blocks in all, a request's latency and the provider's range cap.
const REMOTE_BLOCKS: u64 = 2_000_000;
const REMOTE_LATENCY: Duration = Duration::from_millis(100);
const REMOTE_MAX_RANGE: u64 = 10_000;

/// How the board's events lie on the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Dense,
    Sparse,
    Remote,
}

struct Args {
    events: usize,
    live_samples: usize,
    /// 1: the single-chain bench; more: the several-chains comparison.
    chains: u64,
    shape: Shape,
    /// Another `jobboard` binary whose backfill alternates with this one's (A/B in one run).
    baseline: Option<PathBuf>,
    /// Backfills per binary.
    repeat: usize,
    /// Extra `jobboard index` flags for this build's runs and for the baseline's.
    extra_args: Vec<String>,
    baseline_args: Vec<String>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        events: 100_000,
        live_samples: 20,
        chains: 1,
        shape: Shape::Dense,
        baseline: None,
        repeat: 1,
        extra_args: Vec::new(),
        baseline_args: Vec::new(),
    };
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
            "--shape" => {
                args.shape = match it.next().as_deref() {
                    Some("dense") => Shape::Dense,
                    Some("sparse") => Shape::Sparse,
                    Some("remote") => Shape::Remote,
                    other => bail!("--shape takes dense, sparse or remote, not {other:?}"),
                }
            }
            "--baseline" => {
                args.baseline = Some(it.next().context("--baseline takes a jobboard binary")?.into())
            }
            "--repeat" => {
                args.repeat = it.next().context("--repeat takes a number")?.parse()?;
                ensure!(args.repeat >= 1, "--repeat takes 1 or more");
            }
            "--index-args" => {
                args.extra_args = it
                    .next()
                    .context("--index-args takes flags")?
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            }
            "--baseline-args" => {
                args.baseline_args = it
                    .next()
                    .context("--baseline-args takes flags")?
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            }
            "--bench" => {} // passed by `cargo bench`
            other => {
                bail!(
                    "unknown argument {other}; use --shape dense|sparse|remote --events N --live-samples N --chains N"
                )
            }
        }
    }
    Ok(args)
}

/// Plain `eth_getLogs` over the whole history, `concurrency` calls in flight, ranges sized for
/// about `per_call` logs each, and no longer than `max_span` blocks: what the node can serve,
/// with no database and no decoding.
async fn raw_fetch(
    provider: &RootProvider,
    board: Address,
    (from, to): (u64, u64),
    events: usize,
    concurrency: usize,
    max_span: u64,
) -> Result<(usize, Duration, usize)> {
    let blocks = to - from + 1;
    let per_call = 5_000usize;
    let calls = events.div_ceil(per_call).max(1) as u64;
    let span = blocks.div_ceil(calls).clamp(1, max_span);
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

/// One backfill by one `jobboard` binary into a fresh database.
struct Backfill {
    took: Duration,
    peak_rss_kib: u64,
    rpc_calls: f64,
    /// What the remote proxy saw, for the remote shape.
    proxy: Option<String>,
}

/// Where the backfills read from and what they must reach.
struct Target<'t> {
    endpoint: &'t str,
    board: Address,
    start_block: u64,
    backfilled_to: u64,
    generated: usize,
    proxy: Option<&'t remote::RemoteProxy>,
}

/// Creates database `name`, has `binary` migrate it (before the clock starts), runs `binary index` into it
/// until the checkpoint reaches the target, and checks every event is there. The process is
/// left running (the follow measurement continues with it) and returned.
async fn backfill(
    admin: &sqlx::PgPool,
    pg: &EmbeddedPostgres,
    binary: &Path,
    extra_args: &[String],
    name: &str,
    target: &Target<'_>,
    log_path: &Path,
) -> Result<(Backfill, Child, String)> {
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(admin).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(admin).await?;
    let url = pg.url(name);
    // Each binary migrates with its own migrations (a baseline may lack the newest).
    let migrated = Command::new(binary).args(["migrate", "--database-url", &url]).status()?;
    ensure!(migrated.success(), "{} migrate failed: {migrated}", binary.display());
    if let Some(proxy) = target.proxy {
        proxy.reset();
    }
    let metrics_port = free_port()?;
    let mut flags = vec![
        "--poll-interval".to_owned(),
        format!("{POLL_INTERVAL_MS}ms"),
        "--metrics-listen".to_owned(),
        format!("127.0.0.1:{metrics_port}"),
    ];
    flags.extend_from_slice(extra_args);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut child = index(binary, target.endpoint, &url, target, log_path, &flags)?;
    let mut conn = PgConnection::connect(&url).await?;
    let started = Instant::now();
    loop {
        if checkpoint(&mut conn).await?.is_some_and(|c| c >= target.backfilled_to as i64) {
            break;
        }
        if let Some(status) = child.try_wait()? {
            bail!("jobboard index exited with {status}: {}", std::fs::read_to_string(log_path)?);
        }
        ensure!(started.elapsed() < Duration::from_secs(3600), "backfill did not finish in an hour");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    let peak_rss_kib = peak_rss_kib(child.id()).unwrap_or(0);
    let proxy = target.proxy.map(remote::RemoteProxy::summary);
    let indexed: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&mut conn).await?;
    ensure!(indexed as usize == target.generated, "indexed {indexed} events, expected {}", target.generated);
    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await?.text().await?;
    let rpc_calls: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("jobboard_rpc_calls_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    Ok((Backfill { took, peak_rss_kib, rpc_calls, proxy }, child, url))
}

/// `binary index` of the target's board from `rpc_url` into `url`, its log appended to `log_path`.
fn index(
    binary: &Path,
    rpc_url: &str,
    url: &str,
    target: &Target<'_>,
    log_path: &Path,
    extra: &[&str],
) -> Result<Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log_path)?;
    Ok(Command::new(binary)
        .args(["index", "--rpc-url", rpc_url, "--database-url", url])
        .args(["--contract", &target.board.to_string(), "--start-block", &target.start_block.to_string()])
        .args(extra)
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?)
}

/// The median of `values` (the upper one of an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir()?;
    say(format!(
        "== jobboard indexer bench: {} events{}, shape {:?}, {} cores, load average {}",
        args.events,
        if args.chains > 1 { format!(" on each of {} chains", args.chains) } else { String::new() },
        args.shape,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        load_average(),
    ));
    if args.chains > 1 {
        return chains::run(&root, work.path(), args.events, args.chains).await;
    }

    // The jobs the follow measurement closes, one a block: open jobs of dev account 0.
    let (chain, open_jobs) = match args.shape {
        Shape::Dense => {
            let chain = start_and_generate(&root, args.events).await?;
            // Every job is account 0's and open; the load posts one per 300 events.
            let jobs = (1..=(chain.generated / 300) as u64).collect();
            (chain, jobs)
        }
        Shape::Sparse | Shape::Remote => sparse::start_and_generate_sparse(&root, args.events).await?,
    };
    let (anvil, board, generated) = (&chain.anvil, chain.board, chain.generated);
    // What the indexer reads from, and the blocks it backfills: anvil's own, or the remote
    // proxy's stretched chain, whose finalized block is 64 below its head as anvil's is.
    let proxy = match args.shape {
        Shape::Remote => {
            let stretch = remote::stretch_for(chain.head_after, REMOTE_BLOCKS);
            let settings = remote::Remote { stretch, latency: REMOTE_LATENCY, max_range: REMOTE_MAX_RANGE };
            let proxy = remote::start(anvil.endpoint.clone(), settings).await?;
            say(format!(
                "remote      proxy: {} virtual blocks per anvil block, {} ms a request, ranges up to {} blocks",
                stretch,
                REMOTE_LATENCY.as_millis(),
                REMOTE_MAX_RANGE
            ));
            Some((proxy, stretch))
        }
        Shape::Dense | Shape::Sparse => None,
    };
    let (endpoint, start_block, backfilled_to, max_span) = match &proxy {
        Some((proxy, stretch)) => (
            proxy.url.clone(),
            chain.deploy_block * stretch,
            chain.head_after * stretch - 64,
            REMOTE_MAX_RANGE,
        ),
        None => (anvil.endpoint.clone(), chain.deploy_block, chain.head_after, u64::MAX),
    };
    let provider = RootProvider::new_http(endpoint.clone());
    let concurrency = usize::from(jobboard::indexer::defaults::FETCH_CONCURRENCY);
    let (fetched, fetch_time, calls) =
        raw_fetch(&provider, board, (start_block, backfilled_to), generated, concurrency, max_span).await?;
    ensure!(fetched == generated, "raw fetch returned {fetched} logs, but {generated} were sent");
    let raw_fetch_rate = fetched as f64 / fetch_time.as_secs_f64();
    say(format!(
        "raw getLogs {fetched} logs in {calls} eth_getLogs calls ({concurrency} in flight): {fetch_time:.2?} = {raw_fetch_rate:.0} logs/s"
    ));

    let pg = EmbeddedPostgres::start(PostgresOptions::new(work.path().join("pg"))).await?;
    let admin = PgPoolOptions::new().max_connections(1).connect(&pg.url("postgres")).await?;
    let raw_url = create_database(&pg, "raw").await?;
    let pool = PgPoolOptions::new().max_connections(1).connect(&raw_url).await?;
    jobboard::store::MIGRATOR.run(&pool).await?;
    pool.close().await;
    let copy_time = raw_copy(&raw_url, generated).await?;
    let copy_rate = generated as f64 / copy_time.as_secs_f64();
    say(format!("raw COPY    {generated} event rows: {copy_time:.2?} = {copy_rate:.0} rows/s"));

    // The real thing, as an operator runs it; with --baseline, alternating with another
    // binary on the same chain, each into a fresh database.
    // BENCH_INDEX_LOG keeps the indexer's log (with RUST_LOG, e.g. `jobboard::store=trace`).
    let log_path =
        std::env::var_os("BENCH_INDEX_LOG").map_or_else(|| work.path().join("index.log"), PathBuf::from);
    std::fs::File::create(&log_path)?;
    let target = Target {
        endpoint: endpoint.as_str(),
        board,
        start_block,
        backfilled_to,
        generated,
        proxy: proxy.as_ref().map(|(p, _)| p),
    };
    let current = PathBuf::from(env!("CARGO_BIN_EXE_jobboard"));
    let mut binaries = vec![("this", current.clone(), &args.extra_args)];
    if let Some(baseline) = &args.baseline {
        binaries.insert(0, ("baseline", baseline.clone(), &args.baseline_args));
    }
    let mut runs: Vec<(&str, Backfill)> = Vec::new();
    let mut last: Option<(Child, String)> = None;
    for repeat in 0..args.repeat {
        for (label, binary, extra) in &binaries {
            if let Some((mut child, _)) = last.take() {
                let _: Result<(), _> = child.kill();
                let _ = child.wait();
            }
            let name = format!("bench_{label}_{repeat}");
            let (run, child, url) = backfill(&admin, &pg, binary, extra, &name, &target, &log_path).await?;
            report_backfill(label, &run, generated, raw_fetch_rate, &args);
            runs.push((label, run));
            last = Some((child, url));
        }
    }
    for (label, _, _) in &binaries {
        let mine: Vec<&Backfill> = runs.iter().filter(|(l, _)| l == label).map(|(_, r)| r).collect();
        if mine.len() > 1 {
            let took = median(mine.iter().map(|r| r.took.as_secs_f64()).collect());
            say(format!(
                "median      {label}: {:.2?} = {:.0} events/s = {:.0}% of raw getLogs over {} runs",
                Duration::from_secs_f64(took),
                generated as f64 / took,
                100.0 * generated as f64 / took / raw_fetch_rate,
                mine.len()
            ));
        }
    }
    let (mut child, url) = last.context("no backfill ran")?;
    if let Some((_, _)) = &proxy {
        let fewest_calls = (backfilled_to - start_block + 1).div_ceil(REMOTE_MAX_RANGE);
        let ideal = REMOTE_LATENCY.mul_f64(fewest_calls as f64 / concurrency as f64);
        for (label, run) in &runs {
            let times = run.took.as_secs_f64() / ideal.as_secs_f64();
            say(format!(
                "remote      {label}: RPC-bound ideal {fewest_calls} calls x {} ms / {concurrency} in flight = {ideal:.2?}; \
                 backfill took {:.2?} = {times:.2}x the ideal (target <= {TARGET_TIMES_IDEAL}x: {}); the proxy saw {}",
                REMOTE_LATENCY.as_millis(),
                run.took,
                met(times <= TARGET_TIMES_IDEAL),
                run.proxy.as_deref().unwrap_or("-")
            ));
        }
        let _ = child.kill();
        let _ = child.wait();
        return Ok(());
    }
    let pid = child.id();
    let mut conn = PgConnection::connect(&url).await?;

    // Following the head: how long from a block appearing at the node to its events being
    // queryable, first polling only, then woken by the node's WebSocket with polling nearly off.
    let provider = &chain.provider;
    let _: serde_json::Value = rpc(provider, "evm_setAutomine", serde_json::json!([true])).await?;
    let employer = anvil.address(0).context("dev account 0")?;
    let samples = args.live_samples;
    ensure!(open_jobs.len() >= 2 * samples, "only {} open jobs to close", open_jobs.len());
    let polled =
        follow_latencies(provider, &mut conn, board, employer, open_jobs[..samples].iter().copied()).await?;
    report_follow(&format!("poll every {POLL_INTERVAL_MS} ms (target <= poll + 100 ms)"), &polled);
    let peak_rss = peak_rss_kib(pid).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();

    let ws = anvil.ws_endpoint().context("anvil's WebSocket URL")?;
    let mut child = index(
        &current,
        anvil.endpoint.as_str(),
        &url,
        &target,
        &log_path,
        &["--poll-interval", "10s", "--ws-url", ws.as_str()],
    )?;
    // Caught up and subscribed before the first sample.
    let head = provider.get_block_number().await? as i64;
    let resumed = Instant::now();
    while checkpoint(&mut conn).await? < Some(head) {
        ensure!(resumed.elapsed() < Duration::from_secs(60), "restarted indexer did not catch up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let woken = follow_latencies(
        provider,
        &mut conn,
        board,
        employer,
        open_jobs[samples..2 * samples].iter().copied(),
    )
    .await?;
    report_follow("poll every 10 s, woken by --ws-url newHeads", &woken);
    let _ = child.kill();
    let _ = child.wait();
    say(format!("peak RSS of jobboard index after following: {:.1} MiB", peak_rss as f64 / 1024.0));
    Ok(())
}

fn report_backfill(label: &str, run: &Backfill, generated: usize, raw_fetch_rate: f64, args: &Args) {
    let rate = generated as f64 / run.took.as_secs_f64();
    let share = rate / raw_fetch_rate;
    let rss_mib = run.peak_rss_kib as f64 / 1024.0;
    say(format!(
        "backfill    {label}: {generated} events in {:.2?} = {rate:.0} events/s = {:.0}% of raw getLogs \
         (target >= {:.0}%: {}); {:.2} RPC calls per 1000 events; peak RSS {rss_mib:.1} MiB{}",
        run.took,
        100.0 * share,
        100.0 * TARGET_SHARE_OF_RAW_FETCH,
        met(share >= TARGET_SHARE_OF_RAW_FETCH),
        run.rpc_calls * 1000.0 / generated as f64,
        if generated >= 1_000_000 && args.shape != Shape::Remote {
            format!(" (target <= {TARGET_PEAK_RSS_MIB} MiB: {})", met(rss_mib <= TARGET_PEAK_RSS_MIB))
        } else {
            String::new()
        },
    ));
}

fn met(yes: bool) -> &'static str {
    if yes { "met" } else { "NOT met" }
}

/// The 1, 5 and 15 minute load averages: the machine is shared, and a run's figures mean
/// little without them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One block per sample (closing one job of `jobs`): returns, per block, the time from its appearing
/// at the node to the checkpoint covering it, and the time anvil took to mine it (which grows
/// with the chain's state and is not the indexer's).
async fn follow_latencies(
    provider: &RootProvider,
    conn: &mut PgConnection,
    board: Address,
    employer: Address,
    jobs: impl Iterator<Item = u64>,
) -> Result<Vec<(Duration, Duration)>> {
    let mut samples = Vec::new();
    for (i, job) in jobs.enumerate() {
        // Spread the samples over the poll cycle.
        tokio::time::sleep(Duration::from_millis(37 * (i as u64 % 7))).await;
        // Automine puts the transaction in the next block; nothing else mines meanwhile.
        let block = provider.get_block_number().await? + 1;
        let sent = Instant::now();
        Sender::new(provider, employer)
            .await?
            .send(board, JobBoard::closeJobCall { jobId: U256::from(job) }.abi_encode())
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
