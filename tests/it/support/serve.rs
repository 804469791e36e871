//! `jobboard serve` as a subprocess on a free port, probed over HTTP: what the serve and
//! hostile-request tests talk to.

use std::process::Command;
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::support::dev::jobboard_binary;
use crate::support::harness::JobboardProcess;
use crate::support::ports::free_port;

/// A `jobboard serve` subprocess, stopped when dropped.
pub struct ServeProcess {
    process: JobboardProcess,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The address it listens on.
    pub addr: std::net::SocketAddr,
}

impl ServeProcess {
    /// Starts `jobboard serve` for `contract` on a free port; returns once it answers
    /// `/healthz` (within 30 s).
    pub async fn start(database_url: &str, contract: Address, extra: &[&str]) -> Result<ServeProcess> {
        let port = free_port()?;
        // `JOBBOARD_TEST_BIN` runs another build (e.g. target/release/jobboard, to time the
        // hostile requests as production would answer them).
        let binary = std::env::var_os("JOBBOARD_TEST_BIN").map_or_else(jobboard_binary, Into::into);
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .args(["--database-url", database_url])
            .args(["--contract", &format!("{contract:#x}")])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(extra);
        let process = JobboardProcess::spawn(command)?;
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let serve = ServeProcess { process, base: format!("http://{addr}"), addr };
        serve.wait_for("/healthz", 200, Duration::from_secs(30)).await?;
        Ok(serve)
    }

    /// The process id (for /proc).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// What it logged so far.
    pub fn stderr(&self) -> String {
        self.process.log()
    }

    /// GETs `path`: its status and body.
    pub async fn get(&self, path: &str) -> Result<(u16, String)> {
        let response = reqwest::get(format!("{}{path}", self.base)).await?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    /// Probes `path` until it answers `status`, up to `bound`.
    pub async fn wait_for(&self, path: &str, status: u16, bound: Duration) -> Result<()> {
        let deadline = Instant::now() + bound;
        loop {
            if let Ok((got, _)) = self.get(path).await
                && got == status
            {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "{path} did not answer {status} within {bound:?}:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// POSTs a raw body to /graphql: the status and the JSON answer.
    pub async fn post(&self, body: String) -> Result<(u16, Value)> {
        self.post_at(body, None).await
    }

    /// Runs `query` with `X-Min-Block: min_block`: its whole answer.
    pub async fn query_at(&self, query: &str, min_block: u64) -> Result<Value> {
        Ok(self.post_at(json!({ "query": query }).to_string(), Some(min_block)).await?.1)
    }

    /// [`ServeProcess::post`] with `X-Min-Block` when `min_block` is given.
    pub async fn post_at(&self, body: String, min_block: Option<u64>) -> Result<(u16, Value)> {
        let mut request = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(block) = min_block {
            request = request.header("x-min-block", block.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let value =
            serde_json::from_str(&text).with_context(|| format!("non-JSON answer ({status}): {text}"))?;
        Ok((status, value))
    }

    /// [`ServeProcess::post`] with `X-Min-Block: chain_id:block`.
    pub async fn post_chain_at(&self, body: String, chain_id: u64, block: u64) -> Result<(u16, Value)> {
        let response = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .header("x-min-block", format!("{chain_id}:{block}"))
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let value =
            serde_json::from_str(&text).with_context(|| format!("non-JSON answer ({status}): {text}"))?;
        Ok((status, value))
    }

    /// Runs a query: its whole answer.
    pub async fn query(&self, query: &str) -> Result<Value> {
        Ok(self.post(json!({ "query": query }).to_string()).await?.1)
    }

    /// Sends a query from a task of its own, for a test that must act while it waits: its
    /// whole answer once it comes.
    pub fn spawn_query(&self, query: &str) -> tokio::task::JoinHandle<Result<Value>> {
        let url = format!("{}/graphql", self.base);
        let body = json!({ "query": query }).to_string();
        tokio::spawn(async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await?;
            Ok(response.json::<Value>().await?)
        })
    }

    /// Peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        peak_rss_kib(self.pid())
    }
}

/// Peak resident memory so far (`VmHWM`) of process `pid`, in KiB: what `/usr/bin/time -v`
/// reports as its maximum resident set size.
pub fn peak_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/<pid>/status")
}

/// The code of an answer's first error.
pub fn first_code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

/// Waits until the API at `addr` counts at least `count` open subscriptions on its
/// `jobboard_live_subscribers` gauge: a subscription is registered (and sees every event
/// committed after) once it is counted, which graphql-transport-ws does not acknowledge.
pub async fn wait_for_subscribers(addr: std::net::SocketAddr, count: u64) -> Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = client.get(format!("http://{addr}/metrics")).send().await?.text().await?;
        let open = text
            .lines()
            .find_map(|line| line.strip_prefix("jobboard_live_subscribers "))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .context("no jobboard_live_subscribers in /metrics")?;
        if open >= count {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "{open} of {count} subscriptions registered after 30 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
