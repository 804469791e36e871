//! The parties: employers (with their open jobs counted at read time) and applicants.

use std::collections::HashMap;

use alloy::primitives::Address;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, QueryBuilder, Row};

use super::filters::{JobStatus, push_status_condition};
use super::{APPLICANT_COLUMNS, Reader};
use crate::store::StoreError;
use crate::store::decode::address_from;

/// An address that posted jobs.
#[derive(Debug, Clone)]
pub struct EmployerRow {
    /// The address.
    pub address: Address,
    /// Jobs posted.
    pub job_count: i32,
    /// Jobs open now (not closed, deadline not passed).
    pub open_job_count: i32,
}

/// An address that applied.
#[derive(Debug, Clone)]
pub struct ApplicantRow {
    /// The address.
    pub address: Address,
    /// Every application submitted, withdrawn ones included.
    pub application_count: i32,
    /// Applications not withdrawn.
    pub live_application_count: i32,
}

impl<'r> FromRow<'r, PgRow> for EmployerRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(EmployerRow {
            address: address_from(&row.try_get::<Vec<u8>, _>("address")?, "employers.address")?,
            job_count: row.try_get("job_count")?,
            open_job_count: row.try_get("open_job_count")?,
        })
    }
}

impl<'r> FromRow<'r, PgRow> for ApplicantRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(ApplicantRow {
            address: address_from(&row.try_get::<Vec<u8>, _>("address")?, "applicants.address")?,
            application_count: row.try_get("application_count")?,
            live_application_count: row.try_get("live_application_count")?,
        })
    }
}

impl Reader {
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
        Ok(rows.into_iter().map(|r| (r.address, r)).collect())
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
        Ok(rows.into_iter().map(|r| (r.address, r)).collect())
    }
}
