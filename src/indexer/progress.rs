//! Backfill progress for the operator: one redrawn line on a terminal, a log line every few
//! seconds otherwise (so a log file or a container's output gets plain, parseable lines).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use tracing::info;

/// How often the terminal line is redrawn.
const REDRAW_EVERY: Duration = Duration::from_millis(250);
/// How often a log line is written when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(10);
/// Backfills shorter than this show no progress at all.
const QUIET_FOR: Duration = Duration::from_millis(500);

/// Tracks one backfill of blocks `[from, to]`.
#[derive(Debug)]
pub struct Progress {
    from: u64,
    to: u64,
    started: Instant,
    last_report: Instant,
    events: u64,
    block: u64,
    terminal: bool,
    drawn: bool,
}

impl Progress {
    /// Starts tracking; draws on stderr when it is a terminal.
    pub fn new(from: u64, to: u64) -> Progress {
        let now = Instant::now();
        Progress {
            from,
            to,
            started: now,
            last_report: now,
            events: 0,
            block: from.saturating_sub(1),
            terminal: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// Records that everything up to `block` is written, `events` of them in this batch.
    pub fn advance(&mut self, block: u64, events: usize) {
        self.block = block;
        self.events += events as u64;
        let elapsed = self.started.elapsed();
        if elapsed < QUIET_FOR {
            return;
        }
        let every = if self.terminal { REDRAW_EVERY } else { LOG_EVERY };
        if self.last_report.elapsed() < every && block < self.to {
            return;
        }
        self.last_report = Instant::now();
        let snapshot = self.snapshot(elapsed);
        if self.terminal {
            let mut stderr = std::io::stderr().lock();
            // Clear the line and redraw it in place.
            let _ = write!(stderr, "\r\x1b[2K{}", snapshot.line());
            let _ = stderr.flush();
            self.drawn = true;
        } else {
            info!(
                percent = format!("{:.1}", snapshot.percent()),
                block,
                to = self.to,
                blocks_per_s = snapshot.blocks_per_second() as u64,
                events_per_s = snapshot.events_per_second() as u64,
                eta = %snapshot.eta().map_or_else(|| "-".to_owned(), format_duration),
                "backfill progress"
            );
        }
    }

    /// Ends the terminal line, so the next log line starts on its own.
    pub fn finish(&mut self) {
        if self.drawn {
            let _ = writeln!(std::io::stderr());
            self.drawn = false;
        }
    }

    fn snapshot(&self, elapsed: Duration) -> Snapshot {
        Snapshot {
            done_blocks: (self.block + 1).saturating_sub(self.from),
            total_blocks: self.to + 1 - self.from.min(self.to + 1),
            events: self.events,
            elapsed,
            block: self.block,
            to: self.to,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The figures of one report; pure, so its arithmetic is tested apart from any terminal.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Snapshot {
    done_blocks: u64,
    total_blocks: u64,
    events: u64,
    elapsed: Duration,
    block: u64,
    to: u64,
}

impl Snapshot {
    fn percent(&self) -> f64 {
        if self.total_blocks == 0 {
            100.0
        } else {
            100.0 * self.done_blocks as f64 / self.total_blocks as f64
        }
    }

    fn blocks_per_second(&self) -> f64 {
        self.done_blocks as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// Time left at the average rate so far; unknown before any block is done.
    fn eta(&self) -> Option<Duration> {
        let rate = self.blocks_per_second();
        if self.done_blocks == 0 || rate <= 0.0 {
            return None;
        }
        let left = self.total_blocks.saturating_sub(self.done_blocks) as f64;
        Some(Duration::from_secs_f64(left / rate))
    }

    fn line(&self) -> String {
        format!(
            "backfill {:5.1}%  block {} of {}  {} blocks/s  {} events/s  ETA {}",
            self.percent(),
            self.block,
            self.to,
            self.blocks_per_second() as u64,
            self.events_per_second() as u64,
            self.eta().map_or_else(|| "-".to_owned(), format_duration),
        )
    }
}

/// `1h 02m`, `3m 05s`, `42s`.
fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_percent_and_eta_follow_the_blocks_done() {
        let snapshot = Snapshot {
            done_blocks: 250,
            total_blocks: 1000,
            events: 5000,
            elapsed: Duration::from_secs(10),
            block: 1249,
            to: 1999,
        };
        assert_eq!(snapshot.percent(), 25.0);
        assert_eq!(snapshot.blocks_per_second(), 25.0);
        assert_eq!(snapshot.events_per_second(), 500.0);
        assert_eq!(snapshot.eta(), Some(Duration::from_secs(30)));
        assert_eq!(
            snapshot.line(),
            "backfill  25.0%  block 1249 of 1999  25 blocks/s  500 events/s  ETA 30s"
        );
    }

    #[test]
    fn eta_is_unknown_before_the_first_block() {
        let snapshot = Snapshot {
            done_blocks: 0,
            total_blocks: 10,
            events: 0,
            elapsed: Duration::from_secs(1),
            block: 0,
            to: 10,
        };
        assert_eq!(snapshot.eta(), None);
        assert!(snapshot.line().ends_with("ETA -"), "{}", snapshot.line());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_secs(42)), "42s");
        assert_eq!(format_duration(Duration::from_secs(185)), "3m 05s");
        assert_eq!(format_duration(Duration::from_secs(3720)), "1h 02m");
    }

    #[test]
    fn a_tracker_counts_blocks_from_its_start() {
        let mut progress = Progress::new(100, 199);
        progress.advance(149, 7);
        let snapshot = progress.snapshot(Duration::from_secs(5));
        assert_eq!((snapshot.done_blocks, snapshot.total_blocks, snapshot.events), (50, 100, 7));
    }
}
