//! PostgreSQL for the tests: one throwaway cluster per test binary, and a fresh migrated
//! database per test, cloned from a template (fast, and tests run in parallel).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};
use jobboard::local::postgres::{EmbeddedPostgres, PostgresOptions};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Mutex, OnceCell};

/// The cluster's port. The handle itself is leaked on purpose: its supervisor stops the
/// server when this test process exits, however it exits.
static CLUSTER_PORT: OnceCell<u16> = OnceCell::const_new();
static CLUSTER: OnceLock<EmbeddedPostgres> = OnceLock::new();
static TEMPLATE: OnceCell<()> = OnceCell::const_new();
static CREATE: Mutex<()> = Mutex::const_new(());
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A database of its own for one test.
pub struct TestDatabase {
    /// Its connection URL.
    pub url: String,
    /// A small pool on it.
    pub pool: PgPool,
}

async fn cluster_port() -> Result<u16> {
    CLUSTER_PORT
        .get_or_try_init(|| async {
            // Started on a thread with its own runtime: the cluster must not depend on the
            // runtime of whichever test happens to start it.
            let started = std::thread::spawn(|| -> Result<EmbeddedPostgres> {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                let dir = tempfile::Builder::new().prefix("jobboard-test-pg").tempdir()?.keep();
                // Ephemeral: the supervisor deletes the cluster when this test process exits
                // (it is held in a static, so it is never dropped).
                let mut options = PostgresOptions::new(dir.join("data"));
                options.ephemeral = true;
                Ok(runtime.block_on(EmbeddedPostgres::start(options))?)
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the thread starting PostgreSQL panicked"))??;
            let port = started.port();
            let _ = CLUSTER.set(started);
            Ok::<u16, anyhow::Error>(port)
        })
        .await
        .copied()
}

fn url(port: u16, database: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/{database}")
}

/// A fresh, migrated, empty database.
pub async fn test_database() -> Result<TestDatabase> {
    let port = cluster_port().await?;
    TEMPLATE
        .get_or_try_init(|| async {
            let mut admin = PgConnection::connect(&url(port, "postgres")).await?;
            sqlx::query("CREATE DATABASE jobboard_template").execute(&mut admin).await?;
            admin.close().await?;
            let pool =
                PgPoolOptions::new().max_connections(1).connect(&url(port, "jobboard_template")).await?;
            jobboard::store::MIGRATOR.run(&pool).await.context("migrating the template")?;
            pool.close().await;
            Ok::<(), anyhow::Error>(())
        })
        .await?;
    let name = format!("test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    {
        // CREATE DATABASE ... TEMPLATE needs the template to itself: one at a time.
        let _guard = CREATE.lock().await;
        let mut admin = PgConnection::connect(&url(port, "postgres")).await?;
        sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE jobboard_template"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
    }
    let url = url(port, &name);
    let pool = PgPoolOptions::new().max_connections(4).connect(&url).await?;
    Ok(TestDatabase { url, pool })
}

#[tokio::test]
async fn databases_are_independent_and_migrated() -> Result<()> {
    let a = test_database().await?;
    let b = test_database().await?;
    sqlx::query("INSERT INTO employers (chain_id, contract, address, job_count, open_job_count) VALUES (1, $1, $1, 1, 1)")
        .bind(vec![7u8; 20])
        .execute(&a.pool)
        .await?;
    let in_a: i64 = sqlx::query_scalar("SELECT count(*) FROM employers").fetch_one(&a.pool).await?;
    let in_b: i64 = sqlx::query_scalar("SELECT count(*) FROM employers").fetch_one(&b.pool).await?;
    assert_eq!((in_a, in_b), (1, 0));
    Ok(())
}

#[tokio::test]
async fn a_cluster_keeps_its_data_across_restarts_and_reports_a_busy_port() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let cluster = EmbeddedPostgres::start(PostgresOptions::new(&data)).await?;
    let mut conn = PgConnection::connect(&cluster.url("postgres")).await?;
    sqlx::query("CREATE TABLE kept (v int)").execute(&mut conn).await?;
    sqlx::query("INSERT INTO kept VALUES (42)").execute(&mut conn).await?;
    conn.close().await?;
    let port = cluster.port();

    // The port is taken while it runs.
    let err =
        EmbeddedPostgres::start(PostgresOptions { port, ..PostgresOptions::new(dir.path().join("other")) })
            .await
            .expect_err("a busy port must be refused");
    assert!(err.to_string().contains(&port.to_string()), "{err}");

    cluster.stop().await?;
    let again = EmbeddedPostgres::start(PostgresOptions::new(&data)).await?;
    let mut conn = PgConnection::connect(&again.url("postgres")).await?;
    let v: i32 = sqlx::query_scalar("SELECT v FROM kept").fetch_one(&mut conn).await?;
    assert_eq!(v, 42);
    Ok(())
}
