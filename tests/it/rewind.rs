//! `jobboard index --rewind-to N`: the way past a reorg deeper than the reorg window. The
//! store is reverted to block N as a reorg revert would and indexed again from there, and ends
//! equal to a fresh index of the canonical chain.

use std::process::Command;
use std::time::Duration;

use anyhow::{Result, ensure};

use crate::indexer::{clean_dump, index_to_head, test_config, wait_for_checkpoint};
use crate::support::db::test_database;
use crate::support::harness::JobboardProcess;
use crate::support::scenario::{Scenario, TestChain, assert_same_dump, dump_tables};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewind_to_gets_past_a_reorg_deeper_than_the_window() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 81);
    scenario.run(&chain, 80).await?;
    let db = test_database().await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    // Forget the reorg window, as after a node that declared everything final: the next reorg
    // is deeper than anything the indexer can find a fork point in.
    sqlx::query("DELETE FROM blocks").execute(&db.pool).await?;
    let before = chain.head().await?;
    chain.reorg(6).await?;
    chain.mine(2).await?;
    let error = index_to_head(&chain, &db, test_config(&chain)).await.expect_err("the reorg is too deep");
    ensure!(format!("{error:#}").contains("reorg"), "unexpected error: {error:#}");

    // A block above what is indexed is refused, and nothing changes.
    let dump = dump_tables(&db.pool).await?;
    let refused = Command::new(env!("CARGO_BIN_EXE_jobboard"))
        .args(["index", "--rpc-url", chain.anvil.endpoint.as_str(), "--database-url", &db.url])
        .args(["--contract", &chain.board.to_string(), "--start-block", &chain.deploy_block.to_string()])
        .args(["--rewind-to", &(before + 1).to_string()])
        .env_remove("JOBBOARD_DATABASE_URL")
        .output()?;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    ensure!(
        !refused.status.success() && stderr.contains(&format!("cannot rewind to block {}", before + 1)),
        "{stderr}"
    );
    assert_same_dump(&dump_tables(&db.pool).await?, &dump)?;

    // Below the fork: reverted in one transaction, indexed again, exact.
    let to = before - 10;
    let process = JobboardProcess::index(&chain, &db, &["--rewind-to", &to.to_string()])?;
    wait_for_checkpoint(&db, &chain, chain.head().await?, Duration::from_secs(60)).await?;
    ensure!(
        process.log().contains("rewound the index as --rewind-to asked"),
        "no rewind in the log:\n{}",
        process.log()
    );
    drop(process);
    assert_same_dump(&dump_tables(&db.pool).await?, &clean_dump(&chain).await?)
}
