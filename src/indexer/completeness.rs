//! Proof that the logs a node returned are all the logs there are, checked before a batch is
//! written (a checkpoint that passes a block whose events were never written is the one loss
//! no later step can see).
//!
//! Three checks, each for a way nodes drop logs without an error:
//! - the node's head is asked in the same request as the logs (see
//!   [`crate::chain::ChainClient::logs`]): a lagging node, or one that caps `toBlock` at its
//!   own head, is asked again;
//! - while following, every block's logs are checked against its header from the same node:
//!   a log whose `blockHash` is not the header's, or a bloom that may hold the board's address
//!   with no log returned, means the block's logs are fetched again by `blockHash`;
//! - the contract numbers jobs and applications 1, 2, 3, ...: a `JobPosted` or
//!   `ApplicationSubmitted` that skips an id proves logs before it are missing, and nothing
//!   past the gap is written.

use std::collections::HashMap;

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, BloomInput};
use alloy::rpc::types::Log;
use tracing::warn;

use super::IndexerError;
use crate::chain::{ChainClient, Header};
use crate::contract::{BoardEvent, IndexedEvent};
use crate::store::LastIds;

/// The highest job and application ids written so far: what the next batch must continue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IdCursor {
    last: LastIds,
}

/// Which sequence an id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `jobId` of `JobPosted`.
    Job,
    /// `applicationId` of `ApplicationSubmitted`.
    Application,
}

impl std::fmt::Display for IdKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdKind::Job => "job",
            IdKind::Application => "application",
        })
    }
}

/// A new id that does not follow the last one: the logs in between were not returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{kind} id {found} in block {block} does not follow {kind} id {last}: the node left out logs before it"
)]
pub struct IdGap {
    /// The sequence.
    pub kind: IdKind,
    /// The last id written (or seen earlier in the batch).
    pub last: u64,
    /// The id found instead of `last + 1`.
    pub found: u64,
    /// The block holding it.
    pub block: u64,
}

impl IdCursor {
    /// The cursor after the ids the store holds.
    pub fn new(last: LastIds) -> IdCursor {
        IdCursor { last }
    }

    /// The cursor after `events` (in chain order), or the first gap. A sequence the store has
    /// no id of yet starts wherever the first event says: the index may start after the
    /// board's first postings.
    pub fn advance(&self, events: &[IndexedEvent]) -> Result<IdCursor, IdGap> {
        let mut last = self.last;
        for indexed in events {
            let (kind, id, slot) = match &indexed.event {
                BoardEvent::JobPosted { job_id, .. } => (IdKind::Job, *job_id, &mut last.job),
                BoardEvent::ApplicationSubmitted { application_id, .. } => {
                    (IdKind::Application, *application_id, &mut last.application)
                }
                _ => continue,
            };
            match *slot {
                Some(previous) if id != previous.saturating_add(1) => {
                    return Err(IdGap {
                        kind,
                        last: previous,
                        found: id,
                        block: indexed.position.block_number,
                    });
                }
                _ => *slot = Some(id),
            }
        }
        Ok(IdCursor { last })
    }
}

/// Why a block's logs are asked for again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Suspicion {
    /// A returned log names another block hash than the header (another fork, or a node
    /// answering from another view).
    HashMismatch,
    /// The header's bloom may hold the board's address, yet no log was returned.
    BloomWithoutLogs,
}

/// The headers (by position) whose logs must be fetched again, and why.
pub(crate) fn suspect_blocks(contract: Address, headers: &[Header], logs: &[Log]) -> Vec<(usize, Suspicion)> {
    let mut returned: HashMap<u64, Vec<Option<B256>>> = HashMap::new();
    for log in logs {
        if let Some(number) = log.block_number {
            returned.entry(number).or_default().push(log.block_hash);
        }
    }
    headers
        .iter()
        .enumerate()
        .filter_map(|(index, header)| match returned.get(&header.block.number) {
            Some(hashes) if hashes.iter().any(|hash| *hash != Some(header.block.hash)) => {
                Some((index, Suspicion::HashMismatch))
            }
            Some(_) => None,
            None if header.logs_bloom.contains_input(BloomInput::Raw(contract.as_slice())) => {
                Some((index, Suspicion::BloomWithoutLogs))
            }
            None => None,
        })
        .collect()
}

/// The board's logs of `headers`, every block checked against its header: suspect blocks are
/// fetched again by `blockHash` (from the same node) and their logs replace what the range
/// answer held; logs of blocks outside `headers` are dropped. The result is in chain order.
///
/// # Errors
/// [`IndexerError::Chain`] when the node fails; [`IndexerError::Inconsistent`] (transient) when
/// even the by-hash answer names another block.
pub(crate) async fn complete_logs(
    client: &ChainClient,
    contract: Address,
    headers: &[Header],
    logs: Vec<Log>,
) -> Result<Vec<Log>, IndexerError> {
    let suspects = suspect_blocks(contract, headers, &logs);
    let refetch: HashMap<u64, Suspicion> =
        suspects.iter().map(|&(index, why)| (headers[index].block.number, why)).collect();
    let numbers: std::collections::HashSet<u64> = headers.iter().map(|h| h.block.number).collect();
    let mut complete: Vec<Log> = logs
        .into_iter()
        .filter(|log| log.block_number.is_some_and(|n| numbers.contains(&n) && !refetch.contains_key(&n)))
        .collect();
    for &(index, why) in &suspects {
        let block = headers[index].block;
        let mut again = client.logs_at(contract, block.hash).await?;
        if again.is_empty() && why == Suspicion::BloomWithoutLogs {
            // Receipts tell a bloom's false positive from a log index that trails the head.
            again = client.receipt_logs(contract, BlockId::Hash(block.hash.into())).await?;
        }
        if again
            .iter()
            .any(|log| log.block_hash != Some(block.hash) || log.block_number != Some(block.number))
        {
            return Err(IndexerError::Inconsistent(format!(
                "logs asked for by the hash of block {} name another block",
                block.number
            )));
        }
        if why == Suspicion::HashMismatch || !again.is_empty() {
            warn!(
                block = block.number,
                reason = ?why,
                logs = again.len(),
                url = client.endpoint().unwrap_or("?"),
                "the node's logs for this block did not match its header; fetched them again by blockHash"
            );
            client.metrics().logs_refetched();
        }
        complete.extend(again);
    }
    complete.sort_by_key(|log| (log.block_number, log.log_index));
    Ok(complete)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Bloom, LogData};

    use super::*;
    use crate::chain::BlockRef;
    use crate::contract::LogPosition;

    fn header(number: u64, bloom: Bloom) -> Header {
        Header {
            block: BlockRef {
                number,
                hash: B256::with_last_byte(number as u8),
                parent_hash: B256::with_last_byte(number as u8 - 1),
                time: 0,
            },
            logs_bloom: bloom,
        }
    }

    fn log(number: u64, hash: B256) -> Log {
        Log { block_number: Some(number), block_hash: Some(hash), ..Log::default() }
    }

    #[test]
    fn flags_a_bloom_with_the_board_and_no_logs_and_a_foreign_block_hash() {
        let board = Address::repeat_byte(0xb0);
        let mut with_board = Bloom::default();
        with_board.accrue(BloomInput::Raw(board.as_slice()));
        let headers = [header(10, with_board), header(11, Bloom::default()), header(12, with_board)];
        let logs = [log(10, B256::with_last_byte(10)), log(12, B256::repeat_byte(0xee))];
        assert_eq!(suspect_blocks(board, &headers, &logs), vec![(2, Suspicion::HashMismatch)]);
        let only_first = [log(10, B256::with_last_byte(10))];
        assert_eq!(suspect_blocks(board, &headers, &only_first), vec![(2, Suspicion::BloomWithoutLogs)]);
        assert!(suspect_blocks(board, &headers[..2], &only_first).is_empty(), "an empty bloom needs no logs");
    }

    fn submitted(block: u64, application_id: u64) -> IndexedEvent {
        IndexedEvent {
            position: LogPosition {
                block_number: block,
                block_hash: B256::ZERO,
                block_time: 0,
                log_index: 0,
                tx_hash: B256::ZERO,
                tx_index: 0,
            },
            event: BoardEvent::ApplicationSubmitted {
                job_id: 1,
                applicant: Address::ZERO,
                application_id,
                application_hash: B256::ZERO,
            },
            raw: LogData::default(),
        }
    }

    #[test]
    fn a_skipped_id_is_a_gap_and_consecutive_ids_advance() {
        let cursor = IdCursor::new(LastIds { job: None, application: Some(4) });
        let next = cursor.advance(&[submitted(7, 5), submitted(8, 6)]).expect("consecutive ids");
        assert_eq!(next.last.application, Some(6));
        let gap = next.advance(&[submitted(9, 8)]).expect_err("7 is missing");
        assert_eq!(gap, IdGap { kind: IdKind::Application, last: 6, found: 8, block: 9 });
        let fresh = IdCursor::default().advance(&[submitted(1, 3)]).expect("a fresh index starts anywhere");
        assert_eq!(fresh.last.application, Some(3));
    }
}
