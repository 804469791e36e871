//! Batched reads: every field that would cost one query per row (a job's employer, a page of
//! jobs' applications, an application's history) goes through one of these loaders, which
//! turns the keys requested while a level of the response resolves into one statement.
//!
//! The loader is shared by all requests and caches nothing, so answers are always fresh; it
//! waits two milliseconds (tokio's timer ticks in whole milliseconds) to gather the keys of
//! one response level. Where no batching can happen the schema skips it: children of an
//! object reached alone (`job(id)`) are read at once, a single page of applications reads its
//! jobs in one statement as soon as one is asked for, and an employer or applicant reached
//! from a row needs no read at all until a count is selected.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use alloy::primitives::Address;
use async_graphql::dataloader::{DataLoader, Loader};

use super::error::ApiError;
use crate::store::{
    ApplicantRow, ApplicationFilter, ApplicationOrder, ApplicationParent, ApplicationRow, ApplicationScope,
    EmployerRow, JobFilter, JobOrder, JobRow, Page, PageRequest, Reader, RevisionRow, Scope, StatusChangeRow,
};

/// The loader behind every batched field.
pub struct ReadLoader {
    reader: Reader,
}

/// The shared, non-caching data loader.
pub type Loaders = DataLoader<ReadLoader>;

/// Builds the loader for `reader`, gathering each level's keys for `batch_wait`.
pub fn loaders(reader: Reader, batch_wait: Duration) -> Loaders {
    DataLoader::new(ReadLoader { reader }, tokio::spawn).delay(batch_wait).max_batch_size(500)
}

/// A job by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobId(pub u64);
/// An application by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApplicationId(pub u64);
/// An employer by address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmployerAddress(pub Address);
/// An applicant by address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApplicantAddress(pub Address);
/// A job's oldest revisions, at most this many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RevisionsOf(pub u64, pub usize);
/// An application's status history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryOf(pub u64);

/// The arguments of a nested job list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobListArgs {
    /// Filter.
    pub filter: JobFilter,
    /// Ordering.
    pub order: JobOrder,
    /// Slice.
    pub page: PageRequest,
}

/// The arguments of a nested application list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApplicationListArgs {
    /// Filter.
    pub filter: ApplicationFilter,
    /// Ordering.
    pub order: ApplicationOrder,
    /// Slice.
    pub page: PageRequest,
}

/// A page of one employer's jobs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmployerJobs(pub Address, pub JobListArgs);
/// A page of one job's or one applicant's applications.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApplicationsOf(pub ApplicationParent, pub ApplicationListArgs);
/// The number of one employer's jobs matching a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmployerJobCount(pub Address, pub JobFilter);
/// The number of one parent's applications matching a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApplicationCount(pub ApplicationParent, pub ApplicationFilter);

/// Groups keys that share their list arguments, so each group is one statement.
fn group_by<K, A: Hash + Eq + Clone, P>(keys: &[K], split: impl Fn(&K) -> (P, A)) -> HashMap<A, Vec<P>> {
    let mut groups: HashMap<A, Vec<P>> = HashMap::new();
    for key in keys {
        let (parent, args) = split(key);
        groups.entry(args).or_default().push(parent);
    }
    groups
}

impl Loader<JobId> for ReadLoader {
    type Value = JobRow;
    type Error = ApiError;

    async fn load(&self, keys: &[JobId]) -> Result<HashMap<JobId, JobRow>, ApiError> {
        let ids: Vec<u64> = keys.iter().map(|k| k.0).collect();
        Ok(self.reader.jobs_by_id(&ids).await?.into_iter().map(|(id, row)| (JobId(id), row)).collect())
    }
}

impl Loader<ApplicationId> for ReadLoader {
    type Value = ApplicationRow;
    type Error = ApiError;

    async fn load(&self, keys: &[ApplicationId]) -> Result<HashMap<ApplicationId, ApplicationRow>, ApiError> {
        let ids: Vec<u64> = keys.iter().map(|k| k.0).collect();
        Ok(self
            .reader
            .applications_by_id(&ids)
            .await?
            .into_iter()
            .map(|(id, r)| (ApplicationId(id), r))
            .collect())
    }
}

impl Loader<EmployerAddress> for ReadLoader {
    type Value = EmployerRow;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[EmployerAddress],
    ) -> Result<HashMap<EmployerAddress, EmployerRow>, ApiError> {
        let addresses: Vec<Address> = keys.iter().map(|k| k.0).collect();
        Ok(self
            .reader
            .employers(&addresses)
            .await?
            .into_iter()
            .map(|(a, r)| (EmployerAddress(a), r))
            .collect())
    }
}

impl Loader<ApplicantAddress> for ReadLoader {
    type Value = ApplicantRow;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ApplicantAddress],
    ) -> Result<HashMap<ApplicantAddress, ApplicantRow>, ApiError> {
        let addresses: Vec<Address> = keys.iter().map(|k| k.0).collect();
        Ok(self
            .reader
            .applicants(&addresses)
            .await?
            .into_iter()
            .map(|(a, r)| (ApplicantAddress(a), r))
            .collect())
    }
}

impl Loader<RevisionsOf> for ReadLoader {
    type Value = Vec<RevisionRow>;
    type Error = ApiError;

    async fn load(&self, keys: &[RevisionsOf]) -> Result<HashMap<RevisionsOf, Vec<RevisionRow>>, ApiError> {
        let mut out = HashMap::new();
        for (limit, ids) in group_by(keys, |k| (k.0, k.1)) {
            let rows = self.reader.revisions(&ids, limit).await?;
            out.extend(rows.into_iter().map(|(id, r)| (RevisionsOf(id, limit), r)));
        }
        Ok(out)
    }
}

impl Loader<HistoryOf> for ReadLoader {
    type Value = Vec<StatusChangeRow>;
    type Error = ApiError;

    async fn load(&self, keys: &[HistoryOf]) -> Result<HashMap<HistoryOf, Vec<StatusChangeRow>>, ApiError> {
        let ids: Vec<u64> = keys.iter().map(|k| k.0).collect();
        Ok(self.reader.status_history(&ids).await?.into_iter().map(|(id, r)| (HistoryOf(id), r)).collect())
    }
}

impl Loader<EmployerJobs> for ReadLoader {
    type Value = Page<JobRow>;
    type Error = ApiError;

    async fn load(&self, keys: &[EmployerJobs]) -> Result<HashMap<EmployerJobs, Page<JobRow>>, ApiError> {
        let mut out = HashMap::new();
        for (args, parents) in group_by(keys, |k| (k.0, k.1.clone())) {
            let mut pages = self
                .reader
                .jobs(&Scope::Parents(parents.clone()), &args.filter, None, args.order, &args.page)
                .await?;
            for parent in parents {
                let page = pages.remove(&Some(parent)).unwrap_or_default();
                out.insert(EmployerJobs(parent, args.clone()), page);
            }
        }
        Ok(out)
    }
}

impl Loader<ApplicationsOf> for ReadLoader {
    type Value = Page<ApplicationRow>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ApplicationsOf],
    ) -> Result<HashMap<ApplicationsOf, Page<ApplicationRow>>, ApiError> {
        let mut out = HashMap::new();
        for (args, parents) in group_by(keys, |k| (k.0, k.1.clone())) {
            for (scope, parents) in split_parents(parents) {
                let mut pages =
                    self.reader.applications(&scope, &args.filter, args.order, &args.page).await?;
                for parent in parents {
                    let page = pages.remove(&parent).unwrap_or_default();
                    out.insert(ApplicationsOf(parent, args.clone()), page);
                }
            }
        }
        Ok(out)
    }
}

impl Loader<EmployerJobCount> for ReadLoader {
    type Value = i64;
    type Error = ApiError;

    async fn load(&self, keys: &[EmployerJobCount]) -> Result<HashMap<EmployerJobCount, i64>, ApiError> {
        let mut out = HashMap::new();
        for (filter, parents) in group_by(keys, |k| (k.0, k.1.clone())) {
            let counts = self.reader.count_jobs(&Scope::Parents(parents.clone()), &filter, None).await?;
            for parent in parents {
                let n = counts.get(&Some(parent)).copied().unwrap_or(0);
                out.insert(EmployerJobCount(parent, filter.clone()), n);
            }
        }
        Ok(out)
    }
}

impl Loader<ApplicationCount> for ReadLoader {
    type Value = i64;
    type Error = ApiError;

    async fn load(&self, keys: &[ApplicationCount]) -> Result<HashMap<ApplicationCount, i64>, ApiError> {
        let mut out = HashMap::new();
        for (filter, parents) in group_by(keys, |k| (k.0, k.1.clone())) {
            for (scope, parents) in split_parents(parents) {
                let counts = self.reader.count_applications(&scope, &filter).await?;
                for parent in parents {
                    let n = counts.get(&parent).copied().unwrap_or(0);
                    out.insert(ApplicationCount(parent, filter.clone()), n);
                }
            }
        }
        Ok(out)
    }
}

/// Splits application parents into the scopes the store reads them by.
fn split_parents(parents: Vec<ApplicationParent>) -> Vec<(ApplicationScope, Vec<ApplicationParent>)> {
    let (mut jobs, mut applicants, mut all) = (Vec::new(), Vec::new(), false);
    for parent in &parents {
        match parent {
            ApplicationParent::All => all = true,
            ApplicationParent::Job(id) => jobs.push(*id),
            ApplicationParent::Applicant(address) => applicants.push(*address),
        }
    }
    let mut scopes = Vec::new();
    if all {
        scopes.push((ApplicationScope::All, vec![ApplicationParent::All]));
    }
    if !jobs.is_empty() {
        let parents = jobs.iter().map(|&id| ApplicationParent::Job(id)).collect();
        scopes.push((ApplicationScope::Jobs(jobs), parents));
    }
    if !applicants.is_empty() {
        let parents = applicants.iter().map(|&a| ApplicationParent::Applicant(a)).collect();
        scopes.push((ApplicationScope::Applicants(applicants), parents));
    }
    scopes
}
