//! The query root: the entry points of `../shared/docs/api-spec.md`.

use super::*;

/// Reads.
pub struct QueryRoot;

/// Reads: jobs, applications, employers, applicants, the activity feed and where the index stands.
#[Object]
impl QueryRoot {
    /// A job by id; null if there is none.
    async fn job(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The decimal on-chain id.")] id: ID,
    ) -> Result<Option<Job>> {
        let id = parse_id(&id, "id")?;
        // The usual shape, a job with one page of applications, is one statement.
        if let Some((args, with_jobs)) = plan_applications(ctx) {
            let found = api(ctx)
                .reader
                .job_with_applications(id, &args.filter, args.order, &args.page, with_jobs)
                .await
                .map_err(read_failed)?;
            return Ok(found.map(|(row, page, jobs)| {
                let applications = Prefetched::new(args, page, with_jobs.then_some(jobs));
                Job(row, Reached::Alone, Some(applications))
            }));
        }
        let mut rows = api(ctx).reader.jobs_by_id(&[id]).await.map_err(read_failed)?;
        Ok(rows.remove(&id).map(Job::alone))
    }

    /// Jobs, filtered, searched and ordered. With `search`, results are ranked by relevance
    /// unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments, reason = "the fixed GraphQL signature")]
    #[graphql(complexity = "cost::list(first, last, child_complexity)")]
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the rows must meet.")] r#where: Option<JobFilter>,
        #[graphql(
            desc = "Full-text search over title, company, location, tags and description; results are ranked by relevance unless ordered otherwise."
        )]
        search: Option<String>,
        #[graphql(desc = "The ordering; ties go by id.")] order_by: Option<JobOrderBy>,
        #[graphql(desc = "How many rows from the start of the list (default 20, at most the page maximum).")]
        first: Option<i32>,
        #[graphql(desc = "Only rows after this cursor (an `endCursor` or edge cursor of the same list).")]
        after: Option<String>,
        #[graphql(desc = "How many rows from the end of the list (at most the page maximum).")] last: Option<
            i32,
        >,
        #[graphql(desc = "Only rows before this cursor.")] before: Option<String>,
    ) -> Result<JobConnection> {
        let search = search.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.len() > 500) {
            return Err(bad_input("`search` is at most 500 characters"));
        }
        let order =
            order_by.unwrap_or(if search.is_some() { JobOrderBy::Relevance } else { JobOrderBy::Newest });
        if order == JobOrderBy::Relevance && search.is_none() {
            return Err(bad_input("RELEVANCE ordering needs a `search`"));
        }
        // A cursor is only valid for the same search, so the search is part of the list.
        let list = match &search {
            Some(s) if order == JobOrderBy::Relevance => {
                format!("{}:{}", job_list(order), alloy::hex::encode(s))
            }
            _ => job_list(order),
        };
        let accepts = |k: &SortKey| store::JobOrder::from(order).accepts_key(k);
        let request = page_request(ctx, &list, accepts, first, after, last, before)?;
        let filter = r#where.unwrap_or_default().to_store()?;
        let mut pages = api(ctx)
            .reader
            .jobs(&Scope::All, &filter, search.as_deref(), order.into(), &request)
            .await
            .map_err(read_failed)?;
        let page = pages.remove(&None).unwrap_or_default();
        Ok(JobConnection { page, request, list, count: JobCount::All(filter, search) })
    }

    /// An application by id; null if there is none.
    async fn application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The decimal on-chain id.")] id: ID,
    ) -> Result<Option<Application>> {
        let id = parse_id(&id, "id")?;
        let mut rows = api(ctx).reader.applications_by_id(&[id]).await.map_err(read_failed)?;
        Ok(rows.remove(&id).map(|row| Application(row, None)))
    }

    /// Applications, filtered and ordered (newest first by default).
    #[allow(clippy::too_many_arguments, reason = "the fixed GraphQL signature")]
    #[graphql(complexity = "cost::list(first, last, child_complexity)")]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the rows must meet.")] r#where: Option<ApplicationFilter>,
        #[graphql(desc = "The ordering; ties go by id.")] order_by: Option<ApplicationOrderBy>,
        #[graphql(desc = "How many rows from the start of the list (default 20, at most the page maximum).")]
        first: Option<i32>,
        #[graphql(desc = "Only rows after this cursor (an `endCursor` or edge cursor of the same list).")]
        after: Option<String>,
        #[graphql(desc = "How many rows from the end of the list (at most the page maximum).")] last: Option<
            i32,
        >,
        #[graphql(desc = "Only rows before this cursor.")] before: Option<String>,
    ) -> Result<ApplicationConnection> {
        let order = order_by.unwrap_or(ApplicationOrderBy::Newest);
        let list = application_list(order);
        let accepts = |k: &SortKey| store::ApplicationOrder::from(order).accepts_key(k);
        let request = page_request(ctx, &list, accepts, first, after, last, before)?;
        let filter = r#where.unwrap_or_default().to_store()?;
        let parent = ApplicationParent::All;
        let args = ApplicationListArgs { filter: filter.clone(), order: order.into(), page: request.clone() };
        let read = read_application_page(ctx, Reached::Alone, parent, args).await?;
        Ok(ApplicationConnection::new(read, request, list, parent, filter))
    }

    /// An employer by address; null if the address never posted.
    async fn employer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address, in any case.")] address: Address,
    ) -> Result<Option<Employer>> {
        let mut rows = api(ctx).reader.employers(&[address.0]).await.map_err(read_failed)?;
        Ok(rows.remove(&address.0).map(Employer::loaded))
    }

    /// An applicant by address; null if the address never applied.
    async fn applicant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address, in any case.")] address: Address,
    ) -> Result<Option<Applicant>> {
        // The usual shape, an applicant with one page of applications, is one statement.
        if let Some((args, with_jobs)) = plan_applications(ctx) {
            let found = api(ctx)
                .reader
                .applicant_with_applications(address.0, &args.filter, args.order, &args.page, with_jobs)
                .await
                .map_err(read_failed)?;
            return Ok(found.map(|(row, page, jobs)| Applicant {
                applications: Some(Prefetched::new(args, page, with_jobs.then_some(jobs))),
                ..Applicant::loaded(row)
            }));
        }
        let mut rows = api(ctx).reader.applicants(&[address.0]).await.map_err(read_failed)?;
        Ok(rows.remove(&address.0).map(Applicant::loaded))
    }

    /// Every indexed event, newest first.
    #[graphql(complexity = "cost::list(first, None, child_complexity)")]
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions the rows must meet.")] r#where: Option<ActivityFilter>,
        #[graphql(desc = "How many rows from the start of the list (default 20, at most the page maximum).")]
        first: Option<i32>,
        #[graphql(desc = "Only rows after this cursor (an `endCursor` or edge cursor of the same list).")]
        after: Option<String>,
    ) -> Result<ActivityConnection> {
        let request =
            page_request(ctx, ACTIVITY_LIST, store::ActivityFilter::accepts_key, first, after, None, None)?;
        let filter = r#where.unwrap_or_default().to_store()?;
        let page = api(ctx).reader.activity(&filter, &request).await.map_err(read_failed)?;
        Ok(ActivityConnection { page, request, filter })
    }

    /// Where the index stands.
    #[graphql(name = "_meta")]
    async fn meta(&self, ctx: &Context<'_>) -> Result<Meta> {
        let status = api(ctx).reader.status().await.map_err(read_failed)?;
        Ok(Meta::from_status(api(ctx), status.as_ref()))
    }
}
