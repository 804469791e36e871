//! `jobboard serve` behind pgbouncer in transaction mode (Debian's 1.18: no protocol-level
//! prepared statements, no session state, no LISTEN), as docs/adr/0018-connection-poolers.md
//! sets it up: `--db-pooler transaction` for the reads, `--listen-database-url` straight to
//! PostgreSQL for the change notices. The API bench's three queries must answer exactly as a
//! `serve` on a direct connection answers them, under concurrent load that makes pgbouncer
//! hand consecutive transactions to different server connections.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

use jobboard::store::ReadPool;

use crate::indexer::{index_to_head, test_config};
use crate::support::db::test_database;
use crate::support::pgbouncer::Pgbouncer;
use crate::support::scenario::{Scenario, TestChain};
use crate::support::serve::{ServeProcess, wait_for_subscribers};
use crate::support::ws::WsClient;

#[path = "../../benches/common/api_queries.rs"]
mod api_queries;

use api_queries::{APPLICANT_APPLICATIONS, JOB_WITH_APPLICATIONS, NEWEST_OPEN_JOBS};

/// Server connections pgbouncer lends; `serve`'s pool holds four times as many clients.
const SERVER_CONNECTIONS: u32 = 2;
/// Requests in flight at once against the pooled `serve`.
const IN_FLIGHT: usize = 16;
/// Rounds over every request body under that load.
const ROUNDS: usize = 5;

/// A GraphQL request body: the query and its variables.
fn body(query: &str, variables: Value) -> String {
    json!({ "query": query, "variables": variables }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_behind_pgbouncer_in_transaction_mode_answers_as_a_direct_one() -> Result<()> {
    let db = test_database().await?;
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 15);
    scenario.run(&chain, 60).await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    let bouncer = Pgbouncer::start(&db.url, SERVER_CONNECTIONS).await?;

    let direct = ServeProcess::start(&db.url, chain.board, &["--no-page"]).await?;
    let clients = (SERVER_CONNECTIONS * 4).to_string();
    let pooled_args = [
        "--no-page",
        "--db-pooler",
        "transaction",
        "--listen-database-url",
        &db.url,
        "--db-connections",
        &clients,
    ];
    let pooled = ServeProcess::start(&bouncer.url, chain.board, &pooled_args).await?;
    for serve in [&direct, &pooled] {
        serve.wait_for("/readyz", 200, Duration::from_secs(30)).await?;
    }

    // The bench's three queries, over every job and every applicant the scenario made.
    let applicants: BTreeSet<String> =
        scenario.model.applications.values().map(|a| format!("{:#x}", a.applicant)).collect();
    ensure!(!applicants.is_empty(), "the scenario made no application");
    let mut bodies = vec![body(NEWEST_OPEN_JOBS, json!({}))];
    bodies.extend(
        scenario.model.jobs.keys().map(|id| body(JOB_WITH_APPLICATIONS, json!({ "id": id.to_string() }))),
    );
    bodies.extend(applicants.iter().map(|a| body(APPLICANT_APPLICATIONS, json!({ "a": a }))));
    let mut expected = Vec::with_capacity(bodies.len());
    for request in &bodies {
        let (status, answer) = direct.post(request.clone()).await?;
        ensure!(status == 200 && answer.get("errors").is_none(), "direct answer to {request}: {answer}");
        expected.push(answer);
    }
    ensure!(
        expected[0]["data"]["jobs"]["nodes"].as_array().is_some_and(|nodes| !nodes.is_empty()),
        "no open jobs to compare: {}",
        expected[0]
    );

    // Every body ROUNDS times, IN_FLIGHT at once: more transactions than server connections.
    let requests = (0..ROUNDS).flat_map(|_| bodies.iter().zip(&expected));
    let compared: usize = futures::stream::iter(requests)
        .map(|(request, want)| {
            let pooled = &pooled;
            let bouncer = &bouncer;
            async move {
                let (status, got) = pooled.post(request.clone()).await?;
                ensure!(
                    status == 200 && &got == want,
                    "through pgbouncer {request} answered ({status}) {got}\ninstead of {want}\n{}\n{}",
                    pooled.stderr(),
                    bouncer.log()
                );
                Ok(1)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_fold(0, |n, one| async move { Ok(n + one) })
        .await?;
    ensure!(compared == ROUNDS * bodies.len(), "compared {compared} answers");

    // A subscription through the pooled `serve` sees a new event, told by a LISTEN that runs on
    // the direct connection, not through pgbouncer.
    let mut client = WsClient::connect(pooled.addr).await?;
    client.subscribe("a", "subscription { activity { kind jobId } }").await?;
    wait_for_subscribers(pooled.addr, 1).await?;
    let job = scenario.post_job(&chain).await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    let event = client.next_event("a").await?;
    ensure!(
        event["activity"] == json!({ "kind": "JOB_POSTED", "jobId": job.to_string() }),
        "expected the new job, got {event}"
    );
    wait_for_listener(&db.pool).await
}

/// Waits until PostgreSQL shows `serve`'s change-notice session (named
/// [`jobboard::app::LISTENER_NAME`]) idle after its `LISTEN`: a session of its own, which
/// pgbouncer in transaction mode would not have kept.
async fn wait_for_listener(pool: &sqlx::PgPool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listening: Option<String> = sqlx::query_scalar(
            "SELECT query FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle' \
             AND query LIKE 'LISTEN %'",
        )
        .bind(jobboard::app::LISTENER_NAME)
        .fetch_optional(pool)
        .await
        .context("reading pg_stat_activity")?;
        if listening.is_some() {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "no LISTEN session named {} in pg_stat_activity",
            jobboard::app::LISTENER_NAME
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_behind_pgbouncer_keep_the_statement_timeout() -> Result<()> {
    let db = test_database().await?;
    let bouncer = Pgbouncer::start(&db.url, 1).await?;
    let options: sqlx::postgres::PgConnectOptions = bouncer.url.parse()?;
    let reads = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.extra_float_digits(None).statement_cache_capacity(0))
        .await?;
    let pool = ReadPool::behind_transaction_pooler(reads, Duration::from_millis(200), None);

    // Set for each read's transaction, whichever server connection pgbouncer lends.
    for _ in 0..3 {
        let timeout: String = sqlx::query_scalar("SHOW statement_timeout").fetch_one(&pool).await?;
        ensure!(timeout == "200ms", "statement_timeout through pgbouncer: {timeout}");
    }
    let slow = sqlx::query("SELECT pg_sleep($1)").bind(2.0_f64).execute(&pool).await;
    let code = slow.as_ref().err().and_then(|e| e.as_database_error()).and_then(|e| e.code());
    ensure!(code.as_deref() == Some("57014"), "a 2 s statement was not cancelled at 200 ms: {slow:?}");
    // The connection that was cancelled still serves.
    let one: i32 = sqlx::query_scalar("SELECT $1").bind(1_i32).fetch_one(&pool).await?;
    ensure!(one == 1, "{one}");
    Ok(())
}
