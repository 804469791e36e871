//! `jobboard job` and `jobboard application` with the board taken from a boards file
//! (`--config`, `--chain`), as the binary runs them against two real anvils with different chain
//! ids and the board at the same address on both: the transaction lands on the chain picked by
//! name or chain id, a file of one board needs no `--chain`, and several boards without one
//! are refused with the list to choose from. The flag-driven cases are in `actions.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use anyhow::{Context, Result, ensure};

use crate::actions::{Board, Run, jobboard_bare, key_hex};

/// A `[[board]]` for `board`, read from its own anvil.
fn entry(name: &str, chain_id: u64, board: &Board) -> String {
    format!(
        "[[board]]\nname = \"{name}\"\nchain_id = {chain_id}\nrpc_urls = [\"{}\"]\ncontract = \"{}\"\n\
         start_block = {}\n\n",
        board.anvil.endpoint, board.address, board.deploy_block
    )
}

/// Writes `entries` as the boards file `name` in `dir`.
fn write_file(dir: &Path, name: &str, entries: &[String]) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, entries.concat())?;
    Ok(path)
}

/// Dev account 1, the employer (anvil gives every chain the same dev keys).
const EMPLOYER: usize = 1;

/// Dev account 2, an applicant.
const APPLICANT: usize = 2;

/// `jobboard <args> --config file [--chain chain]`, signed by dev account `account` of
/// `board`'s anvil, with no node or contract in the environment.
fn with_file(
    file: &Path,
    chain: Option<&str>,
    (board, account): (&Board, usize),
    args: &[&str],
) -> Result<Run> {
    let mut command: Command = jobboard_bare();
    command
        .env("JOBBOARD_PRIVATE_KEY", key_hex(&board.anvil.keys[account]))
        .args(args)
        .arg("--config")
        .arg(file);
    if let Some(chain) = chain {
        command.args(["--chain", chain]);
    }
    let output = command.output().with_context(|| format!("running jobboard {args:?}"))?;
    Ok(Run { output })
}

/// Whether `tx_hash` (from a `--json` answer) is mined on `board`'s chain.
async fn mined_on(board: &Board, answer: &serde_json::Value) -> Result<bool> {
    let hash: B256 = answer["txHash"].as_str().context("txHash")?.parse()?;
    Ok(board.provider.get_transaction_receipt(hash).await?.is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_picks_the_board_of_the_boards_file_by_name_or_chain_id() -> Result<()> {
    let alpha = Board::start_with(&["--chain-id", "31337"])?;
    let beta = Board::start_with(&["--chain-id", "31338"])?;
    ensure!(alpha.address == beta.address, "the board is at one address on both chains");
    let dir = tempfile::tempdir()?;
    let file =
        write_file(dir.path(), "boards.toml", &[entry("alpha", 31337, &alpha), entry("beta", 31338, &beta)])?;

    // By name: the job is posted on beta, and nothing reaches alpha.
    let posted =
        with_file(&file, Some("beta"), (&beta, EMPLOYER), &["job", "post", "--title", "On beta", "--json"])?
            .json()?;
    ensure!(posted["jobId"] == "1" && mined_on(&beta, &posted).await?, "{posted}");
    ensure!(!mined_on(&alpha, &posted).await?, "the transaction is on alpha too: {posted}");
    assert_eq!(beta.contract().nextJobId().call().await?, U256::from(2));
    assert_eq!(alpha.contract().nextJobId().call().await?, U256::from(1), "alpha got a job");

    // By chain id, from the environment as well.
    let mut command = jobboard_bare();
    command
        .env("JOBBOARD_PRIVATE_KEY", key_hex(&alpha.anvil.keys[EMPLOYER]))
        .env("JOBBOARD_CONFIG", &file)
        .env("JOBBOARD_CHAIN", "31337")
        .args(["job", "post", "--title", "On alpha", "--json"]);
    let posted = Run { output: command.output()? }.json()?;
    ensure!(mined_on(&alpha, &posted).await? && !mined_on(&beta, &posted).await?, "{posted}");
    assert_eq!(alpha.contract().nextJobId().call().await?, U256::from(2));

    // `job update` searches the posting from the board's start_block in the file.
    let updated = with_file(
        &file,
        Some("beta"),
        (&beta, EMPLOYER),
        &["job", "update", "--id", "1", "--title", "Still on beta", "--json"],
    )?
    .json()?;
    ensure!(mined_on(&beta, &updated).await?, "{updated}");
    ensure!(beta.contract().getJob(U256::from(1)).call().await?.employer == beta.anvil.address(EMPLOYER));

    // Several boards and no --chain: refused before anything is signed, listing the boards.
    let message = with_file(&file, None, (&beta, EMPLOYER), &["job", "close", "--id", "1"])?.failure(1)?;
    for needle in [
        "lists 2 boards: pick one with --chain",
        "JOBBOARD_CHAIN",
        "\"alpha\" (chain 31337), \"beta\" (chain 31338)",
    ] {
        ensure!(message.contains(needle), "{needle:?} not in:\n{message}");
    }
    ensure!(message.contains(&file.display().to_string()), "the file is not named:\n{message}");
    let message =
        with_file(&file, Some("gamma"), (&beta, EMPLOYER), &["job", "close", "--id", "1"])?.failure(1)?;
    ensure!(message.contains("no board \"gamma\" (by name or chain id): it lists \"alpha\""), "{message}");
    ensure!(!beta.contract().getJob(U256::from(1)).call().await?.closed, "job 1 was closed");

    // A file of one board needs no --chain; `application` commands read it too.
    let single = write_file(dir.path(), "beta.toml", &[entry("beta", 31338, &beta)])?;
    let document = dir.path().join("cv.md");
    std::fs::write(&document, "# Ada\n")?;
    let document = document.to_str().context("utf-8 path")?;
    let applied = with_file(
        &single,
        None,
        (&beta, APPLICANT),
        &["application", "submit", "--job", "1", "--document", document, "--json"],
    )?
    .json()?;
    ensure!(mined_on(&beta, &applied).await?, "{applied}");
    let verified = with_file(
        &single,
        None,
        (&beta, APPLICANT),
        &["application", "verify", "--id", "1", "--document", document],
    )?;
    ensure!(verified.code() == Some(0), "verify failed:\n{}", verified.stderr());

    // A board whose node is on another chain than its chain_id: the message names the file's keys.
    let wrong = write_file(dir.path(), "wrong.toml", &[entry("wrong", 31338, &alpha)])?;
    let message = with_file(&wrong, None, (&alpha, EMPLOYER), &["job", "close", "--id", "1"])?.failure(1)?;
    ensure!(
        message.contains("is on chain 31337, not chain 31338")
            && message.contains("point rpc_urls of board \"wrong\" in ")
            && message.contains("or correct chain_id of board \"wrong\""),
        "{message}"
    );

    // A file and the board flags exclude each other, and --chain needs a file: usage errors.
    let run = with_file(
        &file,
        Some("beta"),
        (&beta, EMPLOYER),
        &["job", "close", "--id", "1", "--contract", &beta.address.to_string()],
    )?;
    let message = run.failure(2)?;
    ensure!(message.contains("--config") && message.contains("--contract"), "{message}");
    let mut command = jobboard_bare();
    command.args(["job", "close", "--id", "1", "--chain", "beta", "--contract", &beta.address.to_string()]);
    let message = Run { output: command.output()? }.failure(2)?;
    ensure!(message.contains("--chain") && message.contains("--contract"), "{message}");
    let mut command = jobboard_bare();
    command.args(["job", "close", "--id", "1", "--chain", "beta"]);
    let message = Run { output: command.output()? }.failure(2)?;
    ensure!(
        message.contains("required arguments were not provided") && message.contains("--config"),
        "{message}"
    );
    Ok(())
}
