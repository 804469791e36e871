//! Writing jobs: new postings, changes to existing ones (updates, closes) and every posting's
//! revisions, one `UNNEST` statement each.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::{JobChange, NewJob, PostingRow, Revision, expect_updated};
use crate::store::StoreError;

pub(super) async fn write_revisions(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    revisions: &[Revision],
) -> Result<(), StoreError> {
    if revisions.is_empty() {
        return Ok(());
    }
    let mut cols = PostingColumns::default();
    let (mut job_ids, mut blocks, mut log_indexes, mut txs, mut times) =
        (vec![], vec![], vec![], vec![], vec![]);
    for r in revisions {
        cols.push(&r.posting);
        job_ids.push(r.job_id);
        blocks.push(r.at.block);
        log_indexes.push(r.log_index);
        txs.push(r.tx.clone());
        times.push(r.at.time);
    }
    sqlx::query(
        "INSERT INTO job_revisions (chain_id, contract, job_id, title, company, location, tags_text, tags, \
             description, salary_currency, salary_min, salary_max, deadline_unix, block_number, log_index, \
             tx_hash, block_time) \
         SELECT $1, $2, u.job_id, u.title, u.company, u.location, u.tags_text, \
             string_to_array(u.tags_joined, chr(31)), u.description, \
             u.salary_currency, u.salary_min::numeric, u.salary_max::numeric, u.deadline::numeric, u.block_number, \
             u.log_index, u.tx_hash, u.block_time \
         FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], \
             $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::int[], \
             $16::bytea[], $17::timestamptz[]) \
           AS u(job_id, title, company, location, tags_text, tags_joined, description, salary_currency, \
             salary_min, salary_max, deadline, block_number, log_index, tx_hash, block_time)",
    )
    .bind(chain_id)
    .bind(contract)
    .bind(&job_ids)
    .bind_posting(&cols)
    .bind(&blocks)
    .bind(&log_indexes)
    .bind(&txs)
    .bind(&times)
    .execute(conn)
    .await?;
    Ok(())
}

/// Binds a [`PostingColumns`] as ten consecutive parameters, in one order shared by every
/// statement that writes postings: title, company, location, tags_text, tags_joined,
/// description, salary_currency, salary_min, salary_max (decimal text) and the deadline (Unix
/// seconds, decimal text, bound as `text[]` and cast to `numeric`).
trait BindPosting<'q> {
    fn bind_posting(self, cols: &'q PostingColumns) -> Self;
}

impl<'q> BindPosting<'q> for sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    fn bind_posting(self, cols: &'q PostingColumns) -> Self {
        self.bind(&cols.title)
            .bind(&cols.company)
            .bind(&cols.location)
            .bind(&cols.tags_text)
            .bind(&cols.tags_joined)
            .bind(&cols.description)
            .bind(&cols.salary_currency)
            .bind(&cols.salary_min)
            .bind(&cols.salary_max)
            .bind(&cols.deadline_unix)
    }
}

/// Posting fields as parallel column arrays for `UNNEST`.
#[derive(Debug, Default)]
struct PostingColumns {
    title: Vec<String>,
    company: Vec<String>,
    location: Vec<String>,
    tags_text: Vec<String>,
    tags_joined: Vec<String>,
    description: Vec<String>,
    salary_currency: Vec<String>,
    salary_min: Vec<Option<String>>,
    salary_max: Vec<Option<String>>,
    deadline_unix: Vec<Option<String>>,
}

impl PostingColumns {
    fn push(&mut self, p: &PostingRow) {
        self.title.push(p.title.clone());
        self.company.push(p.company.clone());
        self.location.push(p.location.clone());
        self.tags_text.push(p.tags_text.clone());
        self.tags_joined.push(p.tags_joined.clone());
        self.description.push(p.description.clone());
        self.salary_currency.push(p.salary_currency.clone());
        self.salary_min.push(p.salary_min.clone());
        self.salary_max.push(p.salary_max.clone());
        self.deadline_unix.push(p.deadline_unix.clone());
    }

    /// Placeholders for a row that carries no posting (e.g. a close without an update).
    fn push_absent(&mut self) {
        self.title.push(String::new());
        self.company.push(String::new());
        self.location.push(String::new());
        self.tags_text.push(String::new());
        self.tags_joined.push(String::new());
        self.description.push(String::new());
        self.salary_currency.push(String::new());
        self.salary_min.push(None);
        self.salary_max.push(None);
        self.deadline_unix.push(None);
    }
}

pub(super) async fn write_new_jobs(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    jobs: &HashMap<i64, NewJob>,
) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut cols = PostingColumns::default();
    let mut ids = Vec::with_capacity(jobs.len());
    let (mut employers, mut closed) = (vec![], vec![]);
    let (mut posted_blocks, mut posted_log_indexes, mut posted_txs, mut posted_times) =
        (vec![], vec![], vec![], vec![]);
    let (mut updated_blocks, mut updated_times, mut closed_blocks, mut closed_times) =
        (vec![], vec![], vec![], vec![]);
    for (id, job) in jobs {
        ids.push(*id);
        cols.push(&job.posting);
        employers.push(job.employer.clone());
        closed.push(job.closed.is_some());
        posted_blocks.push(job.posted.block);
        posted_log_indexes.push(job.posted_log_index);
        posted_txs.push(job.posted_tx.clone());
        posted_times.push(job.posted.time);
        updated_blocks.push(job.updated.block);
        updated_times.push(job.updated.time);
        closed_blocks.push(job.closed.map(|s| s.block));
        closed_times.push(job.closed.map(|s| s.time));
    }
    sqlx::query(
        "INSERT INTO jobs (chain_id, contract, job_id, employer, title, company, location, tags_text, tags, \
             description, salary_currency, salary_min, salary_max, deadline_unix, closed, posted_block, \
             posted_log_index, posted_tx, posted_at, updated_block, updated_at, closed_block, closed_at) \
         SELECT $1, $2, u.job_id, u.employer, u.title, u.company, u.location, u.tags_text, \
             string_to_array(u.tags_joined, chr(31)), u.description, u.salary_currency, \
             u.salary_min::numeric, u.salary_max::numeric, u.deadline::numeric, u.closed, u.posted_block, \
             u.posted_log_index, u.posted_tx, u.posted_at, u.updated_block, u.updated_at, \
             u.closed_block, u.closed_at \
         FROM UNNEST($3::bigint[], $4::bytea[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], \
             $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bool[], \
             $16::bigint[], $17::int[], $18::bytea[], $19::timestamptz[], $20::bigint[], \
             $21::timestamptz[], $22::bigint[], $23::timestamptz[]) \
           AS u(job_id, employer, title, company, location, tags_text, tags_joined, description, \
             salary_currency, salary_min, salary_max, deadline, closed, posted_block, posted_log_index, \
             posted_tx, posted_at, updated_block, updated_at, closed_block, closed_at)",
    )
    .bind(chain_id)
    .bind(contract)
    .bind(&ids)
    .bind(&employers)
    .bind_posting(&cols)
    .bind(&closed)
    .bind(&posted_blocks)
    .bind(&posted_log_indexes)
    .bind(&posted_txs)
    .bind(&posted_times)
    .bind(&updated_blocks)
    .bind(&updated_times)
    .bind(&closed_blocks)
    .bind(&closed_times)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn write_job_changes(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    changes: &HashMap<i64, JobChange>,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut cols = PostingColumns::default();
    let (mut ids, mut has_posting, mut updated_blocks, mut updated_times) = (vec![], vec![], vec![], vec![]);
    let (mut closed_blocks, mut closed_times) = (vec![], vec![]);
    for (id, change) in changes {
        ids.push(*id);
        match &change.posting {
            Some(posting) => cols.push(posting),
            None => cols.push_absent(),
        }
        has_posting.push(change.posting.is_some());
        updated_blocks.push(change.updated.map(|s| s.block));
        updated_times.push(change.updated.map(|s| s.time));
        closed_blocks.push(change.closed.map(|s| s.block));
        closed_times.push(change.closed.map(|s| s.time));
    }
    let result = sqlx::query(
        "UPDATE jobs j SET \
             title = CASE WHEN u.has_posting THEN u.title ELSE j.title END, \
             company = CASE WHEN u.has_posting THEN u.company ELSE j.company END, \
             location = CASE WHEN u.has_posting THEN u.location ELSE j.location END, \
             tags_text = CASE WHEN u.has_posting THEN u.tags_text ELSE j.tags_text END, \
             tags = CASE WHEN u.has_posting THEN string_to_array(u.tags_joined, chr(31)) ELSE j.tags END, \
             description = CASE WHEN u.has_posting THEN u.description ELSE j.description END, \
             salary_currency = CASE WHEN u.has_posting THEN u.salary_currency ELSE j.salary_currency END, \
             salary_min = CASE WHEN u.has_posting THEN u.salary_min::numeric ELSE j.salary_min END, \
             salary_max = CASE WHEN u.has_posting THEN u.salary_max::numeric ELSE j.salary_max END, \
             deadline_unix = CASE WHEN u.has_posting THEN u.deadline::numeric ELSE j.deadline_unix END, \
             updated_block = COALESCE(u.updated_block, j.updated_block), \
             updated_at = COALESCE(u.updated_at, j.updated_at), \
             closed = j.closed OR u.closed_block IS NOT NULL, \
             closed_block = COALESCE(u.closed_block, j.closed_block), \
             closed_at = COALESCE(u.closed_at, j.closed_at) \
         FROM UNNEST($3::bigint[], $4::bool[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], \
             $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bigint[], \
             $16::timestamptz[], $17::bigint[], $18::timestamptz[]) \
           AS u(job_id, has_posting, title, company, location, tags_text, tags_joined, description, \
             salary_currency, salary_min, salary_max, deadline, updated_block, updated_at, closed_block, \
             closed_at) \
         WHERE j.chain_id = $1 AND j.contract = $2 AND j.job_id = u.job_id",
    )
    .bind(chain_id)
    .bind(contract)
    .bind(&ids)
    .bind(&has_posting)
    .bind_posting(&cols)
    .bind(&updated_blocks)
    .bind(&updated_times)
    .bind(&closed_blocks)
    .bind(&closed_times)
    .execute(conn)
    .await?;
    expect_updated(result.rows_affected(), ids.len(), "jobs")
}
