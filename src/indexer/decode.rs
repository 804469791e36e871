//! Fetched logs to events: the one place a log can be left out, and only one the operator
//! named with `--skip-log` after the indexer stopped on it.

use alloy::rpc::types::Log;
use tracing::warn;

use super::IndexerError;
use crate::contract::{Decoded, IndexedEvent, SkippedLogs};
use crate::telemetry::Metrics;

/// Decodes one of the board's logs; `None` for a log skipped on the operator's word, which is
/// reported as a warning with its position and reason every time it is met.
///
/// # Errors
/// [`IndexerError::Log`] for a log that does not decode and was not named (the message names
/// its position and the `--skip-log` flag).
pub(super) fn decode_log(
    log: &Log,
    block_time: Option<u64>,
    skips: &SkippedLogs,
    metrics: &Metrics,
) -> Result<Option<IndexedEvent>, IndexerError> {
    match IndexedEvent::from_rpc_log_unless_skipped(log, block_time, skips) {
        Ok(Decoded::Event(event)) => Ok(Some(*event)),
        Ok(Decoded::Skipped(reason)) => {
            metrics.decode_error();
            warn!(%reason, "skipping an undecodable log as --skip-log says");
            Ok(None)
        }
        Err(error) => {
            metrics.decode_error();
            Err(IndexerError::Log(error))
        }
    }
}
