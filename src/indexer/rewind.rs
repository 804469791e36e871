//! `jobboard index --rewind-to N`: the operator's way past a reorg deeper than the reorg
//! window (or any doubt about the newest blocks): revert the store to block N and index on
//! from there.
//!
//! It is a reorg revert with the fork point chosen by the operator: the same
//! [`Writer::revert_to`](crate::store::Writer::revert_to) in one transaction, so the store afterwards equals a fresh index up to
//! block N, and the checkpoint becomes the node's current block N.

use tracing::{Instrument, info_span, warn};

use super::completeness::IdCursor;
use super::{Indexer, IndexerError, supervise};
use crate::store::RevertSummary;

impl Indexer<'_> {
    /// Reverts the store to the state after block `to` (in one transaction) and makes the
    /// node's block `to` the checkpoint; the next [`Indexer::step`] indexes from `to + 1`.
    /// `to` may be `start_block - 1`, which empties the index of this board.
    ///
    /// # Errors
    /// [`IndexerError::RewindOutOfRange`] if `to` is above the checkpoint or below the start
    /// block minus one (nothing is changed); [`IndexerError::Inconsistent`] if the node lacks
    /// block `to`; chain and store errors as they come.
    pub async fn rewind_to(&mut self, to: u64) -> Result<RevertSummary, IndexerError> {
        let start_block = self.config.start_block;
        let checkpoint = self.checkpoint();
        let out_of_range = || IndexerError::RewindOutOfRange { to, start_block, checkpoint };
        let Some(current) = checkpoint else { return Err(out_of_range()) };
        if to > current || to.saturating_add(1) < start_block {
            return Err(out_of_range());
        }
        let Some(fork) = self.client.block(to).await? else {
            return Err(IndexerError::Inconsistent(format!("node does not have block {to} to rewind to")));
        };
        let span = info_span!("rewind", from = current, to);
        let revert = self.writer.revert_to(&fork);
        let summary =
            supervise::timed(self.config.statement_timeout, "rewinding", revert).instrument(span).await?;
        self.ids = IdCursor::new(self.writer.last_ids().await?);
        warn!(
            from = current,
            to,
            events_removed = summary.events_removed,
            "rewound the index as --rewind-to asked; indexing again from the next block"
        );
        self.checkpoint = Some((fork.number, fork.hash));
        self.loaded = None;
        Ok(summary)
    }
}
