//! One cancellation token for the whole process, fired by SIGINT or SIGTERM.

use tokio_util::sync::CancellationToken;
use tracing::info;

/// A token that is cancelled on the first SIGINT (Ctrl-C) or SIGTERM. Long-running work checks
/// it between units of work (the indexer between batches), so a stop never tears a write.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let fired = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("stop requested; finishing the current step");
        fired.cancel();
    });
    token
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
