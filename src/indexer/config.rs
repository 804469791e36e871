//! How the indexer runs, and its defaults: the one place they are written. The `index`/`run`
//! flags take their defaults from [`defaults`] (`crate::cli`), and so do
//! [`IndexerConfig::new`] and `jobboard dev`.

use std::time::Duration;

use alloy::primitives::Address;

use crate::contract::SkippedLogs;

/// The indexer's defaults, as the `index`/`run` flags show them.
pub mod defaults {
    use std::time::Duration;

    /// `--confirmations`.
    pub const CONFIRMATIONS: u64 = 12;
    /// `--poll-interval` of `index` and `run` (`dev` polls faster, see its flag).
    pub const POLL_INTERVAL: Duration = Duration::from_secs(2);
    /// `--fetch-concurrency`.
    pub const FETCH_CONCURRENCY: u16 = 4;
    /// `--batch-events`.
    pub const BATCH_EVENTS: u32 = 10_000;
    /// `--max-range`.
    pub const MAX_RANGE: u64 = 500_000;
    /// `--projection-events`.
    pub const PROJECTION_EVENTS: u32 = 250_000;
}

/// How the indexer runs; every value but the last few has a CLI flag.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    /// The board contract.
    pub contract: Address,
    /// The first block to index (the deploy block).
    pub start_block: u64,
    /// Depth below the head treated as final when the node has no `finalized` tag.
    pub confirmations: u64,
    /// How often to poll the head once caught up.
    pub poll_interval: Duration,
    /// `eth_getLogs` requests in flight during backfill.
    pub fetch_concurrency: usize,
    /// Events per write transaction during backfill (a batch also ends at the last range).
    pub batch_events: usize,
    /// Below the finalized block, load raw rows and build the projections from them in bulk
    /// (ADR 0021); `false` projects every batch as it is written, as near the head (kept to
    /// compare the two in tests).
    pub bulk_backfill: bool,
    /// The most events loaded raw and waiting for their projection beyond the chunk being
    /// projected. With the writer's second connection (its projector) a chunk is projected
    /// beside the next loads, starting whenever the previous one is done and a batch waits;
    /// the writer waits for it only when this many wait. On the writer's one connection (a
    /// connection lent by a test) a chunk is projected once this many are loaded. The
    /// backfill's end projects the rest.
    pub projection_events: usize,
    /// First `eth_getLogs` range length; it adapts from there. One block: on a dense chain
    /// every fetch in flight starts with it before the first answer teaches the sizer, and it
    /// doubles per call where logs are sparse.
    pub initial_range: u64,
    /// Longest `eth_getLogs` range ever requested.
    pub max_range: u64,
    /// Most blocks handled per step while following the head (headers are fetched for each).
    pub max_follow_range: u64,
    /// Longest wait for one database call of the writer (a batch, a revert, a heartbeat):
    /// past it the connection is presumed dead (a partition the client cannot see) and
    /// replaced. Far above a batch's write time, which a slow write would otherwise turn into
    /// an endless retry of the same batch.
    pub statement_timeout: Duration,
    /// Undecodable logs the operator chose to skip (`--skip-log`); empty by default.
    pub skip_logs: SkippedLogs,
}

impl IndexerConfig {
    /// Defaults for everything but the contract and start block.
    pub fn new(contract: Address, start_block: u64) -> IndexerConfig {
        IndexerConfig {
            contract,
            start_block,
            confirmations: defaults::CONFIRMATIONS,
            poll_interval: defaults::POLL_INTERVAL,
            fetch_concurrency: usize::from(defaults::FETCH_CONCURRENCY),
            batch_events: defaults::BATCH_EVENTS as usize,
            bulk_backfill: true,
            projection_events: defaults::PROJECTION_EVENTS as usize,
            initial_range: 1,
            max_range: defaults::MAX_RANGE,
            max_follow_range: 100,
            statement_timeout: Duration::from_secs(60),
            skip_logs: SkippedLogs::default(),
        }
    }
}
