//! A local anvil chain as a child process: for `jobboard dev`, the benches and the tests.
//!
//! The real binary is started (not npm's Node wrapper, which would leave anvil orphaned if it
//! were killed), on an OS-chosen port unless one is given, and stopped when the handle drops.
//!
//! Like the embedded PostgreSQL, anvil can never outlive its owner: it runs under a small `sh`
//! supervisor in a process group of its own (so a Ctrl-C at the terminal reaches only the
//! owner, which then stops things in order), whose stdin is a pipe only the owner writes to.
//! When that pipe closes (on [`AnvilProcess::stop`], on drop, or because the owner died, even
//! by SIGKILL), the supervisor sends anvil SIGTERM, on which anvil writes its `--state` file.
//! The child itself is run by [`super::process::Launched`], the launcher the tests use too.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use url::Url;

use super::process::{Launched, Lifeline, Stop, Stream, WaitError, lifeline_command};

/// Why anvil could not be started.
#[derive(Debug, thiserror::Error)]
pub enum AnvilError {
    /// No anvil binary was found.
    #[error("anvil not found (looked for {looked_at}); run `npm ci` in the repository, or set ANVIL_BIN")]
    NotInstalled {
        /// Where it looked.
        looked_at: String,
    },
    /// Spawning or talking to the process failed.
    #[error("starting anvil at {binary}: {source}")]
    Spawn {
        /// The binary.
        binary: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// anvil exited or said nothing useful before listening.
    #[error("anvil did not start: {0}")]
    NotListening(String),
}

/// Where to find anvil: `ANVIL_BIN`, else `node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil`
/// under `repo_root`, else `anvil` on `PATH`.
pub fn find_anvil(repo_root: &Path) -> Result<PathBuf, AnvilError> {
    if let Some(bin) = std::env::var_os("ANVIL_BIN") {
        let bin = PathBuf::from(bin);
        if bin.is_file() {
            return Ok(bin);
        }
        return Err(AnvilError::NotInstalled { looked_at: format!("ANVIL_BIN={}", bin.display()) });
    }
    let npm = repo_root.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    if npm.is_file() {
        return Ok(npm);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("anvil");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(AnvilError::NotInstalled { looked_at: format!("$ANVIL_BIN, {}, $PATH", npm.display()) })
}

/// How long a graceful stop (SIGTERM, during which anvil writes its state file) may take
/// before the process group is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// How long anvil may take to report its listening address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running anvil with its funded dev accounts. Stopped on drop.
#[derive(Debug)]
pub struct AnvilProcess {
    /// The supervisor (`sh`), leader of anvil's process group; closing its stdin stops anvil.
    process: Launched,
    /// The HTTP JSON-RPC endpoint.
    pub endpoint: Url,
    /// The dev accounts' keys, in anvil's order (publicly known test keys).
    pub keys: Vec<PrivateKeySigner>,
}

impl AnvilProcess {
    /// The WebSocket endpoint (anvil serves it on the HTTP port).
    pub fn ws_endpoint(&self) -> Option<Url> {
        let mut url = self.endpoint.clone();
        url.set_scheme("ws").ok().map(|()| url)
    }

    /// Starts `binary` with `args` plus `--host 127.0.0.1` and, unless `args` name one,
    /// `--port 0`; waits up to 30 s until it listens.
    ///
    /// # Errors
    /// [`AnvilError`] if the process cannot start or never reports its address.
    pub fn start(binary: &Path, args: &[&str]) -> Result<AnvilProcess, AnvilError> {
        // Under the lifeline: anvil stops (SIGTERM) when this process lets go, even on -9.
        let lifeline =
            Lifeline { name: "jobboard-anvil-supervisor", signal: "TERM", log: None, remove: None };
        let mut command = lifeline_command(binary, lifeline);
        command.args(["--host", "127.0.0.1"]);
        if !args.contains(&"--port") {
            command.args(["--port", "0"]);
        }
        command.args(args);
        let mut process = Launched::spawn(command, Stop::CloseStdin(STOP_TIMEOUT))
            .map_err(|source| AnvilError::Spawn { binary: binary.to_owned(), source })?;
        let listening = process
            .wait_for_line(Stream::Stdout, START_TIMEOUT, |line| line.trim().starts_with("Listening on "));
        let address = match listening {
            Ok(line) => line.trim().trim_start_matches("Listening on ").to_owned(),
            Err(WaitError::Closed { .. }) => {
                let _ = process.try_wait();
                let mut message = String::from("anvil exited before listening");
                let stderr = process.output(Stream::Stderr);
                let tail: Vec<&str> = stderr.lines().collect();
                if !tail.is_empty() {
                    message = format!("{message}: {}", tail.join(" | "));
                }
                return Err(AnvilError::NotListening(message));
            }
            Err(WaitError::TimedOut { .. }) => {
                let _ = process.kill();
                return Err(AnvilError::NotListening("no listening address within 30 s".into()));
            }
        };
        // Private keys are printed as "(0) 0xac09..." before the address.
        let keys = process
            .output(Stream::Stdout)
            .lines()
            .filter_map(|line| {
                line.trim().strip_prefix('(')?.split_once(") 0x").map(|(_, key)| key.to_owned())
            })
            .filter(|key| key.len() == 64)
            .filter_map(|key| PrivateKeySigner::from_str(&key).ok())
            .collect();
        match Url::parse(&format!("http://{address}")) {
            Ok(endpoint) => Ok(AnvilProcess { process, endpoint, keys }),
            Err(e) => {
                let _ = process.kill();
                Err(AnvilError::NotListening(format!("bad address {address}: {e}")))
            }
        }
    }

    /// The address of dev account `index`, if anvil has that many.
    pub fn address(&self, index: usize) -> Option<Address> {
        self.keys.get(index).map(PrivateKeySigner::address)
    }

    /// A wallet holding every dev key; choose the sender per call with `.from(address)`.
    /// The first account is the default sender.
    pub fn wallet(&self) -> Option<EthereumWallet> {
        let (first, rest) = self.keys.split_first()?;
        let mut wallet = EthereumWallet::from(first.clone());
        for key in rest {
            wallet.register_signer(key.clone());
        }
        Some(wallet)
    }

    /// The process group id (the supervisor's pid): every process of this anvil is in it.
    pub fn process_group(&self) -> u32 {
        self.process.pid()
    }

    /// Stops anvil gracefully (SIGTERM: it writes its `--state` file, if it has one) and waits
    /// for it; after [`STOP_TIMEOUT`] the whole process group is killed.
    ///
    /// Returns whether the stop was graceful.
    pub fn stop(mut self) -> bool {
        self.process.stop().is_ok_and(|(_, graceful)| graceful)
    }
}
