//! The plans PostgreSQL picks for the list statements, for the plan tests and for an operator
//! chasing a slow list.

use sqlx::{Postgres, QueryBuilder};

use super::Reader;
use super::filters::{
    ActivityFilter, ApplicationFilter, ApplicationOrder, ApplicationScope, JobFilter, JobOrder, PageRequest,
};
use crate::store::StoreError;

impl Reader {
    /// The plan PostgreSQL picks for the statement of [`Reader::jobs`] (board-wide), as
    /// `EXPLAIN` prints it: how the plans test, and an operator chasing a slow list, check that
    /// an index serves it.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn explain_jobs(
        &self,
        filter: &JobFilter,
        search: Option<&str>,
        order: JobOrder,
        page: &PageRequest,
    ) -> Result<String, StoreError> {
        let mut qb = QueryBuilder::new("EXPLAIN ");
        self.push_jobs_page(&mut qb, filter, search, order, page, false);
        self.explain(qb).await
    }

    /// The plan of [`Reader::applications`]'s board-wide statement (see [`Reader::explain_jobs`]).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn explain_applications(
        &self,
        scope: &ApplicationScope,
        filter: &ApplicationFilter,
        order: ApplicationOrder,
        page: &PageRequest,
    ) -> Result<String, StoreError> {
        let mut qb = QueryBuilder::new("EXPLAIN ");
        self.push_application_pages(&mut qb, scope, filter, order, page, false)?;
        self.explain(qb).await
    }

    /// The plan of [`Reader::activity`]'s statement (see [`Reader::explain_jobs`]).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn explain_activity(
        &self,
        filter: &ActivityFilter,
        page: &PageRequest,
    ) -> Result<String, StoreError> {
        let mut qb = QueryBuilder::new("EXPLAIN ");
        self.push_activity_page(&mut qb, filter, page);
        self.explain(qb).await
    }

    async fn explain(&self, mut qb: QueryBuilder<'_, Postgres>) -> Result<String, StoreError> {
        let lines: Vec<String> = qb.build_query_scalar().fetch_all(&self.pool).await?;
        Ok(lines.join("\n"))
    }
}
