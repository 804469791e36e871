//! PostgreSQL for the tests: one throwaway cluster per test binary, and a fresh migrated
//! database per test, cloned from a template (fast, and tests run in parallel).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
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

/// A primary cluster of its own with a migrated database `jobboard`, and a hot standby
/// streaming from it (`pg_basebackup -R`): the replication the scale-out tests read from. Both
/// are ephemeral; they stop when dropped (or when this process exits).
pub struct ReplicatedPair {
    /// The primary, which the indexer writes to (through `database`).
    #[expect(dead_code, reason = "held so that the primary runs as long as the pair")]
    primary: EmbeddedPostgres,
    /// The standby, read-only, replaying the primary's WAL.
    pub standby: EmbeddedPostgres,
    /// The primary's `jobboard` database.
    pub database: TestDatabase,
}

impl ReplicatedPair {
    /// Starts both; the standby is made after the database is migrated (and so holds it).
    pub async fn start() -> Result<ReplicatedPair> {
        let dir = tempfile::Builder::new().prefix("jobboard-test-replica").tempdir()?.keep();
        let mut options = PostgresOptions::new(dir.join("primary"));
        options.ephemeral = true;
        options.max_connections = 100;
        let primary = EmbeddedPostgres::start(options).await?;
        let mut admin = PgConnection::connect(&primary.url("postgres")).await?;
        sqlx::query("CREATE DATABASE jobboard").execute(&mut admin).await?;
        admin.close().await?;
        let url = primary.url("jobboard");
        let pool = PgPoolOptions::new().max_connections(4).connect(&url).await?;
        jobboard::store::MIGRATOR.run(&pool).await.context("migrating the primary")?;
        let mut options = PostgresOptions::new(dir.join("standby"));
        options.ephemeral = true;
        options.max_connections = 100;
        let standby = EmbeddedPostgres::start_standby(&primary, options).await?;
        Ok(ReplicatedPair { primary, standby, database: TestDatabase { url, pool } })
    }

    /// The standby's URL of the `jobboard` database.
    pub fn standby_url(&self) -> String {
        self.standby.url("jobboard")
    }

    /// Returns once the standby has replayed everything the primary wrote so far. The test
    /// clusters commit asynchronously, and WAL no commit follows (a lock an open transaction
    /// took) may wait in the primary's buffers: a commit that waits for its flush goes first.
    pub async fn wait_for_replay(&self) -> Result<()> {
        let mut primary = PgConnection::connect(&self.database.url).await?;
        sqlx::raw_sql("BEGIN; SET LOCAL synchronous_commit = on; SELECT pg_current_xact_id(); COMMIT")
            .execute(&mut primary)
            .await?;
        let written: String =
            sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text").fetch_one(&mut primary).await?;
        primary.close().await?;
        let mut standby = PgConnection::connect(&self.standby_url()).await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let replayed: bool = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
                .bind(&written)
                .fetch_one(&mut standby)
                .await?;
            if replayed {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "the standby has not replayed the primary's WAL to {written} in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
