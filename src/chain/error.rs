//! Errors from talking to the node.

use alloy::primitives::TxHash;

/// A failure talking to the Ethereum node.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// A JSON-RPC call failed (transport error, timeout, or an error answer from the node).
    #[error("rpc call {method} failed: {source}")]
    Rpc {
        /// The JSON-RPC method that failed.
        method: &'static str,
        /// The transport's error.
        #[source]
        source: alloy::transports::TransportError,
    },
    /// Sending a contract call or creation failed before it was mined.
    #[error("sending {operation} failed: {source}")]
    Send {
        /// What was being sent, e.g. "deployment" or "postJob".
        operation: &'static str,
        /// alloy's contract-call error (transport failure, revert during estimation, ...).
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// Waiting for a sent transaction's receipt failed.
    #[error("waiting for the receipt of {tx_hash} failed: {source}")]
    Receipt {
        /// The transaction waited for.
        tx_hash: TxHash,
        /// Why waiting failed (transport error or time-out).
        #[source]
        source: Box<alloy::providers::PendingTransactionError>,
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
}

impl ChainError {
    /// Whether trying again can help: transport failures, time-outs and a node's internal or
    /// server errors can; malformed requests, unknown methods, reverts and malformed answers
    /// will not change by retrying.
    pub fn is_transient(&self) -> bool {
        match self {
            ChainError::Rpc { source, .. } => is_transient_transport(source),
            ChainError::Send { source, .. } => match source.as_ref() {
                alloy::contract::Error::TransportError(source) => is_transient_transport(source),
                _ => false,
            },
            ChainError::Receipt { .. } => true,
            ChainError::Reverted { .. } | ChainError::Malformed(_) => false,
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
