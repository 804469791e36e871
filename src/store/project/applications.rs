//! Writing applications: new submissions and status changes of existing ones, one `UNNEST`
//! statement each (an application's status history is its events: migration 0009).

use std::collections::HashMap;

use sqlx::PgConnection;

use super::{NewApplication, Stamp, expect_updated};
use crate::store::StoreError;

pub(super) async fn write_new_applications(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    applications: &HashMap<i64, NewApplication>,
) -> Result<(), StoreError> {
    if applications.is_empty() {
        return Ok(());
    }
    let (mut ids, mut job_ids, mut applicants, mut hashes, mut statuses) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut blocks, mut log_indexes, mut txs, mut times, mut updated_blocks, mut updated_times) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (id, a) in applications {
        ids.push(*id);
        job_ids.push(a.job_id);
        applicants.push(a.applicant.clone());
        hashes.push(a.hash.clone());
        statuses.push(a.status);
        blocks.push(a.submitted.block);
        log_indexes.push(a.submitted_log_index);
        txs.push(a.submitted_tx.clone());
        times.push(a.submitted.time);
        updated_blocks.push(a.updated.block);
        updated_times.push(a.updated.time);
    }
    sqlx::query(
        "INSERT INTO applications (chain_id, contract, application_id, job_id, applicant, application_hash, \
             status, submitted_block, submitted_log_index, submitted_tx, submitted_at, updated_block, updated_at) \
         SELECT $1, $2, u.* FROM UNNEST($3::bigint[], $4::bigint[], $5::bytea[], $6::bytea[], $7::smallint[], \
             $8::bigint[], $9::int[], $10::bytea[], $11::timestamptz[], $12::bigint[], $13::timestamptz[]) AS u",
    )
    .bind(chain_id)
    .bind(contract)
    .bind(&ids)
    .bind(&job_ids)
    .bind(&applicants)
    .bind(&hashes)
    .bind(&statuses)
    .bind(&blocks)
    .bind(&log_indexes)
    .bind(&txs)
    .bind(&times)
    .bind(&updated_blocks)
    .bind(&updated_times)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn write_application_changes(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    changes: &HashMap<i64, (i16, Stamp)>,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let (mut ids, mut statuses, mut blocks, mut times) = (vec![], vec![], vec![], vec![]);
    for (id, (status, at)) in changes {
        ids.push(*id);
        statuses.push(*status);
        blocks.push(at.block);
        times.push(at.time);
    }
    let result = sqlx::query(
        "UPDATE applications a SET status = u.status, updated_block = u.block, updated_at = u.at \
         FROM UNNEST($3::bigint[], $4::smallint[], $5::bigint[], $6::timestamptz[]) AS u(id, status, block, at) \
         WHERE a.chain_id = $1 AND a.contract = $2 AND a.application_id = u.id",
    )
    .bind(chain_id)
    .bind(contract)
    .bind(&ids)
    .bind(&statuses)
    .bind(&blocks)
    .bind(&times)
    .execute(conn)
    .await?;
    expect_updated(result.rows_affected(), ids.len(), "applications")
}
