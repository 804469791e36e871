//! Applications: pages per job, per applicant or board-wide, their counts, lookups by id, and
//! each application's status history.

use std::collections::HashMap;

use alloy::primitives::{Address, B256};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder, Row};

use super::filters::{
    ApplicationFilter, ApplicationOrder, ApplicationParent, ApplicationScope, Page, PageRequest,
    push_application_filter,
};
use super::jobs::JobRow;
use super::prefetch::PagesRead;
use super::{
    APPLICATION_COLUMNS, JOB_COLUMNS, Reader, finish_pages, joined_job_aliases, push_key_text,
    push_outer_order, push_page,
};
use crate::contract::ApplicationStatus;
use crate::store::decode::{address_from, b256_from, status_from, u64_from};
use crate::store::{StoreError, to_sql_i64};

/// An application as stored, with its current status.
#[derive(Debug, Clone)]
pub struct ApplicationRow {
    /// The on-chain id.
    pub application_id: u64,
    /// The job applied to.
    pub job_id: u64,
    /// The applicant's address.
    pub applicant: Address,
    /// The salted document hash.
    pub application_hash: B256,
    /// Current status.
    pub status: ApplicationStatus,
    /// Block of the `ApplicationSubmitted` event.
    pub submitted_block: u64,
    /// Its transaction.
    pub submitted_tx: B256,
    /// Its block's time.
    pub submitted_at: DateTime<Utc>,
    /// Time of the latest status change.
    pub updated_at: DateTime<Utc>,
}

impl<'r> FromRow<'r, PgRow> for ApplicationRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(ApplicationRow {
            application_id: u64_from(row.try_get("application_id")?, "applications.application_id")?,
            job_id: u64_from(row.try_get("job_id")?, "applications.job_id")?,
            applicant: address_from(&row.try_get::<Vec<u8>, _>("applicant")?, "applications.applicant")?,
            application_hash: b256_from(
                &row.try_get::<Vec<u8>, _>("application_hash")?,
                "applications.application_hash",
            )?,
            status: status_from(row.try_get("status")?, "applications.status")?,
            submitted_block: u64_from(row.try_get("submitted_block")?, "applications.submitted_block")?,
            submitted_tx: b256_from(
                &row.try_get::<Vec<u8>, _>("submitted_tx")?,
                "applications.submitted_tx",
            )?,
            submitted_at: row.try_get("submitted_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// One status an application has had (the first is its submission).
#[derive(Debug, Clone)]
pub struct StatusChangeRow {
    /// The application.
    pub application_id: u64,
    /// The status.
    pub status: ApplicationStatus,
    /// Block of the event.
    pub block_number: u64,
    /// Its log index.
    pub log_index: i32,
    /// Its transaction.
    pub tx_hash: B256,
    /// Its block's time.
    pub block_time: DateTime<Utc>,
}

impl<'r> FromRow<'r, PgRow> for StatusChangeRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(StatusChangeRow {
            application_id: u64_from(
                row.try_get("application_id")?,
                "application_status_changes.application_id",
            )?,
            status: status_from(row.try_get("status")?, "application_status_changes.status")?,
            block_number: u64_from(row.try_get("block_number")?, "application_status_changes.block_number")?,
            log_index: row.try_get("log_index")?,
            tx_hash: b256_from(&row.try_get::<Vec<u8>, _>("tx_hash")?, "application_status_changes.tx_hash")?,
            block_time: row.try_get("block_time")?,
        })
    }
}

/// How an application list's rows are tied to their parent.
enum ParentMatch {
    /// No parent: all of the board's applications.
    None,
    /// Several parents: the column equals the lateral join's `p.parent`.
    Lateral(&'static str),
    /// One job: a plain indexed query plans and runs cheaper than a lateral join over an array.
    Job(i64),
    /// One applicant, likewise.
    Applicant(Vec<u8>),
}

impl Reader {
    /// A page of applications for each parent (a job or an applicant), or of all of them.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn applications(
        &self,
        scope: &ApplicationScope,
        filter: &ApplicationFilter,
        order: ApplicationOrder,
        page: &PageRequest,
    ) -> Result<HashMap<ApplicationParent, Page<ApplicationRow>>, StoreError> {
        let (pages, _) = self.application_pages(scope, filter, order, page, false).await?;
        Ok(pages)
    }

    pub(super) async fn application_pages(
        &self,
        scope: &ApplicationScope,
        filter: &ApplicationFilter,
        order: ApplicationOrder,
        page: &PageRequest,
        with_jobs: bool,
    ) -> Result<(HashMap<ApplicationParent, Page<ApplicationRow>>, HashMap<u64, JobRow>), StoreError> {
        let mut qb = QueryBuilder::new("");
        self.push_application_pages(&mut qb, scope, filter, order, page, with_jobs)?;
        self.count_statement();
        let rows = qb.build().fetch_all(&self.pool).await?;
        let mut read = PagesRead::default();
        for row in &rows {
            read.decode(row, scope, with_jobs)?;
        }
        Ok((finish_pages(read.pages, page), read.jobs))
    }

    /// Appends the statement of [`Reader::applications`] (or, `with_jobs`, of
    /// [`Reader::applications_with_jobs`]): one page per parent of `scope`, each row with a
    /// `parent` column (but for the board-wide list), `sort_key`, `sort_id`, and the job's
    /// columns last.
    pub(super) fn push_application_pages(
        &self,
        qb: &mut QueryBuilder<'_, Postgres>,
        scope: &ApplicationScope,
        filter: &ApplicationFilter,
        order: ApplicationOrder,
        page: &PageRequest,
        with_jobs: bool,
    ) -> Result<(), StoreError> {
        let order_sql = order.sql();
        let inner = |qb: &mut QueryBuilder<'_, Postgres>, parent: ParentMatch| {
            qb.push("SELECT ").push(APPLICATION_COLUMNS).push(", ");
            push_key_text(qb, &order_sql, None);
            qb.push(" FROM applications a WHERE");
            self.board_condition(qb, "a");
            match parent {
                ParentMatch::None => {}
                ParentMatch::Lateral(column) => {
                    qb.push(format_args!(" AND a.{column} = p.parent"));
                }
                ParentMatch::Job(job) => {
                    qb.push(" AND a.job_id = ").push_bind(job);
                }
                ParentMatch::Applicant(applicant) => {
                    qb.push(" AND a.applicant = ").push_bind(applicant);
                }
            }
            qb.push(" AND ");
            push_application_filter(qb, filter);
            push_page(qb, &order_sql, None, page);
        };
        // With jobs, the page's statement becomes the outer side of a lateral join: the page
        // is cut first, then each of its rows looks its job up by primary key (`LIMIT 1` keeps
        // the planner from flattening the lookup into a join over every job), and the page's
        // order is restored on the outside. The job's columns take names of their own (`j0` ..)
        // so they cannot shadow the application's `job_id` or `updated_at`; they are decoded
        // by position.
        if with_jobs {
            qb.push("SELECT y.*, jj.* FROM (");
        }
        match scope {
            ApplicationScope::All => inner(qb, ParentMatch::None),
            ApplicationScope::Jobs(jobs) => {
                let jobs = jobs.iter().map(|&id| to_sql_i64(id, "job id")).collect::<Result<Vec<_>, _>>()?;
                if let [job] = jobs[..] {
                    // One parent (a job reached alone): a plain indexed query plans and runs
                    // cheaper than the lateral join over an array.
                    qb.push("SELECT ").push_bind(job).push("::bigint AS parent, x.* FROM (");
                    inner(qb, ParentMatch::Job(job));
                } else {
                    qb.push("SELECT p.parent, x.* FROM UNNEST(")
                        .push_bind(jobs)
                        .push("::bigint[]) AS p(parent) CROSS JOIN LATERAL (");
                    inner(qb, ParentMatch::Lateral("job_id"));
                }
                qb.push(") x");
            }
            ApplicationScope::Applicants(applicants) => {
                let applicants: Vec<Vec<u8>> = applicants.iter().map(|a| a.to_vec()).collect();
                if let [applicant] = &applicants[..] {
                    qb.push("SELECT ").push_bind(applicant.clone()).push("::bytea AS parent, x.* FROM (");
                    inner(qb, ParentMatch::Applicant(applicant.clone()));
                } else {
                    qb.push("SELECT p.parent, x.* FROM UNNEST(")
                        .push_bind(applicants)
                        .push("::bytea[]) AS p(parent) CROSS JOIN LATERAL (");
                    inner(qb, ParentMatch::Lateral("applicant"));
                }
                qb.push(") x");
            }
        }
        if with_jobs {
            qb.push(") y LEFT JOIN LATERAL (SELECT ").push(JOB_COLUMNS).push(" FROM jobs j WHERE");
            self.board_condition(qb, "j");
            qb.push(" AND j.job_id = y.job_id LIMIT 1) AS jj(")
                .push(joined_job_aliases("j"))
                .push(") ON true");
            push_outer_order(qb, "y", &order_sql, page);
        }
        Ok(())
    }

    /// How many applications match, for each parent (or in all).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn count_applications(
        &self,
        scope: &ApplicationScope,
        filter: &ApplicationFilter,
    ) -> Result<HashMap<ApplicationParent, i64>, StoreError> {
        let mut qb = QueryBuilder::new("");
        let inner = |qb: &mut QueryBuilder<'_, Postgres>, parent: Option<&str>| {
            qb.push("SELECT count(*) FROM applications a WHERE");
            self.board_condition(qb, "a");
            if let Some(column) = parent {
                qb.push(format_args!(" AND a.{column} = p.parent"));
            }
            qb.push(" AND ");
            push_application_filter(qb, filter);
        };
        self.count_statement();
        match scope {
            ApplicationScope::All => {
                inner(&mut qb, None);
                let n: i64 = qb.build_query_scalar().fetch_one(&self.pool).await?;
                Ok(HashMap::from([(ApplicationParent::All, n)]))
            }
            ApplicationScope::Jobs(jobs) => {
                let jobs = jobs.iter().map(|&id| to_sql_i64(id, "job id")).collect::<Result<Vec<_>, _>>()?;
                qb.push("SELECT p.parent, (");
                inner(&mut qb, Some("job_id"));
                qb.push(") FROM UNNEST(").push_bind(jobs).push("::bigint[]) AS p(parent)");
                let rows: Vec<(i64, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|(p, n)| Ok((ApplicationParent::Job(u64_from(p, "parent job")?), n)))
                    .collect()
            }
            ApplicationScope::Applicants(applicants) => {
                let applicants: Vec<Vec<u8>> = applicants.iter().map(|a| a.to_vec()).collect();
                qb.push("SELECT p.parent, (");
                inner(&mut qb, Some("applicant"));
                qb.push(") FROM UNNEST(").push_bind(applicants).push("::bytea[]) AS p(parent)");
                let rows: Vec<(Vec<u8>, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|(p, n)| {
                        Ok((ApplicationParent::Applicant(address_from(&p, "parent applicant")?), n))
                    })
                    .collect()
            }
        }
    }

    /// Applications by id.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn applications_by_id(&self, ids: &[u64]) -> Result<HashMap<u64, ApplicationRow>, StoreError> {
        let ids = ids.iter().map(|&id| to_sql_i64(id, "application id")).collect::<Result<Vec<_>, _>>()?;
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(APPLICATION_COLUMNS).push(" FROM applications a WHERE");
        self.board_condition(&mut qb, "a");
        qb.push(" AND a.application_id = ANY(").push_bind(ids).push(")");
        self.count_statement();
        let rows: Vec<ApplicationRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|r| (r.application_id, r)).collect())
    }

    /// Every status of each application, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn status_history(
        &self,
        applications: &[u64],
    ) -> Result<HashMap<u64, Vec<StatusChangeRow>>, StoreError> {
        let ids =
            applications.iter().map(|&id| to_sql_i64(id, "application id")).collect::<Result<Vec<_>, _>>()?;
        let mut qb = QueryBuilder::new(
            "SELECT s.application_id, s.status, s.block_number, s.log_index, s.tx_hash, s.block_time \
             FROM application_status_changes s WHERE",
        );
        self.board_condition(&mut qb, "s");
        qb.push(" AND s.application_id = ANY(")
            .push_bind(ids)
            .push(") ORDER BY s.application_id, s.block_number, s.log_index");
        self.count_statement();
        let rows: Vec<StatusChangeRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let mut map: HashMap<u64, Vec<StatusChangeRow>> = HashMap::new();
        for row in rows {
            map.entry(row.application_id).or_default().push(row);
        }
        Ok(map)
    }
}
