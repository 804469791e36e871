//! One way to run a child process of the local stack (anvil, for `jobboard dev` and the benches)
//! and of the integration tests (anvil, `jobboard` itself): its stdout and stderr captured line
//! by line, waits on what it prints rather than on the clock, and a stop chosen per process that
//! runs on drop at the latest.
//!
//! Signals are sent with the `kill` program: signalling a process group needs no unsafe code
//! that way.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The lifeline supervisor both local servers run under (anvil, PostgreSQL), as
/// `sh -c LIFELINE NAME SIGNAL LOG REMOVE PROGRAM ARGS...`: it keeps the owner's stdin pipe on fd
/// 3 and, when the owner lets go (the pipe's end of file, also when the owner is killed with
/// -9), sends SIGNAL to the program. The program gets neither the pipe nor a terminal; its
/// output goes to LOG when one is given. The watcher exits with 42 only after seeing end of
/// file, which is how the supervisor tells "the owner is gone" (then it deletes REMOVE, if
/// given) from "the program exited by itself" (the log stays, for the owner to report why).
const LIFELINE: &str = r#"
signal=$1; log=$2; remove=$3; shift 3
if [ -n "$log" ]; then exec 3<&0 </dev/null >>"$log" 2>&1; else exec 3<&0 </dev/null; fi
"$@" 3<&- &
child=$!
( while read -r _ <&3; do :; done; kill -"$signal" "$child" 2>/dev/null; exit 42 ) &
watcher=$!
exec 3<&-
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
wait "$watcher"
if [ "$?" -eq 42 ] && [ -n "$remove" ]; then rm -rf -- "$remove"; fi
exit "$status"
"#;

/// What the lifeline supervisor does when its owner lets go, and where the program's output
/// goes (see [`lifeline_command`]).
#[derive(Debug, Clone, Copy)]
pub struct Lifeline<'a> {
    /// The name the supervisor shows in `ps` (e.g. `jobboard-anvil-supervisor`).
    pub name: &'static str,
    /// The signal sent to the program (`TERM`, `INT`).
    pub signal: &'static str,
    /// A file the program's stdout and stderr are appended to; `None` keeps the supervisor's.
    pub log: Option<&'a Path>,
    /// A directory deleted once the program stopped because the owner let go.
    pub remove: Option<&'a Path>,
}

/// A command that runs `program` under the lifeline supervisor; the caller adds the program's
/// arguments and must give the command a piped stdin it holds (as [`Stop::CloseStdin`] does).
pub fn lifeline_command(program: &Path, lifeline: Lifeline<'_>) -> Command {
    let path = |p: Option<&Path>| p.map(Path::as_os_str).unwrap_or_default().to_owned();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(LIFELINE)
        .arg(lifeline.name)
        .arg(lifeline.signal)
        .arg(path(lifeline.log))
        .arg(path(lifeline.remove))
        .arg(program);
    command
}

/// The most lines kept per stream: a long-running child (anvil logs every request) must not
/// grow its owner's memory without bound. Older lines are dropped first.
const KEPT_LINES: usize = 100_000;

/// How a launched process is stopped, by [`Launched::stop`] or on drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGKILL at once: to the process, a crash.
    Kill,
    /// SIGINT (what Ctrl-C sends), then SIGKILL if it is still running after the grace time.
    Interrupt(Duration),
    /// Close its stdin, which a supervisor of the local stack takes as the signal to stop its
    /// child gracefully. Such a supervisor leads a process group of its own (the launcher puts
    /// it in one), and the whole group is killed if it is still running after the grace time.
    CloseStdin(Duration),
}

/// Which of the child's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Why a wait for a line ended without one.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The stream closed (the process exited) before a matching line.
    #[error("the process closed its {stream:?} before the line waited for")]
    Closed {
        /// The stream waited on.
        stream: Stream,
    },
    /// No matching line within the time given.
    #[error("no line waited for on {stream:?} within {waited:?}")]
    TimedOut {
        /// The stream waited on.
        stream: Stream,
        /// How long it waited.
        waited: Duration,
    },
}

/// The lines of one stream so far, and whether it closed.
#[derive(Debug, Default)]
struct Lines {
    kept: VecDeque<String>,
    /// How many lines were dropped from the front to respect [`KEPT_LINES`].
    dropped: usize,
    closed: bool,
}

/// One captured stream: its lines, and the two ways to be woken when one arrives.
#[derive(Debug, Default)]
struct Captured {
    lines: Mutex<Lines>,
    arrived: Condvar,
    arrived_async: tokio::sync::Notify,
}

impl Captured {
    fn lock(&self) -> MutexGuard<'_, Lines> {
        // A reader thread cannot panic while holding the lock: recover the data if it did.
        self.lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads `pipe` to its end on a thread of its own, so the child never blocks on a full pipe.
    fn drain(self: &Arc<Self>, pipe: impl Read + Send + 'static) {
        let captured = Arc::clone(self);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buffer = Vec::new();
            loop {
                buffer.clear();
                match reader.read_until(b'\n', &mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buffer);
                        let line = line.trim_end_matches(['\n', '\r']).to_owned();
                        let mut lines = captured.lock();
                        lines.kept.push_back(line);
                        if lines.kept.len() > KEPT_LINES {
                            lines.kept.pop_front();
                            lines.dropped += 1;
                        }
                    }
                }
                captured.wake();
            }
            captured.lock().closed = true;
            captured.wake();
        });
    }

    fn wake(&self) {
        self.arrived.notify_all();
        self.arrived_async.notify_waiters();
    }

    fn text(&self) -> String {
        let lines = self.lock();
        let mut text = String::new();
        for line in &lines.kept {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Feeds `matches` the lines from `cursor` on: the first it accepts ends the wait, and so
    /// does a closed stream; `None` means wait on. `cursor` moves past every line fed, so each
    /// line is seen once per wait.
    fn scan(
        &self,
        lines: &Lines,
        cursor: &mut usize,
        matches: &mut impl FnMut(&str) -> bool,
        stream: Stream,
    ) -> Option<Result<String, WaitError>> {
        let start = cursor.saturating_sub(lines.dropped);
        for line in lines.kept.iter().skip(start) {
            *cursor += 1;
            if matches(line) {
                return Some(Ok(line.clone()));
            }
        }
        *cursor = (*cursor).max(lines.dropped + lines.kept.len());
        lines.closed.then_some(Err(WaitError::Closed { stream }))
    }
}

/// A running child process with its output captured. Stopped as its [`Stop`] says on drop.
#[derive(Debug)]
pub struct Launched {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Captured>,
    stderr: Arc<Captured>,
    stop: Stop,
    status: Option<ExitStatus>,
}

impl Launched {
    /// Spawns `command` with stdout and stderr captured. Its stdin is a pipe the owner holds
    /// for [`Stop::CloseStdin`] (which also makes it a process-group leader), else `/dev/null`.
    ///
    /// # Errors
    /// The OS error if the program cannot be spawned.
    pub fn spawn(mut command: Command, stop: Stop) -> std::io::Result<Launched> {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        if matches!(stop, Stop::CloseStdin(_)) {
            command.stdin(Stdio::piped()).process_group(0);
        } else {
            command.stdin(Stdio::null());
        }
        let mut child = command.spawn()?;
        let (stdout, stderr) = (Arc::new(Captured::default()), Arc::new(Captured::default()));
        if let Some(pipe) = child.stdout.take() {
            stdout.drain(pipe);
        }
        if let Some(pipe) = child.stderr.take() {
            stderr.drain(pipe);
        }
        let stdin = child.stdin.take();
        Ok(Launched { child, stdin, stdout, stderr, stop, status: None })
    }

    fn captured(&self, stream: Stream) -> &Arc<Captured> {
        match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        }
    }

    /// The process id (for a process group, its id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process wrote on `stream` so far (its last [`KEPT_LINES`] lines).
    pub fn output(&self, stream: Stream) -> String {
        self.captured(stream).text()
    }

    /// Blocks until a line on `stream` satisfies `matches` (which sees every line once, from
    /// the first, in order) and returns it.
    ///
    /// # Errors
    /// [`WaitError`] if the stream closes first or `within` passes.
    pub fn wait_for_line(
        &self,
        stream: Stream,
        within: Duration,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Result<String, WaitError> {
        let captured = self.captured(stream);
        let deadline = Instant::now() + within;
        let mut cursor = 0;
        let mut lines = captured.lock();
        loop {
            if let Some(ended) = captured.scan(&lines, &mut cursor, &mut matches, stream) {
                return ended;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitError::TimedOut { stream, waited: within });
            }
            lines = captured
                .arrived
                .wait_timeout(lines, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
    }

    /// [`Launched::wait_for_line`] for async callers: waits without holding a runtime thread.
    ///
    /// # Errors
    /// [`WaitError`] if the stream closes first or `within` passes.
    pub async fn line(
        &self,
        stream: Stream,
        within: Duration,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Result<String, WaitError> {
        let captured = self.captured(stream);
        let deadline = tokio::time::Instant::now() + within;
        let mut cursor = 0;
        loop {
            // Registered before the check, so a line arriving in between still wakes us.
            let arrived = captured.arrived_async.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            {
                let lines = captured.lock();
                if let Some(ended) = captured.scan(&lines, &mut cursor, &mut matches, stream) {
                    return ended;
                }
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return Err(WaitError::TimedOut { stream, waited: within });
            }
        }
    }

    /// The exit status if the process has exited, without waiting.
    ///
    /// # Errors
    /// The OS error from `waitpid`.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        Ok(self.status)
    }

    /// Sends `signal` (a name `kill` knows, e.g. `INT`) to the process, or to its group.
    fn signal(&self, signal: &str, group: bool) {
        let target = if group { format!("-{}", self.child.id()) } else { self.child.id().to_string() };
        let _ = Command::new("kill").arg(format!("-{signal}")).arg("--").arg(target).status();
    }

    /// Waits up to `grace` for the process to exit by itself.
    fn wait_within(&mut self, grace: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + grace;
        loop {
            match self.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => return None,
            }
        }
    }

    /// SIGKILL now (the whole group if the process leads one) and reap it.
    ///
    /// # Errors
    /// The OS error from `waitpid`.
    pub fn kill(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        if matches!(self.stop, Stop::CloseStdin(_)) {
            self.signal("KILL", true);
        }
        let _ = self.child.kill();
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }

    /// Stops the process as its [`Stop`] says and waits for it. Returns its exit status and
    /// whether it stopped within the grace time (a [`Stop::Kill`] always does).
    ///
    /// # Errors
    /// The OS error from `waitpid`.
    pub fn stop(&mut self) -> std::io::Result<(ExitStatus, bool)> {
        if let Some(status) = self.try_wait()? {
            self.stdin = None;
            return Ok((status, true));
        }
        let graceful = match self.stop {
            Stop::Kill => None,
            Stop::Interrupt(grace) => {
                self.signal("INT", false);
                self.wait_within(grace)
            }
            Stop::CloseStdin(grace) => {
                self.stdin = None;
                self.wait_within(grace)
            }
        };
        match graceful {
            Some(status) => Ok((status, true)),
            None => Ok((self.kill()?, matches!(self.stop, Stop::Kill))),
        }
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, stop: Stop) -> Launched {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        Launched::spawn(command, stop).expect("sh is installed")
    }

    #[test]
    fn waits_for_a_line_on_either_stream_and_keeps_the_output() {
        let child = sh("echo one; echo two >&2; echo three; sleep 5", Stop::Kill);
        let second = Duration::from_secs(5);
        let line = child.wait_for_line(Stream::Stdout, second, |l| l.starts_with("th"));
        assert_eq!(line.ok().as_deref(), Some("three"));
        assert!(child.wait_for_line(Stream::Stderr, second, |l| l == "two").is_ok());
        assert_eq!(child.output(Stream::Stdout), "one\nthree\n");
    }

    #[test]
    fn an_exit_before_the_line_ends_the_wait() {
        let child = sh("echo only", Stop::Kill);
        let waited = child.wait_for_line(Stream::Stdout, Duration::from_secs(30), |l| l == "never");
        assert!(matches!(waited, Err(WaitError::Closed { stream: Stream::Stdout })));
    }

    #[test]
    fn stops_by_interrupt_and_by_closing_stdin() {
        let mut interrupted = sh(
            "trap 'exit 3' INT; echo ready; while :; do sleep 0.05; done",
            Stop::Interrupt(Duration::from_secs(10)),
        );
        assert!(interrupted.wait_for_line(Stream::Stdout, Duration::from_secs(10), |l| l == "ready").is_ok());
        let (status, graceful) = interrupted.stop().expect("stopped");
        assert_eq!((status.code(), graceful), (Some(3), true));

        let mut closed = sh("read -r _; exit 4", Stop::CloseStdin(Duration::from_secs(10)));
        let (status, graceful) = closed.stop().expect("stopped");
        assert_eq!((status.code(), graceful), (Some(4), true));
    }

    #[tokio::test]
    async fn counts_lines_across_wakeups_when_waited_on_asynchronously() {
        let child = sh("for i in 1 2 3; do echo tick; sleep 0.05; done; sleep 5", Stop::Kill);
        let mut seen = 0;
        let line = child
            .line(Stream::Stdout, Duration::from_secs(10), |l| {
                seen += usize::from(l == "tick");
                seen == 3
            })
            .await;
        assert_eq!(line.ok().as_deref(), Some("tick"));
    }
}
