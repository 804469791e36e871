//! The indexer against a real anvil and a real PostgreSQL: exact data, crashes, reorgs,
//! misbehaving nodes, two writers and hostile strings.

use std::process::Command;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::sol_types::SolCall;
use anyhow::{Context, Result, bail, ensure};
use jobboard::chain::{ChainClient, RetryPolicy};
use jobboard::contract::{ApplicationStatus, JobBoard};
use jobboard::indexer::{Indexer, IndexerConfig};
use jobboard::store::{Board, load_state};
use jobboard::telemetry::Metrics;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::support::db::{TestDatabase, test_database};
use crate::support::harness::JobboardProcess;
use crate::support::rpc_proxy::{Faults, RpcProxy};
use crate::support::scenario::{
    Scenario, TestChain, TestPosting, assert_db_matches_model, assert_same_dump, dump_tables,
};

pub(crate) fn test_config(chain: &TestChain) -> IndexerConfig {
    let mut config = IndexerConfig::new(chain.board, chain.deploy_block);
    config.poll_interval = Duration::from_millis(50);
    config
}

pub(crate) fn board_of(chain: &TestChain) -> Board {
    Board { chain_id: chain.chain_id, contract: chain.board }
}

/// Runs the indexer in-process over `url` until it has indexed the node's head.
async fn index_to_head_via(
    chain: &TestChain,
    db: &TestDatabase,
    url: Url,
    config: IndexerConfig,
    retry: RetryPolicy,
) -> Result<()> {
    let client = ChainClient::new(&[url], retry, Metrics::default())?;
    let mut conn = PgConnection::connect(&db.url).await?;
    let indexed = async {
        let mut indexer = Indexer::new(client, &mut conn, board_of(chain), config).await?;
        let cancel = CancellationToken::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            ensure!(Instant::now() < deadline, "indexer did not reach the head within 120 s");
            let progressed = indexer.step(&cancel).await?;
            let head = chain.head().await?;
            if !progressed && indexer.checkpoint() == Some(head) {
                return Ok(());
            }
        }
    }
    .await;
    // Give the writer lock back before returning, success or not: a dropped connection's
    // backend ends (and frees the lock) only some time later, and the caller's next indexer
    // would find the board still locked.
    sqlx::query("SELECT pg_advisory_unlock_all()").execute(&mut conn).await?;
    conn.close().await?;
    indexed
}

pub(crate) async fn index_to_head(chain: &TestChain, db: &TestDatabase, config: IndexerConfig) -> Result<()> {
    index_to_head_via(chain, db, chain.anvil.endpoint.clone(), config, RetryPolicy::default()).await
}

/// A clean index of the chain as it is now, into a fresh database: the reference dump.
pub(crate) async fn clean_dump(
    chain: &TestChain,
) -> Result<std::collections::BTreeMap<&'static str, Vec<String>>> {
    let db = test_database().await?;
    index_to_head(chain, &db, test_config(chain)).await?;
    dump_tables(&db.pool).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_history_is_indexed_exactly() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 7);
    scenario.run(&chain, 1200).await?;
    ensure!(scenario.model.jobs.len() >= 150, "scenario too small: {} jobs", scenario.model.jobs.len());
    ensure!(
        scenario.model.applications.len() >= 400,
        "scenario too small: {} applications",
        scenario.model.applications.len()
    );
    ensure!(
        ApplicationStatus::ALL.iter().all(|s| scenario.model.applications.values().any(|a| a.status == *s)),
        "scenario must reach every status"
    );

    // Backfill (most blocks are below anvil's finalized = head - 64) and the head.
    let db = test_database().await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    assert_db_matches_model(&db.pool, &scenario.model).await?;

    // The live phase: more history, indexed block by block above the finalized point.
    scenario.run(&chain, 150).await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    assert_db_matches_model(&db.pool, &scenario.model).await?;

    // Tiny batches and ranges take a completely different path through the code, and tiny
    // projection chunks split every entity's life across many bulk projections; same data.
    let small = test_database().await?;
    let mut config = test_config(&chain);
    config.batch_events = 7;
    config.initial_range = 3;
    config.max_range = 50;
    config.fetch_concurrency = 3;
    config.projection_events = 40;
    index_to_head(&chain, &small, config).await?;
    assert_same_dump(&dump_tables(&small.pool).await?, &dump_tables(&db.pool).await?)?;

    // The backfill projecting every batch in Rust, as the head does, instead of loading raw
    // and projecting in SQL (ADR 0021): the two must agree on every row and counter.
    let per_batch = test_database().await?;
    let mut config = test_config(&chain);
    config.bulk_backfill = false;
    config.batch_events = 50;
    index_to_head(&chain, &per_batch, config).await?;
    assert_same_dump(&dump_tables(&per_batch.pool).await?, &dump_tables(&db.pool).await?)?;

    let state = load_state(&mut *db.pool.acquire().await?, &board_of(&chain)).await?.context("state")?;
    ensure!(state.backfill_done, "backfill must be marked done");
    ensure!(state.checkpoint.map(|c| c.0) == Some(chain.head().await?), "checkpoint at head");
    Ok(())
}

/// Builds history whose newest blocks hold a posting with applications and status changes,
/// so a reorg of `depth` removes all of them.
async fn history_with_recent_activity(chain: &TestChain, seed: u64) -> Result<Scenario> {
    let mut scenario = Scenario::new(chain, seed);
    scenario.run(chain, 80).await?;
    Ok(scenario)
}

async fn recent_posting_with_applications(chain: &TestChain) -> Result<()> {
    let employer = chain.anvil.address(1);
    let posting = TestPosting {
        title: b"Doomed posting".to_vec(),
        company: b"Reorg Inc".to_vec(),
        location: b"Nowhere".to_vec(),
        tags: b"reorg".to_vec(),
        description: b"This posting will be reorganised away".to_vec(),
        salary_currency: Vec::new(),
        salary_min: 0,
        salary_max: 0,
        deadline: 0,
    };
    chain.send(employer, posting.post_calldata()).await?;
    let job_id = U256::from(next_id(chain, "nextJobId").await? - 1);
    let applicant = chain.anvil.address(5);
    chain
        .send(
            applicant,
            JobBoard::applyToCall { jobId: job_id, applicationHash: [7u8; 32].into() }.abi_encode(),
        )
        .await?;
    let application_id = U256::from(next_id(chain, "nextApplicationId").await? - 1);
    chain
        .send(
            employer,
            JobBoard::setApplicationStatusCall { applicationId: application_id, status: 1 }.abi_encode(),
        )
        .await?;
    Ok(())
}

async fn next_id(chain: &TestChain, which: &str) -> Result<u64> {
    let board = JobBoard::new(chain.board, &chain.provider);
    let value = match which {
        "nextJobId" => board.nextJobId().call().await?,
        _ => board.nextApplicationId().call().await?,
    };
    Ok(value.to::<u64>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorgs_at_depth_1_3_and_20_leave_the_canonical_state() -> Result<()> {
    let chain = TestChain::start().await?;
    let _scenario = history_with_recent_activity(&chain, 11).await?;
    let db = test_database().await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;

    for depth in [1u64, 3, 20] {
        // The newest `depth` blocks: empty ones, then a posting, an application and a status
        // change (ids read from the chain, since earlier reorgs invalidated the model). The
        // reorg removes all of it for depths >= 3, and only the status change for depth 1.
        chain.mine(depth.saturating_sub(3)).await?;
        recent_posting_with_applications(&chain).await?;
        index_to_head(&chain, &db, test_config(&chain)).await?;
        let before = dump_tables(&db.pool).await?;
        chain.reorg(depth).await?;
        index_to_head(&chain, &db, test_config(&chain)).await?;
        let after = dump_tables(&db.pool).await?;
        ensure!(after != before, "reorg of depth {depth} changed nothing in the database");
        assert_same_dump(&after, &clean_dump(&chain).await?)
            .with_context(|| format!("after a reorg of depth {depth}"))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_that_replaces_a_status_change_is_followed() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = history_with_recent_activity(&chain, 12).await?;
    // A fresh application, hired in the newest block.
    let employer = chain.anvil.address(2);
    let job = scenario
        .post_posting(
            &chain,
            employer,
            TestPosting {
                title: b"Backend".to_vec(),
                company: vec![],
                location: vec![],
                tags: vec![],
                description: vec![],
                salary_currency: vec![],
                salary_min: 0,
                salary_max: 0,
                deadline: 0,
            },
        )
        .await?;
    chain
        .send(
            chain.anvil.address(6),
            JobBoard::applyToCall { jobId: U256::from(job), applicationHash: [9u8; 32].into() }.abi_encode(),
        )
        .await?;
    let application = U256::from(next_id(&chain, "nextApplicationId").await? - 1);
    chain
        .send(
            employer,
            JobBoard::setApplicationStatusCall { applicationId: application, status: 3 }.abi_encode(),
        )
        .await?;

    let db = test_database().await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    let hired: i16 = sqlx::query_scalar("SELECT status FROM applications WHERE application_id = $1")
        .bind(application.to::<i64>())
        .fetch_one(&db.pool)
        .await?;
    ensure!(hired == 3, "expected Hired before the reorg, got {hired}");

    // The canonical chain rejects instead of hiring.
    chain
        .reorg_with(
            1,
            employer,
            JobBoard::setApplicationStatusCall { applicationId: application, status: 2 }.abi_encode(),
        )
        .await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    let (status, history): (i16, Vec<i16>) = sqlx::query_as(
        "SELECT a.status, ARRAY(SELECT h.status FROM application_status_changes h \
           WHERE h.application_id = a.application_id ORDER BY h.block_number, h.log_index) \
         FROM applications a WHERE a.application_id = $1",
    )
    .bind(application.to::<i64>())
    .fetch_one(&db.pool)
    .await?;
    ensure!(
        status == 2 && history == vec![0, 2],
        "expected Rejected with history [0, 2], got {status} {history:?}"
    );
    assert_same_dump(&dump_tables(&db.pool).await?, &clean_dump(&chain).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_while_the_indexer_is_down_is_handled_at_start() -> Result<()> {
    let chain = TestChain::start().await?;
    let _scenario = history_with_recent_activity(&chain, 13).await?;
    recent_posting_with_applications(&chain).await?;
    let db = test_database().await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    // The indexer is "down" (no instance runs) while the chain reorganises and moves on.
    chain.reorg(5).await?;
    chain.mine(3).await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    assert_same_dump(&dump_tables(&db.pool).await?, &clean_dump(&chain).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_refuses_fails_and_stalls_still_converges() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 21);
    scenario.run(&chain, 400).await?;
    let reference = clean_dump(&chain).await?;

    let faults = Faults {
        max_logs: Some(25),
        fail_ratio: 0.15,
        stall_ratio: 0.03,
        stall_for: Duration::from_secs(30),
        seed: 5,
        ..Faults::default()
    };
    let proxy = RpcProxy::start(chain.anvil.endpoint.clone(), faults).await?;
    let retry = RetryPolicy {
        timeout: Duration::from_millis(500),
        max_attempts: 50,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
    };
    let db = test_database().await?;
    index_to_head_via(&chain, &db, proxy.url.clone(), test_config(&chain), retry).await?;
    assert_same_dump(&dump_tables(&db.pool).await?, &reference)?;
    let stats = proxy.stats().total();
    ensure!(stats.refused > 0, "the proxy never refused a range: {stats:?}");
    ensure!(stats.failed > 0, "the proxy never failed a request: {stats:?}");

    // A node without hints and a hard block-range cap.
    proxy.set_faults(Faults {
        max_logs: Some(10),
        max_logs_without_hint: true,
        max_block_range: Some(40),
        seed: 6,
        ..Faults::default()
    });
    let db = test_database().await?;
    index_to_head_via(&chain, &db, proxy.url.clone(), test_config(&chain), RetryPolicy::default()).await?;
    assert_same_dump(&dump_tables(&db.pool).await?, &reference)?;
    assert_db_matches_model(&db.pool, &scenario.model).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_with_invalid_utf8_nul_emoji_and_maximum_lengths_round_trip() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 31);
    let employer = chain.anvil.address(1);
    let cases: Vec<(Vec<u8>, String)> = vec![
        (b"bad \xff\xfe bytes".to_vec(), "bad \u{FFFD}\u{FFFD} bytes".into()),
        (b"nul\0inside".to_vec(), "nul\u{FFFD}inside".into()),
        ("emoji 🦀🚀 ok".as_bytes().to_vec(), "emoji 🦀🚀 ok".into()),
        ("é".repeat(100).into_bytes(), "é".repeat(100)),
        (b"\xc3".to_vec(), "\u{FFFD}".into()),
    ];
    for (title, _) in &cases {
        let posting = TestPosting {
            title: title.clone(),
            company: "x".repeat(100).into_bytes(),
            location: "y".repeat(100).into_bytes(),
            tags: b"a,\xff,\x1fb".to_vec(),
            description: "d".repeat(4096).into_bytes(),
            salary_currency: "ABCDEFGHIJKL".as_bytes().to_vec(),
            salary_min: u64::MAX,
            salary_max: u64::MAX,
            deadline: 0,
        };
        scenario.post_posting(&chain, employer, posting).await?;
    }
    let db = test_database().await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    assert_db_matches_model(&db.pool, &scenario.model).await?;
    for (i, (raw, shown)) in cases.iter().enumerate() {
        let id = i as i64 + 1;
        let (title, salary, tags): (String, String, Vec<String>) =
            sqlx::query_as("SELECT title, salary_max::text, tags FROM jobs WHERE job_id = $1")
                .bind(id)
                .fetch_one(&db.pool)
                .await?;
        ensure!(title == *shown, "job {id}: shown as {title:?}, expected {shown:?}");
        ensure!(salary == u64::MAX.to_string(), "uint64 salary must survive: {salary}");
        ensure!(tags == ["a", "\u{FFFD}", "b"], "tags: {tags:?}");
        // The raw bytes are kept in the event log.
        let data: Vec<u8> =
            sqlx::query_scalar("SELECT data FROM events WHERE job_id = $1 AND kind = 'JobPosted'")
                .bind(id)
                .fetch_one(&db.pool)
                .await?;
        ensure!(
            data.windows(raw.len()).any(|w| w == raw.as_slice()),
            "job {id}: raw title bytes not in the event log"
        );
    }
    Ok(())
}

async fn checkpoint(db: &TestDatabase, chain: &TestChain) -> Result<Option<u64>> {
    let mut conn = db.pool.acquire().await?;
    Ok(load_state(&mut conn, &board_of(chain)).await?.and_then(|s| s.checkpoint.map(|c| c.0)))
}

pub(crate) async fn wait_for_checkpoint(
    db: &TestDatabase,
    chain: &TestChain,
    target: u64,
    within: Duration,
) -> Result<()> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if checkpoint(db, chain).await? == Some(target) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("checkpoint did not reach {target} within {within:?} (at {:?})", checkpoint(db, chain).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_never_loses_or_duplicates_a_row() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 41);
    scenario.run(&chain, 1500).await?;
    let db = test_database().await?;
    let mut rng = StdRng::seed_from_u64(99);
    // Small batches and ranges make the backfill long and the kills land inside it; small
    // projection chunks put them between loads, projections and the two (ADR 0021).
    let args =
        ["--batch-events", "3", "--max-range", "8", "--fetch-concurrency", "2", "--projection-events", "20"];
    let backfilling = || async {
        anyhow::Ok(
            load_state(&mut *db.pool.acquire().await?, &board_of(&chain))
                .await?
                .is_some_and(|s| !s.backfill_done),
        )
    };

    // Backfill phase: each run commits something, then dies a random moment later, mid-batch
    // or between batches.
    let mut backfill_kills = 0;
    for _ in 0..14 {
        let before = checkpoint(&db, &chain).await?;
        let mut process = JobboardProcess::index(&chain, &db, &args)?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while checkpoint(&db, &chain).await? == before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // A random moment, not a synchronisation: where the kill lands is what is under test.
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..15))).await;
        let was_backfilling = backfilling().await?;
        process.kill()?;
        backfill_kills += usize::from(was_backfilling);
    }

    // Let one run finish the backfill, so that the next kills land in the live phase.
    let finisher = JobboardProcess::index(&chain, &db, &[])?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while backfilling().await? {
        ensure!(Instant::now() < deadline, "backfill did not finish:\n{}", finisher.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(finisher);

    // Live phase: the chain moves while the indexer follows it and dies.
    let mut live_kills = 0;
    for _ in 0..10 {
        let mut process = JobboardProcess::index(&chain, &db, &args)?;
        scenario.run(&chain, 8).await?;
        // A random moment, not a synchronisation: where the kill lands is what is under test.
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..200))).await;
        let was_live = !backfilling().await?;
        process.kill()?;
        live_kills += usize::from(was_live);
    }
    eprintln!("{backfill_kills} kills during the backfill, {live_kills} during the live phase");
    ensure!(backfill_kills >= 12, "only {backfill_kills} kills landed during the backfill");
    ensure!(live_kills >= 8, "only {live_kills} kills landed during the live phase");

    let head = chain.head().await?;
    let process = JobboardProcess::index(&chain, &db, &[])?;
    wait_for_checkpoint(&db, &chain, head, Duration::from_secs(60)).await.with_context(|| process.log())?;
    drop(process);
    assert_db_matches_model(&db.pool, &scenario.model).await?;
    assert_same_dump(&dump_tables(&db.pool).await?, &clean_dump(&chain).await?)
}

/// The loaded mark of the board's state: the block up to which raw rows wait for projection.
async fn loaded_mark(db: &TestDatabase, chain: &TestChain) -> Result<Option<u64>> {
    let mut conn = db.pool.acquire().await?;
    Ok(load_state(&mut conn, &board_of(chain)).await?.and_then(|s| s.loaded.map(|l| l.0)))
}

/// A kill -9 after a backfill loaded raw rows and before it projected them (ADR 0021): the next
/// start projects them before anything else and goes on; nothing is lost or written twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_raw_load_and_projection_resumes_exactly() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 43);
    scenario.run(&chain, 800).await?;
    let db = test_database().await?;
    // Small batches load often and the projector follows them a chunk behind, so loaded rows
    // nearly always wait beyond the checkpoint; a limit larger than the whole history never
    // makes the writer wait for a chunk.
    let args = [
        "--batch-events",
        "3",
        "--max-range",
        "8",
        "--fetch-concurrency",
        "2",
        "--projection-events",
        "1000000",
    ];
    let mut in_window = 0;
    let mut last_loaded = None;
    for _ in 0..4 {
        let mut process = JobboardProcess::index(&chain, &db, &args)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        // Waits for this run's own load: the mark set, and past where the last run left it (a
        // restart projects what it finds loaded first, which clears the mark).
        loop {
            let loaded = loaded_mark(&db, &chain).await?;
            if loaded.is_some() && loaded > last_loaded {
                break;
            }
            ensure!(Instant::now() < deadline, "no raw rows loaded within 30 s:\n{}", process.log());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        process.kill()?;
        drop(process);
        let state = load_state(&mut *db.pool.acquire().await?, &board_of(&chain)).await?.context("state")?;
        if let (Some(loaded), checkpoint) = (state.loaded, state.checkpoint) {
            ensure!(
                checkpoint.is_none_or(|c| c.0 < loaded.0),
                "loaded mark {loaded:?} not above {checkpoint:?}"
            );
            in_window += 1;
            last_loaded = Some(loaded.0);
        }
    }
    ensure!(in_window >= 3, "only {in_window} kills landed between a load and its projection");

    let head = chain.head().await?;
    let process = JobboardProcess::index(&chain, &db, &[])?;
    wait_for_checkpoint(&db, &chain, head, Duration::from_secs(60)).await.with_context(|| process.log())?;
    drop(process);
    ensure!(loaded_mark(&db, &chain).await?.is_none(), "raw rows left unprojected at the head");
    assert_db_matches_model(&db.pool, &scenario.model).await?;
    assert_same_dump(&dump_tables(&db.pool).await?, &clean_dump(&chain).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_heads_over_websocket_wake_the_indexer_and_polling_covers_a_dead_socket() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 61);
    scenario.run(&chain, 30).await?;
    let db = test_database().await?;
    // anvil serves WebSockets on its HTTP port.
    let ws = chain.anvil.endpoint.as_str().replacen("http://", "ws://", 1);

    // A poll interval far longer than the wait below: only the wake-up can index in time.
    let process = JobboardProcess::index(&chain, &db, &["--poll-interval", "10m", "--ws-url", &ws])?;
    wait_for_checkpoint(&db, &chain, chain.head().await?, Duration::from_secs(60))
        .await
        .with_context(|| process.log())?;
    process.wait_for_log("subscribed to new heads", 1, Duration::from_secs(10)).await?;
    for _ in 0..3 {
        scenario.run(&chain, 4).await?;
        wait_for_checkpoint(&db, &chain, chain.head().await?, Duration::from_secs(10))
            .await
            .with_context(|| process.log())?;
    }
    drop(process);

    // Nothing listens at this WebSocket URL: the indexer says so and keeps polling.
    let dead = format!("ws://127.0.0.1:{}", crate::support::ports::free_port()?);
    let process = JobboardProcess::index(&chain, &db, &["--ws-url", &dead])?;
    scenario.run(&chain, 10).await?;
    wait_for_checkpoint(&db, &chain, chain.head().await?, Duration::from_secs(30))
        .await
        .with_context(|| process.log())?;
    ensure!(
        process.log().contains("new-heads subscription failed"),
        "a dead --ws-url went unreported:\n{}",
        process.log()
    );
    drop(process);
    assert_db_matches_model(&db.pool, &scenario.model).await?;
    assert_same_dump(&dump_tables(&db.pool).await?, &clean_dump(&chain).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_one_writes_and_the_standby_takes_over() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 51);
    scenario.run(&chain, 200).await?;
    let db = test_database().await?;
    let mut first = JobboardProcess::index(&chain, &db, &[])?;
    // Let the first one take the lock before the second starts.
    wait_for_checkpoint(&db, &chain, chain.head().await?, Duration::from_secs(60))
        .await
        .with_context(|| first.log())?;
    let second = JobboardProcess::index(&chain, &db, &[])?;
    second.wait_for_log("waiting as standby", 1, Duration::from_secs(30)).await?;
    ensure!(first.log().contains("writer lock acquired"), "first did not take the lock:\n{}", first.log());
    ensure!(
        !second.log().contains("writer lock acquired"),
        "second wrote while the first held the lock:\n{}",
        second.log()
    );
    ensure!(second.log().contains("waiting as standby"), "second is not a standby:\n{}", second.log());

    first.kill()?;
    scenario.run(&chain, 40).await?;
    wait_for_checkpoint(&db, &chain, chain.head().await?, Duration::from_secs(60))
        .await
        .with_context(|| second.log())?;
    ensure!(second.log().contains("writer lock acquired"), "the standby never took over:\n{}", second.log());
    assert_db_matches_model(&db.pool, &scenario.model).await?;
    assert_same_dump(&dump_tables(&db.pool).await?, &clean_dump(&chain).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_contract_and_wrong_chain_fail_at_start_with_a_clear_message() -> Result<()> {
    let chain = TestChain::start().await?;
    let db = test_database().await?;
    let run = |extra: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_jobboard"))
            .args([
                "index",
                "--rpc-url",
                chain.anvil.endpoint.as_str(),
                "--database-url",
                &db.url,
                "--start-block",
                "1",
            ])
            .args(extra)
            .output()
    };
    let not_a_contract = run(vec!["--contract".into(), Address::repeat_byte(0x42).to_string()])?;
    let stderr = String::from_utf8_lossy(&not_a_contract.stderr);
    ensure!(!not_a_contract.status.success() && stderr.contains("no contract at"), "{stderr}");
    let wrong_chain =
        run(vec!["--contract".into(), chain.board.to_string(), "--chain-id".into(), "1".into()])?;
    let stderr = String::from_utf8_lossy(&wrong_chain.stderr);
    ensure!(!wrong_chain.status.success() && stderr.contains("--chain-id is 1"), "{stderr}");
    Ok(())
}
