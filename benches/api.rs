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
//! Over 600 lines: the bench's set-up (chain, database, release binary), its load generator and
//! its report, in the order one run goes through them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alloy::providers::Provider;
use anyhow::{Context, Result, bail, ensure};
use jobboard::local::postgres::{EmbeddedPostgres, PostgresOptions};
use serde::Deserialize;
use serde::de::IgnoredAny;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};

#[path = "common/api_queries.rs"]
mod api_queries;
#[path = "common/mod.rs"]
mod common;

use api_queries::{APPLICANT_APPLICATIONS, JOB_WITH_APPLICATIONS, NEWEST_OPEN_JOBS};

use common::{APPLICANTS, checkpoint, free_port, peak_rss_kib, say, start_and_generate};

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

/// A child process that is killed when dropped, so that no exit path leaves it running.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One query under load: a name and the request bodies it cycles through.
struct Query {
    name: &'static str,
    bodies: Vec<String>,
}

impl Query {
    fn new(name: &'static str, query: &str, variables: Vec<serde_json::Value>) -> Result<Query> {
        let bodies = if variables.is_empty() {
            vec![serde_json::to_string(&serde_json::json!({ "query": query }))?]
        } else {
            variables
                .into_iter()
                .map(|v| serde_json::to_string(&serde_json::json!({ "query": query, "variables": v })))
                .collect::<Result<_, _>>()?
        };
        Ok(Query { name, bodies })
    }
}

/// What a timed run measured.
struct Run {
    requests: usize,
    failures: usize,
    first_failure: Option<String>,
    elapsed: Duration,
    /// Every request's latency, sorted.
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest-rank percentile.
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }
}

/// Only whether the answer has `data` and no `errors`; the rest is skipped without building it.
#[derive(Deserialize)]
struct Reply {
    data: Option<IgnoredAny>,
    errors: Option<IgnoredAny>,
}

/// Why one response does not count as a success, if it does not.
fn check(status: reqwest::StatusCode, body: &[u8]) -> Option<String> {
    let snippet = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    if status != reqwest::StatusCode::OK {
        return Some(format!("HTTP {status}: {}", snippet()));
    }
    match serde_json::from_slice::<Reply>(body) {
        Ok(Reply { errors: Some(_), .. }) => Some(format!("GraphQL errors: {}", snippet())),
        Ok(Reply { data: None, .. }) => Some(format!("no data: {}", snippet())),
        Ok(_) => None,
        Err(error) => Some(format!("not JSON ({error}): {}", snippet())),
    }
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// `connections` tasks, each with its own client (one keep-alive connection), send `query`'s
/// bodies in turn, back to back, for `duration`.
async fn drive(url: &str, query: &Query, connections: usize, duration: Duration) -> Result<Run> {
    let bodies = Arc::new(query.bodies.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let client = client()?;
        let url = url.to_owned();
        let bodies = Arc::clone(&bodies);
        let next = Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(65_536);
            let mut failures = 0usize;
            let mut first_failure = None;
            while Instant::now() < deadline {
                let body = bodies[next.fetch_add(1, Ordering::Relaxed) % bodies.len()].clone();
                let sent = Instant::now();
                let outcome = async {
                    let response = client
                        .post(&url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body)
                        .send()
                        .await?;
                    let status = response.status();
                    let bytes = response.bytes().await?;
                    Ok::<_, reqwest::Error>((status, bytes))
                }
                .await;
                latencies.push(sent.elapsed());
                let failure = match outcome {
                    Ok((status, bytes)) => check(status, &bytes),
                    Err(error) => Some(format!("request failed: {error}")),
                };
                if let Some(failure) = failure {
                    failures += 1;
                    first_failure.get_or_insert(failure);
                    // A dead server fails fast; do not spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            (latencies, failures, first_failure)
        }));
    }
    let mut run =
        Run { requests: 0, failures: 0, first_failure: None, elapsed: Duration::ZERO, latencies: Vec::new() };
    for task in tasks {
        let (latencies, failures, first_failure) = task.await?;
        run.requests += latencies.len();
        run.latencies.extend(latencies);
        run.failures += failures;
        if run.first_failure.is_none() {
            run.first_failure = first_failure;
        }
    }
    run.elapsed = started.elapsed();
    run.latencies.sort_unstable();
    Ok(run)
}

/// Sends `query`'s first body once and checks that the answer holds real rows (`path` leads to
/// a non-empty list, or to a non-null object), so that the bench does not time empty answers.
async fn sanity_check(url: &str, query: &Query, path: &[&str]) -> Result<()> {
    let body = query.bodies.first().context("no request bodies")?.clone();
    let response = client()?
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if let Some(failure) = check(status, &bytes) {
        bail!("{}: {failure}", query.name);
    }
    let reply: serde_json::Value = serde_json::from_slice(&bytes)?;
    let mut at = &reply["data"];
    for key in path {
        at = &at[key];
    }
    let empty = match at {
        serde_json::Value::Array(items) => items.is_empty(),
        other => other.is_null(),
    };
    ensure!(!empty, "{}: the answer has no rows at data.{}: {reply}", query.name, path.join("."));
    Ok(())
}

/// CPU time (user + system) a process has used, in seconds; /proc counts in USER_HZ = 100.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After "pid (comm) ": state, ppid, ..., utime and stime are the 12th and 13th fields.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The CPU time of the PostgreSQL server: the postmaster and its live children.
fn postgres_cpu_seconds(postmaster: u32) -> f64 {
    let mut total = cpu_seconds(postmaster).unwrap_or(0.0);
    let Ok(entries) = std::fs::read_dir("/proc") else { return total };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
        if ppid == Some(postmaster.to_string().as_str()) {
            total += cpu_seconds(pid).unwrap_or(0.0);
        }
    }
    total
}

/// CPU time the whole machine spent busy (not idle, not waiting for I/O), in seconds.
fn machine_busy_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return 0.0 };
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else { return 0.0 };
    let ticks: Vec<u64> = line.split_whitespace().skip(1).filter_map(|t| t.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
    let busy: u64 =
        ticks.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, t)| t).sum();
    busy as f64 / 100.0
}

/// Where the CPU went: `jobboard run`, PostgreSQL, this load generator, and anything else
/// running on the machine (which makes the numbers unreliable).
#[derive(Clone, Copy)]
struct Cpu {
    run: f64,
    postgres: f64,
    client: f64,
    machine: f64,
}

impl Cpu {
    fn now(run_pid: u32, postmaster: u32) -> Cpu {
        Cpu {
            run: cpu_seconds(run_pid).unwrap_or(0.0),
            postgres: postgres_cpu_seconds(postmaster),
            client: cpu_seconds(std::process::id()).unwrap_or(0.0),
            machine: machine_busy_seconds(),
        }
    }

    /// Cores used by each between `self` and `later`, over `elapsed`.
    fn cores_until(&self, later: &Cpu, elapsed: Duration) -> String {
        let s = elapsed.as_secs_f64();
        let (run, postgres, client) =
            (later.run - self.run, later.postgres - self.postgres, later.client - self.client);
        let other = (later.machine - self.machine - run - postgres - client).max(0.0);
        format!("{:.2}/{:.2}/{:.2}/{:.2}", run / s, postgres / s, client / s, other / s)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

async fn bench(args: Args) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir()?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    say(format!(
        "== jobboard API bench: {} events, {} connections, {} s per query, {cores} cores",
        args.events, args.connections, args.seconds
    ));

    let chain = start_and_generate(&root, args.events).await?;

    let pg = EmbeddedPostgres::start(PostgresOptions::new(work.path().join("pg"))).await?;
    let admin = PgPoolOptions::new().max_connections(1).connect(&pg.url("postgres")).await?;
    sqlx::query("CREATE DATABASE bench").execute(&admin).await?;
    admin.close().await;
    let db_url = pg.url("bench");

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
    let postmaster: u32 = std::fs::read_to_string(pg.data_dir().join("postmaster.pid"))?
        .lines()
        .next()
        .context("empty postmaster.pid")?
        .trim()
        .parse()
        .context("postmaster.pid")?;

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
    let serve_log = std::fs::File::create(&serve_log_path)?;
    let mut uncached = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_jobboard"))
            .args(["serve", "--database-url", &db_url, "--contract", &chain.board.to_string()])
            .args(["--listen", &format!("127.0.0.1:{uncached_port}"), "--result-cache-bytes", "0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(serve_log)
            .spawn()
            .context("starting jobboard serve")?,
    );
    let serve_started = Instant::now();
    loop {
        if let Some(status) = uncached.0.try_wait()? {
            bail!("jobboard serve exited with {status}:\n{}", log_tail(&serve_log_path));
        }
        ensure!(serve_started.elapsed() < Duration::from_secs(60), "jobboard serve not ready in 60 s");
        if let Ok(response) = probe.get(format!("{uncached_base}/readyz")).send().await
            && response.status() == reqwest::StatusCode::OK
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let servers = [("on", base.as_str(), pid), ("off", uncached_base.as_str(), uncached.0.id())];

    let applicants = (1..=APPLICANTS)
        .map(|i| Ok(format!("{:#x}", chain.anvil.address(i).context("dev account")?)))
        .collect::<Result<Vec<String>>>()?;
    let queries = [
        (Query::new("newest open jobs", NEWEST_OPEN_JOBS, Vec::new())?, &["jobs", "nodes"][..]),
        (
            Query::new(
                "job with applications",
                JOB_WITH_APPLICATIONS,
                job_ids.iter().map(|id| serde_json::json!({ "id": id.to_string() })).collect(),
            )?,
            &["job", "applications", "nodes"][..],
        ),
        (
            Query::new(
                "applications of an applicant",
                APPLICANT_APPLICATIONS,
                applicants.iter().map(|a| serde_json::json!({ "a": a })).collect(),
            )?,
            &["applicant", "applications", "nodes"][..],
        ),
        (
            Query::new(
                "search",
                SEARCH,
                ["rust", "indexer", "remote", "postgres", "acme"]
                    .iter()
                    .map(|q| serde_json::json!({ "q": q }))
                    .collect(),
            )?,
            &["jobs", "nodes"][..],
        ),
    ];
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
        "{:<30} {:>5} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8}  {:<22}",
        "query",
        "cache",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "requests",
        "failures",
        "cores api/pg/cli/other"
    ));
    for ((query, path), (cache, server, server_pid)) in
        queries.iter().flat_map(|query| servers.iter().map(move |server| (query, server)))
    {
        let graphql = format!("{server}/graphql");
        sanity_check(&graphql, query, path).await?;
        let warm_up = drive(&graphql, query, args.connections, WARM_UP).await?;
        let cpu_before = Cpu::now(*server_pid, postmaster);
        let run = drive(&graphql, query, args.connections, Duration::from_secs(args.seconds)).await?;
        let cores = cpu_before.cores_until(&Cpu::now(*server_pid, postmaster), run.elapsed);
        let failures = warm_up.failures + run.failures;
        let meets = run.rate() >= target_rps && run.percentile(99.0) < TARGET_P99 && failures == 0;
        say(format!(
            "{:<30} {:>5} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>8}  {:<22}  {}",
            query.name,
            cache,
            run.rate(),
            ms(run.percentile(50.0)),
            ms(run.percentile(99.0)),
            ms(run.max()),
            run.requests,
            failures,
            cores,
            if meets { "meets target" } else { "BELOW target" },
        ));
        let first_failure = warm_up.first_failure.or(run.first_failure);
        results.push((query.name, *cache, failures, first_failure, meets));
    }
    say(
        "            (cores: CPU used during the timed run by the API process (run with the cache, serve without) / PostgreSQL / this load generator / anything else)",
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
    let admin = PgPoolOptions::new().max_connections(1).connect(&pg.url("postgres")).await?;
    sqlx::query("CREATE DATABASE activity").execute(&admin).await?;
    admin.close().await;
    let db_url = pg.url("activity");
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
    let args = parse_args()?;
    // Ctrl-C drops the bench future, and with it every child-process guard.
    tokio::select! {
        result = bench(args) => result,
        signal = tokio::signal::ctrl_c() => {
            signal?;
            bail!("interrupted")
        }
    }
}
