//! The GraphQL schema of `../shared/docs/api-spec.md`: queries, subscriptions and their types.
//!
//! Resolvers stay thin: they validate arguments into the store's filter and page types, read
//! through [`Reader`] (top-level lists) or the batching [`Loaders`] (anything per row), and
//! wrap rows in output types.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::futures_util::{Stream, StreamExt};
use async_graphql::{
    ComplexObject, Context, EmptyMutation, Enum, ID, InputObject, InputType, Object, Result, Schema,
    SimpleObject, Subscription,
};
use chrono::{DurationRound, TimeDelta, Utc};
use tokio::sync::broadcast::error::RecvError;

use super::cursor;
use super::error::{ApiError, bad_input, gql, read_failed};
use super::live::{Live, LiveEvent};
use super::loaders::{
    ApplicantAddress, ApplicationCount, ApplicationId, ApplicationListArgs, ApplicationsOf, EmployerAddress,
    EmployerJobCount, EmployerJobs, HistoryOf, JobId, JobListArgs, Loaders, ReadLoader, RevisionsOf,
};
use super::scalars::{Address, BigInt, Bytes32, DateTime};
use crate::store::{
    self, ActivityRow, ApplicantRow, ApplicationParent, ApplicationRow, ApplicationScope, EmployerRow,
    IndexStatus, JobRow, Page, PageRequest, PostingRow, Reader, RevisionRow, Scope, StatusChangeRow,
};

/// The executable schema.
pub type ApiSchema = Schema<QueryRoot, EmptyMutation, SubscriptionRoot>;

/// Page-size limits.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Rows when neither `first` nor `last` is given.
    pub default: usize,
    /// The largest `first` or `last` accepted.
    pub max: usize,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self { default: 20, max: 1000 }
    }
}

/// What every resolver reads through.
#[derive(Clone)]
pub struct ApiContext {
    /// Direct reads (top-level lists, counts, status).
    pub reader: Reader,
    /// Batched reads.
    pub loaders: Arc<Loaders>,
    /// The live hub, for subscriptions.
    pub live: Live,
    /// Page-size limits.
    pub pages: PageLimits,
    /// `--stall-after`: how `_meta.synced` judges a silent or stuck indexer.
    pub stall_after: std::time::Duration,
}

fn api<'a>(ctx: &Context<'a>) -> &'a ApiContext {
    // The schema is only ever built by `build_schema`, which registers the context.
    ctx.data_unchecked::<ApiContext>()
}

/// Builds the schema with its depth and complexity limits.
pub fn build_schema(context: Option<ApiContext>, max_depth: usize, max_complexity: usize) -> ApiSchema {
    let mut builder = Schema::build(QueryRoot, EmptyMutation, SubscriptionRoot)
        .limit_depth(max_depth)
        .limit_complexity(max_complexity)
        .limit_recursive_depth(64)
        .limit_directives(8);
    if let Some(context) = context {
        builder = builder.data(context);
    }
    builder.finish()
}

// ---------------------------------------------------------------------------------------------
// Enums

/// A job's state.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Accepting applications.
    Open,
    /// Closed by its employer.
    Closed,
    /// Its deadline passed; still open on-chain.
    Expired,
}

impl From<JobStatus> for store::JobStatus {
    fn from(status: JobStatus) -> Self {
        match status {
            JobStatus::Open => store::JobStatus::Open,
            JobStatus::Closed => store::JobStatus::Closed,
            JobStatus::Expired => store::JobStatus::Expired,
        }
    }
}

/// An application's status, in the contract's order.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    /// Just applied.
    Submitted,
    /// Shortlisted by the employer.
    Shortlisted,
    /// Rejected (final).
    Rejected,
    /// Hired (final).
    Hired,
    /// Withdrawn by the applicant (final).
    Withdrawn,
}

impl From<crate::contract::ApplicationStatus> for ApplicationStatus {
    fn from(status: crate::contract::ApplicationStatus) -> Self {
        use crate::contract::ApplicationStatus as OnChain;
        match status {
            OnChain::Submitted => Self::Submitted,
            OnChain::Shortlisted => Self::Shortlisted,
            OnChain::Rejected => Self::Rejected,
            OnChain::Hired => Self::Hired,
            OnChain::Withdrawn => Self::Withdrawn,
        }
    }
}

impl ApplicationStatus {
    /// From a stored status byte; the schema's CHECK keeps it in range, and anything else
    /// shows as SUBMITTED rather than failing the response.
    fn from_byte(byte: i16) -> Self {
        u8::try_from(byte)
            .ok()
            .and_then(|b| crate::contract::ApplicationStatus::try_from(b).ok())
            .map_or(Self::Submitted, Self::from)
    }

    fn byte(self) -> u8 {
        self as u8
    }
}

/// Orderings of job lists; ties go by id in the same direction.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOrderBy {
    /// Newest posting first (the default without a search).
    Newest,
    /// Oldest posting first.
    Oldest,
    /// Highest disclosed maximum salary first; undisclosed last.
    SalaryHighToLow,
    /// Soonest deadline first; no deadline last.
    DeadlineSoonest,
    /// Most live applications first.
    MostApplications,
    /// Best full-text match first (the default with a search; needs `search`).
    Relevance,
}

impl From<JobOrderBy> for store::JobOrder {
    fn from(order: JobOrderBy) -> Self {
        match order {
            JobOrderBy::Newest => store::JobOrder::Newest,
            JobOrderBy::Oldest => store::JobOrder::Oldest,
            JobOrderBy::SalaryHighToLow => store::JobOrder::SalaryHighToLow,
            JobOrderBy::DeadlineSoonest => store::JobOrder::DeadlineSoonest,
            JobOrderBy::MostApplications => store::JobOrder::MostApplications,
            JobOrderBy::Relevance => store::JobOrder::Relevance,
        }
    }
}

/// Orderings of application lists.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationOrderBy {
    /// Newest submission first (the default).
    Newest,
    /// Oldest submission first.
    Oldest,
    /// Most recent status change first.
    RecentlyUpdated,
}

impl From<ApplicationOrderBy> for store::ApplicationOrder {
    fn from(order: ApplicationOrderBy) -> Self {
        match order {
            ApplicationOrderBy::Newest => store::ApplicationOrder::Newest,
            ApplicationOrderBy::Oldest => store::ApplicationOrder::Oldest,
            ApplicationOrderBy::RecentlyUpdated => store::ApplicationOrder::RecentlyUpdated,
        }
    }
}

/// What an activity event records.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// `JobPosted`.
    JobPosted,
    /// `JobUpdated`.
    JobUpdated,
    /// `JobClosed`.
    JobClosed,
    /// `ApplicationSubmitted`.
    ApplicationSubmitted,
    /// `ApplicationStatusChanged`.
    ApplicationStatusChanged,
    /// A chain reorganisation: everything above `blockNumber` was reverted (subscriptions only).
    Reorg,
}

impl ActivityKind {
    fn event_name(self) -> Option<&'static str> {
        Some(match self {
            ActivityKind::JobPosted => "JobPosted",
            ActivityKind::JobUpdated => "JobUpdated",
            ActivityKind::JobClosed => "JobClosed",
            ActivityKind::ApplicationSubmitted => "ApplicationSubmitted",
            ActivityKind::ApplicationStatusChanged => "ApplicationStatusChanged",
            ActivityKind::Reorg => return None,
        })
    }

    fn from_event_name(name: &str) -> Self {
        match name {
            "JobPosted" => ActivityKind::JobPosted,
            "JobUpdated" => ActivityKind::JobUpdated,
            "JobClosed" => ActivityKind::JobClosed,
            "ApplicationSubmitted" => ActivityKind::ApplicationSubmitted,
            _ => ActivityKind::ApplicationStatusChanged,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// Conditions on jobs. Set fields combine with AND; `and` lists must all hold; of an `or`
/// list at least one must hold.
#[derive(InputObject, Debug, Clone, Default)]
pub struct JobFilter {
    /// The job's id is one of these (at most 1000).
    #[graphql(name = "id_in")]
    pub id_in: Option<Vec<ID>>,
    /// Posted by this address.
    pub employer: Option<Address>,
    /// In this state.
    pub status: Option<JobStatus>,
    /// In one of these states.
    #[graphql(name = "status_in")]
    pub status_in: Option<Vec<JobStatus>>,
    /// The title contains this text, ignoring case.
    #[graphql(name = "title_contains")]
    pub title_contains: Option<String>,
    /// The location contains this text, ignoring case.
    #[graphql(name = "location_contains")]
    pub location_contains: Option<String>,
    /// Has this tag (compared trimmed and lowercased).
    #[graphql(name = "tags_has")]
    pub tags_has: Option<String>,
    /// The disclosed minimum salary is at least this.
    #[graphql(name = "salaryMin_gte")]
    pub salary_min_gte: Option<BigInt>,
    /// The disclosed maximum salary is at most this.
    #[graphql(name = "salaryMax_lte")]
    pub salary_max_lte: Option<BigInt>,
    /// Posted at or after this time.
    #[graphql(name = "postedAt_gte")]
    pub posted_at_gte: Option<DateTime>,
    /// Posted at or before this time.
    #[graphql(name = "postedAt_lte")]
    pub posted_at_lte: Option<DateTime>,
    /// The deadline is at or after this time.
    #[graphql(name = "deadline_gte")]
    pub deadline_gte: Option<DateTime>,
    /// Filters that must all hold as well.
    pub and: Option<Vec<JobFilter>>,
    /// Filters of which at least one must hold.
    pub or: Option<Vec<JobFilter>>,
}

/// Conditions on applications, combined like `JobFilter`'s.
#[derive(InputObject, Debug, Clone, Default)]
pub struct ApplicationFilter {
    /// The application's id is one of these (at most 1000).
    #[graphql(name = "id_in")]
    pub id_in: Option<Vec<ID>>,
    /// For this job.
    pub job_id: Option<ID>,
    /// From this address.
    pub applicant: Option<Address>,
    /// With this status.
    pub status: Option<ApplicationStatus>,
    /// With one of these statuses.
    #[graphql(name = "status_in")]
    pub status_in: Option<Vec<ApplicationStatus>>,
    /// Submitted at or after this time.
    #[graphql(name = "submittedAt_gte")]
    pub submitted_at_gte: Option<DateTime>,
    /// Submitted at or before this time.
    #[graphql(name = "submittedAt_lte")]
    pub submitted_at_lte: Option<DateTime>,
    /// Filters that must all hold as well.
    pub and: Option<Vec<ApplicationFilter>>,
    /// Filters of which at least one must hold.
    pub or: Option<Vec<ApplicationFilter>>,
}

/// Conditions on activity events.
#[derive(InputObject, Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Events about this job (its posting, updates, close and its applications).
    pub job_id: Option<ID>,
    /// Events about this application.
    pub application_id: Option<ID>,
    /// Events involving this address as the job's employer or the applicant.
    pub address: Option<Address>,
    /// Events of these kinds.
    #[graphql(name = "kind_in")]
    pub kind_in: Option<Vec<ActivityKind>>,
}

const MAX_IDS: usize = 1000;

fn parse_id(id: &ID, what: &str) -> Result<u64> {
    let text = id.as_str();
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_input(format!(
            "{what} {:?} is not an id: ids are decimal strings such as \"42\"",
            text.chars().take(40).collect::<String>()
        )));
    }
    text.parse().map_err(|_| bad_input(format!("{what} {text} is too large")))
}

fn parse_ids(ids: &[ID], what: &str) -> Result<Vec<u64>> {
    if ids.len() > MAX_IDS {
        return Err(bad_input(format!("{what}_in takes at most {MAX_IDS} ids, got {}", ids.len())));
    }
    ids.iter().map(|id| parse_id(id, what)).collect()
}

impl JobFilter {
    fn to_store(&self) -> Result<store::JobFilter> {
        let mut statuses: Vec<store::JobStatus> = Vec::new();
        let mut status_sets = 0;
        if let Some(status) = self.status {
            statuses.push(status.into());
            status_sets += 1;
        }
        let status_in = self.status_in.as_ref().map(|s| s.iter().map(|&s| s.into()).collect::<Vec<_>>());
        let status_in = match (status_sets, status_in) {
            (0, s) => s,
            (_, None) => Some(statuses),
            // Both given: a job must be in the intersection.
            (_, Some(set)) => Some(statuses.into_iter().filter(|s| set.contains(s)).collect()),
        };
        let nested = |list: &Option<Vec<JobFilter>>| -> Result<Vec<store::JobFilter>> {
            list.iter().flatten().map(JobFilter::to_store).collect()
        };
        Ok(store::JobFilter {
            id_in: self.id_in.as_deref().map(|ids| parse_ids(ids, "id")).transpose()?,
            employer: self.employer.map(|a| a.0),
            status_in,
            title_contains: self.title_contains.clone(),
            location_contains: self.location_contains.clone(),
            tags_has: self.tags_has.clone(),
            salary_min_gte: self.salary_min_gte.map(|v| v.0),
            salary_max_lte: self.salary_max_lte.map(|v| v.0),
            posted_at_gte: self.posted_at_gte.map(|t| t.0),
            posted_at_lte: self.posted_at_lte.map(|t| t.0),
            deadline_gte: self.deadline_gte.map(|t| t.0),
            and: nested(&self.and)?,
            or: nested(&self.or)?,
        })
    }
}

impl ApplicationFilter {
    fn to_store(&self) -> Result<store::ApplicationFilter> {
        let mut status_in: Option<Vec<u8>> =
            self.status_in.as_ref().map(|s| s.iter().map(|s| s.byte()).collect());
        if let Some(status) = self.status {
            status_in = Some(match status_in {
                None => vec![status.byte()],
                Some(set) => set.into_iter().filter(|&s| s == status.byte()).collect(),
            });
        }
        let nested = |list: &Option<Vec<ApplicationFilter>>| -> Result<Vec<store::ApplicationFilter>> {
            list.iter().flatten().map(ApplicationFilter::to_store).collect()
        };
        Ok(store::ApplicationFilter {
            id_in: self.id_in.as_deref().map(|ids| parse_ids(ids, "id")).transpose()?,
            job_id: self.job_id.as_ref().map(|id| parse_id(id, "jobId")).transpose()?,
            applicant: self.applicant.map(|a| a.0),
            status_in,
            submitted_at_gte: self.submitted_at_gte.map(|t| t.0),
            submitted_at_lte: self.submitted_at_lte.map(|t| t.0),
            and: nested(&self.and)?,
            or: nested(&self.or)?,
        })
    }
}

impl ActivityFilter {
    fn to_store(&self) -> Result<store::ActivityFilter> {
        Ok(store::ActivityFilter {
            job_id: self.job_id.as_ref().map(|id| parse_id(id, "jobId")).transpose()?,
            application_id: self
                .application_id
                .as_ref()
                .map(|id| parse_id(id, "applicationId"))
                .transpose()?,
            address: self.address.map(|a| a.0),
            kind_in: self
                .kind_in
                .as_ref()
                .map(|kinds| kinds.iter().filter_map(|k| k.event_name()).map(str::to_owned).collect()),
        })
    }

    fn wants_reorgs(&self) -> bool {
        self.kind_in.as_ref().is_none_or(|kinds| kinds.contains(&ActivityKind::Reorg))
    }
}

/// Validates Relay arguments into a page request of list `list`.
fn page_request(
    ctx: &Context<'_>,
    list: &str,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<PageRequest> {
    let limits = api(ctx).pages;
    let size = |name: &str, n: i32| -> Result<usize> {
        let n =
            usize::try_from(n).map_err(|_| bad_input(format!("`{name}` must not be negative, got {n}")))?;
        if n > limits.max {
            return Err(bad_input(format!("`{name}` is at most {}, got {n}; page with cursors", limits.max)));
        }
        Ok(n)
    };
    let (limit, from_end) = match (first, last) {
        (Some(_), Some(_)) => return Err(bad_input("pass `first` or `last`, not both")),
        (Some(n), None) => (size("first", n)?, false),
        (None, Some(n)) => (size("last", n)?, true),
        (None, None) => (limits.default, false),
    };
    let decode = |c: Option<String>| c.map(|c| cursor::decode(list, &c).map_err(bad_input)).transpose();
    Ok(PageRequest { after: decode(after)?, before: decode(before)?, limit, from_end })
}

// ---------------------------------------------------------------------------------------------
// Connections

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

fn page_info<T>(page: &Page<T>, request: &PageRequest, list: &str) -> PageInfo {
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
enum JobCount {
    All(store::JobFilter, Option<String>),
    Employer(alloy::primitives::Address, store::JobFilter),
}

/// A page of jobs.
pub struct JobConnection {
    page: Page<JobRow>,
    request: PageRequest,
    list: String,
    count: JobCount,
}

/// A job and its cursor.
#[derive(SimpleObject)]
pub struct JobEdge {
    /// Pass as `after`/`before` to page from here.
    pub cursor: String,
    /// The job.
    pub node: Job,
}

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
    page: Page<ApplicationRow>,
    request: PageRequest,
    list: String,
    parent: ApplicationParent,
    filter: store::ApplicationFilter,
    /// Set when this page is the only one of its level; nested under a list, the loaders batch
    /// the jobs of every page of the level instead.
    jobs: Option<Arc<PageJobs>>,
}

impl ApplicationConnection {
    fn new(
        read: ApplicationPage,
        request: PageRequest,
        list: String,
        parent: ApplicationParent,
        filter: store::ApplicationFilter,
    ) -> ApplicationConnection {
        let ApplicationPage { page, reached, jobs } = read;
        let mut ids: Vec<u64> = page.rows.iter().filter_map(|(_, r)| u64::try_from(r.job_id).ok()).collect();
        ids.sort_unstable();
        ids.dedup();
        let jobs = (reached == Reached::Alone)
            .then(|| Arc::new(PageJobs { ids, jobs: tokio::sync::OnceCell::new_with(jobs) }));
        ApplicationConnection { page, request, list, parent, filter, jobs }
    }
}

/// A page of applications as read, with its jobs when they were read along with it.
struct ApplicationPage {
    page: Page<ApplicationRow>,
    reached: Reached,
    jobs: Option<HashMap<u64, JobRow>>,
}

/// Reads one parent's page of applications. Reached alone, the page is read at once, with the
/// jobs in the same statement when the client selects them; among siblings, the loaders batch
/// it with theirs.
async fn read_application_page(
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
    page: Page<ActivityRow>,
    request: PageRequest,
}

/// An activity event and its cursor.
#[derive(SimpleObject)]
pub struct ActivityEdge {
    /// Pass as `after` to page from here.
    pub cursor: String,
    /// The event.
    pub node: ActivityEvent,
}

const ACTIVITY_LIST: &str = "activity";

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
}

// ---------------------------------------------------------------------------------------------
// Objects

fn id_of(value: i64) -> ID {
    ID(value.to_string())
}

fn job_list(order: JobOrderBy) -> String {
    format!("jobs:{order:?}")
}

fn application_list(order: ApplicationOrderBy) -> String {
    format!("applications:{order:?}")
}

/// How an object was reached, which decides how its children are read: batching only pays
/// when there are siblings to batch with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// On its own (`job(id)`, `applicant(address)`): children are read at once.
    Alone,
    /// Among siblings: children go through the loaders, one statement per response level.
    InList,
}

/// Reads `key` through the loaders, or at once for a parent reached alone (the loaders' timer
/// would only add latency when no sibling can join the batch).
async fn load<K, V>(ctx: &Context<'_>, reached: Reached, key: K) -> Result<Option<V>>
where
    ReadLoader: Loader<K, Value = V, Error = ApiError>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    let loaders = &api(ctx).loaders;
    match reached {
        Reached::InList => loaders.load_one(key).await.map_err(gql),
        Reached::Alone => {
            let mut rows = loaders.loader().load(std::slice::from_ref(&key)).await.map_err(gql)?;
            Ok(rows.remove(&key))
        }
    }
}

/// A job posting and its current state.
pub struct Job(JobRow, Reached, Option<Prefetched>);

impl Job {
    /// A job reached on its own (`job(id)`): its nested lists are read at once.
    fn alone(row: JobRow) -> Job {
        Job(row, Reached::Alone, None)
    }

    /// A job among others (a page, an application's job, an event's job): nested reads go
    /// through the loaders, batched with its siblings'.
    fn in_list(row: JobRow) -> Job {
        Job(row, Reached::InList, None)
    }
}

#[Object]
impl Job {
    /// The on-chain job id, in decimal.
    async fn id(&self) -> ID {
        id_of(self.0.job_id)
    }

    /// The address that posted the job.
    async fn employer(&self) -> Result<Employer> {
        Ok(Employer::known(Address::from_slice(&self.0.employer).0))
    }

    /// The current posting's fields (title, company, … deadline).
    #[graphql(flatten)]
    async fn posting(&self) -> Posting<'_> {
        Posting(&self.0.posting)
    }

    /// OPEN, CLOSED, or EXPIRED (deadline passed, still open on-chain).
    async fn status(&self) -> JobStatus {
        job_status(&self.0)
    }

    /// Time of the block that posted the job.
    async fn posted_at(&self) -> DateTime {
        DateTime(self.0.posted_at)
    }

    /// Block that posted the job.
    async fn posted_block(&self) -> BigInt {
        BigInt::from_i64(self.0.posted_block)
    }

    /// Transaction that posted the job.
    async fn posted_tx(&self) -> Bytes32 {
        Bytes32::from_slice(&self.0.posted_tx)
    }

    /// Time of the latest change to the posting (post, update or close).
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }

    /// When the job was closed; null while open.
    async fn closed_at(&self) -> Option<DateTime> {
        self.0.closed_at.map(DateTime)
    }

    /// Live applications (not withdrawn).
    async fn application_count(&self) -> i32 {
        self.0.application_count
    }

    /// The job's applications.
    async fn applications(
        &self,
        ctx: &Context<'_>,
        r#where: Option<ApplicationFilter>,
        order_by: Option<ApplicationOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ApplicationConnection> {
        let parent = ApplicationParent::Job(u64::try_from(self.0.job_id).unwrap_or_default());
        let list = (r#where, order_by, first, after);
        nested_applications(ctx, self.1, parent, self.2.as_ref(), list).await
    }

    /// Every version of the posting, oldest first.
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<JobRevision>> {
        let id = u64::try_from(self.0.job_id).unwrap_or_default();
        let rows = load(ctx, self.1, RevisionsOf(id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(JobRevision).collect())
    }
}

fn job_status(row: &JobRow) -> JobStatus {
    let now = Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap_or_else(|_| Utc::now());
    if row.closed {
        JobStatus::Closed
    } else if row.posting.deadline.is_some_and(|d| d < now) {
        JobStatus::Expired
    } else {
        JobStatus::Open
    }
}

/// The arguments of a nested `applications` field: `where`, `orderBy`, `first`, `after`.
type NestedListArgs = (Option<ApplicationFilter>, Option<ApplicationOrderBy>, Option<i32>, Option<String>);

/// Resolves a job's or an applicant's `applications`: the page the parent read ahead if it
/// was read for these arguments, or a read now.
async fn nested_applications(
    ctx: &Context<'_>,
    reached: Reached,
    parent: ApplicationParent,
    prefetched: Option<&Prefetched>,
    (filter, order_by, first, after): NestedListArgs,
) -> Result<ApplicationConnection> {
    let (list, args) = nested_application_args(ctx, filter, order_by, first, after)?;
    let prefetched = prefetched
        .filter(|p| p.args == args)
        .and_then(|p| p.read.lock().ok().and_then(|mut read| read.take()));
    let read = match prefetched {
        Some(read) => read,
        None => read_application_page(ctx, reached, parent, args.clone()).await?,
    };
    Ok(ApplicationConnection::new(read, args.page, list, parent, args.filter))
}

/// The list name (for cursors) and store arguments of a nested application list.
fn nested_application_args(
    ctx: &Context<'_>,
    filter: Option<ApplicationFilter>,
    order_by: Option<ApplicationOrderBy>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<(String, ApplicationListArgs)> {
    let order = order_by.unwrap_or(ApplicationOrderBy::Newest);
    let list = application_list(order);
    let page = page_request(ctx, &list, first, after, None, None)?;
    let filter = filter.unwrap_or_default().to_store()?;
    Ok((list, ApplicationListArgs { filter, order: order.into(), page }))
}

/// Whether the client selects the jobs of a page of applications (`nodes { job }` or
/// `edges { node { job } }`), looking ahead from the connection's field.
fn selects_application_jobs(connection: &async_graphql::Lookahead<'_>) -> bool {
    connection.field("nodes").field("job").exists()
        || connection.field("edges").field("node").field("job").exists()
}

/// A parent's single `applications` selection, worked out ahead from the query so that the
/// parent's resolver can read the page in its own statement. `None` when it cannot be (no such
/// selection, several under aliases, or arguments that do not parse: the field's own resolver
/// then reads, and reports, as usual).
fn plan_applications(ctx: &Context<'_>) -> Option<(ApplicationListArgs, bool)> {
    let look = ctx.look_ahead().field("applications");
    let [field] = &look.selection_fields()[..] else { return None };
    let (mut filter, mut order_by, mut first, mut after) = (None, None, None, None);
    for (name, value) in field.arguments().ok()? {
        match name.as_str() {
            "where" => filter = <Option<ApplicationFilter> as InputType>::parse(Some(value)).ok()?,
            "orderBy" => order_by = <Option<ApplicationOrderBy> as InputType>::parse(Some(value)).ok()?,
            "first" => first = <Option<i32> as InputType>::parse(Some(value)).ok()?,
            "after" => after = <Option<String> as InputType>::parse(Some(value)).ok()?,
            _ => return None,
        }
    }
    let (_, args) = nested_application_args(ctx, filter, order_by, first, after).ok()?;
    Some((args, selects_application_jobs(&look)))
}

/// A page of applications its parent's resolver read ahead, with the arguments it was read
/// for; the `applications` field takes it if its own arguments are the same.
struct Prefetched {
    args: ApplicationListArgs,
    read: std::sync::Mutex<Option<ApplicationPage>>,
}

impl Prefetched {
    fn new(
        args: ApplicationListArgs,
        page: Page<ApplicationRow>,
        jobs: Option<HashMap<u64, JobRow>>,
    ) -> Prefetched {
        let read = ApplicationPage { page, reached: Reached::Alone, jobs };
        Prefetched { args, read: std::sync::Mutex::new(Some(read)) }
    }
}

/// The content of a posting, shared by a job (its current version) and each revision.
pub struct Posting<'a>(&'a PostingRow);

#[Object(visible = false)]
impl Posting<'_> {
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Company.
    async fn company(&self) -> &str {
        &self.0.company
    }
    /// Location.
    async fn location(&self) -> &str {
        &self.0.location
    }
    /// Tags, trimmed and lowercased.
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    /// Description (markdown).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Currency code of the salary range.
    async fn salary_currency(&self) -> &str {
        &self.0.salary_currency
    }
    /// Minimum salary; null when not disclosed.
    async fn salary_min(&self) -> Option<BigInt> {
        self.0.salary_min.as_deref().and_then(BigInt::from_decimal)
    }
    /// Maximum salary; null when not disclosed.
    async fn salary_max(&self) -> Option<BigInt> {
        self.0.salary_max.as_deref().and_then(BigInt::from_decimal)
    }
    /// Last moment applications are accepted (inclusive); null when there is none, and when
    /// it lies after 9999-12-31T23:59:59Z, which RFC 3339 cannot write (see `deadlineUnix`).
    async fn deadline(&self) -> Option<DateTime> {
        self.0.deadline.map(DateTime)
    }
    /// The deadline as the contract holds it, Unix seconds (any uint64); null when there is
    /// none. Set also when `deadline` is null because the time lies past year 9999.
    async fn deadline_unix(&self) -> Option<BigInt> {
        self.0.deadline_unix.as_deref().and_then(BigInt::from_decimal)
    }
}

/// One version of a posting, as an event published it.
pub struct JobRevision(RevisionRow);

#[Object]
impl JobRevision {
    /// This version's fields (title, company, … deadline).
    #[graphql(flatten)]
    async fn posting(&self) -> Posting<'_> {
        Posting(&self.0.posting)
    }
    /// Block of the event (`JobPosted` or `JobUpdated`) that published this version.
    async fn block_number(&self) -> BigInt {
        BigInt::from_i64(self.0.block_number)
    }
    /// The event's log index in its block.
    async fn log_index(&self) -> i32 {
        self.0.log_index
    }
    /// The event's transaction.
    async fn tx_hash(&self) -> Bytes32 {
        Bytes32::from_slice(&self.0.tx_hash)
    }
    /// The block's time.
    async fn timestamp(&self) -> DateTime {
        DateTime(self.0.block_time)
    }
}

/// An application to a job; the document itself stays with the applicant and the employer.
pub struct Application(ApplicationRow, Option<Arc<PageJobs>>);

/// The jobs of one page of applications, read together the first time any application of the
/// page asks for its job: one statement per page, and no timer to wait for the keys, because
/// the page knows them all.
pub struct PageJobs {
    ids: Vec<u64>,
    jobs: tokio::sync::OnceCell<HashMap<u64, JobRow>>,
}

#[Object]
impl Application {
    /// The on-chain application id, in decimal.
    async fn id(&self) -> ID {
        id_of(self.0.application_id)
    }

    /// The job applied to.
    async fn job(&self, ctx: &Context<'_>) -> Result<Job> {
        let id = u64::try_from(self.0.job_id).unwrap_or_default();
        let row = match &self.1 {
            Some(page) => page
                .jobs
                .get_or_try_init(|| api(ctx).reader.jobs_by_id(&page.ids))
                .await
                .map_err(read_failed)?
                .get(&id)
                .cloned(),
            None => api(ctx).loaders.load_one(JobId(id)).await.map_err(gql)?,
        };
        row.map(Job::in_list).ok_or_else(|| gql(ApiError::Internal))
    }

    /// The applying address.
    async fn applicant(&self) -> Result<Applicant> {
        Ok(Applicant::known(Address::from_slice(&self.0.applicant).0))
    }

    /// The salted hash of the applicant's document (see the README's application-hash scheme).
    async fn application_hash(&self) -> Bytes32 {
        Bytes32::from_slice(&self.0.application_hash)
    }

    /// Current status.
    async fn status(&self) -> ApplicationStatus {
        ApplicationStatus::from_byte(self.0.status)
    }

    /// Time of the submitting block.
    async fn submitted_at(&self) -> DateTime {
        DateTime(self.0.submitted_at)
    }

    /// The submitting block.
    async fn submitted_block(&self) -> BigInt {
        BigInt::from_i64(self.0.submitted_block)
    }

    /// The submitting transaction.
    async fn submitted_tx(&self) -> Bytes32 {
        Bytes32::from_slice(&self.0.submitted_tx)
    }

    /// Time of the latest status change.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }

    /// Every status the application has had, oldest first (the first is SUBMITTED).
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<ApplicationStatusChange>> {
        let id = u64::try_from(self.0.application_id).unwrap_or_default();
        let rows = api(ctx).loaders.load_one(HistoryOf(id)).await.map_err(gql)?.unwrap_or_default();
        Ok(rows.into_iter().map(ApplicationStatusChange).collect())
    }
}

/// One status an application took, with the event that set it.
pub struct ApplicationStatusChange(StatusChangeRow);

#[Object]
impl ApplicationStatusChange {
    /// The status.
    async fn status(&self) -> ApplicationStatus {
        ApplicationStatus::from_byte(self.0.status)
    }
    /// Block of the event.
    async fn block_number(&self) -> BigInt {
        BigInt::from_i64(self.0.block_number)
    }
    /// The event's log index.
    async fn log_index(&self) -> i32 {
        self.0.log_index
    }
    /// The event's transaction.
    async fn tx_hash(&self) -> Bytes32 {
        Bytes32::from_slice(&self.0.tx_hash)
    }
    /// The block's time.
    async fn timestamp(&self) -> DateTime {
        DateTime(self.0.block_time)
    }
}

/// An address that has posted jobs.
///
/// Reached from a job, only the address is known, and that is often all a client selects; the
/// counts are loaded (batched across the response) only when selected.
pub struct Employer {
    address: alloy::primitives::Address,
    row: Option<EmployerRow>,
}

impl Employer {
    /// An employer known to exist (it posted a job), counts not loaded yet.
    fn known(address: alloy::primitives::Address) -> Employer {
        Employer { address, row: None }
    }

    /// An employer read with its counts.
    fn loaded(row: EmployerRow) -> Employer {
        Employer { address: alloy::primitives::Address::from_slice(&row.address), row: Some(row) }
    }

    /// (jobs posted, jobs open), loading them if this employer was reached from a job.
    async fn counts(&self, ctx: &Context<'_>) -> Result<(i32, i32)> {
        let row = match &self.row {
            Some(row) => return Ok((row.job_count, row.open_job_count)),
            None => api(ctx).loaders.load_one(EmployerAddress(self.address)).await.map_err(gql)?,
        };
        row.map(|row| (row.job_count, row.open_job_count)).ok_or_else(|| gql(ApiError::Internal))
    }
}

#[Object]
impl Employer {
    /// The address.
    async fn address(&self) -> Address {
        Address(self.address)
    }

    /// The employer's jobs, newest first unless ordered otherwise.
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        r#where: Option<JobFilter>,
        order_by: Option<JobOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<JobConnection> {
        let order = order_by.unwrap_or(JobOrderBy::Newest);
        if order == JobOrderBy::Relevance {
            return Err(bad_input("RELEVANCE ordering needs a search; use Query.jobs(search: …)"));
        }
        let list = job_list(order);
        let request = page_request(ctx, &list, first, after, None, None)?;
        let filter = r#where.unwrap_or_default().to_store()?;
        let address = self.address;
        let args = JobListArgs { filter: filter.clone(), order: order.into(), page: request.clone() };
        let page =
            api(ctx).loaders.load_one(EmployerJobs(address, args)).await.map_err(gql)?.unwrap_or_default();
        Ok(JobConnection { page, request, list, count: JobCount::Employer(address, filter) })
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
    address: alloy::primitives::Address,
    row: Option<ApplicantRow>,
    applications: Option<Prefetched>,
}

impl Applicant {
    /// An applicant known to exist (it applied), counts not loaded yet.
    fn known(address: alloy::primitives::Address) -> Applicant {
        Applicant { address, row: None, applications: None }
    }

    /// An applicant read with its counts.
    fn loaded(row: ApplicantRow) -> Applicant {
        Applicant {
            address: alloy::primitives::Address::from_slice(&row.address),
            row: Some(row),
            applications: None,
        }
    }

    /// (live applications, all applications), loading them if reached from an application.
    async fn counts(&self, ctx: &Context<'_>) -> Result<(i32, i32)> {
        let row = match &self.row {
            Some(row) => return Ok((row.live_application_count, row.application_count)),
            None => api(ctx).loaders.load_one(ApplicantAddress(self.address)).await.map_err(gql)?,
        };
        row.map(|row| (row.live_application_count, row.application_count))
            .ok_or_else(|| gql(ApiError::Internal))
    }
}

#[Object]
impl Applicant {
    /// The address.
    async fn address(&self) -> Address {
        Address(self.address)
    }

    /// The applicant's applications, newest first unless ordered otherwise.
    async fn applications(
        &self,
        ctx: &Context<'_>,
        r#where: Option<ApplicationFilter>,
        order_by: Option<ApplicationOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ApplicationConnection> {
        let parent = ApplicationParent::Applicant(self.address);
        let reached = if self.row.is_some() { Reached::Alone } else { Reached::InList };
        let list = (r#where, order_by, first, after);
        nested_applications(ctx, reached, parent, self.applications.as_ref(), list).await
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

/// Something that happened on the board, or a reorg (subscriptions only).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct ActivityEvent {
    /// What happened.
    pub kind: ActivityKind,
    /// The job concerned (null for REORG).
    pub job_id: Option<ID>,
    /// The application concerned, for application events.
    pub application_id: Option<ID>,
    /// The new status, for APPLICATION_STATUS_CHANGED.
    pub status: Option<ApplicationStatus>,
    /// The job's employer.
    pub employer: Option<Address>,
    /// The applicant, for application events.
    pub applicant: Option<Address>,
    /// The event's block; for REORG, the block reverted to.
    pub block_number: BigInt,
    /// That block's hash.
    pub block_hash: Option<Bytes32>,
    /// The event's log index (null for REORG).
    pub log_index: Option<i32>,
    /// The event's transaction (null for REORG).
    pub tx_hash: Option<Bytes32>,
    /// The block's time (null for REORG).
    pub timestamp: Option<DateTime>,
}

impl ActivityEvent {
    fn from_row(row: &ActivityRow) -> Self {
        ActivityEvent {
            kind: ActivityKind::from_event_name(&row.kind),
            job_id: Some(id_of(row.job_id)),
            application_id: row.application_id.map(id_of),
            status: row.status.map(ApplicationStatus::from_byte),
            employer: row.employer.as_deref().map(Address::from_slice),
            applicant: row.applicant.as_deref().map(Address::from_slice),
            block_number: BigInt::from_i64(row.block_number),
            block_hash: Some(Bytes32::from_slice(&row.block_hash)),
            log_index: Some(row.log_index),
            tx_hash: Some(Bytes32::from_slice(&row.tx_hash)),
            timestamp: Some(DateTime(row.block_time)),
        }
    }
}

#[ComplexObject]
impl ActivityEvent {
    /// The job concerned, as it is now (null for REORG or if since reverted).
    async fn job(&self, ctx: &Context<'_>) -> Result<Option<Job>> {
        let Some(id) = &self.job_id else { return Ok(None) };
        let id = parse_id(id, "jobId")?;
        Ok(api(ctx).loaders.load_one(JobId(id)).await.map_err(gql)?.map(Job::in_list))
    }

    /// The application concerned, as it is now.
    async fn application(&self, ctx: &Context<'_>) -> Result<Option<Application>> {
        let Some(id) = &self.application_id else { return Ok(None) };
        let id = parse_id(id, "applicationId")?;
        Ok(api(ctx).loaders.load_one(ApplicationId(id)).await.map_err(gql)?.map(|row| Application(row, None)))
    }
}

/// A block of the indexed chain.
#[derive(SimpleObject, Debug, Clone)]
pub struct BlockRef {
    /// Number.
    pub number: BigInt,
    /// Hash.
    pub hash: Bytes32,
    /// Time.
    pub timestamp: DateTime,
}

impl BlockRef {
    fn from_info(info: &store::BlockInfo) -> Self {
        BlockRef {
            number: BigInt::from_i64(info.number),
            hash: Bytes32::from_slice(&info.hash),
            timestamp: DateTime(info.time),
        }
    }
}

/// Where the index stands.
#[derive(SimpleObject, Debug, Clone)]
pub struct Meta {
    /// The indexed chain.
    pub chain_id: BigInt,
    /// The indexed board contract.
    pub contract: Address,
    /// The last block whose events are all in the database (null before the first).
    pub block: Option<BlockRef>,
    /// The newest indexed block the indexer treats as final.
    pub finalized_block: Option<BlockRef>,
    /// The node's latest block as last seen.
    pub head_block: Option<BigInt>,
    /// Backfill done, within a few blocks of the head, and the indexer alive: it reported
    /// within `--stall-after`, and advanced within it if the head moved on.
    pub synced: bool,
    /// Backfill reached the finalized block.
    pub backfill_done: bool,
    /// When the indexer last reported in (it does on every poll of the node).
    pub indexer_updated_at: Option<DateTime>,
}

impl Meta {
    /// Builds the meta of `reader`'s board from its status (see [`IndexStatus::health`]).
    pub fn from_status(
        reader: &Reader,
        status: Option<&IndexStatus>,
        stall_after: std::time::Duration,
    ) -> Meta {
        let board = reader.board();
        let block = status.and_then(|s| s.block.as_ref());
        let synced = status.is_some_and(|s| s.health(stall_after).synced);
        Meta {
            chain_id: BigInt(board.chain_id),
            contract: Address(board.contract),
            block: block.map(BlockRef::from_info),
            finalized_block: status.and_then(|s| s.finalized_block.as_ref()).map(BlockRef::from_info),
            head_block: status.and_then(|s| s.head_block).map(BigInt::from_i64),
            synced,
            backfill_done: status.is_some_and(|s| s.backfill_done),
            indexer_updated_at: status.map(|s| DateTime(s.updated_at)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Roots

/// Reads.
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// A job by id; null if there is none.
    async fn job(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Job>> {
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
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        r#where: Option<JobFilter>,
        search: Option<String>,
        order_by: Option<JobOrderBy>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
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
        let request = page_request(ctx, &list, first, after, last, before)?;
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
    async fn application(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Application>> {
        let id = parse_id(&id, "id")?;
        let mut rows = api(ctx).reader.applications_by_id(&[id]).await.map_err(read_failed)?;
        Ok(rows.remove(&id).map(|row| Application(row, None)))
    }

    /// Applications, filtered and ordered (newest first by default).
    #[allow(clippy::too_many_arguments, reason = "the fixed GraphQL signature")]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        r#where: Option<ApplicationFilter>,
        order_by: Option<ApplicationOrderBy>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ApplicationConnection> {
        let order = order_by.unwrap_or(ApplicationOrderBy::Newest);
        let list = application_list(order);
        let request = page_request(ctx, &list, first, after, last, before)?;
        let filter = r#where.unwrap_or_default().to_store()?;
        let parent = ApplicationParent::All;
        let args = ApplicationListArgs { filter: filter.clone(), order: order.into(), page: request.clone() };
        let read = read_application_page(ctx, Reached::Alone, parent, args).await?;
        Ok(ApplicationConnection::new(read, request, list, parent, filter))
    }

    /// An employer by address; null if the address never posted.
    async fn employer(&self, ctx: &Context<'_>, address: Address) -> Result<Option<Employer>> {
        let mut rows = api(ctx).reader.employers(&[address.0]).await.map_err(read_failed)?;
        Ok(rows.remove(&address.0).map(Employer::loaded))
    }

    /// An applicant by address; null if the address never applied.
    async fn applicant(&self, ctx: &Context<'_>, address: Address) -> Result<Option<Applicant>> {
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
    async fn activity(
        &self,
        ctx: &Context<'_>,
        r#where: Option<ActivityFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ActivityConnection> {
        let request = page_request(ctx, ACTIVITY_LIST, first, after, None, None)?;
        let filter = r#where.unwrap_or_default().to_store()?;
        let page = api(ctx).reader.activity(&filter, &request).await.map_err(read_failed)?;
        Ok(ActivityConnection { page, request })
    }

    /// Where the index stands.
    #[graphql(name = "_meta")]
    async fn meta(&self, ctx: &Context<'_>) -> Result<Meta> {
        let reader = &api(ctx).reader;
        let status = reader.status().await.map_err(read_failed)?;
        Ok(Meta::from_status(reader, status.as_ref(), api(ctx).stall_after))
    }
}

/// Live updates, pushed after the indexer commits.
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Every new event matching the filter, in chain order, and a REORG event (with the block
    /// reverted to) whenever the indexer reverts; events that replace reverted ones follow it.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        r#where: Option<ActivityFilter>,
    ) -> Result<impl Stream<Item = Result<ActivityEvent>> + use<>> {
        let filter = r#where.unwrap_or_default();
        let wants_reorgs = filter.wants_reorgs();
        let filter = filter.to_store()?;
        let receiver = api(ctx).live.subscribe();
        let stream =
            async_graphql::futures_util::stream::unfold((receiver, false), move |(mut receiver, done)| {
                let filter = filter.clone();
                async move {
                    if done {
                        return None;
                    }
                    loop {
                        match receiver.recv().await {
                            Ok(event) => match event.as_ref() {
                                LiveEvent::Activity(row) if filter.matches(row) => {
                                    return Some((Ok(ActivityEvent::from_row(row)), (receiver, false)));
                                }
                                LiveEvent::Reorg { to, hash } if wants_reorgs => {
                                    let event = ActivityEvent {
                                        kind: ActivityKind::Reorg,
                                        job_id: None,
                                        application_id: None,
                                        status: None,
                                        employer: None,
                                        applicant: None,
                                        block_number: BigInt(*to),
                                        block_hash: hash.map(Bytes32),
                                        log_index: None,
                                        tx_hash: None,
                                        timestamp: None,
                                    };
                                    return Some((Ok(event), (receiver, false)));
                                }
                                _ => {}
                            },
                            Err(RecvError::Lagged(missed)) => {
                                let error = bad_input(format!(
                                    "this subscription fell {missed} events behind and was closed; \
                                     resubscribe and reconcile with the activity query"
                                ));
                                return Some((Err(error), (receiver, true)));
                            }
                            Err(RecvError::Closed) => return None,
                        }
                    }
                }
            });
        Ok(stream)
    }

    /// The index status, now and each time the indexed block moves.
    async fn meta(&self, ctx: &Context<'_>) -> impl Stream<Item = Meta> + use<> {
        let context = api(ctx).clone();
        let status = tokio_stream_from_watch(context.live.status());
        // `None` until the first value, which is always pushed.
        let mut last_block: Option<Option<(i64, Vec<u8>)>> = None;
        status.filter_map(move |status| {
            let block = status.as_ref().and_then(|s| s.block.as_ref()).map(|b| (b.number, b.hash.clone()));
            let moved = last_block.as_ref() != Some(&block);
            last_block = Some(block);
            let meta =
                moved.then(|| Meta::from_status(&context.reader, status.as_ref(), context.stall_after));
            async move { meta }
        })
    }
}

/// The values of a watch channel as a stream: the current one first, then each change.
fn tokio_stream_from_watch<T: Clone + Send + Sync + 'static>(
    receiver: tokio::sync::watch::Receiver<T>,
) -> impl Stream<Item = T> {
    async_graphql::futures_util::stream::unfold((receiver, true), |(mut receiver, first)| async move {
        if !first && receiver.changed().await.is_err() {
            return None;
        }
        let value = receiver.borrow_and_update().clone();
        Some((value, (receiver, false)))
    })
}
