//! `jobboard serve` as an operator runs it: the real binary as a subprocess. It starts before
//! the indexer (as a process manager or Kubernetes would start them), on a role that may only
//! read, and serves the board once the indexer has registered it, without a restart.

use std::time::{Duration, Instant};

use alloy::primitives::Address;
use anyhow::{Result, bail, ensure};
use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::indexer::{index_to_head, test_config};
use crate::support::db::{TestDatabase, test_database};
use crate::support::ports::free_port;
use crate::support::scenario::{Scenario, TestChain};
use crate::support::serve::{ServeProcess, first_code};

/// An empty database (no tables) on the test cluster and a login role that may only read
/// whatever the migrating superuser creates there later.
async fn empty_database_and_reader(template: &TestDatabase) -> Result<(TestDatabase, String)> {
    let mut admin_url = url::Url::parse(&template.url)?;
    admin_url.set_path("/postgres");
    let name = format!("empty_{}_{}", std::process::id(), free_port()?);
    let role = format!("reader_{name}");
    let mut admin = PgConnection::connect(admin_url.as_str()).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
    sqlx::query(&format!("CREATE ROLE {role} LOGIN PASSWORD '{role}'")).execute(&mut admin).await?;
    admin.close().await?;
    let mut url = url::Url::parse(&template.url)?;
    url.set_path(&format!("/{name}"));
    let pool = sqlx::PgPool::connect(url.as_str()).await?;
    sqlx::query("REVOKE CREATE ON SCHEMA public FROM PUBLIC").execute(&pool).await?;
    sqlx::query(&format!("GRANT USAGE ON SCHEMA public TO {role}")).execute(&pool).await?;
    sqlx::query(&format!("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role}"))
        .execute(&pool)
        .await?;
    let mut reader_url = url.clone();
    reader_url.set_username(&role).map_err(|()| anyhow::anyhow!("setting the role"))?;
    reader_url.set_password(Some(&role)).map_err(|()| anyhow::anyhow!("setting the role's password"))?;
    Ok((TestDatabase { url: url.to_string(), pool }, reader_url.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_starts_before_index_on_a_read_only_role() -> Result<()> {
    let template = test_database().await?;
    let (db, reader_url) = empty_database_and_reader(&template).await?;
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 12);
    scenario.run(&chain, 40).await?;

    // Before anything: no tables at all. It is up, not ready, and says so on queries.
    let serve = ServeProcess::start(&reader_url, chain.board, &[]).await?;
    let (status, body) = serve.get("/readyz").await?;
    ensure!(status == 503 && body.contains("not registered"), "readyz before index: {status} {body}");
    let answer = serve.query("{ _meta { block { number } } }").await?;
    ensure!(first_code(&answer) == Some("NOT_YET_INDEXED"), "query before index: {answer}");

    // The writer migrates and indexes; serve picks the board up without a restart.
    jobboard::store::MIGRATOR.run(&db.pool).await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    serve.wait_for("/readyz", 200, Duration::from_secs(30)).await?;
    let answer = serve.query("{ jobs(first: 1000) { totalCount } _meta { block { number } } }").await?;
    ensure!(answer.get("errors").is_none(), "query after index: {answer}");
    ensure!(answer["data"]["jobs"]["totalCount"] == json!(scenario.model.jobs.len()), "{answer}");

    // The role it ran on could only read.
    let role = url::Url::parse(&reader_url)?.username().to_owned();
    let (can_insert, can_select): (bool, bool) = sqlx::query_as(
        "SELECT has_table_privilege($1, 'jobs', 'INSERT'), has_table_privilege($1, 'jobs', 'SELECT')",
    )
    .bind(&role)
    .fetch_one(&db.pool)
    .await?;
    ensure!(
        !can_insert && can_select,
        "the role should only read (insert {can_insert}, select {can_select})"
    );
    if serve.stderr().contains("applying migrations") {
        bail!("serve migrated:\n{}", serve.stderr());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_a_database_starts_and_says_why_it_is_not_ready() -> Result<()> {
    // Nothing listens on this port: `serve` must still start, answer /healthz, and say on
    // /readyz that the database is the reason, not that the board is missing.
    let url = format!("postgres://postgres:secret@127.0.0.1:{}/jobboard", free_port()?);
    let serve = ServeProcess::start(&url, Address::repeat_byte(0x42), &[]).await?;
    serve.wait_for("/healthz", 200, Duration::from_secs(30)).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = serve.get("/readyz").await?;
        ensure!(status == 503, "readyz without a database: {status} {body}");
        if body.contains("the database is unreachable") {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "readyz never named the database: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
