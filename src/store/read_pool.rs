//! How the API's reads reach PostgreSQL: straight from its own pool, or through a connection
//! pooler in transaction mode (pgbouncer's `pool_mode = transaction`), and where it listens for
//! the writer's change notices (docs/adr/0018-connection-poolers.md).
//!
//! A transaction pooler lends a server connection for one transaction and takes it back at the
//! next `ReadyForQuery` outside one. sqlx runs a statement with parameters in two exchanges
//! (Parse + Describe + Sync, then Bind + Execute + Sync), names it `sqlx_s_N` when it may be
//! cached (even with the statement cache off: `statement_cache_capacity(0)` only stops it
//! being kept), and never closes a named statement it did not cache. Behind such a pooler the
//! Bind can land on another server connection than the Parse, and one client's `sqlx_s_1`
//! collides with another's on a shared server connection. So there every read runs inside its
//! own `BEGIN READ ONLY … COMMIT` (the server connection stays with us until `COMMIT`) as an
//! unnamed statement (nothing outlives the transaction), with its settings `SET LOCAL`.

use std::borrow::Cow;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{Either, Execute, Executor, PgPool, Postgres};

/// The API's connections: the pool its reads run on and the one its change-notice listener
/// takes a connection from. `&ReadPool` runs statements like `&PgPool` does.
#[derive(Debug, Clone)]
pub struct ReadPool {
    reads: PgPool,
    /// The statement that opens each read's transaction behind a transaction pooler; `None`
    /// when the reads reach PostgreSQL directly.
    begin: Option<Cow<'static, str>>,
    /// Where to `LISTEN`; `None` when no direct connection was given behind a transaction
    /// pooler (the live hub then follows the index by polling alone).
    notices: Option<PgPool>,
}

impl ReadPool {
    /// Reads and notices on one pool that reaches PostgreSQL directly (or through a pooler in
    /// session mode, which keeps a server connection per client connection).
    pub fn direct(pool: PgPool) -> ReadPool {
        ReadPool { notices: Some(pool.clone()), reads: pool, begin: None }
    }

    /// Reads through a pooler in transaction mode, each in its own read-only transaction with
    /// `statement_timeout` set for it, as an unnamed statement; `notices`, a pool on a direct
    /// connection, for `LISTEN` (a pooler in transaction mode cannot keep one).
    ///
    /// `reads` must send no startup parameter the pooler does not track (pgbouncer refuses
    /// `options` and `extra_float_digits` unless told to ignore them).
    pub fn behind_transaction_pooler(
        reads: PgPool,
        statement_timeout: Duration,
        notices: Option<PgPool>,
    ) -> ReadPool {
        ReadPool { reads, begin: Some(begin_statement(statement_timeout).into()), notices }
    }

    /// The same reads, listening for notices on `notices` instead.
    #[must_use]
    pub fn with_notices(self, notices: PgPool) -> ReadPool {
        ReadPool { notices: Some(notices), ..self }
    }

    /// The pool the change-notice listener connects from; `None` when there is none to use.
    pub fn notices(&self) -> Option<&PgPool> {
        self.notices.as_ref()
    }

    /// Runs `query` inside its own read-only transaction, as an unnamed statement, and
    /// collects what it returns: the server connection a pooler lends is ours until `COMMIT`.
    async fn in_transaction<'q, E>(
        &self,
        begin: Cow<'static, str>,
        query: E,
    ) -> Result<Vec<Either<PgQueryResult, PgRow>>, sqlx::Error>
    where
        E: 'q + Execute<'q, Postgres>,
    {
        let mut transaction = self.reads.begin_with(begin).await?;
        let results = (&mut *transaction).fetch_many(Unnamed(query)).try_collect().await?;
        transaction.commit().await?;
        Ok(results)
    }
}

impl From<PgPool> for ReadPool {
    fn from(pool: PgPool) -> ReadPool {
        ReadPool::direct(pool)
    }
}

/// `BEGIN` with the API's per-connection settings made per-transaction, in one simple-query
/// round trip.
fn begin_statement(statement_timeout: Duration) -> String {
    format!("BEGIN READ ONLY; SET LOCAL statement_timeout = {}", statement_timeout.as_millis())
}

impl<'c> Executor<'c> for &'c ReadPool {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        match &self.begin {
            None => self.reads.fetch_many(query),
            Some(begin) => {
                // Collected before it is streamed: the transaction must end before the
                // connection goes back, and the API reads bounded pages anyway.
                let results = self.in_transaction(begin.clone(), query);
                stream::once(results)
                    .flat_map(|results| match results {
                        Ok(results) => stream::iter(results.into_iter().map(Ok)).left_stream(),
                        Err(error) => stream::once(async { Err(error) }).right_stream(),
                    })
                    .boxed()
            }
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        match &self.begin {
            None => self.reads.fetch_optional(query),
            Some(begin) => {
                let results = self.in_transaction(begin.clone(), query);
                Box::pin(async move {
                    Ok(results.await?.into_iter().find_map(|result| match result {
                        Either::Right(row) => Some(row),
                        Either::Left(_) => None,
                    }))
                })
            }
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        match &self.begin {
            None => self.reads.prepare_with(sql, parameters),
            // A prepared statement outlives the transaction it was made in, which a
            // transaction pooler cannot carry over.
            Some(_) => Box::pin(async {
                Err(sqlx::Error::Configuration(
                    "prepared statements cannot cross a connection pooler in transaction mode".into(),
                ))
            }),
        }
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<sqlx::Describe<Postgres>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.reads.describe(sql)
    }
}

/// A statement run unnamed: sqlx then neither caches it nor leaves it behind on the server.
struct Unnamed<E>(E);

impl<'q, E: Execute<'q, Postgres>> Execute<'q, Postgres> for Unnamed<E> {
    fn sql(&self) -> &'q str {
        self.0.sql()
    }

    fn statement(&self) -> Option<&PgStatement<'q>> {
        self.0.statement()
    }

    fn take_arguments(&mut self) -> Result<Option<PgArguments>, sqlx::error::BoxDynError> {
        self.0.take_arguments()
    }

    fn persistent(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_begin_statement_carries_the_timeout_in_milliseconds() {
        assert_eq!(
            begin_statement(Duration::from_millis(2500)),
            "BEGIN READ ONLY; SET LOCAL statement_timeout = 2500"
        );
    }
}
