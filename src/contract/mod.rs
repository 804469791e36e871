//! The JobBoard contract as Rust sees it: `sol!` bindings generated from the committed Foundry
//! artifact (`contracts/artifacts/JobBoard.json`), and the application-hash scheme.
//!
//! This stage does no I/O: it turns bytes into typed values and back. The artifact is checked
//! against a fresh `forge build` by the test command, so these bindings cannot drift from the
//! Solidity source.

mod application_hash;
mod events;
mod indexed;
mod skip;
mod status;

pub use application_hash::{APPLICATION_HASH_DOMAIN, ApplicationCommitment, document_hash};
pub use events::{BoardEvent, DecodeError, EventKind, Posting, lossy_text, split_tags};
pub use indexed::{Decoded, IndexedEvent, LogError, LogPosition};
pub use skip::{LogAt, SkippedLogs};
pub use status::{ApplicationStatus, InvalidStatus};

pub use bindings::JobBoard;

/// Generated code; the contract's NatSpec (`contracts/src/JobBoard.sol`) documents every item.
#[allow(missing_docs, reason = "generated from the ABI, which carries no doc comments")]
mod bindings {
    alloy::sol!(
        /// The JobBoard contract: its functions, events, errors and structs, plus deploy bytecode.
        #[sol(rpc, all_derives)]
        JobBoard,
        "contracts/artifacts/JobBoard.json"
    );
}
