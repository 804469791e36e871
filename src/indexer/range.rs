//! Adaptive `eth_getLogs` ranges: grow quickly while answers are small, shrink or follow the
//! node's hint when it refuses, and never retry a refused range unchanged. A single block the
//! node refuses (more board logs than its result cap) is read from its receipts instead.

use std::sync::{Arc, Mutex, PoisonError};

use alloy::eips::BlockId;
use alloy::primitives::Address;
use alloy::rpc::types::Log;
use tracing::info;

use crate::chain::{BlockRef, ChainClient, ChainError, RangeRefusal};

/// The logs-per-call the sizer aims for: large enough that calls are few (0.5 per 1000 events),
/// small enough that a node's result cap (commonly 10 000) and response-size limits are rarely
/// hit, and that the ranges in flight hold little memory (the backfill's peak RSS at 100k events
/// fell by about 40 MiB from 5 000).
pub(crate) const TARGET_LOGS_PER_CALL: usize = 2_000;

/// Chooses the next range length from what the node accepted and refused so far. Shared by the
/// concurrent fetchers so that one refusal teaches all of them.
#[derive(Debug, Clone)]
pub struct RangeSizer {
    state: Arc<Mutex<SizerState>>,
}

#[derive(Debug)]
struct SizerState {
    size: u64,
    /// A hard limit the node stated ("exceed maximum block range: N").
    ceiling: u64,
    /// Logs per block in the last accepted answer: the basis of [`RangeSizer::expected_logs`].
    density: f64,
}

impl RangeSizer {
    /// Starts at `initial` blocks per call, never above `max`.
    pub fn new(initial: u64, max: u64) -> RangeSizer {
        let max = max.max(1);
        RangeSizer {
            state: Arc::new(Mutex::new(SizerState {
                size: initial.clamp(1, max),
                ceiling: max,
                density: 0.0,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SizerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The range length to request next.
    pub fn current(&self) -> u64 {
        self.lock().size
    }

    /// How many logs a range of `span` blocks should hold, judging by the last answer (at least
    /// one): what the backfill reserves from its memory budget before fetching it.
    pub fn expected_logs(&self, span: u64) -> usize {
        let expected = (self.lock().density * span as f64).ceil();
        if expected >= usize::MAX as f64 { usize::MAX } else { (expected as usize).max(1) }
    }

    /// A call over `span` blocks returned `logs` logs: grow while sparse, shrink when dense.
    /// Growth aims at [`TARGET_LOGS_PER_CALL`] at the density seen, at most 16-fold a call: from
    /// one block, an empty chain reaches a 10,000-block cap in four calls instead of fourteen,
    /// which on a node 100 ms away is most of a small backfill.
    pub fn accepted(&self, span: u64, logs: usize) {
        let mut s = self.lock();
        s.density = logs as f64 / span.max(1) as f64;
        if logs < TARGET_LOGS_PER_CALL / 2 && span >= s.size {
            let factor = (TARGET_LOGS_PER_CALL / logs.max(1)).clamp(2, 16) as u64;
            s.size = s.size.saturating_mul(factor).min(s.ceiling);
        } else if logs > TARGET_LOGS_PER_CALL * 2 {
            let scaled = (span as u128 * TARGET_LOGS_PER_CALL as u128 / logs as u128) as u64;
            s.size = scaled.clamp(1, s.ceiling);
        }
    }

    /// The node refused `span` blocks; `accepted_span` is what will be tried instead.
    pub fn refused(&self, refusal: RangeRefusal, accepted_span: u64) {
        let mut s = self.lock();
        if let RangeRefusal::MaxRange(n) = refusal {
            s.ceiling = s.ceiling.min(n.max(1));
        }
        s.size = accepted_span.clamp(1, s.ceiling);
    }
}

/// Why fetching a range failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The node failed (after retries).
    #[error(transparent)]
    Chain(#[from] ChainError),
}

/// The logs of a range, and its last block when the node named it on the way.
#[derive(Debug, Default)]
pub struct FetchedLogs {
    /// Every log of the contract in the range, in chain order.
    pub logs: Vec<Log>,
    /// The range's last block, from the batch that fetched its last logs; `None` when those
    /// came from the block's receipts instead.
    pub last_block: Option<BlockRef>,
}

/// Fetches every log of `contract` in `[from, to]`, splitting the range as the node demands
/// and reading a refused single block from its receipts.
///
/// # Errors
/// [`FetchError::Chain`] when the node keeps failing.
pub async fn fetch_all_logs(
    client: &ChainClient,
    sizer: &RangeSizer,
    contract: Address,
    from: u64,
    to: u64,
) -> Result<FetchedLogs, FetchError> {
    let mut fetched = FetchedLogs::default();
    let mut start = from;
    while start <= to {
        let mut end = to;
        loop {
            match client.logs(contract, start, end).await? {
                Ok((batch, last)) => {
                    sizer.accepted(end - start + 1, batch.len());
                    fetched.logs.extend(batch);
                    fetched.last_block = Some(last);
                    break;
                }
                Err(refusal) => {
                    if end == start {
                        let batch = client.receipt_logs(contract, BlockId::number(start)).await?;
                        info!(
                            block = start,
                            logs = batch.len(),
                            "the node refuses eth_getLogs for this single block; read its logs from its receipts"
                        );
                        fetched.logs.extend(batch);
                        fetched.last_block = None;
                        break;
                    }
                    let halfway = start + (end - start) / 2;
                    let new_end = match refusal {
                        RangeRefusal::Hint { to_block } if to_block >= start && to_block < end => to_block,
                        RangeRefusal::MaxRange(n) if n >= 1 && start + n - 1 < end => start + n - 1,
                        _ => halfway,
                    };
                    sizer.refused(refusal, new_end - start + 1);
                    end = new_end;
                }
            }
        }
        start = end + 1;
    }
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_while_sparse_and_respects_a_stated_ceiling() {
        let sizer = RangeSizer::new(100, 1_000_000);
        sizer.accepted(100, 0);
        assert_eq!(sizer.current(), 1_600, "nothing found: 16-fold");
        sizer.accepted(1_600, 500);
        assert_eq!(sizer.current(), 6_400, "a quarter of the target: 4-fold");
        sizer.accepted(6_400, 999);
        assert_eq!(sizer.current(), 12_800, "just under half the target: 2-fold");
        sizer.refused(RangeRefusal::MaxRange(2_000), 2_000);
        assert_eq!(sizer.current(), 2_000);
        sizer.accepted(2_000, 0);
        assert_eq!(sizer.current(), 2_000, "must not grow past the node's stated maximum");
    }

    #[test]
    fn shrinks_when_dense_and_follows_hints() {
        let sizer = RangeSizer::new(10_000, 1_000_000);
        sizer.accepted(10_000, 40_000);
        assert_eq!(sizer.current(), 10_000 * TARGET_LOGS_PER_CALL as u64 / 40_000);
        sizer.refused(RangeRefusal::Hint { to_block: 99 }, 100);
        assert_eq!(sizer.current(), 100);
        // A refusal by result count is density, not a ceiling: the sizer may grow again.
        sizer.accepted(100, 1);
        assert_eq!(sizer.current(), 1_600);
    }

    #[test]
    fn expects_the_last_answers_density() {
        let sizer = RangeSizer::new(1, 1_000);
        assert_eq!(sizer.expected_logs(10), 1, "nothing known yet: at least one");
        sizer.accepted(4, 10_000);
        assert_eq!(sizer.expected_logs(3), 7_500);
        sizer.accepted(8, 0);
        assert_eq!(sizer.expected_logs(100), 1);
    }
}
