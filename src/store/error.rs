//! Errors from the store, each knowing whether trying again can help.

use std::time::Duration;

use super::decode::BadValue;
use crate::contract::LogError;

/// A failure reading or writing the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement, or the connection broke.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value does not fit the column it goes to.
    #[error("{what} {value} is out of range for the database")]
    OutOfRange {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: u64,
    },
    /// The checkpoint is not where this writer left it: another writer moved it, or the
    /// batch does not continue from it.
    #[error("checkpoint conflict: expected the last indexed block to be {expected:?}, found {found:?}")]
    CheckpointConflict {
        /// Where the writer believed the checkpoint was.
        expected: Option<u64>,
        /// Where it is.
        found: Option<u64>,
    },
    /// The board was registered with different settings.
    #[error("board {contract} on chain {chain_id} is already indexed from block {existing}, not {requested}")]
    StartBlockMismatch {
        /// The chain.
        chain_id: u64,
        /// The contract.
        contract: String,
        /// The start block in the database.
        existing: u64,
        /// The start block requested now.
        requested: u64,
    },
    /// A stored event no longer decodes (the database was edited by hand, or a bug).
    #[error("stored event does not decode: {0}")]
    StoredEvent(#[from] LogError),
    /// A stored value does not convert to its domain type (a negative id, an address that is
    /// not 20 bytes, a status byte out of range): the database was edited by hand, or a bug.
    #[error("bad value in the database: {0}")]
    BadValue(#[from] BadValue),
    /// Stored data violates an invariant the store relies on.
    #[error("corrupt data in the database: {0}")]
    Corrupt(String),
    /// The writer's session no longer holds the board's writer lock: another process may be
    /// writing, so this one must not until it has taken the lock again.
    #[error("this session no longer holds the writer lock")]
    LockLost,
    /// The database did not answer in time: the connection may be dead without the client
    /// knowing (a network partition), so it is dropped and a new one made.
    #[error("the database did not answer within {after:?} while {what}")]
    Timeout {
        /// What was being done.
        what: &'static str,
        /// How long we waited.
        after: Duration,
    },
}

/// A row that fails to decode because of a [`BadValue`] reports it as such, not as a database
/// error, so the operator reads the column and the value.
impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Decode(source) => match source.downcast::<BadValue>() {
                Ok(bad) => StoreError::BadValue(*bad),
                Err(source) => StoreError::Database(sqlx::Error::Decode(source)),
            },
            error => StoreError::Database(error),
        }
    }
}

impl StoreError {
    /// Whether trying again (on a new connection, after a pause) can help: connection and I/O
    /// failures, a server shutting down or starting up, serialization failures and deadlocks,
    /// a lost lock, a moved checkpoint or a timeout can; constraint violations, bad data and bugs cannot.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(error) => sqlx_is_transient(error),
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(error)) => sqlx_is_transient(error),
            // Another writer moved the checkpoint (this one lost its lock unnoticed): the
            // stored checkpoint is the truth, and a writer that reloads it continues exactly.
            StoreError::LockLost | StoreError::Timeout { .. } | StoreError::CheckpointConflict { .. } => true,
            StoreError::Migrate(_)
            | StoreError::OutOfRange { .. }
            | StoreError::StartBlockMismatch { .. }
            | StoreError::StoredEvent(_)
            | StoreError::BadValue(_)
            | StoreError::Corrupt(_) => false,
        }
    }

    /// Whether the statement failed because the schema is not there yet (SQLSTATE 42P01,
    /// undefined table): the database has not been migrated, i.e. nothing is indexed yet.
    pub fn is_schema_missing(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P01"))
    }

    /// Whether a hot standby cancelled the read to replay the primary's changes (a recovery
    /// conflict, see [`super::recovery_conflict`]): the same read on a new snapshot can
    /// succeed.
    pub fn is_recovery_conflict(&self) -> bool {
        matches!(self, StoreError::Database(error) if super::recovery_conflict::is_recovery_conflict(error))
    }

    /// The opposite of [`StoreError::is_transient`]: the same input fails the same way again,
    /// so retrying only hides it; the indexer stops with the message instead.
    pub fn is_deterministic(&self) -> bool {
        !self.is_transient()
    }
}

/// SQLSTATE classes and codes that say "the server or the connection, not the statement":
/// class 08 connection exception, 53 insufficient resources (e.g. too many connections),
/// 57P01–57P05 admin/crash shutdown, cannot connect now (starting up), idle timeouts,
/// 58 system error; 40001 serialization failure, 40P01 deadlock, 55P03 lock not available,
/// 57014 query canceled (a statement timeout under load), 25006 read-only transaction (a
/// managed database failing over to a promoted replica).
fn sqlstate_is_transient(code: &str) -> bool {
    const CODES: [&str; 6] = ["40001", "40P01", "55P03", "57014", "25006", "57P05"];
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("58")
        || code.starts_with("57P0")
        || CODES.contains(&code)
}

/// Whether a sqlx error is about the connection or the server's state rather than the
/// statement: the one place this is decided.
fn sqlx_is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_)
        // A reply cut off mid-message by a dying connection.
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| sqlstate_is_transient(&code)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_and_server_state_codes_are_transient_statement_errors_are_not() {
        for code in ["08006", "08001", "57P01", "57P03", "53300", "40001", "40P01", "57014", "25006"] {
            assert!(sqlstate_is_transient(code), "{code}");
        }
        // unique violation, check violation, undefined table, numeric out of range, syntax.
        for code in ["23505", "23514", "42P01", "22003", "42601", "XX000"] {
            assert!(!sqlstate_is_transient(code), "{code}");
        }
    }

    #[test]
    fn io_lost_locks_and_timeouts_are_transient_bad_data_is_deterministic() {
        let io = StoreError::Database(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()));
        assert!(io.is_transient());
        assert!(StoreError::LockLost.is_transient());
        assert!(StoreError::Timeout { what: "writing", after: Duration::from_secs(1) }.is_transient());
        assert!(StoreError::Database(sqlx::Error::RowNotFound).is_deterministic());
        assert!(StoreError::OutOfRange { what: "deadline", value: u64::MAX }.is_deterministic());
        assert!(StoreError::Corrupt("x".into()).is_deterministic());
        assert!(StoreError::CheckpointConflict { expected: Some(1), found: Some(2) }.is_transient());
    }
}
