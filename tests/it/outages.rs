//! PostgreSQL going away under a writer, a standby and a `run`, and the status the API gives
//! meanwhile: outages are waited out (never exited), the writer lock changes hands exactly, and
//! `_meta.synced` / `/readyz` turn false when the indexer stops while the chain moves.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use jobboard::api::{self, ApiConfig, ApiState};
use jobboard::indexer::lock::{KEEPALIVE, writer_options};
use jobboard::local::postgres::{EmbeddedPostgres, PostgresOptions};
use jobboard::store::lock::lock_key;
use jobboard::store::{Reader, load_state};
use jobboard::telemetry::Metrics;
use serde_json::{Value, json};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::indexer::{board_of, index_to_head, test_config};
use crate::support::db::{TestDatabase, test_database};
use crate::support::harness::JobboardProcess;
use crate::support::ports::free_port;
use crate::support::scenario::{Scenario, TestChain, assert_db_matches_model, assert_same_dump, dump_tables};

async fn checkpoint(url: &str, chain: &TestChain) -> Result<Option<u64>> {
    let mut conn = PgConnection::connect(url).await?;
    let state = load_state(&mut conn, &board_of(chain)).await?;
    conn.close().await?;
    Ok(state.and_then(|s| s.checkpoint.map(|c| c.0)))
}

/// Waits until the stored checkpoint is the chain's head (read anew on every try).
async fn wait_for_head(
    url: &str,
    chain: &TestChain,
    within: Duration,
    logs: &[&JobboardProcess],
) -> Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let head = chain.head().await?;
        if checkpoint(url, chain).await.ok().flatten() == Some(head) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = logs.iter().map(|p| p.log()).collect();
            bail!("the index did not reach head {head} within {within:?}:\n{}", logs.join("\n-----\n"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh index of the chain as it is now: the reference the outage's index must equal.
async fn reference_dump(chain: &TestChain) -> Result<std::collections::BTreeMap<&'static str, Vec<String>>> {
    let fresh = test_database().await?;
    index_to_head(chain, &fresh, test_config(chain)).await?;
    dump_tables(&fresh.pool).await
}

/// A cluster of the test's own, which it stops and starts, with a `jobboard` database.
async fn own_cluster(dir: &Path, port: u16) -> Result<EmbeddedPostgres> {
    let mut options = PostgresOptions::new(dir.join("data"));
    options.port = port;
    Ok(EmbeddedPostgres::start(options).await?)
}

async fn get(client: &reqwest::Client, url: &str) -> Result<(u16, String)> {
    let response = client.get(url).send().await?;
    Ok((response.status().as_u16(), response.text().await?))
}

async fn graphql(client: &reqwest::Client, api: &str, query: &str) -> Result<(u16, Value)> {
    let response = client.post(format!("{api}/graphql")).json(&json!({ "query": query })).send().await?;
    Ok((response.status().as_u16(), response.json().await?))
}

const JOBS_QUERY: &str = "{ _meta { block { number } } jobs(first: 5) { totalCount nodes { id title } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_second_postgres_outage_is_waited_out_by_the_writer_and_a_run_standby() -> Result<()> {
    let outage = Duration::from_secs(30);
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 71);
    scenario.run(&chain, 120).await?;
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let cluster = own_cluster(dir.path(), port).await?;
    let mut admin = PgConnection::connect(&cluster.url("postgres")).await?;
    sqlx::query("CREATE DATABASE jobboard").execute(&mut admin).await?;
    admin.close().await?;
    let url = cluster.url("jobboard");

    let mut writer = JobboardProcess::indexer("index", &chain, &url, &[])?;
    wait_for_head(&url, &chain, Duration::from_secs(60), &[&writer]).await?;
    let listen = format!("127.0.0.1:{}", free_port()?);
    let api = format!("http://{listen}");
    let mut standby = JobboardProcess::indexer("run", &chain, &url, &["--listen", &listen])?;
    standby.wait_for_log("waiting as standby", 1, Duration::from_secs(30)).await?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let (_, before) = graphql(&http, &api, JOBS_QUERY).await?;
    ensure!(before["errors"].is_null(), "{before}");
    let (ready, body) = get(&http, &format!("{api}/readyz")).await?;
    ensure!(ready == 200 && body.contains("\"indexer\":\"standby\""), "{ready} {body}");

    let stopped = Instant::now();
    cluster.stop().await?;
    // The chain moves on while the database is away.
    scenario.run(&chain, 30).await?;
    writer.wait_for_log("reconnecting", 2, outage).await?;
    standby.wait_for_log("reconnecting", 2, outage).await?;
    // `run` answers meanwhile: alive, not ready (and why), reads fail as errors, not hangs.
    let (healthz, _) = get(&http, &format!("{api}/healthz")).await?;
    ensure!(healthz == 200, "/healthz answered {healthz} during the outage");
    let (ready, body) = get(&http, &format!("{api}/readyz")).await?;
    ensure!(ready == 503 && body.contains("the database is unreachable"), "{ready} {body}");
    ensure!(
        body.contains("\"indexer\":\"retrying\"") || body.contains("\"indexer\":\"connecting\""),
        "{body}"
    );
    let (status, during) = graphql(&http, &api, JOBS_QUERY).await?;
    ensure!(status == 200 && during["errors"][0]["message"].is_string(), "{status} {during}");
    // Not a synchronisation: the outage's length is what is under test, and both must live
    // through all of it.
    tokio::time::sleep(outage.saturating_sub(stopped.elapsed())).await;
    writer.ensure_alive("the writer")?;
    standby.ensure_alive("`run`")?;
    eprintln!("PostgreSQL was down for {:?}", stopped.elapsed());

    let _cluster = own_cluster(dir.path(), port).await?;
    let restarted = Instant::now();
    wait_for_head(&url, &chain, Duration::from_secs(60), &[&writer, &standby]).await?;
    eprintln!("the index reached the head {:?} after PostgreSQL came back", restarted.elapsed());
    writer.ensure_alive("the writer")?;
    standby.ensure_alive("`run`")?;
    ensure!(writer.log().contains("reconnected to the database"), "{}", writer.log());
    standby.wait_for_log("reconnected to the database", 1, Duration::from_secs(30)).await?;
    // `run` reads again, and its standby is still a standby or took over: either way alive.
    let (_, after) = graphql(&http, &api, JOBS_QUERY).await?;
    ensure!(after["errors"].is_null(), "{after}");
    ensure!(after["data"]["_meta"]["block"]["number"] == json!(chain.head().await?.to_string()), "{after}");

    let pool = PgPool::connect(&url).await?;
    assert_db_matches_model(&pool, &scenario.model).await?;
    assert_same_dump(&dump_tables(&pool).await?, &reference_dump(&chain).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indexer_started_before_postgres_waits_for_it() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 83);
    scenario.run(&chain, 30).await?;
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    // The cluster is made (its password drawn) and stopped before the indexer starts, so the
    // indexer has a full URL to a server that is not there yet. The `postgres` database: it
    // exists the moment the server accepts connections.
    let first = own_cluster(dir.path(), port).await?;
    let url = first.url("postgres");
    first.stop().await?;
    let mut writer = JobboardProcess::indexer("index", &chain, &url, &[])?;
    writer.wait_for_log("reconnecting", 3, Duration::from_secs(30)).await?;
    writer.ensure_alive("the writer")?;
    ensure!(writer.log().contains("is PostgreSQL running there"), "no hint:\n{}", writer.log());

    let _cluster = own_cluster(dir.path(), port).await?;
    wait_for_head(&url, &chain, Duration::from_secs(60), &[&writer]).await?;
    let pool = PgPool::connect(&url).await?;
    assert_db_matches_model(&pool, &scenario.model).await
}

/// The pid of the session holding the board's writer lock.
async fn lock_holder(db: &TestDatabase, chain: &TestChain) -> Result<Option<i32>> {
    let key = lock_key(&board_of(chain));
    Ok(sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND ((classid::bigint << 32) | objid::bigint) = $1",
    )
    .bind(key)
    .fetch_optional(&db.pool)
    .await?)
}

/// Waits until a session not in `ended` holds the board's writer lock (an ended one may still
/// show for the moment its backend takes to exit).
async fn wait_for_new_holder(db: &TestDatabase, chain: &TestChain, ended: &[i32]) -> Result<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match lock_holder(db, chain).await? {
            Some(pid) if !ended.contains(&pid) => return Ok(pid),
            _ => {}
        }
        ensure!(Instant::now() < deadline, "no new session took the lock within 30 s (ended: {ended:?})");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_the_writers_lock_session_hands_the_board_over_exactly() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 73);
    scenario.run(&chain, 100).await?;
    let db = test_database().await?;
    let first = JobboardProcess::indexer("index", &chain, &db.url, &[])?;
    wait_for_head(&db.url, &chain, Duration::from_secs(60), &[&first]).await?;
    let second = JobboardProcess::indexer("index", &chain, &db.url, &[])?;
    second.wait_for_log("waiting as standby", 1, Duration::from_secs(30)).await?;

    let mut ended = vec![wait_for_new_holder(&db, &chain, &[]).await?];
    let mut handovers = Vec::new();
    for round in 0..6u64 {
        let holder = *ended.last().context("a holder")?;
        // The chain moves while the session is ended, so the kill can land inside a write.
        let moving = scenario.run(&chain, 6);
        let killing = async {
            // A stagger, not a synchronisation: each round ends the session at another moment
            // of the write.
            tokio::time::sleep(Duration::from_millis(30 * round)).await;
            let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                .bind(holder)
                .fetch_one(&db.pool)
                .await?;
            ensure!(terminated, "round {round}: session {holder} was not terminated");
            let at = Instant::now();
            let next = wait_for_new_holder(&db, &chain, &ended).await?;
            anyhow::Ok((next, at.elapsed()))
        };
        let (moved, next) = tokio::join!(moving, killing);
        moved?;
        let (next, took) = next?;
        ended.push(next);
        handovers.push(took);
    }
    handovers.sort();
    eprintln!("lock handed over after pg_terminate_backend in {handovers:?}");
    // Each ended session's process noticed, and the lock was taken anew after each.
    let logs = || format!("{}\n{}", first.log(), second.log());
    let deadline = Instant::now() + Duration::from_secs(30);
    while logs().matches("reconnecting").count() < 6 || logs().matches("writer lock acquired").count() < 7 {
        ensure!(Instant::now() < deadline, "the writers did not notice every ended session:\n{}", logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_head(&db.url, &chain, Duration::from_secs(60), &[&first, &second]).await?;
    assert_db_matches_model(&db.pool, &scenario.model).await?;
    assert_same_dump(&dump_tables(&db.pool).await?, &reference_dump(&chain).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_session_asks_the_server_to_drop_it_within_the_stated_takeover_time() -> Result<()> {
    let db = test_database().await?;
    let mut conn = writer_options(&db.url)?.connect().await?;
    let mut shown = Vec::new();
    for name in ["tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count", "tcp_user_timeout"]
    {
        let value: String = sqlx::query_scalar(&format!("SHOW {name}")).fetch_one(&mut conn).await?;
        shown.push(value);
    }
    // SHOW prints these without units: seconds, and milliseconds for the user timeout.
    let k = KEEPALIVE;
    let expected = [k.idle, k.interval, k.count, k.user_timeout * 1000].map(|v| v.to_string());
    assert_eq!(shown, expected);
    assert!(KEEPALIVE.takeover() + Duration::from_secs(1) <= Duration::from_secs(30));
    Ok(())
}

/// An in-process API over `db` with a short `--stall-after`.
fn api_state(
    db: &TestDatabase,
    chain: &TestChain,
    stall_after: Duration,
) -> Result<(ApiState, CancellationToken)> {
    let cancel = CancellationToken::new();
    let config = ApiConfig { stall_after, ..ApiConfig::default() };
    let reader = Reader::new(db.pool.clone(), board_of(chain))?;
    Ok((ApiState::new(reader, config, Metrics::default(), cancel.clone()), cancel))
}

/// `/readyz`'s status and body, and `_meta.synced`.
async fn status_of(state: &ApiState) -> Result<(StatusCode, Value, bool)> {
    let readyz = api::router(state.clone()).oneshot(Request::get("/readyz").body(Body::empty())?).await?;
    let ready = readyz.status();
    let body: Value = serde_json::from_slice(&axum::body::to_bytes(readyz.into_body(), 1 << 20).await?)?;
    let query = json!({ "query": "{ _meta { synced } }" }).to_string();
    let request =
        Request::post("/graphql").header("content-type", "application/json").body(Body::from(query))?;
    let meta = api::router(state.clone()).oneshot(request).await?;
    let meta: Value = serde_json::from_slice(&axum::body::to_bytes(meta.into_body(), 1 << 20).await?)?;
    let synced = meta["data"]["_meta"]["synced"].as_bool().with_context(|| format!("{meta}"))?;
    Ok((ready, body, synced))
}

/// Polls the API until `want(ready, synced)` holds.
async fn wait_for_status(
    state: &ApiState,
    within: Duration,
    want: impl Fn(StatusCode, bool) -> bool,
) -> Result<(StatusCode, Value, bool)> {
    let deadline = Instant::now() + within;
    loop {
        let (ready, body, synced) = status_of(state).await?;
        if want(ready, synced) {
            return Ok((ready, body, synced));
        }
        ensure!(
            Instant::now() < deadline,
            "status never changed as expected: {ready} {body} synced={synced}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_and_readyz_turn_false_when_the_indexer_stops_while_the_chain_moves() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 79);
    scenario.run(&chain, 40).await?;
    let db = test_database().await?;
    let stall_after = Duration::from_secs(2);
    let (state, cancel) = api_state(&db, &chain, stall_after)?;

    let mut indexer = JobboardProcess::indexer("index", &chain, &db.url, &[])?;
    wait_for_head(&db.url, &chain, Duration::from_secs(60), &[&indexer]).await?;
    let (ready, body, _) =
        wait_for_status(&state, Duration::from_secs(10), |ready, synced| ready == StatusCode::OK && synced)
            .await?;
    ensure!(body["synced"] == json!(true), "{ready} {body}");

    // The indexer dies; the chain moves on without it.
    let stopped = Instant::now();
    indexer.kill()?;
    scenario.run(&chain, 20).await?;
    let (ready, body, synced) = wait_for_status(&state, stall_after * 5, |ready, synced| {
        ready == StatusCode::SERVICE_UNAVAILABLE && !synced
    })
    .await?;
    // The stall clock runs from the indexer's last report (one poll before the kill at most),
    // by the database's clock.
    let silent: f64 =
        sqlx::query_scalar("SELECT extract(epoch FROM now() - updated_at)::float8 FROM indexer_state")
            .fetch_one(&db.pool)
            .await?;
    ensure!(
        silent >= stall_after.as_secs_f64(),
        "judged stalled after only {silent:.3}s of silence ({:?} after the kill)",
        stopped.elapsed()
    );
    let reason = body["reason"].as_str().unwrap_or_default();
    ensure!(reason.contains("has not reported"), "{ready} {body} synced={synced}");
    let (_, metrics) = {
        let response =
            api::router(state.clone()).oneshot(Request::get("/metrics").body(Body::empty())?).await?;
        (
            response.status(),
            String::from_utf8(axum::body::to_bytes(response.into_body(), 1 << 20).await?.to_vec())?,
        )
    };
    ensure!(metrics.contains("jobboard_index_stalled 1"), "{metrics}");

    // Back again: it catches up and the status says so.
    let indexer = JobboardProcess::indexer("index", &chain, &db.url, &[])?;
    wait_for_head(&db.url, &chain, Duration::from_secs(60), &[&indexer]).await?;
    wait_for_status(&state, Duration::from_secs(10), |ready, synced| ready == StatusCode::OK && synced)
        .await?;
    cancel.cancel();
    Ok(())
}
