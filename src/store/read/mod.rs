//! The API's reads: filtered, ordered, keyset-paginated lists of jobs, applications and
//! activity, the lookups its loaders batch, and where indexing stands.
//!
//! Every list is keyset-paginated on `(sort key, id)`: a page never scans the rows before it,
//! so the thousandth page costs what the first does. Sort keys are compared as SQL values of
//! the column's own type; the cursor carries them as text, which PostgreSQL prints losslessly.
//! Lists nested under a parent (an employer's jobs, a job's applications) are fetched for a
//! whole page of parents in one statement with `CROSS JOIN LATERAL`, so a page costs a fixed
//! number of statements however many rows it has.
//!
//! This module holds the [`Reader`] itself (construction, statement counting, the board
//! condition), the column lists the statements share, and the keyset-paging SQL helpers; the
//! reads live in one submodule per entity: `filters` (the filter, order and page types and
//! their SQL), `jobs`, `applications`, `parties` (employers, applicants), `activity`,
//! `status`, `prefetch` (a parent read with its page of children in one statement) and
//! `explain` (the plans of the list statements).

mod activity;
mod applications;
mod explain;
mod filters;
mod jobs;
mod parties;
mod prefetch;
mod status;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::read_pool::ReadPool;

pub use activity::ActivityRow;
pub use applications::{ApplicationRow, StatusChangeRow};
pub use filters::{
    ActivityFilter, ApplicationFilter, ApplicationOrder, ApplicationParent, ApplicationScope, JobFilter,
    JobOrder, JobStatus, Page, PageRequest, Scope, SortKey,
};
use filters::{OrderSql, SortExpression};
pub use jobs::{JobRow, PostingRow, RevisionRow};
pub use parties::{ApplicantRow, EmployerRow};
pub use status::{BlockInfo, IndexStatus, IndexedWindow};

use super::{Board, StoreError};

/// Reads one board's data for the API, counting the statements it runs (the `/metrics`
/// figure that shows the loaders keep a page at a fixed number of statements).
#[derive(Debug, Clone)]
pub struct Reader {
    pool: ReadPool,
    board: Board,
    chain_id: i64,
    contract: Vec<u8>,
    statements: Arc<AtomicU64>,
}

const JOB_COLUMNS: &str = "j.job_id, j.employer, j.title, j.company, j.location, j.tags, j.description, \
     j.salary_currency, j.salary_min::text AS salary_min, j.salary_max::text AS salary_max, j.deadline, \
     j.deadline_unix::text AS deadline_unix, j.closed, j.posted_block, j.posted_tx, j.posted_at, j.updated_at, j.closed_at, j.application_count";

/// The names of the columns [`JOB_COLUMNS`] selects, in its order: a job joined into another
/// row under aliases is decoded by these positions.
const JOB_COLUMN_NAMES: [&str; 19] = [
    "job_id",
    "employer",
    "title",
    "company",
    "location",
    "tags",
    "description",
    "salary_currency",
    "salary_min",
    "salary_max",
    "deadline",
    "deadline_unix",
    "closed",
    "posted_block",
    "posted_tx",
    "posted_at",
    "updated_at",
    "closed_at",
    "application_count",
];

/// How many columns [`JOB_COLUMNS`] selects, and so how many a joined job adds to a row.
const JOINED_JOB_COLUMNS: usize = JOB_COLUMN_NAMES.len();

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

impl Reader {
    /// A reader of `board`'s data through `pool` (a [`PgPool`] reads and listens directly).
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for a chain id above `i64::MAX`.
    pub fn new(pool: impl Into<ReadPool>, board: Board) -> Result<Self, StoreError> {
        let pool = pool.into();
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

    /// The pool the change-notice listener connects from; `None` behind a transaction pooler
    /// with no direct connection given.
    pub fn notices(&self) -> Option<&PgPool> {
        self.pool.notices()
    }

    /// The pool the reads go through: for its recovery-conflict counts, and to open a
    /// request's snapshot ([`ReadPool::snapshot`]).
    pub fn pool(&self) -> &ReadPool {
        &self.pool
    }

    /// The same reader (same board, same statement count) reading through `pool`: a
    /// request's snapshot.
    #[must_use]
    pub fn reading_through(&self, pool: ReadPool) -> Reader {
        Reader { pool, ..self.clone() }
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
    match order.key {
        None => {}
        Some((SortExpression::Sql(expression), _)) => {
            qb.push(expression);
        }
        Some((SortExpression::Relevance, _)) => {
            // Relevance ranks against the search; without one every row ranks equal.
            qb.push("ts_rank(j.search, websearch_to_tsquery('english', ")
                .push_bind(search.unwrap_or_default().to_owned())
                .push("))");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_joined_job_has_one_alias_per_job_column() {
        assert_eq!(JOB_COLUMNS.split(", ").count(), JOINED_JOB_COLUMNS);
        for (column, name) in JOB_COLUMNS.split(", ").zip(JOB_COLUMN_NAMES) {
            assert!(
                column == format!("j.{name}") || column.ends_with(&format!(" AS {name}")),
                "{column} is not {name}"
            );
        }
        assert_eq!(joined_job_aliases("j").split(", ").last(), Some("j18"));
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
