//! RPC failure modes against a real anvil and a real PostgreSQL: nodes that lag, cap, trim and
//! rate-limit lose no event and never stop the indexer; an endpoint on another chain is refused
//! at start; no log line carries a secret from an RPC URL.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use jobboard::chain::{ChainClient, RetryPolicy};
use jobboard::indexer::Indexer;
use jobboard::store::load_state;
use jobboard::telemetry::Metrics;
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;

use crate::indexer::{board_of, index_to_head, test_config};
use crate::support::db::{TestDatabase, test_database};
use crate::support::harness::{Anvil, JobboardProcess};
use crate::support::rpc_proxy::{Faults, RpcProxy};
use crate::support::scenario::{Scenario, TestChain, assert_db_matches_model, assert_same_dump, dump_tables};

/// Retries fast enough for a test, patient enough for a 30 % fault rate.
fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        timeout: Duration::from_secs(5),
        max_attempts: 10,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
    }
}

/// Steps `indexer` until its checkpoint is the chain's head; every step must succeed (a node
/// fault may abandon a step, never stop the indexer).
async fn catch_up(indexer: &mut Indexer<'_>, chain: &TestChain) -> Result<()> {
    let cancel = CancellationToken::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        ensure!(
            Instant::now() < deadline,
            "no catch-up within 180 s (checkpoint {:?})",
            indexer.checkpoint()
        );
        indexer.step(&cancel).await.context("the indexer stopped")?;
        if indexer.checkpoint() == Some(chain.head().await?) {
            return Ok(());
        }
    }
}

/// The tables of a clean index of the chain as it is now, into a fresh database.
async fn reference_dump(chain: &TestChain) -> Result<std::collections::BTreeMap<&'static str, Vec<String>>> {
    let db = test_database().await?;
    index_to_head(chain, &db, test_config(chain)).await?;
    dump_tables(&db.pool).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_trimming_capped_and_rate_limited_nodes_lose_no_event() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 41);
    scenario.run(&chain, 250).await?;

    // Backfill through a load balancer that sends 30 % of requests to a node 100 blocks behind,
    // further than anvil's finalized block (head - 64), which caps eth_getLogs at its head
    // without saying so; a `finalized` call that fails half the time; and a result cap of one
    // log, so every block holding two logs is refused even alone.
    let capped = Faults { max_logs: Some(1), max_logs_without_hint: true, ..Faults::default() };
    let proxy = RpcProxy::start(
        chain.anvil.endpoint.clone(),
        Faults { lag_ratio: 0.3, lag_blocks: 100, finalized_error_ratio: 0.5, seed: 11, ..capped.clone() },
    )
    .await?;
    let metrics = Metrics::default();
    let client = ChainClient::new(std::slice::from_ref(&proxy.url), fast_retry(), metrics.clone())?;
    let db = test_database().await?;
    let mut conn = PgConnection::connect(&db.url).await?;
    let mut indexer = Indexer::new(client, &mut conn, board_of(&chain), test_config(&chain)).await?;
    catch_up(&mut indexer, &chain).await?;

    // Following the head: now also a log index 3 blocks behind the head (the newest blocks'
    // logs are missing from eth_getLogs, by range and by hash, while headers have them).
    scenario.run(&chain, 40).await?;
    proxy.set_faults(Faults {
        lag_ratio: 0.2,
        lag_blocks: 4,
        logs_lag_blocks: Some(3),
        finalized_error_ratio: 0.5,
        seed: 12,
        ..capped
    });
    catch_up(&mut indexer, &chain).await?;
    drop(indexer);

    assert_db_matches_model(&db.pool, &scenario.model).await?;
    assert_same_dump(&dump_tables(&db.pool).await?, &reference_dump(&chain).await?)?;
    let stats = proxy.stats();
    // For the record (`--nocapture`): what the faults cost in calls.
    eprintln!(
        "proxy calls by method: {:#?}\nrefetched blocks: {}",
        stats.by_method,
        metrics.logs_refetched_total()
    );
    ensure!(stats.total().lagged > 0, "no call met a lagging node: {stats:?}");
    ensure!(stats.method("eth_getBlockByNumber").failed > 0, "no finalized call failed: {stats:?}");
    ensure!(stats.method("eth_getLogs").refused > 0, "the result cap never applied: {stats:?}");
    let receipts = stats.method("eth_getBlockReceipts");
    ensure!(receipts.forwarded + receipts.lagged > 0, "no block was read from its receipts: {stats:?}");
    ensure!(
        metrics.logs_refetched_total() > 0,
        "no block's logs were checked against its header and refetched"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_finalized_call_keeps_the_window_for_a_later_reorg() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 45);
    scenario.run(&chain, 30).await?;
    let proxy = RpcProxy::start(chain.anvil.endpoint.clone(), Faults::default()).await?;
    let client = ChainClient::new(std::slice::from_ref(&proxy.url), fast_retry(), Metrics::default())?;
    let db = test_database().await?;
    let mut conn = PgConnection::connect(&db.url).await?;
    let mut indexer = Indexer::new(client, &mut conn, board_of(&chain), test_config(&chain)).await?;
    catch_up(&mut indexer, &chain).await?;

    // Every `finalized` call now fails. Read as "no finalized tag", that would prune the window
    // to the newest 12 blocks (--confirmations) and the 20-block reorg below would stop the
    // indexer as too deep; the last finalized block seen must be kept instead.
    proxy.set_faults(Faults { finalized_error_ratio: 1.0, ..Faults::default() });
    scenario.run(&chain, 30).await?;
    catch_up(&mut indexer, &chain).await?;
    chain.reorg(20).await?;
    chain.mine(3).await?;
    catch_up(&mut indexer, &chain).await?;
    drop(indexer);
    ensure!(proxy.stats().method("eth_getBlockByNumber").failed > 0, "no finalized call failed");
    assert_same_dump(&dump_tables(&db.pool).await?, &reference_dump(&chain).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_first_endpoint_is_passed_over_and_failed_back_to() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 43);
    scenario.run(&chain, 60).await?;
    let first = RpcProxy::start(
        chain.anvil.endpoint.clone(),
        Faults { lag_ratio: 1.0, lag_blocks: 20, ..Faults::default() },
    )
    .await?;
    let metrics = Metrics::default();
    let urls = [first.url.clone(), chain.anvil.endpoint.clone()];
    let client =
        ChainClient::with_probe_every(&urls, fast_retry(), Duration::from_millis(100), metrics.clone())?;
    let db = test_database().await?;
    let mut conn = PgConnection::connect(&db.url).await?;
    let mut indexer = Indexer::new(client, &mut conn, board_of(&chain), test_config(&chain)).await?;
    catch_up(&mut indexer, &chain).await?;
    ensure!(
        metrics.rpc_endpoint(1).chosen == 1,
        "the up-to-date second endpoint was not chosen: {:?}",
        metrics.rpc_endpoint(1)
    );
    ensure!(metrics.rpc_endpoint(0).chosen == 0, "the lagging first endpoint was read from");

    // The first endpoint catches up: the next probe fails back to it.
    first.set_faults(Faults::default());
    let cancel = CancellationToken::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while metrics.rpc_endpoint(0).chosen == 0 {
        ensure!(Instant::now() < deadline, "never failed back to the first endpoint");
        indexer.step(&cancel).await?;
    }
    let logs_before = first.stats().method("eth_getLogs").forwarded;
    scenario.run(&chain, 10).await?;
    catch_up(&mut indexer, &chain).await?;
    ensure!(
        first.stats().method("eth_getLogs").forwarded > logs_before,
        "logs were not read from the first endpoint"
    );

    // The first endpoint goes down: reads move to the second; once it answers again (after its
    // cooldown and a chain-id check) they come back.
    // While it is down nothing reaches the node behind it, so any `eth_chainId` forwarded
    // after this point was asked after it recovered.
    let chain_checks = first.stats().method("eth_chainId").forwarded;
    let errors_before_down = metrics.rpc_endpoint(0).errors;
    first.set_faults(Faults { fail_ratio: 1.0, ..Faults::default() });
    scenario.run(&chain, 5).await?;
    catch_up(&mut indexer, &chain).await?;
    // One failed probe only leaves the endpoint behind (its head is stale), which needs no new
    // chain check; it is down (and must prove its chain again) after two failed calls in a row.
    let deadline = Instant::now() + Duration::from_secs(30);
    while metrics.rpc_endpoint(0).errors < errors_before_down + 2 {
        ensure!(Instant::now() < deadline, "the dead endpoint was never probed twice");
        indexer.step(&cancel).await?;
    }
    ensure!(
        metrics.rpc_endpoint(1).chosen == 2,
        "reads did not move off the dead endpoint: {:?}",
        metrics.rpc_endpoint(1)
    );
    let chosen_while_down = metrics.rpc_endpoint(0).chosen;
    first.set_faults(Faults::default());
    let deadline = Instant::now() + Duration::from_secs(30);
    while metrics.rpc_endpoint(0).chosen <= chosen_while_down {
        ensure!(Instant::now() < deadline, "never failed back to the recovered endpoint");
        indexer.step(&cancel).await?;
    }
    ensure!(
        first.stats().method("eth_chainId").forwarded > chain_checks,
        "the recovered endpoint was used unchecked"
    );
    scenario.run(&chain, 5).await?;
    catch_up(&mut indexer, &chain).await?;
    drop(indexer);
    assert_db_matches_model(&db.pool, &scenario.model).await
}

fn index_command(chain: &TestChain, db: &TestDatabase, urls: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobboard"));
    command.arg("index");
    for url in urls {
        command.args(["--rpc-url", url]);
    }
    command
        .args(["--database-url", &db.url, "--contract", &chain.board.to_string()])
        .args(["--start-block", &chain.deploy_block.to_string(), "--poll-interval", "50ms"])
        .env("RUST_LOG", "info,jobboard=debug")
        .env_remove("JOBBOARD_DATABASE_URL")
        .env_remove("JOBBOARD_RPC_URL")
        .stdout(Stdio::null());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_rpc_url_on_another_chain_is_refused_at_start() -> Result<()> {
    let chain = TestChain::start().await?;
    let other = Anvil::spawn_with(&["--chain-id", "4242"])?;
    let db = test_database().await?;
    let output = index_command(&chain, &db, &[chain.anvil.endpoint.as_str(), other.endpoint.as_str()])
        .stderr(Stdio::piped())
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(!output.status.success(), "started with an endpoint on another chain:\n{stderr}");
    let expected = format!("is on chain 4242, not chain {}", chain.chain_id);
    ensure!(stderr.contains(&expected) && stderr.contains("--rpc-url"), "{stderr}");
    ensure!(checkpoint(&db, &chain).await?.is_none(), "indexed although misconfigured");
    Ok(())
}

async fn checkpoint(db: &TestDatabase, chain: &TestChain) -> Result<Option<u64>> {
    let mut conn = db.pool.acquire().await?;
    Ok(load_state(&mut conn, &board_of(chain)).await?.and_then(|s| s.checkpoint.map(|c| c.0)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_carry_no_secret_from_an_rpc_url() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 47);
    scenario.run(&chain, 20).await?;
    let db = test_database().await?;
    // One endpoint refuses connections (reqwest's error text names the URL), one fails every
    // request (503s, internal errors, cut-off bodies); both carry keys in userinfo, path and
    // query. The third works, so the indexer runs and keeps probing the other two.
    let failing =
        RpcProxy::start(chain.anvil.endpoint.clone(), Faults { fail_ratio: 1.0, ..Faults::default() })
            .await?;
    let refused =
        "http://operator:PASSWORDSECRET@127.0.0.1:1/v3/0123456789abcdefSECRETPATH?apikey=SECRETQUERY";
    let mut keyed = failing.url.clone();
    keyed.set_path("/v2/SECRETKEYPATH123");
    keyed.set_query(Some("key=SECRETQUERY2"));
    keyed.set_username("user").ok();
    keyed.set_password(Some("PASSWORDSECRET2")).ok();
    let mut running = JobboardProcess::spawn(index_command(
        &chain,
        &db,
        &[refused, keyed.as_str(), chain.anvil.endpoint.as_str()],
    ))?;

    // Wait until it indexed the head and reported both bad endpoints' errors.
    let head = chain.head().await?;
    let shown_refused = "http://127.0.0.1:1/v3/…?…";
    let shown_failing = format!("http://127.0.0.1:{}/v2/…?…", keyed.port().context("proxy port")?);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = running.log();
        let reported =
            |shown: &str| text.lines().any(|line| line.contains(shown) && line.contains("eth_chainId"));
        if checkpoint(&db, &chain).await? == Some(head) && reported(shown_refused) && reported(&shown_failing)
        {
            break;
        }
        ensure!(Instant::now() < deadline, "did not index and report both endpoints' errors:\n{text}");
        running.ensure_alive("the indexer")?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.kill()?;
    let text = running.log();
    for secret in ["SECRET", "PASSWORD"] {
        ensure!(!text.contains(secret), "the log shows {secret:?}:\n{text}");
    }
    ensure!(text.contains("error sending request"), "reqwest's error text is not in the log:\n{text}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_print_no_secret_from_an_unreachable_rpc_url() -> Result<()> {
    let secret = "http://operator:PASSWORDSECRET@127.0.0.1:9/v2/SECRETKEYPATH123?apikey=SECRETQUERY";
    // A valid key that holds nothing: these commands fail before anything is signed.
    let key = format!("0x{}01", "00".repeat(31));
    let contract = alloy::primitives::Address::repeat_byte(0x42).to_string();
    for args in [vec!["deploy"], vec!["job", "close", "--id", "1", "--contract", contract.as_str()]] {
        let output = Command::new(env!("CARGO_BIN_EXE_jobboard"))
            .args(&args)
            .args(["--rpc-url", secret])
            .env("JOBBOARD_PRIVATE_KEY", &key)
            .env_remove("JOBBOARD_RPC_URL")
            .env_remove("JOBBOARD_CONTRACT")
            .output()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        ensure!(!output.status.success(), "{args:?} succeeded against a closed port:\n{stderr}");
        ensure!(
            stderr.contains("http://127.0.0.1:9/v2/…?…"),
            "{args:?} does not name the URL, redacted:\n{stderr}"
        );
        for leak in ["SECRET", "PASSWORD"] {
            ensure!(!stderr.contains(leak), "{args:?} prints {leak:?}:\n{stderr}");
        }
    }
    Ok(())
}
