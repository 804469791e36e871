//! Each board's status as its indexer reports it (SYNCING, LIVE, STALLED, ERROR, with the last
//! error), for `/readyz` and the API's per-board `_meta`.
//!
//! Unlike every other write, a status is not written through the board's [`super::Writer`]: the
//! indexer must be able to say "ERROR: the node is down" while it holds no lock (or no session
//! at all), and saying it must never wait on a batch. So it goes over a [`StatusWriter`], a
//! small pool of its own, into `board_status`, a table no batch touches (migration 0007). The
//! indexed block and the head stay in `indexer_state`, which [`board_statuses`] joins.

use std::time::Duration;

use alloy::primitives::B256;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::decode::{address_from, b256_from, board_state_from, u64_from};
use super::{Board, SessionOptions, StoreError};

/// What a board's indexer is doing, as `board_status.status` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoardState {
    /// Backfilling, or catching up with the head.
    Syncing,
    /// Within a few blocks of the node's head.
    Live,
    /// The node answers but the index cannot advance (it lags behind the checkpoint, or its
    /// answers are incomplete).
    Stalled,
    /// The node cannot be reached, or the board stopped on an error an operator must fix.
    Error,
}

impl BoardState {
    /// The stored (and shown) name: `SYNCING`, `LIVE`, `STALLED`, `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            BoardState::Syncing => "SYNCING",
            BoardState::Live => "LIVE",
            BoardState::Stalled => "STALLED",
            BoardState::Error => "ERROR",
        }
    }

    /// The state stored as `name`, if it is one.
    pub fn from_name(name: &str) -> Option<BoardState> {
        [BoardState::Syncing, BoardState::Live, BoardState::Stalled, BoardState::Error]
            .into_iter()
            .find(|state| state.as_str() == name)
    }
}

impl std::fmt::Display for BoardState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One status report of a board, as the indexer hands it to [`StatusWriter::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardReport {
    /// The board.
    pub board: Board,
    /// Its configured name (`[[board]] name`, or the chain id for a board given by flags).
    pub name: String,
    /// What it is doing.
    pub state: BoardState,
    /// The failure behind a STALLED or ERROR state; `None` keeps the stored last error.
    pub error: Option<String>,
}

/// A board's status row, joined with where its index stands: what the API's `_meta` list and
/// `/readyz` show per board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardStatus {
    /// The board.
    pub board: Board,
    /// Its configured name.
    pub name: String,
    /// What it is doing, as last reported.
    pub state: BoardState,
    /// The last failure reported (kept after the board recovers).
    pub last_error: Option<String>,
    /// When that failure was last reported.
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the status was last reported.
    pub updated_at: DateTime<Utc>,
    /// The last fully indexed block and its hash; `None` before the first batch (or before
    /// the board was registered).
    pub indexed: Option<(u64, B256)>,
    /// The node's head as the indexer last saw it.
    pub head_block: Option<u64>,
}

/// Writes board statuses over a small pool of its own, never over a writer's locked session:
/// see the module's documentation.
#[derive(Debug, Clone)]
pub struct StatusWriter {
    pool: PgPool,
}

/// Connections of the status pool: one per process is enough (a write is one statement,
/// written only when a status changes or its heartbeat is due); two so one stuck connection
/// does not hold up the others' reports.
const STATUS_CONNECTIONS: u32 = 2;

impl StatusWriter {
    /// A writer that connects on first use, with `options` (the writer's own), giving up on a
    /// connection after `timeout`: the database may well be away when the first status is due.
    pub fn connect_lazy(options: &SessionOptions, timeout: Duration) -> StatusWriter {
        let pool = PgPoolOptions::new()
            .max_connections(STATUS_CONNECTIONS)
            .acquire_timeout(timeout)
            .connect_lazy_with(options.clone().application_name("jobboard-indexer-status"));
        StatusWriter { pool }
    }

    /// Records `report` as the board's status now; an error in it becomes the last error,
    /// seen now.
    ///
    /// # Errors
    /// [`StoreError::Database`] if the statement fails (the caller tries again later),
    /// [`StoreError::OutOfRange`] for a chain id beyond `BIGINT`.
    pub async fn record(&self, report: &BoardReport) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO board_status AS s (chain_id, contract, name, status, last_error, last_error_at) \
             VALUES ($1, $2, $3, $4, $5, CASE WHEN $5::text IS NULL THEN NULL ELSE now() END) \
             ON CONFLICT (chain_id, contract) DO UPDATE SET \
                 name = EXCLUDED.name, status = EXCLUDED.status, updated_at = now(), \
                 last_error = COALESCE(EXCLUDED.last_error, s.last_error), \
                 last_error_at = COALESCE(EXCLUDED.last_error_at, s.last_error_at)",
        )
        .bind(report.board.chain_id_sql()?)
        .bind(report.board.contract.to_vec())
        .bind(&report.name)
        .bind(report.state.as_str())
        .bind(report.error.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

type StatusRow = (
    i64,
    Vec<u8>,
    String,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    Option<i64>,
    Option<Vec<u8>>,
    Option<i64>,
);

/// Every board's status, by chain id and contract, with where its index stands.
///
/// # Errors
/// [`StoreError::Database`] on a failed query, [`StoreError::BadValue`] on a malformed row.
pub async fn board_statuses<'e>(executor: impl sqlx::PgExecutor<'e>) -> Result<Vec<BoardStatus>, StoreError> {
    let rows: Vec<StatusRow> = sqlx::query_as(
        "SELECT s.chain_id, s.contract, s.name, s.status, s.last_error, s.last_error_at, s.updated_at, \
                i.block_number, i.block_hash, i.head_block \
         FROM board_status s LEFT JOIN indexer_state i USING (chain_id, contract) \
         ORDER BY s.chain_id, s.contract",
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(status_from_row).collect()
}

fn status_from_row(row: StatusRow) -> Result<BoardStatus, StoreError> {
    let (chain_id, contract, name, state, last_error, last_error_at, updated_at, number, hash, head) = row;
    let indexed = match (number, hash) {
        (Some(number), Some(hash)) => Some((
            u64_from(number, "indexer_state.block_number")?,
            b256_from(&hash, "indexer_state.block_hash")?,
        )),
        _ => None,
    };
    Ok(BoardStatus {
        board: Board {
            chain_id: u64_from(chain_id, "board_status.chain_id")?,
            contract: address_from(&contract, "board_status.contract")?,
        },
        name,
        state: board_state_from(&state, "board_status.status")?,
        last_error,
        last_error_at,
        updated_at,
        indexed,
        head_block: head.map(|h| u64_from(h, "indexer_state.head_block")).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_stored_name() {
        for state in [BoardState::Syncing, BoardState::Live, BoardState::Stalled, BoardState::Error] {
            assert_eq!(BoardState::from_name(state.as_str()), Some(state));
        }
        assert_eq!(BoardState::from_name("live"), None);
    }
}
