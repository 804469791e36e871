//! The contract's custom errors as sentences a user can act on: every revert the commands can
//! meet is decoded into `JobBoard::JobBoardErrors` and described here with its arguments.

use alloy::primitives::U256;

use super::posting::format_time;
use crate::contract::{ApplicationStatus, JobBoard};

/// A human description of one of the board's custom errors, with its arguments.
pub fn describe_revert(error: &JobBoard::JobBoardErrors) -> String {
    use JobBoard::JobBoardErrors as E;
    match error {
        E::EmptyTitle(_) => "the title is empty: pass --title".into(),
        E::FieldTooLong(e) => format!(
            "{} is {} bytes, over the board's limit of {} bytes",
            posting_field(e.field),
            e.length,
            e.maxLength
        ),
        E::SalaryCurrencyRequired(e) => {
            format!("a salary ({}..{}) needs a currency: pass --salary-currency", e.salaryMin, e.salaryMax)
        }
        E::SalaryRangeInverted(e) => {
            format!("the minimum salary {} is above the maximum {}", e.salaryMin, e.salaryMax)
        }
        E::DeadlineNotInFuture(e) => format!(
            "the deadline {} is not in the future (the chain's time is {})",
            format_time(e.deadline),
            format_u256_time(e.currentTimestamp)
        ),
        E::JobNotFound(e) => format!("job {} does not exist", e.jobId),
        E::NotJobEmployer(e) => {
            format!("you ({}) are not the employer of job {} (employer is {})", e.caller, e.jobId, e.employer)
        }
        E::JobAlreadyClosed(e) => format!("job {} is closed", e.jobId),
        E::JobExpired(e) => format!(
            "job {} stopped taking applications at its deadline {} (the chain's time is {})",
            e.jobId,
            format_time(e.deadline),
            format_u256_time(e.currentTimestamp)
        ),
        E::EmployerCannotApply(e) => {
            format!("you ({}) posted job {}: an employer cannot apply to their own job", e.employer, e.jobId)
        }
        E::ZeroApplicationHash(_) => "the application hash is zero".into(),
        E::AlreadyApplied(e) => format!(
            "you ({}) already have application {} to job {}: withdraw it first \
             (`jobboard application withdraw --id {}`) to apply again",
            e.applicant, e.applicationId, e.jobId, e.applicationId
        ),
        E::ApplicationNotFound(e) => format!("application {} does not exist", e.applicationId),
        E::NotApplicant(e) => format!(
            "you ({}) are not the applicant of application {} (applicant is {})",
            e.caller, e.applicationId, e.applicant
        ),
        E::StatusNotSettableByEmployer(e) => format!(
            "an employer cannot set the status {}: only Shortlisted, Rejected or Hired",
            status_name(e.status)
        ),
        E::InvalidStatusTransition(e) => {
            let from = e.from;
            let to = status_name(e.to);
            let why = match ApplicationStatus::try_from(from) {
                Ok(status) if status.is_final() => format!(" ({} is final)", status.name()),
                Ok(ApplicationStatus::Shortlisted) => " (a shortlisted application can only be rejected, \
                                                     hired or withdrawn)"
                    .to_owned(),
                _ => String::new(),
            };
            format!("application {} is {}; it cannot become {to}{why}", e.applicationId, status_name(from))
        }
        E::EmptyBatch(_) => "no application ids given".into(),
    }
}

/// The flag of a `JobBoard.PostingField` byte, as the user would have typed it.
fn posting_field(byte: u8) -> String {
    match byte {
        0 => "--title".into(),
        1 => "--company".into(),
        2 => "--location".into(),
        3 => "--tags".into(),
        4 => "--description".into(),
        5 => "--salary-currency".into(),
        other => format!("posting field #{other}"),
    }
}

/// A status byte's name, or the raw byte if it is out of range.
fn status_name(byte: u8) -> String {
    ApplicationStatus::try_from(byte).map(|s| s.name().to_owned()).unwrap_or_else(|e| e.to_string())
}

fn format_u256_time(seconds: U256) -> String {
    u64::try_from(seconds).map(format_time).unwrap_or_else(|_| seconds.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::Address;
    use alloy::sol_types::SolInterface;

    #[test]
    fn errors_read_as_sentences_with_their_arguments() {
        use JobBoard::JobBoardErrors as E;
        let employer = Address::repeat_byte(0xee);
        let caller = Address::repeat_byte(0xcc);
        let closed = E::JobAlreadyClosed(JobBoard::JobAlreadyClosed { jobId: U256::from(7) });
        assert_eq!(describe_revert(&closed), "job 7 is closed");
        let not_employer =
            E::NotJobEmployer(JobBoard::NotJobEmployer { jobId: U256::from(7), caller, employer });
        assert_eq!(
            describe_revert(&not_employer),
            format!("you ({caller}) are not the employer of job 7 (employer is {employer})")
        );
        let too_long = E::FieldTooLong(JobBoard::FieldTooLong {
            field: 0,
            length: U256::from(201),
            maxLength: U256::from(200),
        });
        assert_eq!(describe_revert(&too_long), "--title is 201 bytes, over the board's limit of 200 bytes");
        let transition = E::InvalidStatusTransition(JobBoard::InvalidStatusTransition {
            applicationId: U256::from(3),
            from: ApplicationStatus::Hired as u8,
            to: ApplicationStatus::Rejected as u8,
        });
        assert_eq!(
            describe_revert(&transition),
            "application 3 is Hired; it cannot become Rejected (Hired is final)"
        );

        // What the node returns as revert data decodes back into the same description.
        let data = closed.abi_encode();
        let decoded = E::abi_decode(&data).expect("round trip");
        assert_eq!(describe_revert(&decoded), "job 7 is closed");
    }
}
