//! The live hub: one task per API process listens for the writer's change notices and fans
//! them out to subscriptions and to requests waiting on `X-Min-Block`.
//!
//! Notices can be lost (a dropped connection, a restart), so they are only a wake-up: the hub
//! also re-reads the index status every second and pushes whatever it has not pushed yet.
//! Behind a transaction pooler with no direct connection to `LISTEN` on, that poll is all it
//! has (see `store::ReadPool::notices`).
//! Events reach subscribers only after their transaction committed, in chain order; a revert
//! is pushed as a REORG before the events that replace the reverted ones.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

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
pub fn spawn(reader: Reader, metrics: Metrics, tasks: &Tasks) -> Live {
    let (events, _) = broadcast::channel(4096);
    let (status_tx, status) = watch::channel(None);
    let live = Live { events: events.clone(), status, metrics: metrics.clone() };
    let hub = Hub { reader, metrics, events, status: status_tx, pushed_up_to: None };
    tasks.spawn_critical_infallible("the live hub", hub.run(tasks.token().clone()));
    live
}

struct Hub {
    reader: Reader,
    /// Counts what is pushed (`jobboard_live_*` in /metrics).
    metrics: Metrics,
    events: broadcast::Sender<Arc<LiveEvent>>,
    status: watch::Sender<Option<IndexStatus>>,
    /// The last block whose events were pushed (`None` until the first status read).
    pushed_up_to: Option<u64>,
}

impl Hub {
    async fn run(mut self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut listener = None;
        loop {
            if listener.is_none()
                && let Some(notices) = self.reader.notices()
            {
                match notify::listen(notices).await {
                    Ok(l) => listener = Some(l),
                    Err(error) => warn!(%error, "cannot listen for change notices; polling every second"),
                }
            }
            let notice = tokio::select! {
                () = cancel.cancelled() => return,
                _ = tick.tick() => None,
                notice = async {
                    match listener.as_mut() {
                        Some(l) => l.recv().await,
                        None => std::future::pending().await,
                    }
                } => Some(notice),
            };
            match notice {
                Some(Ok(notification)) => {
                    if let Some(notice) = notify::parse_notice(notification.payload())
                        && notice.is_for(&self.reader.board())
                        && let Change::Reverted { to, hash } = notice.change
                    {
                        self.push_reorg(to, Some(hash));
                    }
                }
                Some(Err(error)) => {
                    warn!(%error, "change notice connection lost; reconnecting");
                    listener = None;
                }
                None => {}
            }
            if let Err(error) = self.sync().await {
                debug!(%error, "reading the index status failed; retrying on the next tick");
            }
        }
    }

    fn push_reorg(&mut self, to: u64, hash: Option<B256>) {
        if self.pushed_up_to.is_some_and(|pushed| pushed > to) {
            let _ = self.events.send(Arc::new(LiveEvent::Reorg { to, hash }));
            self.metrics.live_reorg_pushed();
            self.pushed_up_to = Some(to);
        }
    }

    /// Reads the status, publishes it, and pushes the events of newly indexed blocks.
    async fn sync(&mut self) -> Result<(), crate::store::StoreError> {
        // Unmetered: the hub's once-a-second poll is not a client's read, and counting it made
        // the per-request statement counts in /metrics depend on when a tick fell.
        let status = self.reader.status_unmetered().await?;
        let indexed = status.as_ref().and_then(|s| s.block.as_ref()).map(|b| (b.number, b.hash));
        self.status.send_if_modified(|current| {
            if *current == status {
                false
            } else {
                current.clone_from(&status);
                true
            }
        });
        let Some((block, hash)) = indexed else { return Ok(()) };
        match self.pushed_up_to {
            None => self.pushed_up_to = Some(block),
            Some(pushed) if block < pushed => {
                // A revert whose notice was missed.
                self.push_reorg(block, Some(hash));
            }
            Some(pushed) if block > pushed => {
                // Paged, and only while someone listens: a long gap costs many small reads,
                // never one unbounded one.
                let mut after = (pushed, i32::MAX);
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
                self.pushed_up_to = Some(block);
            }
            Some(_) => {}
        }
        Ok(())
    }
}
