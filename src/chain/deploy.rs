//! Deploying a fresh JobBoard: used by `jobboard deploy`, the local dev setup and the tests.

use alloy::primitives::{Address, TxHash};
use alloy::providers::Provider;
use serde::Serialize;

use super::ChainError;
use crate::contract::JobBoard;

/// Where a board was deployed: what the indexer needs as `--contract` and `--start-block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The chain's EIP-155 id.
    pub chain_id: u64,
    /// The board's address.
    pub address: Address,
    /// The block the deployment was mined in: the indexer's start block.
    pub block: u64,
    /// The deployment transaction.
    pub tx_hash: TxHash,
}

/// Deploys the board from the provider's default signer and waits for the receipt.
///
/// # Errors
/// [`ChainError::Send`] or [`ChainError::Receipt`] if the node rejects or fails a call,
/// [`ChainError::Reverted`] if the creation reverted, [`ChainError::Malformed`] if the receipt
/// lacks the address or block.
pub async fn deploy_board<P: Provider>(provider: &P) -> Result<Deployment, ChainError> {
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|failure| ChainError::Rpc { method: "eth_chainId", failure })?;
    let pending = JobBoard::deploy_builder(provider)
        .send()
        .await
        .map_err(|failure| ChainError::Send { operation: "deployment", failure: Box::new(failure) })?;
    let tx_hash = *pending.tx_hash();
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|failure| ChainError::Receipt { tx_hash, failure: Box::new(failure) })?;
    let block = receipt
        .block_number
        .ok_or_else(|| ChainError::Malformed(format!("receipt of {tx_hash} has no block number")))?;
    if !receipt.status() {
        return Err(ChainError::Reverted { tx_hash, block });
    }
    let address = receipt
        .contract_address
        .ok_or_else(|| ChainError::Malformed(format!("receipt of {tx_hash} has no contract address")))?;
    Ok(Deployment { chain_id, address, block, tx_hash })
}
