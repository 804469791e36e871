//! Whether the index is alive and in step with the chain, judged from the indexer's state row
//! alone, so that `serve` in another process (or on another host) can judge it: the one place
//! `_meta.synced`, `/readyz` and the API's stall metrics take their answer from.
//!
//! The indexer reports on every poll of the node (`updated_at`, with the head it saw) and the
//! database notes when the checkpoint last moved (`advanced_at`, migration 0005). The index is
//! *stalled* when the indexer has been silent for `--stall-after` (dead, or unable to reach
//! the database or the node), or when it has reported a head more than
//! [`SYNC_TOLERANCE_BLOCKS`] ahead of the checkpoint and the checkpoint has not moved for
//! `--stall-after` (alive but stuck). It is *synced* when the backfill is done, the checkpoint
//! is within the tolerance of the head, and it is not stalled.

use std::time::Duration;

use super::IndexStatus;

/// How far the index may trail the node's head and still count as synced.
pub const SYNC_TOLERANCE_BLOCKS: u64 = 5;

/// Why the index counts as stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// The indexer has not reported for this long.
    Silent {
        /// Since its last report.
        silent_for: Duration,
    },
    /// The indexer reports a head `behind` blocks ahead of the checkpoint, which has not
    /// moved for `stuck_for`.
    NotAdvancing {
        /// Since the checkpoint last moved.
        stuck_for: Duration,
        /// Head minus checkpoint.
        behind: u64,
    },
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stall::Silent { silent_for } => write!(
                f,
                "the indexer has not reported for {}s (stopped, or waiting for the database or the node)",
                silent_for.as_secs()
            ),
            Stall::NotAdvancing { stuck_for, behind } => write!(
                f,
                "the indexer is {behind} blocks behind the head and has not advanced for {}s",
                stuck_for.as_secs()
            ),
        }
    }
}

/// The verdict on one [`IndexStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexHealth {
    /// Head minus checkpoint, when both are known.
    pub behind: Option<u64>,
    /// Set when the index is stalled, with the reason.
    pub stalled: Option<Stall>,
    /// Backfill done, within [`SYNC_TOLERANCE_BLOCKS`] of the head, and not stalled.
    pub synced: bool,
}

impl IndexStatus {
    /// Judges the status with `stall_after` as the longest silence, or the longest time
    /// without progress while behind, that still counts as alive.
    pub fn health(&self, stall_after: Duration) -> IndexHealth {
        let checkpoint = self.block.as_ref().map(|b| b.number);
        let behind = match (checkpoint, self.head_block) {
            (Some(block), Some(head)) => Some(head.saturating_sub(block)),
            _ => None,
        };
        let stalled = if self.reported_ago > stall_after {
            Some(Stall::Silent { silent_for: self.reported_ago })
        } else {
            match behind {
                Some(behind) if behind > SYNC_TOLERANCE_BLOCKS && self.advanced_ago > stall_after => {
                    Some(Stall::NotAdvancing { stuck_for: self.advanced_ago, behind })
                }
                _ => None,
            }
        };
        let synced =
            self.backfill_done && behind.is_some_and(|b| b <= SYNC_TOLERANCE_BLOCKS) && stalled.is_none();
        IndexHealth { behind, stalled, synced }
    }
}

/// A non-negative duration from the database's seconds (a clock step can make them negative).
pub(crate) fn seconds_ago(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BlockInfo;

    fn status(block: u64, head: u64, reported_ago: u64, advanced_ago: u64) -> IndexStatus {
        IndexStatus {
            block: Some(BlockInfo {
                number: block,
                hash: alloy::primitives::B256::ZERO,
                time: chrono::Utc::now(),
            }),
            finalized_block: None,
            finalized_number: Some(block),
            head_block: Some(head),
            backfill_done: true,
            updated_at: chrono::Utc::now(),
            reported_ago: Duration::from_secs(reported_ago),
            advanced_ago: Duration::from_secs(advanced_ago),
        }
    }

    const STALL: Duration = Duration::from_secs(60);

    #[test]
    fn a_live_index_near_the_head_is_synced() {
        let health = status(100, 105, 1, 30).health(STALL);
        assert_eq!(health, IndexHealth { behind: Some(5), stalled: None, synced: true });
    }

    #[test]
    fn an_idle_chain_is_not_a_stall_however_long_the_checkpoint_rests() {
        assert!(status(100, 100, 1, 3600).health(STALL).synced);
    }

    #[test]
    fn a_silent_indexer_is_stalled_even_if_its_last_report_looked_synced() {
        let health = status(100, 100, 61, 61).health(STALL);
        assert_eq!(health.stalled, Some(Stall::Silent { silent_for: Duration::from_secs(61) }));
        assert!(!health.synced);
    }

    #[test]
    fn an_indexer_that_reports_but_does_not_advance_is_stalled() {
        let health = status(100, 140, 1, 61).health(STALL);
        assert_eq!(
            health.stalled,
            Some(Stall::NotAdvancing { stuck_for: Duration::from_secs(61), behind: 40 })
        );
        assert!(!health.synced);
        // Catching up (behind, but advancing) is not a stall, though not synced either.
        let catching_up = status(100, 140, 1, 1).health(STALL);
        assert_eq!((catching_up.stalled, catching_up.synced), (None, false));
    }

    #[test]
    fn negative_database_intervals_count_as_now() {
        assert_eq!(seconds_ago(-0.5), Duration::ZERO);
        assert_eq!(seconds_ago(1.5), Duration::from_millis(1500));
    }
}
