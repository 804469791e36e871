//! The backfill's memory bound, counted in logs: the logs fetched but not yet written plus what
//! the fetches in flight are expected to bring.
//!
//! Fetching is several times faster than writing, so without a bound every finished range
//! would wait in memory for the writer; and the number of requests in flight says little about
//! memory when one block can hold tens of thousands of the board's logs. A fetch reserves its
//! expected logs before it starts, corrects the reservation to the real count when it lands,
//! and the writer releases them once written.

use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;

/// Logs held or expected by the backfill pipeline, against a limit.
#[derive(Debug)]
pub(crate) struct LogBudget {
    limit: usize,
    used: Mutex<usize>,
    freed: Notify,
}

impl LogBudget {
    /// A budget of `limit` logs.
    pub(crate) fn new(limit: usize) -> LogBudget {
        LogBudget { limit: limit.max(1), used: Mutex::new(0), freed: Notify::new() }
    }

    fn used(&self) -> std::sync::MutexGuard<'_, usize> {
        self.used.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `logs` more fit, or until nothing is held at all (so a range larger than
    /// the whole budget still goes, alone). Cancel-safe: a dropped wait reserves nothing.
    pub(crate) async fn reserve(&self, logs: usize) {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the check, so a release between the check and the wait wakes us.
            freed.as_mut().enable();
            {
                let mut used = self.used();
                if *used == 0 || used.saturating_add(logs) <= self.limit {
                    *used = used.saturating_add(logs);
                    return;
                }
            }
            freed.await;
        }
    }

    /// A fetch that reserved `reserved` logs brought `actual`.
    pub(crate) fn settle(&self, reserved: usize, actual: usize) {
        {
            let mut used = self.used();
            *used = used.saturating_sub(reserved).saturating_add(actual);
        }
        if actual < reserved {
            self.freed.notify_waiters();
        }
    }

    /// `logs` were written (or dropped) and no longer occupy memory.
    pub(crate) fn release(&self, logs: usize) {
        {
            let mut used = self.used();
            *used = used.saturating_sub(logs);
        }
        self.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn waits_for_room_but_never_for_an_oversized_range_alone() {
        let budget = Arc::new(LogBudget::new(100));
        budget.reserve(60).await;
        budget.settle(60, 90);
        let waiting = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve(20).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "90 + 20 > 100 must wait");
        budget.release(90);
        tokio::time::timeout(Duration::from_secs(1), waiting).await.expect("woken").expect("joined");
        budget.release(20);
        // Nothing held: a reservation above the limit proceeds.
        tokio::time::timeout(Duration::from_secs(1), budget.reserve(500)).await.expect("alone");
    }
}
