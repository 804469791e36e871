//! Projections: folding an ordered run of events into the derived tables, in bulk.
//!
//! A batch is folded in memory first (a job posted and updated in the same batch is inserted
//! once, in its final state), then written with one `UNNEST` statement per table, so the cost
//! of a batch is a fixed number of round trips whatever its size. The same code replays an
//! entity's events after a revert, which keeps "apply" and "rebuild" from drifting apart.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{Board, StoreError, to_sql_i64, to_sql_time};
use crate::contract::{ApplicationStatus, BoardEvent, IndexedEvent, Posting, lossy_text, split_tags};

/// A posting rendered into column values.
#[derive(Debug, Clone)]
struct PostingRow {
    title: String,
    company: String,
    location: String,
    tags_text: String,
    /// Tags joined by U+001F, split again in SQL (`UNNEST` cannot take an array of arrays).
    tags_joined: String,
    description: String,
    salary_currency: String,
    salary_min: Option<String>,
    salary_max: Option<String>,
    /// The deadline's Unix seconds in decimal; `None` = no deadline. The `deadline` time
    /// column is derived from it in SQL (`deadline_time`, migration 0003).
    deadline_unix: Option<String>,
}

/// Separator for `PostingRow::tags_joined`; `split_tags` removes control characters, so it
/// cannot occur inside a tag.
const TAG_SEPARATOR: &str = "\u{1f}";

impl PostingRow {
    /// Every `uint64` and every byte string the contract accepts has a column value here: the
    /// numbers go to `NUMERIC(20,0)`, the strings through [`lossy_text`]. Nothing can fail.
    fn new(posting: &Posting) -> PostingRow {
        // The contract's 0 means "not disclosed" / "no deadline": stored as NULL.
        let nonzero = |v: u64| (v != 0).then(|| v.to_string());
        PostingRow {
            title: lossy_text(&posting.title),
            company: lossy_text(&posting.company),
            location: lossy_text(&posting.location),
            tags_text: lossy_text(&posting.tags),
            tags_joined: split_tags(&posting.tags).join(TAG_SEPARATOR),
            description: lossy_text(&posting.description),
            salary_currency: lossy_text(&posting.salary_currency),
            salary_min: nonzero(posting.salary_min),
            salary_max: nonzero(posting.salary_max),
            deadline_unix: nonzero(posting.deadline),
        }
    }
}

/// A block-and-time stamp in column form.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    block: i64,
    time: DateTime<Utc>,
}

#[derive(Debug)]
struct NewJob {
    employer: Vec<u8>,
    posting: PostingRow,
    posted_log_index: i32,
    posted_tx: Vec<u8>,
    posted: Stamp,
    updated: Stamp,
    closed: Option<Stamp>,
}

#[derive(Debug, Default)]
struct JobChange {
    posting: Option<PostingRow>,
    updated: Option<Stamp>,
    closed: Option<Stamp>,
}

#[derive(Debug)]
struct NewApplication {
    job_id: i64,
    applicant: Vec<u8>,
    hash: Vec<u8>,
    status: i16,
    submitted_log_index: i32,
    submitted_tx: Vec<u8>,
    submitted: Stamp,
    updated: Stamp,
}

#[derive(Debug)]
struct Revision {
    job_id: i64,
    posting: PostingRow,
    log_index: i32,
    tx: Vec<u8>,
    at: Stamp,
}

#[derive(Debug)]
struct StatusChange {
    application_id: i64,
    status: i16,
    log_index: i32,
    tx: Vec<u8>,
    at: Stamp,
}

/// What a projected batch touched, for the counter recomputation.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    /// Jobs with any event (their employer's counts may change).
    pub jobs: BTreeSet<i64>,
    /// Jobs whose live application count may change.
    pub jobs_with_application_events: BTreeSet<i64>,
    /// Applications with any event (their applicant's counts may change).
    pub applications: BTreeSet<i64>,
    /// The same changes as counter deltas, for applying a batch in time proportional to the
    /// batch (a revert recounts the touched entities instead).
    pub deltas: CountDeltas,
}

/// Counter changes of a run of events: every posting, close, submission and withdrawal.
#[derive(Debug, Default)]
pub(crate) struct CountDeltas {
    /// The employer of each JobPosted.
    posted_by: Vec<Vec<u8>>,
    /// Each JobClosed's job.
    closed_jobs: Vec<i64>,
    /// Each ApplicationSubmitted's job and applicant.
    submitted_to: Vec<i64>,
    submitted_by: Vec<Vec<u8>>,
    /// Each withdrawal's application and job.
    withdrawn: Vec<i64>,
    withdrawn_from: Vec<i64>,
}

/// The in-memory fold of a run of events, ready to be written.
#[derive(Debug, Default)]
struct Fold {
    new_jobs: HashMap<i64, NewJob>,
    job_changes: HashMap<i64, JobChange>,
    revisions: Vec<Revision>,
    new_applications: HashMap<i64, NewApplication>,
    application_changes: HashMap<i64, (i16, Stamp)>,
    status_changes: Vec<StatusChange>,
    touched: Touched,
}

fn log_index_sql(value: u64) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| StoreError::OutOfRange { what: "log index", value })
}

impl Fold {
    fn build(events: &[IndexedEvent]) -> Result<Fold, StoreError> {
        let mut fold = Fold::default();
        for indexed in events {
            let p = &indexed.position;
            let at = Stamp {
                block: to_sql_i64(p.block_number, "block number")?,
                time: to_sql_time(p.block_time)?,
            };
            let log_index = log_index_sql(p.log_index)?;
            let tx = p.tx_hash.to_vec();
            let job_id = to_sql_i64(indexed.event.job_id(), "job id")?;
            fold.touched.jobs.insert(job_id);
            match &indexed.event {
                BoardEvent::JobPosted { employer, posting, .. } => {
                    fold.touched.deltas.posted_by.push(employer.to_vec());
                    let row = PostingRow::new(posting);
                    fold.revisions.push(Revision {
                        job_id,
                        posting: row.clone(),
                        log_index,
                        tx: tx.clone(),
                        at,
                    });
                    fold.new_jobs.insert(
                        job_id,
                        NewJob {
                            employer: employer.to_vec(),
                            posting: row,
                            posted_log_index: log_index,
                            posted_tx: tx,
                            posted: at,
                            updated: at,
                            closed: None,
                        },
                    );
                }
                BoardEvent::JobUpdated { posting, .. } => {
                    let row = PostingRow::new(posting);
                    fold.revisions.push(Revision { job_id, posting: row.clone(), log_index, tx, at });
                    if let Some(job) = fold.new_jobs.get_mut(&job_id) {
                        job.posting = row;
                        job.updated = at;
                    } else {
                        let change = fold.job_changes.entry(job_id).or_default();
                        change.posting = Some(row);
                        change.updated = Some(at);
                    }
                }
                BoardEvent::JobClosed { .. } => {
                    fold.touched.deltas.closed_jobs.push(job_id);
                    if let Some(job) = fold.new_jobs.get_mut(&job_id) {
                        job.closed = Some(at);
                        job.updated = at;
                    } else {
                        let change = fold.job_changes.entry(job_id).or_default();
                        change.closed = Some(at);
                        change.updated = Some(at);
                    }
                }
                BoardEvent::ApplicationSubmitted { applicant, application_id, application_hash, .. } => {
                    let id = to_sql_i64(*application_id, "application id")?;
                    let status = ApplicationStatus::Submitted as i16;
                    fold.touched.deltas.submitted_to.push(job_id);
                    fold.touched.deltas.submitted_by.push(applicant.to_vec());
                    fold.touched.applications.insert(id);
                    fold.touched.jobs_with_application_events.insert(job_id);
                    fold.status_changes.push(StatusChange {
                        application_id: id,
                        status,
                        log_index,
                        tx: tx.clone(),
                        at,
                    });
                    fold.new_applications.insert(
                        id,
                        NewApplication {
                            job_id,
                            applicant: applicant.to_vec(),
                            hash: application_hash.to_vec(),
                            status,
                            submitted_log_index: log_index,
                            submitted_tx: tx,
                            submitted: at,
                            updated: at,
                        },
                    );
                }
                BoardEvent::ApplicationStatusChanged { application_id, status, .. } => {
                    let id = to_sql_i64(*application_id, "application id")?;
                    if *status == ApplicationStatus::Withdrawn {
                        fold.touched.deltas.withdrawn.push(id);
                        fold.touched.deltas.withdrawn_from.push(job_id);
                    }
                    let status = *status as i16;
                    fold.touched.applications.insert(id);
                    fold.touched.jobs_with_application_events.insert(job_id);
                    fold.status_changes.push(StatusChange { application_id: id, status, log_index, tx, at });
                    if let Some(application) = fold.new_applications.get_mut(&id) {
                        application.status = status;
                        application.updated = at;
                    } else {
                        fold.application_changes.insert(id, (status, at));
                    }
                }
            }
        }
        Ok(fold)
    }
}

/// Folds `events` (in chain order) into the projections and returns what they touched.
/// Entities created earlier are updated in place; entities created in `events` are inserted in
/// their final state.
pub(crate) async fn project(
    conn: &mut PgConnection,
    board: &Board,
    events: &[IndexedEvent],
) -> Result<Touched, StoreError> {
    let fold = Fold::build(events)?;
    let chain_id = board.chain_id_sql()?;
    let contract = board.contract.to_vec();

    let started = std::time::Instant::now();
    write_revisions(conn, chain_id, &contract, &fold.revisions).await?;
    write_new_jobs(conn, chain_id, &contract, &fold.new_jobs).await?;
    write_job_changes(conn, chain_id, &contract, &fold.job_changes).await?;
    let jobs = started.elapsed();
    write_new_applications(conn, chain_id, &contract, &fold.new_applications).await?;
    let new_applications = started.elapsed();
    write_application_changes(conn, chain_id, &contract, &fold.application_changes).await?;
    let application_changes = started.elapsed();
    write_status_changes(conn, chain_id, &contract, &fold.status_changes).await?;
    tracing::trace!(
        ?jobs,
        new_applications = ?(new_applications - jobs),
        application_changes = ?(application_changes - new_applications),
        status_changes = ?(started.elapsed() - application_changes),
        "projection phases"
    );
    Ok(fold.touched)
}

async fn write_revisions(
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
        "INSERT INTO job_revisions (chain_id, contract, job_id, title, company, location, tags_text, \
             description, salary_currency, salary_min, salary_max, deadline_unix, block_number, log_index, \
             tx_hash, block_time) \
         SELECT $1, $2, u.job_id, u.title, u.company, u.location, u.tags_text, u.description, \
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

async fn write_new_jobs(
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

async fn write_job_changes(
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

/// An event that changes an entity the database does not have means the event log and the
/// projections disagree: stop rather than write a partial batch.
fn expect_updated(updated: u64, expected: usize, what: &str) -> Result<(), StoreError> {
    if updated == expected as u64 {
        return Ok(());
    }
    Err(StoreError::Corrupt(format!(
        "events change {expected} {what}, but only {updated} exist in the database"
    )))
}

async fn write_new_applications(
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

async fn write_application_changes(
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

async fn write_status_changes(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    changes: &[StatusChange],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let (mut ids, mut blocks, mut log_indexes, mut statuses, mut txs, mut times) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for c in changes {
        ids.push(c.application_id);
        blocks.push(c.at.block);
        log_indexes.push(c.log_index);
        statuses.push(c.status);
        txs.push(c.tx.clone());
        times.push(c.at.time);
    }
    sqlx::query(
        "INSERT INTO application_status_changes (chain_id, contract, application_id, block_number, log_index, \
             status, tx_hash, block_time) \
         SELECT $1, $2, u.* FROM UNNEST($3::bigint[], $4::bigint[], $5::int[], $6::smallint[], $7::bytea[], \
             $8::timestamptz[]) AS u",
    )
    .bind(chain_id)
    .bind(contract)
    .bind(&ids)
    .bind(&blocks)
    .bind(&log_indexes)
    .bind(&statuses)
    .bind(&txs)
    .bind(&times)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds a batch's counter deltas, after its rows are projected: the cost follows the batch, not
/// the size of the touched employers' and applicants' histories (recounting those made each
/// batch slower as the tables grew). Exactly-once holds because it runs in the batch's
/// transaction, behind the checkpoint's compare-and-set. The indexer tests compare every
/// counter with a model and with a recount after reverts.
pub(crate) async fn apply_count_deltas(
    conn: &mut PgConnection,
    board: &Board,
    deltas: &CountDeltas,
) -> Result<(), StoreError> {
    let chain_id = board.chain_id_sql()?;
    let contract = board.contract.to_vec();
    if !deltas.posted_by.is_empty() || !deltas.closed_jobs.is_empty() {
        sqlx::query(
            "WITH d AS ( \
                 SELECT address, sum(jobs)::int AS jobs, sum(open)::int AS open FROM ( \
                     SELECT unnest($3::bytea[]) AS address, 1 AS jobs, 1 AS open \
                     UNION ALL \
                     SELECT j.employer, 0, -1 FROM jobs j \
                       WHERE j.chain_id = $1 AND j.contract = $2 AND j.job_id = ANY($4::bigint[])) x \
                 GROUP BY address) \
             INSERT INTO employers (chain_id, contract, address, job_count, open_job_count) \
             SELECT $1, $2, address, jobs, open FROM d \
             ON CONFLICT (chain_id, contract, address) DO UPDATE \
               SET job_count = employers.job_count + EXCLUDED.job_count, \
                   open_job_count = employers.open_job_count + EXCLUDED.open_job_count",
        )
        .bind(chain_id)
        .bind(&contract)
        .bind(&deltas.posted_by)
        .bind(&deltas.closed_jobs)
        .execute(&mut *conn)
        .await?;
    }
    if !deltas.submitted_by.is_empty() || !deltas.withdrawn.is_empty() {
        sqlx::query(
            "WITH d AS ( \
                 SELECT address, sum(total)::int AS total, sum(live)::int AS live FROM ( \
                     SELECT unnest($3::bytea[]) AS address, 1 AS total, 1 AS live \
                     UNION ALL \
                     SELECT a.applicant, 0, -1 FROM applications a \
                       WHERE a.chain_id = $1 AND a.contract = $2 AND a.application_id = ANY($4::bigint[])) x \
                 GROUP BY address) \
             INSERT INTO applicants (chain_id, contract, address, application_count, live_application_count) \
             SELECT $1, $2, address, total, live FROM d \
             ON CONFLICT (chain_id, contract, address) DO UPDATE \
               SET application_count = applicants.application_count + EXCLUDED.application_count, \
                   live_application_count = applicants.live_application_count + EXCLUDED.live_application_count",
        )
        .bind(chain_id)
        .bind(&contract)
        .bind(&deltas.submitted_by)
        .bind(&deltas.withdrawn)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE jobs j SET application_count = j.application_count + d.n \
             FROM (SELECT job_id, sum(n)::int AS n FROM ( \
                       SELECT unnest($3::bigint[]) AS job_id, 1 AS n \
                       UNION ALL SELECT unnest($4::bigint[]), -1) x \
                   GROUP BY job_id) d \
             WHERE j.chain_id = $1 AND j.contract = $2 AND j.job_id = d.job_id AND d.n <> 0",
        )
        .bind(chain_id)
        .bind(&contract)
        .bind(&deltas.submitted_to)
        .bind(&deltas.withdrawn_from)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Recomputes the derived counters for everything `touched` names, plus addresses that lost
/// rows in a revert (`extra_employers`, `extra_applicants`). Counting from the projections
/// (rather than adding deltas) makes apply and revert share one, obviously correct, path.
pub(crate) async fn recompute_counts(
    conn: &mut PgConnection,
    board: &Board,
    touched: &Touched,
    extra_employers: &[Vec<u8>],
    extra_applicants: &[Vec<u8>],
) -> Result<(), StoreError> {
    let chain_id = board.chain_id_sql()?;
    let contract = board.contract.to_vec();
    let jobs: Vec<i64> = touched.jobs_with_application_events.iter().copied().collect();
    if !jobs.is_empty() {
        sqlx::query(
            "UPDATE jobs j SET application_count = c.n \
             FROM (SELECT t.job_id, count(a.application_id) FILTER (WHERE a.status <> 4)::int AS n \
                   FROM UNNEST($3::bigint[]) AS t(job_id) \
                   LEFT JOIN applications a \
                     ON a.chain_id = $1 AND a.contract = $2 AND a.job_id = t.job_id \
                   GROUP BY t.job_id) c \
             WHERE j.chain_id = $1 AND j.contract = $2 AND j.job_id = c.job_id \
               AND j.application_count <> c.n",
        )
        .bind(chain_id)
        .bind(&contract)
        .bind(&jobs)
        .execute(&mut *conn)
        .await?;
    }

    let touched_jobs: Vec<i64> = touched.jobs.iter().copied().collect();
    sqlx::query(
        "WITH addresses AS ( \
             SELECT employer AS address FROM jobs \
               WHERE chain_id = $1 AND contract = $2 AND job_id = ANY($3::bigint[]) \
             UNION SELECT unnest($4::bytea[])), \
         counts AS ( \
             SELECT a.address, count(j.job_id)::int AS jobs, \
                    (count(j.job_id) FILTER (WHERE NOT j.closed))::int AS open \
             FROM addresses a LEFT JOIN jobs j \
               ON j.chain_id = $1 AND j.contract = $2 AND j.employer = a.address \
             GROUP BY a.address), \
         gone AS ( \
             DELETE FROM employers e USING counts c \
             WHERE e.chain_id = $1 AND e.contract = $2 AND e.address = c.address AND c.jobs = 0) \
         INSERT INTO employers (chain_id, contract, address, job_count, open_job_count) \
         SELECT $1, $2, address, jobs, open FROM counts WHERE jobs > 0 \
         ON CONFLICT (chain_id, contract, address) DO UPDATE \
           SET job_count = EXCLUDED.job_count, open_job_count = EXCLUDED.open_job_count",
    )
    .bind(chain_id)
    .bind(&contract)
    .bind(&touched_jobs)
    .bind(extra_employers)
    .execute(&mut *conn)
    .await?;

    let applications: Vec<i64> = touched.applications.iter().copied().collect();
    sqlx::query(
        "WITH addresses AS ( \
             SELECT applicant AS address FROM applications \
               WHERE chain_id = $1 AND contract = $2 AND application_id = ANY($3::bigint[]) \
             UNION SELECT unnest($4::bytea[])), \
         counts AS ( \
             SELECT a.address, count(x.application_id)::int AS total, \
                    (count(x.application_id) FILTER (WHERE x.status <> 4))::int AS live \
             FROM addresses a LEFT JOIN applications x \
               ON x.chain_id = $1 AND x.contract = $2 AND x.applicant = a.address \
             GROUP BY a.address), \
         gone AS ( \
             DELETE FROM applicants e USING counts c \
             WHERE e.chain_id = $1 AND e.contract = $2 AND e.address = c.address AND c.total = 0) \
         INSERT INTO applicants (chain_id, contract, address, application_count, live_application_count) \
         SELECT $1, $2, address, total, live FROM counts WHERE total > 0 \
         ON CONFLICT (chain_id, contract, address) DO UPDATE \
           SET application_count = EXCLUDED.application_count, \
               live_application_count = EXCLUDED.live_application_count",
    )
    .bind(chain_id)
    .bind(&contract)
    .bind(&applications)
    .bind(extra_applicants)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
