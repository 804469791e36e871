//! Test harness: real processes the tests talk to, all run by the crate's own launcher
//! (`jobboard::local::process`). Every process is stopped when its handle drops.

use std::ops::Deref;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use anyhow::{Context, Result, bail, ensure};
use jobboard::local::anvil::{AnvilProcess, find_anvil};
use jobboard::local::process::{Launched, Stop, Stream};

use crate::support::db::TestDatabase;
use crate::support::scenario::TestChain;

/// The repository root (where Cargo.toml, package.json and node_modules live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A local anvil chain on a free port, with its funded dev accounts: the same
/// [`AnvilProcess`] `jobboard dev` and the benches run, with the tests' shorthand for its
/// accounts (a test asking for an account anvil lacks is a broken test, so those panic).
pub struct Anvil(AnvilProcess);

impl Anvil {
    /// Starts anvil on an OS-chosen port and waits until it listens.
    pub fn spawn() -> Result<Anvil> {
        Self::spawn_with(&[])
    }

    /// Starts anvil with extra arguments (e.g. `--block-time 1`).
    pub fn spawn_with(extra: &[&str]) -> Result<Anvil> {
        let binary = find_anvil(&repo_root())?;
        // No block states spilled to ~/.foundry (a killed anvil would leave them there);
        // reorg tests reach back 20 blocks, well within what anvil keeps in memory.
        let mut args = vec!["--accounts", "10", "--max-persisted-states", "0"];
        args.extend(extra);
        let anvil = AnvilProcess::start(&binary, &args)?;
        ensure!(anvil.keys.len() >= 10, "expected 10 dev keys in anvil's output, found {}", anvil.keys.len());
        Ok(Anvil(anvil))
    }

    /// The address of dev account `index`.
    pub fn address(&self, index: usize) -> Address {
        self.0.address(index).expect("anvil runs with 10 dev accounts")
    }

    /// A wallet holding every dev key; choose the sender per call with `.from(address)`.
    /// The first account is the default sender.
    pub fn wallet(&self) -> EthereumWallet {
        self.0.wallet().expect("anvil runs with 10 dev accounts")
    }
}

impl Deref for Anvil {
    type Target = AnvilProcess;

    fn deref(&self) -> &AnvilProcess {
        &self.0
    }
}

/// `jobboard <args>` as a child process, its log (stderr) captured; SIGKILLed on drop, as a
/// crash would end it.
pub struct JobboardProcess {
    process: Launched,
}

impl JobboardProcess {
    /// Starts `jobboard` with `command`'s arguments and environment, logging at `RUST_LOG`
    /// (`info` unless `command` sets it), with no database URL from the test's environment.
    pub fn spawn(mut command: Command) -> Result<JobboardProcess> {
        if !command.get_envs().any(|(name, _)| name == "RUST_LOG") {
            command.env("RUST_LOG", "info");
        }
        command.env_remove("JOBBOARD_DATABASE_URL");
        let process = Launched::spawn(command, Stop::Kill).context("spawning jobboard")?;
        Ok(JobboardProcess { process })
    }

    /// `jobboard <args>`.
    pub fn run(args: &[&str]) -> Result<JobboardProcess> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jobboard"));
        command.args(args);
        Self::spawn(command)
    }

    /// `jobboard index` (or `run`, with `extra` naming --listen) for `chain` into `url`,
    /// polling every 50 ms unless `extra` says otherwise.
    pub fn indexer(command: &str, chain: &TestChain, url: &str, extra: &[&str]) -> Result<JobboardProcess> {
        let (contract, start) = (chain.board.to_string(), chain.deploy_block.to_string());
        let mut args = vec![command, "--rpc-url", chain.anvil.endpoint.as_str(), "--database-url", url];
        args.extend(["--contract", &contract, "--start-block", &start]);
        if !extra.contains(&"--poll-interval") {
            args.extend(["--poll-interval", "50ms"]);
        }
        args.extend(extra);
        Self::run(&args)
    }

    /// `jobboard index` for `chain` into `db`.
    pub fn index(chain: &TestChain, db: &TestDatabase, extra: &[&str]) -> Result<JobboardProcess> {
        Self::indexer("index", chain, &db.url, extra)
    }

    /// Its process id (for /proc).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        self.process.output(Stream::Stderr)
    }

    /// Fails if the process has exited.
    pub fn ensure_alive(&mut self, name: &str) -> Result<()> {
        if let Some(status) = self.process.try_wait()? {
            bail!("{name} exited ({status}) instead of waiting:\n{}", self.log());
        }
        Ok(())
    }

    /// Waits until `times` log lines contain `text`.
    pub async fn wait_for_log(&self, text: &str, times: usize, within: Duration) -> Result<()> {
        let mut seen = 0;
        let found = self
            .process
            .line(Stream::Stderr, within, |line| {
                seen += usize::from(line.contains(text));
                seen >= times
            })
            .await;
        found.map(drop).with_context(|| format!("waiting for {times}× {text:?}:\n{}", self.log()))
    }

    /// SIGKILL now, and wait for the exit.
    pub fn kill(&mut self) -> Result<()> {
        self.process.kill()?;
        Ok(())
    }
}
