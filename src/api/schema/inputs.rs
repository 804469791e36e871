//! The schema's input types: filters and the Relay page arguments, validated into the
//! store's filter and page types.

use super::*;
use crate::api::across;

/// Conditions on jobs. Set fields combine with AND; `and` lists must all hold; of an `or`
/// list at least one must hold.
#[derive(InputObject, Debug, Clone, Default)]
pub struct JobFilter {
    /// The job's id is one of these (at most 1000).
    #[graphql(name = "id_in")]
    pub id_in: Option<Vec<ID>>,
    /// Posted by this address.
    pub employer: Option<Address>,
    /// In this state.
    pub status: Option<JobStatus>,
    /// In one of these states.
    #[graphql(name = "status_in")]
    pub status_in: Option<Vec<JobStatus>>,
    /// The title contains this text, ignoring case.
    #[graphql(name = "title_contains")]
    pub title_contains: Option<String>,
    /// The location contains this text, ignoring case.
    #[graphql(name = "location_contains")]
    pub location_contains: Option<String>,
    /// Has this tag (compared trimmed and lowercased).
    #[graphql(name = "tags_has")]
    pub tags_has: Option<String>,
    /// The disclosed minimum salary is at least this.
    #[graphql(name = "salaryMin_gte")]
    pub salary_min_gte: Option<BigInt>,
    /// The disclosed maximum salary is at most this.
    #[graphql(name = "salaryMax_lte")]
    pub salary_max_lte: Option<BigInt>,
    /// Posted at or after this time.
    #[graphql(name = "postedAt_gte")]
    pub posted_at_gte: Option<DateTime>,
    /// Posted at or before this time.
    #[graphql(name = "postedAt_lte")]
    pub posted_at_lte: Option<DateTime>,
    /// The deadline is at or after this time.
    #[graphql(name = "deadline_gte")]
    pub deadline_gte: Option<DateTime>,
    /// Filters that must all hold as well.
    pub and: Option<Vec<JobFilter>>,
    /// Filters of which at least one must hold.
    pub or: Option<Vec<JobFilter>>,
}

/// Conditions on applications, combined like `JobFilter`'s.
#[derive(InputObject, Debug, Clone, Default)]
pub struct ApplicationFilter {
    /// The application's id is one of these (at most 1000).
    #[graphql(name = "id_in")]
    pub id_in: Option<Vec<ID>>,
    /// For this job.
    pub job_id: Option<ID>,
    /// From this address.
    pub applicant: Option<Address>,
    /// With this status.
    pub status: Option<ApplicationStatus>,
    /// With one of these statuses.
    #[graphql(name = "status_in")]
    pub status_in: Option<Vec<ApplicationStatus>>,
    /// Submitted at or after this time.
    #[graphql(name = "submittedAt_gte")]
    pub submitted_at_gte: Option<DateTime>,
    /// Submitted at or before this time.
    #[graphql(name = "submittedAt_lte")]
    pub submitted_at_lte: Option<DateTime>,
    /// Filters that must all hold as well.
    pub and: Option<Vec<ApplicationFilter>>,
    /// Filters of which at least one must hold.
    pub or: Option<Vec<ApplicationFilter>>,
}

/// Conditions on activity events, combined like `JobFilter`'s.
#[derive(InputObject, Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Events about this job (its posting, updates, close and its applications).
    pub job_id: Option<ID>,
    /// Events about this application.
    pub application_id: Option<ID>,
    /// Events involving this address as the job's employer or the applicant.
    pub address: Option<Address>,
    /// Events of these kinds.
    #[graphql(name = "kind_in")]
    pub kind_in: Option<Vec<ActivityKind>>,
    /// Filters that must all hold as well.
    pub and: Option<Vec<ActivityFilter>>,
    /// Filters of which at least one must hold.
    pub or: Option<Vec<ActivityFilter>>,
}

pub(super) const MAX_IDS: usize = 1000;

pub(super) fn parse_id(id: &ID, what: &str) -> Result<u64> {
    let text = id.as_str();
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_input(format!(
            "{what} {:?} is not an id: ids are decimal strings such as \"42\"",
            text.chars().take(40).collect::<String>()
        )));
    }
    text.parse().map_err(|_| bad_input(format!("{what} {text} is too large")))
}

pub(super) fn parse_ids(ids: &[ID], what: &str) -> Result<Vec<u64>> {
    if ids.len() > MAX_IDS {
        return Err(bad_input(format!("{what}_in takes at most {MAX_IDS} ids, got {}", ids.len())));
    }
    ids.iter().map(|id| parse_id(id, what)).collect()
}

impl JobFilter {
    pub(super) fn to_store(&self) -> Result<store::JobFilter> {
        let mut statuses: Vec<store::JobStatus> = Vec::new();
        let mut status_sets = 0;
        if let Some(status) = self.status {
            statuses.push(status.into());
            status_sets += 1;
        }
        let status_in = self.status_in.as_ref().map(|s| s.iter().map(|&s| s.into()).collect::<Vec<_>>());
        let status_in = match (status_sets, status_in) {
            (0, s) => s,
            (_, None) => Some(statuses),
            // Both given: a job must be in the intersection.
            (_, Some(set)) => Some(statuses.into_iter().filter(|s| set.contains(s)).collect()),
        };
        let nested = |list: &Option<Vec<JobFilter>>| -> Result<Vec<store::JobFilter>> {
            list.iter().flatten().map(JobFilter::to_store).collect()
        };
        Ok(store::JobFilter {
            id_in: self.id_in.as_deref().map(|ids| parse_ids(ids, "id")).transpose()?,
            employer: self.employer.map(|a| a.0),
            status_in,
            title_contains: self.title_contains.clone(),
            location_contains: self.location_contains.clone(),
            tags_has: self.tags_has.clone(),
            salary_min_gte: self.salary_min_gte.map(|v| v.0),
            salary_max_lte: self.salary_max_lte.map(|v| v.0),
            posted_at_gte: self.posted_at_gte.map(|t| t.0),
            posted_at_lte: self.posted_at_lte.map(|t| t.0),
            deadline_gte: self.deadline_gte.map(|t| t.0),
            and: nested(&self.and)?,
            or: nested(&self.or)?,
        })
    }
}

impl ApplicationFilter {
    pub(super) fn to_store(&self) -> Result<store::ApplicationFilter> {
        let mut status_in: Option<Vec<u8>> =
            self.status_in.as_ref().map(|s| s.iter().map(|s| s.byte()).collect());
        if let Some(status) = self.status {
            status_in = Some(match status_in {
                None => vec![status.byte()],
                Some(set) => set.into_iter().filter(|&s| s == status.byte()).collect(),
            });
        }
        let nested = |list: &Option<Vec<ApplicationFilter>>| -> Result<Vec<store::ApplicationFilter>> {
            list.iter().flatten().map(ApplicationFilter::to_store).collect()
        };
        Ok(store::ApplicationFilter {
            id_in: self.id_in.as_deref().map(|ids| parse_ids(ids, "id")).transpose()?,
            job_id: self.job_id.as_ref().map(|id| parse_id(id, "jobId")).transpose()?,
            applicant: self.applicant.map(|a| a.0),
            status_in,
            submitted_at_gte: self.submitted_at_gte.map(|t| t.0),
            submitted_at_lte: self.submitted_at_lte.map(|t| t.0),
            and: nested(&self.and)?,
            or: nested(&self.or)?,
        })
    }
}

impl ActivityFilter {
    pub(super) fn to_store(&self) -> Result<store::ActivityFilter> {
        let nested = |list: &Option<Vec<ActivityFilter>>| -> Result<Vec<store::ActivityFilter>> {
            list.iter().flatten().map(ActivityFilter::to_store).collect()
        };
        Ok(store::ActivityFilter {
            job_id: self.job_id.as_ref().map(|id| parse_id(id, "jobId")).transpose()?,
            application_id: self
                .application_id
                .as_ref()
                .map(|id| parse_id(id, "applicationId"))
                .transpose()?,
            address: self.address.map(|a| a.0),
            kind_in: self.kind_in.as_ref().map(|kinds| kinds.iter().filter_map(|k| k.event_kind()).collect()),
            and: nested(&self.and)?,
            or: nested(&self.or)?,
        })
    }

    pub(super) fn wants_reorgs(&self) -> bool {
        self.kind_in.as_ref().is_none_or(|kinds| kinds.contains(&ActivityKind::Reorg))
    }
}

/// The page size `first` or `last` asks for (the default page without either), and whether
/// it is read from the end.
pub(super) fn page_size(ctx: &Context<'_>, first: Option<i32>, last: Option<i32>) -> Result<(usize, bool)> {
    let limits = api(ctx).pages;
    let size = |name: &str, n: i32| -> Result<usize> {
        let n =
            usize::try_from(n).map_err(|_| bad_input(format!("`{name}` must not be negative, got {n}")))?;
        if n > limits.max {
            return Err(bad_input(format!("`{name}` is at most {}, got {n}; page with cursors", limits.max)));
        }
        Ok(n)
    };
    Ok(match (first, last) {
        (Some(_), Some(_)) => return Err(bad_input("pass `first` or `last`, not both")),
        (Some(n), None) => (size("first", n)?, false),
        (None, Some(n)) => (size("last", n)?, true),
        (None, None) => (limits.default, false),
    })
}

/// Validates Relay arguments into a page request of list `list`, whose cursors' keys must
/// satisfy `accepts` (their sort values parse as the ordering's type).
#[allow(clippy::too_many_arguments, reason = "the Relay arguments, and the list they page")]
pub(super) fn page_request(
    ctx: &Context<'_>,
    list: &str,
    accepts: impl Fn(&SortKey) -> bool,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<PageRequest> {
    let (limit, from_end) = page_size(ctx, first, last)?;
    let decode = |c: Option<String>| {
        c.map(|c| {
            let key = cursor::decode(list, &c).map_err(bad_input)?;
            if accepts(&key) {
                Ok(key)
            } else {
                Err(bad_input(format!(
                    "cursor {:?} is not one this API gave out",
                    c.chars().take(80).collect::<String>()
                )))
            }
        })
        .transpose()
    };
    Ok(PageRequest { after: decode(after)?, before: decode(before)?, limit, from_end })
}

/// Validates Relay arguments into a slice of list `list` read across the boards on `chains`,
/// whose cursors' keys must satisfy `accepts`.
#[allow(clippy::too_many_arguments, reason = "the Relay arguments, and the list they page")]
pub(super) fn across_request(
    ctx: &Context<'_>,
    list: &str,
    chains: &[u64],
    accepts: impl Fn(&SortKey) -> bool,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<across::AcrossRequest> {
    let (limit, from_end) = page_size(ctx, first, last)?;
    let decode = |c: Option<String>| {
        c.map(|c| across::decode(list, chains, &c, &accepts).map_err(bad_input)).transpose()
    };
    Ok(across::AcrossRequest { after: decode(after)?, before: decode(before)?, limit, from_end })
}
