//! The board's highest job and application ids in the store. The contract hands both out
//! sequentially from 1, so they are what the indexer checks the next batch against: a gap
//! after them proves that the node left logs out.

use sqlx::PgConnection;

use super::{Board, StoreError, from_sql_i64};

/// The highest ids stored for one board (`None` when it has none yet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastIds {
    /// The highest `jobId` of a stored `JobPosted`.
    pub job: Option<u64>,
    /// The highest `applicationId` of a stored `ApplicationSubmitted`.
    pub application: Option<u64>,
}

/// Reads the highest stored job and application ids of `board`.
///
/// # Errors
/// [`StoreError::Database`] on a failed query, [`StoreError::Corrupt`] on a negative id.
pub(super) async fn last_ids(conn: &mut PgConnection, board: &Board) -> Result<LastIds, StoreError> {
    let (job, application): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT max(job_id) FROM jobs WHERE chain_id = $1 AND contract = $2), \
                (SELECT max(application_id) FROM applications WHERE chain_id = $1 AND contract = $2)",
    )
    .bind(board.chain_id_sql()?)
    .bind(board.contract.to_vec())
    .fetch_one(conn)
    .await?;
    Ok(LastIds {
        job: job.map(|id| from_sql_i64(id, "job id")).transpose()?,
        application: application.map(|id| from_sql_i64(id, "application id")).transpose()?,
    })
}
