//! PostgreSQL for the tests: one throwaway cluster per test binary, and a fresh migrated
//! database per test, cloned from a template (fast, and tests run in parallel).

use std::os::unix::fs::PermissionsExt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};
use jobboard::local::cluster_home::remove_cluster;
use jobboard::local::postgres::{EmbeddedPostgres, PostgresOptions};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Mutex, OnceCell};

/// The cluster, started once. The handle is leaked on purpose (a static is never dropped): its
/// supervisor stops the server when this test process exits, however it exits.
static STARTED: OnceCell<()> = OnceCell::const_new();
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

/// The shared cluster, started on first use.
async fn cluster() -> Result<&'static EmbeddedPostgres> {
    STARTED
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
            let _ = CLUSTER.set(started);
            Ok::<(), anyhow::Error>(())
        })
        .await?;
    CLUSTER.get().context("the cluster was started but not kept")
}

/// A fresh, migrated, empty database.
pub async fn test_database() -> Result<TestDatabase> {
    let cluster = cluster().await?;
    let url = |database: &str| cluster.url(database);
    TEMPLATE
        .get_or_try_init(|| async {
            let mut admin = PgConnection::connect(&url("postgres")).await?;
            sqlx::query("CREATE DATABASE jobboard_template").execute(&mut admin).await?;
            admin.close().await?;
            let pool = PgPoolOptions::new().max_connections(1).connect(&url("jobboard_template")).await?;
            jobboard::store::MIGRATOR.run(&pool).await.context("migrating the template")?;
            pool.close().await;
            Ok::<(), anyhow::Error>(())
        })
        .await?;
    let name = format!("test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    {
        // CREATE DATABASE ... TEMPLATE needs the template to itself: one at a time.
        let _guard = CREATE.lock().await;
        let mut admin = PgConnection::connect(&url("postgres")).await?;
        sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE jobboard_template"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
    }
    let url = url(&name);
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
    conn.close().await?;
    again.stop().await?;
    remove_cluster(&data)?;
    assert!(std::fs::symlink_metadata(&data).is_err(), "{} is left", data.display());
    Ok(())
}

#[tokio::test]
async fn a_cluster_takes_connections_only_with_its_password_kept_private() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let cluster = EmbeddedPostgres::start(PostgresOptions::new(&data)).await?;
    let url = cluster.url("postgres");
    let password = url::Url::parse(&url)?.password().map(str::to_owned).context("no password in the URL")?;
    assert_eq!(password.len(), 64, "a 32-byte random password, hex: {url}");

    let mut conn = PgConnection::connect(&url).await?;
    let method: String =
        sqlx::query_scalar("SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' LIMIT 1")
            .fetch_one(&mut conn)
            .await?;
    assert_eq!(method, "scram-sha-256");
    conn.close().await?;

    let port = cluster.port();
    let without = PgConnection::connect(&format!("postgres://postgres@127.0.0.1:{port}/postgres")).await;
    let error = without.err().context("a connection without the password must be refused")?;
    assert!(error.to_string().contains("password"), "{error}");
    let wrong =
        PgConnection::connect(&format!("postgres://postgres:{}@127.0.0.1:{port}/postgres", "0".repeat(64)))
            .await;
    let error = wrong.err().context("a wrong password must be refused")?;
    assert!(error.to_string().contains("password authentication failed"), "{error}");

    // The password file and the cluster directory are the server user's alone.
    let home = std::fs::canonicalize(&data)?;
    let mode =
        |path: &std::path::Path| -> Result<u32> { Ok(std::fs::metadata(path)?.permissions().mode() & 0o777) };
    assert_eq!(mode(&home)?, 0o700, "{}", home.display());
    assert_eq!(mode(&home.join("password"))?, 0o600);
    assert_eq!(std::fs::read_to_string(home.join("password"))?.trim(), password);
    cluster.stop().await?;
    remove_cluster(&data)?;
    Ok(())
}
