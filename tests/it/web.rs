//! The web page in a real browser: `jobboard dev` (real anvil, PostgreSQL, indexer and API)
//! and Debian's Chromium driven by playwright-core, running the node:test files in
//! `tests/web/` (what a visitor, an applicant and an employer do; see tests/web/harness.mjs),
//! against one board and against `jobboard dev --chains 2`'s two. Screenshots go to
//! `<target>/web-screenshots/`.

use std::path::{Path, PathBuf};
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

/// The browser and playwright-core are there, or a message saying how to get them.
fn check_browser() -> Result<PathBuf> {
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
    Ok(browser)
}

/// Runs the node:test files `tests` against `dev` (whose first board is the page's default);
/// `chains` lists every chain the test wallet may be on, as (chain id, anvil URL).
async fn run_browser_tests(
    dev: &DevProcess,
    browser: &Path,
    tests: &[&str],
    chains: &[(u64, String)],
) -> Result<()> {
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
    let chains: Vec<String> = chains.iter().map(|(id, url)| format!("{id}={url}")).collect();
    let mut command = Command::new("node");
    command
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
        .env("CHROMIUM", browser)
        .stdin(Stdio::null());
    if !chains.is_empty() {
        command.env("CHAINS", chains.join(","));
    }
    let output = command.output().context("running node --test (is Node.js installed?)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    ensure!(
        output.status.success(),
        "the browser tests failed ({}):\n{stdout}\n{stderr}\n--- jobboard dev's log ---\n{}",
        output.status,
        dev.stderr()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn people_use_the_board_in_a_real_browser() -> Result<()> {
    let browser = check_browser()?;
    let dir = TempDevDir::new()?;
    let dev = DevProcess::start(&dir.path().join("dev"), DevPorts::free()?, &[])?;
    run_browser_tests(&dev, &browser, &["tests/web/visitor.test.mjs", "tests/web/wallet.test.mjs"], &[])
        .await?;
    dev.interrupt()
}

#[tokio::test(flavor = "multi_thread")]
async fn people_use_a_board_of_two_chains_in_a_real_browser() -> Result<()> {
    let browser = check_browser()?;
    let dir = TempDevDir::new()?;
    let data_dir = dir.path().join("dev");
    let dev = DevProcess::start(&data_dir, DevPorts::free()?, &["--chains", "2"])?;
    // The boards file dev wrote says where each chain's anvil listens.
    let file = jobboard::config::ConfigFile::load(&data_dir.join("boards.toml"))?;
    let chains: Vec<(u64, String)> = file
        .boards
        .iter()
        .map(|board| {
            Ok((board.chain_id, board.rpc_urls.first().context("an RPC URL per board")?.to_string()))
        })
        .collect::<Result<_>>()?;
    ensure!(chains.len() == 2, "dev --chains 2 wrote {} boards", chains.len());
    run_browser_tests(&dev, &browser, &["tests/web/chains.test.mjs"], &chains).await?;
    dev.interrupt()
}
