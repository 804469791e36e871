//! The database connections the commands open (the API's pool, `migrate`'s one connection),
//! and what to tell the operator when they cannot.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tracing::info;

use super::AppError;
use crate::cli::{ApiArgs, DatabaseArgs, Pooler, ServeArgs};
use crate::store::{MIGRATOR, ReadPool};

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

/// `serve`'s connections, connecting on first use: the API's pool as `--db-pooler` needs it,
/// and the one connection the change-notice listener takes from `--listen-database-url`
/// (docs/adr/0018-connection-poolers.md).
///
/// # Errors
/// [`AppError::DatabaseUrl`] when a URL does not parse.
pub(super) fn serve_pool_lazy(args: &ServeArgs) -> Result<ReadPool, AppError> {
    let database_url = &args.database.database_url;
    let notices = args.pooler.listen_database_url.as_deref().map(listen_pool_lazy).transpose()?;
    Ok(match (args.pooler.db_pooler, notices) {
        (Pooler::None, None) => ReadPool::direct(api_pool_lazy(database_url, &args.api)?),
        (Pooler::None, Some(notices)) => {
            ReadPool::direct(api_pool_lazy(database_url, &args.api)?).with_notices(notices)
        }
        (Pooler::Transaction, notices) => {
            let options: PgConnectOptions = database_url.parse().map_err(AppError::DatabaseUrl)?;
            // No startup options (pgbouncer refuses parameters it does not track: `options`,
            // `extra_float_digits`): the statement timeout is SET LOCAL in each read's
            // transaction instead. No statement cache: nothing prepared outlives a transaction.
            let options = options.extra_float_digits(None).statement_cache_capacity(0);
            let reads = api_pool_options(&args.api).connect_lazy_with(options);
            ReadPool::behind_transaction_pooler(reads, args.api.statement_timeout, notices)
        }
    })
}

/// One connection for `LISTEN`, named in `pg_stat_activity` so an operator can tell it from
/// the reads.
fn listen_pool_lazy(database_url: &str) -> Result<PgPool, AppError> {
    let options: PgConnectOptions = database_url.parse().map_err(AppError::DatabaseUrl)?;
    Ok(PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options.application_name(LISTENER_NAME)))
}

/// The `application_name` of `serve`'s change-notice connection.
pub const LISTENER_NAME: &str = "jobboard-listen";

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
