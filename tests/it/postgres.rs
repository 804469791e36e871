//! The PostgreSQL the tests and `jobboard dev` run (`jobboard::local::postgres`): databases
//! cloned per test are independent, a cluster keeps its data across restarts, and only its
//! password opens it.

use std::os::unix::fs::PermissionsExt;

use anyhow::{Context, Result};
use jobboard::local::cluster_home::remove_cluster;
use jobboard::local::postgres::{EmbeddedPostgres, PostgresOptions};
use sqlx::{Connection, PgConnection};

use crate::support::db::test_database;

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
