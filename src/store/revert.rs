//! Reverting to a fork point after a reorganisation, in one transaction.
//!
//! Strategy (docs/adr/0003-reorgs-and-exactly-once.md): delete the event rows above the fork,
//! then rebuild every entity those events touched by replaying its remaining events from the
//! log through the same projection code the forward path uses, and recount the derived values
//! of every touched parent from the rows that remain (ADR 0008). Reorgs are shallow, so the
//! replay is small, and there is no separate undo log to keep consistent. `jobboard index
//! --rewind-to N` uses this same revert with a fork point the operator chooses.

use std::collections::BTreeSet;

use alloy::primitives::{B256, Bytes};
use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection};

use super::notify::{Change, notify};
use super::project::{project, recompute_counts};
use super::state::hash_from_sql;
use super::{Board, StoreError, from_sql_i64, to_sql_i64, to_sql_time};
use crate::chain::BlockRef;
use crate::contract::{IndexedEvent, LogPosition};

/// What a revert removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertSummary {
    /// The block reverted to (now the checkpoint).
    pub fork: u64,
    /// Event rows deleted.
    pub events_removed: u64,
    /// The checkpoint before the revert.
    pub reverted_from: Option<u64>,
}

type StoredEventRow = (i64, i32, Vec<u8>, DateTime<Utc>, Vec<u8>, i32, Vec<u8>, Vec<u8>);

/// Reverts the board's data to the state after block `fork`, which becomes the checkpoint.
///
/// # Errors
/// [`StoreError::Database`] on a failed statement (nothing is changed), or
/// [`StoreError::StoredEvent`] if an event to replay no longer decodes.
pub(super) async fn revert_to(
    conn: &mut PgConnection,
    board: &Board,
    fork: &BlockRef,
) -> Result<RevertSummary, StoreError> {
    let chain_id = board.chain_id_sql()?;
    let contract = board.contract.to_vec();
    let fork_number = to_sql_i64(fork.number, "block number")?;
    let mut tx = conn.begin().await?;

    let reverted_from: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT block_number FROM indexer_state WHERE chain_id = $1 AND contract = $2 FOR UPDATE",
    )
    .bind(chain_id)
    .bind(&contract)
    .fetch_optional(&mut *tx)
    .await?;
    let reverted_from = reverted_from.flatten().map(|b| from_sql_i64(b, "block number")).transpose()?;

    let deleted: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "DELETE FROM events WHERE chain_id = $1 AND contract = $2 AND block_number > $3 \
         RETURNING job_id, application_id",
    )
    .bind(chain_id)
    .bind(&contract)
    .bind(fork_number)
    .fetch_all(&mut *tx)
    .await?;

    // An event about an application carries its id (`events.application_id` is set exactly for
    // ApplicationSubmitted and ApplicationStatusChanged); every other event is about its job.
    let mut jobs = BTreeSet::new();
    let mut applications = BTreeSet::new();
    let mut jobs_with_application_events = BTreeSet::new();
    for &(job_id, application_id) in &deleted {
        match application_id {
            Some(id) => {
                applications.insert(id);
                jobs_with_application_events.insert(job_id);
            }
            None => {
                jobs.insert(job_id);
            }
        }
    }
    let jobs: Vec<i64> = jobs.into_iter().collect();
    let applications: Vec<i64> = applications.into_iter().collect();

    // Drop the affected entities; remember their addresses, whose counters must be recomputed
    // even if the entity does not come back.
    let employers: Vec<Vec<u8>> = sqlx::query_scalar(
        "DELETE FROM jobs WHERE chain_id = $1 AND contract = $2 AND job_id = ANY($3) RETURNING employer",
    )
    .bind(chain_id)
    .bind(&contract)
    .bind(&jobs)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM job_revisions WHERE chain_id = $1 AND contract = $2 AND job_id = ANY($3)")
        .bind(chain_id)
        .bind(&contract)
        .bind(&jobs)
        .execute(&mut *tx)
        .await?;
    let applicants: Vec<Vec<u8>> = sqlx::query_scalar(
        "DELETE FROM applications WHERE chain_id = $1 AND contract = $2 AND application_id = ANY($3) \
         RETURNING applicant",
    )
    .bind(chain_id)
    .bind(&contract)
    .bind(&applications)
    .fetch_all(&mut *tx)
    .await?;

    // Replay what remains of those entities' histories.
    let rows: Vec<StoredEventRow> = sqlx::query_as(
        "SELECT block_number, log_index, block_hash, block_time, tx_hash, tx_index, topics, data FROM events \
         WHERE chain_id = $1 AND contract = $2 \
           AND ((kind IN ('JobPosted', 'JobUpdated', 'JobClosed') AND job_id = ANY($3)) \
             OR (kind IN ('ApplicationSubmitted', 'ApplicationStatusChanged') AND application_id = ANY($4))) \
         ORDER BY block_number, log_index",
    )
    .bind(chain_id)
    .bind(&contract)
    .bind(&jobs)
    .bind(&applications)
    .fetch_all(&mut *tx)
    .await?;
    let replay = rows.into_iter().map(stored_event).collect::<Result<Vec<_>, _>>()?;
    let mut touched = project(&mut tx, board, &replay).await?;
    // Every derived value of a rebuilt or affected parent is recounted from the rows that
    // remain: a rebuilt job's `application_count` starts at 0 (its applications were not
    // replayed), and the employers and applicants of every touched row are recounted.
    touched.jobs.extend(jobs.iter().copied());
    touched.applications.extend(applications.iter().copied());
    touched.jobs_with_application_events.extend(jobs_with_application_events);
    touched.jobs_with_application_events.extend(jobs.iter().copied());
    recompute_counts(&mut tx, board, &touched, &employers, &applicants).await?;

    sqlx::query("DELETE FROM blocks WHERE chain_id = $1 AND contract = $2 AND number > $3")
        .bind(chain_id)
        .bind(&contract)
        .bind(fork_number)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE indexer_state SET block_number = $3, block_hash = $4, block_time = $5, loaded_block = NULL, \
             loaded_hash = NULL, loaded_time = NULL, updated_at = now() \
         WHERE chain_id = $1 AND contract = $2",
    )
    .bind(chain_id)
    .bind(&contract)
    .bind(fork_number)
    .bind(fork.hash.to_vec())
    .bind(to_sql_time(fork.time)?)
    .execute(&mut *tx)
    .await?;
    notify(&mut tx, board, Change::Reverted { to: fork.number, hash: fork.hash }).await?;
    tx.commit().await?;
    Ok(RevertSummary { fork: fork.number, events_removed: deleted.len() as u64, reverted_from })
}

fn stored_event(row: StoredEventRow) -> Result<IndexedEvent, StoreError> {
    let (block_number, log_index, block_hash, block_time, tx_hash, tx_index, topics, data) = row;
    if topics.len() % 32 != 0 {
        return Err(StoreError::Corrupt(format!("stored topics of {} bytes", topics.len())));
    }
    let position = LogPosition {
        block_number: from_sql_i64(block_number, "block number")?,
        block_hash: hash_from_sql(&block_hash)?,
        block_time: u64::try_from(block_time.timestamp())
            .map_err(|_| StoreError::Corrupt(format!("block time {block_time} before 1970")))?,
        log_index: u64::try_from(log_index)
            .map_err(|_| StoreError::Corrupt(format!("log index {log_index}")))?,
        tx_hash: hash_from_sql(&tx_hash)?,
        tx_index: u64::try_from(tx_index).map_err(|_| StoreError::Corrupt(format!("tx index {tx_index}")))?,
    };
    let topics = topics.chunks_exact(32).map(B256::from_slice).collect();
    Ok(IndexedEvent::from_stored(position, topics, Bytes::from(data))?)
}
