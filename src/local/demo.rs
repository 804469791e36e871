//! The demo board `jobboard dev` seeds: thirty postings from five employers
//! (`demo/postings.json`), applications from four applicants, and one of every kind of change
//! (shortlists, rejections one by one and in a batch, a hire, a withdrawal and a re-application,
//! an update and a close), so that every part of the API has something to show.
//!
//! The plan is fixed, so a newcomer, the README and the tests all see the same board: job `n`
//! is the `n`-th posting of the file, and application ids follow [`DemoPlan::applications`].
//! The transactions are sent from anvil's unlocked dev accounts (`eth_sendTransaction`), which
//! only a development node accepts; employers and applicants on a real chain sign their own.

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use serde::{Deserialize, Serialize};

use crate::contract::{ApplicationCommitment, ApplicationStatus, JobBoard, document_hash};

/// The demo's postings, as committed.
const POSTINGS_JSON: &str = include_str!("demo/postings.json");

/// Seconds in a day, for deadlines given in days.
const DAY: u64 = 86_400;

/// Why the demo could not be seeded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The committed postings file does not parse (a broken edit).
    #[error("the demo postings (src/local/demo/postings.json) are invalid: {0}")]
    Postings(String),
    /// anvil has fewer dev accounts than the demo needs.
    #[error("the demo needs {needed} dev accounts, the node has {found}")]
    NotEnoughAccounts {
        /// Accounts the plan uses.
        needed: usize,
        /// Accounts the node offered.
        found: usize,
    },
    /// A call to the node failed.
    #[error("seeding the demo: {action}: {message}")]
    Node {
        /// What was being done.
        action: String,
        /// The node's error.
        message: String,
    },
    /// A demo transaction reverted: the plan and the contract disagree.
    #[error("demo transaction {tx_hash} ({action}) reverted")]
    Reverted {
        /// What was being done.
        action: String,
        /// The transaction.
        tx_hash: B256,
    },
    /// The demo's documents could not be written.
    #[error("writing the demo documents to {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A company posting on the demo board.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoEmployer {
    /// The company's name, as in its postings.
    pub company: String,
    /// One sentence about it.
    pub about: String,
}

/// One demo posting, as in the postings file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoPosting {
    /// Index into [`DemoPlan::employers`].
    pub employer: usize,
    /// Job title.
    pub title: String,
    /// Company name.
    pub company: String,
    /// Location ("Remote" is one).
    pub location: String,
    /// Comma-separated tags.
    pub tags: String,
    /// Markdown description.
    pub description: String,
    /// Salary currency ("" when no salary is given).
    pub salary_currency: String,
    /// Lowest salary, 0 when not disclosed.
    pub salary_min: u64,
    /// Highest salary, 0 when not disclosed.
    pub salary_max: u64,
    /// Application deadline in days after seeding; 0 for none.
    pub deadline_days: u64,
}

#[derive(Debug, Deserialize)]
struct PostingsFile {
    employers: Vec<DemoEmployer>,
    jobs: Vec<DemoPosting>,
}

/// A step of the demo after the postings and the first round of applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoStep {
    /// The job's employer sets the status of an applicant's application to the job.
    Status {
        /// Job index (0-based: job id − 1).
        job: usize,
        /// Applicant index.
        applicant: usize,
        /// The new status.
        status: ApplicationStatus,
    },
    /// The employer of `job` rejects several applications in one `setApplicationStatusBatch`.
    RejectBatch {
        /// Job index.
        job: usize,
        /// Applicant indexes.
        applicants: [usize; 2],
    },
    /// The applicant withdraws their application to the job.
    Withdraw {
        /// Job index.
        job: usize,
        /// Applicant index.
        applicant: usize,
    },
    /// The applicant applies again after withdrawing (a new application id).
    Reapply {
        /// Job index.
        job: usize,
        /// Applicant index.
        applicant: usize,
    },
    /// The employer raises the salary and adds a line to the description.
    Update {
        /// Job index.
        job: usize,
    },
    /// The employer closes the job.
    Close {
        /// Job index.
        job: usize,
    },
}

/// Three queries a newcomer can paste into GraphiQL once the demo is up (printed by
/// `jobboard dev`, shown in the README, and run by the tests against the demo).
pub const EXAMPLE_QUERIES: [(&str, &str); 3] = [
    (
        "The five newest open jobs, with their employer and how many applied",
        r#"{
  jobs(first: 5, where: { status: OPEN }) {
    totalCount
    nodes {
      id title company location tags salaryCurrency salaryMin salaryMax applicationCount
      employer { address openJobCount }
    }
  }
}"#,
    ),
    (
        "Full-text search over every posting",
        r#"{
  jobs(search: "rust postgres", first: 3) {
    nodes { id title company tags }
  }
}"#,
    ),
    (
        "A job with its applications, their status history and the posting's revisions",
        r#"{
  job(id: "1") {
    title status closedAt
    applications(first: 5) {
      totalCount
      nodes { id status applicant { address } history { status blockNumber } }
    }
    revisions { title salaryMin salaryMax }
  }
}"#,
    ),
];

/// [`EXAMPLE_QUERIES`] for an API serving several chains: the lookup names `chain_id` (lists
/// merge the chains and need none).
pub fn example_queries_on(chain_id: u64) -> Vec<(&'static str, String)> {
    EXAMPLE_QUERIES
        .iter()
        .map(|(title, query)| {
            (*title, query.replace("job(id: ", &format!("job(chainId: \"{chain_id}\", id: ")))
        })
        .collect()
}

/// Number of demo applicants (anvil accounts after the employers').
pub const APPLICANTS: usize = 4;

/// The demo's steps after the postings and first applications, in order.
pub const STEPS: [DemoStep; 16] = [
    DemoStep::Status { job: 0, applicant: 0, status: ApplicationStatus::Shortlisted },
    DemoStep::Status { job: 0, applicant: 1, status: ApplicationStatus::Shortlisted },
    DemoStep::Status { job: 1, applicant: 0, status: ApplicationStatus::Shortlisted },
    DemoStep::Status { job: 4, applicant: 0, status: ApplicationStatus::Shortlisted },
    DemoStep::Status { job: 6, applicant: 1, status: ApplicationStatus::Shortlisted },
    DemoStep::Status { job: 9, applicant: 0, status: ApplicationStatus::Shortlisted },
    DemoStep::Status { job: 0, applicant: 3, status: ApplicationStatus::Rejected },
    DemoStep::Status { job: 1, applicant: 3, status: ApplicationStatus::Rejected },
    DemoStep::Status { job: 2, applicant: 2, status: ApplicationStatus::Rejected },
    DemoStep::Status { job: 5, applicant: 1, status: ApplicationStatus::Rejected },
    DemoStep::RejectBatch { job: 7, applicants: [0, 3] },
    DemoStep::Status { job: 0, applicant: 0, status: ApplicationStatus::Hired },
    DemoStep::Withdraw { job: 3, applicant: 1 },
    DemoStep::Reapply { job: 3, applicant: 1 },
    DemoStep::Update { job: 2 },
    DemoStep::Close { job: 0 },
];

/// Whether `applicant` applies to `job` in the first round: about two thirds of the pairs,
/// so jobs get two or three applications each.
pub fn applies(job: usize, applicant: usize) -> bool {
    (job + applicant) % 3 != 2
}

/// The whole demo: who posts what, who applies where, what happens next.
#[derive(Debug, Clone)]
pub struct DemoPlan {
    /// The companies.
    pub employers: Vec<DemoEmployer>,
    /// The postings; job id = index + 1.
    pub jobs: Vec<DemoPosting>,
}

impl DemoPlan {
    /// The committed plan.
    ///
    /// # Errors
    /// [`DemoError::Postings`] if the postings file is malformed or inconsistent.
    pub fn load() -> Result<DemoPlan, DemoError> {
        let file: PostingsFile =
            serde_json::from_str(POSTINGS_JSON).map_err(|e| DemoError::Postings(e.to_string()))?;
        if let Some((index, job)) = file.jobs.iter().enumerate().find(|(_, job)| {
            file.employers.get(job.employer).is_none_or(|employer| employer.company != job.company)
        }) {
            return Err(DemoError::Postings(format!(
                "job {index} ({}) names employer {} whose company differs",
                job.title, job.employer
            )));
        }
        Ok(DemoPlan { employers: file.employers, jobs: file.jobs })
    }

    /// The first round of applications as (job index, applicant index), in the order sent,
    /// so application id = position + 1. Re-applications come later, from [`STEPS`].
    pub fn applications(&self) -> Vec<(usize, usize)> {
        (0..self.jobs.len())
            .flat_map(|job| (0..APPLICANTS).filter(move |&a| applies(job, a)).map(move |a| (job, a)))
            .collect()
    }

    /// Dev accounts the plan uses: the deployer, one per employer, the applicants.
    pub fn accounts_needed(&self) -> usize {
        1 + self.employers.len() + APPLICANTS
    }
}

/// The demo's document of one applicant: a short markdown CV.
pub fn cv(applicant: usize) -> String {
    const PEOPLE: [(&str, &str); APPLICANTS] = [
        ("Ada Moreau", "Backend engineer, 8 years of Rust, Go and PostgreSQL."),
        ("Bilal Haddad", "Smart-contract engineer: Solidity, Foundry, two audits shipped."),
        ("Chen Wei", "Product designer turned frontend engineer: React, TypeScript, design systems."),
        ("Dana Okafor", "Developer advocate and technical writer; ran a 40k-member community."),
    ];
    let (name, summary) = PEOPLE[applicant % APPLICANTS];
    format!("# {name}\n\n{summary}\n\nReferences available on request.\n")
}

/// The demo's salt for an application: derived, so a re-seeded demo is identical. Real
/// applicants draw 32 random bytes (`jobboard application submit` does).
pub fn demo_salt(job: usize, applicant: usize, attempt: usize) -> B256 {
    keccak256(format!("jobboard demo salt {job} {applicant} {attempt}"))
}

/// One seeded application, with what an employer needs to verify it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeededApplication {
    /// The application id.
    pub application_id: u64,
    /// The job id.
    pub job_id: u64,
    /// The applicant's address.
    pub applicant: Address,
    /// The document's file, relative to the demo directory.
    pub document: String,
    /// The salt the applicant kept.
    pub salt: B256,
}

/// What seeding produced.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// Transactions sent.
    pub transactions: usize,
    /// The last block the demo's transactions landed in.
    pub last_block: u64,
    /// Every application, in id order.
    pub applications: Vec<SeededApplication>,
}

/// Sends the demo's transactions to `board` through an anvil whose unlocked dev accounts are
/// `accounts` (deployer first), and writes each applicant's CV plus `applications.json` (the
/// salts) into `documents_dir`, so `jobboard application verify` can be tried on them.
///
/// # Errors
/// [`DemoError`] naming the step that failed.
pub async fn seed(
    provider: &RootProvider,
    board: Address,
    chain_id: u64,
    accounts: &[Address],
    documents_dir: &Path,
) -> Result<Seeded, DemoError> {
    let plan = DemoPlan::load()?;
    if accounts.len() < plan.accounts_needed() {
        return Err(DemoError::NotEnoughAccounts { needed: plan.accounts_needed(), found: accounts.len() });
    }
    let employer_of = |job: usize| accounts[1 + plan.jobs[job].employer];
    let applicant = |a: usize| accounts[1 + plan.employers.len() + a];
    let mut sender = Sender { provider, board, sent: 0, last_block: 0 };

    let now = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| node_error("reading the latest block", e))?
        .map_or(0, |block| block.header.timestamp);
    for (index, job) in plan.jobs.iter().enumerate() {
        let call = JobBoard::postJobCall { posting: posting(job, now) };
        sender.send(employer_of(index), call.abi_encode(), || format!("posting job {}", index + 1)).await?;
    }

    std::fs::create_dir_all(documents_dir).map_err(|source| io_error(documents_dir, source))?;
    let mut applications = Vec::new();
    let mut ids = std::collections::HashMap::new();
    for (job, a) in plan.applications() {
        let id = sender.apply(&mut applications, job, a, 0, applicant(a), chain_id).await?;
        ids.insert((job, a), id);
    }
    let id_of = |ids: &std::collections::HashMap<(usize, usize), u64>, job: usize, a: usize| {
        ids.get(&(job, a)).copied().ok_or_else(|| {
            DemoError::Postings(format!(
                "the plan acts on applicant {a}'s application to job {}, which it never sends",
                job + 1
            ))
        })
    };
    for step in STEPS {
        match step {
            DemoStep::Status { job, applicant: a, status } => {
                let id = id_of(&ids, job, a)?;
                let call = JobBoard::setApplicationStatusCall {
                    applicationId: U256::from(id),
                    status: status as u8,
                };
                sender
                    .send(employer_of(job), call.abi_encode(), || {
                        format!("setting application {id} to {status:?}")
                    })
                    .await?;
            }
            DemoStep::RejectBatch { job, applicants } => {
                let ids = applicants
                    .iter()
                    .map(|&a| id_of(&ids, job, a).map(U256::from))
                    .collect::<Result<Vec<_>, _>>()?;
                let call = JobBoard::setApplicationStatusBatchCall {
                    applicationIds: ids,
                    status: ApplicationStatus::Rejected as u8,
                };
                sender
                    .send(employer_of(job), call.abi_encode(), || {
                        format!("rejecting a batch on job {}", job + 1)
                    })
                    .await?;
            }
            DemoStep::Withdraw { job, applicant: a } => {
                let id = id_of(&ids, job, a)?;
                let call = JobBoard::withdrawApplicationCall { applicationId: U256::from(id) };
                sender
                    .send(applicant(a), call.abi_encode(), || format!("withdrawing application {id}"))
                    .await?;
            }
            DemoStep::Reapply { job, applicant: a } => {
                let id = sender.apply(&mut applications, job, a, 1, applicant(a), chain_id).await?;
                ids.insert((job, a), id);
            }
            DemoStep::Update { job } => {
                let mut updated = posting(&plan.jobs[job], now);
                updated.salaryMin += 10_000;
                updated.salaryMax += 10_000;
                updated.description.push_str("\n\n**Update:** the salary range is now 10k higher.");
                let call = JobBoard::updateJobCall { jobId: U256::from(job + 1), posting: updated };
                sender
                    .send(employer_of(job), call.abi_encode(), || format!("updating job {}", job + 1))
                    .await?;
            }
            DemoStep::Close { job } => {
                let call = JobBoard::closeJobCall { jobId: U256::from(job + 1) };
                sender
                    .send(employer_of(job), call.abi_encode(), || format!("closing job {}", job + 1))
                    .await?;
            }
        }
    }

    for a in 0..APPLICANTS {
        let path = documents_dir.join(format!("cv-{a}.md"));
        std::fs::write(&path, cv(a)).map_err(|source| io_error(&path, source))?;
    }
    let path = documents_dir.join("applications.json");
    let json = serde_json::to_string_pretty(&applications).map_err(|e| DemoError::Postings(e.to_string()))?;
    std::fs::write(&path, json).map_err(|source| io_error(&path, source))?;
    Ok(Seeded { transactions: sender.sent, last_block: sender.last_block, applications })
}

/// The contract's posting for a demo posting, with the deadline counted from `now`.
fn posting(job: &DemoPosting, now: u64) -> JobBoard::Posting {
    JobBoard::Posting {
        title: job.title.clone(),
        company: job.company.clone(),
        location: job.location.clone(),
        tags: job.tags.clone(),
        description: job.description.clone(),
        salaryCurrency: job.salary_currency.clone(),
        salaryMin: job.salary_min,
        salaryMax: job.salary_max,
        deadline: if job.deadline_days == 0 { 0 } else { now + job.deadline_days * DAY },
    }
}

/// Sends transactions one at a time from unlocked accounts and waits for each to be mined.
struct Sender<'a> {
    provider: &'a RootProvider,
    board: Address,
    sent: usize,
    last_block: u64,
}

impl Sender<'_> {
    async fn send(
        &mut self,
        from: Address,
        calldata: Vec<u8>,
        action: impl Fn() -> String,
    ) -> Result<(), DemoError> {
        let tx = TransactionRequest::default()
            .with_from(from)
            .with_to(self.board)
            .with_input(calldata)
            .with_gas_limit(1_000_000);
        let pending = self.provider.send_transaction(tx).await.map_err(|e| node_error(&action(), e))?;
        let tx_hash = *pending.tx_hash();
        // anvil mines on arrival; poll briefly rather than alloy's interval-based watcher.
        let deadline = Instant::now() + Duration::from_secs(30);
        let receipt = loop {
            match self.provider.get_transaction_receipt(tx_hash).await {
                Ok(Some(receipt)) => break receipt,
                Ok(None) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(2)).await,
                Ok(None) => {
                    return Err(DemoError::Node {
                        action: action(),
                        message: format!("{tx_hash} not mined within 30 s: is the node automining?"),
                    });
                }
                Err(e) => return Err(node_error(&action(), e)),
            }
        };
        if !receipt.status() {
            return Err(DemoError::Reverted { action: action(), tx_hash });
        }
        self.sent += 1;
        self.last_block = self.last_block.max(receipt.block_number.unwrap_or_default());
        Ok(())
    }

    /// Applies with the applicant's CV and a derived salt; returns the new application id
    /// (the count of applications so far, ids being sequential from 1).
    async fn apply(
        &mut self,
        applications: &mut Vec<SeededApplication>,
        job: usize,
        a: usize,
        attempt: usize,
        from: Address,
        chain_id: u64,
    ) -> Result<u64, DemoError> {
        let salt = demo_salt(job, a, attempt);
        let commitment = ApplicationCommitment {
            chain_id,
            board: self.board,
            job_id: U256::from(job + 1),
            applicant: from,
            salt,
            document_hash: document_hash(cv(a).as_bytes()),
        };
        let call = JobBoard::applyToCall {
            jobId: U256::from(job + 1),
            applicationHash: commitment.application_hash(),
        };
        self.send(from, call.abi_encode(), || format!("applicant {a} applying to job {}", job + 1)).await?;
        let application_id = applications.len() as u64 + 1;
        applications.push(SeededApplication {
            application_id,
            job_id: job as u64 + 1,
            applicant: from,
            document: format!("cv-{a}.md"),
            salt,
        });
        Ok(application_id)
    }
}

fn node_error(action: &str, error: impl std::fmt::Display) -> DemoError {
    DemoError::Node { action: action.to_owned(), message: error.to_string() }
}

fn io_error(path: &Path, source: std::io::Error) -> DemoError {
    DemoError::Io { path: path.display().to_string(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays the plan on a model of the contract's rules: every step must be legal, or the
    /// seeding would revert half-way.
    #[test]
    fn every_step_of_the_plan_is_legal() {
        let plan = DemoPlan::load().expect("the committed postings parse");
        assert_eq!(plan.employers.len(), 5);
        assert_eq!(plan.jobs.len(), 30);
        let mut status: std::collections::HashMap<(usize, usize), ApplicationStatus> =
            plan.applications().into_iter().map(|pair| (pair, ApplicationStatus::Submitted)).collect();
        assert_eq!(status.len(), 80);
        let mut closed = std::collections::HashSet::new();
        for step in STEPS {
            match step {
                DemoStep::Status { job, applicant, status: to } => {
                    let from = status[&(job, applicant)];
                    assert!(from.employer_may_set(to), "{step:?}: {from:?} -> {to:?}");
                    status.insert((job, applicant), to);
                }
                DemoStep::RejectBatch { job, applicants } => {
                    for a in applicants {
                        assert!(status[&(job, a)].employer_may_set(ApplicationStatus::Rejected), "{step:?}");
                        status.insert((job, a), ApplicationStatus::Rejected);
                    }
                }
                DemoStep::Withdraw { job, applicant } => {
                    let from = status[&(job, applicant)];
                    assert!(
                        matches!(from, ApplicationStatus::Submitted | ApplicationStatus::Shortlisted),
                        "{step:?}"
                    );
                    status.insert((job, applicant), ApplicationStatus::Withdrawn);
                }
                DemoStep::Reapply { job, applicant } => {
                    assert_eq!(status[&(job, applicant)], ApplicationStatus::Withdrawn, "{step:?}");
                    assert!(!closed.contains(&job));
                }
                DemoStep::Update { job } => {
                    assert!(!closed.contains(&job) && plan.jobs[job].salary_max > 0, "{step:?}");
                }
                DemoStep::Close { job } => assert!(closed.insert(job), "{step:?}"),
            }
        }
    }

    #[test]
    fn postings_respect_the_contract_limits() {
        let plan = DemoPlan::load().expect("the committed postings parse");
        for job in &plan.jobs {
            assert!((1..=200).contains(&job.title.len()), "{}", job.title);
            assert!(job.company.len() <= 100 && job.location.len() <= 100 && job.tags.len() <= 200);
            assert!(job.description.len() <= 4096 - 64, "{}: room for the update's line", job.title);
            assert!(job.salary_currency.len() <= 12);
            assert!(job.salary_max == 0 || job.salary_min <= job.salary_max, "{}", job.title);
            assert!(job.salary_min == 0 && job.salary_max == 0 || !job.salary_currency.is_empty());
        }
    }
}
