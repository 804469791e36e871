//! One answer, one snapshot: a request selecting `_meta` beside a job list, while the indexer
//! commits a block with a new job between its reads, answers the job list as it stood at the
//! `_meta.block` it reports. On a hot standby, on the primary, and behind pgbouncer in
//! transaction mode.
//!
//! The interleaving is forced, not hoped for: a trigger the test installs on `jobs` makes the
//! indexer's transaction take `ACCESS EXCLUSIVE` on `jobs` at its insert and then wait for an
//! advisory lock the test holds. The request is sent while it waits: its `_meta` reads the
//! status as of the block before (the indexer has not committed), its job list waits behind the
//! lock (on a standby, behind the replayed one). The test then lets the indexer commit. Read in
//! two statements, the list would now hold the new job while `_meta` says the block before;
//! read in one snapshot, it is the list of the block before.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use sqlx::{Connection, PgConnection};

use crate::indexer::{index_to_head, test_config};
use crate::support::db::{ReplicatedPair, TestDatabase, test_database};
use crate::support::pgbouncer::Pgbouncer;
use crate::support::scenario::{Scenario, TestChain};
use crate::support::serve::ServeProcess;

/// `_meta` and the data, in one request.
const META_AND_JOBS: &str =
    "{ _meta { block { number } } jobs(first: 200, orderBy: NEWEST) { nodes { id } } }";
/// The data alone.
const JOBS: &str = "{ jobs(first: 200, orderBy: NEWEST) { nodes { id } } }";
/// The advisory lock the held transaction waits for.
const HOLD: i64 = 7_315_001;

/// Installs the trigger that holds the indexer's next insert into `jobs` (see the module).
async fn install_hold(db: &TestDatabase) -> Result<()> {
    sqlx::raw_sql(&format!(
        "CREATE FUNCTION hold_job_insert() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE; PERFORM pg_advisory_xact_lock({HOLD}); RETURN NULL; END $$; \
         CREATE TRIGGER hold_job_insert AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION hold_job_insert();"
    ))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Waits until `count(*)` of `sql` (about this database's locks) is positive on `conn`.
async fn wait_for_lock(conn: &mut PgConnection, what: &str, sql: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found: i64 = sqlx::query_scalar(sql).fetch_one(&mut *conn).await?;
        if found > 0 {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "{what}: not seen in 30 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Locks of this database that are waited for, by kind of lock.
const WAITING: &str = "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
     WHERE d.datname = current_database() AND NOT l.granted AND l.locktype = ";

/// The job ids of an answer's list, in order.
fn job_ids(answer: &Value) -> Result<Vec<String>> {
    answer["data"]["jobs"]["nodes"]
        .as_array()
        .with_context(|| format!("no job list: {answer}"))?
        .iter()
        .map(|job| {
            job["id"].as_str().map(str::to_owned).with_context(|| format!("a job without id: {answer}"))
        })
        .collect()
}

/// Where `serve` reads, and how to see its reads wait.
struct Reads<'a> {
    serve: &'a ServeProcess,
    /// The database the reads run on (the standby's, or the primary's).
    url: String,
    /// Set when they run on a standby: the held lock must be replayed first.
    standby: Option<&'a ReplicatedPair>,
}

/// Posts a job, lets the indexer commit its block only once a `_meta` + jobs request is
/// waiting between its reads (see the module), and checks the answer.
async fn meta_and_jobs_agree_across_a_commit(
    chain: &TestChain,
    scenario: &mut Scenario,
    db: &TestDatabase,
    reads: Reads<'_>,
) -> Result<()> {
    let before_block = chain.head().await?;
    let before = job_ids(&reads.serve.query_at(JOBS, before_block).await?)?;
    let job = scenario.post_job(chain).await?;
    let block = chain.head().await?;

    let mut holder = PgConnection::connect(&db.url).await?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(HOLD).execute(&mut holder).await?;
    let indexing = index_to_head(chain, db, test_config(chain));
    let interleaving = async {
        let mut primary = PgConnection::connect(&db.url).await?;
        wait_for_lock(&mut primary, "the indexer waiting, holding jobs", &format!("{WAITING}'advisory'"))
            .await?;
        if let Some(pair) = reads.standby {
            pair.wait_for_replay().await?;
        }
        let request = reads.serve.spawn_query(META_AND_JOBS);
        let mut read_side = PgConnection::connect(&reads.url).await?;
        let jobs_waiting = format!("{WAITING}'relation' AND l.relation = 'jobs'::regclass");
        wait_for_lock(&mut read_side, "the job list waiting behind the held lock", &jobs_waiting).await?;
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(HOLD).execute(&mut holder).await?;
        request.await.context("the request task panicked")?
    };
    let (indexed, answer) = tokio::join!(indexing, interleaving);
    indexed?;
    let answer = answer?;
    ensure!(answer.get("errors").is_none(), "{answer}");

    let after = job_ids(&reads.serve.query_at(JOBS, block).await?)?;
    ensure!(
        after.contains(&job.to_string()) && !before.contains(&job.to_string()),
        "job {job} was not added"
    );
    let at =
        answer["data"]["_meta"]["block"]["number"].as_str().context("_meta.block.number")?.parse::<u64>()?;
    let listed = job_ids(&answer)?;
    let expected = if at >= block { &after } else { &before };
    ensure!(
        &listed == expected,
        "_meta says block {at} but the list is not the one of that block (job {job} came in block {block}): \
         {listed:?}"
    );
    // The list was read after the commit: that it shows the block before is the snapshot.
    ensure!(at == before_block, "_meta.block {at}, expected the block before the commit, {before_block}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_standby_meta_and_data_come_from_one_snapshot() -> Result<()> {
    let pair = ReplicatedPair::start().await?;
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 43);
    scenario.run(&chain, 20).await?;
    index_to_head(&chain, &pair.database, test_config(&chain)).await?;
    install_hold(&pair.database).await?;
    let serve = ServeProcess::start(&pair.standby_url(), chain.board, &["--no-page"]).await?;
    serve.wait_for("/readyz", 200, Duration::from_secs(60)).await?;
    let reads = Reads { serve: &serve, url: pair.standby_url(), standby: Some(&pair) };
    meta_and_jobs_agree_across_a_commit(&chain, &mut scenario, &pair.database, reads).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_primary_and_behind_pgbouncer_meta_and_data_come_from_one_snapshot() -> Result<()> {
    let db = test_database().await?;
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 47);
    scenario.run(&chain, 20).await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    install_hold(&db).await?;
    let bouncer = Pgbouncer::start(&db.url, 2).await?;
    let direct = ServeProcess::start(&db.url, chain.board, &["--no-page"]).await?;
    let pooled_args = ["--no-page", "--db-pooler", "transaction", "--listen-database-url", &db.url];
    let pooled = ServeProcess::start(&bouncer.url, chain.board, &pooled_args).await?;
    for serve in [&direct, &pooled] {
        serve.wait_for("/readyz", 200, Duration::from_secs(60)).await?;
        let reads = Reads { serve, url: db.url.clone(), standby: None };
        meta_and_jobs_agree_across_a_commit(&chain, &mut scenario, &db, reads).await?;
    }
    Ok(())
}
