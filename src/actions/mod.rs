//! The board's write side for people: `jobboard job ...` (employers) and `jobboard application
//! ...` (applicants, plus the employer's status changes and verification).
//!
//! It sits beside the indexer pipeline, not in it: it signs and sends the contract's
//! transactions through any node, and reads the contract's views. The posting text lives only
//! in events, so `job update` reads the job's latest `JobPosted`/`JobUpdated` log.
//!
//! ```text
//! flags / --file ------------------> posting: validated like the contract --+
//! JOBBOARD_PRIVATE_KEY / --keystore -> signer ------------------------------+
//!                                                                             v
//! session: check the node and the board, send, wait for the receipt, decode reverts
//!   -> output: a few lines, or one JSON object with --json
//! ```

mod application;
mod args;
mod job;
mod output;
mod posting;
mod receipt;
mod refusal;
mod revert;
mod session;
mod signer;
mod target;

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::{Address, B256, TxHash};

pub use application::{Verdict, run_application};
pub use args::{
    ApplicationArgs, ApplicationCommand, BoardArgs, JobArgs, JobCloseArgs, JobCommand, JobPostArgs,
    JobUpdateArgs, KeyArgs, PostingArgs, SendArgs, SignerArgs, StatusArgs, SubmitArgs, VerifyArgs,
    WithdrawArgs, parse_employer_status,
};
pub use job::run_job;
pub use posting::{
    Field, MAX_COMPANY_LENGTH, MAX_DESCRIPTION_LENGTH, MAX_LOCATION_LENGTH, MAX_SALARY_CURRENCY_LENGTH,
    MAX_TAGS_LENGTH, MAX_TITLE_LENGTH, PostingError, PostingInput, check_deadline, parse_deadline,
    validate_fields,
};
pub use refusal::{Funding, NodeRefusal, Unfunded, explain_deploy_refusal};
pub use revert::describe_revert;
pub use signer::{KEYSTORE_PASSWORD_ENV, load_signer};
pub use target::{Named, Origin};

/// Why a job or application command failed. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The posting breaks one of the contract's rules (caught before sending).
    #[error(transparent)]
    Posting(#[from] PostingError),
    /// No signing key was given.
    #[error(
        "no signing key: set {} to the account's hex private key, or pass --keystore FILE",
        crate::args::PRIVATE_KEY_ENV
    )]
    NoKey,
    /// The private key in the environment does not parse (the key itself is never printed).
    #[error("{} is not a valid hex private key (32 bytes, 0x optional)", crate::args::PRIVATE_KEY_ENV)]
    BadKey,
    /// The keystore needs a password and there is no way to ask for one.
    #[error(
        "the keystore {} needs a password: set {KEYSTORE_PASSWORD_ENV}, or run on a terminal to be asked",
        path.display()
    )]
    NoPassword {
        /// The keystore file.
        path: PathBuf,
    },
    /// The keystore's password is wrong (its MAC does not match).
    #[error("wrong password for the keystore {} (or the file is damaged)", path.display())]
    WrongPassword {
        /// The keystore file.
        path: PathBuf,
    },
    /// The keystore cannot be read or decrypted.
    #[error("cannot use the keystore {}: is it an encrypted JSON keystore?", path.display())]
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// alloy's error.
        #[source]
        source: alloy::signers::local::LocalSignerError,
    },
    /// Reading the password from the terminal failed.
    #[error("cannot read the keystore password from the terminal")]
    Prompt(#[source] std::io::Error),
    /// No board was given: neither `--contract` nor `--config`.
    #[error("no board given: pass --contract (and --rpc-url), or --config FILE and --chain NAME")]
    NoBoard,
    /// The boards file (`--config`) cannot be read, or `--chain` picks no single board of it.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The node does not answer at all.
    #[error(
        "the RPC URL {url} is not reachable: start the node (`make dev` runs one at \
         http://127.0.0.1:8545), or point {} at one that runs",
        origin.rpc_url()
    )]
    Unreachable {
        /// The URL, with any key in it redacted.
        url: String,
        /// Where the URL came from.
        origin: Origin,
        /// The transport's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The node is on another chain than `--chain-id` (or the board's `chain_id`) says.
    #[error(
        "the node at {url} is on chain {actual}, not chain {expected}: point {} at a node of chain \
         {expected}, or correct {}",
        origin.rpc_url(),
        origin.chain_id()
    )]
    WrongChain {
        /// Where the chain id and the URL came from.
        origin: Origin,
        /// The chain asked for.
        expected: u64,
        /// The node's chain.
        actual: u64,
        /// The node, with any key in its URL redacted.
        url: String,
    },
    /// The node refused a transaction signed for the very chain id it reported.
    #[error(
        "{operation} refused: the node at {url} reported chain id {chain_id} but rejects transactions \
         signed for it; --rpc-url may lead to a gateway that mixes networks: use a node of one chain"
    )]
    ChainIdRefused {
        /// The contract function.
        operation: &'static str,
        /// The chain id the transaction was signed for (the node's own answer).
        chain_id: u64,
        /// The node, redacted.
        url: String,
    },
    /// The sender cannot pay for the transaction.
    #[error(transparent)]
    InsufficientFunds(Box<Unfunded>),
    /// Another transaction from the same account is waiting to be mined.
    #[error(
        "{operation} refused ({}): another transaction from {account} on chain {chain_id} {}{}. Wait \
         until it is mined, then run the command again (or speed it up or cancel it from the wallet \
         that sent it)",
        match refusal {
            NodeRefusal::NonceTooLow => "nonce too low",
            _ => "replacement transaction underpriced",
        },
        match refusal {
            NodeRefusal::NonceTooLow => "took the same nonce (it is pending or just mined, and the node \
                                         gave out a stale nonce)",
            _ => "is pending with the same nonce",
        },
        match (mined, pending) {
            (Some(mined), Some(pending)) if pending > mined => format!(
                " ({} of its transactions waiting; {mined} mined)", pending - mined
            ),
            _ => String::new(),
        }
    )]
    PendingTransaction {
        /// The contract function.
        operation: &'static str,
        /// The node's words for it: nonce too low or replacement underpriced.
        refusal: NodeRefusal,
        /// The signer.
        account: Address,
        /// The node's chain.
        chain_id: u64,
        /// The account's mined transactions (its `latest` nonce), if the node told.
        mined: Option<u64>,
        /// Its mined and waiting transactions (its `pending` nonce), if the node told.
        pending: Option<u64>,
    },
    /// Nothing is deployed at `--contract` on the node's chain.
    #[error(
        "no contract at {address} on chain {chain_id}: check {} and that {} points at the chain the \
         board was deployed on",
        origin.contract(),
        origin.rpc_url()
    )]
    NoContract {
        /// Where the address came from.
        origin: Origin,
        /// The address given.
        address: Address,
        /// The node's chain.
        chain_id: u64,
    },
    /// Code is deployed at `--contract` but it does not answer like a JobBoard.
    #[error(
        "the contract at {address} on chain {chain_id} is not a JobBoard (its VERSION() call failed): \
         check {}",
        origin.contract()
    )]
    NotABoard {
        /// Where the address came from.
        origin: Origin,
        /// The address given.
        address: Address,
        /// The node's chain.
        chain_id: u64,
    },
    /// The contract refused the call with one of its custom errors (as described by
    /// [`describe_revert`]).
    #[error("{operation} refused: {reason}")]
    Refused {
        /// The contract function, e.g. `postJob`.
        operation: &'static str,
        /// What the contract said, as a sentence.
        reason: String,
    },
    /// A JSON-RPC call failed after the node had answered before.
    #[error("{operation} failed")]
    Call {
        /// What was being done, e.g. `postJob` or `eth_getLogs`.
        operation: &'static str,
        /// Whether the node gave no answer (a transport failure or time-out), rather than an
        /// error answer that the same request would get again.
        transient: bool,
        /// alloy's error (a node error answer, a transport failure, an undecodable revert).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The transaction was sent but not seen mined in time.
    #[error(
        "transaction {tx_hash} was sent but not mined within {waited:?}; it may still be mined: look it \
         up before sending again (or raise --tx-timeout)"
    )]
    NotMined {
        /// The transaction.
        tx_hash: TxHash,
        /// How long we waited.
        waited: Duration,
    },
    /// The transaction was mined and reverted, and replaying it gave no reason.
    #[error("transaction {tx_hash} reverted in block {block}")]
    Reverted {
        /// The transaction.
        tx_hash: TxHash,
        /// Its block.
        block: u64,
    },
    /// An application transaction was sent but its outcome is unknown: the salt must not be
    /// lost, since the application may be mined.
    #[error(
        "the application may exist or still be mined: its salt {salt} is kept in {} (marked pending); \
         once it is mined, `jobboard application verify` finds it there",
        receipt.display()
    )]
    ApplicationPending {
        /// The salt of the pending application.
        salt: B256,
        /// The pending receipt holding it.
        receipt: PathBuf,
        /// Why the outcome is unknown.
        #[source]
        source: Box<ActionError>,
    },
    /// The node's answer lacks something it must contain.
    #[error("unexpected answer from the node: {0}")]
    Malformed(String),
    /// A file (document, receipt) could not be read or written.
    #[error("cannot {action} {}", path.display())]
    File {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `application verify` without a salt found no receipt that holds it.
    #[error(
        "no salt given and no receipt of application {application_id} beside {}: pass --salt-file FILE \
         (a file holding the salt the applicant handed over)",
        document.display()
    )]
    NoSalt {
        /// The application.
        application_id: u64,
        /// The document.
        document: PathBuf,
    },
    /// A `--salt-file` does not hold a salt.
    #[error("{} does not hold a salt: it must contain 0x and 64 hex digits", path.display())]
    BadSaltFile {
        /// The file.
        path: PathBuf,
    },
    /// The operating system's random source failed.
    #[error("cannot draw a random salt: {0}")]
    Random(String),
    /// Printing the result failed.
    #[error("cannot write the result")]
    Output(#[source] std::io::Error),
}

impl ActionError {
    /// Whether running the same command again can help: an unreachable node, a failed call or
    /// an unmined transaction may; a refused call, bad input or a bad key will not. (After
    /// `NotMined` check first whether the transaction went through.)
    pub fn is_transient(&self) -> bool {
        match self {
            ActionError::Unreachable { .. }
            | ActionError::NotMined { .. }
            | ActionError::PendingTransaction { .. } => true,
            ActionError::Call { transient, .. } => *transient,
            ActionError::ApplicationPending { source, .. } => source.is_transient(),
            _ => false,
        }
    }
}
