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
        source: alloy::contract::Error,
    },
    /// Waiting for a sent transaction's receipt failed.
    #[error("waiting for the receipt of {tx_hash} failed: {source}")]
    Receipt {
        /// The transaction waited for.
        tx_hash: TxHash,
        /// Why waiting failed (transport error or time-out).
        #[source]
        source: alloy::providers::PendingTransactionError,
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
    /// Whether trying again can help: transport failures and time-outs can; error answers,
    /// reverts and malformed answers will not change by retrying.
    pub fn is_transient(&self) -> bool {
        match self {
            ChainError::Rpc { source, .. } => !source.is_error_resp(),
            ChainError::Send { source: alloy::contract::Error::TransportError(source), .. } => {
                !source.is_error_resp()
            }
            ChainError::Receipt { .. } => true,
            ChainError::Send { .. } | ChainError::Reverted { .. } | ChainError::Malformed(_) => false,
        }
    }
}
