//! Backfill: the final blocks below the finalized point, fetched ahead on several concurrent
//! `eth_getLogs` ranges through a bounded, ordered pipeline, decoded off the writer's task, and
//! written in bulk batches of whole blocks.
//!
//! Nothing below the finalized block is ever undone, so a batch is loaded raw (event rows and
//! posting revisions, with the loaded mark) and the projections are built from those rows in
//! SQL, in chunks projected on the writer's second connection while the next batches load,
//! and at the end of the range; each step in its own transaction with its own mark (ADR 0021).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use alloy::rpc::types::Log;
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, debug_span, info, instrument};

use super::budget::LogBudget;
use super::range::FetchedLogs;
use super::{Indexer, IndexerError, RangeSizer, decode, fetch_all_logs, progress, range, supervise};
use crate::chain::{BlockRef, ChainClient};
use crate::contract::{IndexedEvent, SkippedLogs};
use crate::store::{Batch, Projector, RawBatch, StoreError};

impl Indexer<'_> {
    /// Indexes the final blocks `[from, to]`: fetching runs ahead on several concurrent requests
    /// through a bounded, ordered pipeline; this task writes in bulk.
    #[instrument(name = "range", skip(self, head, finalized, cancel), fields(blocks = to - from + 1))]
    pub(super) async fn backfill(
        &mut self,
        from: u64,
        to: u64,
        head: u64,
        finalized: u64,
        cancel: &CancellationToken,
    ) -> Result<(), IndexerError> {
        info!("backfilling");
        // Memory is bounded in logs, not requests (a single block can hold tens of thousands):
        // room for the batch being written, the next one filling, and a full read-ahead.
        let budget = Arc::new(LogBudget::new(
            2 * self.config.batch_events + self.config.fetch_concurrency * range::TARGET_LOGS_PER_CALL,
        ));
        let (tx, mut rx) = mpsc::channel(1);
        let fetcher = tokio::spawn(fetch_pipeline(
            Pipeline {
                client: self.client.clone(),
                sizer: self.sizer.clone(),
                budget: budget.clone(),
                contract: self.config.contract,
                concurrency: self.config.fetch_concurrency,
                skips: Arc::new(self.config.skip_logs.clone()),
            },
            from,
            to,
            tx,
            cancel.clone(),
        ));

        let run = BackfillRun { to, head, finalized, budget: &budget };
        let mut progress = progress::Progress::new(from, to);
        let mut pending: Vec<IndexedEvent> = Vec::new();
        let mut covered = None;
        let mut last_write = Instant::now();
        // The last block loaded raw: where the next chunk's projection ends.
        let mut last_loaded: Option<BlockRef> = None;
        let mut result = Ok(());
        // A chunk being projected on the projector connection while the writer loads on.
        let mut in_flight: Option<InFlight> = None;
        loop {
            let waiting = Instant::now();
            let Some(fetched) = rx.recv().await else { break };
            // The node is slower than the writer when ranges keep it waiting.
            let slow_node = waiting.elapsed() >= SLOW_NODE_WAIT;
            let step = async {
                let Range { to: range_to, last_block, events } = fetched?;
                pending.extend(events);
                covered = Some(range_to);
                if !self.config.bulk_backfill {
                    // A range far larger than a batch (dense blocks) is projected in batch-sized
                    // runs of whole blocks, which bounds the fold's buffers (a raw load streams).
                    self.write_whole_blocks(&mut pending, &run).await?;
                }
                let full = pending.len() >= self.config.batch_events;
                let due = last_write.elapsed() >= Duration::from_secs(2);
                if full || due || range_to == to || cancel.is_cancelled() {
                    let written = pending.len();
                    let block = self.write_backfill_batch(&mut pending, range_to, last_block, &run).await?;
                    progress.advance(range_to, written);
                    last_write = Instant::now();
                    if self.config.bulk_backfill {
                        last_loaded = Some(block);
                    }
                }
                if self.loaded.is_none() || cancel.is_cancelled() {
                    return Ok(());
                }
                if range_to == to {
                    // The range's end: every chunk projected before the range is done.
                    self.finish_projection(&mut in_flight).await?;
                    if self.loaded.is_some() {
                        self.project_loaded().await?;
                    }
                    return Ok(());
                }
                if let Some(through) = last_loaded.filter(|_| self.projector_possible) {
                    return self.overlap_projection(&mut in_flight, through).await;
                }
                // Without a projector: projected in large chunks, and behind a slow node
                // whenever the writer would otherwise wait for it (its latency then hides the
                // projections). Behind a fast node chunks stay large: more of an entity's life
                // in one insert.
                let idle = slow_node && rx.is_empty() && self.unprojected >= self.config.batch_events;
                if self.unprojected >= self.config.projection_events || idle {
                    self.project_loaded().await?;
                }
                Ok::<(), IndexerError>(())
            };
            if let Err(error) = step.await {
                result = Err(error);
                break;
            }
            if cancel.is_cancelled() {
                break;
            }
        }
        drop(rx);
        fetcher.abort();
        // A chunk still being projected (the range failed or was cancelled meanwhile) is a
        // write under way: it finishes, and its checkpoint counts.
        let finished = self.finish_projection(&mut in_flight).await;
        // Closed with the range: a writer following the head needs no idle second connection.
        self.projector = None;
        progress.finish();
        result?;
        finished?;
        if covered.is_some() && !pending.is_empty() {
            return Err(IndexerError::Internal("backfill ended with unwritten events".into()));
        }
        let events = self.client.metrics().events_indexed();
        info!(checkpoint = ?self.checkpoint(), events_total = events, "backfill range done");
        Ok(())
    }

    /// While `pending` holds more than a batch, writes its oldest whole blocks as one batch
    /// of at least `batch_events` (a block is never split: the checkpoint is a block).
    async fn write_whole_blocks(
        &mut self,
        pending: &mut Vec<IndexedEvent>,
        run: &BackfillRun<'_>,
    ) -> Result<(), IndexerError> {
        let batch = self.config.batch_events.max(1);
        while pending.len() > batch {
            let block_of = |i: usize| pending[i].position.block_number;
            let Some(split) = (batch..pending.len()).find(|&i| block_of(i) != block_of(i - 1)) else {
                return Ok(()); // the rest is one block: written with its range
            };
            let last_block = block_of(split - 1);
            let rest = pending.split_off(split);
            self.write_backfill_batch(pending, last_block, None, run).await?;
            *pending = rest;
        }
        Ok(())
    }

    /// Writes `pending` as one batch ending at block `range_to` (whose header the fetch may
    /// have brought as `known`), then empties it and returns its logs to the budget.
    async fn write_backfill_batch(
        &mut self,
        pending: &mut Vec<IndexedEvent>,
        range_to: u64,
        known: Option<BlockRef>,
        run: &BackfillRun<'_>,
    ) -> Result<BlockRef, IndexerError> {
        let block = match known {
            Some(block) if block.number == range_to => block,
            _ => self.client.block_required(range_to).await?,
        };
        let ids = self.ids.advance(pending)?;
        let write_started = Instant::now();
        if self.config.bulk_backfill {
            let batch = RawBatch {
                previous: self.loaded.or(self.checkpoint).map(|(n, _)| n),
                to: block,
                events: pending,
            };
            let load = self.writer.load_raw(&batch);
            supervise::timed(self.config.statement_timeout, "loading a batch", load).await?;
            self.loaded = Some((block.number, block.hash));
            self.unprojected += pending.len();
        } else {
            let window = [block];
            let batch = Batch {
                previous: self.checkpoint(),
                checkpoint: block,
                events: pending,
                window: &window,
                finalized: Some(run.finalized),
                head: Some(run.head),
                backfill_done: false,
            };
            self.write(&batch).await?;
            self.checkpoint = Some((block.number, block.hash));
        }
        let took = write_started.elapsed();
        self.client.metrics().batch_written(pending.len(), range_to, took);
        debug!(
            to_block = range_to,
            events = pending.len(),
            ?took,
            remaining_blocks = run.to - range_to,
            "wrote batch"
        );
        run.budget.release(pending.len());
        pending.clear();
        self.ids = ids;
        Ok(block)
    }

    /// Projects every raw row loaded beyond the checkpoint, which moves to the loaded mark.
    #[instrument(level = "debug", name = "project", skip_all, fields(events = self.unprojected))]
    pub(super) async fn project_loaded(&mut self) -> Result<(), IndexerError> {
        let started = Instant::now();
        let project = self.writer.project_loaded();
        let to = supervise::timed(self.config.statement_timeout, "projecting loaded rows", project).await?;
        if to.is_some() {
            self.checkpoint = self.loaded.take();
        }
        debug!(checkpoint = ?to, events = self.unprojected, took = ?started.elapsed(), "projected loaded rows");
        self.unprojected = 0;
        Ok(())
    }

    /// After a load: collects the chunk being projected if it is done, and starts projecting
    /// everything loaded up to `through` on the projector connection when none is and at
    /// least a batch waits. The next loads run meanwhile, so a chunk holds what loaded while
    /// the previous one was projected: chunks grow until projecting keeps pace with loading.
    /// Only when `projection_events` wait beyond the chunk in flight does the writer wait for it.
    async fn overlap_projection(
        &mut self,
        in_flight: &mut Option<InFlight>,
        through: BlockRef,
    ) -> Result<(), IndexerError> {
        let waiting = self.unprojected.saturating_sub(in_flight.as_ref().map_or(0, |chunk| chunk.events));
        if in_flight.as_ref().is_some_and(|chunk| chunk.task.is_finished())
            || waiting >= self.config.projection_events
        {
            self.finish_projection(in_flight).await?;
        }
        if in_flight.is_some()
            || self.unprojected < self.config.batch_events.min(self.config.projection_events)
        {
            return Ok(());
        }
        let mut projector = match self.projector.take() {
            Some(projector) => projector,
            None => {
                let opening = self.writer.open_projector();
                match supervise::timed(self.config.statement_timeout, "opening the projector", opening)
                    .await?
                {
                    Some(projector) => projector,
                    None => {
                        // A lent connection cannot be opened again: project on the writer's.
                        self.projector_possible = false;
                        return Ok(());
                    }
                }
            }
        };
        let timeout = self.config.statement_timeout;
        let events = self.unprojected;
        let task = tokio::spawn(
            async move {
                let project = projector.project_through(&through);
                let result = supervise::timed(timeout, "projecting loaded rows", project).await;
                // After a failure the connection's state is unknown: a new one is opened.
                (result.is_ok().then_some(projector), result)
            }
            .instrument(debug_span!("project", events, to_block = through.number)),
        );
        *in_flight = Some(InFlight { task, through, events, started: Instant::now() });
        Ok(())
    }

    /// Waits for the chunk being projected, if any: the checkpoint moves to its end.
    async fn finish_projection(&mut self, in_flight: &mut Option<InFlight>) -> Result<(), IndexerError> {
        let Some(chunk) = in_flight.take() else { return Ok(()) };
        let (projector, result) =
            chunk.task.await.map_err(|e| IndexerError::Internal(format!("a projection task failed: {e}")))?;
        self.projector = projector;
        let to = result?;
        if to.is_some() {
            self.checkpoint = Some((chunk.through.number, chunk.through.hash));
            if self.loaded.is_some_and(|(number, _)| number == chunk.through.number) {
                self.loaded = None;
            }
        }
        self.unprojected = self.unprojected.saturating_sub(chunk.events);
        debug!(
            checkpoint = ?to,
            events = chunk.events,
            took = ?chunk.started.elapsed(),
            "projected loaded rows beside the load"
        );
        Ok(())
    }
}

/// What a projection task ends with: the projector connection (not after a failure, when its
/// state is unknown) and the new checkpoint.
type Projected = (Option<Projector>, Result<Option<u64>, StoreError>);

/// A chunk being projected on the writer's projector connection.
struct InFlight {
    task: tokio::task::JoinHandle<Projected>,
    /// The chunk's last block: the checkpoint once it is projected.
    through: BlockRef,
    /// The events it projects.
    events: usize,
    started: Instant,
}

/// How long the writer must have waited for the last fetched range for the node to count as
/// slow: local nodes answer within milliseconds, remote ones in 50-200 ms.
const SLOW_NODE_WAIT: Duration = Duration::from_millis(50);

/// What every batch of one backfill shares: where it ends, the chain as seen when it started,
/// and the memory budget its written logs return to.
struct BackfillRun<'b> {
    to: u64,
    head: u64,
    finalized: u64,
    budget: &'b LogBudget,
}

/// A fetched range: its last block's number (and header, when the fetch brought it) and its
/// decoded events.
struct Range {
    to: u64,
    last_block: Option<BlockRef>,
    events: Vec<IndexedEvent>,
}

type Fetched = Result<Range, IndexerError>;

/// What the backfill's fetching shares: the node, the range sizer and the memory budget.
struct Pipeline {
    client: ChainClient,
    sizer: RangeSizer,
    budget: Arc<LogBudget>,
    contract: Address,
    concurrency: usize,
    skips: Arc<SkippedLogs>,
}

/// Fetches `[from, to]` in adaptive ranges, up to `concurrency` at a time while the log budget
/// has room, and sends each range's decoded events in order.
async fn fetch_pipeline(
    pipeline: Pipeline,
    from: u64,
    to: u64,
    tx: mpsc::Sender<Fetched>,
    cancel: CancellationToken,
) {
    let Pipeline { client, sizer, budget, contract, concurrency, skips } = pipeline;
    let mut next = from;
    let mut in_flight: FuturesOrdered<tokio::task::JoinHandle<Fetched>> = FuturesOrdered::new();
    loop {
        let more = in_flight.len() < concurrency.max(1) && next <= to && !cancel.is_cancelled();
        let end = to.min(next.saturating_add(sizer.current() - 1));
        let expected = sizer.expected_logs(end.saturating_sub(next) + 1);
        tokio::select! {
            // Delivering first: a finished range waiting here may be what frees the budget.
            biased;
            Some(joined) = in_flight.next() => {
                let result = joined
                    .unwrap_or_else(|e| Err(IndexerError::Internal(format!("a fetch task failed: {e}"))));
                let failed = result.is_err();
                if tx.send(result).await.is_err() || failed {
                    return;
                }
            }
            () = budget.reserve(expected), if more => {
                let (client, sizer, budget, skips) = (client.clone(), sizer.clone(), budget.clone(), skips.clone());
                let start = next;
                in_flight.push_back(tokio::spawn(async move {
                    let FetchedLogs { logs, last_block } = fetch_all_logs(&client, &sizer, contract, start, end).await?;
                    budget.settle(expected, logs.len());
                    let fetched = logs.len();
                    let events = decode_with_timestamps(&client, logs, &skips).await?;
                    if events.len() < fetched {
                        // Skipped logs are never written: their share of the budget returns now.
                        budget.release(fetched - events.len());
                    }
                    Ok(Range { to: end, last_block, events })
                }));
                next = end + 1;
            }
            else => return,
        }
    }
}

/// Decodes logs, fetching headers only for blocks whose logs lack `blockTimestamp`. Each log
/// is dropped once decoded, so a large answer is not held twice over.
async fn decode_with_timestamps(
    client: &ChainClient,
    logs: Vec<Log>,
    skips: &SkippedLogs,
) -> Result<Vec<IndexedEvent>, IndexerError> {
    let missing: BTreeSet<u64> =
        logs.iter().filter(|l| l.block_timestamp.is_none()).filter_map(|l| l.block_number).collect();
    let mut times = HashMap::with_capacity(missing.len());
    let mut lookups = futures::stream::iter(missing)
        .map(|number| async move { (number, client.block_required(number).await) })
        .buffer_unordered(8);
    while let Some((number, block)) = lookups.next().await {
        times.insert(number, block?.time);
    }
    let mut events = Vec::with_capacity(logs.len());
    for log in logs {
        let time = log.block_number.and_then(|n| times.get(&n).copied());
        events.extend(decode::decode_log(&log, time, skips, client.metrics())?);
    }
    Ok(events)
}
