//! The backfill's second half: the projections built in SQL from the raw rows between the
//! checkpoint and a loaded block, a few set-based statements per chunk instead of a Rust fold
//! per batch (docs/adr/0021-bulk-backfill.md).
//!
//! A chunk is what was loaded and not yet projected up to that block: up to hundreds of
//! thousands of events.
//! Each table gets one statement: entities created in the chunk are inserted in their final
//! state (a job posted, updated and closed in the chunk is one insert), entities created
//! earlier are updated once, and the counters move by the chunk's sums. The rules are the
//! forward path's (`Fold` and `apply_count_deltas`): the last job event stamps a job, the last
//! status event an application; counters add postings and submissions and subtract closes and
//! withdrawals. The tests index the same chains both ways and compare every table.
//!
//! The chunk's events (narrow columns) and its latest revision per job are first copied into
//! temporary tables and analysed, and the statements read those: the planner then knows how
//! many rows a chunk holds. `jobs` and `applications` are analysed too, before the statements
//! and again once the chunk's new rows are in them, so that it knows theirs. Read straight from a freshly loaded `events` without statistics,
//! a chunk was estimated at one row, and the update of older applications became a nested
//! loop over every application of the board per changed one (seen: a 75k-event chunk past the
//! writer's 60 s time-out; 0.46 s with the row counts known). Older entities are found by
//! anti-joins (`NOT EXISTS`), and the base tables are only joined on their keys, within the
//! range of ids the chunk names: whether the planner looks them up one by one or hashes a
//! scan, it reads the ids the chunk changed, not the board's whole history.
//!
//! Event kinds and statuses are bound from [`EventKind`] and [`ApplicationStatus`], never
//! written as literals here. One value is read from an event's ABI data: an
//! `ApplicationSubmitted`'s only non-indexed parameter, the `bytes32` application hash, is the
//! whole of its data.

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection};

use super::super::notify::{Change, notify};
use super::super::state::checkpoint_conflict;
use super::super::{Board, StoreError, from_sql_i64, to_sql_i64, to_sql_time};
use crate::chain::BlockRef;
use crate::contract::{ApplicationStatus, EventKind};

/// The board's marks as stored: the checkpoint, and the loaded mark's block, hash and time.
type Marks = (Option<i64>, Option<i64>, Option<Vec<u8>>, Option<DateTime<Utc>>);

/// The temporary tables of one projection: the chunk's events (narrow columns, with the first
/// 32 bytes of their data, an `ApplicationSubmitted`'s hash) and its latest revision of each
/// job. Created empty (a utility statement takes no parameters), then filled; one statement
/// each (the driver's multi-statement `raw_sql` future is not `Send`, and the projection runs
/// on a task of its own).
const CREATE_TEMPORARY: [&str; 2] = [
    "CREATE TEMP TABLE chunk ON COMMIT DROP AS \
         SELECT job_id, application_id, kind, block_number, log_index, block_time, tx_hash, actor, status, \
             substring(data FROM 1 FOR 32) AS head \
         FROM events WITH NO DATA",
    "CREATE TEMP TABLE revision ON COMMIT DROP AS \
         SELECT job_id, title, company, location, tags_text, tags, description, salary_currency, salary_min, \
             salary_max, deadline_unix \
         FROM job_revisions WITH NO DATA",
];

/// The statistics the chunk's statements are planned on: the chunk's and, as important, the
/// base tables' row counts. A table last analysed when it was empty, or empty but for the
/// dead rows of a rolled-back projection (its pages counted, its rows not), is planned as one
/// row; the join from the chunk to it then became a nested loop over the whole chunk per job
/// (seen on the sparse 100k shape: the employers' counters alone ran 57 s, past the writer's
/// 60 s time-out, and every retry planned the same way).
const ANALYZE_CHUNK_AND_BASE: &str = "ANALYZE chunk, revision, jobs, applications";

/// The base tables again, once the chunk's new jobs and applications are in them.
const ANALYZE_BASE: &str = "ANALYZE jobs, applications";

/// Fills `chunk` with the events of board `$1`, `$2` in `$3 < block_number <= $4`.
const FILL_CHUNK: &str = "INSERT INTO chunk \
     SELECT job_id, application_id, kind, block_number, log_index, block_time, tx_hash, actor, status, \
         substring(data FROM 1 FOR 32) \
     FROM events WHERE chain_id = $1 AND contract = $2 AND block_number > $3 AND block_number <= $4";

/// Fills `revision` with the latest revision of each job in the same range.
const FILL_REVISIONS: &str = "INSERT INTO revision \
     SELECT DISTINCT ON (job_id) job_id, title, company, location, tags_text, tags, description, \
         salary_currency, salary_min, salary_max, deadline_unix \
     FROM job_revisions WHERE chain_id = $1 AND contract = $2 AND block_number > $3 AND block_number <= $4 \
     ORDER BY job_id, block_number DESC, log_index DESC";

/// New jobs in their final state, then one update per older job the chunk changed; returns the
/// jobs inserted, the older jobs with a job event, and how many of those were updated.
/// `$3` JobPosted, `$4` JobClosed, `$5` ApplicationSubmitted, `$6` the withdrawn status.
const JOBS: &str = "WITH job_events AS ( \
         SELECT job_id, kind, block_number, log_index, block_time, tx_hash, actor FROM chunk \
         WHERE application_id IS NULL), \
     last_event AS ( \
         SELECT DISTINCT ON (job_id) job_id, block_number, block_time FROM job_events \
         ORDER BY job_id, block_number DESC, log_index DESC), \
     closed AS (SELECT job_id, block_number, block_time FROM job_events WHERE kind = $4), \
     applied AS ( \
         SELECT job_id, (count(*) FILTER (WHERE kind = $5) - count(*) FILTER (WHERE status = $6))::int AS n \
         FROM chunk WHERE application_id IS NOT NULL GROUP BY job_id), \
     new_jobs AS (SELECT job_id FROM job_events WHERE kind = $3), \
     posted AS ( \
         INSERT INTO jobs (chain_id, contract, job_id, employer, title, company, location, tags_text, tags, \
             description, salary_currency, salary_min, salary_max, deadline_unix, closed, posted_block, \
             posted_log_index, posted_tx, posted_at, updated_block, updated_at, closed_block, closed_at, \
             application_count) \
         SELECT $1, $2, p.job_id, p.actor, r.title, r.company, r.location, r.tags_text, r.tags, \
             r.description, r.salary_currency, r.salary_min, r.salary_max, r.deadline_unix, \
             c.job_id IS NOT NULL, p.block_number, p.log_index, p.tx_hash, p.block_time, u.block_number, \
             u.block_time, c.block_number, c.block_time, COALESCE(a.n, 0) \
         FROM job_events p JOIN revision r USING (job_id) JOIN last_event u USING (job_id) \
         LEFT JOIN closed c USING (job_id) LEFT JOIN applied a USING (job_id) \
         WHERE p.kind = $3 \
         RETURNING job_id), \
     touched AS ( \
         SELECT job_id FROM last_event UNION SELECT job_id FROM applied WHERE n <> 0 \
         EXCEPT SELECT job_id FROM new_jobs), \
     changed AS ( \
         UPDATE jobs j SET \
             title = CASE WHEN r.job_id IS NULL THEN j.title ELSE r.title END, \
             company = CASE WHEN r.job_id IS NULL THEN j.company ELSE r.company END, \
             location = CASE WHEN r.job_id IS NULL THEN j.location ELSE r.location END, \
             tags_text = CASE WHEN r.job_id IS NULL THEN j.tags_text ELSE r.tags_text END, \
             tags = CASE WHEN r.job_id IS NULL THEN j.tags ELSE r.tags END, \
             description = CASE WHEN r.job_id IS NULL THEN j.description ELSE r.description END, \
             salary_currency = CASE WHEN r.job_id IS NULL THEN j.salary_currency ELSE r.salary_currency END, \
             salary_min = CASE WHEN r.job_id IS NULL THEN j.salary_min ELSE r.salary_min END, \
             salary_max = CASE WHEN r.job_id IS NULL THEN j.salary_max ELSE r.salary_max END, \
             deadline_unix = CASE WHEN r.job_id IS NULL THEN j.deadline_unix ELSE r.deadline_unix END, \
             updated_block = COALESCE(u.block_number, j.updated_block), \
             updated_at = COALESCE(u.block_time, j.updated_at), \
             closed = j.closed OR c.job_id IS NOT NULL, \
             closed_block = COALESCE(c.block_number, j.closed_block), \
             closed_at = COALESCE(c.block_time, j.closed_at), \
             application_count = j.application_count + COALESCE(a.n, 0) \
         FROM touched t LEFT JOIN revision r USING (job_id) LEFT JOIN last_event u USING (job_id) \
             LEFT JOIN closed c USING (job_id) LEFT JOIN applied a USING (job_id) \
         WHERE j.chain_id = $1 AND j.contract = $2 AND j.job_id = t.job_id \
             AND j.job_id BETWEEN (SELECT min(job_id) FROM touched) AND (SELECT max(job_id) FROM touched) \
         RETURNING j.job_id, u.job_id IS NOT NULL AS had_job_event) \
     SELECT (SELECT count(*) FROM posted), \
            (SELECT count(*) FROM last_event l WHERE NOT EXISTS (SELECT FROM new_jobs n WHERE n.job_id = l.job_id)), \
            (SELECT count(*) FROM changed WHERE had_job_event)";

/// New applications in their final state and one update per older application whose status
/// the chunk changed; returns the older applications changed, how many were updated, and the
/// applications inserted. `$3` ApplicationSubmitted, `$4` the submitted status.
const APPLICATIONS: &str = "WITH application_events AS ( \
         SELECT application_id, job_id, kind, block_number, log_index, block_time, tx_hash, actor, status, head \
         FROM chunk WHERE application_id IS NOT NULL), \
     last_status AS ( \
         SELECT DISTINCT ON (application_id) application_id, status, block_number, block_time \
         FROM application_events \
         WHERE kind <> $3 ORDER BY application_id, block_number DESC, log_index DESC), \
     submitted AS ( \
         INSERT INTO applications (chain_id, contract, application_id, job_id, applicant, application_hash, \
             status, submitted_block, submitted_log_index, submitted_tx, submitted_at, updated_block, \
             updated_at) \
         SELECT $1, $2, s.application_id, s.job_id, s.actor, s.head, COALESCE(l.status, $4), s.block_number, \
             s.log_index, s.tx_hash, s.block_time, COALESCE(l.block_number, s.block_number), \
             COALESCE(l.block_time, s.block_time) \
         FROM application_events s LEFT JOIN last_status l USING (application_id) \
         WHERE s.kind = $3 \
         RETURNING application_id), \
     older AS ( \
         SELECT * FROM last_status l \
         WHERE NOT EXISTS ( \
             SELECT FROM application_events s WHERE s.kind = $3 AND s.application_id = l.application_id)), \
     changed AS ( \
         UPDATE applications a SET status = o.status, updated_block = o.block_number, updated_at = o.block_time \
         FROM older o \
         WHERE a.chain_id = $1 AND a.contract = $2 AND a.application_id = o.application_id \
             AND a.application_id BETWEEN (SELECT min(application_id) FROM older) \
                 AND (SELECT max(application_id) FROM older) \
         RETURNING 1) \
     SELECT (SELECT count(*) FROM older), (SELECT count(*) FROM changed), (SELECT count(*) FROM submitted)";

/// The employer counters: postings add a job and an open job, closes take an open job from
/// their job's employer. `$3` JobPosted, `$4` JobClosed.
const EMPLOYERS: &str = "WITH d AS ( \
         SELECT actor AS address, 1 AS jobs, 1 AS open FROM chunk WHERE kind = $3 \
         UNION ALL \
         SELECT j.employer, 0, -1 FROM chunk e JOIN jobs j \
             ON j.chain_id = $1 AND j.contract = $2 AND j.job_id = e.job_id \
         WHERE e.kind = $4) \
     INSERT INTO employers (chain_id, contract, address, job_count, open_job_count) \
     SELECT $1, $2, address, sum(jobs)::int, sum(open)::int FROM d GROUP BY address \
     ON CONFLICT (chain_id, contract, address) DO UPDATE \
       SET job_count = employers.job_count + EXCLUDED.job_count, \
           open_job_count = employers.open_job_count + EXCLUDED.open_job_count";

/// The applicant counters: submissions add an application and a live one, withdrawals take a
/// live one from their application's applicant. `$3` ApplicationSubmitted, `$4` the withdrawn
/// status.
const APPLICANTS: &str = "WITH d AS ( \
         SELECT actor AS address, 1 AS total, 1 AS live FROM chunk WHERE kind = $3 \
         UNION ALL \
         SELECT a.applicant, 0, -1 FROM chunk e JOIN applications a \
             ON a.chain_id = $1 AND a.contract = $2 AND a.application_id = e.application_id \
         WHERE e.application_id IS NOT NULL AND e.status = $4) \
     INSERT INTO applicants (chain_id, contract, address, application_count, live_application_count) \
     SELECT $1, $2, address, sum(total)::int, sum(live)::int FROM d GROUP BY address \
     ON CONFLICT (chain_id, contract, address) DO UPDATE \
       SET application_count = applicants.application_count + EXCLUDED.application_count, \
           live_application_count = applicants.live_application_count + EXCLUDED.live_application_count";

/// Projects the raw rows loaded beyond the checkpoint and moves the checkpoint over them, in one
/// transaction (committed without waiting for the WAL flush, as the load is: ADR 0021): up to
/// `through` when given (a block the loaded mark has reached), else up to the loaded mark.
/// Returns the new checkpoint, or `None` when nothing was loaded beyond it.
///
/// The marks are read without a row lock, so that the next batch's load (which moves the
/// loaded mark) runs beside this projection, on another connection; the checkpoint then moves
/// by a compare-and-set at the end: from the value read here, and only while the loaded mark is
/// at or beyond `through`. A raw row is read only if its block is at or below `through`, which
/// every load that reached `through` had committed before it was named, so the rows of a load
/// committing meanwhile are not part of this chunk.
///
/// # Errors
/// [`StoreError::CheckpointConflict`] when `through` is not between the checkpoint and the
/// loaded mark, or either moved meanwhile (another writer); [`StoreError::Corrupt`] when an
/// event changes an entity the projections lack (the event log and the projections disagree);
/// [`StoreError::Database`] if a statement fails. Either way nothing is written.
pub(crate) async fn project_loaded(
    conn: &mut PgConnection,
    board: &Board,
    through: Option<&BlockRef>,
) -> Result<Option<u64>, StoreError> {
    let chain_id = board.chain_id_sql()?;
    let contract = board.contract.to_vec();
    let started = std::time::Instant::now();
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
    // The chunk's DISTINCT ON sorts and GROUP BYs hold a few hundred thousand narrow rows.
    sqlx::query("SET LOCAL work_mem = '64MB'").execute(&mut *tx).await?;
    let marks: Option<Marks> = sqlx::query_as(
        "SELECT block_number, loaded_block, loaded_hash, loaded_time FROM indexer_state \
         WHERE chain_id = $1 AND contract = $2",
    )
    .bind(chain_id)
    .bind(&contract)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((checkpoint, Some(loaded), Some(loaded_hash), Some(loaded_time))) = marks else {
        return Ok(None);
    };
    let after = checkpoint.unwrap_or(-1);
    let (to, to_hash, to_time) = match through {
        None => (loaded, loaded_hash, loaded_time),
        Some(block) => {
            let number = to_sql_i64(block.number, "block number")?;
            if number > loaded || number <= after {
                let found = from_sql_i64(loaded, "block number").ok();
                return Err(StoreError::CheckpointConflict { expected: Some(block.number), found });
            }
            (number, block.hash.to_vec(), to_sql_time(block.time)?)
        }
    };
    let name = |kind: EventKind| kind.name();
    let (submitted, withdrawn) = (ApplicationStatus::Submitted as i16, ApplicationStatus::Withdrawn as i16);

    for create in CREATE_TEMPORARY {
        sqlx::query(create).execute(&mut *tx).await?;
    }
    for fill in [FILL_CHUNK, FILL_REVISIONS] {
        sqlx::query(fill).bind(chain_id).bind(&contract).bind(after).bind(to).execute(&mut *tx).await?;
    }
    // Row counts, not histograms, are what these plans need: a small sample reads a few
    // thousand pages however large the tables grow (the backfill's end analyses them in full).
    sqlx::query("SET LOCAL default_statistics_target = 10").execute(&mut *tx).await?;
    sqlx::query(ANALYZE_CHUNK_AND_BASE).execute(&mut *tx).await?;
    let copied = started.elapsed();
    let (posted, older_jobs, jobs_changed): (i64, i64, i64) = sqlx::query_as(JOBS)
        .bind(chain_id)
        .bind(&contract)
        .bind(name(EventKind::JobPosted))
        .bind(name(EventKind::JobClosed))
        .bind(name(EventKind::ApplicationSubmitted))
        .bind(withdrawn)
        .fetch_one(&mut *tx)
        .await?;
    super::expect_updated(jobs_changed as u64, older_jobs as usize, "jobs")?;
    let jobs_done = started.elapsed();
    let (older_applications, applications_changed, applications_submitted): (i64, i64, i64) =
        sqlx::query_as(APPLICATIONS)
            .bind(chain_id)
            .bind(&contract)
            .bind(name(EventKind::ApplicationSubmitted))
            .bind(submitted)
            .fetch_one(&mut *tx)
            .await?;
    super::expect_updated(applications_changed as u64, older_applications as usize, "applications")?;
    // The counters look up the employer of each closed job and the applicant of each
    // withdrawal, among rows this transaction has just inserted: counted again (ANALYZE counts
    // its own transaction's rows), or the planner takes the tables for the size they had.
    sqlx::query(ANALYZE_BASE).execute(&mut *tx).await?;
    let applications_done = started.elapsed();
    sqlx::query(EMPLOYERS)
        .bind(chain_id)
        .bind(&contract)
        .bind(name(EventKind::JobPosted))
        .bind(name(EventKind::JobClosed))
        .execute(&mut *tx)
        .await?;
    sqlx::query(APPLICANTS)
        .bind(chain_id)
        .bind(&contract)
        .bind(name(EventKind::ApplicationSubmitted))
        .bind(withdrawn)
        .execute(&mut *tx)
        .await?;
    let counted = started.elapsed();
    let moved = sqlx::query(
        "UPDATE indexer_state SET block_number = $3, block_hash = $4, block_time = $5, \
             loaded_block = NULLIF(loaded_block, $3), \
             loaded_hash = CASE WHEN loaded_block = $3 THEN NULL ELSE loaded_hash END, \
             loaded_time = CASE WHEN loaded_block = $3 THEN NULL ELSE loaded_time END, updated_at = now() \
         WHERE chain_id = $1 AND contract = $2 AND block_number IS NOT DISTINCT FROM $6 AND loaded_block >= $3",
    )
    .bind(chain_id)
    .bind(&contract)
    .bind(to)
    .bind(&to_hash)
    .bind(to_time)
    .bind(checkpoint)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        let expected = checkpoint.and_then(|c| u64::try_from(c).ok());
        return Err(checkpoint_conflict(&mut tx, board, expected).await);
    }
    let to = from_sql_i64(to, "block number")?;
    notify(&mut tx, board, Change::Indexed { to }).await?;
    tx.commit().await?;
    tracing::debug!(
        from_block = after + 1,
        to_block = to,
        jobs_posted = posted,
        jobs_changed,
        applications_submitted,
        applications_changed,
        copy = ?copied,
        jobs = ?(jobs_done - copied),
        applications = ?(applications_done - jobs_done),
        counters = ?(counted - applications_done),
        commit = ?(started.elapsed() - counted),
        "projected loaded rows"
    );
    Ok(Some(to))
}
