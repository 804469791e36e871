//! The indexer's view of the node: read-only JSON-RPC calls with a time-out, retry with
//! exponential backoff for transient failures, and failover across several RPC URLs.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use alloy::rpc::types::{Filter, Log};
use alloy::transports::{TransportError, TransportErrorKind};
use tracing::{debug, warn};
use url::Url;

use super::{BlockRef, ChainError};
use crate::telemetry::Metrics;

/// How hard to try before giving up on a call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Time-out of one attempt.
    pub timeout: Duration,
    /// Attempts per call before it fails (each failure also moves to the next URL).
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

/// A read-only client for one board on one chain, over one or more RPC URLs.
#[derive(Clone)]
pub struct ChainClient {
    inner: Arc<Inner>,
}

struct Inner {
    endpoints: Vec<(Url, RootProvider)>,
    active: AtomicUsize,
    retry: RetryPolicy,
    metrics: Metrics,
}

/// An error answer from `eth_getLogs` that says the range was too large, with the node's
/// suggested range if it gave one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRefusal {
    /// The node named a range it would accept, starting at the requested `fromBlock`.
    Hint {
        /// The suggested last block.
        to_block: u64,
    },
    /// The node named its maximum range length in blocks.
    MaxRange(u64),
    /// The node refused without saying what it would accept.
    NoHint,
}

impl ChainClient {
    /// A client over `urls` (tried in order; a failing one hands over to the next).
    ///
    /// # Errors
    /// [`ChainError::Malformed`] if `urls` is empty.
    pub fn new(urls: &[Url], retry: RetryPolicy, metrics: Metrics) -> Result<ChainClient, ChainError> {
        if urls.is_empty() {
            return Err(ChainError::Malformed("no RPC URL given".into()));
        }
        let endpoints = urls
            .iter()
            .map(|url| {
                (url.clone(), ProviderBuilder::new().disable_recommended_fillers().connect_http(url.clone()))
            })
            .map(|(url, p)| (url, p.root().clone()))
            .collect();
        Ok(ChainClient { inner: Arc::new(Inner { endpoints, active: AtomicUsize::new(0), retry, metrics }) })
    }

    /// The metrics this client records into.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Runs `call` against the active endpoint with time-out, retry and failover.
    async fn call<T, F, Fut>(&self, method: &'static str, call: F) -> Result<T, ChainError>
    where
        F: Fn(RootProvider) -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        self.call_with(method, true, call).await
    }

    /// [`Self::call`], optionally returning error answers at once instead of retrying them
    /// (for calls whose error answer is information, like an unsupported block tag).
    async fn call_with<T, F, Fut>(
        &self,
        method: &'static str,
        retry_error_answers: bool,
        call: F,
    ) -> Result<T, ChainError>
    where
        F: Fn(RootProvider) -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        let retry = self.inner.retry;
        let mut backoff = retry.initial_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let index = self.inner.active.load(Ordering::Relaxed) % self.inner.endpoints.len();
            let (url, provider) = &self.inner.endpoints[index];
            let result = match tokio::time::timeout(retry.timeout, call(provider.clone())).await {
                Ok(result) => result,
                Err(_) => {
                    Err(TransportErrorKind::custom_str(&format!("timed out after {:?}", retry.timeout)))
                }
            };
            match result {
                Ok(value) => {
                    self.inner.metrics.rpc_call(method, "ok");
                    return Ok(value);
                }
                Err(source) => {
                    let answered = source.is_error_resp();
                    let error = ChainError::Rpc { method, source };
                    if !error.is_transient() || (answered && !retry_error_answers) {
                        self.inner.metrics.rpc_call(method, "error_response");
                        return Err(error);
                    }
                    self.inner.metrics.rpc_call(method, "transient_error");
                    if attempt >= retry.max_attempts {
                        return Err(error);
                    }
                    if self.inner.endpoints.len() > 1 {
                        // Fail over: the next call goes to the next URL.
                        let _ = self.inner.active.compare_exchange(
                            index,
                            (index + 1) % self.inner.endpoints.len(),
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        );
                    }
                    warn!(method, url = %redact(url), attempt, ?backoff, %error, "rpc call failed; retrying");
                    tokio::time::sleep(jittered(backoff)).await;
                    backoff = (backoff * 2).min(retry.max_backoff);
                }
            }
        }
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

    /// The node's latest block number.
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted or on an error answer.
    pub async fn head(&self) -> Result<u64, ChainError> {
        self.call("eth_blockNumber", |p| async move { p.get_block_number().await }).await
    }

    /// The node's `finalized` block number, or `None` if the node does not support the tag.
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted.
    pub async fn finalized(&self) -> Result<Option<u64>, ChainError> {
        let result = self
            .call_with("eth_getBlockByNumber", false, |p| async move {
                p.get_block_by_number(BlockNumberOrTag::Finalized).await
            })
            .await;
        match result {
            Ok(block) => Ok(block.map(|b| b.header.number)),
            // Nodes without the tag answer with an error; that is a capability, not a failure.
            Err(ChainError::Rpc { source, .. }) if source.is_error_resp() => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The header of block `number`, or `None` if the node does not have it (yet).
    ///
    /// # Errors
    /// [`ChainError::Rpc`] once retries are exhausted or on an error answer.
    pub async fn block(&self, number: u64) -> Result<Option<BlockRef>, ChainError> {
        let block = self
            .call("eth_getBlockByNumber", |p| async move {
                p.get_block_by_number(BlockNumberOrTag::Number(number)).await
            })
            .await?;
        Ok(block.map(|b| BlockRef {
            number: b.header.number,
            hash: b.header.hash,
            parent_hash: b.header.parent_hash,
            time: b.header.timestamp,
        }))
    }

    /// The board's logs in `[from, to]`, or the node's refusal of the range.
    ///
    /// # Errors
    /// `Ok(Err(refusal))` when the node refuses the range as too large; [`ChainError::Rpc`]
    /// once retries are exhausted or on any other error answer.
    pub async fn logs(
        &self,
        contract: Address,
        from: u64,
        to: u64,
    ) -> Result<Result<Vec<Log>, RangeRefusal>, ChainError> {
        let filter = Filter::new().address(contract).from_block(from).to_block(to);
        // Error answers come back at once: a refusal is parsed below, anything else is retried
        // here by hand so that a range refusal is never retried unchanged.
        let result = self
            .call_with("eth_getLogs", false, |p| {
                let filter = filter.clone();
                async move { p.get_logs(&filter).await }
            })
            .await;
        match result {
            Ok(logs) => Ok(Ok(logs)),
            Err(ChainError::Rpc { source, method }) => {
                match source.as_error_resp().and_then(|e| parse_refusal(&e.message)) {
                    Some(refusal) => {
                        debug!(from, to, ?refusal, "node refused log range");
                        Ok(Err(refusal))
                    }
                    None => Err(ChainError::Rpc { source, method }),
                }
            }
            Err(other) => Err(other),
        }
    }

    /// [`Self::logs`] with error answers that are not refusals retried like transport errors.
    ///
    /// # Errors
    /// As [`Self::logs`].
    pub async fn logs_retrying(
        &self,
        contract: Address,
        from: u64,
        to: u64,
    ) -> Result<Result<Vec<Log>, RangeRefusal>, ChainError> {
        let retry = self.inner.retry;
        let mut backoff = retry.initial_backoff;
        let mut attempt = 1;
        loop {
            match self.logs(contract, from, to).await {
                Err(error) if error.is_transient() && attempt < retry.max_attempts => {
                    warn!(from, to, attempt, %error, "eth_getLogs failed; retrying");
                    tokio::time::sleep(jittered(backoff)).await;
                    backoff = (backoff * 2).min(retry.max_backoff);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Recognises the error messages providers use for "range too large" and extracts the hint.
///
/// Seen in the wild: "query returned more than 10000 results. Try with this block range
/// [0x1, 0x2]." (Infura, Alchemy and others), "exceed maximum block range: 2000", "block range
/// too large", "Log response size exceeded", "range is too large, max is 1k blocks", "limit
/// exceeded".
pub fn parse_refusal(message: &str) -> Option<RangeRefusal> {
    let lower = message.to_ascii_lowercase();
    let is_refusal = [
        "more than",
        "block range",
        "range too large",
        "range is too large",
        "too many",
        "response size",
        "limit exceeded",
        "exceed maximum",
        "max range",
    ]
    .iter()
    .any(|needle| lower.contains(needle));
    if !is_refusal {
        return None;
    }
    if let Some(start) = message.find('[') {
        let inner = &message[start + 1..];
        if let Some((_, second)) = inner.split_once(',') {
            let second = second.trim_start();
            let end = second.find(']').unwrap_or(second.len());
            if let Some(to_block) = parse_quantity(second[..end].trim()) {
                return Some(RangeRefusal::Hint { to_block });
            }
        }
    }
    // "exceed maximum block range: 2000" / "max is 1k blocks"
    let digits: String = lower
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or_default()
        .to_owned();
    if lower.contains("range") {
        let n = if let Some(k) = digits.strip_suffix('k') {
            k.parse::<u64>().ok().map(|k| k * 1000)
        } else {
            digits.parse().ok()
        };
        if let Some(n) = n.filter(|&n| n > 0) {
            return Some(RangeRefusal::MaxRange(n));
        }
    }
    Some(RangeRefusal::NoHint)
}

fn parse_quantity(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Up to +25% random jitter so that many clients do not retry in lockstep.
fn jittered(backoff: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    backoff + backoff.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

/// An RPC URL for logs: provider URLs often carry an API key in the path or query.
pub fn redact(url: &Url) -> String {
    let path = if url.path().len() > 1 || url.query().is_some() { "/…" } else { "" };
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or("?"),
        url.port().map(|p| format!(":{p}")).unwrap_or_default() + path
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_provider_refusals() {
        assert_eq!(
            parse_refusal(
                "query returned more than 10000 results. Try with this block range [0x1E8480, 0x1E84FF]."
            ),
            Some(RangeRefusal::Hint { to_block: 0x1E84FF })
        );
        assert_eq!(parse_refusal("exceed maximum block range: 2000"), Some(RangeRefusal::MaxRange(2000)));
        assert_eq!(parse_refusal("range is too large, max is 1k blocks"), Some(RangeRefusal::MaxRange(1000)));
        assert_eq!(parse_refusal("query returned more than 500 results"), Some(RangeRefusal::NoHint));
        assert_eq!(parse_refusal("Log response size exceeded."), Some(RangeRefusal::NoHint));
        assert_eq!(parse_refusal("execution reverted"), None);
        assert_eq!(parse_refusal("invalid params"), None);
    }

    #[test]
    fn redacts_keys_in_urls() {
        let url = Url::parse("https://eth-mainnet.example.com/v2/SECRETKEY").expect("valid url");
        assert_eq!(redact(&url), "https://eth-mainnet.example.com/…");
        let local = Url::parse("http://127.0.0.1:8545").expect("valid url");
        assert_eq!(redact(&local), "http://127.0.0.1:8545");
    }
}
