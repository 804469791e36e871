//! The API's view of several boards: `_meta.boards` and `/readyz` list every chain indexed in
//! the database with its status, and one chain's outage is reported as its own ERROR without
//! taking the API of another chain out of service.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use jobboard::store::{BoardState, board_statuses};
use serde_json::Value;

use crate::support::db::test_database;
use crate::support::harness::JobboardProcess;
use crate::support::ports::free_port;
use crate::support::scenario::{Scenario, TestChain, board_entry};
use crate::support::serve::ServeProcess;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_and_readyz_list_every_board_and_name_the_unhealthy_one() -> Result<()> {
    let mut chains = Vec::new();
    for (n, chain_id) in ["31337", "31338"].into_iter().enumerate() {
        let chain = TestChain::start_with(&["--chain-id", chain_id]).await?;
        Scenario::new(&chain, 500 + n as u64).run(&chain, 20).await?;
        chains.push(chain);
    }
    // A third board whose node is not there: nothing listens on its port.
    let dead = format!("http://127.0.0.1:{}", free_port()?);
    let dir = tempfile::tempdir()?;
    let mut text = String::new();
    for (name, chain) in ["alpha", "beta"].iter().zip(&chains) {
        text.push_str(&board_entry(name, chain));
    }
    text.push_str(&format!(
        "[[board]]\nname = \"gamma\"\nchain_id = 31339\nrpc_urls = [\"{dead}\"]\ncontract = \"{}\"\nstart_block = 0\n",
        chains[0].board
    ));
    let file = dir.path().join("boards.toml");
    std::fs::write(&file, text)?;
    let db = test_database().await?;
    let index = JobboardProcess::run(&[
        "index",
        "--config",
        file.to_str().context("utf-8 path")?,
        "--database-url",
        &db.url,
    ])?;

    // The two live chains at their heads, the dead one in ERROR.
    let heads = [chains[0].head().await?, chains[1].head().await?];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let statuses = board_statuses(&db.pool).await?;
        let at_head = |chain_id: u64, head: u64| {
            statuses.iter().any(|s| {
                s.board.chain_id == chain_id
                    && s.state == BoardState::Live
                    && s.indexed.is_some_and(|(block, _)| block >= head)
            })
        };
        let dead_reported =
            statuses.iter().any(|s| s.board.chain_id == 31339 && s.state == BoardState::Error);
        if at_head(31337, heads[0]) && at_head(31338, heads[1]) && dead_reported {
            break;
        }
        if Instant::now() > deadline {
            bail!("the boards never settled: {statuses:#?}\n{}", index.log());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // An API for chain 31337 lists all three.
    let serve = ServeProcess::start(&db.url, chains[0].board, &["--chain-id", "31337"]).await?;
    serve.wait_for("/readyz", 200, Duration::from_secs(30)).await?;
    let answer = serve
        .query("{ _meta { chainId boards { chainId name served status block { number hash } headBlock lag lastError lastErrorAt updatedAt } } }")
        .await?;
    eprintln!("_meta while gamma's node is down: {answer:#}");
    let boards = answer["data"]["_meta"]["boards"].as_array().with_context(|| format!("{answer}"))?;
    let names: Vec<&str> = boards.iter().filter_map(|b| b["name"].as_str()).collect();
    ensure!(names == ["alpha", "beta", "gamma"], "boards by chain id: {answer}");
    // Only the chain this API serves is offered to a frontend as one to read.
    let served: Vec<bool> = boards.iter().filter_map(|b| b["served"].as_bool()).collect();
    ensure!(served == [true, false, false], "served: {answer}");
    for (board, head) in boards.iter().zip(heads) {
        ensure!(board["status"] == "LIVE", "{board}");
        let block: u64 = board["block"]["number"].as_str().and_then(|n| n.parse().ok()).context("block")?;
        ensure!(block >= head && board["lag"].is_string(), "{board}");
    }
    let gamma = &boards[2];
    ensure!(gamma["chainId"] == "31339" && gamma["status"] == "ERROR", "{gamma}");
    ensure!(
        gamma["lastError"].as_str().is_some_and(|e| !e.is_empty()) && gamma["lastErrorAt"].is_string(),
        "the dead chain's error is not said: {gamma}"
    );
    ensure!(gamma["block"].is_null(), "{gamma}");

    // /readyz: ready (its own chain is fine), and says which board is not.
    let (status, body) = serve.get("/readyz").await?;
    let body: Value = serde_json::from_str(&body)?;
    ensure!(status == 200, "{status} {body}");
    ensure!(body["unhealthy"] == serde_json::json!(["gamma"]), "{body}");
    ensure!(body["boards"].as_array().map(Vec::len) == Some(3), "{body}");
    Ok(())
}
