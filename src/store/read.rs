//! The API's reads: filtered, ordered, keyset-paginated lists of jobs, applications and
//! activity, the lookups its loaders batch, and where indexing stands.
//!
//! Every list is keyset-paginated on `(sort key, id)`: a page never scans the rows before it,
//! so the thousandth page costs what the first does. Sort keys are compared as SQL values of
//! the column's own type; the cursor carries them as text, which PostgreSQL prints losslessly.
//! Lists nested under a parent (an employer's jobs, a job's applications) are fetched for a
//! whole page of parents in one statement with `CROSS JOIN LATERAL`, so a page costs a fixed
//! number of statements however many rows it has.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use alloy::primitives::Address;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder, Row};

use super::{Board, StoreError, to_sql_i64};
use crate::contract::split_tags;

/// The on-chain state of a job as readers see it (expiry depends on the reader's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Not closed, and its deadline (if any) not passed.
    Open,
    /// Closed by its employer.
    Closed,
    /// Not closed on-chain, but its deadline has passed.
    Expired,
}

/// Conditions on jobs; every set field must hold, then every `and` filter, then at least one
/// `or` filter (when there are any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct JobFilter {
    /// The job id is one of these.
    pub id_in: Option<Vec<u64>>,
    /// Posted by this employer.
    pub employer: Option<Address>,
    /// In any of these states.
    pub status_in: Option<Vec<JobStatus>>,
    /// Title contains this text, ignoring case.
    pub title_contains: Option<String>,
    /// Location contains this text, ignoring case.
    pub location_contains: Option<String>,
    /// Has this tag (tags are compared trimmed and lowercased).
    pub tags_has: Option<String>,
    /// Disclosed minimum salary at least this.
    pub salary_min_gte: Option<u64>,
    /// Disclosed maximum salary at most this.
    pub salary_max_lte: Option<u64>,
    /// Posted at or after this time.
    pub posted_at_gte: Option<DateTime<Utc>>,
    /// Posted at or before this time.
    pub posted_at_lte: Option<DateTime<Utc>>,
    /// Has a deadline at or after this time.
    pub deadline_gte: Option<DateTime<Utc>>,
    /// Filters that must all hold too.
    pub and: Vec<JobFilter>,
    /// Filters of which at least one must hold, when not empty.
    pub or: Vec<JobFilter>,
}

/// How a list of jobs is ordered; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobOrder {
    /// Newest posting first.
    Newest,
    /// Oldest posting first.
    Oldest,
    /// Highest disclosed maximum salary first; undisclosed last.
    SalaryHighToLow,
    /// Soonest deadline first; no deadline last.
    DeadlineSoonest,
    /// Most live applications first.
    MostApplications,
    /// Best full-text match first (only with a search).
    Relevance,
}

/// Conditions on applications, combined like [`JobFilter`]'s.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ApplicationFilter {
    /// The application id is one of these.
    pub id_in: Option<Vec<u64>>,
    /// For this job.
    pub job_id: Option<u64>,
    /// From this applicant.
    pub applicant: Option<Address>,
    /// With any of these statuses (the on-chain bytes, 0 Submitted .. 4 Withdrawn).
    pub status_in: Option<Vec<u8>>,
    /// Submitted at or after this time.
    pub submitted_at_gte: Option<DateTime<Utc>>,
    /// Submitted at or before this time.
    pub submitted_at_lte: Option<DateTime<Utc>>,
    /// Filters that must all hold too.
    pub and: Vec<ApplicationFilter>,
    /// Filters of which at least one must hold, when not empty.
    pub or: Vec<ApplicationFilter>,
}

/// How a list of applications is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationOrder {
    /// Newest submission first.
    Newest,
    /// Oldest submission first.
    Oldest,
    /// Most recent status change first.
    RecentlyUpdated,
}

/// Conditions on the activity feed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ActivityFilter {
    /// Events about this job (its posting, updates, close and applications).
    pub job_id: Option<u64>,
    /// Events about this application.
    pub application_id: Option<u64>,
    /// Events by or about this address: as the employer of the job or the applicant.
    pub address: Option<Address>,
    /// Events of these kinds (Solidity event names).
    pub kind_in: Option<Vec<String>>,
    /// Filters that must all hold too.
    pub and: Vec<ActivityFilter>,
    /// Filters of which at least one must hold, when not empty.
    pub or: Vec<ActivityFilter>,
}

/// A position in an ordered list: the row's sort value (as SQL text; empty when the order is
/// by id alone) and its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// The sort expression's value, printed by PostgreSQL.
    pub value: String,
    /// The row's id (job id, application id, or log index for activity).
    pub id: i64,
}

/// Which slice of an ordered list to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// Only rows after this key (in list order).
    pub after: Option<SortKey>,
    /// Only rows before this key (in list order).
    pub before: Option<SortKey>,
    /// How many rows.
    pub limit: usize,
    /// Take the last `limit` rows of the slice instead of the first.
    pub from_end: bool,
}

/// One page of rows in list order, each with its key.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows and their keys.
    pub rows: Vec<(SortKey, T)>,
    /// Whether the slice holds more rows beyond the page (after it, or before it when read
    /// from the end).
    pub has_more: bool,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self { rows: Vec::new(), has_more: false }
    }
}

/// The content of a posting: a job's current one, or one of its revisions.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct PostingRow {
    /// Title.
    pub title: String,
    /// Company.
    pub company: String,
    /// Location.
    pub location: String,
    /// Tags, split, trimmed and lowercased.
    #[sqlx(default)]
    pub tags: Vec<String>,
    /// Description (markdown).
    pub description: String,
    /// Currency code of the salary.
    pub salary_currency: String,
    /// Disclosed minimum salary, decimal.
    pub salary_min: Option<String>,
    /// Disclosed maximum salary, decimal.
    pub salary_max: Option<String>,
    /// Application deadline as a time; `None` when there is none or when it lies after
    /// 9999-12-31T23:59:59Z (see `deadline_unix`).
    pub deadline: Option<DateTime<Utc>>,
    /// Application deadline as the contract holds it: Unix seconds (a `uint64`), decimal.
    pub deadline_unix: Option<String>,
}

/// A job as stored, with its current posting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    /// The on-chain id.
    pub job_id: i64,
    /// The employer's address (20 bytes).
    pub employer: Vec<u8>,
    /// The current posting.
    #[sqlx(flatten)]
    pub posting: PostingRow,
    /// Closed on-chain.
    pub closed: bool,
    /// Block of the `JobPosted` event.
    pub posted_block: i64,
    /// Transaction of the `JobPosted` event.
    pub posted_tx: Vec<u8>,
    /// Time of the `JobPosted` block.
    pub posted_at: DateTime<Utc>,
    /// Time of the latest event about the posting.
    pub updated_at: DateTime<Utc>,
    /// Time of the `JobClosed` block.
    pub closed_at: Option<DateTime<Utc>>,
    /// Live (not withdrawn) applications.
    pub application_count: i32,
}

impl JobRow {
    /// Decodes a job joined into another row: the [`JOB_COLUMNS`] values, in that order, from
    /// column `at` on. `None` when the join found no job (its id column is NULL).
    fn from_columns(row: &PgRow, at: usize) -> Result<Option<JobRow>, sqlx::Error> {
        let mut column = at;
        let mut next = || {
            column += 1;
            column - 1
        };
        let Some(job_id) = row.try_get::<Option<i64>, _>(next())? else { return Ok(None) };
        Ok(Some(JobRow {
            job_id,
            employer: row.try_get(next())?,
            posting: PostingRow {
                title: row.try_get(next())?,
                company: row.try_get(next())?,
                location: row.try_get(next())?,
                tags: row.try_get(next())?,
                description: row.try_get(next())?,
                salary_currency: row.try_get(next())?,
                salary_min: row.try_get(next())?,
                salary_max: row.try_get(next())?,
                deadline: row.try_get(next())?,
                deadline_unix: row.try_get(next())?,
            },
            closed: row.try_get(next())?,
            posted_block: row.try_get(next())?,
            posted_tx: row.try_get(next())?,
            posted_at: row.try_get(next())?,
            updated_at: row.try_get(next())?,
            closed_at: row.try_get(next())?,
            application_count: row.try_get(next())?,
        }))
    }
}

/// One version of a posting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RevisionRow {
    /// The job.
    pub job_id: i64,
    /// The version's content (its tags split from `tags_text`).
    #[sqlx(flatten)]
    pub posting: PostingRow,
    /// Tags as posted (comma-separated).
    pub tags_text: String,
    /// Block of the event that published this version.
    pub block_number: i64,
    /// Its log index.
    pub log_index: i32,
    /// Its transaction.
    pub tx_hash: Vec<u8>,
    /// Its block's time.
    pub block_time: DateTime<Utc>,
}

/// An application as stored, with its current status.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApplicationRow {
    /// The on-chain id.
    pub application_id: i64,
    /// The job applied to.
    pub job_id: i64,
    /// The applicant's address.
    pub applicant: Vec<u8>,
    /// The salted document hash.
    pub application_hash: Vec<u8>,
    /// Current status byte.
    pub status: i16,
    /// Block of the `ApplicationSubmitted` event.
    pub submitted_block: i64,
    /// Its transaction.
    pub submitted_tx: Vec<u8>,
    /// Its block's time.
    pub submitted_at: DateTime<Utc>,
    /// Time of the latest status change.
    pub updated_at: DateTime<Utc>,
}

/// One status an application has had (the first is its submission).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatusChangeRow {
    /// The application.
    pub application_id: i64,
    /// The status byte.
    pub status: i16,
    /// Block of the event.
    pub block_number: i64,
    /// Its log index.
    pub log_index: i32,
    /// Its transaction.
    pub tx_hash: Vec<u8>,
    /// Its block's time.
    pub block_time: DateTime<Utc>,
}

/// An address that posted jobs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmployerRow {
    /// The address.
    pub address: Vec<u8>,
    /// Jobs posted.
    pub job_count: i32,
    /// Jobs open now (not closed, deadline not passed).
    pub open_job_count: i32,
}

/// An address that applied.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApplicantRow {
    /// The address.
    pub address: Vec<u8>,
    /// Every application submitted, withdrawn ones included.
    pub application_count: i32,
    /// Applications not withdrawn.
    pub live_application_count: i32,
}

/// One indexed event, as the activity feed shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActivityRow {
    /// The Solidity event name.
    pub kind: String,
    /// The job concerned.
    pub job_id: i64,
    /// The application concerned, for application events.
    pub application_id: Option<i64>,
    /// The new status byte, for `ApplicationStatusChanged`.
    pub status: Option<i16>,
    /// The job's employer (absent only if the job is not indexed).
    pub employer: Option<Vec<u8>>,
    /// The application's applicant, for application events.
    pub applicant: Option<Vec<u8>>,
    /// Block number.
    pub block_number: i64,
    /// Block hash.
    pub block_hash: Vec<u8>,
    /// Log index in the block.
    pub log_index: i32,
    /// Transaction hash.
    pub tx_hash: Vec<u8>,
    /// Block time.
    pub block_time: DateTime<Utc>,
}

/// A block as the status reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// Number.
    pub number: i64,
    /// Hash (32 bytes).
    pub hash: Vec<u8>,
    /// Time.
    pub time: DateTime<Utc>,
}

/// Where indexing stands, for `_meta` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStatus {
    /// The last block whose events are all in the database.
    pub block: Option<BlockInfo>,
    /// The newest indexed block that is also final.
    pub finalized_block: Option<BlockInfo>,
    /// The finalized block number as last seen from the node.
    pub finalized_number: Option<i64>,
    /// The node's head as last seen.
    pub head_block: Option<i64>,
    /// Backfill reached the finalized block.
    pub backfill_done: bool,
    /// When the indexer last wrote its state (it does on every poll).
    pub updated_at: DateTime<Utc>,
    /// How long ago that was, by the database's clock (the API's host may disagree).
    pub reported_ago: std::time::Duration,
    /// How long ago the checkpoint last moved, by the database's clock.
    pub advanced_ago: std::time::Duration,
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

/// Reads one board's data for the API, counting the statements it runs (the `/metrics`
/// figure that shows the loaders keep a page at a fixed number of statements).
#[derive(Debug, Clone)]
pub struct Reader {
    pool: PgPool,
    board: Board,
    chain_id: i64,
    contract: Vec<u8>,
    statements: Arc<AtomicU64>,
}

const JOB_COLUMNS: &str = "j.job_id, j.employer, j.title, j.company, j.location, j.tags, j.description, \
     j.salary_currency, j.salary_min::text AS salary_min, j.salary_max::text AS salary_max, j.deadline, \
     j.deadline_unix::text AS deadline_unix, j.closed, j.posted_block, j.posted_tx, j.posted_at, j.updated_at, j.closed_at, j.application_count";

/// How many columns [`JOB_COLUMNS`] selects, and so how many a joined job adds to a row.
const JOINED_JOB_COLUMNS: usize = 19;

/// `j0, j1, …` (for `prefix` "j"): the names a joined job's columns take.
fn joined_job_aliases(prefix: &str) -> String {
    (0..JOINED_JOB_COLUMNS).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>().join(", ")
}

const APPLICANT_COLUMNS: &str = "e.address, e.application_count, e.live_application_count";

const APPLICATION_COLUMNS: &str = "a.application_id, a.job_id, a.applicant, a.application_hash, a.status, \
     a.submitted_block, a.submitted_tx, a.submitted_at, a.updated_at";

const ACTIVITY_COLUMNS: &str = "e.kind, e.job_id, e.application_id, e.status, j.employer, a.applicant, \
     e.block_number, e.block_hash, e.log_index, e.tx_hash, e.block_time";

const ACTIVITY_FROM: &str = "events e \
     LEFT JOIN jobs j ON j.chain_id = e.chain_id AND j.contract = e.contract AND j.job_id = e.job_id \
     LEFT JOIN applications a ON a.chain_id = e.chain_id AND a.contract = e.contract \
       AND a.application_id = e.application_id";

/// The SQL of one ordering: its sort expression (None: by id alone), the type the cursor's
/// text is cast back to, and whether the list runs high to low.
struct OrderSql {
    key: Option<(&'static str, &'static str)>,
    id: &'static str,
    descending: bool,
}

impl JobOrder {
    fn sql(self) -> OrderSql {
        let (key, descending) = match self {
            JobOrder::Newest => (None, true),
            JobOrder::Oldest => (None, false),
            JobOrder::SalaryHighToLow => (Some(("COALESCE(j.salary_max, -1)", "numeric")), true),
            JobOrder::DeadlineSoonest => {
                // The on-chain value orders every deadline, those past year 9999 included;
                // 2^64 (no uint64 reaches it) puts "no deadline" last. Indexed (migration 0003).
                (Some(("COALESCE(j.deadline_unix, 18446744073709551616)", "numeric")), false)
            }
            JobOrder::MostApplications => (Some(("j.application_count", "integer")), true),
            JobOrder::Relevance => {
                (Some(("ts_rank(j.search, websearch_to_tsquery('english', ", "real")), true)
            }
        };
        OrderSql { key, id: "j.job_id", descending }
    }
}

/// The ordering of the activity feed: newest event first.
fn activity_order() -> OrderSql {
    OrderSql { key: Some(("e.block_number", "bigint")), id: "e.log_index", descending: true }
}

/// Whether `text` is a value PostgreSQL prints for `sql_type`, so that a cursor carrying it
/// casts back without error. Cursors come from clients: a forged one must be refused as bad
/// input here, not fail the statement.
fn is_key_text(sql_type: &str, text: &str) -> bool {
    let number = |t: &str| {
        let digits = t.strip_prefix('-').unwrap_or(t);
        !digits.is_empty() && digits.len() <= 40 && digits.bytes().all(|b| b.is_ascii_digit())
    };
    match sql_type {
        "bigint" => text.parse::<i64>().is_ok(),
        "integer" => text.parse::<i32>().is_ok(),
        "numeric" => number(text),
        "real" => {
            text.len() <= 40
                && text.bytes().all(|b| b.is_ascii_digit() || b"+-.e".contains(&b))
                && text.parse::<f32>().is_ok_and(f32::is_finite)
        }
        _ => false,
    }
}

/// Whether `key` can be a position in a list ordered by `order`.
fn accepts_key(order: &OrderSql, key: &SortKey) -> bool {
    match order.key {
        Some((_, sql_type)) => is_key_text(sql_type, &key.value),
        None => key.value.is_empty(),
    }
}

impl JobOrder {
    /// Whether a cursor's key fits this ordering (its sort value parses as the column's type).
    pub fn accepts_key(self, key: &SortKey) -> bool {
        accepts_key(&self.sql(), key)
    }
}

impl ApplicationOrder {
    /// Whether a cursor's key fits this ordering (its sort value parses as the column's type).
    pub fn accepts_key(self, key: &SortKey) -> bool {
        accepts_key(&self.sql(), key)
    }
}

impl ActivityFilter {
    /// Whether a cursor's key fits the activity feed's ordering (a block number).
    pub fn accepts_key(key: &SortKey) -> bool {
        accepts_key(&activity_order(), key)
    }
}

impl ApplicationOrder {
    fn sql(self) -> OrderSql {
        let (key, descending) = match self {
            ApplicationOrder::Newest => (None, true),
            ApplicationOrder::Oldest => (None, false),
            ApplicationOrder::RecentlyUpdated => (Some(("a.updated_block", "bigint")), true),
        };
        OrderSql { key, id: "a.application_id", descending }
    }
}

/// Which rows a list draws from: all of the board's, or those of each of several parents.
#[derive(Debug, Clone)]
pub enum Scope<P> {
    /// Every row.
    All,
    /// The rows of each parent, listed separately.
    Parents(Vec<P>),
}

impl Reader {
    /// A reader of `board`'s data through `pool`.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for a chain id above `i64::MAX`.
    pub fn new(pool: PgPool, board: Board) -> Result<Self, StoreError> {
        Ok(Self {
            chain_id: board.chain_id_sql()?,
            contract: board.contract.to_vec(),
            pool,
            board,
            statements: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The board read.
    pub fn board(&self) -> Board {
        self.board
    }

    /// The pool reads go through.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// SQL statements run so far by this reader and its clones.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    fn board_condition(&self, qb: &mut QueryBuilder<'_, Postgres>, alias: &str) {
        qb.push(format_args!(" {alias}.chain_id = "))
            .push_bind(self.chain_id)
            .push(format_args!(" AND {alias}.contract = "))
            .push_bind(self.contract.clone());
    }

    /// A page of jobs for each parent employer (or one page of all jobs, keyed by `None`).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement (a statement timeout included).
    pub async fn jobs(
        &self,
        scope: &Scope<Address>,
        filter: &JobFilter,
        search: Option<&str>,
        order: JobOrder,
        page: &PageRequest,
    ) -> Result<HashMap<Option<Address>, Page<JobRow>>, StoreError> {
        let mut qb = QueryBuilder::new("");
        let inner = |qb: &mut QueryBuilder<'_, Postgres>, parent: bool| {
            self.push_jobs_page(qb, filter, search, order, page, parent);
        };
        let rows: Vec<(Option<Vec<u8>>, JobRow, String, i64)> = match scope {
            Scope::All => {
                inner(&mut qb, false);
                self.count_statement();
                let rows: Vec<KeyedJob> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(|r| (None, r.row, r.sort_key, r.sort_id)).collect()
            }
            Scope::Parents(parents) => {
                let parents: Vec<Vec<u8>> = parents.iter().map(|a| a.to_vec()).collect();
                qb.push("SELECT p.parent, x.* FROM UNNEST(")
                    .push_bind(parents)
                    .push("::bytea[]) AS p(parent) CROSS JOIN LATERAL (");
                inner(&mut qb, true);
                qb.push(") x");
                self.count_statement();
                let rows: Vec<ParentKeyedJob> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(|r| (Some(r.parent), r.job.row, r.job.sort_key, r.job.sort_id)).collect()
            }
        };
        let mut pages = HashMap::new();
        for (parent, row, value, id) in rows {
            let parent = parent.map(|p| Address::from_slice(&p));
            pages.entry(parent).or_insert_with(Page::default).rows.push((SortKey { value, id }, row));
        }
        Ok(finish_pages(pages, page))
    }

    /// Appends one page of jobs: board-wide, or (with `parent`) of the employer `p.parent` of
    /// a lateral join.
    fn push_jobs_page(
        &self,
        qb: &mut QueryBuilder<'_, Postgres>,
        filter: &JobFilter,
        search: Option<&str>,
        order: JobOrder,
        page: &PageRequest,
        parent: bool,
    ) {
        let order_sql = order.sql();
        qb.push("SELECT ").push(JOB_COLUMNS).push(", ");
        push_key_text(qb, &order_sql, search);
        qb.push(" FROM jobs j WHERE");
        self.push_job_conditions(qb, filter, search, parent);
        push_page(qb, &order_sql, search, page);
    }

    /// The board, the parent employer (`p.parent`, when listed per parent), the filter and
    /// the search: one WHERE for a page of jobs and for its count.
    fn push_job_conditions(
        &self,
        qb: &mut QueryBuilder<'_, Postgres>,
        filter: &JobFilter,
        search: Option<&str>,
        parent: bool,
    ) {
        self.board_condition(qb, "j");
        if parent {
            qb.push(" AND j.employer = p.parent");
        }
        qb.push(" AND ");
        push_job_filter(qb, filter);
        if let Some(search) = search {
            qb.push(" AND j.search @@ websearch_to_tsquery('english', ")
                .push_bind(search.to_owned())
                .push(")");
        }
    }

    /// How many jobs match, for each parent employer (or in all, keyed by `None`).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn count_jobs(
        &self,
        scope: &Scope<Address>,
        filter: &JobFilter,
        search: Option<&str>,
    ) -> Result<HashMap<Option<Address>, i64>, StoreError> {
        let mut qb = QueryBuilder::new("");
        let inner = |qb: &mut QueryBuilder<'_, Postgres>, parent: bool| {
            qb.push("SELECT count(*) FROM jobs j WHERE");
            self.push_job_conditions(qb, filter, search, parent);
        };
        self.count_statement();
        match scope {
            Scope::All => {
                inner(&mut qb, false);
                let n: i64 = qb.build_query_scalar().fetch_one(&self.pool).await?;
                Ok(HashMap::from([(None, n)]))
            }
            Scope::Parents(parents) => {
                let parents: Vec<Vec<u8>> = parents.iter().map(|a| a.to_vec()).collect();
                qb.push("SELECT p.parent, (");
                inner(&mut qb, true);
                qb.push(") FROM UNNEST(").push_bind(parents).push("::bytea[]) AS p(parent)");
                let rows: Vec<(Vec<u8>, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(p, n)| (Some(Address::from_slice(&p)), n)).collect())
            }
        }
    }

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

    async fn application_pages(
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

    /// Appends the statement of [`Reader::applications`] (or, `with_jobs`, of
    /// [`Reader::applications_with_jobs`]): one page per parent of `scope`, each row with a
    /// `parent` column (but for the board-wide list), `sort_key`, `sort_id`, and the job's
    /// columns last.
    fn push_application_pages(
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
                Ok(rows
                    .into_iter()
                    .map(|(p, n)| (ApplicationParent::Job(u64::try_from(p).unwrap_or_default()), n))
                    .collect())
            }
            ApplicationScope::Applicants(applicants) => {
                let applicants: Vec<Vec<u8>> = applicants.iter().map(|a| a.to_vec()).collect();
                qb.push("SELECT p.parent, (");
                inner(&mut qb, Some("applicant"));
                qb.push(") FROM UNNEST(").push_bind(applicants).push("::bytea[]) AS p(parent)");
                let rows: Vec<(Vec<u8>, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .map(|(p, n)| (ApplicationParent::Applicant(Address::from_slice(&p)), n))
                    .collect())
            }
        }
    }

    /// Jobs by id (missing ids are absent from the map).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn jobs_by_id(&self, ids: &[u64]) -> Result<HashMap<u64, JobRow>, StoreError> {
        let ids = ids.iter().map(|&id| to_sql_i64(id, "job id")).collect::<Result<Vec<_>, _>>()?;
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(JOB_COLUMNS).push(" FROM jobs j WHERE");
        self.board_condition(&mut qb, "j");
        qb.push(" AND j.job_id = ANY(").push_bind(ids).push(")");
        self.count_statement();
        let rows: Vec<JobRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|r| (u64::try_from(r.job_id).unwrap_or_default(), r)).collect())
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
        Ok(rows.into_iter().map(|r| (u64::try_from(r.application_id).unwrap_or_default(), r)).collect())
    }

    /// Employers by address, with open jobs counted at read time (expiry moves with the clock).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn employers(
        &self,
        addresses: &[Address],
    ) -> Result<HashMap<Address, EmployerRow>, StoreError> {
        let addresses: Vec<Vec<u8>> = addresses.iter().map(|a| a.to_vec()).collect();
        let mut qb = QueryBuilder::new(
            "SELECT e.address, e.job_count, (SELECT count(*) FROM jobs j WHERE j.chain_id = e.chain_id \
               AND j.contract = e.contract AND j.employer = e.address AND ",
        );
        push_status_condition(&mut qb, JobStatus::Open);
        qb.push(")::int AS open_job_count FROM employers e WHERE");
        self.board_condition(&mut qb, "e");
        qb.push(" AND e.address = ANY(").push_bind(addresses).push(")");
        self.count_statement();
        let rows: Vec<EmployerRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|r| (Address::from_slice(&r.address), r)).collect())
    }

    /// Applicants by address.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn applicants(
        &self,
        addresses: &[Address],
    ) -> Result<HashMap<Address, ApplicantRow>, StoreError> {
        let addresses: Vec<Vec<u8>> = addresses.iter().map(|a| a.to_vec()).collect();
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(APPLICANT_COLUMNS).push(" FROM applicants e WHERE");
        self.board_condition(&mut qb, "e");
        qb.push(" AND e.address = ANY(").push_bind(addresses).push(")");
        self.count_statement();
        let rows: Vec<ApplicantRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|r| (Address::from_slice(&r.address), r)).collect())
    }

    /// The oldest `limit` revisions of each job, oldest first: a job's revisions grow with
    /// every update its employer sends, so a read of them is a page like any other list.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn revisions(
        &self,
        jobs: &[u64],
        limit: usize,
    ) -> Result<HashMap<u64, Vec<RevisionRow>>, StoreError> {
        let ids = jobs.iter().map(|&id| to_sql_i64(id, "job id")).collect::<Result<Vec<_>, _>>()?;
        let mut qb = QueryBuilder::new("SELECT r.* FROM UNNEST(");
        qb.push_bind(ids).push(
            "::bigint[]) AS p(job_id) CROSS JOIN LATERAL (SELECT r.job_id, r.title, r.company, r.location, \
               r.tags_text, r.description, r.salary_currency, r.salary_min::text AS salary_min, \
               r.salary_max::text AS salary_max, r.deadline, r.deadline_unix::text AS deadline_unix, \
               r.block_number, r.log_index, r.tx_hash, r.block_time FROM job_revisions r WHERE",
        );
        self.board_condition(&mut qb, "r");
        qb.push(" AND r.job_id = p.job_id ORDER BY r.block_number, r.log_index LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .push(") r ORDER BY r.job_id, r.block_number, r.log_index");
        self.count_statement();
        let rows: Vec<RevisionRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let mut map: HashMap<u64, Vec<RevisionRow>> = HashMap::new();
        for mut row in rows {
            row.posting.tags = split_tags(row.tags_text.as_bytes());
            map.entry(u64::try_from(row.job_id).unwrap_or_default()).or_default().push(row);
        }
        Ok(map)
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
            map.entry(u64::try_from(row.application_id).unwrap_or_default()).or_default().push(row);
        }
        Ok(map)
    }

    /// A page of the activity feed, newest first.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn activity(
        &self,
        filter: &ActivityFilter,
        page: &PageRequest,
    ) -> Result<Page<ActivityRow>, StoreError> {
        let mut qb = QueryBuilder::new("");
        self.push_activity_page(&mut qb, filter, page);
        self.count_statement();
        let rows: Vec<KeyedActivity> = qb.build_query_as().fetch_all(&self.pool).await?;
        let page_rows =
            rows.into_iter().map(|r| (SortKey { value: r.sort_key, id: r.sort_id }, r.row)).collect();
        let mut pages = finish_pages(HashMap::from([((), Page { rows: page_rows, has_more: false })]), page);
        Ok(pages.remove(&()).unwrap_or_default())
    }

    /// How many events match `filter`.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement (a statement timeout included).
    pub async fn count_activity(&self, filter: &ActivityFilter) -> Result<i64, StoreError> {
        let mut qb = QueryBuilder::new("SELECT count(*) FROM events e WHERE");
        self.board_condition(&mut qb, "e");
        qb.push(" AND ");
        self.push_activity_filter(&mut qb, filter);
        self.count_statement();
        Ok(qb.build_query_scalar().fetch_one(&self.pool).await?)
    }

    fn push_activity_page(
        &self,
        qb: &mut QueryBuilder<'_, Postgres>,
        filter: &ActivityFilter,
        page: &PageRequest,
    ) {
        let order_sql = activity_order();
        qb.push("SELECT ")
            .push(ACTIVITY_COLUMNS)
            .push(", e.block_number::text AS sort_key, e.log_index::bigint AS sort_id FROM ")
            .push(ACTIVITY_FROM)
            .push(" WHERE");
        self.board_condition(qb, "e");
        qb.push(" AND ");
        self.push_activity_filter(qb, filter);
        push_page(qb, &order_sql, None, page);
    }

    /// Appends `filter` as one parenthesised condition on `events e`. An address matches
    /// through the projections' indexed employer and applicant columns: the ids of the jobs it
    /// posted and of the applications it sent (two index-only lookups), then the events of
    /// those ids by `events_by_job` / `events_by_application`; an unknown address finds no id
    /// and so no event, without reading the event log.
    fn push_activity_filter(&self, qb: &mut QueryBuilder<'_, Postgres>, f: &ActivityFilter) {
        qb.push("(TRUE");
        if let Some(job) = f.job_id {
            qb.push(" AND e.job_id = ").push_bind(i64::try_from(job).unwrap_or(-1));
        }
        if let Some(application) = f.application_id {
            qb.push(" AND e.application_id = ").push_bind(i64::try_from(application).unwrap_or(-1));
        }
        if let Some(address) = f.address {
            qb.push(" AND (e.job_id = ANY(ARRAY(SELECT x.job_id FROM jobs x WHERE");
            self.board_condition(qb, "x");
            qb.push(" AND x.employer = ").push_bind(address.to_vec());
            qb.push(")) OR e.application_id = ANY(ARRAY(SELECT y.application_id FROM applications y WHERE");
            self.board_condition(qb, "y");
            qb.push(" AND y.applicant = ").push_bind(address.to_vec()).push(")))");
        }
        if let Some(kinds) = &f.kind_in {
            qb.push(" AND e.kind = ANY(").push_bind(kinds.clone()).push(")");
        }
        for sub in &f.and {
            qb.push(" AND ");
            self.push_activity_filter(qb, sub);
        }
        if !f.or.is_empty() {
            qb.push(" AND (FALSE");
            for sub in &f.or {
                qb.push(" OR ");
                self.push_activity_filter(qb, sub);
            }
            qb.push(")");
        }
        qb.push(")");
    }

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

    /// At most `limit` events after position `after` (block, log index) up to block `up_to`,
    /// oldest first: what subscriptions are pushed once the indexer commits them, read a page
    /// at a time so a long gap (a missed notice, a slow hub) never becomes one huge read.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn activity_between(
        &self,
        after: (i64, i32),
        up_to: i64,
        limit: usize,
    ) -> Result<Vec<ActivityRow>, StoreError> {
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(ACTIVITY_COLUMNS).push(" FROM ").push(ACTIVITY_FROM).push(" WHERE");
        self.board_condition(&mut qb, "e");
        qb.push(" AND (e.block_number, e.log_index) > (")
            .push_bind(after.0)
            .push(", ")
            .push_bind(after.1)
            .push(") AND e.block_number <= ")
            .push_bind(up_to)
            .push(" ORDER BY e.block_number, e.log_index LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        self.count_statement();
        Ok(qb.build_query_as().fetch_all(&self.pool).await?)
    }

    /// Where indexing stands; `None` if the board was never registered.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn status(&self) -> Result<Option<IndexStatus>, StoreError> {
        self.count_statement();
        self.status_unmetered().await
    }

    /// [`Reader::status`] for `/metrics` itself: not an API read, so not counted in the
    /// statements `/metrics` reports (a scrape would otherwise change what it measures).
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn status_unmetered(&self) -> Result<Option<IndexStatus>, StoreError> {
        type Row = (
            Option<i64>,
            Option<Vec<u8>>,
            Option<DateTime<Utc>>,
            Option<i64>,
            Option<i64>,
            bool,
            DateTime<Utc>,
            Option<i64>,
            Option<Vec<u8>>,
            Option<DateTime<Utc>>,
            f64,
            f64,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT s.block_number, s.block_hash, s.block_time, s.finalized_block, s.head_block, \
                    s.backfill_done, s.updated_at, f.number, f.hash, f.time, \
                    extract(epoch FROM now() - s.updated_at)::float8, \
                    extract(epoch FROM now() - s.advanced_at)::float8 \
             FROM indexer_state s \
             LEFT JOIN LATERAL (SELECT b.number, b.hash, b.time FROM blocks b \
                 WHERE b.chain_id = s.chain_id AND b.contract = s.contract AND b.number <= s.finalized_block \
                 ORDER BY b.number DESC LIMIT 1) f ON true \
             WHERE s.chain_id = $1 AND s.contract = $2",
        )
        .bind(self.chain_id)
        .bind(&self.contract)
        .fetch_optional(&self.pool)
        .await?;
        let Some((
            number,
            hash,
            time,
            finalized,
            head,
            backfill_done,
            updated_at,
            f_number,
            f_hash,
            f_time,
            reported_ago,
            advanced_ago,
        )) = row
        else {
            return Ok(None);
        };
        let block = match (number, hash, time) {
            (Some(number), Some(hash), Some(time)) => Some(BlockInfo { number, hash, time }),
            _ => None,
        };
        // The newest indexed block that is final: the checkpoint itself while it is below the
        // finalized point (backfill), else the window's newest block at or below it.
        let finalized_block = match (&block, finalized) {
            (Some(b), Some(f)) if b.number <= f => Some(b.clone()),
            _ => match (f_number, f_hash, f_time) {
                (Some(number), Some(hash), Some(time)) => Some(BlockInfo { number, hash, time }),
                _ => None,
            },
        };
        Ok(Some(IndexStatus {
            block,
            finalized_block,
            finalized_number: finalized,
            head_block: head,
            backfill_done,
            updated_at,
            reported_ago: super::health::seconds_ago(reported_ago),
            advanced_ago: super::health::seconds_ago(advanced_ago),
        }))
    }
}

/// Which rows an application list draws from.
#[derive(Debug, Clone)]
pub enum ApplicationScope {
    /// Every application of the board.
    All,
    /// Those of each of these jobs.
    Jobs(Vec<u64>),
    /// Those of each of these applicants.
    Applicants(Vec<Address>),
}

/// The parent an application page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationParent {
    /// The board-wide list.
    All,
    /// One job's applications.
    Job(u64),
    /// One applicant's applications.
    Applicant(Address),
}

#[derive(sqlx::FromRow)]
struct KeyedJob {
    #[sqlx(flatten)]
    row: JobRow,
    sort_key: String,
    sort_id: i64,
}

#[derive(sqlx::FromRow)]
struct ParentKeyedJob {
    parent: Vec<u8>,
    #[sqlx(flatten)]
    job: KeyedJob,
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

#[derive(sqlx::FromRow)]
struct KeyedActivity {
    #[sqlx(flatten)]
    row: ActivityRow,
    sort_key: String,
    sort_id: i64,
}

/// Pages of applications (and their jobs) as their rows are decoded.
#[derive(Default)]
struct PagesRead {
    pages: HashMap<ApplicationParent, Page<ApplicationRow>>,
    jobs: HashMap<u64, JobRow>,
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
    fn decode(&mut self, row: &PgRow, scope: &ApplicationScope, with_jobs: bool) -> Result<(), sqlx::Error> {
        if with_jobs && let Some(job) = JobRow::from_columns(row, row.len() - JOINED_JOB_COLUMNS)? {
            self.jobs.insert(u64::try_from(job.job_id).unwrap_or_default(), job);
        }
        let (parent, keyed) = match scope {
            ApplicationScope::All => (ApplicationParent::All, KeyedApplication::from_row(row)?),
            ApplicationScope::Jobs(_) => {
                let r = JobKeyedApplication::from_row(row)?;
                (ApplicationParent::Job(u64::try_from(r.parent).unwrap_or_default()), r.application)
            }
            ApplicationScope::Applicants(_) => {
                let r = AddressKeyedApplication::from_row(row)?;
                (ApplicationParent::Applicant(Address::from_slice(&r.parent)), r.application)
            }
        };
        let key = SortKey { value: keyed.sort_key, id: keyed.sort_id };
        self.pages.entry(parent).or_default().rows.push((key, keyed.row));
        Ok(())
    }
}

/// Orders rows that carry a page's `sort_key` and `sort_id` (under `alias`) in the page's
/// order, when a join around the page could have lost it.
fn push_outer_order(qb: &mut QueryBuilder<'_, Postgres>, alias: &str, order: &OrderSql, page: &PageRequest) {
    let direction = page_direction(order, page);
    qb.push(" ORDER BY ");
    if let Some((_, sql_type)) = order.key {
        qb.push(format_args!("{alias}.sort_key::{sql_type} {direction}, "));
    }
    qb.push(format_args!("{alias}.sort_id {direction}"));
}

/// The SQL direction a page is read in: the list's own, reversed when read from the end.
fn page_direction(order: &OrderSql, page: &PageRequest) -> &'static str {
    if order.descending != page.from_end { "DESC" } else { "ASC" }
}

/// Selects the sort value as text (`sort_key`) and the id (`sort_id`) for the cursor.
fn push_key_text(qb: &mut QueryBuilder<'_, Postgres>, order: &OrderSql, search: Option<&str>) {
    match order.key {
        Some(_) => {
            push_key_expression(qb, order, search);
            qb.push("::text AS sort_key");
        }
        None => {
            qb.push("''::text AS sort_key");
        }
    }
    qb.push(format_args!(", {}::bigint AS sort_id", order.id));
}

fn push_key_expression(qb: &mut QueryBuilder<'_, Postgres>, order: &OrderSql, search: Option<&str>) {
    if let Some((expression, _)) = order.key {
        qb.push(expression);
        if expression.ends_with("websearch_to_tsquery('english', ") {
            // Relevance ranks against the search; without one every row ranks equal.
            qb.push_bind(search.unwrap_or_default().to_owned()).push("))");
        }
    }
}

/// Appends the cursor conditions, the ordering and the limit (one more row than asked, to
/// learn whether there are more).
fn push_page(
    qb: &mut QueryBuilder<'_, Postgres>,
    order: &OrderSql,
    search: Option<&str>,
    page: &PageRequest,
) {
    for (key, beyond) in [(&page.after, true), (&page.before, false)] {
        let Some(key) = key else { continue };
        // "Beyond" a key is further along the list: smaller when the list runs high to low.
        let op = if beyond == order.descending { "<" } else { ">" };
        qb.push(" AND ");
        match order.key {
            Some((_, sql_type)) => {
                qb.push("(");
                push_key_expression(qb, order, search);
                qb.push(format_args!(", {}) {op} (", order.id))
                    .push_bind(key.value.clone())
                    .push(format_args!("::{sql_type}, "))
                    .push_bind(key.id)
                    .push(")");
            }
            None => {
                qb.push(format_args!("{} {op} ", order.id)).push_bind(key.id);
            }
        }
    }
    let direction = page_direction(order, page);
    qb.push(" ORDER BY ");
    if order.key.is_some() {
        push_key_expression(qb, order, search);
        qb.push(format_args!(" {direction}, "));
    }
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX).saturating_add(1);
    qb.push(format_args!("{} {direction} LIMIT ", order.id)).push_bind(limit);
}

/// Trims each page to its limit, noting whether there was more, and puts rows read from the
/// end back into list order.
fn finish_pages<K: std::hash::Hash + Eq, T>(
    mut pages: HashMap<K, Page<T>>,
    request: &PageRequest,
) -> HashMap<K, Page<T>> {
    for page in pages.values_mut() {
        page.has_more = page.rows.len() > request.limit;
        page.rows.truncate(request.limit);
        if request.from_end {
            page.rows.reverse();
        }
    }
    pages
}

fn push_status_condition(qb: &mut QueryBuilder<'_, Postgres>, status: JobStatus) {
    // The deadline is inclusive to the second: the contract accepts applications while
    // block.timestamp <= deadline.
    qb.push(match status {
        JobStatus::Open => {
            "(NOT j.closed AND (j.deadline IS NULL OR j.deadline >= date_trunc('second', now())))"
        }
        JobStatus::Closed => "j.closed",
        JobStatus::Expired => "(NOT j.closed AND j.deadline < date_trunc('second', now()))",
    });
}

/// `%` and `_` in user text match themselves in ILIKE.
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn push_job_filter(qb: &mut QueryBuilder<'_, Postgres>, f: &JobFilter) {
    qb.push("(TRUE");
    if let Some(ids) = &f.id_in {
        let ids: Vec<i64> = ids.iter().filter_map(|&id| i64::try_from(id).ok()).collect();
        qb.push(" AND j.job_id = ANY(").push_bind(ids).push(")");
    }
    if let Some(employer) = f.employer {
        qb.push(" AND j.employer = ").push_bind(employer.to_vec());
    }
    if let Some(statuses) = &f.status_in {
        qb.push(" AND (FALSE");
        for &status in statuses {
            qb.push(" OR ");
            push_status_condition(qb, status);
        }
        qb.push(")");
    }
    if let Some(text) = &f.title_contains {
        qb.push(" AND j.title ILIKE ").push_bind(like_pattern(text));
    }
    if let Some(text) = &f.location_contains {
        qb.push(" AND j.location ILIKE ").push_bind(like_pattern(text));
    }
    if let Some(tag) = &f.tags_has {
        qb.push(" AND j.tags @> ARRAY[").push_bind(tag.trim().to_lowercase()).push("]::text[]");
    }
    if let Some(v) = f.salary_min_gte {
        qb.push(" AND j.salary_min >= ").push_bind(v.to_string()).push("::numeric");
    }
    if let Some(v) = f.salary_max_lte {
        // A range of the expression `jobs_by_salary` indexes: undisclosed (-1) is excluded.
        qb.push(" AND COALESCE(j.salary_max, -1) BETWEEN 0 AND ").push_bind(v.to_string()).push("::numeric");
    }
    if let Some(t) = f.posted_at_gte {
        qb.push(" AND j.posted_at >= ").push_bind(t);
    }
    if let Some(t) = f.posted_at_lte {
        qb.push(" AND j.posted_at <= ").push_bind(t);
    }
    if let Some(t) = f.deadline_gte {
        // On the on-chain value: a deadline past year 9999 has no time but is after any `t`.
        qb.push(" AND j.deadline_unix >= extract(epoch FROM ").push_bind(t).push("::timestamptz)");
    }
    for sub in &f.and {
        qb.push(" AND ");
        push_job_filter(qb, sub);
    }
    if !f.or.is_empty() {
        qb.push(" AND (FALSE");
        for sub in &f.or {
            qb.push(" OR ");
            push_job_filter(qb, sub);
        }
        qb.push(")");
    }
    qb.push(")");
}

fn push_application_filter(qb: &mut QueryBuilder<'_, Postgres>, f: &ApplicationFilter) {
    qb.push("(TRUE");
    if let Some(ids) = &f.id_in {
        let ids: Vec<i64> = ids.iter().filter_map(|&id| i64::try_from(id).ok()).collect();
        qb.push(" AND a.application_id = ANY(").push_bind(ids).push(")");
    }
    if let Some(job) = f.job_id {
        qb.push(" AND a.job_id = ").push_bind(i64::try_from(job).unwrap_or(-1));
    }
    if let Some(applicant) = f.applicant {
        qb.push(" AND a.applicant = ").push_bind(applicant.to_vec());
    }
    if let Some(statuses) = &f.status_in {
        let statuses: Vec<i16> = statuses.iter().map(|&s| i16::from(s)).collect();
        qb.push(" AND a.status = ANY(").push_bind(statuses).push(")");
    }
    if let Some(t) = f.submitted_at_gte {
        qb.push(" AND a.submitted_at >= ").push_bind(t);
    }
    if let Some(t) = f.submitted_at_lte {
        qb.push(" AND a.submitted_at <= ").push_bind(t);
    }
    for sub in &f.and {
        qb.push(" AND ");
        push_application_filter(qb, sub);
    }
    if !f.or.is_empty() {
        qb.push(" AND (FALSE");
        for sub in &f.or {
            qb.push(" OR ");
            push_application_filter(qb, sub);
        }
        qb.push(")");
    }
    qb.push(")");
}

impl ActivityFilter {
    /// Whether an event matches, for subscriptions that filter the pushed events in memory
    /// with the same meaning as the SQL.
    pub fn matches(&self, row: &ActivityRow) -> bool {
        let id = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
        if self.job_id.is_some() && id(self.job_id) != Some(row.job_id) {
            return false;
        }
        if self.application_id.is_some() && id(self.application_id) != row.application_id {
            return false;
        }
        if let Some(address) = self.address {
            let is = |a: &Option<Vec<u8>>| a.as_deref() == Some(address.as_slice());
            if !is(&row.employer) && !is(&row.applicant) {
                return false;
            }
        }
        if let Some(kinds) = &self.kind_in
            && !kinds.contains(&row.kind)
        {
            return false;
        }
        self.and.iter().all(|f| f.matches(row))
            && (self.or.is_empty() || self.or.iter().any(|f| f.matches(row)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_joined_job_has_one_alias_per_job_column() {
        assert_eq!(JOB_COLUMNS.split(", ").count(), JOINED_JOB_COLUMNS);
        assert_eq!(joined_job_aliases("j").split(", ").last(), Some("j18"));
    }

    #[test]
    fn forged_cursor_values_are_refused_and_printed_ones_accepted() {
        let key = |value: &str| SortKey { value: value.to_owned(), id: 1 };
        assert!(JobOrder::DeadlineSoonest.accepts_key(&key("1764064800")));
        assert!(JobOrder::DeadlineSoonest.accepts_key(&key("18446744073709551616")));
        assert!(!JobOrder::DeadlineSoonest.accepts_key(&key("2026-11-25 10:00:00+00")));
        assert!(!JobOrder::DeadlineSoonest.accepts_key(&key("infinity")));
        assert!(JobOrder::SalaryHighToLow.accepts_key(&key("-1")));
        assert!(!JobOrder::SalaryHighToLow.accepts_key(&key("1e999")));
        assert!(JobOrder::MostApplications.accepts_key(&key("12")));
        assert!(!JobOrder::MostApplications.accepts_key(&key("99999999999")));
        assert!(JobOrder::Relevance.accepts_key(&key("0.0607927")));
        assert!(!JobOrder::Relevance.accepts_key(&key("NaN")));
        assert!(JobOrder::Newest.accepts_key(&key("")));
        assert!(!JobOrder::Newest.accepts_key(&key("x")));
        assert!(ActivityFilter::accepts_key(&key("123")));
        assert!(!ActivityFilter::accepts_key(&key("12; DROP")));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn pages_read_from_the_end_come_back_in_list_order() {
        let key = |id| SortKey { value: String::new(), id };
        let page = Page { rows: vec![(key(3), 'c'), (key(2), 'b'), (key(1), 'a')], has_more: false };
        let request = PageRequest { after: None, before: None, limit: 2, from_end: true };
        let pages = finish_pages(HashMap::from([(0, page)]), &request);
        let page = &pages[&0];
        assert!(page.has_more);
        assert_eq!(page.rows.iter().map(|r| r.1).collect::<String>(), "cb".chars().rev().collect::<String>());
    }
}
