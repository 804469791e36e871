//! Look-ahead reads: a parent with its first page of children, or a page of applications
//! with the job of each row, in one statement, for GraphQL selections that would otherwise
//! cost one round trip per level.

use std::collections::HashMap;

use alloy::primitives::Address;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder, Row};

use super::applications::ApplicationRow;
use super::filters::{
    ApplicationFilter, ApplicationOrder, ApplicationParent, ApplicationScope, Page, PageRequest, SortKey,
};
use super::jobs::JobRow;
use super::parties::ApplicantRow;
use super::{
    APPLICANT_COLUMNS, JOB_COLUMNS, JOINED_JOB_COLUMNS, Reader, finish_pages, joined_job_aliases,
    push_outer_order,
};
use crate::store::decode::{address_from, u64_from};
use crate::store::{StoreError, to_sql_i64};

impl Reader {
    /// Like [`Reader::applications`], with the job of every row read in the same statement:
    /// a page whose client selects each application's job costs one round trip, not two.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn applications_with_jobs(
        &self,
        scope: &ApplicationScope,
        filter: &ApplicationFilter,
        order: ApplicationOrder,
        page: &PageRequest,
    ) -> Result<(HashMap<ApplicationParent, Page<ApplicationRow>>, HashMap<u64, JobRow>), StoreError> {
        self.application_pages(scope, filter, order, page, true).await
    }

    /// An applicant with a page of its applications (and their jobs, with `with_jobs`), in one
    /// statement: what `applicant(address) { … applications { … } }` needs. `None` if the
    /// address never applied.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn applicant_with_applications(
        &self,
        applicant: Address,
        filter: &ApplicationFilter,
        order: ApplicationOrder,
        page: &PageRequest,
        with_jobs: bool,
    ) -> Result<Option<(ApplicantRow, Page<ApplicationRow>, HashMap<u64, JobRow>)>, StoreError> {
        let scope = ApplicationScope::Applicants(vec![applicant]);
        // The applicant's column names are not among the page's, so both decode by name.
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(APPLICANT_COLUMNS).push(", z.* FROM applicants e LEFT JOIN LATERAL (");
        self.push_application_pages(&mut qb, &scope, filter, order, page, with_jobs)?;
        qb.push(") z ON true WHERE");
        self.board_condition(&mut qb, "e");
        qb.push(" AND e.address = ").push_bind(applicant.to_vec());
        push_outer_order(&mut qb, "z", &order.sql(), page);
        self.fetch_parent_with_page(qb, &scope, with_jobs, page, |row| ApplicantRow::from_row(row).map(Some))
            .await
    }

    /// A job with a page of its applications (and their jobs, with `with_jobs`), in one
    /// statement: what `job(id) { … applications { … } }` needs. `None` if there is no such job.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn job_with_applications(
        &self,
        job: u64,
        filter: &ApplicationFilter,
        order: ApplicationOrder,
        page: &PageRequest,
        with_jobs: bool,
    ) -> Result<Option<(JobRow, Page<ApplicationRow>, HashMap<u64, JobRow>)>, StoreError> {
        let scope = ApplicationScope::Jobs(vec![job]);
        // The parent job's columns come first, named `p0` .. so that they shadow nothing.
        let mut qb = QueryBuilder::new("SELECT jp.*, z.* FROM (SELECT ");
        qb.push(JOB_COLUMNS).push(" FROM jobs j WHERE");
        self.board_condition(&mut qb, "j");
        qb.push(" AND j.job_id = ")
            .push_bind(to_sql_i64(job, "job id")?)
            .push(") AS jp(")
            .push(joined_job_aliases("p"))
            .push(") LEFT JOIN LATERAL (");
        self.push_application_pages(&mut qb, &scope, filter, order, page, with_jobs)?;
        qb.push(") z ON true");
        push_outer_order(&mut qb, "z", &order.sql(), page);
        self.fetch_parent_with_page(qb, &scope, with_jobs, page, |row| JobRow::from_columns(row, 0)).await
    }

    /// Runs a statement that joins one parent to its page of applications (built around
    /// [`Reader::push_application_pages`] for the single-parent `scope`) and decodes the parent
    /// from the first row with `parent`. `None` if the parent was not found.
    async fn fetch_parent_with_page<P>(
        &self,
        mut qb: QueryBuilder<'_, Postgres>,
        scope: &ApplicationScope,
        with_jobs: bool,
        page: &PageRequest,
        parent: impl Fn(&PgRow) -> Result<Option<P>, sqlx::Error>,
    ) -> Result<Option<(P, Page<ApplicationRow>, HashMap<u64, JobRow>)>, StoreError> {
        self.count_statement();
        let rows = qb.build().fetch_all(&self.pool).await?;
        let Some(found) = rows.first().map(parent).transpose()?.flatten() else { return Ok(None) };
        let (page, jobs) = PagesRead::parent_page(&rows, scope, with_jobs, page)?;
        Ok(Some((found, page, jobs)))
    }
}

#[derive(sqlx::FromRow)]
struct KeyedApplication {
    #[sqlx(flatten)]
    row: ApplicationRow,
    sort_key: String,
    sort_id: i64,
}

#[derive(sqlx::FromRow)]
struct JobKeyedApplication {
    parent: i64,
    #[sqlx(flatten)]
    application: KeyedApplication,
}

#[derive(sqlx::FromRow)]
struct AddressKeyedApplication {
    parent: Vec<u8>,
    #[sqlx(flatten)]
    application: KeyedApplication,
}

/// Pages of applications (and their jobs) as their rows are decoded.
#[derive(Default)]
pub(super) struct PagesRead {
    pub(super) pages: HashMap<ApplicationParent, Page<ApplicationRow>>,
    pub(super) jobs: HashMap<u64, JobRow>,
}

impl PagesRead {
    /// The one page (and its jobs) of a parent read with its page: rows of the parent joined
    /// to [`Reader::push_application_pages`]'s statement for a single-parent `scope`.
    fn parent_page(
        rows: &[PgRow],
        scope: &ApplicationScope,
        with_jobs: bool,
        request: &PageRequest,
    ) -> Result<(Page<ApplicationRow>, HashMap<u64, JobRow>), sqlx::Error> {
        let mut read = PagesRead::default();
        for row in rows {
            // A parent with no application on the page still comes back, once, as NULLs.
            if row.try_get::<Option<i64>, _>("application_id")?.is_some() {
                read.decode(row, scope, with_jobs)?;
            }
        }
        let page = finish_pages(read.pages, request).into_values().next().unwrap_or_default();
        Ok((page, read.jobs))
    }

    /// Adds one row of [`Reader::push_application_pages`]'s statement: the application by
    /// column name, then the job (if joined) by position.
    pub(super) fn decode(
        &mut self,
        row: &PgRow,
        scope: &ApplicationScope,
        with_jobs: bool,
    ) -> Result<(), sqlx::Error> {
        if with_jobs && let Some(job) = JobRow::from_columns(row, row.len() - JOINED_JOB_COLUMNS)? {
            self.jobs.insert(job.job_id, job);
        }
        let (parent, keyed) = match scope {
            ApplicationScope::All => (ApplicationParent::All, KeyedApplication::from_row(row)?),
            ApplicationScope::Jobs(_) => {
                let r = JobKeyedApplication::from_row(row)?;
                (ApplicationParent::Job(u64_from(r.parent, "parent job")?), r.application)
            }
            ApplicationScope::Applicants(_) => {
                let r = AddressKeyedApplication::from_row(row)?;
                (ApplicationParent::Applicant(address_from(&r.parent, "parent applicant")?), r.application)
            }
        };
        let key = SortKey { value: keyed.sort_key, id: keyed.sort_id };
        self.pages.entry(parent).or_default().rows.push((key, keyed.row));
        Ok(())
    }
}
