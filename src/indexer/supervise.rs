//! The writer's outer loop: connect, take the writer lock, index; on a transient failure drop
//! the connection, back off and start again, for as long as it takes.
//!
//! ```text
//! loop:
//!   connect (keepalive settings, see lock)      transient error -> back off, again
//!   migrate (once per process)                  transient error -> back off, again
//!   take the lock, polling every second (standby)  transient error -> back off, again
//!   index until cancelled                       transient error -> back off, again
//!                                               deterministic error -> stop with it
//! ```
//!
//! A retry always starts from a new connection and the stored checkpoint: whether the last
//! commit landed before the connection broke is read back, never guessed, and the lock is
//! taken again before anything is written. The process never exits because the database or
//! the node is away; it says so in its log, its metrics and (in `run`) on `/readyz`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::status::StatusReporter;
use super::{Indexer, IndexerConfig, IndexerError};
use crate::chain::ChainClient;
use crate::store::{self, Acquired, Board, BoardState, Session, SessionOptions, StoreError};
use crate::telemetry::{Metrics, WriterState};

/// Capped exponential backoff: 250 ms, 0.5, 1, 2, 4, 8 s, then 10 s for as long as it takes.
/// No jitter: at most a writer and a standby or two retry against one database.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_millis(250), Duration::from_secs(10))
    }
}

impl Backoff {
    /// Starts at `first`, doubling up to `cap`.
    pub fn new(first: Duration, cap: Duration) -> Backoff {
        Backoff { first, cap, attempt: 0 }
    }

    /// The next pause, and counts the attempt.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32 << self.attempt.min(16);
        self.attempt = self.attempt.saturating_add(1);
        self.first.saturating_mul(factor).min(self.cap)
    }

    /// Retries so far since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Back to the first pause, after a run that went well long enough.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The longest pause: a run that lasted longer than this counts as having recovered.
    pub fn cap(&self) -> Duration {
        self.cap
    }
}

/// Everything the writer's loop needs.
pub struct Writer {
    /// The node.
    pub client: ChainClient,
    /// How to reach the database (see [`super::lock::writer_options`]).
    pub database: SessionOptions,
    /// The board indexed.
    pub board: Board,
    /// The indexer's settings.
    pub config: IndexerConfig,
    /// New-head announcements, with `--ws-url`.
    pub wake: Option<Arc<Notify>>,
    /// Where the writer's state and retries are reported.
    pub metrics: Metrics,
    /// What to check when the database cannot be reached (logged with the first failure).
    pub hint: String,
    /// `--rewind-to`: revert the store to this block once, under the lock, before indexing.
    pub rewind_to: Option<u64>,
    /// Check, once the lock is held and before indexing, that the node serves the board's
    /// chain and holds its contract (a board from the boards file, whose node was not checked
    /// at start-up: it may be down then, and must not hold up the other boards).
    pub verify_node: bool,
    /// Where the board's status goes (see [`super::status`]).
    pub status: Option<StatusReporter>,
}

/// How often a standby tries the lock: a takeover costs at most this on top of the
/// old writer's session ending.
const STANDBY_POLL: Duration = Duration::from_secs(1);

impl Writer {
    /// Runs until `cancel` fires (`Ok`) or a deterministic error stops it; every transient
    /// failure is waited out with [`Backoff`].
    ///
    /// # Errors
    /// The first error for which [`IndexerError::is_transient`] is false.
    pub async fn run(self, cancel: &CancellationToken) -> Result<(), IndexerError> {
        let mut backoff = Backoff::default();
        let mut migrated = false;
        let mut failing_since: Option<Instant> = None;
        let mut rewind_to = self.rewind_to;
        while !cancel.is_cancelled() {
            self.metrics.writer_state(WriterState::Connecting, None);
            let started = Instant::now();
            let outcome =
                self.connect_and_index(&mut migrated, &mut failing_since, &mut rewind_to, cancel).await;
            let error = match outcome {
                Ok(()) => break,
                Err(error) if error.is_transient() => error,
                Err(error) => {
                    self.metrics.writer_state(WriterState::Off, Some(error.to_string()));
                    if let Some(status) = &self.status {
                        status.report(BoardState::Error, Some(error.to_string()));
                        status.released();
                    }
                    return Err(error);
                }
            };
            if let Some(status) = &self.status {
                // The node check failed under the lock: the board is this process's to report.
                if error.is_node_failure() {
                    status.report(BoardState::Error, Some(error.to_string()));
                }
                status.released();
            }
            if started.elapsed() > backoff.cap() {
                backoff.reset();
            }
            let delay = backoff.next_delay();
            let since = *failing_since.get_or_insert_with(Instant::now);
            self.metrics.database_retry();
            self.metrics.writer_state(WriterState::Retrying, Some(error.to_string()));
            if backoff.attempts() == 1 {
                warn!(hint = %self.hint, "the indexer cannot continue for now; it retries until it can");
            }
            warn!(
                %error,
                attempt = backoff.attempts(),
                retry_in = ?delay,
                failing_for = ?since.elapsed(),
                "indexer interrupted by a transient failure; reconnecting"
            );
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        self.metrics.writer_state(WriterState::Off, None);
        if let Some(status) = &self.status {
            status.released();
        }
        Ok(())
    }

    /// One round: a new connection, migrations (once), the lock, a pending `--rewind-to`
    /// (cleared once it committed), then indexing.
    async fn connect_and_index(
        &self,
        migrated: &mut bool,
        failing_since: &mut Option<Instant>,
        rewind_to: &mut Option<u64>,
        cancel: &CancellationToken,
    ) -> Result<(), IndexerError> {
        let timeout = self.config.statement_timeout;
        let mut session = Session::connect(&self.database, timeout).await?;
        if !*migrated {
            session.migrate().await?;
            *migrated = true;
        }
        if let Some(since) = failing_since.take() {
            info!(after = ?since.elapsed(), "reconnected to the database; resuming");
        }
        let Some(writer) = self.wait_for_lock(session, cancel).await? else {
            return Ok(());
        };
        if self.verify_node {
            self.check_node().await?;
        }
        let mut indexer = Indexer::start(self.client.clone(), writer, self.config.clone()).await?;
        if let Some(wake) = &self.wake {
            indexer = indexer.with_wake_up(wake.clone());
        }
        if let Some(status) = &self.status {
            indexer = indexer.with_status(status.clone());
        }
        if let Some(to) = *rewind_to {
            indexer.rewind_to(to).await?;
            *rewind_to = None;
        }
        self.metrics.writer_state(WriterState::Writing, None);
        indexer.run(cancel).await
    }

    /// Checks that every RPC URL serves the board's chain and that the board's contract has
    /// code there.
    ///
    /// # Errors
    /// [`IndexerError::Chain`] with [`crate::chain::ChainError::WrongChain`] (deterministic) for
    /// a node on another chain, [`IndexerError::NoContract`] (deterministic) for a contract
    /// without code, a transient [`IndexerError::Chain`] when no node answers.
    async fn check_node(&self) -> Result<(), IndexerError> {
        let chain_id = self.client.connect(Some(self.board.chain_id)).await?;
        if !self.client.has_code(self.board.contract).await? {
            return Err(IndexerError::NoContract { contract: self.board.contract, chain_id });
        }
        Ok(())
    }

    /// Takes the lock on `session`, polling every [`STANDBY_POLL`] while another process holds
    /// it; `None` if cancelled first.
    async fn wait_for_lock(
        &self,
        mut session: Session<'static>,
        cancel: &CancellationToken,
    ) -> Result<Option<store::Writer<'static>>, StoreError> {
        let timeout = self.config.statement_timeout;
        let mut announced = false;
        loop {
            session = match timed(timeout, "taking the writer lock", session.try_acquire(self.board)).await? {
                Acquired::Writer(writer) => {
                    self.metrics.lock_acquired();
                    info!(chain_id = self.board.chain_id, contract = %self.board.contract, "writer lock acquired");
                    return Ok(Some(writer));
                }
                Acquired::Busy(session) => session,
            };
            if !announced {
                let holder = timed(timeout, "finding the lock's holder", session.holder(&self.board)).await?;
                self.metrics.writer_state(WriterState::Standby, None);
                info!(holder_pid = ?holder, "another indexer is writing this board; waiting as standby");
                announced = true;
            }
            tokio::select! {
                () = cancel.cancelled() => return Ok(None),
                () = tokio::time::sleep(STANDBY_POLL) => {}
            }
        }
    }
}

/// Runs a database call with a deadline: past it, the connection may be dead without the
/// client knowing (a partition), so the call fails as [`StoreError::Timeout`] and the caller
/// drops the connection.
///
/// # Errors
/// The call's own error, or [`StoreError::Timeout`].
pub async fn timed<T>(
    after: Duration,
    what: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(after, call).await.unwrap_or(Err(StoreError::Timeout { what, after }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..9).map(|_| backoff.next_delay().as_millis() as u64).collect();
        assert_eq!(delays, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
        assert_eq!(backoff.attempts(), 9);
        for _ in 0..100 {
            assert_eq!(backoff.next_delay(), Duration::from_secs(10));
        }
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(250));
    }
}
