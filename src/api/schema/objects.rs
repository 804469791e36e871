//! The schema's object types for jobs and applications (their postings, revisions and status
//! history) and how their nested lists are read.

use super::*;

pub(super) fn id_of(value: impl std::fmt::Display) -> ID {
    ID(value.to_string())
}

pub(super) fn job_list(order: JobOrderBy) -> String {
    format!("jobs:{order:?}")
}

pub(super) fn application_list(order: ApplicationOrderBy) -> String {
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
pub(super) async fn load<K, V>(ctx: &Context<'_>, on: BoardIx, reached: Reached, key: K) -> Result<Option<V>>
where
    ReadLoader: Loader<K, Value = V, Error = ApiError>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    let loaders = &board(ctx, on).loaders;
    match reached {
        Reached::InList => loaders.load_one(key).await.map_err(gql),
        Reached::Alone => {
            let mut rows = loaders.loader().load(std::slice::from_ref(&key)).await.map_err(gql)?;
            Ok(rows.remove(&key))
        }
    }
}

/// A job posting and its current state, with the board it was read from.
pub struct Job {
    pub(super) row: JobRow,
    pub(super) on: BoardIx,
    pub(super) reached: Reached,
    /// The page of applications its resolver read ahead, if any.
    pub(super) applications: Option<Prefetched>,
}

impl Job {
    /// A job reached on its own (`job(id)`): its nested lists are read at once.
    pub(super) fn alone(row: JobRow, on: BoardIx) -> Job {
        Job { row, on, reached: Reached::Alone, applications: None }
    }

    /// A job among others (a page, an application's job, an event's job): nested reads go
    /// through the loaders, batched with its siblings'.
    pub(super) fn in_list(row: JobRow, on: BoardIx) -> Job {
        Job { row, on, reached: Reached::InList, applications: None }
    }
}

/// A job posting: its current content, state and applications, and every earlier version.
#[Object]
impl Job {
    /// The on-chain job id, in decimal.
    async fn id(&self) -> ID {
        id_of(self.row.job_id)
    }

    /// The chain the job is on.
    async fn chain_id(&self, ctx: &Context<'_>) -> BigInt {
        BigInt(board(ctx, self.on).chain_id())
    }

    /// An id no other object shares on any chain (`Job:<chainId>:<id>`): key client caches by
    /// it, since job ids repeat across chains.
    async fn node_id(&self, ctx: &Context<'_>) -> ID {
        node_id("Job", ctx, self.on, self.row.job_id)
    }

    /// The address that posted the job.
    async fn employer(&self) -> Result<Employer> {
        Ok(Employer::known(self.row.employer, self.on))
    }

    /// The current posting's fields (title, company, … deadline).
    #[graphql(flatten)]
    async fn posting(&self) -> Posting<'_> {
        Posting(&self.row.posting)
    }

    /// OPEN, CLOSED, or EXPIRED (deadline passed, still open on-chain).
    async fn status(&self) -> JobStatus {
        job_status(&self.row)
    }

    /// Time of the block that posted the job.
    async fn posted_at(&self) -> DateTime {
        DateTime(self.row.posted_at)
    }

    /// Block that posted the job.
    async fn posted_block(&self) -> BigInt {
        BigInt(self.row.posted_block)
    }

    /// Transaction that posted the job.
    async fn posted_tx(&self) -> Bytes32 {
        Bytes32(self.row.posted_tx)
    }

    /// Time of the latest change to the posting (post, update or close).
    async fn updated_at(&self) -> DateTime {
        DateTime(self.row.updated_at)
    }

    /// When the job was closed; null while open.
    async fn closed_at(&self) -> Option<DateTime> {
        self.row.closed_at.map(DateTime)
    }

    /// Live applications (not withdrawn).
    async fn application_count(&self) -> i32 {
        self.row.application_count
    }

    /// The job's applications.
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
        let parent = ApplicationParent::Job(self.row.job_id);
        let list = (r#where, order_by, first, after);
        nested_applications(ctx, self.on, self.reached, parent, self.applications.as_ref(), list).await
    }

    /// The versions of the posting, oldest first: the first `first` of them (default 20, at
    /// most the page maximum), since an employer can update a job without limit.
    #[graphql(complexity = "cost::list(first, None, child_complexity)")]
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many versions, oldest first (default 20).")] first: Option<i32>,
    ) -> Result<Vec<JobRevision>> {
        let id = self.row.job_id;
        let limit = page_size(ctx, first, None)?.0;
        let rows = load(ctx, self.on, self.reached, RevisionsOf(id, limit)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(JobRevision).collect())
    }
}

pub(super) fn job_status(row: &JobRow) -> JobStatus {
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
pub(super) type NestedListArgs =
    (Option<ApplicationFilter>, Option<ApplicationOrderBy>, Option<i32>, Option<String>);

/// Resolves a job's or an applicant's `applications`: the page the parent read ahead if it
/// was read for these arguments, or a read now.
pub(super) async fn nested_applications(
    ctx: &Context<'_>,
    on: BoardIx,
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
        None => read_application_page(ctx, on, reached, parent, args.clone()).await?,
    };
    Ok(ApplicationConnection::new(read, on, args.page, list, parent, args.filter))
}

/// The list name (for cursors) and store arguments of a nested application list.
pub(super) fn nested_application_args(
    ctx: &Context<'_>,
    filter: Option<ApplicationFilter>,
    order_by: Option<ApplicationOrderBy>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<(String, ApplicationListArgs)> {
    let order = order_by.unwrap_or(ApplicationOrderBy::Newest);
    let list = application_list(order);
    let accepts = |k: &SortKey| store::ApplicationOrder::from(order).accepts_key(k);
    let page = page_request(ctx, &list, accepts, first, after, None, None)?;
    let filter = filter.unwrap_or_default().to_store()?;
    Ok((list, ApplicationListArgs { filter, order: order.into(), page }))
}

/// Whether the client selects the jobs of a page of applications (`nodes { job }` or
/// `edges { node { job } }`), looking ahead from the connection's field.
pub(super) fn selects_application_jobs(connection: &async_graphql::Lookahead<'_>) -> bool {
    connection.field("nodes").field("job").exists()
        || connection.field("edges").field("node").field("job").exists()
}

/// A parent's single `applications` selection, worked out ahead from the query so that the
/// parent's resolver can read the page in its own statement. `None` when it cannot be (no such
/// selection, several under aliases, or arguments that do not parse: the field's own resolver
/// then reads, and reports, as usual).
pub(super) fn plan_applications(ctx: &Context<'_>) -> Option<(ApplicationListArgs, bool)> {
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
pub(super) struct Prefetched {
    pub(super) args: ApplicationListArgs,
    pub(super) read: std::sync::Mutex<Option<ApplicationPage>>,
}

impl Prefetched {
    pub(super) fn new(
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
pub struct JobRevision(pub(super) RevisionRow);

/// One version of a job posting, as the event (`JobPosted` or `JobUpdated`) that published it.
#[Object]
impl JobRevision {
    /// This version's fields (title, company, … deadline).
    #[graphql(flatten)]
    async fn posting(&self) -> Posting<'_> {
        Posting(&self.0.posting)
    }
    /// Block of the event (`JobPosted` or `JobUpdated`) that published this version.
    async fn block_number(&self) -> BigInt {
        BigInt(self.0.block_number)
    }
    /// The event's log index in its block.
    async fn log_index(&self) -> i32 {
        self.0.log_index
    }
    /// The event's transaction.
    async fn tx_hash(&self) -> Bytes32 {
        Bytes32(self.0.tx_hash)
    }
    /// The block's time.
    async fn timestamp(&self) -> DateTime {
        DateTime(self.0.block_time)
    }
}

/// An application to a job, with the board it was read from; the document itself stays with
/// the applicant and the employer.
pub struct Application {
    pub(super) row: ApplicationRow,
    pub(super) on: BoardIx,
    /// The jobs of its page, read together, when the page was read alone.
    pub(super) jobs: Option<Arc<PageJobs>>,
}

impl Application {
    /// An application whose job is read through the loaders (or its page's `jobs`).
    pub(super) fn new(row: ApplicationRow, on: BoardIx, jobs: Option<Arc<PageJobs>>) -> Application {
        Application { row, on, jobs }
    }
}

/// The jobs of one page of applications, read together the first time any application of the
/// page asks for its job: one statement per page, and no timer to wait for the keys, because
/// the page knows them all.
pub struct PageJobs {
    pub(super) ids: Vec<u64>,
    pub(super) jobs: tokio::sync::OnceCell<HashMap<u64, JobRow>>,
}

/// An application to a job; the document itself stays with the applicant and the employer, and
/// only its salted hash is on-chain.
#[Object]
impl Application {
    /// The on-chain application id, in decimal.
    async fn id(&self) -> ID {
        id_of(self.row.application_id)
    }

    /// The chain the application is on.
    async fn chain_id(&self, ctx: &Context<'_>) -> BigInt {
        BigInt(board(ctx, self.on).chain_id())
    }

    /// An id no other object shares on any chain (`Application:<chainId>:<id>`): key client
    /// caches by it, since application ids repeat across chains.
    async fn node_id(&self, ctx: &Context<'_>) -> ID {
        node_id("Application", ctx, self.on, self.row.application_id)
    }

    /// The job applied to.
    async fn job(&self, ctx: &Context<'_>) -> Result<Job> {
        let id = self.row.job_id;
        let on = board(ctx, self.on);
        let row = match &self.jobs {
            Some(page) => page
                .jobs
                .get_or_try_init(|| on.reader.jobs_by_id(&page.ids))
                .await
                .map_err(read_failed)?
                .get(&id)
                .cloned(),
            None => on.loaders.load_one(JobId(id)).await.map_err(gql)?,
        };
        row.map(|row| Job::in_list(row, self.on)).ok_or_else(|| gql(ApiError::Internal))
    }

    /// The applying address.
    async fn applicant(&self) -> Result<Applicant> {
        Ok(Applicant::known(self.row.applicant, self.on))
    }

    /// The salted hash of the applicant's document (see the README's application-hash scheme).
    async fn application_hash(&self) -> Bytes32 {
        Bytes32(self.row.application_hash)
    }

    /// Current status.
    async fn status(&self) -> ApplicationStatus {
        ApplicationStatus::from(self.row.status)
    }

    /// Time of the submitting block.
    async fn submitted_at(&self) -> DateTime {
        DateTime(self.row.submitted_at)
    }

    /// The submitting block.
    async fn submitted_block(&self) -> BigInt {
        BigInt(self.row.submitted_block)
    }

    /// The submitting transaction.
    async fn submitted_tx(&self) -> Bytes32 {
        Bytes32(self.row.submitted_tx)
    }

    /// Time of the latest status change.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.row.updated_at)
    }

    /// Every status the application has had, oldest first (the first is SUBMITTED).
    #[graphql(complexity = "cost::history(child_complexity)")]
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<ApplicationStatusChange>> {
        let id = self.row.application_id;
        let rows =
            board(ctx, self.on).loaders.load_one(HistoryOf(id)).await.map_err(gql)?.unwrap_or_default();
        Ok(rows.into_iter().map(ApplicationStatusChange).collect())
    }
}

/// One status an application took, with the event that set it.
pub struct ApplicationStatusChange(StatusChangeRow);

/// One status an application took, with the event that set it.
#[Object]
impl ApplicationStatusChange {
    /// The status.
    async fn status(&self) -> ApplicationStatus {
        ApplicationStatus::from(self.0.status)
    }
    /// Block of the event.
    async fn block_number(&self) -> BigInt {
        BigInt(self.0.block_number)
    }
    /// The event's log index.
    async fn log_index(&self) -> i32 {
        self.0.log_index
    }
    /// The event's transaction.
    async fn tx_hash(&self) -> Bytes32 {
        Bytes32(self.0.tx_hash)
    }
    /// The block's time.
    async fn timestamp(&self) -> DateTime {
        DateTime(self.0.block_time)
    }
}
