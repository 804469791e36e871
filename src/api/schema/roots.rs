//! The query root: the entry points of `../shared/docs/api-spec.md`.

use std::future::Future;

use super::*;
use crate::api::across;

/// Reads.
pub struct QueryRoot;

/// Reads: jobs, applications, employers, applicants, the activity feed and where the index stands.
#[Object]
impl QueryRoot {
    /// A job by id; null if there is none.
    async fn job(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chain of the board to read; may be omitted when this API serves one board.")]
        chain_id: Option<BigInt>,
        #[graphql(desc = "The decimal on-chain id.")] id: ID,
    ) -> Result<Option<Job>> {
        let id = parse_id(&id, "id")?;
        let on = chosen(ctx, chain_id)?;
        let reader = &board(ctx, on).reader;
        // The usual shape, a job with one page of applications, is one statement.
        if let Some((args, with_jobs)) = plan_applications(ctx) {
            let found = reader
                .job_with_applications(id, &args.filter, args.order, &args.page, with_jobs)
                .await
                .map_err(read_failed)?;
            return Ok(found.map(|(row, page, jobs)| {
                let applications = Prefetched::new(args, page, with_jobs.then_some(jobs));
                Job { applications: Some(applications), ..Job::alone(row, on) }
            }));
        }
        let mut rows = reader.jobs_by_id(&[id]).await.map_err(read_failed)?;
        Ok(rows.remove(&id).map(|row| Job::alone(row, on)))
    }

    /// Jobs, filtered, searched and ordered. With `search`, results are ranked by relevance
    /// unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments, reason = "the fixed GraphQL signature")]
    #[graphql(complexity = "cost::list(first, last, child_complexity)")]
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only this chain's board; omitted, every board this API serves, merged by time (or the ordering's value), then chain id."
        )]
        chain_id: Option<BigInt>,
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
        let store_order = store::JobOrder::from(order);
        let accepts = |k: &SortKey| store_order.accepts_key(k);
        let filter = r#where.unwrap_or_default().to_store()?;
        let read = |reader: Reader, slice: PageRequest| {
            let (filter, search) = (&filter, search.as_deref());
            async move {
                let mut pages = reader.jobs(&Scope::All, filter, search, store_order, &slice).await?;
                Ok(pages.remove(&None).unwrap_or_default())
            }
        };
        let Some(on) = scope(ctx, chain_id)? else {
            let request = across_request(ctx, &list, &chains(ctx), accepts, first, after, last, before)?;
            // Ids are each chain's own; where the list is by id, the block time orders chains.
            let by_time = matches!(order, JobOrderBy::Newest | JobOrderBy::Oldest);
            let merge_key = |key: &SortKey, row: &JobRow| match by_time {
                true => across::MergeKey::Time(row.posted_at),
                false => across::MergeKey::Number(key.value.clone()),
            };
            let rows = read_across(ctx, &request, store_order.descending(), read, merge_key).await?;
            return Ok(JobConnection { rows, list, count: JobCount::All(None, filter, search) });
        };
        let request = page_request(ctx, &list, accepts, first, after, last, before)?;
        let page = read(board(ctx, on).reader.clone(), request.clone()).await.map_err(read_failed)?;
        Ok(JobConnection::local(page, on, &request, list, JobCount::All(Some(on), filter, search)))
    }

    /// An application by id; null if there is none.
    async fn application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chain of the board to read; may be omitted when this API serves one board.")]
        chain_id: Option<BigInt>,
        #[graphql(desc = "The decimal on-chain id.")] id: ID,
    ) -> Result<Option<Application>> {
        let id = parse_id(&id, "id")?;
        let on = chosen(ctx, chain_id)?;
        let mut rows = board(ctx, on).reader.applications_by_id(&[id]).await.map_err(read_failed)?;
        Ok(rows.remove(&id).map(|row| Application::new(row, on, None)))
    }

    /// Applications, filtered and ordered (newest first by default).
    #[allow(clippy::too_many_arguments, reason = "the fixed GraphQL signature")]
    #[graphql(complexity = "cost::list(first, last, child_complexity)")]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only this chain's board; omitted, every board this API serves, merged by time (or the ordering's value), then chain id."
        )]
        chain_id: Option<BigInt>,
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
        let store_order = store::ApplicationOrder::from(order);
        let accepts = |k: &SortKey| store_order.accepts_key(k);
        let filter = r#where.unwrap_or_default().to_store()?;
        let parent = ApplicationParent::All;
        let Some(on) = scope(ctx, chain_id)? else {
            let request = across_request(ctx, &list, &chains(ctx), accepts, first, after, last, before)?;
            let read = |reader: Reader, slice: PageRequest| {
                let filter = &filter;
                async move {
                    let mut pages =
                        reader.applications(&ApplicationScope::All, filter, store_order, &slice).await?;
                    Ok(pages.remove(&parent).unwrap_or_default())
                }
            };
            // Ids and blocks are each chain's own: the block time orders chains.
            let merge_key = |_: &SortKey, row: &ApplicationRow| match order {
                ApplicationOrderBy::RecentlyUpdated => across::MergeKey::Time(row.updated_at),
                ApplicationOrderBy::Newest | ApplicationOrderBy::Oldest => {
                    across::MergeKey::Time(row.submitted_at)
                }
            };
            let rows = read_across(ctx, &request, store_order.descending(), read, merge_key).await?;
            return Ok(ApplicationConnection::across(rows, list, filter));
        };
        let request = page_request(ctx, &list, accepts, first, after, last, before)?;
        let args = ApplicationListArgs { filter: filter.clone(), order: order.into(), page: request.clone() };
        let read = read_application_page(ctx, on, Reached::Alone, parent, args).await?;
        Ok(ApplicationConnection::new(read, on, request, list, parent, filter))
    }

    /// An employer by address; null if the address never posted.
    async fn employer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chain of the board to read; may be omitted when this API serves one board.")]
        chain_id: Option<BigInt>,
        #[graphql(desc = "The address, in any case.")] address: Address,
    ) -> Result<Option<Employer>> {
        let on = chosen(ctx, chain_id)?;
        let mut rows = board(ctx, on).reader.employers(&[address.0]).await.map_err(read_failed)?;
        Ok(rows.remove(&address.0).map(|row| Employer::loaded(row, on)))
    }

    /// An applicant by address; null if the address never applied.
    async fn applicant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chain of the board to read; may be omitted when this API serves one board.")]
        chain_id: Option<BigInt>,
        #[graphql(desc = "The address, in any case.")] address: Address,
    ) -> Result<Option<Applicant>> {
        let on = chosen(ctx, chain_id)?;
        let reader = &board(ctx, on).reader;
        // The usual shape, an applicant with one page of applications, is one statement.
        if let Some((args, with_jobs)) = plan_applications(ctx) {
            let found = reader
                .applicant_with_applications(address.0, &args.filter, args.order, &args.page, with_jobs)
                .await
                .map_err(read_failed)?;
            return Ok(found.map(|(row, page, jobs)| Applicant {
                applications: Some(Prefetched::new(args, page, with_jobs.then_some(jobs))),
                ..Applicant::loaded(row, on)
            }));
        }
        let mut rows = reader.applicants(&[address.0]).await.map_err(read_failed)?;
        Ok(rows.remove(&address.0).map(|row| Applicant::loaded(row, on)))
    }

    /// Every indexed event, newest first.
    #[graphql(complexity = "cost::list(first, None, child_complexity)")]
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only this chain's board; omitted, every board this API serves, merged by time (or the ordering's value), then chain id."
        )]
        chain_id: Option<BigInt>,
        #[graphql(desc = "Conditions the rows must meet.")] r#where: Option<ActivityFilter>,
        #[graphql(desc = "How many rows from the start of the list (default 20, at most the page maximum).")]
        first: Option<i32>,
        #[graphql(desc = "Only rows after this cursor (an `endCursor` or edge cursor of the same list).")]
        after: Option<String>,
    ) -> Result<ActivityConnection> {
        let accepts = store::ActivityFilter::accepts_key;
        let filter = r#where.unwrap_or_default().to_store()?;
        let read = |reader: Reader, slice: PageRequest| {
            let filter = &filter;
            async move { reader.activity(filter, &slice).await }
        };
        let Some(on) = scope(ctx, chain_id)? else {
            let request =
                across_request(ctx, ACTIVITY_LIST, &chains(ctx), accepts, first, after, None, None)?;
            // Blocks are each chain's own: the block time orders chains.
            let merge_key = |_: &SortKey, row: &ActivityRow| across::MergeKey::Time(row.block_time);
            let rows = read_across(ctx, &request, true, read, merge_key).await?;
            return Ok(ActivityConnection { rows, filter, counted: None });
        };
        let request = page_request(ctx, ACTIVITY_LIST, accepts, first, after, None, None)?;
        let page = read(board(ctx, on).reader.clone(), request.clone()).await.map_err(read_failed)?;
        Ok(ActivityConnection { rows: Rows::local(page, on, &request), filter, counted: Some(on) })
    }

    /// Where the index of a board stands: the board on `chainId`, or the first board this API
    /// serves (`boards` lists every board of the database).
    #[graphql(name = "_meta")]
    async fn meta(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chain of the board; omitted, the first board this API serves.")]
        chain_id: Option<BigInt>,
    ) -> Result<Meta> {
        let on = scope(ctx, chain_id)?.unwrap_or(BoardIx(0));
        let status = board(ctx, on).reader.status().await.map_err(read_failed)?;
        Ok(Meta::from_status(api(ctx), on, status.as_ref()))
    }
}

/// Reads one slice of a list from every board served, at once, and merges the pages.
async fn read_across<T, Read, Fut>(
    ctx: &Context<'_>,
    request: &across::AcrossRequest,
    descending: bool,
    read: Read,
    merge_key: impl Fn(&SortKey, &T) -> across::MergeKey,
) -> Result<Rows<T>>
where
    Read: Fn(Reader, PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, store::StoreError>>,
{
    let chains = chains(ctx);
    let reads = api(ctx).boards.iter().map(|b| {
        let slice = request.for_board(b.chain_id(), descending).map(|slice| read(b.reader.clone(), slice));
        async move {
            match slice {
                Some(read) => read.await,
                None => Ok(Page::default()),
            }
        }
    });
    let pages = futures::future::try_join_all(reads).await.map_err(read_failed)?;
    Ok(Rows::across(across::merge(&chains, pages, request, descending, merge_key), request))
}
