//! The web page in a real browser: `jobboard dev` (real anvil, PostgreSQL, indexer and API)
//! and Debian's Chromium driven by playwright-core, running the node:test files in
//! `tests/web/` (what a visitor, an applicant and an employer do; see tests/web/harness.mjs).
//! Screenshots go to `<target>/web-screenshots/`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};

use crate::support::dev::{DevPorts, DevProcess, TempDevDir, jobboard_binary};
use crate::support::harness::repo_root;

/// The browser: `CHROMIUM`, else Debian's.
fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Where screenshots go: beside the test binaries, under the target directory.
fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target/web-screenshots"), |target| target.join("web-screenshots"))
}

#[tokio::test(flavor = "multi_thread")]
async fn people_use_the_board_in_a_real_browser() -> Result<()> {
    let browser = chromium();
    if !browser.is_file() {
        bail!(
            "{} is missing: the page's tests need Debian's Chromium (`apt-get install chromium \
             chromium-driver`; `make test` installs it when run as root), or set CHROMIUM",
            browser.display()
        );
    }
    ensure!(
        repo_root().join("node_modules/playwright-core").is_dir(),
        "node_modules/playwright-core is missing: run `npm ci` (make test does)"
    );
    let dir = TempDevDir::new()?;
    let dev = DevProcess::start(&dir.path().join("dev"), DevPorts::free()?, &[])?;
    let meta = dev.query("{ _meta { chainId contract } }").await?;
    let chain_id = meta["_meta"]["chainId"].as_str().context("chainId")?.to_owned();
    let contract = meta["_meta"]["contract"].as_str().context("contract")?.to_owned();
    let employer_key = dev
        .banner
        .lines()
        .find_map(|line| line.trim().strip_prefix("export JOBBOARD_PRIVATE_KEY="))
        .context("the banner prints the demo employer's key")?
        .to_owned();
    let board_url = dev.api.trim_end_matches("graphql").to_owned();
    let tests = ["tests/web/visitor.test.mjs", "tests/web/wallet.test.mjs"];
    let output = Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(tests)
        .current_dir(repo_root())
        .env("BOARD_URL", &board_url)
        .env("RPC_URL", &dev.rpc)
        .env("CONTRACT", &contract)
        .env("CHAIN_ID", &chain_id)
        .env("JOBBOARD_BIN", jobboard_binary())
        .env("EMPLOYER_KEY", &employer_key)
        .env("SCREENSHOT_DIR", screenshot_dir())
        .env("CHROMIUM", &browser)
        .stdin(Stdio::null())
        .output()
        .context("running node --test (is Node.js installed?)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    ensure!(
        output.status.success(),
        "the browser tests failed ({}):\n{stdout}\n{stderr}\n--- jobboard dev's log ---\n{}",
        output.status,
        dev.stderr()
    );
    dev.interrupt()
}
