//! The database connections the commands open (the API's pool, `migrate`'s one connection),
//! and what to tell the operator when they cannot.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tracing::info;

use super::AppError;
use crate::cli::{ApiArgs, DatabaseArgs};
use crate::store::MIGRATOR;

/// `jobboard migrate`: applies the migrations over one connection.
///
/// # Errors
/// [`AppError::Database`] when the database cannot be reached, [`AppError::Migrate`] when a
/// migration fails.
pub async fn migrate(args: &DatabaseArgs) -> Result<(), AppError> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&args.database_url)
        .await
        .map_err(|source| AppError::Database { hint: unreachable_database(&args.database_url), source })?;
    MIGRATOR.run(&pool).await.map_err(AppError::Migrate)?;
    info!("database schema is up to date");
    Ok(())
}

/// The API's connection pool (statement timeout on every connection), connecting on first use:
/// `run` and `serve` answer (and say on `/readyz` why they are not ready) while the database is
/// away.
///
/// # Errors
/// [`AppError::DatabaseUrl`] when `database_url` does not parse.
pub(super) fn api_pool_lazy(database_url: &str, api: &ApiArgs) -> Result<PgPool, AppError> {
    Ok(api_pool_options(api).connect_lazy_with(api_connect_options(database_url, api)?))
}

fn api_connect_options(database_url: &str, api: &ApiArgs) -> Result<PgConnectOptions, AppError> {
    let options: PgConnectOptions = database_url.parse().map_err(AppError::DatabaseUrl)?;
    let timeout_ms = api.statement_timeout.as_millis().to_string();
    // Generic plans: the API's statements are a few fixed shapes over matching indexes, and
    // planning them anew for each request's parameters cost more PostgreSQL CPU than running
    // them (0.1 ms to bind vs 0.06 ms to execute a page of applications, measured).
    Ok(options
        .options([("statement_timeout", timeout_ms.as_str()), ("plan_cache_mode", "force_generic_plan")]))
}

fn api_pool_options(api: &ApiArgs) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(api.db_connections)
        .min_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        // No ping before each statement (a round trip per read): a connection that broke
        // fails its statement, which is reported and the connection dropped from the pool.
        .test_before_acquire(false)
}

/// What to check when the database at `database_url` cannot be used: where we looked (never
/// the password) and what to check.
pub fn unreachable_database(database_url: &str) -> String {
    let target = url::Url::parse(database_url).ok().map_or_else(
        || "?".to_owned(),
        |url| format!("{}:{}", url.host_str().unwrap_or("localhost"), url.port().unwrap_or(5432)),
    );
    format!(
        "cannot use the database at {target} given by --database-url: is PostgreSQL running there, and are \
         the user, password and database name right? (`make dev` runs a local one)"
    )
}
