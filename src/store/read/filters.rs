//! The shapes of a list read, as the API asks for it: filters, orderings, cursors and pages,
//! and the SQL each of them becomes (conditions, sort expressions, cursor types). The reads in
//! the sibling modules assemble these pieces; nothing here runs a statement.

use alloy::primitives::Address;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};

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
    /// Events of these kinds.
    pub kind_in: Option<Vec<crate::contract::EventKind>>,
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

/// Which rows a list draws from: all of the board's, or those of each of several parents.
#[derive(Debug, Clone)]
pub enum Scope<P> {
    /// Every row.
    All,
    /// The rows of each parent, listed separately.
    Parents(Vec<P>),
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

/// The SQL of one ordering: its sort expression (None: by id alone), the type the cursor's
/// text is cast back to, and whether the list runs high to low.
pub(super) struct OrderSql {
    pub(super) key: Option<(SortExpression, &'static str)>,
    pub(super) id: &'static str,
    pub(super) descending: bool,
}

/// What a list is sorted on, besides its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SortExpression {
    /// A fixed SQL expression over the row's columns.
    Sql(&'static str),
    /// The job's full-text rank against the search, which is bound as a parameter.
    Relevance,
}

impl JobOrder {
    pub(super) fn sql(self) -> OrderSql {
        let (key, descending) = match self {
            JobOrder::Newest => (None, true),
            JobOrder::Oldest => (None, false),
            JobOrder::SalaryHighToLow => {
                (Some((SortExpression::Sql("COALESCE(j.salary_max, -1)"), "numeric")), true)
            }
            JobOrder::DeadlineSoonest => {
                // The on-chain value orders every deadline, those past year 9999 included;
                // 2^64 (no uint64 reaches it) puts "no deadline" last. Indexed (migration 0003).
                (
                    Some((SortExpression::Sql("COALESCE(j.deadline_unix, 18446744073709551616)"), "numeric")),
                    false,
                )
            }
            JobOrder::MostApplications => {
                (Some((SortExpression::Sql("j.application_count"), "integer")), true)
            }
            JobOrder::Relevance => (Some((SortExpression::Relevance, "real")), true),
        };
        OrderSql { key, id: "j.job_id", descending }
    }
}

/// The ordering of the activity feed: newest event first.
pub(super) fn activity_order() -> OrderSql {
    OrderSql {
        key: Some((SortExpression::Sql("e.block_number"), "bigint")),
        id: "e.log_index",
        descending: true,
    }
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

    /// Whether the list runs high to low: how lists of several boards are merged.
    pub fn descending(self) -> bool {
        self.sql().descending
    }
}

impl ApplicationOrder {
    /// Whether a cursor's key fits this ordering (its sort value parses as the column's type).
    pub fn accepts_key(self, key: &SortKey) -> bool {
        accepts_key(&self.sql(), key)
    }

    /// Whether the list runs high to low: how lists of several boards are merged.
    pub fn descending(self) -> bool {
        self.sql().descending
    }
}

impl ActivityFilter {
    /// Whether a cursor's key fits the activity feed's ordering (a block number).
    pub fn accepts_key(key: &SortKey) -> bool {
        accepts_key(&activity_order(), key)
    }
}

impl ApplicationOrder {
    pub(super) fn sql(self) -> OrderSql {
        let (key, descending) = match self {
            ApplicationOrder::Newest => (None, true),
            ApplicationOrder::Oldest => (None, false),
            ApplicationOrder::RecentlyUpdated => {
                (Some((SortExpression::Sql("a.updated_block"), "bigint")), true)
            }
        };
        OrderSql { key, id: "a.application_id", descending }
    }
}

pub(super) fn push_status_condition(qb: &mut QueryBuilder<'_, Postgres>, status: JobStatus) {
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

pub(super) fn push_job_filter(qb: &mut QueryBuilder<'_, Postgres>, f: &JobFilter) {
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

/// Appends ` AND {column} = id`; an id no row can have (over `i64::MAX`, the column's
/// range) is `FALSE` rather than a bind the cast would refuse.
pub(super) fn push_id_equals(qb: &mut QueryBuilder<'_, Postgres>, column: &str, id: u64) {
    match i64::try_from(id) {
        Ok(id) => qb.push(format_args!(" AND {column} = ")).push_bind(id),
        Err(_) => qb.push(" AND FALSE"),
    };
}

pub(super) fn push_application_filter(qb: &mut QueryBuilder<'_, Postgres>, f: &ApplicationFilter) {
    qb.push("(TRUE");
    if let Some(ids) = &f.id_in {
        let ids: Vec<i64> = ids.iter().filter_map(|&id| i64::try_from(id).ok()).collect();
        qb.push(" AND a.application_id = ANY(").push_bind(ids).push(")");
    }
    if let Some(job) = f.job_id {
        push_id_equals(qb, "a.job_id", job);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
