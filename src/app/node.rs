//! Start-up checks against the node of a board given by flags: every `--rpc-url` on one chain
//! (the `--chain-id` one, if given), and the board's contract deployed there. A board from the
//! boards file is checked by its own task instead, once it holds its lock
//! (`indexer::supervise`), so that one board's node being down never holds up the others.

use alloy::primitives::Address;

use super::AppError;
use crate::chain::{ChainClient, ChainError, RetryPolicy, redact};
use crate::cli::IndexArgs;
use crate::telemetry::Metrics;

/// Connects to the node of the flags' board and checks it is the right chain and holds
/// `contract`; returns the client and the chain id.
///
/// # Errors
/// An [`AppError`] naming the flag to fix: a node on another chain, endpoints on different
/// chains, no node answering, or no code at `--contract`.
pub(super) async fn connect_node(
    args: &IndexArgs,
    contract: Address,
    metrics: &Metrics,
) -> Result<(ChainClient, u64), AppError> {
    let retry = RetryPolicy { timeout: args.rpc_timeout, ..RetryPolicy::default() };
    let client = ChainClient::new(&args.rpc_urls, retry, metrics.clone()).map_err(AppError::RpcUrls)?;
    // Every endpoint must be on one chain: a second --rpc-url on another chain is refused here.
    let chain_id = match client.connect(args.chain_id).await {
        Ok(chain_id) => chain_id,
        Err(ChainError::WrongChain { url, expected, found }) if args.chain_id.is_some() => {
            return Err(AppError::WrongChainId { url, expected, found });
        }
        Err(error @ ChainError::WrongChain { .. }) => return Err(AppError::MixedChains(error)),
        Err(source) => {
            let urls: Vec<String> = args.rpc_urls.iter().map(redact).collect();
            return Err(AppError::NotANode { urls: urls.join(", "), source });
        }
    };
    if !client.has_code(contract).await.map_err(AppError::CheckContract)? {
        return Err(AppError::NoContract { contract, chain_id });
    }
    Ok((client, chain_id))
}
