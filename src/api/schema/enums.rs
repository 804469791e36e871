//! The schema's enums (job and application statuses, orderings, activity kinds) and their
//! conversions to the store's types.

use super::*;

/// A job's state.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Accepting applications.
    Open,
    /// Closed by its employer.
    Closed,
    /// Its deadline passed; still open on-chain.
    Expired,
}

impl From<JobStatus> for store::JobStatus {
    fn from(status: JobStatus) -> Self {
        match status {
            JobStatus::Open => store::JobStatus::Open,
            JobStatus::Closed => store::JobStatus::Closed,
            JobStatus::Expired => store::JobStatus::Expired,
        }
    }
}

/// An application's status, in the contract's order.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    /// Just applied.
    Submitted,
    /// Shortlisted by the employer.
    Shortlisted,
    /// Rejected (final).
    Rejected,
    /// Hired (final).
    Hired,
    /// Withdrawn by the applicant (final).
    Withdrawn,
}

impl From<crate::contract::ApplicationStatus> for ApplicationStatus {
    fn from(status: crate::contract::ApplicationStatus) -> Self {
        use crate::contract::ApplicationStatus as OnChain;
        match status {
            OnChain::Submitted => Self::Submitted,
            OnChain::Shortlisted => Self::Shortlisted,
            OnChain::Rejected => Self::Rejected,
            OnChain::Hired => Self::Hired,
            OnChain::Withdrawn => Self::Withdrawn,
        }
    }
}

impl ApplicationStatus {
    pub(super) fn byte(self) -> u8 {
        self as u8
    }
}

/// Orderings of job lists; ties go by id in the same direction.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOrderBy {
    /// Newest posting first (the default without a search).
    Newest,
    /// Oldest posting first.
    Oldest,
    /// Highest disclosed maximum salary first; undisclosed last.
    SalaryHighToLow,
    /// Soonest deadline first; no deadline last.
    DeadlineSoonest,
    /// Most live applications first.
    MostApplications,
    /// Best full-text match first (the default with a search; needs `search`).
    Relevance,
}

impl From<JobOrderBy> for store::JobOrder {
    fn from(order: JobOrderBy) -> Self {
        match order {
            JobOrderBy::Newest => store::JobOrder::Newest,
            JobOrderBy::Oldest => store::JobOrder::Oldest,
            JobOrderBy::SalaryHighToLow => store::JobOrder::SalaryHighToLow,
            JobOrderBy::DeadlineSoonest => store::JobOrder::DeadlineSoonest,
            JobOrderBy::MostApplications => store::JobOrder::MostApplications,
            JobOrderBy::Relevance => store::JobOrder::Relevance,
        }
    }
}

/// Orderings of application lists.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationOrderBy {
    /// Newest submission first (the default).
    Newest,
    /// Oldest submission first.
    Oldest,
    /// Most recent status change first.
    RecentlyUpdated,
}

impl From<ApplicationOrderBy> for store::ApplicationOrder {
    fn from(order: ApplicationOrderBy) -> Self {
        match order {
            ApplicationOrderBy::Newest => store::ApplicationOrder::Newest,
            ApplicationOrderBy::Oldest => store::ApplicationOrder::Oldest,
            ApplicationOrderBy::RecentlyUpdated => store::ApplicationOrder::RecentlyUpdated,
        }
    }
}

/// What an activity event records.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// `JobPosted`.
    JobPosted,
    /// `JobUpdated`.
    JobUpdated,
    /// `JobClosed`.
    JobClosed,
    /// `ApplicationSubmitted`.
    ApplicationSubmitted,
    /// `ApplicationStatusChanged`.
    ApplicationStatusChanged,
    /// A chain reorganisation: everything above `blockNumber` was reverted (subscriptions only).
    Reorg,
}

impl ActivityKind {
    pub(super) fn event_name(self) -> Option<&'static str> {
        Some(match self {
            ActivityKind::JobPosted => "JobPosted",
            ActivityKind::JobUpdated => "JobUpdated",
            ActivityKind::JobClosed => "JobClosed",
            ActivityKind::ApplicationSubmitted => "ApplicationSubmitted",
            ActivityKind::ApplicationStatusChanged => "ApplicationStatusChanged",
            ActivityKind::Reorg => return None,
        })
    }

    pub(super) fn from_event_name(name: &str) -> Self {
        match name {
            "JobPosted" => ActivityKind::JobPosted,
            "JobUpdated" => ActivityKind::JobUpdated,
            "JobClosed" => ActivityKind::JobClosed,
            "ApplicationSubmitted" => ActivityKind::ApplicationSubmitted,
            _ => ActivityKind::ApplicationStatusChanged,
        }
    }
}
