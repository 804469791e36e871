//! Each board's status (SYNCING, LIVE, STALLED, ERROR), from the indexer to the database.
//!
//! ```text
//! board task --StatusReporter::report--> latest status per board (memory, never blocks)
//!                                             |
//!             one task per process: write_statuses --StatusWriter--> board_status
//!             (on every change at once, and every HEARTBEAT for the boards it holds)
//! ```
//!
//! Reporting only swaps a value in memory, so a board's indexer never waits on the database
//! for it; one task per process writes the latest value of each board over the store's
//! [`StatusWriter`], a pool apart from every writer's locked session. A status that cannot be
//! written (the database is away) stays pending and is written when it can; only the latest
//! value matters. Reports come from the process holding the board's writer lock (the indexer,
//! and the supervisor's node check and failures, which run under it): a standby says nothing,
//! so it never overwrites the status of the board another process writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::store::{Board, BoardReport, BoardState, StatusWriter};

/// How often the status of a board this process indexes is written again unchanged, so its
/// `updated_at` says the report is current.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// The longest one status write may take before it is given up and tried again later.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The statuses of every board of this process; give each board a [`StatusReporter`] and run
/// [`Statuses::write_until_cancelled`] once. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Statuses {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    boards: Mutex<HashMap<Board, Entry>>,
    changed: Notify,
}

#[derive(Debug)]
struct Entry {
    name: String,
    /// The latest report, if any was made.
    latest: Option<(BoardState, Option<String>)>,
    /// Reported since last written.
    pending: bool,
    /// This process holds the board (so its heartbeat is written).
    held: bool,
}

/// One board's handle for reporting its status; cheap to clone.
#[derive(Debug, Clone)]
pub struct StatusReporter {
    shared: Arc<Shared>,
    board: Board,
}

impl Statuses {
    /// The reporter of `board`, shown as `name`.
    pub fn reporter(&self, board: Board, name: &str) -> StatusReporter {
        let mut boards = self.shared.boards.lock().unwrap_or_else(PoisonError::into_inner);
        boards.entry(board).or_insert_with(|| Entry {
            name: name.to_owned(),
            latest: None,
            pending: false,
            held: false,
        });
        StatusReporter { shared: self.shared.clone(), board }
    }

    /// Writes every board's reports through `writer` until `cancel` fires: each change at once,
    /// each held board's status again every [`HEARTBEAT`]. A failed write is retried at the
    /// next change or heartbeat; it never stops the task (nor any board).
    pub async fn write_until_cancelled(self, writer: StatusWriter, cancel: CancellationToken) {
        let mut failing = false;
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !cancel.is_cancelled() {
            let due = self.take_due();
            let mut failed = false;
            for report in due {
                let write = tokio::time::timeout(WRITE_TIMEOUT, writer.record(&report));
                let error = match write.await {
                    Ok(Ok(())) => continue,
                    Ok(Err(error)) => error.to_string(),
                    Err(_) => format!("no answer within {WRITE_TIMEOUT:?}"),
                };
                self.mark_pending(&report.board);
                if !failing {
                    warn!(%error, chain_id = report.board.chain_id, "cannot write a board's status; retrying");
                }
                failed = true;
            }
            if failing && !failed {
                info!("board statuses written again");
            }
            failing = failed;
            tokio::select! {
                () = cancel.cancelled() => break,
                () = self.shared.changed.notified(), if !failing => {}
                _ = heartbeat.tick() => self.heartbeat(),
            }
        }
    }

    /// The reports to write now (pending ones), marked written.
    fn take_due(&self) -> Vec<BoardReport> {
        let mut boards = self.shared.boards.lock().unwrap_or_else(PoisonError::into_inner);
        boards
            .iter_mut()
            .filter(|(_, entry)| entry.pending)
            .filter_map(|(board, entry)| {
                entry.pending = false;
                let (state, error) = entry.latest.clone()?;
                Some(BoardReport { board: *board, name: entry.name.clone(), state, error })
            })
            .collect()
    }

    fn mark_pending(&self, board: &Board) {
        let mut boards = self.shared.boards.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = boards.get_mut(board) {
            entry.pending = true;
        }
    }

    /// Marks every held board's status pending, to be written again unchanged.
    fn heartbeat(&self) {
        let mut boards = self.shared.boards.lock().unwrap_or_else(PoisonError::into_inner);
        for entry in boards.values_mut().filter(|entry| entry.held) {
            entry.pending = true;
        }
    }
}

impl StatusReporter {
    /// The board reported on.
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// Reports the board's state now, with the failure behind a STALLED or ERROR state. Only
    /// a change is written at once; the same report again only refreshes the heartbeat.
    pub fn report(&self, state: BoardState, error: Option<String>) {
        let mut boards = self.shared.boards.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = boards.get_mut(&self.board) else { return };
        entry.held = true;
        let report = Some((state, error));
        if entry.latest != report {
            entry.latest = report;
            entry.pending = true;
            drop(boards);
            self.shared.changed.notify_one();
        }
    }

    /// This process no longer holds the board (its session ended, or it stopped): its last
    /// report is still written if pending, but no heartbeat follows.
    pub fn released(&self) {
        let mut boards = self.shared.boards.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = boards.get_mut(&self.board) {
            entry.held = false;
        }
    }

    /// The latest report, for tests.
    pub fn latest(&self) -> Option<(BoardState, Option<String>)> {
        let boards = self.shared.boards.lock().unwrap_or_else(PoisonError::into_inner);
        boards.get(&self.board).and_then(|entry| entry.latest.clone())
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Address;

    use super::*;

    fn board(chain_id: u64) -> Board {
        Board { chain_id, contract: Address::repeat_byte(7) }
    }

    #[test]
    fn only_changes_are_due_and_each_once() {
        let statuses = Statuses::default();
        let one = statuses.reporter(board(1), "one");
        let two = statuses.reporter(board(2), "two");
        assert!(statuses.take_due().is_empty(), "nothing reported yet");
        one.report(BoardState::Syncing, None);
        two.report(BoardState::Error, Some("node down".into()));
        let mut due = statuses.take_due();
        due.sort_by_key(|r| r.board.chain_id);
        assert_eq!(due.len(), 2);
        assert_eq!((due[1].name.as_str(), due[1].state), ("two", BoardState::Error));
        assert_eq!(due[1].error.as_deref(), Some("node down"));
        assert!(statuses.take_due().is_empty(), "written once");
        one.report(BoardState::Syncing, None);
        assert!(statuses.take_due().is_empty(), "the same report is no change");
        one.report(BoardState::Live, None);
        assert_eq!(statuses.take_due().len(), 1);
    }

    #[test]
    fn a_heartbeat_rewrites_only_held_boards_and_a_failed_write_stays_pending() {
        let statuses = Statuses::default();
        let one = statuses.reporter(board(1), "one");
        let two = statuses.reporter(board(2), "two");
        one.report(BoardState::Live, None);
        two.report(BoardState::Live, None);
        two.released();
        assert_eq!(statuses.take_due().len(), 2, "a released board's last report is still written");
        statuses.heartbeat();
        let due = statuses.take_due();
        assert_eq!(due.iter().map(|r| r.board.chain_id).collect::<Vec<_>>(), [1]);
        statuses.mark_pending(&board(1));
        assert_eq!(statuses.take_due().len(), 1);
        assert_eq!(two.latest(), Some((BoardState::Live, None)));
    }
}
