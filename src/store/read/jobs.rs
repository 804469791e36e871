//! Jobs: the board-wide and per-employer pages, their counts, lookups by id, and the
//! revisions of each job's posting.

use std::collections::HashMap;

use alloy::primitives::{Address, B256};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder, Row};

use super::filters::{JobFilter, JobOrder, Page, PageRequest, Scope, SortKey, push_job_filter};
use super::{JOB_COLUMN_NAMES, JOB_COLUMNS, Reader, finish_pages, push_key_text, push_page};
use crate::contract::split_tags;
use crate::store::decode::{address_from, b256_from, u64_from};
use crate::store::{StoreError, to_sql_i64};

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
#[derive(Debug, Clone)]
pub struct JobRow {
    /// The on-chain id.
    pub job_id: u64,
    /// The employer's address.
    pub employer: Address,
    /// The current posting.
    pub posting: PostingRow,
    /// Closed on-chain.
    pub closed: bool,
    /// Block of the `JobPosted` event.
    pub posted_block: u64,
    /// Transaction of the `JobPosted` event.
    pub posted_tx: B256,
    /// Time of the `JobPosted` block.
    pub posted_at: DateTime<Utc>,
    /// Time of the latest event about the posting.
    pub updated_at: DateTime<Utc>,
    /// Time of the `JobClosed` block.
    pub closed_at: Option<DateTime<Utc>>,
    /// Live (not withdrawn) applications.
    pub application_count: i32,
}

/// Where a job's columns are in a row: under their own names, or (a job joined into another
/// row under aliases) by position from `at`, in [`JOB_COLUMN_NAMES`] order.
struct JobColumns<'r> {
    row: &'r PgRow,
    at: Option<usize>,
}

impl<'r> JobColumns<'r> {
    fn get<T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(
        &self,
        name: &'static str,
    ) -> Result<T, sqlx::Error> {
        let Some(at) = self.at else { return self.row.try_get(name) };
        let position = JOB_COLUMN_NAMES
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| sqlx::Error::ColumnNotFound(name.to_owned()))?;
        self.row.try_get(at + position)
    }

    fn decode(&self) -> Result<JobRow, sqlx::Error> {
        Ok(JobRow {
            job_id: u64_from(self.get("job_id")?, "jobs.job_id")?,
            employer: address_from(&self.get::<Vec<u8>>("employer")?, "jobs.employer")?,
            posting: PostingRow {
                title: self.get("title")?,
                company: self.get("company")?,
                location: self.get("location")?,
                tags: self.get("tags")?,
                description: self.get("description")?,
                salary_currency: self.get("salary_currency")?,
                salary_min: self.get("salary_min")?,
                salary_max: self.get("salary_max")?,
                deadline: self.get("deadline")?,
                deadline_unix: self.get("deadline_unix")?,
            },
            closed: self.get("closed")?,
            posted_block: u64_from(self.get("posted_block")?, "jobs.posted_block")?,
            posted_tx: b256_from(&self.get::<Vec<u8>>("posted_tx")?, "jobs.posted_tx")?,
            posted_at: self.get("posted_at")?,
            updated_at: self.get("updated_at")?,
            closed_at: self.get("closed_at")?,
            application_count: self.get("application_count")?,
        })
    }
}

impl<'r> FromRow<'r, PgRow> for JobRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        JobColumns { row, at: None }.decode()
    }
}

impl JobRow {
    /// Decodes a job joined into another row: the [`JOB_COLUMNS`] values, in that order, from
    /// column `at` on. `None` when the join found no job (its id column is NULL).
    pub(super) fn from_columns(row: &PgRow, at: usize) -> Result<Option<JobRow>, sqlx::Error> {
        let columns = JobColumns { row, at: Some(at) };
        if columns.get::<Option<i64>>("job_id")?.is_none() {
            return Ok(None);
        }
        columns.decode().map(Some)
    }
}

/// One version of a posting.
#[derive(Debug, Clone)]
pub struct RevisionRow {
    /// The job.
    pub job_id: u64,
    /// The version's content (its tags split from `tags_text`).
    pub posting: PostingRow,
    /// Tags as posted (comma-separated).
    pub tags_text: String,
    /// Block of the event that published this version.
    pub block_number: u64,
    /// Its log index.
    pub log_index: i32,
    /// Its transaction.
    pub tx_hash: B256,
    /// Its block's time.
    pub block_time: DateTime<Utc>,
}

impl<'r> FromRow<'r, PgRow> for RevisionRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(RevisionRow {
            job_id: u64_from(row.try_get("job_id")?, "job_revisions.job_id")?,
            posting: PostingRow::from_row(row)?,
            tags_text: row.try_get("tags_text")?,
            block_number: u64_from(row.try_get("block_number")?, "job_revisions.block_number")?,
            log_index: row.try_get("log_index")?,
            tx_hash: b256_from(&row.try_get::<Vec<u8>, _>("tx_hash")?, "job_revisions.tx_hash")?,
            block_time: row.try_get("block_time")?,
        })
    }
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

impl Reader {
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
            let parent = parent.map(|p| address_from(&p, "parent employer")).transpose()?;
            pages.entry(parent).or_insert_with(Page::default).rows.push((SortKey { value, id }, row));
        }
        Ok(finish_pages(pages, page))
    }

    /// Appends one page of jobs: board-wide, or (with `parent`) of the employer `p.parent` of
    /// a lateral join.
    pub(super) fn push_jobs_page(
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
                rows.into_iter().map(|(p, n)| Ok((Some(address_from(&p, "parent employer")?), n))).collect()
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
        Ok(rows.into_iter().map(|r| (r.job_id, r)).collect())
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
            map.entry(row.job_id).or_default().push(row);
        }
        Ok(map)
    }
}
