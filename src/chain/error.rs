//! Errors from talking to the node.
//!
//! No variant exposes a transport error as its `source()`: transport errors print the request
//! URL, which may carry an API key, so their text is shown only through
//! [`super::redact::error_text`].

use alloy::primitives::TxHash;

use super::redact::error_text;

/// The text of a transport error and its causes, fit for logs.
fn redact_display(error: &(dyn std::error::Error + 'static)) -> String {
    error_text(error)
}

/// A failure talking to the Ethereum node.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// A JSON-RPC call failed (transport error, timeout, or an error answer from the node).
    #[error("rpc call {method} failed: {}", redact_display(.failure))]
    Rpc {
        /// The JSON-RPC method that failed.
        method: &'static str,
        /// The transport's error (not a `source()`: its text may carry the URL).
        failure: alloy::transports::TransportError,
    },
    /// Sending a contract call or creation failed before it was mined.
    #[error("sending {operation} failed: {}", redact_display(.failure))]
    Send {
        /// What was being sent, e.g. "deployment" or "postJob".
        operation: &'static str,
        /// alloy's contract-call error (transport failure, revert during estimation, ...).
        failure: Box<alloy::contract::Error>,
    },
    /// Waiting for a sent transaction's receipt failed.
    #[error("waiting for the receipt of {tx_hash} failed: {}", redact_display(.failure))]
    Receipt {
        /// The transaction waited for.
        tx_hash: TxHash,
        /// Why waiting failed (transport error or time-out).
        failure: Box<alloy::providers::PendingTransactionError>,
    },
    /// A transaction was mined but reverted.
    #[error("transaction {tx_hash} reverted in block {block}")]
    Reverted {
        /// The reverted transaction.
        tx_hash: TxHash,
        /// The block it was mined in.
        block: u64,
    },
    /// The node's answer lacks something it must contain.
    #[error("malformed answer from the node: {0}")]
    Malformed(String),
    /// An RPC endpoint is on another chain than the others (or than `--chain-id`): a
    /// misconfiguration, refused at start and whenever the endpoint comes back.
    #[error("--rpc-url {url} is on chain {found}, not chain {expected}: remove it or fix it")]
    WrongChain {
        /// The endpoint, redacted.
        url: String,
        /// The chain the indexer serves.
        expected: u64,
        /// The chain the endpoint reports.
        found: u64,
    },
    /// No endpoint is usable right now (all failing, or none has confirmed its chain id yet).
    #[error("no RPC endpoint is usable: {0}")]
    NoEndpoint(String),
}

/// A node answered, but from a state older than the request needs: its head is below the last
/// block asked for (a lagging node behind a load balancer, or a provider that silently caps
/// `toBlock` at its own head). Raised inside a call so that the one retry policy handles it.
#[derive(Debug, thiserror::Error)]
#[error("the node's head {head} is below block {needed}: it may have left out logs; asking again")]
pub struct NodeBehind {
    /// The node's head as it answered in the same request.
    pub head: u64,
    /// The last block the answer had to cover.
    pub needed: u64,
}

/// A node answered "no such block" for a block that must exist (a final block, or one whose
/// logs it returned): it is behind or load-balanced onto a node that is. Raised inside a call
/// so that the one retry policy handles it.
#[derive(Debug, thiserror::Error)]
#[error("the node does not have block {0} (yet); asking again")]
pub struct NodeLacksBlock(pub String);

impl ChainError {
    /// Whether trying again can help: transport failures, time-outs and a node's internal or
    /// server errors can; malformed requests, unknown methods, reverts and malformed answers
    /// will not change by retrying.
    pub fn is_transient(&self) -> bool {
        match self {
            ChainError::Rpc { failure, .. } => is_transient_transport(failure),
            ChainError::Send { failure, .. } => match failure.as_ref() {
                alloy::contract::Error::TransportError(source) => is_transient_transport(source),
                _ => false,
            },
            ChainError::Receipt { .. } => true,
            ChainError::NoEndpoint(_) => true,
            ChainError::Reverted { .. } | ChainError::Malformed(_) | ChainError::WrongChain { .. } => false,
        }
    }
}

/// JSON-RPC error codes that mean the request itself is wrong: parse error, invalid request,
/// method not found, invalid params, and execution reverted.
const PERMANENT_CODES: [i64; 5] = [-32700, -32600, -32601, -32602, 3];

/// Transport failures are transient; error answers are, unless their code says the request is
/// wrong (nodes answer -32603 or -32000 for overload and missing data that may come back).
pub(crate) fn is_transient_transport(error: &alloy::transports::TransportError) -> bool {
    match error.as_error_resp() {
        Some(payload) => !PERMANENT_CODES.contains(&payload.code),
        None => true,
    }
}
