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
//!
//! Whichever the route, a read that a hot standby cancels for a recovery conflict runs once
//! more, provided it has handed nothing on yet ([`super::recovery_conflict`]); and
//! [`ReadPool::snapshot`] gives a pool whose reads share one transaction, for a request that
//! must read one state throughout ([`super::snapshot`]).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{Either, Execute, Executor, PgPool, Postgres};

use super::StoreError;
use super::recovery_conflict::{ConflictCounter, Replayable, is_recovery_conflict};
use super::snapshot::{Pinned, Snapshot};

/// The API's connections: the pool its reads run on and the one its change-notice listener
/// takes a connection from. `&ReadPool` runs statements like `&PgPool` does, and runs a read
/// a standby cancelled for a recovery conflict once more (docs/adr/0019).
#[derive(Debug, Clone)]
pub struct ReadPool {
    reads: PgPool,
    /// The statements that open each read's transaction behind a transaction pooler; `None`
    /// when the reads reach PostgreSQL directly.
    pooler: Option<PoolerBegin>,
    /// Where to `LISTEN`; `None` when no direct connection was given behind a transaction
    /// pooler (the live hub then follows the index by polling alone).
    notices: Option<PgPool>,
    /// The transaction every read goes to instead, for a pool made by [`ReadPool::snapshot`].
    pinned: Option<Arc<Pinned>>,
    /// Shared by every clone: what was done about recovery conflicts.
    conflicts: Arc<ConflictCounter>,
}

/// How a read's transaction begins behind a transaction pooler, with the API's per-connection
/// settings made per-transaction.
#[derive(Debug, Clone)]
struct PoolerBegin {
    /// A single read's.
    read: String,
    /// A request's snapshot's.
    snapshot: String,
}

impl ReadPool {
    /// Reads and notices on one pool that reaches PostgreSQL directly (or through a pooler in
    /// session mode, which keeps a server connection per client connection).
    pub fn direct(pool: PgPool) -> ReadPool {
        ReadPool {
            notices: Some(pool.clone()),
            reads: pool,
            pooler: None,
            pinned: None,
            conflicts: Arc::default(),
        }
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
        let pooler = PoolerBegin {
            read: begin_statement(READ, statement_timeout),
            snapshot: begin_statement(SNAPSHOT, statement_timeout),
        };
        ReadPool { reads, pooler: Some(pooler), notices, pinned: None, conflicts: Arc::default() }
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

    /// What was done about reads cancelled by recovery conflicts, by this pool and its clones.
    pub fn conflicts(&self) -> &ConflictCounter {
        &self.conflicts
    }

    /// Opens a snapshot for one request: a `REPEATABLE READ READ ONLY` transaction on one
    /// connection, which the reads of the returned pool (and its clones) share until
    /// [`Snapshot::finish`], so that they all see the same state.
    ///
    /// # Errors
    /// [`StoreError::Database`] when no connection can be had or the transaction not begun.
    pub async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let (begin, unnamed) = match &self.pooler {
            None => (SNAPSHOT.to_owned(), false),
            Some(pooler) => (pooler.snapshot.clone(), true),
        };
        let pinned = Arc::new(Pinned::begin(&self.reads, begin, unnamed).await?);
        let pool = ReadPool { pinned: Some(Arc::clone(&pinned)), ..self.clone() };
        Ok(Snapshot::new(pool, pinned))
    }

    /// Runs `query` inside its own read-only transaction, as an unnamed statement, and
    /// collects what it returns: the server connection a pooler lends is ours until `COMMIT`.
    async fn in_transaction(
        &self,
        begin: &str,
        query: Replayable<'_>,
    ) -> Result<Vec<Either<PgQueryResult, PgRow>>, sqlx::Error> {
        let mut transaction = self.reads.begin_with(begin.to_owned()).await?;
        let results = (&mut *transaction).fetch_many(query.unnamed()).try_collect().await?;
        transaction.commit().await?;
        Ok(results)
    }

    /// [`ReadPool::in_transaction`], once more if a recovery conflict cancelled it (nothing
    /// was handed on: the rows are collected first).
    async fn in_transaction_retried(
        &self,
        begin: &str,
        query: Replayable<'_>,
    ) -> Result<Vec<Either<PgQueryResult, PgRow>>, sqlx::Error> {
        match self.in_transaction(begin, query.attempt()).await {
            Err(error) if is_recovery_conflict(&error) => {
                self.retrying(&error);
                self.gave_up_if_conflict(self.in_transaction(begin, query).await)
            }
            results => results,
        }
    }

    /// Counts and logs a read about to run again after `error`.
    fn retrying(&self, error: &sqlx::Error) {
        self.conflicts.count_retry();
        tracing::info!(%error, "a recovery conflict cancelled a read on the standby; running it again");
    }

    /// Counts `result` as a conflict passed on, if it is one.
    fn gave_up_if_conflict<T>(&self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let Err(error) = &result
            && is_recovery_conflict(error)
        {
            self.conflicts.count_give_up();
        }
        result
    }

    /// A read straight from the pool, streamed, run once more if a recovery conflict cancels
    /// it before it has handed on anything.
    fn stream_retried<'e, 'q: 'e>(
        &'e self,
        query: Replayable<'q>,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>> {
        let first = self.reads.fetch_many(query.attempt());
        let state = Streaming { rows: first, retry: Some(query), handed_on: false };
        stream::unfold(state, move |mut state| async move {
            loop {
                let item = state.rows.next().await?;
                match item {
                    Err(error) if !state.handed_on && is_recovery_conflict(&error) => {
                        if let Some(retry) = state.retry.take() {
                            self.retrying(&error);
                            state.rows = self.reads.fetch_many(retry);
                            continue;
                        }
                        self.conflicts.count_give_up();
                        return Some((Err(error), state));
                    }
                    item => {
                        let item = self.gave_up_if_conflict(item);
                        state.handed_on = true;
                        return Some((item, state));
                    }
                }
            }
        })
        .boxed()
    }
}

/// A streamed read in progress.
struct Streaming<'e, 'q> {
    rows: BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>,
    /// The statement, for the one retry it may have.
    retry: Option<Replayable<'q>>,
    /// Something was handed on: from then on a retry could repeat it.
    handed_on: bool,
}

impl From<PgPool> for ReadPool {
    fn from(pool: PgPool) -> ReadPool {
        ReadPool::direct(pool)
    }
}

/// How a single read's transaction begins.
const READ: &str = "BEGIN READ ONLY";
/// How a request's snapshot begins (also on a hot standby, which refuses only `SERIALIZABLE`).
const SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// `begin` with the API's per-connection settings made per-transaction, in one simple-query
/// round trip.
fn begin_statement(begin: &str, statement_timeout: Duration) -> String {
    format!("{begin}; SET LOCAL statement_timeout = {}", statement_timeout.as_millis())
}

/// Collected results, streamed.
fn collected<'e>(
    results: impl std::future::Future<Output = Result<Vec<Either<PgQueryResult, PgRow>>, sqlx::Error>> + Send + 'e,
) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>> {
    stream::once(results)
        .flat_map(|results| match results {
            Ok(results) => stream::iter(results.into_iter().map(Ok)).left_stream(),
            Err(error) => stream::once(async { Err(error) }).right_stream(),
        })
        .boxed()
}

/// The first row of collected results.
fn first_row(results: Vec<Either<PgQueryResult, PgRow>>) -> Option<PgRow> {
    results.into_iter().find_map(|result| match result {
        Either::Right(row) => Some(row),
        Either::Left(_) => None,
    })
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
        let query = match Replayable::new(query) {
            Ok(query) => query,
            Err(error) => return stream::once(async { Err(error) }).boxed(),
        };
        match (&self.pinned, &self.pooler) {
            // Collected before it is streamed: the connection is shared by the request's
            // reads, and the API reads bounded pages anyway.
            (Some(pinned), _) => collected(pinned.run(query)),
            (None, None) => self.stream_retried(query),
            // Collected before it is streamed: the transaction must end before the
            // connection goes back.
            (None, Some(pooler)) => collected(self.in_transaction_retried(&pooler.read, query)),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        Box::pin(async move {
            let query = Replayable::new(query)?;
            match (&self.pinned, &self.pooler) {
                (Some(pinned), _) => Ok(first_row(pinned.run(query).await?)),
                (None, None) => match self.reads.fetch_optional(query.attempt()).await {
                    Err(error) if is_recovery_conflict(&error) => {
                        self.retrying(&error);
                        self.gave_up_if_conflict(self.reads.fetch_optional(query).await)
                    }
                    row => row,
                },
                (None, Some(pooler)) => {
                    Ok(first_row(self.in_transaction_retried(&pooler.read, query).await?))
                }
            }
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        match &self.pooler {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_begin_statements_carry_the_timeout_in_milliseconds() {
        assert_eq!(
            begin_statement(READ, Duration::from_millis(2500)),
            "BEGIN READ ONLY; SET LOCAL statement_timeout = 2500"
        );
        assert_eq!(
            begin_statement(SNAPSHOT, Duration::from_millis(2500)),
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = 2500"
        );
    }
}
