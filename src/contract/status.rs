//! The application lifecycle as a Rust enum.
//!
//! The ABI carries `ApplicationStatus` as a `uint8`, so the bindings expose a raw wrapper; this
//! type is the checked form, and an out-of-range byte from a log is an error, never a panic.

use std::fmt;

/// An application's status, in the contract's order (the discriminant is the on-chain byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApplicationStatus {
    /// Just applied; the employer has not acted.
    Submitted = 0,
    /// The employer shortlisted it.
    Shortlisted = 1,
    /// The employer rejected it (final).
    Rejected = 2,
    /// The employer hired the applicant (final).
    Hired = 3,
    /// The applicant withdrew it (final); they may apply again.
    Withdrawn = 4,
}

/// A status byte outside the contract's enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("application status byte {0} is out of range (0..=4)")]
pub struct InvalidStatus(pub u8);

impl ApplicationStatus {
    /// Every status, in on-chain order.
    pub const ALL: [ApplicationStatus; 5] = [
        ApplicationStatus::Submitted,
        ApplicationStatus::Shortlisted,
        ApplicationStatus::Rejected,
        ApplicationStatus::Hired,
        ApplicationStatus::Withdrawn,
    ];

    /// Rejected, Hired and Withdrawn never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Rejected | Self::Hired | Self::Withdrawn)
    }

    /// Whether the job's employer may move an application from this status to `to`: Submitted
    /// to Shortlisted, Rejected or Hired; Shortlisted to Rejected or Hired. The contract's rule,
    /// so that tools can refuse a transition before paying for a revert.
    pub fn employer_may_set(self, to: ApplicationStatus) -> bool {
        matches!(
            (self, to),
            (Self::Submitted, Self::Shortlisted | Self::Rejected | Self::Hired)
                | (Self::Shortlisted, Self::Rejected | Self::Hired)
        )
    }

    /// The status name as the contract spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Submitted => "Submitted",
            Self::Shortlisted => "Shortlisted",
            Self::Rejected => "Rejected",
            Self::Hired => "Hired",
            Self::Withdrawn => "Withdrawn",
        }
    }
}

impl TryFrom<u8> for ApplicationStatus {
    type Error = InvalidStatus;

    fn try_from(byte: u8) -> Result<Self, Self::Error> {
        Self::ALL.get(usize::from(byte)).copied().ok_or(InvalidStatus(byte))
    }
}

impl TryFrom<super::JobBoard::ApplicationStatus> for ApplicationStatus {
    type Error = InvalidStatus;

    fn try_from(raw: super::JobBoard::ApplicationStatus) -> Result<Self, Self::Error> {
        Self::try_from(raw.into_underlying())
    }
}

impl From<ApplicationStatus> for super::JobBoard::ApplicationStatus {
    fn from(status: ApplicationStatus) -> Self {
        Self::from(status as u8)
    }
}

impl fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_out_of_range_is_an_error() {
        for status in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::try_from(status as u8), Ok(status));
        }
        assert_eq!(ApplicationStatus::try_from(5), Err(InvalidStatus(5)));
        assert_eq!(ApplicationStatus::try_from(255), Err(InvalidStatus(255)));
    }

    #[test]
    fn only_rejected_hired_withdrawn_are_final() {
        let finals: Vec<_> = ApplicationStatus::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            [ApplicationStatus::Rejected, ApplicationStatus::Hired, ApplicationStatus::Withdrawn]
        );
    }
}
