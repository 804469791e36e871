//! The only module with SQL: migrations, applying a batch of events atomically, reverting to
//! a fork point, and the reads the indexer and the API need. The indexer writes through a
//! [`Writer`] (the session holding the board's writer lock), the API reads through a
//! [`Reader`]; both hand out domain types.
//!
//! Exactly-once rests on two rules kept here: the checkpoint moves in the same transaction as
//! the rows it covers, and it moves only from the value the writer last saw (a compare-and-set),
//! so a crash leaves all of a batch or none of it, and a second writer can never interleave.

pub mod admin;
mod board_status;
mod copy;
mod decode;
mod error;
pub mod health;
mod ids;
mod load;
pub mod lock;
pub mod notify;
mod project;
mod read;
mod read_pool;
mod recovery_conflict;
mod revert;
mod snapshot;
mod state;
mod write;
mod writer;

use alloy::primitives::Address;
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;

pub use board_status::{BoardReport, BoardState, BoardStatus, StatusWriter, board_statuses};
pub use error::StoreError;
pub use ids::LastIds;
pub use load::RawBatch;
pub use read::{
    ActivityFilter, ActivityRow, ApplicantRow, ApplicationFilter, ApplicationOrder, ApplicationParent,
    ApplicationRow, ApplicationScope, BlockInfo, EmployerRow, IndexStatus, IndexedWindow, JobFilter,
    JobOrder, JobRow, JobStatus, Page, PageRequest, PostingRow, Reader, RevisionRow, Scope, SortKey,
    StatusChangeRow,
};
pub use read_pool::ReadPool;
pub use recovery_conflict::{ConflictCounter, ConflictCounts};
pub use revert::RevertSummary;
pub use snapshot::{Snapshot, SnapshotOutcome};
/// How a writer session connects (see [`lock::session_options`]): the store's name for its
/// driver's connect options, so callers outside `store` need not name the driver.
pub use sqlx::postgres::PgConnectOptions as SessionOptions;
pub use state::{IndexerState, chains_indexing, load_state};
pub use write::Batch;
pub use writer::{Acquired, Projector, Session, Writer};

/// The schema migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Identifies one indexed board: every row is keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Board {
    /// The chain's EIP-155 id.
    pub chain_id: u64,
    /// The board contract's address.
    pub contract: Address,
}

impl Board {
    /// The chain id as stored (`BIGINT`).
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for a chain id above `i64::MAX` (none exists in practice).
    pub fn chain_id_sql(&self) -> Result<i64, StoreError> {
        to_sql_i64(self.chain_id, "chain id")
    }
}

/// Converts a `u64` (block number, id, chain id) to `BIGINT`, failing loudly instead of
/// wrapping: the one place this conversion happens.
pub(crate) fn to_sql_i64(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { what, value })
}

/// Converts a `BIGINT` read back from the database into a `u64` (see [`decode`]).
pub(crate) fn from_sql_i64(value: i64, what: &'static str) -> Result<u64, StoreError> {
    Ok(decode::u64_from(value, what)?)
}

/// Unix seconds to a `TIMESTAMPTZ` value.
pub(crate) fn to_sql_time(unix_seconds: u64) -> Result<DateTime<Utc>, StoreError> {
    i64::try_from(unix_seconds)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .ok_or(StoreError::OutOfRange { what: "timestamp", value: unix_seconds })
}
