//! `jobboard application submit | withdraw | status | verify`.
//!
//! Submitting commits to a private document with a random salt and keeps a receipt beside the
//! document (`<document>.jobboard.json`, see [`super::receipt`]), written before the
//! transaction is sent, holding everything needed to verify it later; verifying recomputes the
//! commitment from the document and salt and compares it with the application's hash on-chain.

use std::path::Path;

use alloy::primitives::{B256, U256};

use super::ActionError;
use super::args::{ApplicationArgs, ApplicationCommand, StatusArgs, SubmitArgs, VerifyArgs, WithdrawArgs};
use super::job::missing_event;
use super::output::{self, ApplicationSubmitted, ApplicationWithdrawn, Mined, StatusSet, Verification};
use super::receipt::{OnChain, Receipt, ReceiptFile, ReceiptStatus, receipts_beside};
use super::session::{Session, call_error};
use crate::contract::{ApplicationCommitment, ApplicationStatus, BoardEvent, document_hash};

/// The outcome of an application command, for the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The command did what it was asked (for `verify`: the document and salt match).
    Done,
    /// `verify` found that the document and salt do not give the on-chain hash.
    Mismatch,
}

/// Runs one `jobboard application` command and prints its result.
///
/// # Errors
/// [`ActionError`], with a message that names the flag or the contract's reason.
pub async fn run_application(args: ApplicationArgs) -> Result<Verdict, ActionError> {
    match args.command {
        ApplicationCommand::Submit(args) => submit(args).await.map(|()| Verdict::Done),
        ApplicationCommand::Withdraw(args) => withdraw(args).await.map(|()| Verdict::Done),
        ApplicationCommand::Status(args) => set_status(args).await.map(|()| Verdict::Done),
        ApplicationCommand::Verify(args) => verify(args).await,
    }
}

fn read_document(path: &Path) -> Result<Vec<u8>, ActionError> {
    std::fs::read(path).map_err(|source| ActionError::File { action: "read", path: path.to_owned(), source })
}

/// The salt to commit with: from `--salt-file`, from `--salt` (with a warning), or drawn at
/// random.
fn submit_salt(args: &SubmitArgs) -> Result<B256, ActionError> {
    match (&args.salt_file, args.salt) {
        (Some(path), _) => read_salt_file(path),
        (None, Some(salt)) => {
            warn_salt_on_command_line();
            Ok(salt)
        }
        (None, None) => B256::try_random().map_err(|e| ActionError::Random(e.to_string())),
    }
}

fn warn_salt_on_command_line() {
    eprintln!(
        "warning: --salt on the command line is visible to other local users in process listings and \
         is kept in shell history; use --salt-file FILE instead"
    );
}

/// Reads a salt (0x + 64 hex digits, surrounding whitespace ignored) from a file.
fn read_salt_file(path: &Path) -> Result<B256, ActionError> {
    let text = std::fs::read_to_string(path).map_err(|source| ActionError::File {
        action: "read the salt file",
        path: path.to_owned(),
        source,
    })?;
    text.trim().parse().map_err(|_| ActionError::BadSaltFile { path: path.to_owned() })
}

async fn submit(args: SubmitArgs) -> Result<(), ActionError> {
    let document_hash = document_hash(&read_document(&args.document)?);
    let salt = submit_salt(&args)?;
    let session = Session::connect(&args.send.board, Some(&args.send.signer)).await?;
    let applicant = session.sender()?;
    let board = *session.board.address();
    let commitment = ApplicationCommitment {
        chain_id: session.chain_id,
        board,
        job_id: U256::from(args.job),
        applicant,
        salt,
        document_hash,
    };
    let application_hash = commitment.application_hash();
    // The salt reaches the disk before the transaction reaches the node: whatever happens
    // next, an application that may exist can be verified.
    let mut receipt = ReceiptFile::create(
        &args.document,
        Receipt {
            status: ReceiptStatus::Pending,
            chain_id: session.chain_id,
            board,
            job_id: args.job,
            application_id: None,
            applicant,
            salt,
            document_hash,
            application_hash,
            tx_hash: None,
            block: None,
        },
    )?;
    let mut accepted = false;
    let outcome = session
        .send_noting(session.board.applyTo(commitment.job_id, application_hash), |tx_hash| {
            accepted = true;
            if let Err(error) = receipt.update(|r| r.tx_hash = Some(tx_hash)) {
                eprintln!(
                    "warning: {error}; the receipt keeps the salt but not the transaction hash {tx_hash}"
                );
            }
        })
        .await;
    let sent = match outcome {
        Ok(sent) => sent,
        // The node answered "no" before accepting it: no application can exist.
        Err(error) if !accepted && !matches!(error, ActionError::Call { transient: true, .. }) => {
            receipt.discard();
            return Err(error);
        }
        // Sent (or perhaps sent) but not confirmed: the application may exist, and its salt
        // is in the pending receipt.
        Err(error) => {
            return Err(ActionError::ApplicationPending {
                salt,
                receipt: receipt.path,
                source: Box::new(error),
            });
        }
    };
    let application_id = sent.events.iter().find_map(|event| match *event {
        BoardEvent::ApplicationSubmitted { application_id, .. } => Some(application_id),
        _ => None,
    });
    let Some(application_id) = application_id else {
        return Err(ActionError::ApplicationPending {
            salt,
            receipt: receipt.path,
            source: Box::new(missing_event(&sent, "ApplicationSubmitted")),
        });
    };
    let completed = receipt.update(|r| {
        r.status = ReceiptStatus::Mined;
        r.application_id = Some(application_id);
        r.tx_hash = Some(sent.tx_hash);
        r.block = Some(sent.block);
    });
    if let Err(error) = &completed {
        eprintln!(
            "warning: {error}: {}; it still holds the salt, marked pending",
            std::error::Error::source(error).map(ToString::to_string).unwrap_or_default()
        );
    }
    let report = ApplicationSubmitted {
        application_id,
        job_id: args.job,
        applicant,
        salt,
        document_hash,
        application_hash,
        receipt_file: Some(receipt.path.clone()),
        mined: Mined::from(&sent),
    };
    output::print(&report, args.send.board.json)?;
    eprintln!(
        "warning: keep the salt {salt} and hand it to the employer together with {} (these exact bytes): \
         without it the application cannot be verified. It is saved in {} (mode 0600).",
        args.document.display(),
        receipt.path.display()
    );
    Ok(())
}

async fn withdraw(args: WithdrawArgs) -> Result<(), ActionError> {
    let session = Session::connect(&args.send.board, Some(&args.send.signer)).await?;
    let sent = session.send(session.board.withdrawApplication(U256::from(args.id))).await?;
    let job_id = sent
        .events
        .iter()
        .find_map(|event| match *event {
            BoardEvent::ApplicationStatusChanged { job_id, status: ApplicationStatus::Withdrawn, .. } => {
                Some(job_id)
            }
            _ => None,
        })
        .ok_or_else(|| missing_event(&sent, "ApplicationStatusChanged"))?;
    let report = ApplicationWithdrawn {
        application_id: args.id,
        job_id,
        status: ApplicationStatus::Withdrawn.name(),
        mined: Mined::from(&sent),
    };
    output::print(&report, args.send.board.json)
}

async fn set_status(args: StatusArgs) -> Result<(), ActionError> {
    // A repeated id would make the batch revert on its own second transition.
    let mut ids: Vec<u64> = Vec::with_capacity(args.ids.len());
    for id in args.ids {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let session = Session::connect(&args.send.board, Some(&args.send.signer)).await?;
    let status = u8::from(crate::contract::JobBoard::ApplicationStatus::from(args.status));
    let sent = match ids.as_slice() {
        [id] => session.send(session.board.setApplicationStatus(U256::from(*id), status)).await?,
        many => {
            let batch = many.iter().map(|id| U256::from(*id)).collect();
            session.send(session.board.setApplicationStatusBatch(batch, status)).await?
        }
    };
    let changed =
        sent.events.iter().filter(|e| matches!(e, BoardEvent::ApplicationStatusChanged { .. })).count();
    if changed != ids.len() {
        return Err(ActionError::Malformed(format!(
            "transaction {} changed {changed} applications, not {}",
            sent.tx_hash,
            ids.len()
        )));
    }
    let report = StatusSet { application_ids: ids, status: args.status.name(), mined: Mined::from(&sent) };
    output::print(&report, args.send.board.json)
}

async fn verify(args: VerifyArgs) -> Result<Verdict, ActionError> {
    let document = read_document(&args.document)?;
    let document_hash = document_hash(&document);
    let session = Session::connect(&args.board, None).await?;
    let board = *session.board.address();
    let application = session
        .board
        .getApplication(U256::from(args.id))
        .call()
        .await
        .map_err(|e| call_error("getApplication", e))?;

    // The receipt of this application on this board, if one lies beside the document: a
    // mined one by its id, a pending one (the submitter stopped before the mining) by its
    // commitment.
    let on_chain = OnChain {
        job_id: application.jobId,
        applicant: application.applicant,
        application_hash: application.applicationHash,
    };
    let receipt = receipts_beside(&args.document)
        .into_iter()
        .find(|(_, r)| r.describes(session.chain_id, board, args.id, &on_chain));
    let (salt, salt_from) = match (&args.salt_file, args.salt, &receipt) {
        (Some(path), _, _) => (read_salt_file(path)?, path.display().to_string()),
        (None, Some(salt), _) => {
            warn_salt_on_command_line();
            (salt, "--salt".to_owned())
        }
        (None, None, Some((path, r))) => (r.salt, path.display().to_string()),
        (None, None, None) => {
            return Err(ActionError::NoSalt { application_id: args.id, document: args.document });
        }
    };
    let commitment = ApplicationCommitment {
        chain_id: session.chain_id,
        board,
        job_id: U256::from(application.jobId),
        applicant: application.applicant,
        salt,
        document_hash,
    };
    let computed_hash = commitment.application_hash();
    let verified = computed_hash == application.applicationHash;
    let note = match &receipt {
        Some((path, r)) if !verified && r.document_hash != document_hash => Some(format!(
            "the document's sha256 differs from the one recorded in {} ({}): the document is not the one submitted",
            path.display(),
            r.document_hash
        )),
        Some((path, r)) if !verified && r.salt != salt => {
            Some(format!("the salt differs from the one recorded in {}", path.display()))
        }
        _ => None,
    };
    let status = ApplicationStatus::try_from(application.status).map_or("unknown", ApplicationStatus::name);
    let report = Verification {
        verified,
        application_id: args.id,
        job_id: application.jobId,
        applicant: application.applicant,
        status,
        on_chain_hash: application.applicationHash,
        computed_hash,
        document_hash,
        salt_from,
        note,
        document: args.document,
    };
    output::print(&report, args.board.json)?;
    Ok(if verified { Verdict::Done } else { Verdict::Mismatch })
}
