//! What the commands print: a few lines for people, or with `--json` one JSON object on stdout
//! (camelCase keys; ids as decimal strings since they are `uint256` on-chain; blocks as
//! numbers). Warnings go to stderr so that stdout stays parseable.

use std::io::Write;
use std::path::PathBuf;

use alloy::primitives::{Address, B256, TxHash};
use serde::{Serialize, Serializer};

use super::ActionError;
use super::posting::Field;
use super::session::Sent;

/// A command's result, printable both ways.
pub(crate) trait Report: Serialize {
    /// The text for people, one item per line.
    fn human(&self) -> String;
}

/// Prints `report` on stdout as text or as one line of JSON.
///
/// # Errors
/// [`ActionError::Output`] if stdout is closed.
pub(crate) fn print(report: &impl Report, json: bool) -> Result<(), ActionError> {
    let text = if json {
        serde_json::to_string(report).map_err(|e| ActionError::Output(std::io::Error::other(e)))? + "\n"
    } else {
        report.human()
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(ActionError::Output)
}

fn decimal<S: Serializer>(id: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

fn decimals<S: Serializer>(ids: &[u64], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(ids.iter().map(u64::to_string))
}

fn field_names<S: Serializer>(fields: &[Field], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(fields.iter().map(|f| f.name()))
}

/// Aligned `label: value` lines under a heading.
fn lines(heading: String, items: &[(&str, String)]) -> String {
    let width = items.iter().map(|(label, _)| label.len()).max().unwrap_or(0) + 1;
    let mut text = heading + "\n";
    for (label, value) in items {
        text += &format!("  {:<width$} {value}\n", format!("{label}:"));
    }
    text
}

/// Where a transaction was mined: the `txHash` and `block` every sending command prints last.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Mined {
    pub tx_hash: TxHash,
    pub block: u64,
}

impl From<&Sent> for Mined {
    fn from(sent: &Sent) -> Self {
        Mined { tx_hash: sent.tx_hash, block: sent.block }
    }
}

impl Mined {
    /// `heading`, the `items`, then the transaction and block lines.
    fn lines(&self, heading: String, items: &[(&str, String)]) -> String {
        let mut all = items.to_vec();
        all.extend([("tx", self.tx_hash.to_string()), ("block", self.block.to_string())]);
        lines(heading, &all)
    }
}

/// `job post`: `{"jobId","employer","txHash","block"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobPosted {
    #[serde(serialize_with = "decimal")]
    pub job_id: u64,
    pub employer: Address,
    #[serde(flatten)]
    pub mined: Mined,
}

impl Report for JobPosted {
    fn human(&self) -> String {
        self.mined.lines(format!("Job {} posted by {}", self.job_id, self.employer), &[])
    }
}

/// `job update`: `{"jobId","changed":[field names],"txHash","block"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobUpdated {
    #[serde(serialize_with = "decimal")]
    pub job_id: u64,
    #[serde(serialize_with = "field_names")]
    pub changed: Vec<Field>,
    #[serde(flatten)]
    pub mined: Mined,
}

impl Report for JobUpdated {
    fn human(&self) -> String {
        let changed = if self.changed.is_empty() {
            "no field changed".to_owned()
        } else {
            format!("changed: {}", self.changed.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "))
        };
        self.mined.lines(format!("Job {} updated ({changed})", self.job_id), &[])
    }
}

/// `job close`: `{"jobId","txHash","block"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobClosed {
    #[serde(serialize_with = "decimal")]
    pub job_id: u64,
    #[serde(flatten)]
    pub mined: Mined,
}

impl Report for JobClosed {
    fn human(&self) -> String {
        self.mined.lines(format!("Job {} closed", self.job_id), &[])
    }
}

/// `application submit`: `{"applicationId","jobId","applicant","salt","documentHash",
/// "applicationHash","receiptFile","txHash","block"}` (`receiptFile` null if it could not be
/// written).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplicationSubmitted {
    #[serde(serialize_with = "decimal")]
    pub application_id: u64,
    #[serde(serialize_with = "decimal")]
    pub job_id: u64,
    pub applicant: Address,
    pub salt: B256,
    pub document_hash: B256,
    pub application_hash: B256,
    pub receipt_file: Option<PathBuf>,
    #[serde(flatten)]
    pub mined: Mined,
}

impl Report for ApplicationSubmitted {
    fn human(&self) -> String {
        let receipt = self
            .receipt_file
            .as_ref()
            .map_or_else(|| "(not written)".to_owned(), |p| p.display().to_string());
        self.mined.lines(
            format!(
                "Application {} to job {} submitted by {}",
                self.application_id, self.job_id, self.applicant
            ),
            &[
                ("salt", self.salt.to_string()),
                ("document sha256", self.document_hash.to_string()),
                ("application hash", self.application_hash.to_string()),
                ("receipt", receipt),
            ],
        )
    }
}

/// `application withdraw`: `{"applicationId","jobId","status":"Withdrawn","txHash","block"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplicationWithdrawn {
    #[serde(serialize_with = "decimal")]
    pub application_id: u64,
    #[serde(serialize_with = "decimal")]
    pub job_id: u64,
    pub status: &'static str,
    #[serde(flatten)]
    pub mined: Mined,
}

impl Report for ApplicationWithdrawn {
    fn human(&self) -> String {
        self.mined.lines(format!("Application {} to job {} withdrawn", self.application_id, self.job_id), &[])
    }
}

/// `application status`: `{"applicationIds":[..],"status":"Shortlisted","txHash","block"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusSet {
    #[serde(serialize_with = "decimals")]
    pub application_ids: Vec<u64>,
    pub status: &'static str,
    #[serde(flatten)]
    pub mined: Mined,
}

impl Report for StatusSet {
    fn human(&self) -> String {
        let ids = self.application_ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let noun = if self.application_ids.len() == 1 { "Application" } else { "Applications" };
        self.mined.lines(format!("{noun} {ids} set to {}", self.status), &[])
    }
}

/// `application verify`: `{"verified","applicationId","jobId","applicant","status",
/// "onChainHash","computedHash","documentHash","saltFrom","note"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Verification {
    pub verified: bool,
    #[serde(serialize_with = "decimal")]
    pub application_id: u64,
    #[serde(serialize_with = "decimal")]
    pub job_id: u64,
    pub applicant: Address,
    pub status: &'static str,
    pub on_chain_hash: B256,
    pub computed_hash: B256,
    pub document_hash: B256,
    /// `--salt` or the receipt file the salt was read from.
    pub salt_from: String,
    /// A hint about what differs, when a receipt file tells.
    pub note: Option<String>,
    #[serde(skip)]
    pub document: PathBuf,
}

impl Report for Verification {
    fn human(&self) -> String {
        let subject = format!(
            "application {} (job {}, applicant {}, {})",
            self.application_id, self.job_id, self.applicant, self.status
        );
        let heading = if self.verified {
            format!("verified: {subject} matches {} with this salt", self.document.display())
        } else {
            format!("MISMATCH: {subject} does not match {} with this salt", self.document.display())
        };
        let mut items = vec![
            ("on-chain hash", self.on_chain_hash.to_string()),
            ("computed hash", self.computed_hash.to_string()),
            ("document sha256", self.document_hash.to_string()),
            ("salt from", self.salt_from.clone()),
        ];
        if let Some(note) = &self.note {
            items.push(("note", note.clone()));
        }
        lines(heading, &items)
    }
}
