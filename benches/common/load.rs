//! The API benches' load generator and its report: keep-alive connections sending GraphQL
//! requests back to back, each answer checked, latencies kept for percentiles; and the child
//! processes (`jobboard run`, `serve`, `index`) they time.
//!
//! Used by `benches/api.rs` and `benches/replica.rs` as `#[path = "common/load.rs"] mod load;`,
//! beside `#[path = "common/api_queries.rs"] mod api_queries;`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::api_queries::{APPLICANT_APPLICATIONS, JOB_WITH_APPLICATIONS, NEWEST_OPEN_JOBS};

/// A child process that is killed when dropped, so that no exit path leaves it running.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One query under load: a name and the request bodies it cycles through.
pub struct Query {
    /// How the report names it.
    pub name: &'static str,
    /// The request bodies, sent in turn.
    pub bodies: Vec<String>,
}

impl Query {
    pub fn new(name: &'static str, query: &str, variables: Vec<serde_json::Value>) -> Result<Query> {
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
pub struct Run {
    /// Requests sent.
    pub requests: usize,
    /// Requests that failed (see [`check`]).
    pub failures: usize,
    /// What the first failure was.
    pub first_failure: Option<String>,
    /// How long the run took.
    pub elapsed: Duration,
    /// Every request's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest-rank percentile.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    pub fn max(&self) -> Duration {
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
pub fn check(status: reqwest::StatusCode, body: &[u8]) -> Option<String> {
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

pub fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// POSTs a GraphQL body: the status and the body of the answer.
async fn post(
    client: &reqwest::Client,
    url: &str,
    body: String,
) -> reqwest::Result<(reqwest::StatusCode, axum::body::Bytes)> {
    let response =
        client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body).send().await?;
    let status = response.status();
    Ok((status, response.bytes().await?))
}

/// The three frontend queries both benches time (the API bench's first three), cycling over
/// `job_ids` and `applicants`, each with the path in the answer that must hold rows.
pub fn frontend_queries(
    job_ids: &[i64],
    applicants: &[String],
) -> Result<Vec<(Query, &'static [&'static str])>> {
    Ok(vec![
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
    ])
}

/// `connections` tasks, each with its own client (one keep-alive connection), send `query`'s
/// bodies in turn, back to back, for `duration`; connection `i` goes to `urls[i % urls.len()]`,
/// so the load is split evenly across several servers.
pub async fn drive(urls: &[String], query: &Query, connections: usize, duration: Duration) -> Result<Run> {
    ensure!(!urls.is_empty(), "no server to drive");
    let bodies = Arc::new(query.bodies.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for connection in 0..connections {
        let client = client()?;
        let url = urls[connection % urls.len()].clone();
        let bodies = Arc::clone(&bodies);
        let next = Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(65_536);
            let mut failures = 0usize;
            let mut first_failure = None;
            while Instant::now() < deadline {
                let body = bodies[next.fetch_add(1, Ordering::Relaxed) % bodies.len()].clone();
                let sent = Instant::now();
                let outcome = post(&client, &url, body).await;
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
pub async fn sanity_check(url: &str, query: &Query, path: &[&str]) -> Result<()> {
    let body = query.bodies.first().context("no request bodies")?.clone();
    let (status, bytes) = post(&client()?, url, body).await?;
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

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Starts `binary` with `args` (`RUST_LOG=warn`, stderr to `log`), killed when dropped.
pub fn spawn_jobboard(binary: &Path, args: &[&str], log: &Path) -> Result<ChildGuard> {
    let stderr = std::fs::File::create(log)?;
    let child = Command::new(binary)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("starting {} {}", binary.display(), args.first().unwrap_or(&"")))?;
    Ok(ChildGuard(child))
}

/// Waits until the API at `base` answers `/readyz` with 200, up to `bound`, failing with its
/// log if the process exits first.
pub async fn wait_until_ready(base: &str, child: &mut ChildGuard, log: &Path, bound: Duration) -> Result<()> {
    let probe = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build()?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait()? {
            bail!("the process serving {base} exited with {status}:\n{}", log_tail(log));
        }
        ensure!(started.elapsed() < bound, "{base} not ready in {bound:?}:\n{}", log_tail(log));
        if let Ok(response) = probe.get(format!("{base}/readyz")).send().await
            && response.status() == reqwest::StatusCode::OK
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

/// Where the CPU went: the API processes timed, the PostgreSQL servers, this load generator,
/// and anything else running on the machine (which makes the numbers unreliable).
#[derive(Clone, Copy)]
pub struct Cpu {
    run: f64,
    postgres: f64,
    client: f64,
    machine: f64,
}

impl Cpu {
    /// The CPU time so far of the processes `api`, the servers whose postmasters are
    /// `postmasters`, this process and the machine.
    pub fn now(api: &[u32], postmasters: &[u32]) -> Cpu {
        Cpu {
            run: api.iter().map(|&pid| cpu_seconds(pid).unwrap_or(0.0)).sum(),
            postgres: postmasters.iter().map(|&pid| postgres_cpu_seconds(pid)).sum(),
            client: cpu_seconds(std::process::id()).unwrap_or(0.0),
            machine: machine_busy_seconds(),
        }
    }

    /// CPU seconds the API processes used between `self` and `later`.
    pub fn api_seconds_until(&self, later: &Cpu) -> f64 {
        later.run - self.run
    }

    /// Cores used by each between `self` and `later`, over `elapsed`: api/pg/client/other.
    pub fn cores_until(&self, later: &Cpu, elapsed: Duration) -> String {
        let s = elapsed.as_secs_f64();
        let (run, postgres, client) =
            (later.run - self.run, later.postgres - self.postgres, later.client - self.client);
        let other = (later.machine - self.machine - run - postgres - client).max(0.0);
        format!("{:.2}/{:.2}/{:.2}/{:.2}", run / s, postgres / s, client / s, other / s)
    }
}

/// The postmaster's pid of the server in `data_dir`, from its `postmaster.pid`.
pub fn postmaster_pid(data_dir: &Path) -> Result<u32> {
    std::fs::read_to_string(data_dir.join("postmaster.pid"))?
        .lines()
        .next()
        .context("empty postmaster.pid")?
        .trim()
        .parse()
        .context("postmaster.pid")
}

/// Runs `bench` until it ends, or until Ctrl-C, which drops it and with it every child-process
/// guard.
pub async fn until_interrupted(bench: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    tokio::select! {
        result = bench => result,
        signal = tokio::signal::ctrl_c() => {
            signal?;
            bail!("interrupted")
        }
    }
}

/// A bench's first line: what it runs, and on what machine, how busy.
pub fn header(bench: &str, events: usize, connections: usize, seconds: u64) -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!(
        "== jobboard {bench} bench: {events} events, {connections} connections, {seconds} s per query, {cores} cores, \
         load average {}",
        load_average()
    )
}

/// The machine's load averages over 1, 5 and 15 minutes, as `uptime` prints them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".to_owned())
}
