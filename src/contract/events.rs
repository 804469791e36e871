//! Decoding the board's logs into domain events.
//!
//! Posting strings are decoded as raw bytes (`string` and `bytes` share one ABI encoding), so
//! a string that is not valid UTF-8 is kept exactly and rendered lossily only for display. A
//! log that does not decode is an error naming its position, never silently dropped.

use alloy::primitives::{Address, B256, Bytes, LogData, U256};
use alloy::sol_types::{SolEvent, SolValue};

use super::{ApplicationStatus, JobBoard};

alloy::sol! {
    /// `JobBoard.Posting` with every `string` read as `bytes`: same ABI layout, no UTF-8 check.
    #[derive(Debug, PartialEq, Eq)]
    struct RawPosting {
        bytes title;
        bytes company;
        bytes location;
        bytes tags;
        bytes description;
        bytes salaryCurrency;
        uint64 salaryMin;
        uint64 salaryMax;
        uint64 deadline;
    }
}

/// A job posting's content as emitted, strings as untrusted raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// Required, 1..200 bytes.
    pub title: Bytes,
    /// 0..100 bytes.
    pub company: Bytes,
    /// 0..100 bytes.
    pub location: Bytes,
    /// Comma-separated, 0..200 bytes.
    pub tags: Bytes,
    /// Markdown, 0..4096 bytes.
    pub description: Bytes,
    /// 0..12 bytes.
    pub salary_currency: Bytes,
    /// 0 = not disclosed.
    pub salary_min: u64,
    /// 0 = not disclosed.
    pub salary_max: u64,
    /// Unix seconds; 0 = none.
    pub deadline: u64,
}

impl From<RawPosting> for Posting {
    fn from(raw: RawPosting) -> Self {
        Posting {
            title: raw.title,
            company: raw.company,
            location: raw.location,
            tags: raw.tags,
            description: raw.description,
            salary_currency: raw.salaryCurrency,
            salary_min: raw.salaryMin,
            salary_max: raw.salaryMax,
            deadline: raw.deadline,
        }
    }
}

/// Renders untrusted event bytes as text: invalid UTF-8 and NUL (which PostgreSQL text cannot
/// hold) become U+FFFD. The raw bytes stay in the event log.
pub fn lossy_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.contains('\0') { text.replace('\0', "\u{FFFD}") } else { text.into_owned() }
}

/// Splits a posting's comma-separated tags: control characters removed, trimmed, lowercased,
/// empty ones dropped, duplicates removed (first occurrence wins).
pub fn split_tags(tags: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in lossy_text(tags).split(',') {
        let tag: String = tag.chars().filter(|c| !c.is_control()).collect();
        let tag = tag.trim().to_lowercase();
        if !tag.is_empty() && !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

/// One of the board's five events, with ids checked into `u64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoardEvent {
    /// `JobPosted(jobId, employer, posting)`.
    JobPosted {
        /// The new job.
        job_id: u64,
        /// Its employer.
        employer: Address,
        /// Its content.
        posting: Posting,
    },
    /// `JobUpdated(jobId, posting)`: the full new content.
    JobUpdated {
        /// The job.
        job_id: u64,
        /// Its new content.
        posting: Posting,
    },
    /// `JobClosed(jobId)`.
    JobClosed {
        /// The job.
        job_id: u64,
    },
    /// `ApplicationSubmitted(jobId, applicant, applicationId, applicationHash)`.
    ApplicationSubmitted {
        /// The job applied to.
        job_id: u64,
        /// The applicant.
        applicant: Address,
        /// The new application.
        application_id: u64,
        /// The commitment to the private document.
        application_hash: B256,
    },
    /// `ApplicationStatusChanged(applicationId, jobId, status)`.
    ApplicationStatusChanged {
        /// The application.
        application_id: u64,
        /// Its job.
        job_id: u64,
        /// The new status.
        status: ApplicationStatus,
    },
}

/// The Solidity name of each event kind, as stored in `events.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
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
}

impl EventKind {
    /// The five kinds, in the contract's order.
    pub const ALL: [EventKind; 5] = [
        EventKind::JobPosted,
        EventKind::JobUpdated,
        EventKind::JobClosed,
        EventKind::ApplicationSubmitted,
        EventKind::ApplicationStatusChanged,
    ];

    /// The kind with this Solidity name, if it is one of the five.
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The event's Solidity name.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::JobPosted => "JobPosted",
            EventKind::JobUpdated => "JobUpdated",
            EventKind::JobClosed => "JobClosed",
            EventKind::ApplicationSubmitted => "ApplicationSubmitted",
            EventKind::ApplicationStatusChanged => "ApplicationStatusChanged",
        }
    }
}

impl BoardEvent {
    /// Which of the five events this is.
    pub fn kind(&self) -> EventKind {
        match self {
            BoardEvent::JobPosted { .. } => EventKind::JobPosted,
            BoardEvent::JobUpdated { .. } => EventKind::JobUpdated,
            BoardEvent::JobClosed { .. } => EventKind::JobClosed,
            BoardEvent::ApplicationSubmitted { .. } => EventKind::ApplicationSubmitted,
            BoardEvent::ApplicationStatusChanged { .. } => EventKind::ApplicationStatusChanged,
        }
    }

    /// The job the event concerns (every event names one).
    pub fn job_id(&self) -> u64 {
        match *self {
            BoardEvent::JobPosted { job_id, .. }
            | BoardEvent::JobUpdated { job_id, .. }
            | BoardEvent::JobClosed { job_id }
            | BoardEvent::ApplicationSubmitted { job_id, .. }
            | BoardEvent::ApplicationStatusChanged { job_id, .. } => job_id,
        }
    }

    /// The application the event concerns, if any.
    pub fn application_id(&self) -> Option<u64> {
        match *self {
            BoardEvent::ApplicationSubmitted { application_id, .. }
            | BoardEvent::ApplicationStatusChanged { application_id, .. } => Some(application_id),
            _ => None,
        }
    }

    /// The employer or applicant the event names, if any.
    pub fn actor(&self) -> Option<Address> {
        match *self {
            BoardEvent::JobPosted { employer, .. } => Some(employer),
            BoardEvent::ApplicationSubmitted { applicant, .. } => Some(applicant),
            _ => None,
        }
    }

    /// Decodes one of the board's logs.
    ///
    /// # Errors
    /// [`DecodeError`] if the first topic is not one of the five events, the topics or data do
    /// not match the event's layout, an id does not fit `u64`, or a status is out of range.
    pub fn decode(log: &LogData) -> Result<BoardEvent, DecodeError> {
        let topics = log.topics();
        let Some(&topic0) = topics.first() else { return Err(DecodeError::NoTopics) };
        let expect_topics = |n: usize| {
            if topics.len() == n {
                Ok(())
            } else {
                Err(DecodeError::TopicCount { expected: n, found: topics.len() })
            }
        };
        let event = match topic0 {
            JobBoard::JobPosted::SIGNATURE_HASH => {
                expect_topics(3)?;
                BoardEvent::JobPosted {
                    job_id: id_from_topic(topics[1], "jobId")?,
                    employer: address_from_topic(topics[2], "employer")?,
                    posting: decode_posting(&log.data)?,
                }
            }
            JobBoard::JobUpdated::SIGNATURE_HASH => {
                expect_topics(2)?;
                BoardEvent::JobUpdated {
                    job_id: id_from_topic(topics[1], "jobId")?,
                    posting: decode_posting(&log.data)?,
                }
            }
            JobBoard::JobClosed::SIGNATURE_HASH => {
                expect_topics(2)?;
                expect_empty_data(&log.data)?;
                BoardEvent::JobClosed { job_id: id_from_topic(topics[1], "jobId")? }
            }
            JobBoard::ApplicationSubmitted::SIGNATURE_HASH => {
                expect_topics(4)?;
                let application_hash = B256::abi_decode(&log.data).map_err(DecodeError::data)?;
                BoardEvent::ApplicationSubmitted {
                    job_id: id_from_topic(topics[1], "jobId")?,
                    applicant: address_from_topic(topics[2], "applicant")?,
                    application_id: id_from_topic(topics[3], "applicationId")?,
                    application_hash,
                }
            }
            JobBoard::ApplicationStatusChanged::SIGNATURE_HASH => {
                expect_topics(3)?;
                // Decoded as uint256 and range-checked here: a byte outside the enum is an error
                // we report, not a panic or a silent wrap.
                let raw = U256::abi_decode(&log.data).map_err(DecodeError::data)?;
                let byte = u8::try_from(raw).map_err(|_| DecodeError::Status(raw))?;
                let status = ApplicationStatus::try_from(byte).map_err(|_| DecodeError::Status(raw))?;
                BoardEvent::ApplicationStatusChanged {
                    application_id: id_from_topic(topics[1], "applicationId")?,
                    job_id: id_from_topic(topics[2], "jobId")?,
                    status,
                }
            }
            other => return Err(DecodeError::UnknownEvent(other)),
        };
        Ok(event)
    }
}

/// Why a log could not be decoded as a board event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// An anonymous log: the board emits none.
    #[error("log has no topics")]
    NoTopics,
    /// The first topic is not one of the board's event signatures.
    #[error("unknown event signature {0}")]
    UnknownEvent(B256),
    /// The number of topics does not match the event's indexed parameters.
    #[error("expected {expected} topics, found {found}")]
    TopicCount {
        /// Topics the event has.
        expected: usize,
        /// Topics the log has.
        found: usize,
    },
    /// An id does not fit in 64 bits (ids are sequential, so this means a foreign log).
    #[error("{name} {value} does not fit in 64 bits")]
    IdOverflow {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: U256,
    },
    /// An indexed address topic has non-zero upper bytes.
    #[error("{0} topic is not a left-padded address")]
    BadAddress(&'static str),
    /// The data does not ABI-decode as the event's non-indexed parameters.
    #[error("malformed event data: {0}")]
    Data(String),
    /// A status value outside the enum.
    #[error("application status {0} is out of range")]
    Status(U256),
}

impl DecodeError {
    fn data(error: alloy::sol_types::Error) -> DecodeError {
        DecodeError::Data(error.to_string())
    }
}

fn id_from_topic(topic: B256, name: &'static str) -> Result<u64, DecodeError> {
    let value = U256::from_be_bytes(topic.0);
    u64::try_from(value).map_err(|_| DecodeError::IdOverflow { name, value })
}

fn address_from_topic(topic: B256, name: &'static str) -> Result<Address, DecodeError> {
    if topic[..12].iter().any(|&b| b != 0) {
        return Err(DecodeError::BadAddress(name));
    }
    Ok(Address::from_slice(&topic[12..]))
}

fn decode_posting(data: &[u8]) -> Result<Posting, DecodeError> {
    RawPosting::abi_decode(data).map(Posting::from).map_err(DecodeError::data)
}

fn expect_empty_data(data: &[u8]) -> Result<(), DecodeError> {
    if data.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::Data(format!("expected no data, found {} bytes", data.len())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{IntoLogData, address};

    fn sol_posting(title: &str) -> JobBoard::Posting {
        JobBoard::Posting {
            title: title.into(),
            company: "Acme".into(),
            location: "Remote".into(),
            tags: " Rust, solidity ,rust,,\u{1f}".into(),
            description: "# Hi\n\nemoji 🦀".into(),
            salaryCurrency: "USD".into(),
            salaryMin: 1,
            salaryMax: u64::MAX,
            deadline: 42,
        }
    }

    #[test]
    fn decodes_job_posted_with_every_field() {
        let employer = address!("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
        let log = JobBoard::JobPosted { jobId: U256::from(7), employer, posting: sol_posting("Rust dev") }
            .to_log_data();
        let BoardEvent::JobPosted { job_id, employer: e, posting } =
            BoardEvent::decode(&log).expect("decodes")
        else {
            panic!("wrong kind")
        };
        assert_eq!((job_id, e), (7, employer));
        assert_eq!(&posting.title[..], b"Rust dev");
        assert_eq!(&posting.description[..], "# Hi\n\nemoji 🦀".as_bytes());
        assert_eq!((posting.salary_min, posting.salary_max, posting.deadline), (1, u64::MAX, 42));
        assert_eq!(split_tags(&posting.tags), ["rust", "solidity"]);
    }

    #[test]
    fn invalid_utf8_is_kept_raw_and_shown_lossily() {
        // Build the log with bytes in place of the strings: the ABI encoding is the same.
        let raw = RawPosting {
            title: Bytes::from_static(b"bad \xff\xfe title\0end"),
            company: Bytes::new(),
            location: Bytes::new(),
            tags: Bytes::new(),
            description: Bytes::new(),
            salaryCurrency: Bytes::new(),
            salaryMin: 0,
            salaryMax: 0,
            deadline: 0,
        };
        let log = LogData::new_unchecked(
            vec![JobBoard::JobUpdated::SIGNATURE_HASH, B256::from(U256::from(1))],
            raw.abi_encode().into(),
        );
        let BoardEvent::JobUpdated { posting, .. } = BoardEvent::decode(&log).expect("decodes") else {
            panic!("wrong kind")
        };
        assert_eq!(&posting.title[..], b"bad \xff\xfe title\0end");
        assert_eq!(lossy_text(&posting.title), "bad \u{FFFD}\u{FFFD} title\u{FFFD}end");
    }

    #[test]
    fn decodes_status_changes_and_rejects_out_of_range_status() {
        let event = JobBoard::ApplicationStatusChanged {
            applicationId: U256::from(3),
            jobId: U256::from(2),
            status: 3,
        };
        assert_eq!(
            BoardEvent::decode(&event.to_log_data()),
            Ok(BoardEvent::ApplicationStatusChanged {
                application_id: 3,
                job_id: 2,
                status: ApplicationStatus::Hired
            })
        );
        let mut bad = event.to_log_data();
        bad.data = U256::from(9).abi_encode().into();
        assert_eq!(BoardEvent::decode(&bad), Err(DecodeError::Status(U256::from(9))));
    }

    #[test]
    fn foreign_and_malformed_logs_are_errors() {
        let unknown = LogData::new_unchecked(vec![B256::repeat_byte(1)], Bytes::new());
        assert!(matches!(BoardEvent::decode(&unknown), Err(DecodeError::UnknownEvent(_))));
        assert_eq!(
            BoardEvent::decode(&LogData::new_unchecked(vec![], Bytes::new())),
            Err(DecodeError::NoTopics)
        );

        let huge = LogData::new_unchecked(
            vec![JobBoard::JobClosed::SIGNATURE_HASH, B256::repeat_byte(0xff)],
            Bytes::new(),
        );
        assert!(matches!(BoardEvent::decode(&huge), Err(DecodeError::IdOverflow { name: "jobId", .. })));

        let truncated = LogData::new_unchecked(
            vec![JobBoard::JobUpdated::SIGNATURE_HASH, B256::from(U256::from(1))],
            Bytes::from_static(&[0u8; 40]),
        );
        assert!(matches!(BoardEvent::decode(&truncated), Err(DecodeError::Data(_))));

        let applied = JobBoard::ApplicationSubmitted {
            jobId: U256::from(1),
            applicant: Address::repeat_byte(9),
            applicationId: U256::from(1),
            applicationHash: B256::repeat_byte(2),
        }
        .into_log_data();
        let mut short = applied.clone();
        short.set_topics_unchecked(applied.topics()[..3].to_vec());
        assert_eq!(BoardEvent::decode(&short), Err(DecodeError::TopicCount { expected: 4, found: 3 }));
    }
}
