//! `jobboard serve` on a PostgreSQL hot standby, as issue 15's scale-out runs it: a primary and
//! a streaming standby made with `pg_basebackup -R`, the indexer writing to the primary, two
//! `serve` processes reading the standby. They answer as the primary does once replayed, wait
//! for replay on `X-Min-Block` (bounded, then `NOT_YET_INDEXED`), and push new events and
//! REORGs to subscriptions although a standby cannot `LISTEN`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::indexer::{index_to_head, test_config};
use crate::support::db::ReplicatedPair;
use crate::support::scenario::{Scenario, TestChain};
use crate::support::serve::{ServeProcess, first_code, wait_for_subscribers};
use crate::support::ws::WsClient;

/// Lists, lookups, nested reads and `_meta.block`: what a frontend reads.
const QUERIES: [&str; 5] = [
    "{ jobs(first: 50, orderBy: NEWEST) { totalCount nodes { id title employer { address openJobCount } applicationCount } } }",
    "{ jobs(where: {status: OPEN}, orderBy: SALARY_HIGH_TO_LOW, first: 20) { nodes { id title company salaryMin salaryMax tags postedAt } } }",
    "{ applications(first: 50) { totalCount nodes { id status applicant { address applicationCount } job { id title } history { status } } } }",
    "{ activity(first: 100) { nodes { kind jobId applicationId blockNumber logIndex } } }",
    "{ _meta { block { number hash } } }",
];

/// Replay on the standby, paused or resumed; returns once the standby says it took effect.
async fn set_replay(standby: &mut PgConnection, paused: bool) -> Result<()> {
    let call = if paused { "SELECT pg_wal_replay_pause()" } else { "SELECT pg_wal_replay_resume()" };
    sqlx::query(call).execute(&mut *standby).await?;
    let wanted = if paused { "paused" } else { "not paused" };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state: String =
            sqlx::query_scalar("SELECT pg_get_wal_replay_pause_state()").fetch_one(&mut *standby).await?;
        if state == wanted {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "replay stayed {state}, not {wanted}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next event of subscription `id` whose kind is `kind`.
async fn next_of_kind(client: &mut WsClient, id: &str, kind: &str) -> Result<Value> {
    for _ in 0..100 {
        let event = client.next_event(id).await?["activity"].clone();
        if event["kind"] == kind {
            return Ok(event);
        }
    }
    bail!("no {kind} among 100 events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_a_hot_standby_answers_as_the_primary_waits_for_replay_and_pushes() -> Result<()> {
    let pair = ReplicatedPair::start().await?;
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 71);
    scenario.run(&chain, 40).await?;
    index_to_head(&chain, &pair.database, test_config(&chain)).await?;
    let head = chain.head().await?;

    let primary = ServeProcess::start(&pair.database.url, chain.board, &[]).await?;
    let patient = ServeProcess::start(&pair.standby_url(), chain.board, &["--min-block-wait", "30s"]).await?;
    let hasty = ServeProcess::start(&pair.standby_url(), chain.board, &["--min-block-wait", "1s"]).await?;
    for serve in [&primary, &patient, &hasty] {
        serve.wait_for("/readyz", 200, Duration::from_secs(60)).await?;
    }

    // Once the standby has replayed the head, both replicas answer as the primary.
    for query in QUERIES {
        let expected = primary.query_at(query, head).await?;
        ensure!(expected.get("errors").is_none(), "primary: {expected}");
        for replica in [&patient, &hasty] {
            let got = replica.query_at(query, head).await?;
            ensure!(got == expected, "the standby answers otherwise:\n{got}\nnot\n{expected}\n{query}");
        }
    }

    let mut client = WsClient::connect(patient.addr).await?;
    client.subscribe("a", "subscription { activity { kind jobId blockNumber } }").await?;
    wait_for_subscribers(patient.addr, 1).await?;

    // Replay paused: a new job is committed on the primary but not visible on the standby.
    let mut standby = PgConnection::connect(&pair.standby.url("postgres")).await?;
    set_replay(&mut standby, true).await?;
    let job = scenario.post_job(&chain).await?;
    let block = chain.head().await?;
    index_to_head(&chain, &pair.database, test_config(&chain)).await?;
    let query = format!("{{ job(id: \"{job}\") {{ id title }} }}");
    let refused = hasty.query_at(&query, block).await?;
    ensure!(first_code(&refused) == Some("NOT_YET_INDEXED"), "past the bound: {refused}");
    // A patient request waits while replay is paused, and answers once it resumes.
    let url = format!("{}/graphql", patient.base);
    let body = json!({ "query": query }).to_string();
    let waiting = tokio::spawn(async move {
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("x-min-block", block.to_string())
            .body(body)
            .send()
            .await?;
        anyhow::Ok(response.json::<Value>().await?)
    });
    set_replay(&mut standby, false).await?;
    let answer = waiting.await.context("the waiting request panicked")??;
    ensure!(answer["data"]["job"]["id"] == json!(job.to_string()), "after replay resumed: {answer}");

    // The subscription on the standby-backed API gets the job's event, then a reorg of its block.
    let posted = next_of_kind(&mut client, "a", "JOB_POSTED").await?;
    ensure!(posted["jobId"] == json!(job.to_string()), "{posted}");
    chain.reorg(1).await?;
    index_to_head(&chain, &pair.database, test_config(&chain)).await?;
    let reorg = next_of_kind(&mut client, "a", "REORG").await?;
    let to: u64 = reorg["blockNumber"].as_str().and_then(|n| n.parse().ok()).context("REORG block")?;
    ensure!(to < block, "the REORG must go below the reverted block {block}: {reorg}");
    let gone = patient.query_at(&query, chain.head().await?).await?;
    ensure!(gone["data"]["job"].is_null(), "the reverted job is still served: {gone}");
    Ok(())
}
