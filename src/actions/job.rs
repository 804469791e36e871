//! `jobboard job post | update | close`: the employer's transactions.

use alloy::primitives::U256;

use super::ActionError;
use super::args::{JobArgs, JobCloseArgs, JobCommand, JobPostArgs, JobUpdateArgs};
use super::output::{self, JobClosed, JobPosted, JobUpdated, Mined};
use super::posting::{PostingError, PostingInput, check_deadline, validate_fields};
use super::revert::describe_revert;
use super::session::{Sent, Session, call_error};
use crate::contract::{BoardEvent, JobBoard};

/// Runs one `jobboard job` command and prints its result.
///
/// # Errors
/// [`ActionError`], with a message that names the flag or the contract's reason.
pub async fn run_job(args: JobArgs) -> Result<(), ActionError> {
    match args.command {
        JobCommand::Post(args) => post(args).await,
        JobCommand::Update(args) => update(args).await,
        JobCommand::Close(args) => close(args).await,
    }
}

async fn post(args: JobPostArgs) -> Result<(), ActionError> {
    // Everything that can be checked without the node is checked before connecting.
    let posting = PostingInput::from_args(&args.posting)?.into_new_posting();
    validate_fields(&posting)?;
    let session = Session::connect(&args.send.board, Some(&args.send.signer)).await?;
    check_deadline(posting.deadline, session.chain_time().await?)?;
    let sent = session.send(session.board.postJob(posting)).await?;
    let (job_id, employer) = sent
        .events
        .iter()
        .find_map(|event| match *event {
            BoardEvent::JobPosted { job_id, employer, .. } => Some((job_id, employer)),
            _ => None,
        })
        .ok_or_else(|| missing_event(&sent, "JobPosted"))?;
    output::print(&JobPosted { job_id, employer, mined: Mined::from(&sent) }, args.send.board.json)
}

async fn update(args: JobUpdateArgs) -> Result<(), ActionError> {
    let input = PostingInput::from_args(&args.posting)?;
    if input.is_empty() {
        return Err(PostingError::NothingToUpdate.into());
    }
    let session = Session::connect(&args.send.board, Some(&args.send.signer)).await?;
    let job_id = U256::from(args.id);
    // Checked here as the contract would, so that the posting is not searched for in vain.
    let job = session.board.getJob(job_id).call().await.map_err(|e| call_error("getJob", e))?;
    let caller = session.sender()?;
    let refusal = if job.employer != caller {
        Some(JobBoard::JobBoardErrors::NotJobEmployer(JobBoard::NotJobEmployer {
            jobId: job_id,
            caller,
            employer: job.employer,
        }))
    } else if job.closed {
        Some(JobBoard::JobBoardErrors::JobAlreadyClosed(JobBoard::JobAlreadyClosed { jobId: job_id }))
    } else {
        None
    };
    if let Some(error) = refusal {
        return Err(ActionError::Refused { operation: "updateJob", reason: describe_revert(&error) });
    }
    // The posting is searched for from the board's deploy block: --start-block, else the
    // boards file's start_block, else the chain's first block.
    let start_block = args.start_block.or(session.start_block).unwrap_or(0);
    let current = session.current_posting(args.id, start_block).await?;
    let (posting, changed) = input.apply_to(&current)?;
    validate_fields(&posting)?;
    check_deadline(posting.deadline, session.chain_time().await?)?;
    let sent = session.send(session.board.updateJob(job_id, posting)).await?;
    if !sent.events.iter().any(|e| matches!(e, BoardEvent::JobUpdated { .. })) {
        return Err(missing_event(&sent, "JobUpdated"));
    }
    let report = JobUpdated { job_id: args.id, changed, mined: Mined::from(&sent) };
    output::print(&report, args.send.board.json)
}

async fn close(args: JobCloseArgs) -> Result<(), ActionError> {
    let session = Session::connect(&args.send.board, Some(&args.send.signer)).await?;
    let sent = session.send(session.board.closeJob(U256::from(args.id))).await?;
    if !sent.events.iter().any(|e| matches!(e, BoardEvent::JobClosed { .. })) {
        return Err(missing_event(&sent, "JobClosed"));
    }
    output::print(&JobClosed { job_id: args.id, mined: Mined::from(&sent) }, args.send.board.json)
}

/// A successful transaction without the event the function always emits.
pub(crate) fn missing_event(sent: &Sent, event: &str) -> ActionError {
    ActionError::Malformed(format!("transaction {} succeeded but emitted no {event}", sent.tx_hash))
}
