//! Jobs: the board-wide and per-employer pages, their counts, lookups by id, and the
//! revisions of each job's posting.

use std::collections::HashMap;

use alloy::primitives::Address;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::filters::{JobFilter, JobOrder, Page, PageRequest, Scope, SortKey, push_job_filter};
use super::{JOB_COLUMNS, Reader, finish_pages, push_key_text, push_page};
use crate::contract::split_tags;
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
    pub(super) fn from_columns(row: &PgRow, at: usize) -> Result<Option<JobRow>, sqlx::Error> {
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
            let parent = parent.map(|p| Address::from_slice(&p));
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
                Ok(rows.into_iter().map(|(p, n)| (Some(Address::from_slice(&p)), n)).collect())
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
}
