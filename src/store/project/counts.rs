//! The employer and applicant counters: added as deltas after each batch, recounted from
//! the projections after a revert.

use sqlx::PgConnection;

use super::{CountDeltas, Touched};
use crate::store::{Board, StoreError};

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
