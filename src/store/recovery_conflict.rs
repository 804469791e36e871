//! Reads a hot standby cancels to replay the primary's changes (recovery conflicts): how they
//! are recognised, the statement kept so that it can run again, and the count of what the API
//! did about them.
//!
//! A standby that must apply a change a running read still needs (row versions a `VACUUM` on
//! the primary removed, a relation an `ACCESS EXCLUSIVE` lock covers, a buffer the read pins)
//! waits at most `max_standby_streaming_delay` (30 s by default), then cancels the read.
//! PostgreSQL 15 reports every conflict that a later attempt can get past as SQLSTATE 40001
//! (`canceling statement due to conflict with recovery`; the same code, as a FATAL, when it
//! ends a session that sits idle inside a transaction), and a deadlock between a read's buffer
//! pin and the replaying process as 40P01 with the same message. The one conflict no retry
//! gets past, a dropped database (57P04), is not one of them. On the API's reads, which run
//! read only and never `SERIALIZABLE`, and take no lock a writer waits for, 40001 and 40P01
//! mean nothing else.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::{PgArguments, PgStatement};
use sqlx::{Execute, Postgres};

/// The SQLSTATEs of a recovery conflict that a new attempt can get past.
const RETRYABLE_CONFLICTS: [&str; 2] = ["40001", "40P01"];

/// Whether `error` is a read cancelled by a recovery conflict, which the same read on a new
/// snapshot can get past.
pub fn is_recovery_conflict(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| RETRYABLE_CONFLICTS.contains(&code.as_ref()))
        }
        _ => false,
    }
}

/// What the API did about reads the database cancelled for a recovery conflict, counted over
/// the process's life for `/metrics` (`jobboard_api_replica_conflicts_total`).
#[derive(Debug, Default)]
pub struct ConflictCounter {
    retried: AtomicU64,
    gave_up: AtomicU64,
}

/// [`ConflictCounter`]'s counts at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConflictCounts {
    /// Reads run a second time after a conflict: single statements, or a whole request's
    /// snapshot (whose statements cannot be retried one by one).
    pub retried: u64,
    /// Conflicts passed on to the client: the second attempt was cancelled too, or rows had
    /// already been handed on when the first one was.
    pub gave_up: u64,
}

impl ConflictCounter {
    /// Counts a read run again after a conflict.
    pub fn count_retry(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a conflict passed on to the client.
    pub fn count_give_up(&self) {
        self.gave_up.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn counts(&self) -> ConflictCounts {
        ConflictCounts {
            retried: self.retried.load(Ordering::Relaxed),
            gave_up: self.gave_up.load(Ordering::Relaxed),
        }
    }
}

/// A statement taken apart so that it can be run more than once: running a statement consumes
/// its arguments, so each attempt gets a copy.
pub(super) struct Replayable<'q> {
    sql: &'q str,
    statement: Option<PgStatement<'q>>,
    arguments: Option<PgArguments>,
    persistent: bool,
}

impl<'q> Replayable<'q> {
    /// Takes `query` apart.
    ///
    /// # Errors
    /// [`sqlx::Error::Encode`] when an argument does not encode (as running it would give).
    pub(super) fn new<E: Execute<'q, Postgres>>(mut query: E) -> Result<Replayable<'q>, sqlx::Error> {
        let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?;
        Ok(Replayable {
            sql: query.sql(),
            statement: query.statement().cloned(),
            arguments,
            persistent: query.persistent(),
        })
    }

    /// The same statement, run unnamed: sqlx then neither caches it nor leaves it behind on
    /// the server (what a connection pooler in transaction mode needs).
    pub(super) fn unnamed(self) -> Replayable<'q> {
        Replayable { persistent: false, ..self }
    }

    /// One run of the statement, with a copy of the arguments.
    pub(super) fn attempt(&self) -> Replayable<'q> {
        Replayable {
            sql: self.sql,
            statement: self.statement.clone(),
            arguments: self.arguments.clone(),
            persistent: self.persistent,
        }
    }
}

impl<'q> Execute<'q, Postgres> for Replayable<'q> {
    fn sql(&self) -> &'q str {
        self.sql
    }

    fn statement(&self) -> Option<&PgStatement<'q>> {
        self.statement.as_ref()
    }

    fn take_arguments(&mut self) -> Result<Option<PgArguments>, sqlx::error::BoxDynError> {
        Ok(self.arguments.take())
    }

    fn persistent(&self) -> bool {
        self.persistent
    }
}

/// The error of a read in a snapshot that a recovery conflict already ended: the transaction
/// is gone (or aborted), so no later read of the request can see the same state. It carries
/// the conflict's SQLSTATE, 40001, so that it is told to the client as the conflict it is.
#[derive(Debug, thiserror::Error)]
#[error("canceled earlier in this request's snapshot by a conflict with recovery")]
pub(super) struct SnapshotLost;

impl sqlx::error::DatabaseError for SnapshotLost {
    fn message(&self) -> &str {
        "canceled earlier in this request's snapshot by a conflict with recovery"
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(RETRYABLE_CONFLICTS[0].into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        sqlx::error::ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_snapshot_reads_as_the_conflict_that_ended_it() {
        assert!(is_recovery_conflict(&sqlx::Error::Database(Box::new(SnapshotLost))));
        assert!(!is_recovery_conflict(&sqlx::Error::RowNotFound));
        assert!(!is_recovery_conflict(&sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())));
    }

    #[test]
    fn every_attempt_gets_the_arguments() {
        let query = sqlx::query("SELECT $1::int").bind(7_i32);
        let replay = Replayable::new(query).expect("an int encodes");
        for _ in 0..2 {
            let mut attempt = replay.attempt();
            let arguments = attempt.take_arguments().expect("kept").expect("one argument");
            assert_eq!(sqlx::Arguments::len(&arguments), 1);
        }
    }
}
