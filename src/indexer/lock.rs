//! One writer per board and database: a PostgreSQL advisory lock held by the writer's own
//! connection.
//!
//! All writes go through the connection that holds the lock, so if that connection dies the
//! lock is released *and* the writer can no longer write: a standby can never interleave with
//! a writer it believes dead. A second `jobboard index` waits as a hot standby and takes over.

use std::time::Duration;

use alloy::primitives::keccak256;
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::store::{Board, StoreError};

/// The advisory-lock key of a board: stable across processes and versions.
pub fn lock_key(board: &Board) -> i64 {
    let mut preimage = b"jobboard.indexer.v1".to_vec();
    preimage.extend_from_slice(&board.chain_id.to_be_bytes());
    preimage.extend_from_slice(board.contract.as_slice());
    let hash = keccak256(preimage);
    let mut key = [0u8; 8];
    key.copy_from_slice(&hash[..8]);
    i64::from_be_bytes(key)
}

/// Connects and waits until this process is the board's only writer. Returns `None` if
/// cancelled while waiting.
///
/// # Errors
/// [`StoreError::Database`] if connecting or querying fails.
pub async fn acquire_writer(
    database_url: &str,
    board: &Board,
    retry_every: Duration,
    cancel: &CancellationToken,
) -> Result<Option<PgConnection>, StoreError> {
    let key = lock_key(board);
    let mut conn = PgConnection::connect(database_url).await?;
    let mut announced = false;
    loop {
        let locked: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(&mut conn).await?;
        if locked {
            info!(chain_id = board.chain_id, contract = %board.contract, "writer lock acquired");
            return Ok(Some(conn));
        }
        if !announced {
            let holder: Option<i32> = sqlx::query_scalar(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND ((classid::bigint << 32) | objid::bigint) = $1 LIMIT 1",
            )
            .bind(key)
            .fetch_optional(&mut conn)
            .await?;
            info!(holder_pid = ?holder, "another indexer is writing this board; waiting as standby");
            announced = true;
        }
        tokio::select! {
            () = cancel.cancelled() => return Ok(None),
            () = tokio::time::sleep(retry_every) => {}
        }
    }
}
