//! Cluster administration for the local stack (`jobboard dev`, the test harness): which data
//! directory a server serves, and creating or dropping a database. Kept here so that `store`
//! stays the only module that speaks SQL.

use sqlx::{Connection as _, Executor as _, PgConnection};

use super::SessionOptions;

/// The data directory of the server `conn` is connected to, to tell our own server from another
/// one that took its port.
///
/// # Errors
/// [`sqlx::Error`] if the statement fails.
pub async fn data_directory(conn: &mut PgConnection) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT current_setting('data_directory')").fetch_one(conn).await
}

/// What [`create_database`] does with a database of that name that exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfExists {
    /// Drop it, with its sessions, and create it anew.
    Replace,
    /// Keep it: create the database only if it is missing.
    Keep,
}

/// Creates the database `name` on the server `options` reach (connected to another database
/// of it), doing with an existing one what `existing` says; `true` if it was created.
///
/// `name` is written into the statement as an identifier: callers pass a constant, never input.
///
/// # Errors
/// [`sqlx::Error`] if connecting or a statement fails.
pub async fn create_database(
    options: &SessionOptions,
    name: &str,
    existing: IfExists,
) -> Result<bool, sqlx::Error> {
    let mut conn = PgConnection::connect_with(options).await?;
    let create = if existing == IfExists::Replace {
        conn.execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str()).await?;
        true
    } else {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
        !exists
    };
    if create {
        conn.execute(format!("CREATE DATABASE \"{name}\"").as_str()).await?;
    }
    conn.close().await?;
    Ok(create)
}
