//! Relay connections: a page of rows, its edges and cursors, `pageInfo` and `totalCount`.

use super::*;

/// Where a page sits in its list.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// More rows follow the page.
    pub has_next_page: bool,
    /// More rows precede the page.
    pub has_previous_page: bool,
    /// The first row's cursor.
    pub start_cursor: Option<String>,
    /// The last row's cursor.
    pub end_cursor: Option<String>,
}

pub(super) fn page_info<T>(page: &Page<T>, request: &PageRequest, list: &str) -> PageInfo {
    let (has_next_page, has_previous_page) = if request.from_end {
        (request.before.is_some(), page.has_more)
    } else {
        (page.has_more, request.after.is_some())
    };
    PageInfo {
        has_next_page,
        has_previous_page,
        start_cursor: page.rows.first().map(|(k, _)| cursor::encode(list, k)),
        end_cursor: page.rows.last().map(|(k, _)| cursor::encode(list, k)),
    }
}

/// How a connection counts its whole list, when `totalCount` is asked for.
#[derive(Debug, Clone)]
pub(super) enum JobCount {
    All(store::JobFilter, Option<String>),
    Employer(alloy::primitives::Address, store::JobFilter),
}

/// A page of jobs.
pub struct JobConnection {
    pub(super) page: Page<JobRow>,
    pub(super) request: PageRequest,
    pub(super) list: String,
    pub(super) count: JobCount,
}

/// A job and its cursor.
#[derive(SimpleObject)]
pub struct JobEdge {
    /// Pass as `after`/`before` to page from here.
    pub cursor: String,
    /// The job.
    pub node: Job,
}

/// A page of jobs (a Relay connection): its rows, cursors, position and the list's size.
#[Object]
impl JobConnection {
    /// The jobs with their cursors.
    async fn edges(&self) -> Vec<JobEdge> {
        let list = &self.list;
        self.page
            .rows
            .iter()
            .map(|(k, r)| JobEdge { cursor: cursor::encode(list, k), node: Job::in_list(r.clone()) })
            .collect()
    }

    /// The jobs.
    async fn nodes(&self) -> Vec<Job> {
        self.page.rows.iter().map(|(_, r)| Job::in_list(r.clone())).collect()
    }

    /// Where the page sits.
    async fn page_info(&self) -> PageInfo {
        page_info(&self.page, &self.request, &self.list)
    }

    /// How many jobs the whole list has (computed only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let n = match &self.count {
            JobCount::All(filter, search) => {
                let counts = api(ctx)
                    .reader
                    .count_jobs(&Scope::All, filter, search.as_deref())
                    .await
                    .map_err(read_failed)?;
                counts.get(&None).copied().unwrap_or(0)
            }
            JobCount::Employer(address, filter) => api(ctx)
                .loaders
                .load_one(EmployerJobCount(*address, filter.clone()))
                .await
                .map_err(gql)?
                .unwrap_or(0),
        };
        Ok(n)
    }
}

/// A page of applications.
pub struct ApplicationConnection {
    pub(super) page: Page<ApplicationRow>,
    pub(super) request: PageRequest,
    pub(super) list: String,
    pub(super) parent: ApplicationParent,
    pub(super) filter: store::ApplicationFilter,
    /// Set when this page is the only one of its level; nested under a list, the loaders batch
    /// the jobs of every page of the level instead.
    pub(super) jobs: Option<Arc<PageJobs>>,
}

impl ApplicationConnection {
    pub(super) fn new(
        read: ApplicationPage,
        request: PageRequest,
        list: String,
        parent: ApplicationParent,
        filter: store::ApplicationFilter,
    ) -> ApplicationConnection {
        let ApplicationPage { page, reached, jobs } = read;
        let mut ids: Vec<u64> = page.rows.iter().map(|(_, r)| r.job_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let jobs = (reached == Reached::Alone)
            .then(|| Arc::new(PageJobs { ids, jobs: tokio::sync::OnceCell::new_with(jobs) }));
        ApplicationConnection { page, request, list, parent, filter, jobs }
    }
}

/// A page of applications as read, with its jobs when they were read along with it.
pub(super) struct ApplicationPage {
    pub(super) page: Page<ApplicationRow>,
    pub(super) reached: Reached,
    pub(super) jobs: Option<HashMap<u64, JobRow>>,
}

/// Reads one parent's page of applications. Reached alone, the page is read at once, with the
/// jobs in the same statement when the client selects them; among siblings, the loaders batch
/// it with theirs.
pub(super) async fn read_application_page(
    ctx: &Context<'_>,
    reached: Reached,
    parent: ApplicationParent,
    args: ApplicationListArgs,
) -> Result<ApplicationPage> {
    if reached == Reached::InList || !selects_application_jobs(&ctx.look_ahead()) {
        let page = load(ctx, reached, ApplicationsOf(parent, args)).await?.unwrap_or_default();
        return Ok(ApplicationPage { page, reached, jobs: None });
    }
    let scope = match parent {
        ApplicationParent::All => ApplicationScope::All,
        ApplicationParent::Job(id) => ApplicationScope::Jobs(vec![id]),
        ApplicationParent::Applicant(address) => ApplicationScope::Applicants(vec![address]),
    };
    let (mut pages, jobs) = api(ctx)
        .reader
        .applications_with_jobs(&scope, &args.filter, args.order, &args.page)
        .await
        .map_err(read_failed)?;
    let page = pages.remove(&parent).unwrap_or_default();
    Ok(ApplicationPage { page, reached, jobs: Some(jobs) })
}

/// An application and its cursor.
#[derive(SimpleObject)]
pub struct ApplicationEdge {
    /// Pass as `after`/`before` to page from here.
    pub cursor: String,
    /// The application.
    pub node: Application,
}

/// A page of applications (a Relay connection): its rows, cursors, position and the list's size.
#[Object]
impl ApplicationConnection {
    /// The applications with their cursors.
    async fn edges(&self) -> Vec<ApplicationEdge> {
        let list = &self.list;
        self.page
            .rows
            .iter()
            .map(|(k, r)| ApplicationEdge {
                cursor: cursor::encode(list, k),
                node: Application(r.clone(), self.jobs.clone()),
            })
            .collect()
    }

    /// The applications.
    async fn nodes(&self) -> Vec<Application> {
        self.page.rows.iter().map(|(_, r)| Application(r.clone(), self.jobs.clone())).collect()
    }

    /// Where the page sits.
    async fn page_info(&self) -> PageInfo {
        page_info(&self.page, &self.request, &self.list)
    }

    /// How many applications the whole list has (computed only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(api(ctx)
            .loaders
            .load_one(ApplicationCount(self.parent, self.filter.clone()))
            .await
            .map_err(gql)?
            .unwrap_or(0))
    }
}

/// A page of the activity feed, newest first.
pub struct ActivityConnection {
    pub(super) page: Page<ActivityRow>,
    pub(super) request: PageRequest,
    /// The filter, for `totalCount`.
    pub(super) filter: store::ActivityFilter,
}

/// An activity event and its cursor.
#[derive(SimpleObject)]
pub struct ActivityEdge {
    /// Pass as `after` to page from here.
    pub cursor: String,
    /// The event.
    pub node: ActivityEvent,
}

pub(super) const ACTIVITY_LIST: &str = "activity";

/// A page of the activity feed, newest first (a Relay connection).
#[Object]
impl ActivityConnection {
    /// The events with their cursors.
    async fn edges(&self) -> Vec<ActivityEdge> {
        self.page
            .rows
            .iter()
            .map(|(k, r)| ActivityEdge {
                cursor: cursor::encode(ACTIVITY_LIST, k),
                node: ActivityEvent::from_row(r),
            })
            .collect()
    }

    /// The events.
    async fn nodes(&self) -> Vec<ActivityEvent> {
        self.page.rows.iter().map(|(_, r)| ActivityEvent::from_row(r)).collect()
    }

    /// Where the page sits.
    async fn page_info(&self) -> PageInfo {
        page_info(&self.page, &self.request, ACTIVITY_LIST)
    }

    /// How many events the whole list has (computed only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        api(ctx).reader.count_activity(&self.filter).await.map_err(read_failed)
    }
}
