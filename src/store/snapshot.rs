//! One request's reads in one snapshot: a `REPEATABLE READ READ ONLY` transaction on one
//! connection of the API's pool, held until the request is answered, so that every statement
//! sees the database as the first one did (`_meta.block` is then the block the data is at).
//!
//! The statements of a request run concurrently (fields of one level resolve together, and the
//! batching loaders run on their own tasks); on the one connection they take turns. A hot
//! standby allows `REPEATABLE READ` (not `SERIALIZABLE`). Behind a connection pooler in
//! transaction mode the snapshot is one pooler transaction, opened with the same
//! `SET LOCAL statement_timeout` as every other read there, its statements unnamed.
//!
//! A recovery conflict (see [`super::recovery_conflict`]) that cancels one statement ends the
//! snapshot: the transaction is aborted, or its session terminated. The reads after it fail at
//! once with the same conflict, and [`Snapshot::finish`] says so, so that the caller can run the
//! whole request again in a new snapshot.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::postgres::{PgQueryResult, PgRow};
use sqlx::{Either, Executor, PgPool, Postgres, Transaction};
use tokio::sync::Mutex;

use super::recovery_conflict::{Replayable, SnapshotLost, is_recovery_conflict};

/// The transaction a request's reads share, behind the [`super::ReadPool`] that routes them
/// to it.
#[derive(Debug)]
pub(super) struct Pinned {
    /// `None` once the request has finished with it.
    transaction: Mutex<Option<Transaction<'static, Postgres>>>,
    /// A recovery conflict cancelled one of its statements: the snapshot is lost.
    lost: AtomicBool,
    /// Run statements unnamed (behind a transaction pooler: nothing may outlive the
    /// transaction on the server connection it was lent).
    unnamed: bool,
}

impl Pinned {
    /// Opens the transaction on a connection from `pool` with `begin`.
    pub(super) async fn begin(pool: &PgPool, begin: String, unnamed: bool) -> Result<Pinned, sqlx::Error> {
        let transaction = pool.begin_with(begin).await?;
        Ok(Pinned { transaction: Mutex::new(Some(transaction)), lost: AtomicBool::new(false), unnamed })
    }

    /// Runs `query` in the transaction, waiting for the statement before it to finish, and
    /// collects what it returns.
    pub(super) async fn run(
        &self,
        query: Replayable<'_>,
    ) -> Result<Vec<Either<PgQueryResult, PgRow>>, sqlx::Error> {
        use futures::TryStreamExt;

        if self.lost.load(Ordering::Acquire) {
            return Err(sqlx::Error::Database(Box::new(SnapshotLost)));
        }
        let query = if self.unnamed { query.unnamed() } else { query };
        let mut transaction = self.transaction.lock().await;
        let Some(transaction) = transaction.as_mut() else {
            return Err(sqlx::Error::Configuration(
                "a read after its request's snapshot was finished".into(),
            ));
        };
        let results = (&mut **transaction).fetch_many(query).try_collect().await;
        if let Err(error) = &results
            && is_recovery_conflict(error)
        {
            self.lost.store(true, Ordering::Release);
        }
        results
    }

    /// Ends the transaction (a read-only one: committing only releases it) and says whether
    /// the snapshot held to the end.
    async fn finish(&self) -> SnapshotOutcome {
        let transaction = self.transaction.lock().await.take();
        if self.lost.load(Ordering::Acquire) {
            // Dropped: sqlx rolls it back before the connection is used again, and a
            // connection the standby terminated is discarded when it goes back to the pool.
            return SnapshotOutcome::Lost;
        }
        if let Some(transaction) = transaction
            && let Err(error) = transaction.commit().await
        {
            // Every read already had its answer from the snapshot; only releasing it failed
            // (a session the standby ended after the last read, say).
            tracing::debug!(%error, "ending a request's snapshot failed after its reads");
        }
        SnapshotOutcome::Held
    }
}

/// A request's snapshot, open: its reads go through [`Snapshot::pool`].
#[derive(Debug)]
pub struct Snapshot {
    pool: super::ReadPool,
    pinned: Arc<Pinned>,
}

/// How a request's snapshot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// Every read ran in it: the answer is consistent.
    Held,
    /// A recovery conflict cancelled a read, and the reads after it failed: running the
    /// request again, in a new snapshot, can answer it.
    Lost,
}

impl Snapshot {
    pub(super) fn new(pool: super::ReadPool, pinned: Arc<Pinned>) -> Snapshot {
        Snapshot { pool, pinned }
    }

    /// The pool whose reads run in this snapshot (a clone reads in it too).
    pub fn pool(&self) -> &super::ReadPool {
        &self.pool
    }

    /// Ends the snapshot once the request's reads are done.
    pub async fn finish(self) -> SnapshotOutcome {
        self.pinned.finish().await
    }
}
