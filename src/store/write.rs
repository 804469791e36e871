//! Applying one batch: event rows, projections, block window and checkpoint in one transaction.

use std::time::Instant;

use sqlx::{Connection, PgConnection};
use tracing::trace;

use super::copy::CopyRows;
use super::notify::{Change, notify};
use super::project::{apply_count_deltas, project};
use super::state::checkpoint_conflict;
use super::{Board, StoreError, to_sql_i64, to_sql_time};
use crate::chain::BlockRef;
use crate::contract::{BoardEvent, IndexedEvent};

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
pub(super) async fn apply_batch(
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

/// Compare-and-set of the checkpoint: moves it only from where this writer left it, and only
/// when no raw rows wait beyond it for the bulk projection (those come first: ADR 0021).
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
         WHERE chain_id = $1 AND contract = $2 AND block_number IS NOT DISTINCT FROM $9 \
             AND loaded_block IS NULL",
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
    Err(checkpoint_conflict(conn, board, batch.previous).await)
}

/// Bytes of `COPY` data sent per message: PostgreSQL works on one chunk while the next is
/// encoded, and a batch's rows are never all encoded at once.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Appends the batch's event rows with a binary `COPY`, encoded in 1 MiB chunks: PostgreSQL
/// parses no SQL or arrays per row, and the client holds one chunk instead of fifteen column
/// arrays with an allocation per cell (the `INSERT … SELECT FROM UNNEST` this replaced). The
/// rows then cost what the bench's raw `COPY` into the same table costs; the table's indexes
/// are most of that (measured: 6.4 µs a row with all five, 2.2 µs with the primary key alone).
pub(super) async fn insert_events(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    events: &[IndexedEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut copy = conn
        .copy_in_raw(
            "COPY events (chain_id, contract, block_number, log_index, block_hash, block_time, tx_hash, \
                 tx_index, kind, job_id, application_id, actor, status, topics, data) \
             FROM STDIN (FORMAT binary)",
        )
        .await?;
    let mut rows = CopyRows::with_capacity(COPY_CHUNK_BYTES + 64 * 1024);
    let mut topics = Vec::with_capacity(4 * 32);
    for event in events {
        if let Err(error) = encode_event(&mut rows, &mut topics, chain_id, contract, event) {
            copy.abort(error.to_string()).await?;
            return Err(error);
        }
        if rows.as_bytes().len() >= COPY_CHUNK_BYTES {
            copy.send(rows.as_bytes()).await?;
            rows.clear();
        }
    }
    copy.send(rows.finish()).await?;
    copy.finish().await?;
    Ok(())
}

fn encode_event(
    rows: &mut CopyRows,
    topics: &mut Vec<u8>,
    chain_id: i64,
    contract: &[u8],
    event: &IndexedEvent,
) -> Result<(), StoreError> {
    let p = &event.position;
    let log_index = i32::try_from(p.log_index)
        .map_err(|_| StoreError::OutOfRange { what: "log index", value: p.log_index })?;
    let tx_index = i32::try_from(p.tx_index)
        .map_err(|_| StoreError::OutOfRange { what: "tx index", value: p.tx_index })?;
    rows.row(15).int8(chain_id).bytes(contract)?;
    rows.int8(to_sql_i64(p.block_number, "block number")?).int4(log_index).bytes(p.block_hash.as_slice())?;
    rows.timestamptz(p.block_time)?.bytes(p.tx_hash.as_slice())?.int4(tx_index);
    rows.bytes(event.event.kind().name().as_bytes())?.int8(to_sql_i64(event.event.job_id(), "job id")?);
    match event.event.application_id() {
        Some(id) => rows.int8(to_sql_i64(id, "application id")?),
        None => rows.null(),
    };
    match event.event.actor() {
        Some(actor) => rows.bytes(actor.as_slice())?,
        None => rows.null(),
    };
    match event.event {
        BoardEvent::ApplicationStatusChanged { status, .. } => rows.int2(status as i16),
        _ => rows.null(),
    };
    topics.clear();
    for topic in event.raw.topics() {
        topics.extend_from_slice(topic.as_slice());
    }
    rows.bytes(topics)?.bytes(&event.raw.data)?;
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
