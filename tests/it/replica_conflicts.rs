//! Reads a hot standby cancels to replay the primary (recovery conflicts), provoked for real:
//! `serve` runs a read once more when the standby cancels it, and answers `REPLICA_CONFLICT`
//! when the standby cancels that too.
//!
//! How the conflicts are made to happen exactly where wanted, without timing: on the primary,
//! transactions that each delete rows of a scratch table stay open, then one takes
//! `ACCESS EXCLUSIVE` on `jobs`. The standby replays that lock and holds it, so `serve`'s read
//! of `jobs` there waits behind it, holding a snapshot as old as the oldest open deleter (a
//! standby's snapshot counts the primary's running transactions). Each deleter in turn then
//! commits and `VACUUM` removes its rows: replaying that removal conflicts with the waiting
//! read's snapshot, and the standby (its `max_standby_streaming_delay` set to 10 ms) cancels
//! the read. The read's retry waits behind the lock again, with a snapshot as old as the next
//! open transaction, which the test sees in `pg_stat_activity.backend_xmin` before it goes on.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use sqlx::{Connection, PgConnection};

use crate::indexer::{index_to_head, test_config};
use crate::support::db::ReplicatedPair;
use crate::support::scenario::{Scenario, TestChain};
use crate::support::serve::{ServeProcess, first_code};

/// A read of `jobs`: what waits behind the replayed lock.
const QUERY: &str = "{ jobs(first: 50, orderBy: NEWEST) { nodes { id title employer { address } } } }";

/// Connects to `url`.
async fn connect(url: &str) -> Result<PgConnection> {
    Ok(PgConnection::connect(url).await?)
}

/// The standby cancels a conflicting read after 10 ms instead of 30 s; returns once a new
/// session sees the setting.
async fn cancel_conflicts_quickly(pair: &ReplicatedPair) -> Result<()> {
    let mut standby = connect(&pair.standby_url()).await?;
    sqlx::query("ALTER SYSTEM SET max_standby_streaming_delay = '10ms'").execute(&mut standby).await?;
    sqlx::query("SELECT pg_reload_conf()").execute(&mut standby).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut fresh = connect(&pair.standby_url()).await?;
        let delay: String =
            sqlx::query_scalar("SHOW max_standby_streaming_delay").fetch_one(&mut fresh).await?;
        if delay == "10ms" {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "max_standby_streaming_delay is still {delay}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// This transaction's id as the standby shows snapshots' horizons (`xid`, not `xid8`).
async fn xid(conn: &mut PgConnection) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT xid(pg_current_xact_id())::text").fetch_one(conn).await?)
}

/// Waits until a session on the standby waits for a lock with a snapshot whose horizon is
/// `xmin`: `serve`'s read of `jobs`, behind the replayed lock, in the attempt that matters.
async fn wait_for_read_waiting_with(standby: &mut PgConnection, xmin: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' \
             AND wait_event_type = 'Lock' AND backend_xmin::text = $1",
        )
        .bind(xmin)
        .fetch_one(&mut *standby)
        .await?;
        if waiting > 0 {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "no read on the standby waits with a snapshot at xmin {xmin}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The API's counts of recovery conflicts: (retried, gave up).
async fn conflict_counts(serve: &ServeProcess) -> Result<(u64, u64)> {
    let (_, text) = serve.get("/metrics").await?;
    let count = |outcome: &str| {
        let prefix = format!("jobboard_api_replica_conflicts_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .with_context(|| format!("no {prefix}in /metrics"))
    };
    Ok((count("retried")?, count("gave_up")?))
}

/// Sends [`QUERY`] to `serve` on the standby while the standby cancels its read `conflicts`
/// times, as the module says; returns the answer.
async fn query_through_conflicts(
    pair: &ReplicatedPair,
    serve: &ServeProcess,
    conflicts: usize,
) -> Result<Value> {
    let primary = &pair.database.url;
    sqlx::query("INSERT INTO conflict_scratch SELECT generate_series(1, 200)")
        .execute(&pair.database.pool)
        .await?;
    let mut deleters = Vec::new();
    for part in 0..conflicts {
        let mut deleter = connect(primary).await?;
        sqlx::raw_sql("BEGIN").execute(&mut deleter).await?;
        let deleted = sqlx::query("DELETE FROM conflict_scratch WHERE id % $1 = $2")
            .bind(i32::try_from(conflicts)?)
            .bind(i32::try_from(part)?)
            .execute(&mut deleter)
            .await?;
        ensure!(deleted.rows_affected() > 0, "deleter {part} deleted nothing");
        let id = xid(&mut deleter).await?;
        deleters.push((deleter, id));
    }
    let mut locker = connect(primary).await?;
    sqlx::raw_sql("BEGIN; LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE").execute(&mut locker).await?;
    let locker_id = xid(&mut locker).await?;
    pair.wait_for_replay().await?;

    let request = serve.spawn_query(QUERY);
    let mut standby = connect(&pair.standby_url()).await?;
    for (mut deleter, id) in deleters {
        wait_for_read_waiting_with(&mut standby, &id).await?;
        sqlx::raw_sql("COMMIT").execute(&mut deleter).await?;
        sqlx::raw_sql("VACUUM conflict_scratch").execute(&pair.database.pool).await?;
        pair.wait_for_replay().await?;
    }
    if conflicts < 2 {
        // The retry, behind the lock again, with a snapshot newer than every deleter's.
        wait_for_read_waiting_with(&mut standby, &locker_id).await?;
    }
    // Released: a retry waiting behind the lock goes on; a request already refused is done.
    sqlx::raw_sql("COMMIT").execute(&mut locker).await?;
    request.await.context("the request task panicked")?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_the_standby_cancels_is_run_once_more_then_refused_with_a_code() -> Result<()> {
    let pair = ReplicatedPair::start().await?;
    // No autovacuum transaction may be older than the test's: the standby's snapshots would
    // start at its id instead of the deleters'.
    sqlx::query("ALTER SYSTEM SET autovacuum = off").execute(&pair.database.pool).await?;
    sqlx::query("SELECT pg_reload_conf()").execute(&pair.database.pool).await?;
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 29);
    scenario.run(&chain, 30).await?;
    index_to_head(&chain, &pair.database, test_config(&chain)).await?;
    let head = chain.head().await?;
    sqlx::query("CREATE TABLE conflict_scratch (id int)").execute(&pair.database.pool).await?;
    cancel_conflicts_quickly(&pair).await?;
    let serve = ServeProcess::start(&pair.standby_url(), chain.board, &["--no-page"]).await?;
    serve.wait_for("/readyz", 200, Duration::from_secs(60)).await?;
    let expected = serve.query_at(QUERY, head).await?;
    ensure!(expected.get("errors").is_none(), "before any conflict: {expected}");
    ensure!(expected["data"]["jobs"]["nodes"].as_array().is_some_and(|jobs| !jobs.is_empty()), "{expected}");
    let (retried_before, gave_up_before) = conflict_counts(&serve).await?;

    // One conflict: the read runs once more and answers as if nothing happened.
    let answer = query_through_conflicts(&pair, &serve, 1).await?;
    ensure!(answer == expected, "after one conflict:\n{answer}\nnot\n{expected}");
    let (retried, gave_up) = conflict_counts(&serve).await?;
    ensure!(retried > retried_before, "no retry counted: {retried}");
    ensure!(gave_up == gave_up_before, "a conflict passed on: {gave_up}");

    // Two: the retry is cancelled too, and the client is told why, with a code.
    let answer = query_through_conflicts(&pair, &serve, 2).await?;
    ensure!(first_code(&answer) == Some("REPLICA_CONFLICT"), "after two conflicts: {answer}");
    let (_, gave_up) = conflict_counts(&serve).await?;
    ensure!(gave_up > gave_up_before, "the conflict passed on was not counted");

    // And the standby serves on.
    ensure!(serve.query(QUERY).await? == expected, "after the conflicts");
    Ok(())
}
