//! Test harness: real processes the tests talk to. Every process is stopped when its handle drops.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail};
use url::Url;

/// The repository root (where Cargo.toml, package.json and node_modules live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real anvil binary: `ANVIL_BIN`, else the one npm installed (not the Node wrapper in
/// node_modules/.bin, which would leave anvil orphaned if the wrapper were killed).
fn anvil_binary() -> PathBuf {
    std::env::var_os("ANVIL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"))
}

/// A local anvil chain on a free port, with its funded dev accounts.
pub struct Anvil {
    child: Child,
    /// The HTTP JSON-RPC endpoint.
    pub endpoint: Url,
    /// The dev accounts' keys, in anvil's order.
    pub keys: Vec<PrivateKeySigner>,
}

impl Anvil {
    /// Starts anvil on an OS-chosen port and waits until it listens.
    pub fn spawn() -> Result<Anvil> {
        Self::spawn_with(&[])
    }

    /// Starts anvil with extra arguments (e.g. `--block-time 1`).
    pub fn spawn_with(extra: &[&str]) -> Result<Anvil> {
        let binary = anvil_binary();
        let mut child = Command::new(&binary)
            // No block states spilled to ~/.foundry (a killed anvil would leave them there);
            // reorg tests reach back 20 blocks, well within what anvil keeps in memory.
            .args(["--port", "0", "--host", "127.0.0.1", "--accounts", "10", "--max-persisted-states", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {} (run `npm ci` first)", binary.display()))?;
        let stdout = child.stdout.take().context("anvil stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut keys = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let endpoint = loop {
            if Instant::now() > deadline {
                bail!("anvil did not report a listening address within 30 s");
            }
            let Some(line) = lines.next() else { bail!("anvil exited before listening") };
            let line = line.context("reading anvil stdout")?;
            // Private keys are printed as "(0) 0xac09...".
            if let Some((_, key)) = line.trim().strip_prefix('(').and_then(|rest| rest.split_once(") 0x"))
                && key.len() == 64
            {
                keys.push(PrivateKeySigner::from_str(key).context("anvil dev key")?);
            }
            if let Some(address) = line.trim().strip_prefix("Listening on ") {
                break Url::parse(&format!("http://{address}")).context("anvil address")?;
            }
        };
        // Keep draining stdout so anvil never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        if keys.len() < 10 {
            bail!("expected 10 dev keys in anvil's output, found {}", keys.len());
        }
        Ok(Anvil { child, endpoint, keys })
    }

    /// The address of dev account `index`.
    pub fn address(&self, index: usize) -> Address {
        self.keys[index].address()
    }

    /// A wallet holding every dev key; choose the sender per call with `.from(address)`.
    /// The first account is the default sender.
    pub fn wallet(&self) -> EthereumWallet {
        let mut wallet = EthereumWallet::from(self.keys[0].clone());
        for key in &self.keys[1..] {
            wallet.register_signer(key.clone());
        }
        wallet
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
