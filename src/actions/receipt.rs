//! The application receipt: a JSON file beside the document (`cv.pdf.jobboard.json`) holding
//! the salt and everything else needed to verify the application later.
//!
//! Without the salt an application can never be verified, so the receipt is written *before*
//! the transaction is sent, marked `pending`; it gains the transaction hash once the node has
//! accepted it, and the application id and block once mined (`mined`). A crash or Ctrl-C
//! while waiting leaves a pending receipt, which `application verify` accepts when the
//! application it describes exists on-chain. Receipts are created mode 0600 (the salt is the
//! applicant's secret until they hand it over) and never overwrite another receipt: a second
//! application with the same document gets `cv.pdf.jobboard-2.json`, and so on.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, TxHash};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ActionError;

/// The most receipts kept beside one document (`.jobboard.json`, then `-2` up to this).
const MAX_RECEIPTS: u32 = 1000;

/// Where an application stands, as far as its receipt knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReceiptStatus {
    /// Written before sending: the transaction may or may not have been sent or mined.
    Pending,
    /// Mined: the application id, transaction and block are known.
    Mined,
}

/// What a receipt holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Receipt {
    pub status: ReceiptStatus,
    pub chain_id: u64,
    pub board: Address,
    #[serde(serialize_with = "to_decimal", deserialize_with = "from_decimal")]
    pub job_id: u64,
    #[serde(
        default,
        serialize_with = "to_optional_decimal",
        deserialize_with = "from_optional_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub application_id: Option<u64>,
    pub applicant: Address,
    pub salt: B256,
    pub document_hash: B256,
    pub application_hash: B256,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<TxHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
}

impl Receipt {
    /// Whether this receipt is the one of application `application_id` on `chain_id`/`board`,
    /// given the application's on-chain job, applicant and hash: by its id once mined, by its
    /// commitment while pending (the id is only known from the mined event).
    pub fn describes(&self, chain_id: u64, board: Address, application_id: u64, on_chain: &OnChain) -> bool {
        if (self.chain_id, self.board) != (chain_id, board) {
            return false;
        }
        match self.application_id {
            Some(id) => id == application_id,
            None => {
                (self.job_id, self.applicant, self.application_hash)
                    == (on_chain.job_id, on_chain.applicant, on_chain.application_hash)
            }
        }
    }
}

/// An application as the contract holds it, for matching a pending receipt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OnChain {
    /// Its job.
    pub job_id: u64,
    /// Who applied.
    pub applicant: Address,
    /// The committed hash.
    pub application_hash: B256,
}

/// A receipt this process created, and where.
#[derive(Debug)]
pub(crate) struct ReceiptFile {
    /// The file.
    pub path: PathBuf,
    /// What it holds now.
    pub receipt: Receipt,
}

impl ReceiptFile {
    /// Writes `receipt` to a new file beside `document` (mode 0600), never replacing one that
    /// exists, and flushes it to disk.
    ///
    /// # Errors
    /// [`ActionError::File`] if no file can be created.
    pub fn create(document: &Path, receipt: Receipt) -> Result<ReceiptFile, ActionError> {
        let json = encode(&receipt)?;
        let mut last = None;
        for n in 1..=MAX_RECEIPTS {
            let path = receipt_path(document, n);
            match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
                Ok(mut file) => {
                    file.write_all(&json).and_then(|()| file.sync_all()).map_err(|source| {
                        ActionError::File { action: "write", path: path.clone(), source }
                    })?;
                    return Ok(ReceiptFile { path, receipt });
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => last = Some(path),
                Err(source) => return Err(ActionError::File { action: "write", path, source }),
            }
        }
        Err(ActionError::File {
            action: "write",
            path: last.unwrap_or_else(|| receipt_path(document, 1)),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{MAX_RECEIPTS} receipts already lie beside the document"),
            ),
        })
    }

    /// Changes the receipt and replaces the file atomically (a new 0600 file renamed over it),
    /// so a crash leaves either the old or the new receipt, never half of one.
    ///
    /// # Errors
    /// [`ActionError::File`] if the new file cannot be written or renamed.
    pub fn update(&mut self, change: impl FnOnce(&mut Receipt)) -> Result<(), ActionError> {
        let mut receipt = self.receipt.clone();
        change(&mut receipt);
        let json = encode(&receipt)?;
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(format!(".{}.tmp", std::process::id()));
        let temporary = PathBuf::from(temporary);
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut file| file.write_all(&json).and_then(|()| file.sync_all()))
            .and_then(|()| std::fs::rename(&temporary, &self.path));
        if let Err(source) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(ActionError::File { action: "write", path: self.path.clone(), source });
        }
        self.receipt = receipt;
        Ok(())
    }

    /// Deletes the receipt of a transaction the node refused: no application can exist.
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn encode(receipt: &Receipt) -> Result<Vec<u8>, ActionError> {
    let mut json = serde_json::to_vec_pretty(receipt)
        .map_err(|e| ActionError::Malformed(format!("cannot encode the receipt: {e}")))?;
    json.push(b'\n');
    Ok(json)
}

/// `cv.pdf` -> `cv.pdf.jobboard.json` for the first receipt, `cv.pdf.jobboard-<n>.json` after.
fn receipt_path(document: &Path, n: u32) -> PathBuf {
    let mut name = document.as_os_str().to_owned();
    if n <= 1 {
        name.push(".jobboard.json");
    } else {
        name.push(format!(".jobboard-{n}.json"));
    }
    PathBuf::from(name)
}

/// Every readable receipt beside `document`, in file-name order.
pub(crate) fn receipts_beside(document: &Path) -> Vec<(PathBuf, Receipt)> {
    let Some(name) = document.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let dir = match document.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let prefix = format!("{name}.jobboard");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut found: Vec<(u32, PathBuf, Receipt)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            let rest = file.strip_prefix(&prefix)?;
            let n = match rest {
                ".json" => 1,
                _ => rest.strip_prefix('-')?.strip_suffix(".json")?.parse().ok()?,
            };
            let path = document.with_file_name(entry.file_name());
            let receipt = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
            Some((n, path, receipt))
        })
        .collect();
    // In the order they were written: `.jobboard.json`, then `-2`, `-3`, ...
    found.sort_by_key(|(n, _, _)| *n);
    found.into_iter().map(|(_, path, receipt)| (path, receipt)).collect()
}

fn to_decimal<S: Serializer>(id: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

fn to_optional_decimal<S: Serializer>(id: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => serializer.collect_str(id),
        None => serializer.serialize_none(),
    }
}

/// A decimal string (as written) or a JSON number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Number(u64),
    Text(String),
}

impl Id {
    fn value<E: serde::de::Error>(self) -> Result<u64, E> {
        match self {
            Id::Number(n) => Ok(n),
            Id::Text(text) => text.parse().map_err(E::custom),
        }
    }
}

fn from_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Id::deserialize(deserializer)?.value()
}

fn from_optional_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Option::<Id>::deserialize(deserializer)?.map(Id::value).transpose()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn pending() -> Receipt {
        Receipt {
            status: ReceiptStatus::Pending,
            chain_id: 31337,
            board: Address::repeat_byte(0xb0),
            job_id: 7,
            application_id: None,
            applicant: Address::repeat_byte(0xa1),
            salt: B256::repeat_byte(0x5a),
            document_hash: B256::repeat_byte(0xd0),
            application_hash: B256::repeat_byte(0xaa),
            tx_hash: None,
            block: None,
        }
    }

    #[test]
    fn receipts_are_private_never_overwrite_another_and_complete_in_place()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let document = dir.path().join("cv.pdf");
        std::fs::write(&document, b"%PDF")?;

        let mut first = ReceiptFile::create(&document, pending())?;
        assert_eq!(first.path, dir.path().join("cv.pdf.jobboard.json"));
        assert_eq!(std::fs::metadata(&first.path)?.permissions().mode() & 0o777, 0o600);
        let text = std::fs::read_to_string(&first.path)?;
        assert!(text.contains(r#""status": "pending""#), "{text}");
        assert!(!text.contains("applicationId"), "a pending receipt has no id yet: {text}");

        let second = ReceiptFile::create(&document, Receipt { job_id: 8, ..pending() })?;
        assert_eq!(second.path, dir.path().join("cv.pdf.jobboard-2.json"));

        first.update(|r| {
            r.status = ReceiptStatus::Mined;
            r.application_id = Some(3);
            r.tx_hash = Some(B256::repeat_byte(0x77));
            r.block = Some(12);
        })?;
        assert_eq!(std::fs::metadata(&first.path)?.permissions().mode() & 0o777, 0o600);
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&first.path)?)?;
        assert_eq!(json["status"], "mined");
        assert_eq!(json["applicationId"], "3", "ids are decimal strings");
        assert_eq!(json["block"], 12);

        let found = receipts_beside(&document);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].1, first.receipt);
        assert_eq!(found[1].1.job_id, 8, "the second receipt is untouched");
        let leftovers = std::fs::read_dir(dir.path())?.count();
        assert_eq!(leftovers, 3, "no temporary file is left behind");
        Ok(())
    }

    #[test]
    fn a_pending_receipt_matches_by_commitment_and_a_mined_one_by_id() {
        let board = Address::repeat_byte(0xb0);
        let on_chain = OnChain {
            job_id: 7,
            applicant: Address::repeat_byte(0xa1),
            application_hash: B256::repeat_byte(0xaa),
        };
        assert!(pending().describes(31337, board, 5, &on_chain));
        assert!(!pending().describes(1, board, 5, &on_chain), "another chain");
        let other = OnChain { application_hash: B256::repeat_byte(0xab), ..on_chain };
        assert!(!pending().describes(31337, board, 5, &other), "another commitment");
        let mined = Receipt { application_id: Some(4), status: ReceiptStatus::Mined, ..pending() };
        assert!(mined.describes(31337, board, 4, &other), "a mined receipt is matched by its id");
        assert!(!mined.describes(31337, board, 5, &on_chain));
    }
}
