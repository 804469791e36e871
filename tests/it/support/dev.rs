//! `jobboard dev` run as a newcomer runs it: the real binary as a subprocess on free ports
//! (`DevProcess`), and the temporary data directories whose clusters go with them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use jobboard::local::process::{Launched, Stop, Stream};
use serde_json::{Value, json};

use super::ports::{free_port, free_ports};

/// A running `jobboard dev`, with what it printed; interrupted (as Ctrl-C would) on drop.
pub struct DevProcess {
    process: Launched,
    /// The GraphQL endpoint.
    pub api: String,
    /// The anvil endpoint.
    pub rpc: String,
    /// Everything printed on stdout up to the banner's end.
    pub banner: String,
}

/// How long `jobboard dev` may take to stop everything after SIGINT.
const STOP_GRACE: Duration = Duration::from_secs(90);

/// Ports for one dev stack: the API, anvil and PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub struct DevPorts {
    pub api: u16,
    pub anvil: u16,
    pub postgres: u16,
}

impl DevPorts {
    pub fn free() -> Result<DevPorts> {
        // Two anvil ports: `--chains 2` puts the second anvil on the next one.
        Ok(DevPorts { api: free_port()?, anvil: free_ports(2)?, postgres: free_port()? })
    }
}

/// A temporary directory for `jobboard dev` data directories that, when dropped, also deletes
/// their clusters: as root a cluster lives outside it, under /var/tmp/jobboard-postgres, linked
/// from `<data dir>/postgres`.
pub struct TempDevDir {
    temp: tempfile::TempDir,
}

impl TempDevDir {
    pub fn new() -> Result<TempDevDir> {
        Ok(TempDevDir { temp: tempfile::tempdir()? })
    }

    pub fn path(&self) -> &Path {
        self.temp.path()
    }
}

impl Drop for TempDevDir {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.temp.path()) else { return };
        for entry in entries.filter_map(Result::ok) {
            let _ = jobboard::local::cluster_home::remove_cluster(&entry.path().join("postgres"));
        }
    }
}

pub fn jobboard_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jobboard"))
}

impl DevProcess {
    /// Starts `jobboard dev` and waits (up to 3 minutes) until it prints its banner.
    pub fn start(data_dir: &Path, ports: DevPorts, extra: &[&str]) -> Result<DevProcess> {
        let mut command = Command::new(jobboard_binary());
        command
            .arg("dev")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", &format!("127.0.0.1:{}", ports.api)])
            .args(["--anvil-port", &ports.anvil.to_string()])
            .args(["--postgres-port", &ports.postgres.to_string()])
            .args(extra)
            .env("RUST_LOG", "info");
        let mut process =
            Launched::spawn(command, Stop::Interrupt(STOP_GRACE)).context("starting jobboard dev")?;
        let up = process.wait_for_line(Stream::Stdout, Duration::from_secs(180), |line| {
            line.starts_with("Ctrl-C stops everything")
        });
        if let Err(waited) = up {
            let status = process.try_wait()?;
            bail!(
                "jobboard dev was not up ({waited}; exit status {status:?}):\n{}",
                process.output(Stream::Stderr)
            );
        }
        let stdout = process.output(Stream::Stdout);
        let end = stdout.find("Ctrl-C stops everything").unwrap_or(0);
        let banner_end = stdout[end..].find('\n').map_or(stdout.len(), |n| end + n + 1);
        Ok(DevProcess {
            banner: stdout[..banner_end].to_owned(),
            process,
            api: format!("http://127.0.0.1:{}/graphql", ports.api),
            rpc: format!("http://127.0.0.1:{}", ports.anvil),
        })
    }

    pub fn stderr(&self) -> String {
        self.process.output(Stream::Stderr)
    }

    /// Sends SIGINT (what Ctrl-C sends) and waits for a clean exit.
    pub fn interrupt(mut self) -> Result<()> {
        let (status, graceful) = self.process.stop()?;
        ensure!(graceful, "jobboard dev still running {STOP_GRACE:?} after SIGINT:\n{}", self.stderr());
        ensure!(status.success(), "jobboard dev exited with {status} after SIGINT:\n{}", self.stderr());
        Ok(())
    }

    /// Runs a GraphQL query over HTTP; fails on any GraphQL error.
    pub async fn query(&self, query: &str) -> Result<Value> {
        let response: Value = reqwest::Client::new()
            .post(&self.api)
            .json(&json!({ "query": query }))
            .send()
            .await?
            .json()
            .await?;
        ensure!(response.get("errors").is_none(), "{query}\n-> {response}");
        response.get("data").cloned().context("no data")
    }
}
