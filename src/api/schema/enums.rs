//! The schema's enums (job and application statuses, orderings, activity kinds) and their
//! conversions to the store's types.

use super::*;
use crate::contract::EventKind;

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
// The store's `JobOrder` under its public name: `remote` makes the derive check that both list
// the same variants and write the conversions both ways.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "store::JobOrder")]
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

/// Orderings of application lists.
// The store's `ApplicationOrder` under its public name: `remote` makes the derive check that both list
// the same variants and write the conversions both ways.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "store::ApplicationOrder")]
pub enum ApplicationOrderBy {
    /// Newest submission first (the default).
    Newest,
    /// Oldest submission first.
    Oldest,
    /// Most recent status change first.
    RecentlyUpdated,
}

/// What a board's indexer is doing.
// The store's `BoardState` under its public name: `remote` checks both list the same variants.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "store::BoardState")]
pub enum BoardState {
    /// Backfilling, or catching up with the head.
    Syncing,
    /// Within a few blocks of the node's head.
    Live,
    /// The node answers but the index cannot advance, or the indexer has not reported for
    /// `--stall-after`.
    Stalled,
    /// The node cannot be reached, or the board stopped on an error an operator must fix
    /// (`lastError` says which).
    Error,
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
    /// The stored event kind, `None` for `REORG` (which only subscriptions carry).
    pub(super) fn event_kind(self) -> Option<EventKind> {
        Some(match self {
            ActivityKind::JobPosted => EventKind::JobPosted,
            ActivityKind::JobUpdated => EventKind::JobUpdated,
            ActivityKind::JobClosed => EventKind::JobClosed,
            ActivityKind::ApplicationSubmitted => EventKind::ApplicationSubmitted,
            ActivityKind::ApplicationStatusChanged => EventKind::ApplicationStatusChanged,
            ActivityKind::Reorg => return None,
        })
    }
}

impl From<EventKind> for ActivityKind {
    fn from(kind: EventKind) -> Self {
        match kind {
            EventKind::JobPosted => ActivityKind::JobPosted,
            EventKind::JobUpdated => ActivityKind::JobUpdated,
            EventKind::JobClosed => ActivityKind::JobClosed,
            EventKind::ApplicationSubmitted => ActivityKind::ApplicationSubmitted,
            EventKind::ApplicationStatusChanged => ActivityKind::ApplicationStatusChanged,
        }
    }
}
