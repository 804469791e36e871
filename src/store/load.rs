//! The backfill's first half below the finalized block: appending the raw event log (the event
//! rows and the decoded postings) with the loaded mark, in one transaction, and nothing else.
//! [`super::project::project_loaded`] builds the projections from these rows afterwards
//! (docs/adr/0021-bulk-backfill.md).

use sqlx::{Connection, PgConnection};

use super::project::write_posting_revisions;
use super::state::checkpoint_conflict;
use super::write::insert_events;
use super::{Board, StoreError, to_sql_i64, to_sql_time};
use crate::chain::BlockRef;
use crate::contract::IndexedEvent;

/// One atomic load: the events of the final blocks after `previous` up to and including `to`.
#[derive(Debug)]
pub struct RawBatch<'a> {
    /// Where the raw rows end now: the loaded mark, or the checkpoint when nothing is loaded
    /// beyond it (`None` before the first batch). The load fails with
    /// [`StoreError::CheckpointConflict`] if the database says otherwise.
    pub previous: Option<u64>,
    /// The last block the batch covers; becomes the loaded mark.
    pub to: BlockRef,
    /// The board's events in those blocks, in chain order.
    pub events: &'a [IndexedEvent],
}

/// Appends `batch`'s event rows and posting revisions and moves the loaded mark to its last
/// block, in one transaction committed without waiting for the WAL flush: a commit lost to a
/// server crash takes its mark with it, so the rows are fetched and loaded again (the argument
/// is in ADR 0021).
///
/// # Errors
/// [`StoreError::CheckpointConflict`] if the raw rows do not end at `batch.previous`;
/// [`StoreError::Database`] if a statement fails (nothing is written). A writer that lost its
/// lock between the read of where the rows end and its copy, to one that loaded the same
/// blocks meanwhile, fails on the event table's key instead: still nothing is written.
pub(super) async fn load_raw(
    conn: &mut PgConnection,
    board: &Board,
    batch: &RawBatch<'_>,
) -> Result<(), StoreError> {
    let chain_id = board.chain_id_sql()?;
    let contract = board.contract.to_vec();
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
    // Where the raw rows end is checked first with a plain read, and the mark moves by its
    // compare-and-set last: the board's state row stays unlocked while the rows are copied,
    // so a projection running beside this load (which moves the checkpoint in that row at its
    // own end) does not wait for the copy.
    let ends: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT COALESCE(loaded_block, block_number) FROM indexer_state WHERE chain_id = $1 AND contract = $2",
    )
    .bind(chain_id)
    .bind(&contract)
    .fetch_optional(&mut *tx)
    .await?;
    let previous = batch.previous.map(|b| to_sql_i64(b, "block number")).transpose()?;
    if ends != Some(previous) {
        return Err(checkpoint_conflict(&mut tx, board, batch.previous).await);
    }
    insert_events(&mut tx, chain_id, &contract, batch.events).await?;
    write_posting_revisions(&mut tx, chain_id, &contract, batch.events).await?;
    move_loaded_mark(&mut tx, board, batch).await?;
    tx.commit().await?;
    Ok(())
}

/// Compare-and-set of the loaded mark, from where the raw rows end (the mark, or the
/// checkpoint when the mark is unset).
async fn move_loaded_mark(
    conn: &mut PgConnection,
    board: &Board,
    batch: &RawBatch<'_>,
) -> Result<(), StoreError> {
    let previous = batch.previous.map(|b| to_sql_i64(b, "block number")).transpose()?;
    let updated = sqlx::query(
        "UPDATE indexer_state SET loaded_block = $3, loaded_hash = $4, loaded_time = $5, updated_at = now() \
         WHERE chain_id = $1 AND contract = $2 AND COALESCE(loaded_block, block_number) IS NOT DISTINCT FROM $6",
    )
    .bind(board.chain_id_sql()?)
    .bind(board.contract.to_vec())
    .bind(to_sql_i64(batch.to.number, "block number")?)
    .bind(batch.to.hash.to_vec())
    .bind(to_sql_time(batch.to.time)?)
    .bind(previous)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 1 {
        return Ok(());
    }
    Err(checkpoint_conflict(conn, board, batch.previous).await)
}
