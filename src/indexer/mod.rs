//! The indexer: where chain, contract and store meet.
//!
//! ```text
//! loop:
//!   verify the checkpoint's hash against the node   (a mismatch is a reorg: revert, continue)
//!   checkpoint < finalized -> backfill: pipelined eth_getLogs ranges -> bulk batches
//!   checkpoint < head      -> follow: headers + logs of the new blocks, parent-hash checked
//!   otherwise              -> record the head, sleep one poll interval (or until the node
//!                             announces a new head, with --ws-url)
//! ```
//!
//! [`supervise`] runs this loop, and starts it again from the stored checkpoint after a
//! transient failure.
//!
//! Every write is one transaction holding the batch's events, projections, window rows and the
//! checkpoint, made on the connection that holds the writer lock (see [`lock`]), so a crash at
//! any instant leaves all of a batch or none of it, and a restart continues exactly after it.

mod backfill;
mod budget;
mod chain_view;
mod completeness;
mod config;
mod decode;
pub mod lock;
mod progress;
mod range;
mod rewind;
pub mod status;
pub mod supervise;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use futures::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span, debug, debug_span, field, info, instrument, trace_span, warn};

pub use completeness::{IdGap, IdKind};
pub use config::{IndexerConfig, defaults};
pub use range::{FetchError, FetchedLogs, RangeSizer, fetch_all_logs};
pub use status::{StatusReporter, Statuses};
pub use supervise::{Backoff, Writer};

use completeness::IdCursor;

use crate::chain::{BlockRef, ChainClient, ChainError, Header};
use crate::contract::LogError;
use crate::store::health::SYNC_TOLERANCE_BLOCKS;
use crate::store::{self, Acquired, Batch, Board, BoardState, StoreError};

/// Why indexing stopped.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// The node failed after retries, or answered with an error.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Fetching logs failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A log from the board's address does not decode: stop rather than drop it.
    #[error(
        "{0}; is --contract a JobBoard? (to leave this one log out on purpose, restart with --skip-log BLOCK:LOGINDEX)"
    )]
    Log(#[from] LogError),
    /// A reorg reaches below the oldest block the window holds (below the finalized point).
    #[error(
        "reorg deeper than the reorg window: block {block} changed and no stored block back to {oldest:?} is \
         canonical. The index cannot repair this by itself: find a block N below the fork (at most {rewind_to}, \
         lower if the fork is deeper) and run `jobboard index --rewind-to N` with the same --database-url and \
         --contract; it reverts the store to N and indexes again from there",
        rewind_to = chain_view::rewind_hint(.block, .oldest)
    )]
    ReorgTooDeep {
        /// The checkpoint that no longer matches.
        block: u64,
        /// The oldest block in the window.
        oldest: Option<u64>,
    },
    /// `--rewind-to` names a block the store cannot be rewound to.
    #[error(
        "cannot rewind to block {to}: the index holds blocks {start_block}..={checkpoint:?}; --rewind-to must lie in that range (or be {start_block} - 1 to re-index everything)"
    )]
    RewindOutOfRange {
        /// The requested block.
        to: u64,
        /// The board's first block.
        start_block: u64,
        /// The checkpoint, if anything is indexed.
        checkpoint: Option<u64>,
    },
    /// The node answered inconsistently (e.g. a block it reported is missing): asking again,
    /// later or elsewhere, can help.
    #[error("inconsistent answer from the node: {0}")]
    Inconsistent(String),
    /// A bug in the indexer itself (a broken invariant, a panicked task): retrying would
    /// repeat it or hide it.
    #[error("internal error in the indexer (a bug, please report it): {0}")]
    Internal(String),
    /// The board's contract has no code on the node's chain: a wrong `contract`, or a node on
    /// another network.
    #[error(
        "no contract at {contract} on chain {chain_id}: check the board's contract and that its RPC URLs point at the right network"
    )]
    NoContract {
        /// The board's contract.
        contract: alloy::primitives::Address,
        /// The node's chain.
        chain_id: u64,
    },
    /// A job or application id skipped: the node left logs out; the batch is not written.
    #[error("{0}; fetching again")]
    IdGap(#[from] IdGap),
}

impl IndexerError {
    /// Whether restarting the loop from the stored checkpoint can help (the node or database
    /// may come back, the node may answer consistently next time).
    pub fn is_transient(&self) -> bool {
        match self {
            IndexerError::Chain(e) | IndexerError::Fetch(FetchError::Chain(e)) => e.is_transient(),
            IndexerError::Store(e) => e.is_transient(),
            IndexerError::Inconsistent(_) | IndexerError::IdGap(_) => true,
            IndexerError::Log(_)
            | IndexerError::ReorgTooDeep { .. }
            | IndexerError::RewindOutOfRange { .. }
            | IndexerError::NoContract { .. }
            | IndexerError::Internal(_) => false,
        }
    }

    /// Whether this is the node failing, lagging or answering incompletely (after the
    /// client's retries): the step is abandoned and the next one starts over, on another
    /// endpoint if this one went down. Database failures are not included.
    pub fn is_node_failure(&self) -> bool {
        match self {
            IndexerError::Chain(e) | IndexerError::Fetch(FetchError::Chain(e)) => e.is_transient(),
            IndexerError::Inconsistent(_) | IndexerError::IdGap(_) => true,
            _ => false,
        }
    }
}

/// The writer: follows one board into the database through the store's [`store::Writer`].
pub struct Indexer<'c> {
    /// Every endpoint; each step reads through one [`ChainClient::session`] of it.
    endpoints: ChainClient,
    /// The node this step reads from: one endpoint for the whole step, so that logs are checked
    /// against that node's own head and headers.
    client: ChainClient,
    /// The session holding the board's writer lock: every write goes through it.
    writer: store::Writer<'c>,
    config: IndexerConfig,
    sizer: RangeSizer,
    /// The stored checkpoint: `(number, hash)` of the last fully indexed block.
    checkpoint: Option<(u64, B256)>,
    /// The stored loaded mark: `(number, hash)` of the last block whose raw rows the backfill
    /// loaded beyond the checkpoint, not yet projected (ADR 0021).
    loaded: Option<(u64, B256)>,
    /// Events loaded raw and not yet projected (a chunk being projected included).
    unprojected: usize,
    /// The writer's second connection, on which the backfill projects a chunk while the next
    /// batch loads; opened at a range's first chunk, closed at its end or after a failed
    /// projection.
    projector: Option<store::Projector>,
    /// Whether the writer can open a projector (not over a connection a caller lent).
    projector_possible: bool,
    backfill_done: bool,
    /// Signalled when the node announces a new head: ends the poll interval's wait early.
    wake: Option<Arc<Notify>>,
    /// The newest finalized block seen: kept when a later `finalized` call fails.
    last_finalized: Option<u64>,
    /// The job and application ids written so far, which the next batch must continue.
    ids: IdCursor,
    /// Where the board's status goes after each step (see [`status`]); `None` in tests.
    status: Option<StatusReporter>,
    /// The node's head as the last step saw it.
    last_head: Option<u64>,
    /// Set by a step that found the node behind the checkpoint.
    node_behind: Option<u64>,
}

impl<'c> Indexer<'c> {
    /// Prepares to index `board` over `session`, taking the writer lock at once (a lone
    /// indexer, as in tests; [`supervise`] waits for the lock and uses [`Indexer::start`]).
    ///
    /// # Errors
    /// As [`Indexer::start`], and [`StoreError::LockLost`] if another session holds the lock.
    pub async fn new(
        client: ChainClient,
        session: impl Into<store::Session<'c>>,
        board: Board,
        config: IndexerConfig,
    ) -> Result<Indexer<'c>, IndexerError> {
        let acquiring = async {
            match session.into().try_acquire(board).await? {
                Acquired::Writer(writer) => Ok(writer),
                Acquired::Busy(_) => Err(StoreError::LockLost),
            }
        };
        let writer = supervise::timed(config.statement_timeout, "taking the writer lock", acquiring).await?;
        Indexer::start(client, writer, config).await
    }

    /// Prepares to index `writer`'s board, registering the board on first use; every write
    /// checks the writer still holds its lock.
    ///
    /// # Errors
    /// [`IndexerError::Store`] if the board is registered with another start block or the
    /// database fails.
    pub async fn start(
        client: ChainClient,
        mut writer: store::Writer<'c>,
        config: IndexerConfig,
    ) -> Result<Indexer<'c>, IndexerError> {
        let registering = async {
            let mut state = writer.register(config.start_block).await?;
            if state.loaded.is_some() {
                // Raw rows a previous run loaded and did not project (it stopped in between):
                // projected first, so that the ids and the checkpoint below include them.
                let to = writer.project_loaded().await?;
                info!(checkpoint = ?to, "projected the raw rows a previous run loaded");
                state =
                    writer.state().await?.ok_or(StoreError::Corrupt("the board's state vanished".into()))?;
            }
            Ok((state, writer.last_ids().await?))
        };
        let (state, last_ids) =
            supervise::timed(config.statement_timeout, "registering the board", registering).await?;
        let ids = IdCursor::new(last_ids);
        let sizer = RangeSizer::new(config.initial_range, config.max_range);
        Ok(Indexer {
            endpoints: client.clone(),
            client,
            writer,
            sizer,
            checkpoint: state.checkpoint,
            loaded: state.loaded,
            unprojected: 0,
            projector: None,
            projector_possible: true,
            backfill_done: state.backfill_done,
            config,
            wake: None,
            last_finalized: None,
            ids,
            status: None,
            last_head: None,
            node_behind: None,
        })
    }

    /// Also steps whenever `wake` is signalled (see [`crate::chain::watch_new_heads`]), not only
    /// once per poll interval: a new block is indexed as soon as the node announces it.
    #[must_use]
    pub fn with_wake_up(mut self, wake: Arc<Notify>) -> Indexer<'c> {
        self.wake = Some(wake);
        self
    }

    /// Reports the board's status to `status` after every step: SYNCING or LIVE when it went
    /// well, STALLED or ERROR (with the failure) when the node failed it.
    #[must_use]
    pub fn with_status(mut self, status: StatusReporter) -> Indexer<'c> {
        self.status = Some(status);
        self
    }

    /// The last fully indexed block, if any.
    pub fn checkpoint(&self) -> Option<u64> {
        self.checkpoint.map(|(n, _)| n)
    }

    fn next_block(&self) -> u64 {
        self.loaded.or(self.checkpoint).map_or(self.config.start_block, |(n, _)| n + 1)
    }

    /// Runs until `cancel` fires (returning `Ok`) or a permanent error occurs. Cancellation is
    /// honoured between batches, never inside a write.
    ///
    /// # Errors
    /// Any [`IndexerError`]; transient ones are retried inside first.
    pub async fn run(&mut self, cancel: &CancellationToken) -> Result<(), IndexerError> {
        while !cancel.is_cancelled() {
            let progressed = self.step(cancel).await?;
            if !progressed {
                let woken = async {
                    match &self.wake {
                        Some(wake) => wake.notified().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(self.config.poll_interval) => {}
                    () = woken => {}
                }
            }
        }
        info!(checkpoint = ?self.checkpoint(), "indexer stopped");
        Ok(())
    }

    /// One iteration of the main loop, reading from one endpoint; returns whether any block
    /// was indexed or reverted. A node that fails (after the client's retries), lags, or
    /// answers incompletely ends the step without writing: it is logged and the next step
    /// starts over from the checkpoint, possibly on another endpoint.
    ///
    /// # Errors
    /// Any [`IndexerError`] that is not a transient node failure.
    pub async fn step(&mut self, cancel: &CancellationToken) -> Result<bool, IndexerError> {
        self.node_behind = None;
        let result = match self.endpoints.session().await {
            Ok(session) => {
                self.client = session;
                self.step_on_session(cancel).await
            }
            Err(error) => Err(IndexerError::Chain(error)),
        };
        self.report_status(&result);
        match result {
            Err(error) if error.is_node_failure() => {
                if matches!(error, IndexerError::IdGap(_)) {
                    self.client.metrics().id_gap();
                }
                warn!(
                    %error,
                    url = self.client.endpoint().unwrap_or("?"),
                    checkpoint = ?self.checkpoint(),
                    "indexer step abandoned; starting over from the checkpoint"
                );
                Ok(false)
            }
            other => other,
        }
    }

    /// Reports how the step ended: a node failure as ERROR (unreachable, failing) or STALLED
    /// (answering, but lagging or incompletely); otherwise LIVE within
    /// [`SYNC_TOLERANCE_BLOCKS`] of the head after the backfill, else SYNCING. Errors that end
    /// the run are reported by the supervisor, which decides what they mean.
    fn report_status(&self, result: &Result<bool, IndexerError>) {
        let Some(status) = &self.status else { return };
        match result {
            Err(error) if error.is_node_failure() => {
                let state = match error {
                    IndexerError::Inconsistent(_) | IndexerError::IdGap(_) => BoardState::Stalled,
                    _ => BoardState::Error,
                };
                status.report(state, Some(error.to_string()));
            }
            Err(_) => {}
            Ok(_) => match (self.node_behind, self.last_head) {
                (Some(head), _) => status.report(
                    BoardState::Stalled,
                    Some(format!(
                        "the node's head {head} is behind the indexed block {}; waiting for it",
                        self.checkpoint().unwrap_or_default()
                    )),
                ),
                (None, Some(head)) => {
                    let behind = head.saturating_sub(self.checkpoint().unwrap_or(0));
                    let live = self.backfill_done && behind <= SYNC_TOLERANCE_BLOCKS;
                    status.report(if live { BoardState::Live } else { BoardState::Syncing }, None);
                }
                (None, None) => status.report(BoardState::Syncing, None),
            },
        }
    }

    async fn step_on_session(&mut self, cancel: &CancellationToken) -> Result<bool, IndexerError> {
        let (head, finalized) = async {
            let head = self.client.head().await?;
            Ok::<_, IndexerError>((head, self.finalized(head).await?))
        }
        .instrument(trace_span!("chain_view"))
        .await?;
        self.client.metrics().chain_seen(head, finalized);
        self.last_head = Some(head);

        if let Some((number, hash)) = self.checkpoint {
            if number > head {
                self.node_behind = Some(head);
                // The node is behind us (a lagging failover node): wait, this is not a reorg.
                debug!(head, checkpoint = number, "node is behind the checkpoint; waiting");
                return Ok(false);
            }
            if !self.is_canonical(number, hash).await? {
                self.handle_reorg().await?;
                return Ok(true);
            }
        }
        let next = self.next_block();
        if next <= finalized {
            self.backfill(next, finalized, head, finalized, cancel).await?;
            return Ok(true);
        }
        if self.loaded.is_some() {
            // A backfill that stopped (the node failed it) between loading and projecting.
            self.project_loaded().await?;
        }
        if !self.backfill_done {
            self.mark_backfill_done(head, finalized).await?;
        }
        if next <= head {
            let to = head.min(next + self.config.max_follow_range - 1);
            return self.follow(next, to, head, finalized).await;
        }
        // The heartbeat: `serve` judges the indexer alive by it (see `store::health`).
        let beat = self.writer.update_head(head, Some(finalized));
        supervise::timed(self.config.statement_timeout, "recording the head", beat).await?;
        Ok(false)
    }

    /// Writes `batch` in one transaction, after checking that this session still holds the
    /// writer lock, within the statement timeout.
    #[instrument(
        level = "debug",
        name = "batch",
        skip_all,
        fields(to_block = batch.checkpoint.number, events = batch.events.len())
    )]
    async fn write(&mut self, batch: &Batch<'_>) -> Result<(), IndexerError> {
        let write = self.writer.apply_batch(batch);
        supervise::timed(self.config.statement_timeout, "writing a batch", write).await?;
        Ok(())
    }

    /// Whether the node's block `number` still has `hash`. A block the node lacks counts as
    /// canonical (lagging node), so only a positive mismatch triggers a reorg.
    async fn is_canonical(&self, number: u64, hash: B256) -> Result<bool, IndexerError> {
        match self.client.block(number).await? {
            Some(block) => Ok(block.hash == hash),
            None => Ok(true),
        }
    }

    /// Finds the newest stored block that is still canonical and reverts to it.
    #[instrument(name = "revert", skip_all, fields(from = self.checkpoint(), to = field::Empty))]
    async fn handle_reorg(&mut self) -> Result<(), IndexerError> {
        let Some((number, hash)) = self.checkpoint else { return Ok(()) };
        // Confirm: a single odd answer (a flaky load balancer) must not cost a revert.
        tokio::time::sleep(Duration::from_millis(50)).await;
        if self.is_canonical(number, hash).await? {
            return Ok(());
        }
        let timeout = self.config.statement_timeout;
        let window = supervise::timed(timeout, "reading the reorg window", self.writer.window()).await?;
        let mut fork = None;
        for stored in &window {
            if stored.number > number {
                continue;
            }
            match self.client.block(stored.number).await? {
                Some(block) if block.hash == stored.hash => {
                    fork = Some(*stored);
                    break;
                }
                Some(_) => {}
                None => {
                    return Err(IndexerError::Inconsistent(format!(
                        "node lost block {} while reporting a reorg above it",
                        stored.number
                    )));
                }
            }
        }
        let Some(fork) = fork else {
            return Err(IndexerError::ReorgTooDeep {
                block: number,
                oldest: window.last().map(|b| b.number),
            });
        };
        Span::current().record("to", fork.number);
        let summary = supervise::timed(timeout, "reverting", self.writer.revert_to(&fork)).await?;
        let depth = number - fork.number;
        self.client.metrics().reorg(depth, fork.number);
        self.ids = IdCursor::new(self.writer.last_ids().await?);
        self.loaded = None;
        self.unprojected = 0;
        warn!(
            depth,
            fork = fork.number,
            events_removed = summary.events_removed,
            "reorg: reverted to fork point"
        );
        self.checkpoint = Some((fork.number, fork.hash));
        Ok(())
    }

    async fn mark_backfill_done(&mut self, head: u64, finalized: u64) -> Result<(), IndexerError> {
        // An empty batch at the checkpoint: flips the flag atomically with the checkpoint.
        if let Some((number, _)) = self.checkpoint {
            let block = self.client.block_required(number).await?;
            let batch = Batch {
                previous: Some(number),
                checkpoint: block,
                events: &[],
                window: &[],
                finalized: Some(finalized),
                head: Some(head),
                backfill_done: true,
            };
            self.write(&batch).await?;
        }
        // Statistics are an optimisation: a failure is worth a warning, not a stop.
        match self.writer.analyse().instrument(debug_span!("analyze")).await {
            Ok(()) => debug!("refreshed planner statistics"),
            Err(error) => warn!(%error, "could not refresh planner statistics after the backfill"),
        }
        self.backfill_done = true;
        info!(head, finalized, "backfill done; following the head");
        Ok(())
    }

    /// Indexes `[from, to]` above the finalized point: headers for every block, parent hashes
    /// checked against the checkpoint and each other, logs checked against those headers
    /// (see [`completeness`]), all from this step's one endpoint. Its spans (`range`, and
    /// `headers`, `logs`, `batch` inside) say where a new block's latency goes.
    #[instrument(level = "debug", name = "range", skip(self, head, finalized))]
    async fn follow(&mut self, from: u64, to: u64, head: u64, finalized: u64) -> Result<bool, IndexerError> {
        // Headers are fetched concurrently but kept in order; a missing one (the node's view
        // moved) ends the run there.
        let client = &self.client;
        let fetched: Vec<Result<Option<Header>, ChainError>> = futures::stream::iter(from..=to)
            .map(|number| client.header(number))
            .buffered(8)
            .collect()
            .instrument(debug_span!("headers"))
            .await;
        let mut full_headers = Vec::with_capacity(fetched.len());
        for block in fetched {
            match block? {
                Some(block) => full_headers.push(block),
                None => break,
            }
        }
        if full_headers.is_empty() {
            return Ok(false);
        }
        let headers: Vec<BlockRef> = full_headers.iter().map(|h| h.block).collect();
        let expected_parent = self.checkpoint.map(|(_, hash)| hash);
        if let (Some(parent), Some(first)) = (expected_parent, headers.first())
            && first.parent_hash != parent
        {
            debug!(block = first.number, "new block does not extend the checkpoint; checking for a reorg");
            return Ok(false); // the next step's canonical check handles it
        }
        if headers.windows(2).any(|pair| pair[1].parent_hash != pair[0].hash) {
            debug!(from, to, "headers changed while fetching; retrying");
            return Ok(false);
        }
        let to = headers.last().map_or(to, |b| b.number);
        let logs = async {
            let logs = fetch_all_logs(&self.client, &self.sizer, self.config.contract, from, to).await?.logs;
            completeness::complete_logs(&self.client, self.config.contract, &full_headers, logs).await
        }
        .instrument(debug_span!("logs", to))
        .await?;
        let by_number: HashMap<u64, &BlockRef> = headers.iter().map(|b| (b.number, b)).collect();
        let mut events = Vec::with_capacity(logs.len());
        for log in &logs {
            let time = log.block_number.and_then(|n| by_number.get(&n)).map(|h| h.time);
            events.extend(decode::decode_log(log, time, &self.config.skip_logs, self.client.metrics())?);
        }
        let ids = self.ids.advance(&events)?;
        let checkpoint =
            *headers.last().ok_or_else(|| IndexerError::Internal("follow step without headers".into()))?;
        let write_started = Instant::now();
        let batch = Batch {
            previous: self.checkpoint(),
            checkpoint,
            events: &events,
            window: &headers,
            finalized: Some(finalized),
            head: Some(head),
            backfill_done: true,
        };
        self.write(&batch).await?;
        let write_took = write_started.elapsed();
        self.client.metrics().batch_written(events.len(), checkpoint.number, write_took);
        debug!(to, events = events.len(), "indexed new blocks");
        self.checkpoint = Some((checkpoint.number, checkpoint.hash));
        self.ids = ids;
        Ok(true)
    }
}
