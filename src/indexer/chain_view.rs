//! What a step believes about the chain beyond one answer: the finalized block, kept across
//! failed calls, and the advice given when a reorg reaches below what the store can revert.

use tracing::warn;

use super::{Indexer, IndexerError};
use crate::chain::Finality;

/// The highest block a `--rewind-to` can name after a reorg deeper than the window: below the
/// oldest stored block (none of which is canonical), or below the checkpoint with no window.
pub(super) fn rewind_hint(block: &u64, oldest: &Option<u64>) -> u64 {
    oldest.map_or(*block, |o| o.saturating_sub(1)).min(block.saturating_sub(1))
}

impl Indexer<'_> {
    /// The block treated as final: the node's `finalized` block (never below the last one
    /// seen, never above `head`), the last one seen when the call fails, and `head` minus
    /// `--confirmations` only for a node that answers that it has no `finalized` tag.
    pub(super) async fn finalized(&mut self, head: u64) -> Result<u64, IndexerError> {
        let answer = match self.client.finalized().await {
            Ok(Finality::Block(block)) => block,
            Ok(Finality::Unsupported) => head.saturating_sub(self.config.confirmations),
            Err(error) if error.is_transient() => match self.last_finalized {
                Some(known) => {
                    warn!(%error, finalized = known, "the finalized block is unavailable; keeping the last one seen");
                    known
                }
                None => return Err(error.into()),
            },
            Err(error) => return Err(error.into()),
        };
        let finalized = answer.max(self.last_finalized.unwrap_or(0)).min(head);
        self.last_finalized = Some(finalized.max(self.last_finalized.unwrap_or(0)));
        Ok(finalized)
    }
}

#[cfg(test)]
mod tests {
    use super::super::IndexerError;

    #[test]
    fn a_reorg_deeper_than_the_window_says_what_to_run() {
        let message = IndexerError::ReorgTooDeep { block: 120, oldest: Some(100) }.to_string();
        assert!(message.contains("jobboard index --rewind-to N"), "{message}");
        assert!(message.contains("at most 99"), "{message}");
        let no_window = IndexerError::ReorgTooDeep { block: 120, oldest: None }.to_string();
        assert!(no_window.contains("at most 119"), "{no_window}");
    }
}
