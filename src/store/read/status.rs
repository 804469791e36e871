//! Where indexing stands, as `_meta` and `/readyz` report it.

use alloy::primitives::B256;
use chrono::{DateTime, Utc};

use super::Reader;
use crate::store::StoreError;
use crate::store::decode::{b256_from, u64_from};
use crate::store::health::seconds_ago;

/// A block as the status reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Time.
    pub time: DateTime<Utc>,
}

impl BlockInfo {
    /// A block from its stored number and hash (read from the columns named, for the error)
    /// and its time.
    fn decode(
        number: i64,
        hash: &[u8],
        time: DateTime<Utc>,
        (number_column, hash_column): (&'static str, &'static str),
    ) -> Result<Self, StoreError> {
        Ok(BlockInfo { number: u64_from(number, number_column)?, hash: b256_from(hash, hash_column)?, time })
    }
}

/// Where indexing stands, for `_meta` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStatus {
    /// The last block whose events are all in the database.
    pub block: Option<BlockInfo>,
    /// The newest indexed block that is also final.
    pub finalized_block: Option<BlockInfo>,
    /// The finalized block number as last seen from the node.
    pub finalized_number: Option<u64>,
    /// The node's head as last seen.
    pub head_block: Option<u64>,
    /// Backfill reached the finalized block.
    pub backfill_done: bool,
    /// When the indexer last wrote its state (it does on every poll).
    pub updated_at: DateTime<Utc>,
    /// How long ago that was, by the database's clock (the API's host may disagree).
    pub reported_ago: std::time::Duration,
    /// How long ago the checkpoint last moved, by the database's clock.
    pub advanced_ago: std::time::Duration,
}

impl Reader {
    /// Where indexing stands; `None` if the board was never registered.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn status(&self) -> Result<Option<IndexStatus>, StoreError> {
        self.count_statement();
        self.status_unmetered().await
    }

    /// [`Reader::status`] for `/metrics` itself: not an API read, so not counted in the
    /// statements `/metrics` reports (a scrape would otherwise change what it measures).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn status_unmetered(&self) -> Result<Option<IndexStatus>, StoreError> {
        type Row = (
            Option<i64>,
            Option<Vec<u8>>,
            Option<DateTime<Utc>>,
            Option<i64>,
            Option<i64>,
            bool,
            DateTime<Utc>,
            Option<i64>,
            Option<Vec<u8>>,
            Option<DateTime<Utc>>,
            f64,
            f64,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT s.block_number, s.block_hash, s.block_time, s.finalized_block, s.head_block, \
                    s.backfill_done, s.updated_at, f.number, f.hash, f.time, \
                    extract(epoch FROM now() - s.updated_at)::float8, \
                    extract(epoch FROM now() - s.advanced_at)::float8 \
             FROM indexer_state s \
             LEFT JOIN LATERAL (SELECT b.number, b.hash, b.time FROM blocks b \
                 WHERE b.chain_id = s.chain_id AND b.contract = s.contract AND b.number <= s.finalized_block \
                 ORDER BY b.number DESC LIMIT 1) f ON true \
             WHERE s.chain_id = $1 AND s.contract = $2",
        )
        .bind(self.chain_id)
        .bind(&self.contract)
        .fetch_optional(&self.pool)
        .await?;
        let Some((
            number,
            hash,
            time,
            finalized,
            head,
            backfill_done,
            updated_at,
            f_number,
            f_hash,
            f_time,
            reported_ago,
            advanced_ago,
        )) = row
        else {
            return Ok(None);
        };
        let block = match (number, hash, time) {
            (Some(number), Some(hash), Some(time)) => Some(BlockInfo::decode(
                number,
                &hash,
                time,
                ("indexer_state.block_number", "indexer_state.block_hash"),
            )?),
            _ => None,
        };
        let finalized = finalized.map(|f| u64_from(f, "indexer_state.finalized_block")).transpose()?;
        // The newest indexed block that is final: the checkpoint itself while it is below the
        // finalized point (backfill), else the window's newest block at or below it.
        let finalized_block = match (&block, finalized) {
            (Some(b), Some(f)) if b.number <= f => Some(b.clone()),
            _ => match (f_number, f_hash, f_time) {
                (Some(number), Some(hash), Some(time)) => {
                    Some(BlockInfo::decode(number, &hash, time, ("blocks.number", "blocks.hash"))?)
                }
                _ => None,
            },
        };
        Ok(Some(IndexStatus {
            block,
            finalized_block,
            finalized_number: finalized,
            head_block: head.map(|h| u64_from(h, "indexer_state.head_block")).transpose()?,
            backfill_done,
            updated_at,
            reported_ago: seconds_ago(reported_ago),
            advanced_ago: seconds_ago(advanced_ago),
        }))
    }
}

impl Reader {
    /// Every board's status in this database (SYNCING, LIVE, STALLED, ERROR, with the last
    /// error), for `_meta.boards` and `/readyz`; empty for a database whose indexer predates
    /// per-board statuses (no `board_status` table yet).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement, [`StoreError::BadValue`] on a bad row.
    pub async fn board_statuses(&self) -> Result<Vec<crate::store::BoardStatus>, StoreError> {
        self.count_statement();
        self.board_statuses_unmetered().await
    }

    /// [`Reader::board_statuses`] without counting the statement: `/readyz` and `/metrics`
    /// are not client reads.
    ///
    /// # Errors
    /// As [`Reader::board_statuses`].
    pub async fn board_statuses_unmetered(&self) -> Result<Vec<crate::store::BoardStatus>, StoreError> {
        match crate::store::board_statuses(&self.pool).await {
            Err(error) if error.is_schema_missing() => Ok(Vec::new()),
            read => read,
        }
    }
}

/// Which of some indexed blocks are still in the index, for a follower that cannot hear
/// revert notices (a hot standby) and must find a fork point itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedWindow {
    /// The hashes now held for the blocks asked about that are in the reorg window (and for
    /// the floor block).
    pub hashes: std::collections::HashMap<u64, B256>,
    /// The lowest block of the reorg window: blocks below it are final, never reverted.
    /// `None` when the window is empty.
    pub floor: Option<u64>,
}

impl Reader {
    /// The reorg window's hashes of `numbers`, and its floor (unmetered: the live hub's).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement, [`StoreError::BadValue`] on a bad row.
    pub async fn indexed_window(&self, numbers: &[u64]) -> Result<IndexedWindow, StoreError> {
        let numbers = numbers
            .iter()
            .map(|&n| crate::store::to_sql_i64(n, "block number"))
            .collect::<Result<Vec<i64>, _>>()?;
        // One round trip: the blocks asked about, and the window's lowest block (its floor).
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT number, hash FROM blocks WHERE chain_id = $1 AND contract = $2 \
             AND (number = ANY($3) OR number = \
                 (SELECT min(number) FROM blocks WHERE chain_id = $1 AND contract = $2))",
        )
        .bind(self.chain_id)
        .bind(&self.contract)
        .bind(&numbers)
        .fetch_all(&self.pool)
        .await?;
        let floor = rows.iter().map(|&(number, _)| number).min();
        let hashes = rows
            .into_iter()
            .map(|(number, hash)| Ok((u64_from(number, "blocks.number")?, b256_from(&hash, "blocks.hash")?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(IndexedWindow { hashes, floor: floor.map(|f| u64_from(f, "blocks.number")).transpose()? })
    }
}
