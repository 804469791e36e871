//! One command's connection to the board: the node checked (reachable, the right contract),
//! the signer attached, transactions sent and waited for, and reverts decoded into the
//! contract's custom errors.

use std::time::{Duration, Instant};

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, TxHash, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionReceipt};
use alloy::sol_types::{SolCall, SolEvent};

use super::ActionError;
use super::args::{BoardArgs, SignerArgs};
use super::refusal::{NodeRefusal, Refused, explain};
use super::revert::describe_revert;
use super::signer::load_signer;
use super::target::Target;
use crate::chain::{RangeRefusal, parse_refusal, redact, redacted};
use crate::contract::{BoardEvent, JobBoard, Posting};

/// The longest wait for the node's first answer: a node that does not answer by then is
/// reported as unreachable rather than left hanging.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Log ranges tried when the node refuses a range without saying what it accepts.
const FALLBACK_LOG_RANGE: u64 = 10_000;

/// A call builder on the session's provider.
pub(crate) type Call<'a, C> = alloy::contract::SolCallBuilder<&'a DynProvider, C>;

/// A checked connection to one board, with or without a signer.
pub(crate) struct Session {
    /// The node, with the signer's wallet when there is one.
    pub provider: DynProvider,
    /// The board's bindings on `provider`.
    pub board: JobBoard::JobBoardInstance<DynProvider>,
    /// The node's chain id.
    pub chain_id: u64,
    /// The board's deploy block, when the boards file gives it.
    pub start_block: Option<u64>,
    /// The signer's address, for sending sessions.
    pub sender: Option<Address>,
    tx_timeout: Duration,
    /// The node's URL, redacted, for messages.
    url: String,
}

/// A mined, successful transaction and the board's events in it.
pub(crate) struct Sent {
    /// The transaction.
    pub tx_hash: TxHash,
    /// The block it was mined in.
    pub block: u64,
    /// The board's events it emitted, in log order.
    pub events: Vec<BoardEvent>,
}

impl Session {
    /// Resolves the board (the flags, or `--chain` in `--config`), loads the signer (if
    /// `signer` is given), then connects and checks that the node answers, is on the board's
    /// chain when that is known, and that the contract is a JobBoard.
    ///
    /// # Errors
    /// [`ActionError::Config`], key errors, [`ActionError::Unreachable`],
    /// [`ActionError::WrongChain`], [`ActionError::NoContract`], [`ActionError::NotABoard`].
    pub async fn connect(args: &BoardArgs, signer: Option<&SignerArgs>) -> Result<Session, ActionError> {
        let Target { rpc_url: url, contract, chain_id: expected, start_block, origin } = args.target()?;
        let (provider, sender, tx_timeout) = match signer {
            Some(signer_args) => {
                let signer = load_signer(signer_args.key.keystore.as_deref())?;
                let sender = signer.address();
                let provider = ProviderBuilder::new().wallet(signer).connect_http(url.clone()).erased();
                (provider, Some(sender), signer_args.tx_timeout)
            }
            None => (ProviderBuilder::new().connect_http(url.clone()).erased(), None, Duration::ZERO),
        };
        let unreachable = |source: Box<dyn std::error::Error + Send + Sync>| ActionError::Unreachable {
            url: redact(&url),
            origin: origin.clone(),
            source,
        };
        let chain_id = match tokio::time::timeout(CONNECT_TIMEOUT, provider.get_chain_id()).await {
            Err(elapsed) => return Err(unreachable(Box::new(elapsed))),
            Ok(Err(error)) if error.is_error_resp() => {
                return Err(ActionError::Call {
                    operation: "eth_chainId",
                    transient: false,
                    source: Box::new(redacted(&error)),
                });
            }
            Ok(Err(error)) => return Err(unreachable(Box::new(redacted(&error)))),
            Ok(Ok(chain_id)) => chain_id,
        };
        if let Some(expected) = expected
            && expected != chain_id
        {
            return Err(ActionError::WrongChain { origin, expected, actual: chain_id, url: redact(&url) });
        }
        let code = provider.get_code_at(contract).await.map_err(|e| rpc_error("eth_getCode", e))?;
        if code.is_empty() {
            return Err(ActionError::NoContract { origin, address: contract, chain_id });
        }
        let board = JobBoard::new(contract, provider.clone());
        if board.VERSION().call().await.is_err() {
            return Err(ActionError::NotABoard { origin, address: contract, chain_id });
        }
        Ok(Session { provider, board, chain_id, start_block, sender, tx_timeout, url: redact(&url) })
    }

    /// The signer's address.
    ///
    /// # Errors
    /// [`ActionError::NoKey`] on a session connected without a signer (a programming slip,
    /// reported rather than panicking).
    pub fn sender(&self) -> Result<Address, ActionError> {
        self.sender.ok_or(ActionError::NoKey)
    }

    /// Sends `call` from the signer, waits until it is mined, and returns the board's events.
    ///
    /// # Errors
    /// [`ActionError::Refused`] with the decoded custom error if the call reverts (at the gas
    /// estimate, or mined and replayed), [`ActionError::NotMined`], or a call error.
    pub async fn send<C: SolCall>(&self, call: Call<'_, C>) -> Result<Sent, ActionError> {
        self.send_noting(call, |_| {}).await
    }

    /// [`Session::send`], calling `on_accepted` with the transaction hash as soon as the node
    /// has accepted the transaction, before waiting for it to be mined.
    ///
    /// # Errors
    /// As [`Session::send`]; a refusal the sender can act on (no funds, a pending transaction
    /// from the same account, a chain id mix-up) as its own [`ActionError`].
    pub async fn send_noting<C: SolCall>(
        &self,
        call: Call<'_, C>,
        on_accepted: impl FnOnce(TxHash),
    ) -> Result<Sent, ActionError> {
        let operation = operation_name::<C>();
        let sender = self.sender()?;
        let call = call.from(sender);
        let pending = match call.send().await {
            Ok(pending) => pending,
            Err(error) => return Err(self.explain_refusal(operation, sender, &call, error).await),
        };
        let tx_hash = *pending.tx_hash();
        on_accepted(tx_hash);
        let receipt = self.wait_for_receipt(tx_hash).await?;
        let block = receipt
            .block_number
            .ok_or_else(|| ActionError::Malformed(format!("the receipt of {tx_hash} has no block number")))?;
        if !receipt.status() {
            // The estimate passed, so the state changed in between; replaying the call on the
            // block's state usually gives the contract's reason.
            if let Err(error) = call.call_raw().block(BlockId::number(block)).await
                && let Some(decoded) = error.as_decoded_interface_error::<JobBoard::JobBoardErrors>()
            {
                return Err(ActionError::Refused { operation, reason: describe_revert(&decoded) });
            }
            return Err(ActionError::Reverted { tx_hash, block });
        }
        let board = *self.board.address();
        let events = receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == board)
            .map(|log| {
                BoardEvent::decode(&log.inner.data).map_err(|e| {
                    ActionError::Malformed(format!(
                        "a log of {tx_hash} does not decode as a board event: {e}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Sent { tx_hash, block, events })
    }

    /// Turns a failed send into what the sender can act on: for a refusal [`NodeRefusal`]
    /// recognises, asks the node for the facts the message needs (best effort: a fact the node
    /// does not give is left out); anything else as [`call_error`] does.
    async fn explain_refusal<C: SolCall>(
        &self,
        operation: &'static str,
        account: Address,
        call: &Call<'_, C>,
        error: alloy::contract::Error,
    ) -> ActionError {
        let refusal = match &error {
            alloy::contract::Error::TransportError(transport) => NodeRefusal::of(transport),
            _ => None,
        };
        let Some(refusal) = refusal else { return call_error(operation, error) };
        let gas = match refusal {
            NodeRefusal::InsufficientFunds => call.estimate_gas().await.ok(),
            _ => None,
        };
        let sent = Refused { operation, account, chain_id: self.chain_id, url: &self.url };
        explain(&self.provider, refusal, sent, gas).await
    }

    /// Polls for the receipt: quickly at first (a dev chain mines at once), then every two
    /// seconds, until `--tx-timeout`.
    async fn wait_for_receipt(&self, tx_hash: TxHash) -> Result<TransactionReceipt, ActionError> {
        let started = Instant::now();
        let mut interval = Duration::from_millis(20);
        loop {
            match self.provider.get_transaction_receipt(tx_hash).await {
                Ok(Some(receipt)) => return Ok(receipt),
                Ok(None) => {}
                // A node that stops answering for a moment is waited out like an unmined
                // transaction; an error answer will not change.
                Err(error) if error.is_error_resp() => {
                    return Err(rpc_error("eth_getTransactionReceipt", error));
                }
                Err(_) => {}
            }
            if started.elapsed() >= self.tx_timeout {
                return Err(ActionError::NotMined { tx_hash, waited: self.tx_timeout });
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(Duration::from_secs(2));
        }
    }

    /// The latest block's timestamp: the earliest time a transaction sent now can see.
    ///
    /// # Errors
    /// A call error.
    pub async fn chain_time(&self) -> Result<u64, ActionError> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|e| rpc_error("eth_getBlockByNumber", e))?
            .ok_or_else(|| ActionError::Malformed("the node has no latest block".into()))?;
        Ok(block.header.timestamp)
    }

    /// A job's current posting: the content of its latest `JobPosted` or `JobUpdated` event
    /// (the contract keeps posting text only in events). Searches `[start_block, head]` at once,
    /// and backwards from the head in the ranges the node accepts if it refuses that.
    ///
    /// # Errors
    /// A call error, or [`ActionError::Malformed`] if no event for the job is found.
    pub async fn current_posting(&self, job_id: u64, start_block: u64) -> Result<Posting, ActionError> {
        let head = self.provider.get_block_number().await.map_err(|e| rpc_error("eth_blockNumber", e))?;
        let filter = Filter::new()
            .address(*self.board.address())
            .event_signature(vec![JobBoard::JobPosted::SIGNATURE_HASH, JobBoard::JobUpdated::SIGNATURE_HASH])
            .topic1(U256::from(job_id));
        let mut to = head;
        let mut span = head.saturating_sub(start_block).saturating_add(1);
        loop {
            let from = to.saturating_sub(span - 1).max(start_block);
            match self.provider.get_logs(&filter.clone().from_block(from).to_block(to)).await {
                Ok(logs) => {
                    let latest =
                        logs.iter().rev().find_map(|log| match BoardEvent::decode(&log.inner.data) {
                            Ok(
                                BoardEvent::JobPosted { posting, .. }
                                | BoardEvent::JobUpdated { posting, .. },
                            ) => Some(posting),
                            _ => None,
                        });
                    if let Some(posting) = latest {
                        return Ok(posting);
                    }
                    if from <= start_block {
                        return Err(ActionError::Malformed(format!(
                            "no JobPosted event for job {job_id} in blocks {start_block}..={head}: is \
                             --start-block after the board's deploy block?"
                        )));
                    }
                    to = from - 1;
                }
                Err(error) => {
                    let refusal = error.as_error_resp().and_then(|e| parse_refusal(&e.message));
                    let narrower = match refusal {
                        Some(RangeRefusal::MaxRange(n)) => n,
                        Some(RangeRefusal::Hint { to_block }) => to_block.saturating_sub(from) + 1,
                        Some(RangeRefusal::NoHint) => FALLBACK_LOG_RANGE,
                        None => return Err(rpc_error("eth_getLogs", error)),
                    };
                    if span == 1 {
                        return Err(rpc_error("eth_getLogs", error));
                    }
                    // Always shrink, so a node that keeps refusing cannot loop us forever.
                    span = narrower.min(span / 2).max(1);
                }
            }
        }
    }
}

/// The function name of a call type, e.g. `postJob`.
fn operation_name<C: SolCall>() -> &'static str {
    C::SIGNATURE.split('(').next().unwrap_or(C::SIGNATURE)
}

/// A failed contract call as an [`ActionError`]: the board's custom error described when the
/// call reverted with one, else the call error itself.
pub(crate) fn call_error(operation: &'static str, error: alloy::contract::Error) -> ActionError {
    if let Some(decoded) = error.as_decoded_interface_error::<JobBoard::JobBoardErrors>() {
        return ActionError::Refused { operation, reason: describe_revert(&decoded) };
    }
    let transient = matches!(&error, alloy::contract::Error::TransportError(e) if !e.is_error_resp());
    ActionError::Call { operation, transient, source: Box::new(redacted(&error)) }
}

/// A failed plain JSON-RPC call as an [`ActionError`].
pub(crate) fn rpc_error(operation: &'static str, error: alloy::transports::TransportError) -> ActionError {
    let transient = !error.is_error_resp();
    ActionError::Call { operation, transient, source: Box::new(redacted(&error)) }
}
