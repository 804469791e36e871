//! Applying one batch: event rows, projections, block window and checkpoint in one transaction.

use std::time::Instant;

use sqlx::{Connection, PgConnection};
use tracing::trace;

use super::notify::{Change, notify};
use super::project::{apply_count_deltas, project};
use super::{Board, StoreError, to_sql_i64, to_sql_time};
use crate::chain::BlockRef;
use crate::contract::IndexedEvent;

/// One atomic step of the indexer: the events of the blocks after `previous` up to and
/// including `checkpoint`.
#[derive(Debug)]
pub struct Batch<'a> {
    /// The checkpoint this batch continues from (`None` for the first batch); the write fails
    /// with [`StoreError::CheckpointConflict`] if the stored checkpoint is elsewhere.
    pub previous: Option<u64>,
    /// The last block the batch covers; becomes the checkpoint.
    pub checkpoint: BlockRef,
    /// The board's events in those blocks, in chain order.
    pub events: &'a [IndexedEvent],
    /// Headers of the covered blocks that are above the finalized point (the reorg window).
    pub window: &'a [BlockRef],
    /// The newest block treated as final, if known; window rows at or below it are pruned.
    pub finalized: Option<u64>,
    /// The node's head as last seen.
    pub head: Option<u64>,
    /// Whether the backfill has reached the finalized block.
    pub backfill_done: bool,
}

/// Writes a batch atomically: either all of it is in the database afterwards, or none.
///
/// # Errors
/// [`StoreError::CheckpointConflict`] if the stored checkpoint is not `batch.previous`;
/// [`StoreError::Database`] if a statement fails (the transaction is rolled back).
pub async fn apply_batch(
    conn: &mut PgConnection,
    board: &Board,
    batch: &Batch<'_>,
) -> Result<(), StoreError> {
    let chain_id = board.chain_id_sql()?;
    let contract = board.contract.to_vec();
    let started = Instant::now();
    let mut tx = conn.begin().await?;

    move_checkpoint(&mut tx, board, batch).await?;
    insert_events(&mut tx, chain_id, &contract, batch.events).await?;
    let events_written = started.elapsed();
    let touched = project(&mut tx, board, batch.events).await?;
    let projected = started.elapsed();
    apply_count_deltas(&mut tx, board, &touched.deltas).await?;
    write_window(&mut tx, chain_id, &contract, batch.window, batch.finalized).await?;
    notify(&mut tx, board, Change::Indexed { to: batch.checkpoint.number }).await?;
    let counted = started.elapsed();

    tx.commit().await?;
    // Where a batch's write time goes, for operators tuning the database.
    trace!(
        events = batch.events.len(),
        event_rows = ?events_written,
        projections = ?(projected - events_written),
        counts_window_notify = ?(counted - projected),
        commit = ?(started.elapsed() - counted),
        "batch write phases"
    );
    Ok(())
}

/// Compare-and-set of the checkpoint: moves it only from where this writer left it.
async fn move_checkpoint(
    conn: &mut PgConnection,
    board: &Board,
    batch: &Batch<'_>,
) -> Result<(), StoreError> {
    let previous = batch.previous.map(|b| to_sql_i64(b, "block number")).transpose()?;
    let finalized = batch.finalized.map(|b| to_sql_i64(b, "block number")).transpose()?;
    let head = batch.head.map(|b| to_sql_i64(b, "block number")).transpose()?;
    let updated = sqlx::query(
        "UPDATE indexer_state SET block_number = $3, block_hash = $4, block_time = $5, \
             finalized_block = GREATEST(finalized_block, $6), head_block = GREATEST(head_block, $7), \
             backfill_done = backfill_done OR $8, updated_at = now() \
         WHERE chain_id = $1 AND contract = $2 AND block_number IS NOT DISTINCT FROM $9",
    )
    .bind(board.chain_id_sql()?)
    .bind(board.contract.to_vec())
    .bind(to_sql_i64(batch.checkpoint.number, "block number")?)
    .bind(batch.checkpoint.hash.to_vec())
    .bind(to_sql_time(batch.checkpoint.time)?)
    .bind(finalized)
    .bind(head)
    .bind(batch.backfill_done)
    .bind(previous)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 1 {
        return Ok(());
    }
    let found: Option<Option<i64>> =
        sqlx::query_scalar("SELECT block_number FROM indexer_state WHERE chain_id = $1 AND contract = $2")
            .bind(board.chain_id_sql()?)
            .bind(board.contract.to_vec())
            .fetch_optional(&mut *conn)
            .await?;
    let Some(found) = found else {
        return Err(StoreError::Corrupt("the board is not registered in indexer_state".into()));
    };
    Err(StoreError::CheckpointConflict {
        expected: batch.previous,
        found: found.and_then(|b| u64::try_from(b).ok()),
    })
}

async fn insert_events(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    events: &[IndexedEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let n = events.len();
    let (mut blocks, mut log_indexes, mut block_hashes, mut times) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut txs, mut tx_indexes, mut kinds, mut job_ids) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut application_ids, mut actors, mut statuses, mut topics, mut data) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for e in events {
        let p = &e.position;
        blocks.push(to_sql_i64(p.block_number, "block number")?);
        log_indexes.push(
            i32::try_from(p.log_index)
                .map_err(|_| StoreError::OutOfRange { what: "log index", value: p.log_index })?,
        );
        block_hashes.push(p.block_hash.to_vec());
        times.push(to_sql_time(p.block_time)?);
        txs.push(p.tx_hash.to_vec());
        tx_indexes.push(
            i32::try_from(p.tx_index)
                .map_err(|_| StoreError::OutOfRange { what: "tx index", value: p.tx_index })?,
        );
        kinds.push(e.event.kind().name());
        job_ids.push(to_sql_i64(e.event.job_id(), "job id")?);
        application_ids
            .push(e.event.application_id().map(|id| to_sql_i64(id, "application id")).transpose()?);
        actors.push(e.event.actor().map(|a| a.to_vec()));
        statuses.push(match e.event {
            crate::contract::BoardEvent::ApplicationStatusChanged { status, .. } => Some(status as i16),
            _ => None,
        });
        topics.push(e.raw.topics().iter().flat_map(|t| t.0).collect::<Vec<u8>>());
        data.push(e.raw.data.to_vec());
    }
    sqlx::query(
        "INSERT INTO events (chain_id, contract, block_number, log_index, block_hash, block_time, tx_hash, \
             tx_index, kind, job_id, application_id, actor, status, topics, data) \
         SELECT $1, $2, u.* FROM UNNEST($3::bigint[], $4::int[], $5::bytea[], $6::timestamptz[], $7::bytea[], \
             $8::int[], $9::text[], $10::bigint[], $11::bigint[], $12::bytea[], $13::smallint[], $14::bytea[], \
             $15::bytea[]) AS u",
    )
    .bind(chain_id)
    .bind(contract)
    .bind(&blocks)
    .bind(&log_indexes)
    .bind(&block_hashes)
    .bind(&times)
    .bind(&txs)
    .bind(&tx_indexes)
    .bind(&kinds)
    .bind(&job_ids)
    .bind(&application_ids)
    .bind(&actors)
    .bind(&statuses)
    .bind(&topics)
    .bind(&data)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds the batch's headers to the reorg window and drops what finality made unnecessary.
async fn write_window(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    window: &[BlockRef],
    finalized: Option<u64>,
) -> Result<(), StoreError> {
    if !window.is_empty() {
        let mut numbers = Vec::with_capacity(window.len());
        let (mut hashes, mut parents, mut times) = (vec![], vec![], vec![]);
        for b in window {
            numbers.push(to_sql_i64(b.number, "block number")?);
            hashes.push(b.hash.to_vec());
            parents.push(b.parent_hash.to_vec());
            times.push(to_sql_time(b.time)?);
        }
        sqlx::query(
            "INSERT INTO blocks (chain_id, contract, number, hash, parent_hash, time) \
             SELECT $1, $2, u.* FROM UNNEST($3::bigint[], $4::bytea[], $5::bytea[], $6::timestamptz[]) AS u",
        )
        .bind(chain_id)
        .bind(contract)
        .bind(&numbers)
        .bind(&hashes)
        .bind(&parents)
        .bind(&times)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(finalized) = finalized {
        // Keep the finalized block itself: it anchors the parent-hash check of the next one.
        sqlx::query("DELETE FROM blocks WHERE chain_id = $1 AND contract = $2 AND number < $3")
            .bind(chain_id)
            .bind(contract)
            .bind(to_sql_i64(finalized, "block number")?)
            .execute(conn)
            .await?;
    }
    Ok(())
}
