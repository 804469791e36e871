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

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::str::FromStr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use url::Url;

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

/// The supervisor, run as `sh -c SUPERVISOR supervisor ANVIL ARGS...`: fd 3 keeps the owner's
/// pipe for the watcher, anvil gets neither it nor the terminal's stdin.
const SUPERVISOR: &str = r#"
exec 3<&0 </dev/null
"$@" 3<&- &
anvil=$!
( while read -r _ <&3; do :; done; kill -TERM "$anvil" 2>/dev/null ) &
watcher=$!
exec 3<&-
wait "$anvil"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// How long a graceful stop (SIGTERM, during which anvil writes its state file) may take
/// before the process group is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running anvil with its funded dev accounts. Stopped on drop.
#[derive(Debug)]
pub struct AnvilProcess {
    /// The supervisor (`sh`), leader of anvil's process group.
    child: Child,
    /// The write end of the supervisor's stdin: closing it is the stop signal.
    lifeline: Option<ChildStdin>,
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
        let mut command = Command::new("sh");
        command.arg("-c").arg(SUPERVISOR).arg("jobboard-anvil-supervisor").arg(binary);
        command.args(["--host", "127.0.0.1"]);
        if !args.contains(&"--port") {
            command.args(["--port", "0"]);
        }

        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|source| AnvilError::Spawn { binary: binary.to_owned(), source })?;
        let lifeline = child.stdin.take();
        let stdout = child.stdout.take().ok_or_else(|| AnvilError::NotListening("no stdout".into()))?;
        let stderr = child.stderr.take();
        // Read the banner on a thread so a silent anvil cannot hang us past the deadline.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut keys = Vec::new();
            let mut lines = BufReader::new(stdout).lines();
            let mut sent = false;
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                let line = line.trim();
                // Private keys are printed as "(0) 0xac09...".
                if let Some((_, key)) = line.strip_prefix('(').and_then(|rest| rest.split_once(") 0x"))
                    && key.len() == 64
                    && let Ok(signer) = PrivateKeySigner::from_str(key)
                {
                    keys.push(signer);
                }
                if let Some(address) = line.strip_prefix("Listening on ") {
                    let _ = tx.send(Ok((address.to_owned(), std::mem::take(&mut keys))));
                    sent = true;
                    break;
                }
            }
            if !sent {
                let mut message = String::from("anvil exited before listening");
                if let Some(stderr) = stderr {
                    let tail: Vec<String> = BufReader::new(stderr).lines().map_while(Result::ok).collect();
                    if !tail.is_empty() {
                        message = format!("{message}: {}", tail.join(" | "));
                    }
                }
                let _ = tx.send(Err(message));
            }
            // Keep draining so anvil never blocks on a full pipe.
            for _ in lines {}
        });
        let started = rx.recv_timeout(Duration::from_secs(30));
        let (address, keys) = match started {
            Ok(Ok(found)) => found,
            Ok(Err(message)) => {
                let _ = child.wait();
                return Err(AnvilError::NotListening(message));
            }
            Err(_) => {
                kill_group(&mut child);
                return Err(AnvilError::NotListening("no listening address within 30 s".into()));
            }
        };
        match Url::parse(&format!("http://{address}")) {
            Ok(endpoint) => Ok(AnvilProcess { child, lifeline, endpoint, keys }),
            Err(e) => {
                kill_group(&mut child);
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
        self.child.id()
    }

    /// Stops anvil gracefully (SIGTERM: it writes its `--state` file, if it has one) and waits
    /// for it; after [`STOP_TIMEOUT`] the whole process group is killed.
    ///
    /// Returns whether the stop was graceful.
    pub fn stop(mut self) -> bool {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> bool {
        if self.lifeline.take().is_none() {
            return true;
        }
        let started = Instant::now();
        while started.elapsed() < STOP_TIMEOUT {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        kill_group(&mut self.child);
        false
    }
}

/// Kills a supervisor's whole process group (anvil included) and reaps the supervisor.
fn kill_group(child: &mut Child) {
    // `kill` from the shell: signalling a group needs no unsafe code this way.
    let _ = Command::new("kill").arg("-KILL").arg(format!("-{}", child.id())).status();
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for AnvilProcess {
    fn drop(&mut self) {
        self.stop_inner();
    }
}
