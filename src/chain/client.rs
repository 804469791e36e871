//! The indexer's view of the node: read-only JSON-RPC calls with a time-out, one retry policy
//! (capped exponential backoff) for every transient failure, and endpoints chosen by health and
//! head height (see [`super::endpoints`]).
//!
//! A *session* ([`ChainClient::session`]) pins every call to one endpoint: one indexer step reads
//! its head, headers and logs from the same node, so that what it checks the logs against is
//! that node's view. Its calls retry on that endpoint; when it goes down, the step ends and the
//! next session chooses another.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::{Block, Filter, Log};
use alloy::transports::{TransportError, TransportErrorKind};
use serde::Deserialize;
use tracing::{debug, info, warn};
use url::Url;

use super::endpoints::{ChainCheck, Endpoint, Endpoints};
use super::error::{NodeBehind, NodeLacksBlock};
use super::logs_answer::{LogsAnswer, fetch_logs};
use super::refusal::{RangeRefusal, parse_refusal};
use super::{BlockRef, ChainError, Header};
use crate::telemetry::Metrics;

/// How hard to try before giving up on a call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Time-out of one attempt.
    pub timeout: Duration,
    /// Attempts per call before it fails.
    pub max_attempts: u32,
    /// First backoff; doubles per attempt.
    pub initial_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            timeout: Duration::from_secs(20),
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// How often every endpoint is probed by default: the longest a recovered or caught-up first
/// endpoint waits before it is failed back to.
pub const DEFAULT_PROBE_EVERY: Duration = Duration::from_secs(30);

/// Whether the node has a `finalized` block, as its answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finality {
    /// The newest finalized block.
    Block(u64),
    /// The node answered that it has no `finalized` tag (or no finalized block): the caller
    /// falls back to a depth below the head.
    Unsupported,
}

/// A read-only client for one board on one chain, over one or more RPC URLs.
#[derive(Clone)]
pub struct ChainClient {
    inner: Arc<Inner>,
    /// The endpoint every call goes to, in a session.
    pin: Option<usize>,
}

struct Inner {
    endpoints: Endpoints,
    retry: RetryPolicy,
    metrics: Metrics,
    /// The endpoint the last session chose (logged when it changes).
    last_chosen: AtomicUsize,
}

/// The part of a receipt the board's logs come from (`eth_getBlockReceipts`).
#[derive(Debug, Deserialize)]
struct ReceiptLogs {
    logs: Vec<Log>,
}

/// No error answer is information: every error is retried or returned by its kind.
fn never(_: &TransportError) -> bool {
    false
}

/// Whether `error` is the node refusing an `eth_getLogs` range as too large.
fn is_refusal(error: &TransportError) -> bool {
    error.as_error_resp().is_some_and(|e| parse_refusal(&e.message).is_some())
}

/// Whether `error` is the node answering that it has no `finalized` tag.
fn is_without_finalized(error: &TransportError) -> bool {
    error.as_error_resp().is_some_and(|e| lacks_finalized_tag(e.code, &e.message))
}

impl ChainClient {
    /// A client over `urls` (in preference order), probing them every
    /// [`DEFAULT_PROBE_EVERY`].
    ///
    /// # Errors
    /// [`ChainError::Malformed`] if `urls` is empty.
    pub fn new(urls: &[Url], retry: RetryPolicy, metrics: Metrics) -> Result<ChainClient, ChainError> {
        ChainClient::with_probe_every(urls, retry, DEFAULT_PROBE_EVERY, metrics)
    }

    /// [`Self::new`] with another probe interval (tests fail back within seconds).
    ///
    /// # Errors
    /// [`ChainError::Malformed`] if `urls` is empty.
    pub fn with_probe_every(
        urls: &[Url],
        retry: RetryPolicy,
        probe_every: Duration,
        metrics: Metrics,
    ) -> Result<ChainClient, ChainError> {
        if urls.is_empty() {
            return Err(ChainError::Malformed("no RPC URL given".into()));
        }
        let endpoints = Endpoints::new(urls, probe_every);
        Ok(ChainClient {
            inner: Arc::new(Inner { endpoints, retry, metrics, last_chosen: AtomicUsize::new(usize::MAX) }),
            pin: None,
        })
    }

    /// The metrics this client records into.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The endpoint this session reads from, redacted for logs (`None` outside a session).
    pub fn endpoint(&self) -> Option<&str> {
        self.pin.map(|index| self.inner.endpoints.get(index).shown.as_str())
    }

    /// Asks every endpoint for its chain id and returns the chain they serve: `expected`
    /// (`--chain-id`) if given, else the first endpoint's answer. An endpoint that answers
    /// with another chain is a misconfiguration and fails the start; one that does not answer
    /// is reported and checked again before it is used.
    ///
    /// # Errors
    /// [`ChainError::WrongChain`] for an endpoint on another chain; [`ChainError::Rpc`] when
    /// no endpoint answers within the retry policy.
    pub async fn connect(&self, expected: Option<u64>) -> Result<u64, ChainError> {
        let endpoints = &self.inner.endpoints;
        if let Some(chain_id) = expected {
            endpoints.expect_chain(chain_id);
        }
        let retry = self.inner.retry;
        let mut backoff = retry.initial_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answers =
                futures::future::join_all((0..endpoints.len()).map(|index| {
                    self.attempt(index, "eth_chainId", |p| async move { p.get_chain_id().await })
                }))
                .await;
            let mut last_error = None;
            for (index, answer) in answers.into_iter().enumerate() {
                let shown = &endpoints.get(index).shown;
                match answer {
                    Ok(found) => {
                        if let ChainCheck::Wrong { found, expected } = endpoints.check_chain(index, found) {
                            return Err(ChainError::WrongChain { url: shown.clone(), expected, found });
                        }
                    }
                    Err(error) => {
                        warn!(endpoint = index, url = %shown, %error, "rpc endpoint did not answer eth_chainId; it is checked again before use");
                        last_error = Some(error);
                    }
                }
            }
            match (endpoints.chain(), last_error) {
                (Some(chain_id), _) if endpoints.choose().is_some() => return Ok(chain_id),
                (_, Some(error)) if attempt >= retry.max_attempts || !error.is_transient() => {
                    return Err(error);
                }
                _ => {}
            }
            tokio::time::sleep(jittered(backoff)).await;
            backoff = (backoff * 2).min(retry.max_backoff);
        }
    }

    /// A client pinned to the best endpoint (probing the endpoints first when due), for one
    /// indexer step.
    ///
    /// # Errors
    /// [`ChainError::NoEndpoint`] (transient) when no endpoint is usable now.
    pub async fn session(&self) -> Result<ChainClient, ChainError> {
        let endpoints = &self.inner.endpoints;
        if endpoints.probe_due() {
            self.probe().await;
        }
        let index = endpoints.choose().ok_or_else(|| ChainError::NoEndpoint(endpoints.summary()))?;
        let previous = self.inner.last_chosen.swap(index, Ordering::Relaxed);
        if previous != index {
            let shown = &endpoints.get(index).shown;
            info!(endpoint = index, url = %shown, "reading from rpc endpoint");
            self.inner.metrics.rpc_endpoint_chosen(index, shown);
        }
        Ok(ChainClient { inner: self.inner.clone(), pin: Some(index) })
    }

    /// Asks every endpoint outside its cooldown for its head (and its chain id first when it
    /// must confirm it), once each: what [`Endpoints::choose`] ranks them by.
    async fn probe(&self) {
        let endpoints = &self.inner.endpoints;
        let probes =
            (0..endpoints.len()).filter(|&index| !endpoints.cooling_down(index)).map(|index| async move {
                if endpoints.needs_chain_check(index) {
                    let found =
                        self.attempt(index, "eth_chainId", |p| async move { p.get_chain_id().await }).await?;
                    if let ChainCheck::Wrong { .. } = endpoints.check_chain(index, found) {
                        return Ok(());
                    }
                }
                let head = self
                    .attempt(index, "eth_blockNumber", |p| async move { p.get_block_number().await })
                    .await?;
                endpoints.saw_head(index, head, &self.inner.metrics);
                Ok::<(), ChainError>(())
            });
        futures::future::join_all(probes).await;
        endpoints.probed();
    }

    /// One attempt of `call` on endpoint `index`'s provider (see [`Self::attempt_on`]).
    async fn attempt<T, F, Fut>(&self, index: usize, method: &'static str, call: F) -> Result<T, ChainError>
    where
        F: FnOnce(RootProvider) -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        self.attempt_on(index, method, |endpoint| call(endpoint.provider.clone())).await
    }

    /// One attempt of `call` on endpoint `index`, with the time-out, recorded in the metrics and
    /// the endpoint's health.
    async fn attempt_on<T, F, Fut>(
        &self,
        index: usize,
        method: &'static str,
        call: F,
    ) -> Result<T, ChainError>
    where
        F: FnOnce(&Endpoint) -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        let inner = &self.inner;
        let endpoint = inner.endpoints.get(index);
        let timeout = inner.retry.timeout;
        let result = match tokio::time::timeout(timeout, call(endpoint)).await {
            Ok(result) => result,
            Err(_) => Err(TransportErrorKind::custom_str(&format!("timed out after {timeout:?}"))),
        };
        match result {
            Ok(value) => {
                inner.endpoints.succeeded(index);
                inner.metrics.rpc_call(method, "ok");
                Ok(value)
            }
            Err(failure) => {
                let error = ChainError::Rpc { method, failure };
                if error.is_transient() {
                    inner.metrics.rpc_call(method, "transient_error");
                    inner.metrics.rpc_endpoint_error(index, &endpoint.shown);
                    inner.endpoints.failed(index);
                } else {
                    inner.metrics.rpc_call(method, "error_response");
                }
                Err(error)
            }
        }
    }

    /// Runs `call` with the one retry policy: on the pinned endpoint in a session (until it goes
    /// down, when there is another to go to), else on the best endpoint, failing over. Error
    /// answers for which `is_answer` holds are information (a range refusal, a missing tag) and
    /// come back at once; other transient failures are retried with backoff.
    async fn call_with<T, F, Fut>(
        &self,
        method: &'static str,
        is_answer: fn(&TransportError) -> bool,
        call: F,
    ) -> Result<T, ChainError>
    where
        F: Fn(RootProvider) -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        self.call_with_on(method, is_answer, |endpoint: &Endpoint| call(endpoint.provider.clone())).await
    }

    /// [`Self::call_with`] for a call that needs more of the endpoint than its provider.
    async fn call_with_on<T, F, Fut>(
        &self,
        method: &'static str,
        is_answer: fn(&TransportError) -> bool,
        call: F,
    ) -> Result<T, ChainError>
    where
        F: Fn(&Endpoint) -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        let inner = &self.inner;
        let retry = inner.retry;
        let mut backoff = retry.initial_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let index = self.pin.unwrap_or_else(|| inner.endpoints.any());
            let error = match self.attempt_on(index, method, &call).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let answer = match &error {
                ChainError::Rpc { failure, .. } => is_answer(failure),
                _ => false,
            };
            if answer || !error.is_transient() || attempt >= retry.max_attempts {
                return Err(error);
            }
            let down = inner.endpoints.cooling_down(index);
            if self.pin.is_some() && down && inner.endpoints.len() > 1 {
                // The step ends here; the next session reads from another endpoint.
                return Err(error);
            }
            let shown = &inner.endpoints.get(index).shown;
            inner.metrics.rpc_endpoint_retry(index, shown);
            warn!(method, endpoint = index, url = %shown, attempt, ?backoff, %error, "rpc call failed; retrying");
            tokio::time::sleep(jittered(backoff)).await;
            backoff = (backoff * 2).min(retry.max_backoff);
        }
    }

    async fn call<T, F, Fut>(&self, method: &'static str, call: F) -> Result<T, ChainError>
    where
        F: Fn(RootProvider) -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        self.call_with(method, never, call).await
    }

    /// The chain id the node reports.
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted or on an error answer.
    pub async fn chain_id(&self) -> Result<u64, ChainError> {
        self.call("eth_chainId", |p| async move { p.get_chain_id().await }).await
    }

    /// Whether `address` holds contract code at the latest block (an EOA or a wrong-network
    /// address holds none).
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted or on an error answer.
    pub async fn has_code(&self, address: Address) -> Result<bool, ChainError> {
        let code = self.call("eth_getCode", |p| async move { p.get_code_at(address).await }).await?;
        Ok(!code.is_empty())
    }

    /// The node's latest block number (recorded as the endpoint's head).
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted or on an error answer.
    pub async fn head(&self) -> Result<u64, ChainError> {
        let head = self.call("eth_blockNumber", |p| async move { p.get_block_number().await }).await?;
        if let Some(index) = self.pin {
            self.inner.endpoints.saw_head(index, head, &self.inner.metrics);
        }
        Ok(head)
    }

    /// The node's `finalized` block. Errors (time-outs, rate limits, internal errors) are
    /// retried and then returned: only an answer that says the node lacks the tag is
    /// [`Finality::Unsupported`].
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted.
    pub async fn finalized(&self) -> Result<Finality, ChainError> {
        let result = self
            .call_with("eth_getBlockByNumber", is_without_finalized, |p| async move {
                p.get_block_by_number(BlockNumberOrTag::Finalized).await
            })
            .await;
        match result {
            Ok(Some(block)) => Ok(Finality::Block(block.header.number)),
            // A node with the tag but no finalized block yet answers null.
            Ok(None) => Ok(Finality::Unsupported),
            Err(ChainError::Rpc { failure, .. }) if is_without_finalized(&failure) => {
                Ok(Finality::Unsupported)
            }
            Err(other) => Err(other),
        }
    }

    /// The header of block `number` with its logs bloom, or `None` if the node does not have it
    /// (yet).
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted or on an error answer.
    pub async fn header(&self, number: u64) -> Result<Option<Header>, ChainError> {
        let block = self
            .call("eth_getBlockByNumber", |p| async move {
                p.get_block_by_number(BlockNumberOrTag::Number(number)).await
            })
            .await?;
        Ok(block.map(|b| Header { block: block_ref(&b), logs_bloom: b.header.logs_bloom }))
    }

    /// The header of block `number`, or `None` if the node does not have it (yet).
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted or on an error answer.
    pub async fn block(&self, number: u64) -> Result<Option<BlockRef>, ChainError> {
        Ok(self.header(number).await?.map(|h| h.block))
    }

    /// The header of block `number`, which must exist (a final block, or one the node returned
    /// logs of): "no such block" is the node lagging and is retried like a failure.
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted.
    pub async fn block_required(&self, number: u64) -> Result<BlockRef, ChainError> {
        self.call("eth_getBlockByNumber", |p| async move {
            match p.get_block_by_number(BlockNumberOrTag::Number(number)).await? {
                Some(b) => Ok(block_ref(&b)),
                None => Err(TransportErrorKind::custom(NodeLacksBlock(number.to_string()))),
            }
        })
        .await
    }

    /// The board's logs in `[from, to]` with the header of block `to`, or the node's refusal of
    /// the range, parsed as the answer arrives ([`super::logs_answer`]). The node's head is
    /// asked in the same JSON-RPC batch, before the logs: an
    /// answer from a node whose head is below `to` may lack logs (a lagging node behind a load
    /// balancer, or a provider capping `toBlock` at its head), so it is retried like a failure
    /// and never returned. Block `to`'s header comes in the same batch too, so a backfill knows
    /// the hash of each range's last block (its checkpoint) without another round trip.
    ///
    /// # Errors
    /// `Ok(Err(refusal))` when the node refuses the range as too large; [`ChainError::Rpc`]
    /// once retries are exhausted or on any other error answer.
    pub async fn logs(
        &self,
        contract: Address,
        from: u64,
        to: u64,
    ) -> Result<Result<(Vec<Log>, BlockRef), RangeRefusal>, ChainError> {
        let filter = Filter::new().address(contract).from_block(from).to_block(to);
        let result = self
            .call_with_on("eth_getLogs", is_refusal, |endpoint: &Endpoint| {
                let (http, url, filter) = (endpoint.http.clone(), endpoint.url.clone(), filter.clone());
                async move {
                    let LogsAnswer { head, logs, last } = fetch_logs(&http, &url, &filter, to).await?;
                    if head < to {
                        return Err(TransportErrorKind::custom(NodeBehind { head, needed: to }));
                    }
                    let Some(last) = last else {
                        return Err(TransportErrorKind::custom(NodeLacksBlock(to.to_string())));
                    };
                    Ok((logs, block_ref(&last)))
                }
            })
            .await;
        match result {
            Ok(answer) => Ok(Ok(answer)),
            Err(ChainError::Rpc { failure, method }) => {
                match failure.as_error_resp().and_then(|e| parse_refusal(&e.message)) {
                    Some(refusal) => {
                        debug!(from, to, ?refusal, "node refused log range");
                        Ok(Err(refusal))
                    }
                    None => Err(ChainError::Rpc { failure, method }),
                }
            }
            Err(other) => Err(other),
        }
    }

    /// The board's logs in the block with hash `hash`: by `eth_getLogs` with a `blockHash`
    /// filter, or from the block's receipts when the node refuses even that (more board logs in
    /// the block than its result cap).
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted (a node that does not know the block
    /// answers with an error, retried as transient).
    pub async fn logs_at(&self, contract: Address, hash: B256) -> Result<Vec<Log>, ChainError> {
        let filter = Filter::new().address(contract).at_block_hash(hash);
        let result = self
            .call_with("eth_getLogs", is_refusal, |p| {
                let filter = filter.clone();
                async move { p.get_logs(&filter).await }
            })
            .await;
        match result {
            Ok(logs) => Ok(logs),
            Err(ChainError::Rpc { failure, .. }) if is_refusal(&failure) => {
                self.receipt_logs(contract, BlockId::Hash(hash.into())).await
            }
            Err(other) => Err(other),
        }
    }

    /// The board's logs of one block from `eth_getBlockReceipts`: the way around a node's
    /// result cap when a single block holds more board logs than it returns per `eth_getLogs`.
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted (a node without the block is retried).
    pub async fn receipt_logs(&self, contract: Address, block: BlockId) -> Result<Vec<Log>, ChainError> {
        self.call("eth_getBlockReceipts", |p| async move {
            let receipts: Option<Vec<ReceiptLogs>> =
                p.client().request("eth_getBlockReceipts", (block,)).await?;
            let Some(receipts) = receipts else {
                return Err(TransportErrorKind::custom(NodeLacksBlock(block.to_string())));
            };
            Ok(receipts.into_iter().flat_map(|r| r.logs).filter(|log| log.address() == contract).collect())
        })
        .await
    }
}

/// The parts of a block the indexer keeps.
fn block_ref(block: &Block) -> BlockRef {
    BlockRef {
        number: block.header.number,
        hash: block.header.hash,
        parent_hash: block.header.parent_hash,
        time: block.header.timestamp,
    }
}

/// Whether an error answer to `eth_getBlockByNumber("finalized")` says the node lacks the tag:
/// invalid params (Hardhat, Ganache: "invalid block tag"), or a message naming the finalized
/// block as unknown or unsupported (pre-merge Geth: "finalized block not found"). Any other
/// error (rate limits, internal errors) is a failure, retried, never read as "no tag".
fn lacks_finalized_tag(code: i64, message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    code == -32602
        || (message.contains("finalized")
            && ["not found", "not supported", "unsupported", "unknown", "invalid"]
                .iter()
                .any(|m| message.contains(m)))
}

/// Up to +25% random jitter so that many clients do not retry in lockstep.
fn jittered(backoff: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    backoff + backoff.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_answers_that_say_so_mean_no_finalized_tag() {
        assert!(lacks_finalized_tag(-32602, "invalid block tag finalized"));
        assert!(lacks_finalized_tag(-32000, "finalized block not found"));
        assert!(!lacks_finalized_tag(-32005, "rate limit exceeded"));
        assert!(!lacks_finalized_tag(-32603, "internal error"));
        assert!(!lacks_finalized_tag(429, "Too Many Requests"));
    }
}
