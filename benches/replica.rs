//! Read-replica benchmark (issue 15):
//! `cargo bench --bench replica [-- --events 100000 --connections 10 --seconds 10 --rounds 1 --baseline PATH]`.
//!
//! In one run, on a local anvil and two embedded PostgreSQL servers on this machine, a primary
//! and a streaming hot standby made from it by `pg_basebackup -R`, it:
//! 1. generates N board events as the other benches do (`benches/common`),
//! 2. runs `jobboard index` on the primary and, while it backfills, samples every 10 ms how far
//!    the standby is behind: WAL bytes (the primary's `pg_current_wal_lsn()` minus the
//!    standby's `pg_last_wal_replay_lsn()`), blocks (the board's checkpoint on each), and
//!    milliseconds, twice: PostgreSQL's own `replay_lag` (`pg_stat_replication`) and how long
//!    each checkpoint the primary showed took to show on the standby; prints median / p99 / max,
//! 3. starts `jobboard serve` on the primary (result cache on, and off) and two on the standby
//!    (where the cache is off: it needs change notices), and drives the API bench's three
//!    frontend queries, and the front page with `_meta` (one snapshot per answer), against the
//!    primary's two and against both replicas with the connections split between them; prints
//!    requests/s, p50 / p99 / max latency, the serve processes' CPU time per request, where the
//!    CPU went and the load average per run; `--rounds N` repeats that, each round starting the
//!    cycle of servers one further on.
//!
//! `--baseline PATH` adds a `serve` of another build (say, the commit before) on the primary,
//! cache off, timed beside this build's: what a change costs, on the same machine in the same
//! minute.
//!
//! Both servers share this machine's cores with the API processes and the load generator: the
//! replica rows show what serving from a standby costs, not what a second machine adds.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::providers::Provider;
use anyhow::{Context, Result, bail, ensure};
use jobboard::local::postgres::{EmbeddedPostgres, PostgresOptions};
use sqlx::{Connection, PgConnection};

#[path = "common/api_queries.rs"]
mod api_queries;
#[path = "common/mod.rs"]
mod common;
#[path = "common/load.rs"]
mod load;

use common::{APPLICANTS, checkpoint, create_database, free_port, peak_rss_kib, say, start_and_generate};
use load::{
    ChildGuard, Cpu, Query, drive, frontend_queries, header, load_average, log_tail, ms, postmaster_pid,
    sanity_check, spawn_jobboard, until_interrupted, wait_until_ready,
};

const WARM_UP: Duration = Duration::from_secs(2);
const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// The front page with where the index stands: `_meta` beside data, read in one snapshot.
const META_AND_NEWEST_OPEN_JOBS: &str = "{ _meta { block { number } } jobs(where: {status: OPEN}, orderBy: NEWEST, first: 20) { nodes { id title company salaryMin salaryMax tags postedAt employer { address } } } }";

struct Args {
    events: usize,
    connections: usize,
    seconds: u64,
    rounds: usize,
    baseline: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { events: 100_000, connections: 10, seconds: 10, rounds: 1, baseline: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--events" => args.events = it.next().context("--events takes a number")?.parse()?,
            "--connections" => {
                args.connections = it.next().context("--connections takes a number")?.parse()?
            }
            "--seconds" => args.seconds = it.next().context("--seconds takes a number")?.parse()?,
            "--rounds" => args.rounds = it.next().context("--rounds takes a number")?.parse()?,
            "--baseline" => args.baseline = Some(it.next().context("--baseline takes a path")?.into()),
            "--bench" => {} // passed by `cargo bench`
            other => {
                bail!("unknown argument {other}; use --events N --connections N --seconds N --baseline PATH")
            }
        }
    }
    ensure!(args.events >= 3, "--events must be at least 3");
    ensure!(args.connections >= 2, "--connections must be at least 2 (split over two replicas)");
    ensure!(args.seconds >= 1, "--seconds must be at least 1");
    ensure!(args.rounds >= 1, "--rounds must be at least 1");
    Ok(args)
}

/// An LSN (`16/B374D848`) as a byte position.
fn lsn(text: &str) -> Result<u64> {
    let (high, low) = text.split_once('/').with_context(|| format!("not an LSN: {text}"))?;
    Ok((u64::from_str_radix(high, 16)? << 32) | u64::from_str_radix(low, 16)?)
}

/// Nearest-rank percentile of sorted `values`.
fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// One series of lag samples, as the report prints it.
fn summary(name: &str, unit: &str, mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    format!(
        "lag         {name:<34} median {:>10.1} {unit:<6} p99 {:>10.1} {unit:<6} max {:>10.1} {unit:<6} ({} samples)",
        percentile(&values, 50.0),
        percentile(&values, 99.0),
        values.last().copied().unwrap_or(f64::NAN),
        values.len()
    )
}

/// How far the standby was behind, sampled during the backfill.
#[derive(Default)]
struct Lag {
    bytes: Vec<f64>,
    blocks: Vec<f64>,
    replay_ms: Vec<f64>,
    visible_ms: Vec<f64>,
}

/// Samples the lag every [`SAMPLE_EVERY`] while `index` backfills the blocks after `floor`,
/// until both servers show the checkpoint at `head`.
async fn sample_lag(
    primary: &mut PgConnection,
    standby: &mut PgConnection,
    index: &mut ChildGuard,
    index_log: &Path,
    (floor, head): (u64, u64),
) -> Result<Lag> {
    let mut lag = Lag::default();
    // Checkpoints the primary showed, with when it first did, not yet seen on the standby.
    let mut pending: VecDeque<(u64, Instant)> = VecDeque::new();
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        if let Some(status) = index.0.try_wait()? {
            bail!("jobboard index exited with {status}:\n{}", log_tail(index_log));
        }
        ensure!(Instant::now() < deadline, "the backfill took over 30 minutes:\n{}", log_tail(index_log));
        let (primary_lsn, primary_block, replay_ms): (String, Option<i64>, Option<f64>) = sqlx::query_as(
            "SELECT pg_current_wal_lsn()::text, (SELECT block_number FROM indexer_state LIMIT 1), \
             (SELECT (extract(epoch FROM replay_lag) * 1000)::float8 FROM pg_stat_replication LIMIT 1)",
        )
        .fetch_one(&mut *primary)
        .await?;
        let primary_at = Instant::now();
        let (standby_lsn, standby_block): (String, Option<i64>) = sqlx::query_as(
            "SELECT pg_last_wal_replay_lsn()::text, (SELECT block_number FROM indexer_state LIMIT 1)",
        )
        .fetch_one(&mut *standby)
        .await?;
        let standby_at = Instant::now();
        let primary_block = primary_block.map(u64::try_from).transpose()?;
        let standby_block = standby_block.map(u64::try_from).transpose()?;
        if let Some(block) = primary_block {
            let primary_lsn = lsn(&primary_lsn)?;
            if pending.back().is_none_or(|&(last, _)| block > last) {
                pending.push_back((block, primary_at));
            }
            // The standby is read after the primary: a negative difference is replay that
            // happened in between.
            lag.bytes.push(primary_lsn.saturating_sub(lsn(&standby_lsn)?) as f64);
            lag.blocks.push(block.saturating_sub(standby_block.unwrap_or(floor)) as f64);
            lag.replay_ms.extend(replay_ms);
            while let (Some(&(shown, at)), Some(replayed)) = (pending.front(), standby_block) {
                if shown > replayed {
                    break;
                }
                lag.visible_ms.push(ms(standby_at - at));
                pending.pop_front();
            }
            if block == head && standby_block == Some(head) {
                return Ok(lag);
            }
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}

/// A server (or servers) the load goes to, and the processes whose CPU it costs.
struct Target {
    name: String,
    urls: Vec<String>,
    pids: Vec<u32>,
}

/// Starts `binary serve` on `database_url` with `extra`; returns once `/readyz` says 200.
async fn start_serve(
    binary: &Path,
    database_url: &str,
    contract: &str,
    extra: &[&str],
    log: PathBuf,
) -> Result<(ChildGuard, String)> {
    let listen = format!("127.0.0.1:{}", free_port()?);
    let mut args = vec!["serve", "--database-url", database_url, "--contract", contract, "--listen", &listen];
    args.extend_from_slice(extra);
    let mut child = spawn_jobboard(binary, &args, &log)?;
    let base = format!("http://{listen}");
    wait_until_ready(&base, &mut child, &log, Duration::from_secs(60)).await?;
    Ok((child, base))
}

/// Drives `query` against `target` (a warm-up, then the timed run) and prints its row; the
/// failures, if any.
async fn time_one(
    args: &Args,
    postmasters: &[u32],
    query: &Query,
    path: &[&str],
    target: &Target,
) -> Result<Option<String>> {
    for url in &target.urls {
        sanity_check(&format!("{url}/graphql"), query, path).await?;
    }
    let graphql: Vec<String> = target.urls.iter().map(|url| format!("{url}/graphql")).collect();
    let warm_up = drive(&graphql, query, args.connections, WARM_UP).await?;
    let before = Cpu::now(&target.pids, postmasters);
    let run = drive(&graphql, query, args.connections, Duration::from_secs(args.seconds)).await?;
    let after = Cpu::now(&target.pids, postmasters);
    let failures = warm_up.failures + run.failures;
    say(format!(
        "{:<30} {:<31} {:>8.0} {:>7.2} {:>7.2} {:>8.2} {:>8} {:>5} {:>10.0}  {:<22} {}",
        query.name,
        target.name,
        run.rate(),
        ms(run.percentile(50.0)),
        ms(run.percentile(99.0)),
        ms(run.max()),
        run.requests,
        failures,
        before.api_seconds_until(&after) * 1e6 / run.requests.max(1) as f64,
        before.cores_until(&after, run.elapsed),
        load_average()
    ));
    Ok((failures > 0).then(|| {
        let first = warm_up.first_failure.or(run.first_failure).unwrap_or_default();
        format!("{} against {}: {failures} failed, the first: {first}", query.name, target.name)
    }))
}

async fn bench(args: Args) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let jobboard = Path::new(env!("CARGO_BIN_EXE_jobboard"));
    let work = tempfile::tempdir()?;
    say(header("replica", args.events, args.connections, args.seconds));

    let chain = start_and_generate(&root, args.events).await?;
    let primary = EmbeddedPostgres::start(PostgresOptions::new(work.path().join("primary"))).await?;
    let primary_url = create_database(&primary, "bench").await?;
    let mut conn = PgConnection::connect(&primary_url).await?;
    jobboard::store::MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    let standby =
        EmbeddedPostgres::start_standby(&primary, PostgresOptions::new(work.path().join("standby"))).await?;
    let standby_url = standby.url("bench");
    let postmasters = [postmaster_pid(primary.data_dir())?, postmaster_pid(standby.data_dir())?];
    say(
        "servers     a primary and a streaming hot standby (pg_basebackup -R), both on this machine, fsync off",
    );

    // The backfill, with the standby's lag sampled throughout.
    let board = chain.board.to_string();
    let rpc = chain.anvil.endpoint.to_string();
    let start_block = chain.deploy_block.to_string();
    let index_log = work.path().join("index.log");
    let index_args = [
        "index",
        "--rpc-url",
        &rpc,
        "--database-url",
        &primary_url,
        "--contract",
        &board,
        "--start-block",
        &start_block,
        "--poll-interval",
        "200ms",
    ];
    let head = chain.provider.get_block_number().await?;
    ensure!(head == chain.head_after, "the chain moved: head {head}, expected {}", chain.head_after);
    let mut on_primary = PgConnection::connect(&primary_url).await?;
    let mut on_standby = PgConnection::connect(&standby_url).await?;
    let wal_before: String =
        sqlx::query_scalar("SELECT pg_current_wal_lsn()::text").fetch_one(&mut on_primary).await?;
    let spawned = Instant::now();
    let mut index = spawn_jobboard(jobboard, &index_args, &index_log)?;
    let blocks = (chain.deploy_block.saturating_sub(1), head);
    let lag = sample_lag(&mut on_primary, &mut on_standby, &mut index, &index_log, blocks).await?;
    let took = spawned.elapsed();
    let wal_after: String =
        sqlx::query_scalar("SELECT pg_current_wal_lsn()::text").fetch_one(&mut on_primary).await?;
    let wal = lsn(&wal_after)?.saturating_sub(lsn(&wal_before)?);
    let at = i64::try_from(head)?;
    ensure!(checkpoint(&mut on_primary).await? == Some(at), "the primary's checkpoint is not at {head}");
    let (events, jobs, applications): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM jobs), (SELECT count(*) FROM applications)",
    )
    .fetch_one(&mut on_standby)
    .await?;
    ensure!(
        events as usize == chain.generated,
        "the standby has {events} events, expected {}",
        chain.generated
    );
    let job_ids: Vec<i64> =
        sqlx::query_scalar("SELECT job_id FROM jobs ORDER BY job_id").fetch_all(&mut on_standby).await?;
    ensure!(!job_ids.is_empty(), "no jobs were indexed");
    say(format!(
        "backfill    jobboard index wrote {events} events ({jobs} jobs, {applications} applications) to block {head} \
         and the standby replayed them {took:.1?} after it started ({:.0} events/s), {:.1} MiB of WAL; load average {}",
        events as f64 / took.as_secs_f64(),
        wal as f64 / (1024.0 * 1024.0),
        load_average()
    ));
    say(summary("WAL not yet replayed", "bytes", lag.bytes));
    say(summary("checkpoint behind", "blocks", lag.blocks));
    say(summary("replay_lag (pg_stat_replication)", "ms", lag.replay_ms));
    say(summary("a checkpoint shows on the standby", "ms", lag.visible_ms));
    say(
        "            (sampled every 10 ms: the primary, then the standby; a checkpoint's delay is from the first sample that showed it on the primary)",
    );

    // The API: one `serve` on the primary with the result cache, one without, two on the
    // standby; the indexer keeps following the head, as it would in production.
    let mut children = Vec::new();
    let mut targets = Vec::new();
    let mut processes = Vec::new();
    let serves: [(&str, &Path, &str, &[&str]); 4] = [
        ("primary, cache on", jobboard, &primary_url, &[]),
        ("primary, cache off", jobboard, &primary_url, &["--result-cache-bytes", "0"]),
        ("standby 1", jobboard, &standby_url, &["--result-cache-bytes", "0"]),
        ("standby 2", jobboard, &standby_url, &["--result-cache-bytes", "0"]),
    ];
    for (n, (name, binary, url, extra)) in serves.into_iter().enumerate() {
        let (child, base) =
            start_serve(binary, url, &board, extra, work.path().join(format!("serve{n}.log"))).await?;
        targets.push(Target { name: name.to_owned(), urls: vec![base], pids: vec![child.0.id()] });
        processes.push((name.to_owned(), child.0.id()));
        children.push(child);
    }
    let replicas = targets.split_off(2);
    targets.push(Target {
        name: "2 standbys, cache off".to_owned(),
        urls: replicas.iter().flat_map(|r| r.urls.clone()).collect(),
        pids: replicas.iter().flat_map(|r| r.pids.clone()).collect(),
    });
    if let Some(baseline) = &args.baseline {
        let log = work.path().join("baseline.log");
        let (child, base) =
            start_serve(baseline, &primary_url, &board, &["--result-cache-bytes", "0"], log).await?;
        targets.push(Target {
            name: "primary, cache off, --baseline".to_owned(),
            urls: vec![base],
            pids: vec![child.0.id()],
        });
        processes.push(("--baseline".to_owned(), child.0.id()));
        children.push(child);
    }

    let applicants = (1..=APPLICANTS)
        .map(|i| Ok(format!("{:#x}", chain.anvil.address(i).context("dev account")?)))
        .collect::<Result<Vec<String>>>()?;
    let mut queries = frontend_queries(&job_ids, &applicants)?;
    queries.push((
        Query::new("_meta + newest open jobs", META_AND_NEWEST_OPEN_JOBS, Vec::new())?,
        &["jobs", "nodes"][..],
    ));
    say(format!(
        "queries     cycle over {} job ids and {} applicant addresses; {} s warm-up, then {} s each, {} connections \
         (split evenly over the standbys)",
        job_ids.len(),
        applicants.len(),
        WARM_UP.as_secs(),
        args.seconds,
        args.connections
    ));
    say(format!(
        "{:<30} {:<31} {:>8} {:>7} {:>7} {:>8} {:>8} {:>5} {:>10}  {:<22} {}",
        "query",
        "served by",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "requests",
        "fail",
        "API us/req",
        "cores api/pg/cli/other",
        "load"
    ));
    let mut failed = Vec::new();
    for round in 0..args.rounds {
        if args.rounds > 1 {
            say(format!("round {} of {}", round + 1, args.rounds));
        }
        for (query, path) in &queries {
            // Each round starts the cycle one target further on: none is always timed last,
            // when the machine has warmed up (or others' jobs have started).
            let mut order: Vec<&Target> = targets.iter().collect();
            order.rotate_left(round % targets.len());
            for target in order {
                if let Some(failure) = time_one(&args, &postmasters, query, path, target).await? {
                    failed.push(failure);
                }
            }
        }
    }
    say(
        "            (API us/req: CPU time of the serve processes per request; cores: CPU used during the timed run by \
         the serve processes timed / both PostgreSQL servers / this load generator / anything else; load: the 1, 5 \
         and 15 minute load averages after it)",
    );
    if let Some(status) = index.0.try_wait()? {
        bail!("jobboard index exited during the bench with {status}:\n{}", log_tail(&index_log));
    }
    ensure!(failed.is_empty(), "some requests failed:\n{}", failed.join("\n"));
    let rss: Vec<String> = processes
        .iter()
        .map(|(name, pid)| format!("{name} {:.1} MiB", peak_rss_kib(*pid).unwrap_or(0) as f64 / 1024.0))
        .collect();
    say(format!("peak RSS of the serve processes: {}", rss.join(", ")));
    drop(children);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    until_interrupted(bench(parse_args()?)).await
}
