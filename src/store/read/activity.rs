//! The activity feed: pages of indexed events, their count, the events subscriptions are
//! pushed, and the in-memory filter those subscriptions apply with the SQL's meaning.

use std::collections::HashMap;

use alloy::primitives::{Address, B256};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder, Row};

use super::filters::{ActivityFilter, Page, PageRequest, SortKey, activity_order, push_id_equals};
use super::{ACTIVITY_COLUMNS, ACTIVITY_FROM, Reader, finish_pages, push_page};
use crate::contract::{ApplicationStatus, EventKind};
use crate::store::decode::{address_from, b256_from, event_kind_from, status_from, u64_from};
use crate::store::{StoreError, to_sql_i64};

/// One indexed event, as the activity feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    /// Which event.
    pub kind: EventKind,
    /// The job concerned.
    pub job_id: u64,
    /// The application concerned, for application events.
    pub application_id: Option<u64>,
    /// The new status, for `ApplicationStatusChanged`.
    pub status: Option<ApplicationStatus>,
    /// The job's employer (absent only if the job is not indexed).
    pub employer: Option<Address>,
    /// The application's applicant, for application events.
    pub applicant: Option<Address>,
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Log index in the block.
    pub log_index: i32,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Block time.
    pub block_time: DateTime<Utc>,
}

impl<'r> FromRow<'r, PgRow> for ActivityRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let address = |column: &'static str, bytes: Option<Vec<u8>>| {
            bytes.map(|b| address_from(&b, column)).transpose()
        };
        Ok(ActivityRow {
            kind: event_kind_from(row.try_get("kind")?, "events.kind")?,
            job_id: u64_from(row.try_get("job_id")?, "events.job_id")?,
            application_id: row
                .try_get::<Option<i64>, _>("application_id")?
                .map(|id| u64_from(id, "events.application_id"))
                .transpose()?,
            status: row
                .try_get::<Option<i16>, _>("status")?
                .map(|s| status_from(s, "events.status"))
                .transpose()?,
            employer: address("jobs.employer", row.try_get("employer")?)?,
            applicant: address("applications.applicant", row.try_get("applicant")?)?,
            block_number: u64_from(row.try_get("block_number")?, "events.block_number")?,
            block_hash: b256_from(&row.try_get::<Vec<u8>, _>("block_hash")?, "events.block_hash")?,
            log_index: row.try_get("log_index")?,
            tx_hash: b256_from(&row.try_get::<Vec<u8>, _>("tx_hash")?, "events.tx_hash")?,
            block_time: row.try_get("block_time")?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct KeyedActivity {
    #[sqlx(flatten)]
    row: ActivityRow,
    sort_key: String,
    sort_id: i64,
}

impl Reader {
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

    pub(super) fn push_activity_page(
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
            push_id_equals(qb, "e.job_id", job);
        }
        if let Some(application) = f.application_id {
            push_id_equals(qb, "e.application_id", application);
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
            let names: Vec<&str> = kinds.iter().map(|kind| kind.name()).collect();
            qb.push(" AND e.kind = ANY(").push_bind(names).push(")");
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

    /// At most `limit` events after position `after` (block, log index) up to block `up_to`,
    /// oldest first: what subscriptions are pushed once the indexer commits them, read a page
    /// at a time so a long gap (a missed notice, a slow hub) never becomes one huge read.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed statement.
    pub async fn activity_between(
        &self,
        after: (u64, i32),
        up_to: u64,
        limit: usize,
    ) -> Result<Vec<ActivityRow>, StoreError> {
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(ACTIVITY_COLUMNS).push(" FROM ").push(ACTIVITY_FROM).push(" WHERE");
        self.board_condition(&mut qb, "e");
        qb.push(" AND (e.block_number, e.log_index) > (")
            .push_bind(to_sql_i64(after.0, "block number")?)
            .push(", ")
            .push_bind(after.1)
            .push(") AND e.block_number <= ")
            .push_bind(to_sql_i64(up_to, "block number")?)
            .push(" ORDER BY e.block_number, e.log_index LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        self.count_statement();
        Ok(qb.build_query_as().fetch_all(&self.pool).await?)
    }
}

impl ActivityFilter {
    /// Whether an event matches, for subscriptions that filter the pushed events in memory
    /// with the same meaning as the SQL.
    pub fn matches(&self, row: &ActivityRow) -> bool {
        if self.job_id.is_some_and(|job| job != row.job_id) {
            return false;
        }
        if self.application_id.is_some() && self.application_id != row.application_id {
            return false;
        }
        if let Some(address) = self.address
            && row.employer != Some(address)
            && row.applicant != Some(address)
        {
            return false;
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
