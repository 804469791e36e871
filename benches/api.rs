//! GraphQL API benchmark:
//! `cargo bench --bench api [-- --events 100000 --connections 10 --seconds 10]`.
//!
//! In one run on a local anvil and an embedded PostgreSQL it:
//! 1. generates N board events exactly as the indexer bench does (`benches/common`),
//! 2. starts `jobboard run` (the release binary: indexer + API in one process) and waits until
//!    `/readyz` answers 200 and the checkpoint is at the head,
//! 3. starts `jobboard serve --result-cache-bytes 0` on the same database, and drives four
//!    typical frontend queries over HTTP POST `/graphql` from a fixed number of keep-alive
//!    connections against both (`run`, with the result cache on as by default, and that
//!    `serve`, without it), each for a 2 s warm-up and then a fixed time, checking every answer,
//! 4. reports requests/s and p50 / p99 / max latency per query and server against the target,
//!    and the peak RSS of the `jobboard run` process;
//! 5. then, on a second database of `--activity-events` (default 1M) events generated in SQL
//!    (`tests/fixtures/generated_board.sql`: the indexer would take too long), starts
//!    `jobboard serve` and times `activity(where: { address })` for a known and an unknown
//!    address (issue 12: < 50 ms). `--activity-events 0` skips it.
//!
//! The load generator is `benches/common/load.rs`, shared with the replica bench.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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

const POLL_INTERVAL_MS: u64 = 200;
const WARM_UP: Duration = Duration::from_secs(2);
/// The faster peer (Subsquid) serves 510-670 req/s; the target is five times its best.
const PEER_BEST_RPS: f64 = 670.0;
const TARGET_FACTOR: f64 = 5.0;
const TARGET_P99: Duration = Duration::from_millis(10);

const SEARCH: &str =
    "query($q: String!) { jobs(search: $q, first: 20) { nodes { id title company location } } }";

struct Args {
    events: usize,
    connections: usize,
    seconds: u64,
    activity_events: u64,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { events: 100_000, connections: 10, seconds: 10, activity_events: 1_000_000 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--events" => args.events = it.next().context("--events takes a number")?.parse()?,
            "--connections" => {
                args.connections = it.next().context("--connections takes a number")?.parse()?
            }
            "--seconds" => args.seconds = it.next().context("--seconds takes a number")?.parse()?,
            "--activity-events" => {
                args.activity_events = it.next().context("--activity-events takes a number")?.parse()?
            }
            "--bench" => {} // passed by `cargo bench`
            other => bail!(
                "unknown argument {other}; use --events N --connections N --seconds N --activity-events N"
            ),
        }
    }
    ensure!(args.events >= 3, "--events must be at least 3");
    ensure!(args.connections >= 1, "--connections must be at least 1");
    ensure!(args.seconds >= 1, "--seconds must be at least 1");
    Ok(args)
}

async fn bench(args: Args) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir()?;
    say(header("API", args.events, args.connections, args.seconds));

    let chain = start_and_generate(&root, args.events).await?;

    let pg = EmbeddedPostgres::start(PostgresOptions::new(work.path().join("pg"))).await?;
    let db_url = create_database(&pg, "bench").await?;

    // The real thing, as an operator runs it: indexer and API in one process.
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let log_path = work.path().join("run.log");
    let log = std::fs::File::create(&log_path)?;
    let started = Instant::now();
    let mut child = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_jobboard"))
            .args(["run", "--rpc-url", chain.anvil.endpoint.as_str(), "--database-url", &db_url])
            .args(["--contract", &chain.board.to_string(), "--start-block", &chain.deploy_block.to_string()])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--poll-interval", &format!("{POLL_INTERVAL_MS}ms")])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting jobboard run")?,
    );
    let pid = child.0.id();
    let postmaster = postmaster_pid(pg.data_dir())?;

    // Ready: /readyz says 200 and the checkpoint is at the node's head.
    let head = chain.provider.get_block_number().await?;
    ensure!(head == chain.head_after, "the chain moved: head {head}, expected {}", chain.head_after);
    let probe = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build()?;
    let mut conn: Option<PgConnection> = None;
    loop {
        if let Some(status) = child.0.try_wait()? {
            bail!("jobboard run exited with {status}:\n{}", log_tail(&log_path));
        }
        ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "jobboard run not ready in 30 minutes:\n{}",
            log_tail(&log_path)
        );
        let ready = match probe.get(format!("{base}/readyz")).send().await {
            Ok(response) => response.status() == reqwest::StatusCode::OK,
            Err(_) => false, // not listening yet
        };
        if ready {
            if conn.is_none() {
                conn = Some(PgConnection::connect(&db_url).await?);
            }
            if let Some(conn) = conn.as_mut()
                && checkpoint(conn).await? == Some(head as i64)
            {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ready_after = started.elapsed();
    let mut conn = conn.context("no database connection")?;
    let indexed: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&mut conn).await?;
    ensure!(indexed as usize == chain.generated, "indexed {indexed} events, expected {}", chain.generated);
    let job_ids: Vec<i64> =
        sqlx::query_scalar("SELECT job_id FROM jobs ORDER BY job_id").fetch_all(&mut conn).await?;
    ensure!(!job_ids.is_empty(), "no jobs were indexed");
    conn.close().await?;
    say(format!(
        "ready       jobboard run indexed {indexed} events to block {head} and answered /readyz in {ready_after:.1?}"
    ));

    // The same index served without the result cache, by `jobboard serve` beside `run`: each
    // query is timed against both, one after the other, so both see the same machine.
    let uncached_port = free_port()?;
    let uncached_base = format!("http://127.0.0.1:{uncached_port}");
    let serve_log_path = work.path().join("serve.log");
    let board = chain.board.to_string();
    let listen = format!("127.0.0.1:{uncached_port}");
    let serve_args = [
        "serve",
        "--database-url",
        &db_url,
        "--contract",
        &board,
        "--listen",
        &listen,
        "--result-cache-bytes",
        "0",
    ];
    let mut uncached =
        spawn_jobboard(Path::new(env!("CARGO_BIN_EXE_jobboard")), &serve_args, &serve_log_path)?;
    wait_until_ready(&uncached_base, &mut uncached, &serve_log_path, Duration::from_secs(60)).await?;
    let servers = [("on", base.as_str(), pid), ("off", uncached_base.as_str(), uncached.0.id())];

    let applicants = (1..=APPLICANTS)
        .map(|i| Ok(format!("{:#x}", chain.anvil.address(i).context("dev account")?)))
        .collect::<Result<Vec<String>>>()?;
    let mut queries = frontend_queries(&job_ids, &applicants)?;
    queries.push((
        Query::new(
            "search",
            SEARCH,
            ["rust", "indexer", "remote", "postgres", "acme"]
                .iter()
                .map(|q| serde_json::json!({ "q": q }))
                .collect(),
        )?,
        &["jobs", "nodes"][..],
    ));
    say(format!(
        "queries     cycle over {} job ids and {} applicant addresses; {} s warm-up, then {} s each",
        job_ids.len(),
        applicants.len(),
        WARM_UP.as_secs(),
        args.seconds
    ));

    let target_rps = PEER_BEST_RPS * TARGET_FACTOR;
    let mut results = Vec::new();
    say(format!(
        "{:<30} {:>5} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10}  {:<22}",
        "query",
        "cache",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "requests",
        "failures",
        "API us/req",
        "cores api/pg/cli/other"
    ));
    for ((query, path), (cache, server, server_pid)) in
        queries.iter().flat_map(|query| servers.iter().map(move |server| (query, server)))
    {
        let graphql = format!("{server}/graphql");
        sanity_check(&graphql, query, path).await?;
        let target = std::slice::from_ref(&graphql);
        let warm_up = drive(target, query, args.connections, WARM_UP).await?;
        let cpu_before = Cpu::now(&[*server_pid], &[postmaster]);
        let run = drive(target, query, args.connections, Duration::from_secs(args.seconds)).await?;
        let cpu_after = Cpu::now(&[*server_pid], &[postmaster]);
        let cores = cpu_before.cores_until(&cpu_after, run.elapsed);
        let cpu_per_request = cpu_before.api_seconds_until(&cpu_after) * 1e6 / run.requests.max(1) as f64;
        let failures = warm_up.failures + run.failures;
        let meets = run.rate() >= target_rps && run.percentile(99.0) < TARGET_P99 && failures == 0;
        say(format!(
            "{:<30} {:>5} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>8} {:>10.0}  {:<22}  {}",
            query.name,
            cache,
            run.rate(),
            ms(run.percentile(50.0)),
            ms(run.percentile(99.0)),
            ms(run.max()),
            run.requests,
            failures,
            cpu_per_request,
            cores,
            if meets { "meets target" } else { "BELOW target" },
        ));
        let first_failure = warm_up.first_failure.or(run.first_failure);
        results.push((query.name, *cache, failures, first_failure, meets));
    }
    say(
        "            (API us/req: the API process's CPU time per request; cores: CPU used during the timed run by the API process (run with the cache, serve without) / PostgreSQL / this load generator / anything else)",
    );
    for cache in ["on", "off"] {
        let timed = results.iter().filter(|r| r.1 == cache);
        let met = timed.clone().filter(|r| r.4).count();
        say(format!(
            "target      >= {TARGET_FACTOR:.0}x the faster peer (Subsquid 510-670 req/s) = >= {target_rps:.0} req/s with p99 < {} ms, cache {cache}: met by {met} of {} queries",
            TARGET_P99.as_millis(),
            timed.count()
        ));
    }
    let metrics = probe.get(format!("{base}/metrics")).send().await?.text().await?;
    let count = |result: &str| -> u64 {
        let prefix = format!("jobboard_api_result_cache_requests_total{{result=\"{result}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    let (hits, misses, bypasses) = (count("hit"), count("miss"), count("bypass"));
    say(format!(
        "result cache of jobboard run: {hits} hits, {misses} misses, {bypasses} bypasses ({:.2} % hits; the bodies cycle over {} distinct requests)",
        100.0 * hits as f64 / (hits + misses + bypasses).max(1) as f64,
        queries.iter().map(|(q, _)| q.bodies.len()).sum::<usize>(),
    ));
    say(format!(
        "peak RSS of jobboard run (indexing, then serving): {:.1} MiB",
        peak_rss_kib(pid).unwrap_or(0) as f64 / 1024.0
    ));
    say(format!("load average after the timed runs: {}", load_average()));
    if let Some(status) = child.0.try_wait()? {
        bail!("jobboard run exited during the bench with {status}:\n{}", log_tail(&log_path));
    }

    if args.activity_events > 0 {
        activity_by_address(&pg, args.activity_events).await?;
    }

    let failed: Vec<String> = results
        .into_iter()
        .filter(|(_, _, failures, _, _)| *failures > 0)
        .map(|(name, cache, failures, first, _)| {
            format!(
                "{name} (cache {cache}): {failures} failed requests, the first: {}",
                first.unwrap_or_default()
            )
        })
        .collect();
    ensure!(failed.is_empty(), "some requests failed:\n{}", failed.join("\n"));
    Ok(())
}

/// Times `activity(where: { address })` on a generated board of `events` events, served by
/// `jobboard serve`: 200 sequential requests each for an employer's address and for an address
/// that never acted.
async fn activity_by_address(pg: &EmbeddedPostgres, events: u64) -> Result<()> {
    let db_url = create_database(pg, "activity").await?;
    let started = Instant::now();
    let mut conn = PgConnection::connect(&db_url).await?;
    jobboard::store::MIGRATOR.run(&mut conn).await?;
    let (chain_id, contract) = (31_337_u64, "42".repeat(20));
    sqlx::query(
        "SELECT set_config('gen.events', $1, false), set_config('gen.chain_id', $2, false), \
         set_config('gen.contract', $3, false)",
    )
    .bind(events.to_string())
    .bind(chain_id.to_string())
    .bind(&contract)
    .execute(&mut conn)
    .await?;
    sqlx::raw_sql(include_str!("../tests/fixtures/generated_board.sql")).execute(&mut conn).await?;
    let generated: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&mut conn).await?;
    let known: Vec<u8> =
        sqlx::query_scalar("SELECT employer FROM jobs ORDER BY job_id LIMIT 1").fetch_one(&mut conn).await?;
    let known_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events e WHERE e.job_id IN (SELECT job_id FROM jobs WHERE employer = $1) \
         OR e.application_id IN (SELECT application_id FROM applications WHERE applicant = $1)",
    )
    .bind(&known)
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    say(format!("activity    generated {generated} events in SQL in {:.1?}", started.elapsed()));

    let port = free_port()?;
    let _serve = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_jobboard"))
            .args(["serve", "--database-url", &db_url, "--contract", &format!("0x{contract}")])
            .args(["--chain-id", &chain_id.to_string(), "--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting jobboard serve")?,
    );
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build()?;
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
    {
        ensure!(Instant::now() < deadline, "jobboard serve not ready within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let query = "query($a: Address!) { activity(where: { address: $a }, first: 20) { nodes { kind jobId blockNumber } } }";
    for (name, address) in [
        (format!("known address ({known_events} events)"), format!("0x{}", alloy::hex::encode(&known))),
        ("unknown address".to_owned(), format!("0x{}", "99".repeat(20))),
    ] {
        let body = serde_json::json!({ "query": query, "variables": { "a": address } }).to_string();
        let mut latencies = Vec::new();
        for _ in 0..200 {
            let sent = Instant::now();
            let reply: serde_json::Value = client
                .post(format!("{base}/graphql"))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?
                .json()
                .await?;
            latencies.push(sent.elapsed());
            ensure!(reply.get("errors").is_none(), "{name}: {reply}");
        }
        latencies.sort();
        let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
        say(format!(
            "activity    where address, {name}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over 200 requests (target < 50 ms)",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0)),
        ));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    until_interrupted(bench(parse_args()?)).await
}
