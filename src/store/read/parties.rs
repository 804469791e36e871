//! The parties: employers (with their open jobs counted at read time) and applicants.

use std::collections::HashMap;

use alloy::primitives::Address;
use sqlx::QueryBuilder;

use super::filters::{JobStatus, push_status_condition};
use super::{APPLICANT_COLUMNS, Reader};
use crate::store::StoreError;

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
}
