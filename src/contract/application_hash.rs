//! The application-hash scheme: the salted commitment an applicant puts on-chain instead of
//! their document.
//!
//! `applicationHash = keccak256(abi.encode("jobboard.application.v1", chainId, board, jobId,
//! applicant, salt, documentHash))` with `documentHash = sha256(document)`. It must agree
//! byte for byte with `JobBoard.applicationHashOf`; the vectors in
//! `contracts/test/vectors/application-hash.json` pin both sides.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolValue;
use sha2::{Digest, Sha256};

/// Domain-separation string of the scheme's version 1; also `JobBoard.APPLICATION_HASH_DOMAIN`.
pub const APPLICATION_HASH_DOMAIN: &str = "jobboard.application.v1";

/// Everything an application hash binds together.
///
/// Binding the chain, the board, the job and the applicant makes a copied hash worthless
/// anywhere else; the salt stops anyone from confirming a guessed document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplicationCommitment {
    /// The chain the board lives on (EIP-155 chain id).
    pub chain_id: u64,
    /// The board contract's address.
    pub board: Address,
    /// The job applied to.
    pub job_id: U256,
    /// The applying address.
    pub applicant: Address,
    /// 32 random bytes the applicant keeps and hands to the employer with the document.
    pub salt: B256,
    /// `sha256` of the document's bytes; see [`document_hash`].
    pub document_hash: B256,
}

impl ApplicationCommitment {
    /// The hash the applicant passes to `applyTo`, equal to `JobBoard.applicationHashOf`.
    pub fn application_hash(&self) -> B256 {
        let encoded = (
            APPLICATION_HASH_DOMAIN.to_owned(),
            U256::from(self.chain_id),
            self.board,
            self.job_id,
            self.applicant,
            self.salt,
            self.document_hash,
        )
            .abi_encode_params();
        keccak256(encoded)
    }
}

/// `sha256` of a document's bytes: the document part of an application commitment.
pub fn document_hash(document: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(document)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::hex;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Vector {
        name: String,
        chain_id: u64,
        board: Address,
        job_id: String,
        applicant: Address,
        salt: B256,
        document: String,
        document_hash: B256,
        application_hash: B256,
    }

    #[derive(Deserialize)]
    struct Vectors {
        vectors: Vec<Vector>,
    }

    fn vectors() -> Vec<Vector> {
        let text = include_str!("../../contracts/test/vectors/application-hash.json");
        serde_json::from_str::<Vectors>(text).expect("the committed vectors file is valid JSON").vectors
    }

    #[test]
    fn matches_every_committed_vector() {
        let vectors = vectors();
        assert!(vectors.len() >= 3, "the vectors file lost entries");
        for v in vectors {
            let document = hex::decode(&v.document).expect("document is hex");
            assert_eq!(document_hash(&document), v.document_hash, "{}", v.name);
            let commitment = ApplicationCommitment {
                chain_id: v.chain_id,
                board: v.board,
                job_id: v.job_id.parse().expect("jobId is a decimal uint256"),
                applicant: v.applicant,
                salt: v.salt,
                document_hash: v.document_hash,
            };
            assert_eq!(commitment.application_hash(), v.application_hash, "{}", v.name);
        }
    }

    #[test]
    fn every_bound_field_changes_the_hash() {
        let v = &vectors()[0];
        let base = ApplicationCommitment {
            chain_id: v.chain_id,
            board: v.board,
            job_id: U256::from(1),
            applicant: v.applicant,
            salt: v.salt,
            document_hash: v.document_hash,
        };
        let variants = [
            ApplicationCommitment { chain_id: base.chain_id + 1, ..base },
            ApplicationCommitment { board: Address::repeat_byte(0x42), ..base },
            ApplicationCommitment { job_id: U256::from(2), ..base },
            ApplicationCommitment { applicant: Address::repeat_byte(0x43), ..base },
            ApplicationCommitment { salt: B256::repeat_byte(0x44), ..base },
            ApplicationCommitment { document_hash: document_hash(b"other"), ..base },
        ];
        for variant in variants {
            assert_ne!(variant.application_hash(), base.application_hash(), "{variant:?}");
        }
    }
}
