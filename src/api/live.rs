//! The live hub: one task per API process listens for the writer's change notices and fans
//! them out to subscriptions and to requests waiting on `X-Min-Block`.
//!
//! Notices can be lost (a dropped connection, a restart), so they are only a wake-up: the hub
//! also re-reads the index status every second and pushes whatever it has not pushed yet. Where
//! it cannot listen at all (a hot standby refuses `LISTEN` during recovery; a transaction
//! pooler with no direct connection given, see `store::ReadPool::notices`) it follows the
//! index by reading the status every 200 ms, and finds reverts itself: a checkpoint it pushed
//! whose hash the reorg window no longer holds (docs/adr/0019-serving-from-a-standby.md).
//! Events reach subscribers only after their transaction committed, in chain order; a revert
//! is pushed as a REORG before the events that replace the reverted ones.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::result_cache::ResultCache;
use crate::store::notify::{self, Change};
use crate::store::{ActivityRow, IndexStatus, Reader};
use crate::tasks::Tasks;
use crate::telemetry::{LiveSubscriber, Metrics};

/// Events read per statement when the hub catches up with newly indexed blocks.
const CATCH_UP_PAGE: usize = 1000;

/// Something a subscription may push.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// A committed event.
    Activity(ActivityRow),
    /// Everything above block `to` was reverted.
    Reorg {
        /// The fork point.
        to: u64,
        /// Its hash, when known.
        hash: Option<B256>,
    },
}

/// Handles to the hub's outputs, cheap to clone.
#[derive(Debug, Clone)]
pub struct Live {
    events: broadcast::Sender<Arc<LiveEvent>>,
    status: watch::Receiver<Option<IndexStatus>>,
    metrics: Metrics,
}

impl Live {
    /// The last block the hub has seen indexed.
    pub fn indexed_block(&self) -> Option<u64> {
        self.status.borrow().as_ref().and_then(|s| s.block.as_ref()).map(|b| b.number)
    }

    /// A receiver of every event pushed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.events.subscribe()
    }

    /// Counts one open subscription (the `jobboard_live_subscribers` gauge) until the guard,
    /// kept in the subscription's stream, drops with it.
    pub fn count_subscriber(&self) -> LiveSubscriber {
        self.metrics.live_subscriber()
    }

    /// A receiver of the index status, updated whenever it changes.
    pub fn status(&self) -> watch::Receiver<Option<IndexStatus>> {
        self.status.clone()
    }

    /// Waits until the index holds block `block`, up to `bound`; returns where it stands.
    pub async fn wait_for_block(&self, block: u64, bound: Duration) -> Result<(), Option<u64>> {
        let mut status = self.status.clone();
        let reached = |s: &Option<IndexStatus>| {
            s.as_ref().and_then(|s| s.block.as_ref()).is_some_and(|b| b.number >= block)
        };
        let waited = tokio::time::timeout(bound, status.wait_for(reached)).await;
        match waited {
            Ok(Ok(_)) => Ok(()),
            _ => Err(self.status.borrow().as_ref().and_then(|s| s.block.as_ref()).map(|b| b.number)),
        }
    }
}

/// Starts the hub for `reader`'s board as one of `tasks`; it stops when their token fires.
/// It keeps `results` valid as its hub number `hub`: invalidated on every change notice, and
/// off while it cannot listen for them.
pub fn spawn(reader: Reader, metrics: Metrics, results: Arc<ResultCache>, hub: usize, tasks: &Tasks) -> Live {
    let (events, _) = broadcast::channel(4096);
    let (status_tx, status) = watch::channel(None);
    let live = Live { events: events.clone(), status, metrics: metrics.clone() };
    let hub =
        Hub { reader, metrics, events, status: status_tx, pushed: None, seen: VecDeque::new(), results, hub };
    tasks.spawn_critical_infallible("the live hub", hub.run(tasks.token().clone()));
    live
}

struct Hub {
    reader: Reader,
    /// Counts what is pushed (`jobboard_live_*` in /metrics).
    metrics: Metrics,
    events: broadcast::Sender<Arc<LiveEvent>>,
    status: watch::Sender<Option<IndexStatus>>,
    /// The last block whose events were pushed, and its hash (`None` until the first status
    /// read).
    pushed: Option<(u64, B256)>,
    /// Checkpoints pushed lately, oldest first: the candidates for a fork point when a revert
    /// is found without its notice.
    seen: VecDeque<(u64, B256)>,
    /// Invalidated on every notice; caching only while the listener is up.
    results: Arc<ResultCache>,
    /// This hub's number in `results`.
    hub: usize,
}

/// How often the hub re-reads the status while it hears change notices: a safety net.
const POLL_LISTENING: Duration = Duration::from_secs(1);
/// How often it re-reads the status when it cannot listen (a hot standby, a lost connection):
/// the delay subscriptions and `X-Min-Block` see there, beside the replica's own replay lag.
const POLL_DEAF: Duration = Duration::from_millis(200);
/// How often a hub on a hot standby tries `LISTEN` again (the standby may be promoted).
const RELISTEN_STANDBY: Duration = Duration::from_secs(30);
/// Checkpoints remembered as fork-point candidates.
const SEEN_CHECKPOINTS: usize = 64;

impl Hub {
    async fn run(mut self, cancel: CancellationToken) {
        let mut listener = None;
        let mut next_listen = Instant::now();
        let mut deaf_reported = false;
        let mut started = false;
        loop {
            if listener.is_none() && Instant::now() >= next_listen {
                let Some(notices) = self.reader.notices() else {
                    // Behind a transaction pooler with no direct URL: nothing to listen on.
                    if !deaf_reported {
                        info!(
                            "no connection to LISTEN on: following the index every 200 ms, caching no answers"
                        );
                        deaf_reported = true;
                    }
                    next_listen = Instant::now() + RELISTEN_STANDBY;
                    continue;
                };
                match notify::listen(notices).await {
                    Ok(l) => {
                        listener = Some(l);
                        // Changes made while nobody listened went unseen: start afresh.
                        self.results.set_listening(self.hub, true);
                        if deaf_reported {
                            info!("hearing change notices again");
                            deaf_reported = false;
                        }
                    }
                    Err(error) => {
                        let standby = notify::is_standby_refusal(&error);
                        next_listen =
                            Instant::now() + if standby { RELISTEN_STANDBY } else { POLL_LISTENING };
                        if !deaf_reported {
                            if standby {
                                info!(
                                    "the database is a hot standby, where LISTEN is refused: following its replayed index every 200 ms, caching no answers"
                                );
                            } else {
                                warn!(%error, "cannot listen for change notices; following the index every 200 ms, caching no answers");
                            }
                            deaf_reported = true;
                        }
                    }
                }
            }
            if !started {
                // The status is published at once, not a poll interval later: subscriptions
                // and `X-Min-Block` read it from the first request.
                if let Err(error) = self.sync(listener.is_some()).await {
                    debug!(%error, "reading the index status failed; retrying on the next tick");
                }
                started = true;
            }
            let poll = if listener.is_some() { POLL_LISTENING } else { POLL_DEAF };
            let notice = tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(poll) => None,
                notice = async {
                    match listener.as_mut() {
                        Some(l) => l.recv().await,
                        None => std::future::pending().await,
                    }
                } => Some(notice),
            };
            match notice {
                Some(Ok(notification)) => {
                    let parsed = notify::parse_notice(notification.payload());
                    // Any notice about this board, or one this version cannot read, may mean
                    // the data moved.
                    if parsed.as_ref().is_none_or(|notice| notice.is_for(&self.reader.board())) {
                        self.results.invalidate();
                    }
                    if let Some(notice) = parsed
                        && notice.is_for(&self.reader.board())
                        && let Change::Reverted { to, hash } = notice.change
                    {
                        self.push_reorg(to, hash);
                    }
                }
                Some(Err(error)) => {
                    warn!(%error, "change notice connection lost; reconnecting");
                    listener = None;
                    self.results.set_listening(self.hub, false);
                }
                None => {}
            }
            if let Err(error) = self.sync(listener.is_some()).await {
                debug!(%error, "reading the index status failed; retrying on the next tick");
            }
        }
    }

    /// Pushes a REORG to block `to` (whose hash is `hash`) if anything above it was pushed.
    fn push_reorg(&mut self, to: u64, hash: B256) {
        if self.pushed.is_some_and(|(pushed, _)| pushed > to) {
            let _ = self.events.send(Arc::new(LiveEvent::Reorg { to, hash: Some(hash) }));
            self.metrics.live_reorg_pushed();
            self.seen.retain(|&(number, _)| number <= to);
            self.pushed = Some((to, hash));
        }
    }

    /// Records `(block, hash)` as pushed.
    fn remember(&mut self, block: u64, hash: B256) {
        self.pushed = Some((block, hash));
        if self.seen.back() != Some(&(block, hash)) {
            self.seen.push_back((block, hash));
        }
        while self.seen.len() > SEEN_CHECKPOINTS {
            self.seen.pop_front();
        }
    }

    /// Reads the status, publishes it, and pushes the events of newly indexed blocks (after a
    /// REORG if the blocks pushed before are no longer the index's). Without notices
    /// (`listening` false), a revert is found by comparing hashes.
    async fn sync(&mut self, listening: bool) -> Result<(), crate::store::StoreError> {
        // Unmetered: the hub's poll is not a client's read, and counting it made the
        // per-request statement counts in /metrics depend on when a tick fell.
        let status = self.reader.status_unmetered().await?;
        let indexed = status.as_ref().and_then(|s| s.block.as_ref()).map(|b| (b.number, b.hash));
        let seen = self.status.borrow().as_ref().and_then(|s| s.block.as_ref()).map(|b| (b.number, b.hash));
        if seen.is_some() && seen != indexed {
            // A move no notice announced (one is always sent; this guards the cache anyway).
            self.results.invalidate();
        }
        self.status.send_if_modified(|current| {
            if *current == status {
                false
            } else {
                current.clone_from(&status);
                true
            }
        });
        let Some((block, hash)) = indexed else { return Ok(()) };
        let Some((pushed, pushed_hash)) = self.pushed else {
            self.remember(block, hash);
            return Ok(());
        };
        let moved_off = block < pushed
            || (block == pushed && hash != pushed_hash)
            || (block > pushed && !listening && !self.still_indexed(pushed, pushed_hash).await?);
        let mut from = pushed;
        if moved_off {
            let (fork, fork_hash) = self.fork_point(block).await?;
            let _ = self.events.send(Arc::new(LiveEvent::Reorg { to: fork, hash: fork_hash }));
            self.metrics.live_reorg_pushed();
            self.seen.retain(|&(number, _)| number <= fork);
            from = fork;
        }
        if block > from {
            // Paged, and only while someone listens: a long gap costs many small reads,
            // never one unbounded one.
            let mut after = (from, i32::MAX);
            while self.events.receiver_count() > 0 {
                let rows = self.reader.activity_between(after, block, CATCH_UP_PAGE).await?;
                let full = rows.len() == CATCH_UP_PAGE;
                self.metrics.live_events_pushed(rows.len());
                for row in rows {
                    after = (row.block_number, row.log_index);
                    let _ = self.events.send(Arc::new(LiveEvent::Activity(row)));
                }
                if !full {
                    break;
                }
            }
        }
        self.remember(block, hash);
        Ok(())
    }

    /// Whether the pushed checkpoint `(block, hash)` is still part of the index: final (below
    /// the reorg window), or in the window with the same hash.
    async fn still_indexed(&self, block: u64, hash: B256) -> Result<bool, crate::store::StoreError> {
        let window = self.reader.indexed_window(&[block]).await?;
        Ok(match window.hashes.get(&block) {
            Some(held) => *held == hash,
            None => window.floor.is_none_or(|floor| block < floor),
        })
    }

    /// The newest checkpoint pushed that the index still holds, at or below `block`: what a
    /// revert found without its notice went back to. Past every one remembered, the block
    /// below the reorg window (nothing under it can be reverted).
    async fn fork_point(&self, block: u64) -> Result<(u64, Option<B256>), crate::store::StoreError> {
        let candidates: Vec<(u64, B256)> =
            self.seen.iter().rev().copied().filter(|&(number, _)| number <= block).collect();
        let numbers: Vec<u64> = candidates.iter().map(|&(number, _)| number).collect();
        let window = self.reader.indexed_window(&numbers).await?;
        for (number, hash) in candidates {
            let held = match window.hashes.get(&number) {
                Some(held) => *held == hash,
                None => window.floor.is_none_or(|floor| number < floor),
            };
            if held {
                return Ok((number, Some(hash)));
            }
        }
        Ok((window.floor.map_or(0, |floor| floor.saturating_sub(1)), None))
    }
}
