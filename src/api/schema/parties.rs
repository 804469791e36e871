//! The board's parties: employers and applicants, reached by address or from a row.

use super::*;

/// An address that has posted jobs.
///
/// Reached from a job, only the address is known, and that is often all a client selects; the
/// counts are loaded (batched across the response) only when selected.
pub struct Employer {
    pub(super) address: alloy::primitives::Address,
    pub(super) row: Option<EmployerRow>,
    pub(super) on: BoardIx,
}

impl Employer {
    /// An employer known to exist (it posted a job on `on`), counts not loaded yet.
    pub(super) fn known(address: alloy::primitives::Address, on: BoardIx) -> Employer {
        Employer { address, row: None, on }
    }

    /// An employer read with its counts.
    pub(super) fn loaded(row: EmployerRow, on: BoardIx) -> Employer {
        Employer { address: row.address, row: Some(row), on }
    }

    /// (jobs posted, jobs open), loading them if this employer was reached from a job.
    async fn counts(&self, ctx: &Context<'_>) -> Result<(i32, i32)> {
        let row = match &self.row {
            Some(row) => return Ok((row.job_count, row.open_job_count)),
            None => board(ctx, self.on).loaders.load_one(EmployerAddress(self.address)).await.map_err(gql)?,
        };
        row.map(|row| (row.job_count, row.open_job_count)).ok_or_else(|| gql(ApiError::Internal))
    }
}

/// An address that has posted jobs.
#[Object]
impl Employer {
    /// The address.
    async fn address(&self) -> Address {
        Address(self.address)
    }

    /// The chain this employer's jobs and counts are on.
    async fn chain_id(&self, ctx: &Context<'_>) -> BigInt {
        BigInt(board(ctx, self.on).chain_id())
    }

    /// The employer's jobs, newest first unless ordered otherwise.
    #[graphql(complexity = "cost::list(first, None, child_complexity)")]
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the rows must meet.")] r#where: Option<JobFilter>,
        #[graphql(desc = "The ordering; ties go by id.")] order_by: Option<JobOrderBy>,
        #[graphql(desc = "How many rows from the start of the list (default 20, at most the page maximum).")]
        first: Option<i32>,
        #[graphql(desc = "Only rows after this cursor (an `endCursor` or edge cursor of the same list).")]
        after: Option<String>,
    ) -> Result<JobConnection> {
        let order = order_by.unwrap_or(JobOrderBy::Newest);
        if order == JobOrderBy::Relevance {
            return Err(bad_input("RELEVANCE ordering needs a search; use Query.jobs(search: …)"));
        }
        let list = job_list(order);
        let accepts = |k: &SortKey| store::JobOrder::from(order).accepts_key(k);
        let request = page_request(ctx, &list, accepts, first, after, None, None)?;
        let filter = r#where.unwrap_or_default().to_store()?;
        let address = self.address;
        let args = JobListArgs { filter: filter.clone(), order: order.into(), page: request.clone() };
        let loaders = &board(ctx, self.on).loaders;
        let page = loaders.load_one(EmployerJobs(address, args)).await.map_err(gql)?.unwrap_or_default();
        let count = JobCount::Employer(self.on, address, filter);
        Ok(JobConnection::local(page, self.on, &request, list, count))
    }

    /// Jobs posted.
    async fn job_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.counts(ctx).await?.0)
    }

    /// Jobs open now (not closed, deadline not passed).
    async fn open_job_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.counts(ctx).await?.1)
    }
}

/// An address that has applied.
///
/// Like [`Employer`]: reached from an application, only the address is known until a count is
/// selected.
pub struct Applicant {
    pub(super) address: alloy::primitives::Address,
    pub(super) row: Option<ApplicantRow>,
    pub(super) applications: Option<Prefetched>,
    pub(super) on: BoardIx,
}

impl Applicant {
    /// An applicant known to exist (it applied on `on`), counts not loaded yet.
    pub(super) fn known(address: alloy::primitives::Address, on: BoardIx) -> Applicant {
        Applicant { address, row: None, applications: None, on }
    }

    /// An applicant read with its counts.
    pub(super) fn loaded(row: ApplicantRow, on: BoardIx) -> Applicant {
        Applicant { address: row.address, row: Some(row), applications: None, on }
    }

    /// (live applications, all applications), loading them if reached from an application.
    async fn counts(&self, ctx: &Context<'_>) -> Result<(i32, i32)> {
        let row = match &self.row {
            Some(row) => return Ok((row.live_application_count, row.application_count)),
            None => {
                board(ctx, self.on).loaders.load_one(ApplicantAddress(self.address)).await.map_err(gql)?
            }
        };
        row.map(|row| (row.live_application_count, row.application_count))
            .ok_or_else(|| gql(ApiError::Internal))
    }
}

/// An address that has applied to jobs.
#[Object]
impl Applicant {
    /// The address.
    async fn address(&self) -> Address {
        Address(self.address)
    }

    /// The chain this applicant's applications and counts are on.
    async fn chain_id(&self, ctx: &Context<'_>) -> BigInt {
        BigInt(board(ctx, self.on).chain_id())
    }

    /// The applicant's applications, newest first unless ordered otherwise.
    #[graphql(complexity = "cost::list(first, None, child_complexity)")]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the rows must meet.")] r#where: Option<ApplicationFilter>,
        #[graphql(desc = "The ordering; ties go by id.")] order_by: Option<ApplicationOrderBy>,
        #[graphql(desc = "How many rows from the start of the list (default 20, at most the page maximum).")]
        first: Option<i32>,
        #[graphql(desc = "Only rows after this cursor (an `endCursor` or edge cursor of the same list).")]
        after: Option<String>,
    ) -> Result<ApplicationConnection> {
        let parent = ApplicationParent::Applicant(self.address);
        let reached = if self.row.is_some() { Reached::Alone } else { Reached::InList };
        let list = (r#where, order_by, first, after);
        nested_applications(ctx, self.on, reached, parent, self.applications.as_ref(), list).await
    }

    /// Live applications (not withdrawn).
    async fn application_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.counts(ctx).await?.0)
    }

    /// Every application submitted, withdrawn ones included.
    async fn total_application_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.counts(ctx).await?.1)
    }
}
