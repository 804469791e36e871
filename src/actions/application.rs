//! `jobboard application submit | withdraw | status | verify`.
//!
//! Submitting commits to a private document with a random salt and keeps a receipt file
//! beside the document (`<document>.jobboard.json`) holding everything needed to verify it
//! later; verifying recomputes the commitment from the document and salt and compares it with
//! the application's hash on-chain.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, TxHash, U256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ActionError;
use super::args::{ApplicationArgs, ApplicationCommand, StatusArgs, SubmitArgs, VerifyArgs, WithdrawArgs};
use super::job::missing_event;
use super::output::{self, ApplicationSubmitted, ApplicationWithdrawn, Mined, StatusSet, Verification};
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

/// The receipt file written beside a submitted document: everything needed to verify the
/// application, so the salt is not lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Receipt {
    chain_id: u64,
    board: Address,
    #[serde(serialize_with = "to_decimal", deserialize_with = "from_decimal")]
    job_id: u64,
    #[serde(serialize_with = "to_decimal", deserialize_with = "from_decimal")]
    application_id: u64,
    applicant: Address,
    salt: B256,
    document_hash: B256,
    application_hash: B256,
    tx_hash: TxHash,
    block: u64,
}

impl Receipt {
    /// Whether both describe the same application (same chain, board and id).
    fn same_application(&self, other: &Receipt) -> bool {
        (self.chain_id, self.board, self.application_id)
            == (other.chain_id, other.board, other.application_id)
    }
}

fn to_decimal<S: Serializer>(id: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

fn from_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    match Id::deserialize(deserializer)? {
        Id::Number(n) => Ok(n),
        Id::Text(text) => text.parse().map_err(serde::de::Error::custom),
    }
}

/// `cv.pdf` -> `cv.pdf.jobboard.json`, or `cv.pdf.jobboard-<id>.json` when the first one
/// belongs to another application.
fn receipt_path(document: &Path, application_id: Option<u64>) -> PathBuf {
    let mut name = document.as_os_str().to_owned();
    match application_id {
        None => name.push(".jobboard.json"),
        Some(id) => name.push(format!(".jobboard-{id}.json")),
    }
    PathBuf::from(name)
}

fn read_receipt(path: &Path) -> Option<Receipt> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Writes the receipt beside the document without overwriting another application's receipt.
fn write_receipt(document: &Path, receipt: &Receipt) -> Result<PathBuf, ActionError> {
    let mut json = serde_json::to_vec_pretty(receipt)
        .map_err(|e| ActionError::Malformed(format!("cannot encode the receipt: {e}")))?;
    json.push(b'\n');
    for path in [receipt_path(document, None), receipt_path(document, Some(receipt.application_id))] {
        let file = OpenOptions::new().write(true).create_new(true).open(&path);
        match file {
            Ok(mut file) => {
                file.write_all(&json).and_then(|()| file.sync_all()).map_err(|source| ActionError::File {
                    action: "write",
                    path: path.clone(),
                    source,
                })?;
                return Ok(path);
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                if read_receipt(&path).is_some_and(|existing| existing.same_application(receipt)) {
                    std::fs::write(&path, &json).map_err(|source| ActionError::File {
                        action: "write",
                        path: path.clone(),
                        source,
                    })?;
                    return Ok(path);
                }
            }
            Err(source) => return Err(ActionError::File { action: "write", path, source }),
        }
    }
    let path = receipt_path(document, Some(receipt.application_id));
    Err(ActionError::File {
        action: "write",
        path,
        source: std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "a receipt of another application is there",
        ),
    })
}

fn read_document(path: &Path) -> Result<Vec<u8>, ActionError> {
    std::fs::read(path).map_err(|source| ActionError::File { action: "read", path: path.to_owned(), source })
}

async fn submit(args: SubmitArgs) -> Result<(), ActionError> {
    let document_hash = document_hash(&read_document(&args.document)?);
    let salt = match args.salt {
        Some(salt) => salt,
        None => B256::try_random().map_err(|e| ActionError::Random(e.to_string()))?,
    };
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
    let sent = match session.send(session.board.applyTo(commitment.job_id, application_hash)).await {
        Ok(sent) => sent,
        // Sent but not confirmed, or mined with an answer we cannot read: the application may
        // exist, so its salt must survive.
        Err(
            error @ (ActionError::NotMined { .. }
            | ActionError::Malformed(_)
            | ActionError::Call { operation: "eth_getTransactionReceipt", .. }),
        ) => {
            return Err(ActionError::ApplicationPending { salt, source: Box::new(error) });
        }
        Err(error) => return Err(error),
    };
    let application_id = sent
        .events
        .iter()
        .find_map(|event| match *event {
            BoardEvent::ApplicationSubmitted { application_id, .. } => Some(application_id),
            _ => None,
        })
        .ok_or_else(|| ActionError::ApplicationPending {
            salt,
            source: Box::new(missing_event(&sent, "ApplicationSubmitted")),
        })?;
    let receipt = Receipt {
        chain_id: session.chain_id,
        board,
        job_id: args.job,
        application_id,
        applicant,
        salt,
        document_hash,
        application_hash,
        tx_hash: sent.tx_hash,
        block: sent.block,
    };
    let receipt_file = match write_receipt(&args.document, &receipt) {
        Ok(path) => Some(path),
        Err(error) => {
            eprintln!(
                "warning: {error}: {}",
                std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default()
            );
            None
        }
    };
    let report = ApplicationSubmitted {
        application_id,
        job_id: args.job,
        applicant,
        salt,
        document_hash,
        application_hash,
        receipt_file: receipt_file.clone(),
        mined: Mined::from(&sent),
    };
    output::print(&report, args.send.board.json)?;
    let saved = receipt_file.map_or_else(
        || "It was NOT saved anywhere: copy it now.".to_owned(),
        |path| format!("It is saved in {}.", path.display()),
    );
    eprintln!(
        "warning: keep the salt {salt} and hand it to the employer together with {} (these exact bytes): \
         without it the application cannot be verified. {saved}",
        args.document.display()
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

    // The receipt file of this application on this board, if one lies beside the document.
    let receipt = [receipt_path(&args.document, Some(args.id)), receipt_path(&args.document, None)]
        .into_iter()
        .filter_map(|path| read_receipt(&path).map(|r| (path, r)))
        .find(|(_, r)| r.chain_id == session.chain_id && r.board == board && r.application_id == args.id);
    let (salt, salt_from) = match (args.salt, &receipt) {
        (Some(salt), _) => (salt, "--salt".to_owned()),
        (None, Some((path, r))) => (r.salt, path.display().to_string()),
        (None, None) => return Err(ActionError::NoSalt { application_id: args.id, document: args.document }),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(application_id: u64) -> Receipt {
        Receipt {
            chain_id: 31337,
            board: Address::repeat_byte(0xb0),
            job_id: 7,
            application_id,
            applicant: Address::repeat_byte(0xa1),
            salt: B256::repeat_byte(0x5a),
            document_hash: B256::repeat_byte(0xd0),
            application_hash: B256::repeat_byte(0xaa),
            tx_hash: B256::repeat_byte(0x77),
            block: 12,
        }
    }

    #[test]
    fn receipts_never_overwrite_another_applications_receipt() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let document = dir.path().join("cv.pdf");
        std::fs::write(&document, b"%PDF")?;

        let first = write_receipt(&document, &receipt(3))?;
        assert_eq!(first, dir.path().join("cv.pdf.jobboard.json"));
        let second = write_receipt(&document, &receipt(4))?;
        assert_eq!(second, dir.path().join("cv.pdf.jobboard-4.json"));
        assert_eq!(read_receipt(&first), Some(receipt(3)), "the first receipt is untouched");
        assert_eq!(read_receipt(&second), Some(receipt(4)));
        // The same application again rewrites its own file.
        assert_eq!(write_receipt(&document, &receipt(3))?, first);

        let text = std::fs::read_to_string(&first)?;
        let json: serde_json::Value = serde_json::from_str(&text)?;
        for key in [
            "chainId",
            "board",
            "jobId",
            "applicationId",
            "applicant",
            "salt",
            "documentHash",
            "applicationHash",
            "txHash",
            "block",
        ] {
            assert!(json.get(key).is_some(), "receipt lacks {key}: {text}");
        }
        assert_eq!(json["applicationId"], "3", "ids are decimal strings");
        Ok(())
    }
}
