//! Relay connections: a page of rows, its edges and cursors, `pageInfo` and `totalCount`.

use super::*;
use crate::api::across;

/// The boards a read covers: `on`, or every board served.
pub(super) fn on_each<'a>(ctx: &Context<'a>, on: Option<BoardIx>) -> impl Iterator<Item = &'a BoardApi> {
    let boards = &api(ctx).boards;
    boards.iter().enumerate().filter(move |(i, _)| on.is_none_or(|on| on.0 == *i)).map(|(_, b)| b)
}

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

/// Where a row of a page sits: in one board's list, or in a list merged across boards.
#[derive(Debug, Clone)]
pub(super) enum Position {
    /// In one board's list.
    Local(SortKey),
    /// In a list across boards.
    Across(across::AcrossCursor),
}

impl Position {
    fn cursor(&self, list: &str) -> String {
        match self {
            Position::Local(key) => cursor::encode(list, key),
            Position::Across(position) => across::encode(list, position),
        }
    }
}

/// A page's rows, each with its position and board, and how the page was asked for.
pub(super) struct Rows<T> {
    pub(super) rows: Vec<(Position, BoardIx, T)>,
    pub(super) has_more: bool,
    from_end: bool,
    after: bool,
    before: bool,
}

impl<T> Rows<T> {
    /// A page of the list of the board `on`.
    pub(super) fn local(page: Page<T>, on: BoardIx, request: &PageRequest) -> Rows<T> {
        Rows {
            rows: page.rows.into_iter().map(|(key, row)| (Position::Local(key), on, row)).collect(),
            has_more: page.has_more,
            from_end: request.from_end,
            after: request.after.is_some(),
            before: request.before.is_some(),
        }
    }

    /// A page merged across every board served (merged in [`ApiContext::boards`] order).
    pub(super) fn across(merged: across::Merged<T>, request: &across::AcrossRequest) -> Rows<T> {
        Rows {
            rows: merged
                .rows
                .into_iter()
                .map(|r| (Position::Across(r.cursor), BoardIx(r.board), r.row))
                .collect(),
            has_more: merged.has_more,
            from_end: request.from_end,
            after: request.after.is_some(),
            before: request.before.is_some(),
        }
    }

    fn page_info(&self, list: &str) -> PageInfo {
        let (has_next_page, has_previous_page) =
            if self.from_end { (self.before, self.has_more) } else { (self.has_more, self.after) };
        PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: self.rows.first().map(|(p, _, _)| p.cursor(list)),
            end_cursor: self.rows.last().map(|(p, _, _)| p.cursor(list)),
        }
    }
}

/// How a connection counts its whole list, when `totalCount` is asked for.
#[derive(Debug, Clone)]
pub(super) enum JobCount {
    /// Every job matching, on one board or (`None`) on every board served.
    All(Option<BoardIx>, store::JobFilter, Option<String>),
    /// One employer's jobs matching.
    Employer(BoardIx, alloy::primitives::Address, store::JobFilter),
}

/// A page of jobs.
pub struct JobConnection {
    pub(super) rows: Rows<JobRow>,
    pub(super) list: String,
    pub(super) count: JobCount,
}

impl JobConnection {
    /// A page of the board `on`'s list.
    pub(super) fn local(
        page: Page<JobRow>,
        on: BoardIx,
        request: &PageRequest,
        list: String,
        count: JobCount,
    ) -> JobConnection {
        JobConnection { rows: Rows::local(page, on, request), list, count }
    }
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
        self.rows
            .rows
            .iter()
            .map(|(p, on, r)| JobEdge { cursor: p.cursor(list), node: Job::in_list(r.clone(), *on) })
            .collect()
    }

    /// The jobs.
    async fn nodes(&self) -> Vec<Job> {
        self.rows.rows.iter().map(|(_, on, r)| Job::in_list(r.clone(), *on)).collect()
    }

    /// Where the page sits.
    async fn page_info(&self) -> PageInfo {
        self.rows.page_info(&self.list)
    }

    /// How many jobs the whole list has (computed only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let n = match &self.count {
            JobCount::All(on, filter, search) => {
                let counts = on_each(ctx, *on).map(|b| async move {
                    let counts = b.reader.count_jobs(&Scope::All, filter, search.as_deref()).await?;
                    Ok::<_, store::StoreError>(counts.get(&None).copied().unwrap_or(0))
                });
                futures::future::try_join_all(counts).await.map_err(read_failed)?.into_iter().sum()
            }
            JobCount::Employer(on, address, filter) => board(ctx, *on)
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
    pub(super) rows: Rows<ApplicationRow>,
    pub(super) list: String,
    /// The board counted by `totalCount`; `None`: every board served.
    pub(super) counted: Option<BoardIx>,
    pub(super) parent: ApplicationParent,
    pub(super) filter: store::ApplicationFilter,
    /// Set when this page is the only one of its level; nested under a list, the loaders batch
    /// the jobs of every page of the level instead.
    pub(super) jobs: Option<Arc<PageJobs>>,
}

impl ApplicationConnection {
    pub(super) fn new(
        read: ApplicationPage,
        on: BoardIx,
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
        let rows = Rows::local(page, on, &request);
        ApplicationConnection { rows, list, counted: Some(on), parent, filter, jobs }
    }

    /// A page of the list across every board served: each application's job is read through
    /// its own board's loaders.
    pub(super) fn across(
        rows: Rows<ApplicationRow>,
        list: String,
        filter: store::ApplicationFilter,
    ) -> ApplicationConnection {
        ApplicationConnection {
            rows,
            list,
            counted: None,
            parent: ApplicationParent::All,
            filter,
            jobs: None,
        }
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
    on: BoardIx,
    reached: Reached,
    parent: ApplicationParent,
    args: ApplicationListArgs,
) -> Result<ApplicationPage> {
    if reached == Reached::InList || !selects_application_jobs(&ctx.look_ahead()) {
        let page = load(ctx, on, reached, ApplicationsOf(parent, args)).await?.unwrap_or_default();
        return Ok(ApplicationPage { page, reached, jobs: None });
    }
    let scope = match parent {
        ApplicationParent::All => ApplicationScope::All,
        ApplicationParent::Job(id) => ApplicationScope::Jobs(vec![id]),
        ApplicationParent::Applicant(address) => ApplicationScope::Applicants(vec![address]),
    };
    let (mut pages, jobs) = board(ctx, on)
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
        self.rows
            .rows
            .iter()
            .map(|(p, on, r)| ApplicationEdge {
                cursor: p.cursor(list),
                node: Application::new(r.clone(), *on, self.jobs.clone()),
            })
            .collect()
    }

    /// The applications.
    async fn nodes(&self) -> Vec<Application> {
        self.rows.rows.iter().map(|(_, on, r)| Application::new(r.clone(), *on, self.jobs.clone())).collect()
    }

    /// Where the page sits.
    async fn page_info(&self) -> PageInfo {
        self.rows.page_info(&self.list)
    }

    /// How many applications the whole list has (computed only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let key = ApplicationCount(self.parent, self.filter.clone());
        let counts = on_each(ctx, self.counted).map(|b| b.loaders.load_one(key.clone()));
        let counts = futures::future::try_join_all(counts).await.map_err(gql)?;
        Ok(counts.into_iter().map(|n| n.unwrap_or(0)).sum())
    }
}

/// A page of the activity feed, newest first.
pub struct ActivityConnection {
    pub(super) rows: Rows<ActivityRow>,
    /// The filter, for `totalCount`.
    pub(super) filter: store::ActivityFilter,
    /// The board counted by `totalCount`; `None`: every board served.
    pub(super) counted: Option<BoardIx>,
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
        self.rows
            .rows
            .iter()
            .map(|(p, on, r)| ActivityEdge {
                cursor: p.cursor(ACTIVITY_LIST),
                node: ActivityEvent::from_row(r, *on),
            })
            .collect()
    }

    /// The events.
    async fn nodes(&self) -> Vec<ActivityEvent> {
        self.rows.rows.iter().map(|(_, on, r)| ActivityEvent::from_row(r, *on)).collect()
    }

    /// Where the page sits.
    async fn page_info(&self) -> PageInfo {
        self.rows.page_info(ACTIVITY_LIST)
    }

    /// How many events the whole list has (computed only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let counts = on_each(ctx, self.counted).map(|b| b.reader.count_activity(&self.filter));
        Ok(futures::future::try_join_all(counts).await.map_err(read_failed)?.into_iter().sum())
    }
}
