//! Critical tasks supervised together: the indexer, the API server, the live hub and the
//! metrics server of one process. Beside the pipeline, under `main`: when any of them exits,
//! the process's cancellation token fires so the others stop too, the cause is logged, and the
//! first failure is what the process exits with (reth's `spawn_critical_task`).
//!
//! ```text
//! Tasks::new(token) --spawn_critical--> task A, task B, ...
//!   any task returns an error, panics, or returns before shutdown -> log it, cancel the token
//!   Tasks::wait: the token fired and every task ended -> the first failure, if any
//! ```

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error};

/// Why a critical task took the process down.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The task returned an error.
    #[error("{task} stopped")]
    Failed {
        /// What the task did ("indexing", "serving the API").
        task: &'static str,
        /// Its error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The task panicked: a bug.
    #[error("{task} panicked (a bug, please report it): {message}")]
    Panicked {
        /// What the task did.
        task: &'static str,
        /// The panic's message, when it had one.
        message: String,
    },
    /// The task returned although nobody asked it to stop: the process cannot go on without it.
    #[error("{task} stopped before shutdown was requested")]
    Stopped {
        /// What the task did.
        task: &'static str,
    },
}

/// The process's critical tasks and the one token that stops them; cheap to clone.
#[derive(Debug, Clone)]
pub struct Tasks {
    cancel: CancellationToken,
    tracker: TaskTracker,
    /// The first failure; later ones are only logged (they are usually the first one's echo).
    failure: Arc<Mutex<Option<TaskError>>>,
}

impl Tasks {
    /// Supervises tasks that all stop when `cancel` fires, and fire it when one of them ends.
    pub fn new(cancel: CancellationToken) -> Tasks {
        Tasks { cancel, tracker: TaskTracker::new(), failure: Arc::default() }
    }

    /// The token every task stops on.
    pub fn token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Runs `future` as a task the process cannot do without: when it returns (an error, or
    /// `Ok` before the token fired) or panics, the cause is logged and every task is stopped.
    pub fn spawn_critical<F, E>(&self, task: &'static str, future: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        // Spawned apart so that a panic ends as a `JoinError` here instead of unwinding the
        // supervisor.
        let running = tokio::spawn(future);
        let this = self.clone();
        self.tracker.spawn(async move {
            let failure = match running.await {
                Ok(Ok(())) if this.cancel.is_cancelled() => None,
                Ok(Ok(())) => Some(TaskError::Stopped { task }),
                Ok(Err(error)) => Some(TaskError::Failed { task, source: Box::new(error) }),
                Err(join) => Some(TaskError::Panicked { task, message: panic_message(join) }),
            };
            match failure {
                None => debug!(task, "task stopped"),
                Some(failure) => this.record(failure),
            }
            this.cancel.cancel();
        });
    }

    /// Runs `future` on the caller's own task as a critical task (for a future that is not
    /// `Send`, such as the writer's: sqlx's migrator borrows its connection in a way the compiler
    /// cannot prove `Send`), then waits like [`Tasks::wait`]. It must stop when the token fires;
    /// a panic in it unwinds the caller.
    ///
    /// # Errors
    /// The first task failure, this one's included.
    pub async fn wait_with<E>(
        self,
        task: &'static str,
        future: impl Future<Output = Result<(), E>>,
    ) -> Result<(), TaskError>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        // Awaited to its end, never dropped: it must stop on the token like every other task
        // (the writer between two batches, never inside a write).
        match future.await {
            Ok(()) if self.cancel.is_cancelled() => debug!(task, "task stopped"),
            Ok(()) => self.record(TaskError::Stopped { task }),
            Err(error) => self.record(TaskError::Failed { task, source: Box::new(error) }),
        }
        self.cancel.cancel();
        self.wait().await
    }

    /// Like [`Tasks::spawn_critical`] for a task that cannot fail, only stop or panic.
    pub fn spawn_critical_infallible(
        &self,
        task: &'static str,
        future: impl Future<Output = ()> + Send + 'static,
    ) {
        self.spawn_critical(task, async move {
            future.await;
            Ok::<(), Infallible>(())
        });
    }

    fn record(&self, failure: TaskError) {
        error!(error = %Chain(&failure), "a critical task ended; stopping the others");
        let mut first = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(failure);
    }

    /// Waits until the token fired (a signal, or a task ending) and every task has stopped.
    ///
    /// # Errors
    /// The first task failure, if any: the process should exit non-zero with it.
    pub async fn wait(self) -> Result<(), TaskError> {
        self.cancel.cancelled().await;
        self.tracker.close();
        self.tracker.wait().await;
        match self.failure.lock().unwrap_or_else(PoisonError::into_inner).take() {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }
}

/// An error and its sources on one line, for the log.
struct Chain<'e>(&'e (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

/// The text a task panicked with, when it was a string (it almost always is).
fn panic_message(join: tokio::task::JoinError) -> String {
    if !join.is_panic() {
        return join.to_string();
    }
    let payload = join.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A task that runs until the token fires, like the API server.
    fn until_cancelled(tasks: &Tasks) -> impl Future<Output = Result<(), std::io::Error>> + use<> {
        let cancel = tasks.token().clone();
        async move {
            cancel.cancelled().await;
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_failing_task_stops_the_others_and_names_the_cause() {
        let tasks = Tasks::new(CancellationToken::new());
        tasks.spawn_critical("serving the API", until_cancelled(&tasks));
        tasks.spawn_critical("indexing", async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Err(std::io::Error::other("the node went away"))
        });
        let waited = tokio::time::timeout(Duration::from_secs(5), tasks.wait()).await;
        let error = waited.expect("the API task stops when the indexer fails").expect_err("a failure");
        assert_eq!(error.to_string(), "indexing stopped");
        assert_eq!(Chain(&error).to_string(), "indexing stopped: the node went away");
    }

    #[tokio::test]
    async fn a_panic_or_an_early_return_is_a_failure() {
        let tasks = Tasks::new(CancellationToken::new());
        tasks.spawn_critical_infallible("the live hub", async { panic!("hub invariant broken") });
        let error = tasks.wait().await.expect_err("a panic is a failure");
        assert!(matches!(error, TaskError::Panicked { task: "the live hub", .. }), "{error}");
        assert!(error.to_string().contains("hub invariant broken"), "{error}");

        let tasks = Tasks::new(CancellationToken::new());
        tasks.spawn_critical_infallible("serving metrics", async {});
        let error = tasks.wait().await.expect_err("returning before shutdown is a failure");
        assert!(matches!(error, TaskError::Stopped { task: "serving metrics" }), "{error}");
    }

    #[tokio::test]
    async fn a_task_on_the_callers_own_task_is_supervised_too() {
        let tasks = Tasks::new(CancellationToken::new());
        tasks.spawn_critical("serving the API", until_cancelled(&tasks));
        let foreground = async { Err(std::io::Error::other("reorg deeper than the window")) };
        let waited =
            tokio::time::timeout(Duration::from_secs(5), tasks.wait_with("indexing", foreground)).await;
        let error = waited.expect("the API task stops with the writer").expect_err("a failure");
        assert_eq!(Chain(&error).to_string(), "indexing stopped: reorg deeper than the window");

        // The other way round: a spawned task fails, and the writer stops on the token.
        let tasks = Tasks::new(CancellationToken::new());
        tasks.spawn_critical_infallible("the live hub", async { panic!("hub invariant broken") });
        let writer = until_cancelled(&tasks);
        let waited = tokio::time::timeout(Duration::from_secs(5), tasks.wait_with("indexing", writer)).await;
        let error = waited.expect("the writer stops when the hub dies").expect_err("a failure");
        assert!(matches!(error, TaskError::Panicked { task: "the live hub", .. }), "{error}");
    }

    #[tokio::test]
    async fn a_requested_shutdown_stops_every_task_cleanly() {
        let cancel = CancellationToken::new();
        let tasks = Tasks::new(cancel.clone());
        tasks.spawn_critical("serving the API", until_cancelled(&tasks));
        tasks.spawn_critical("indexing", until_cancelled(&tasks));
        cancel.cancel();
        tasks.wait().await.expect("no task failed");
    }
}
