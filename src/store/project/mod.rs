//! Projections: folding an ordered run of events into the derived tables, in bulk.
//!
//! A batch is folded in memory first (a job posted and updated in the same batch is inserted
//! once, in its final state), then written with one `UNNEST` statement per table, so the cost
//! of a batch is a fixed number of round trips whatever its size. The same code replays an
//! entity's events after a revert, which keeps "apply" and "rebuild" from drifting apart.
//!
//! This module holds the fold (what a run of events does to each entity) and [`project`],
//! which writes it; the statements are in `jobs` (postings, revisions, closes),
//! `applications` (submissions and status changes) and `counts` (the employer and applicant
//! counters). Below the finalized block the backfill instead loads the raw rows first and
//! `bulk` builds the projections from them in SQL, over large chunks (ADR 0021).

mod applications;
mod bulk;
mod counts;
mod jobs;

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use applications::{write_application_changes, write_new_applications};
pub(crate) use bulk::project_loaded;
pub(crate) use counts::{apply_count_deltas, recompute_counts};
use jobs::{write_job_changes, write_new_jobs, write_revisions};

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

/// Writes the posting revision of every `JobPosted` and `JobUpdated` in `events`: the raw
/// load's share of the projections, since only Rust decodes a posting (the bulk projection
/// reads the revisions back to build the jobs).
pub(crate) async fn write_posting_revisions(
    conn: &mut PgConnection,
    chain_id: i64,
    contract: &[u8],
    events: &[IndexedEvent],
) -> Result<(), StoreError> {
    let mut revisions = Vec::new();
    for indexed in events {
        let (BoardEvent::JobPosted { posting, .. } | BoardEvent::JobUpdated { posting, .. }) = &indexed.event
        else {
            continue;
        };
        let p = &indexed.position;
        revisions.push(Revision {
            job_id: to_sql_i64(indexed.event.job_id(), "job id")?,
            posting: PostingRow::new(posting),
            log_index: log_index_sql(p.log_index)?,
            tx: p.tx_hash.to_vec(),
            at: Stamp {
                block: to_sql_i64(p.block_number, "block number")?,
                time: to_sql_time(p.block_time)?,
            },
        });
    }
    write_revisions(conn, chain_id, contract, &revisions).await
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
    tracing::trace!(
        ?jobs,
        new_applications = ?(new_applications - jobs),
        application_changes = ?(started.elapsed() - new_applications),
        "projection phases"
    );
    Ok(fold.touched)
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
