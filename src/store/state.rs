//! The indexer's own rows: registration, checkpoint, reorg window and status.

use alloy::primitives::B256;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{Board, StoreError, from_sql_i64, to_sql_i64};
use crate::chain::BlockRef;

/// Where indexing of one board stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexerState {
    /// The block indexing started from (the deploy block).
    pub start_block: u64,
    /// The last block whose events are all in the database, with its hash.
    pub checkpoint: Option<(u64, B256)>,
    /// The last block whose raw rows (events, posting revisions) are loaded, with its hash,
    /// when the backfill loaded beyond the checkpoint and has not projected those rows yet
    /// (ADR 0021); `None` otherwise.
    pub loaded: Option<(u64, B256)>,
    /// The newest block treated as final.
    pub finalized_block: Option<u64>,
    /// The node's head as last seen.
    pub head_block: Option<u64>,
    /// Whether backfill reached the finalized block.
    pub backfill_done: bool,
    /// When the state last changed.
    pub updated_at: DateTime<Utc>,
}

/// Registers a board to index from `start_block`, or checks that an existing registration
/// uses the same start block.
///
/// # Errors
/// [`StoreError::StartBlockMismatch`] if the board is registered with another start block.
pub(super) async fn register_board(
    conn: &mut PgConnection,
    board: &Board,
    start_block: u64,
) -> Result<IndexerState, StoreError> {
    sqlx::query(
        "INSERT INTO indexer_state (chain_id, contract, start_block) VALUES ($1, $2, $3) \
         ON CONFLICT (chain_id, contract) DO NOTHING",
    )
    .bind(board.chain_id_sql()?)
    .bind(board.contract.to_vec())
    .bind(to_sql_i64(start_block, "start block")?)
    .execute(&mut *conn)
    .await?;
    let state = load_state(conn, board)
        .await?
        .ok_or_else(|| StoreError::Corrupt("indexer_state row vanished after insert".into()))?;
    if state.start_block != start_block {
        return Err(StoreError::StartBlockMismatch {
            chain_id: board.chain_id,
            contract: board.contract.to_string(),
            existing: state.start_block,
            requested: start_block,
        });
    }
    Ok(state)
}

type WindowRow = (i64, Vec<u8>, Vec<u8>, DateTime<Utc>);
type StateRow = (
    i64,
    Option<i64>,
    Option<Vec<u8>>,
    Option<i64>,
    Option<Vec<u8>>,
    Option<i64>,
    Option<i64>,
    bool,
    DateTime<Utc>,
);

/// Reads the board's indexer state; `None` if it was never registered.
///
/// # Errors
/// [`StoreError::Database`] on a failed query, [`StoreError::Corrupt`] on impossible values.
pub async fn load_state(conn: &mut PgConnection, board: &Board) -> Result<Option<IndexerState>, StoreError> {
    let row: Option<StateRow> = sqlx::query_as(
        "SELECT start_block, block_number, block_hash, loaded_block, loaded_hash, finalized_block, head_block, \
             backfill_done, updated_at \
         FROM indexer_state WHERE chain_id = $1 AND contract = $2",
    )
    .bind(board.chain_id_sql()?)
    .bind(board.contract.to_vec())
    .fetch_optional(conn)
    .await?;
    let Some((start, number, hash, loaded_number, loaded_hash, finalized, head, backfill_done, updated_at)) =
        row
    else {
        return Ok(None);
    };
    let mark = |number: Option<i64>, hash: Option<Vec<u8>>| match (number, hash) {
        (Some(number), Some(hash)) => {
            Ok(Some((from_sql_i64(number, "block number")?, hash_from_sql(&hash)?)))
        }
        (None, None) => Ok(None),
        _ => Err(StoreError::Corrupt("a mark has a block number without a hash".into())),
    };
    let checkpoint = mark(number, hash)?;
    let loaded = mark(loaded_number, loaded_hash)?;
    Ok(Some(IndexerState {
        start_block: from_sql_i64(start, "start block")?,
        checkpoint,
        loaded,
        finalized_block: finalized.map(|b| from_sql_i64(b, "finalized block")).transpose()?,
        head_block: head.map(|b| from_sql_i64(b, "head block")).transpose()?,
        backfill_done,
        updated_at,
    }))
}

/// Reads the reorg window, newest block first.
///
/// # Errors
/// [`StoreError::Database`] on a failed query, [`StoreError::Corrupt`] on malformed rows.
pub(super) async fn load_window(conn: &mut PgConnection, board: &Board) -> Result<Vec<BlockRef>, StoreError> {
    let rows: Vec<WindowRow> = sqlx::query_as(
        "SELECT number, hash, parent_hash, time FROM blocks WHERE chain_id = $1 AND contract = $2 \
         ORDER BY number DESC",
    )
    .bind(board.chain_id_sql()?)
    .bind(board.contract.to_vec())
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(number, hash, parent, time)| {
            Ok(BlockRef {
                number: from_sql_i64(number, "block number")?,
                hash: hash_from_sql(&hash)?,
                parent_hash: hash_from_sql(&parent)?,
                time: super::decode::unix_seconds_from(time, "blocks.time")?,
            })
        })
        .collect()
}

/// Records the node's head and finalized block without moving the checkpoint (the API's
/// `_meta` and `/readyz` read these).
///
/// # Errors
/// [`StoreError::Database`] on a failed statement.
pub(super) async fn update_head(
    conn: &mut PgConnection,
    board: &Board,
    head: u64,
    finalized: Option<u64>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE indexer_state SET head_block = $3, finalized_block = GREATEST(finalized_block, $4), \
             updated_at = now() WHERE chain_id = $1 AND contract = $2",
    )
    .bind(board.chain_id_sql()?)
    .bind(board.contract.to_vec())
    .bind(to_sql_i64(head, "head block")?)
    .bind(finalized.map(|f| to_sql_i64(f, "finalized block")).transpose()?)
    .execute(conn)
    .await?;
    Ok(())
}

/// The error for a write whose compare-and-set found the rows ending elsewhere than
/// `expected`: where they end (the loaded mark, else the checkpoint), or why that is unknown.
pub(super) async fn checkpoint_conflict(
    conn: &mut PgConnection,
    board: &Board,
    expected: Option<u64>,
) -> StoreError {
    let found: Result<Option<Option<i64>>, StoreError> = async {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(loaded_block, block_number) FROM indexer_state WHERE chain_id = $1 AND contract = $2",
        )
        .bind(board.chain_id_sql()?)
        .bind(board.contract.to_vec())
        .fetch_optional(conn)
        .await?)
    }
    .await;
    match found {
        Ok(Some(found)) => {
            StoreError::CheckpointConflict { expected, found: found.and_then(|b| u64::try_from(b).ok()) }
        }
        Ok(None) => StoreError::Corrupt("the board is not registered in indexer_state".into()),
        Err(error) => error,
    }
}

pub(crate) fn hash_from_sql(bytes: &[u8]) -> Result<B256, StoreError> {
    B256::try_from(bytes).map_err(|_| StoreError::Corrupt(format!("hash of {} bytes", bytes.len())))
}

/// The chains on which `contract` is indexed in this database (for `serve` without
/// `--chain-id`).
///
/// # Errors
/// [`StoreError::Database`] on a failed query.
pub async fn chains_indexing(
    pool: &super::ReadPool,
    contract: &alloy::primitives::Address,
) -> Result<Vec<u64>, StoreError> {
    let rows: Vec<i64> =
        sqlx::query_scalar("SELECT chain_id FROM indexer_state WHERE contract = $1 ORDER BY chain_id")
            .bind(contract.to_vec())
            .fetch_all(pool)
            .await?;
    rows.into_iter().map(|c| from_sql_i64(c, "chain id")).collect()
}

/// Refreshes the planner's statistics of the tables a backfill fills.
///
/// Run once when a backfill completes: autovacuum analyses a freshly loaded table only after
/// its next nap, and until then PostgreSQL plans the API's queries on default row estimates
/// (seen here: a job lookup planned as a scan of every job of the board).
///
/// # Errors
/// [`StoreError::Database`] if the statement fails.
pub(super) async fn refresh_statistics(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("ANALYZE events, jobs, job_revisions, applications, employers, applicants")
        .execute(conn)
        .await?;
    Ok(())
}
