//! A decoded event together with where it sits on the chain: what the indexer writes.

use alloy::primitives::{B256, Bytes, LogData};
use alloy::rpc::types::Log;

use super::{BoardEvent, DecodeError, SkippedLogs};

/// Where a log sits on the chain: its natural key is `(block_number, log_index)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    /// The block's number.
    pub block_number: u64,
    /// The block's hash.
    pub block_hash: B256,
    /// The block's timestamp, unix seconds.
    pub block_time: u64,
    /// The log's index in the block.
    pub log_index: u64,
    /// The emitting transaction.
    pub tx_hash: B256,
    /// The transaction's index in the block.
    pub tx_index: u64,
}

/// A board event with its position and the raw log it came from (kept losslessly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEvent {
    /// Where the log sits.
    pub position: LogPosition,
    /// The decoded event.
    pub event: BoardEvent,
    /// The raw topics and data.
    pub raw: LogData,
}

/// A log the indexer could not turn into an [`IndexedEvent`], with its position for the
/// operator's report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The node returned a log without a field a mined log must have.
    #[error("log {field} missing (block {block_number:?}, log index {log_index:?}); is this a pending log?")]
    MissingField {
        /// The missing field.
        field: &'static str,
        /// The block number, if present.
        block_number: Option<u64>,
        /// The log index, if present.
        log_index: Option<u64>,
    },
    /// The log's topics or data do not decode as a board event.
    #[error("log at block {block_number}, log index {log_index} (tx {tx_hash}) does not decode: {source}")]
    Undecodable {
        /// The block number.
        block_number: u64,
        /// The log index.
        log_index: u64,
        /// The transaction.
        tx_hash: B256,
        /// Why.
        #[source]
        source: DecodeError,
    },
}

/// What became of a fetched log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A board event, to be written.
    Event(Box<IndexedEvent>),
    /// A log that does not decode, skipped because the operator named its position; the error
    /// says where it is and why it did not decode.
    Skipped(LogError),
}

impl IndexedEvent {
    /// Decodes an RPC log. `block_time` supplies the timestamp when the node does not include
    /// `blockTimestamp` in its logs (it is then looked up from the block's header).
    ///
    /// # Errors
    /// [`LogError`] if a position field is missing or the log does not decode.
    pub fn from_rpc_log(log: &Log, block_time: Option<u64>) -> Result<IndexedEvent, LogError> {
        let missing = |field| LogError::MissingField {
            field,
            block_number: log.block_number,
            log_index: log.log_index,
        };
        let block_number = log.block_number.ok_or_else(|| missing("blockNumber"))?;
        let log_index = log.log_index.ok_or_else(|| missing("logIndex"))?;
        let position = LogPosition {
            block_number,
            block_hash: log.block_hash.ok_or_else(|| missing("blockHash"))?,
            block_time: log.block_timestamp.or(block_time).ok_or_else(|| missing("blockTimestamp"))?,
            log_index,
            tx_hash: log.transaction_hash.ok_or_else(|| missing("transactionHash"))?,
            tx_index: log.transaction_index.ok_or_else(|| missing("transactionIndex"))?,
        };
        let event = BoardEvent::decode(&log.inner.data).map_err(|source| LogError::Undecodable {
            block_number,
            log_index,
            tx_hash: position.tx_hash,
            source,
        })?;
        Ok(IndexedEvent { position, event, raw: log.inner.data.clone() })
    }

    /// Decodes an RPC log like [`IndexedEvent::from_rpc_log`], except that a log that does not
    /// decode and whose position is in `skips` comes back as [`Decoded::Skipped`] with the
    /// reason, for the caller to report. A named log that decodes is returned as an event.
    ///
    /// # Errors
    /// [`LogError`] if a position field is missing, or the log does not decode and was not named.
    pub fn from_rpc_log_unless_skipped(
        log: &Log,
        block_time: Option<u64>,
        skips: &SkippedLogs,
    ) -> Result<Decoded, LogError> {
        match IndexedEvent::from_rpc_log(log, block_time) {
            Ok(event) => Ok(Decoded::Event(Box::new(event))),
            Err(error @ LogError::Undecodable { block_number, log_index, .. })
                if skips.contains(block_number, log_index) =>
            {
                Ok(Decoded::Skipped(error))
            }
            Err(error) => Err(error),
        }
    }

    /// Rebuilds an event from its stored raw form (used when replaying the event log).
    ///
    /// # Errors
    /// [`LogError::Undecodable`] if the stored log no longer decodes.
    pub fn from_stored(
        position: LogPosition,
        topics: Vec<B256>,
        data: Bytes,
    ) -> Result<IndexedEvent, LogError> {
        let raw = LogData::new_unchecked(topics, data);
        let event = BoardEvent::decode(&raw).map_err(|source| LogError::Undecodable {
            block_number: position.block_number,
            log_index: position.log_index,
            tx_hash: position.tx_hash,
            source,
        })?;
        Ok(IndexedEvent { position, event, raw })
    }
}
