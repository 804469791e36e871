//! Errors from the store.

use crate::contract::LogError;

/// A failure reading or writing the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement, or the connection broke.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
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
    /// Stored data violates an invariant the store relies on.
    #[error("corrupt data in the database: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether trying again can help: connection and I/O failures can, and so can
    /// serialization failures and deadlocks; constraint violations and data errors cannot.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(error) => match error {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Tls(_) => true,
                sqlx::Error::Database(db) => {
                    // 40001 serialization_failure, 40P01 deadlock_detected, 57P01 admin_shutdown,
                    // 08xxx connection exceptions.
                    db.code().is_some_and(|code| {
                        code == "40001" || code == "40P01" || code == "57P01" || code.starts_with("08")
                    })
                }
                _ => false,
            },
            _ => false,
        }
    }
}
