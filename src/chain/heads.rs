//! New-head notifications over a WebSocket (`eth_subscribe` to `newHeads`): the indexer's
//! optional wake-up.
//!
//! A notification is only a hint to poll now. Heads, headers and logs are still read over HTTP
//! with every check of the poll path, so a lost, late, duplicated or bogus notification costs
//! at most one poll interval or one idle step, never data. The subscription reconnects with
//! backoff and the indexer keeps polling meanwhile, so a WebSocket endpoint that is down or
//! refuses subscriptions only loses the speed-up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use url::Url;

use super::redact;
use crate::telemetry::Metrics;

/// Longest wait for the WebSocket handshake or the subscription's confirmation.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Silence after which we ping the node to tell a quiet chain from a dead connection.
const PING_AFTER: Duration = Duration::from_secs(30);
/// First and longest pause between reconnection attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(30));
/// A connection that lived this long was healthy: the next failure starts the backoff over.
const HEALTHY_FOR: Duration = Duration::from_secs(60);

const SUBSCRIBE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}"#;

/// Why one subscription ended.
#[derive(Debug, thiserror::Error)]
pub enum HeadsError {
    /// Connecting, reading or writing failed.
    #[error("websocket: {0}")]
    Socket(#[from] tungstenite::Error),
    /// The node answered the subscription with an error (e.g. it has no pub/sub).
    #[error("the node refused eth_subscribe(newHeads): {0}")]
    Refused(String),
    /// Nothing arrived in time: no handshake, no confirmation, or no answer to a ping.
    #[error("no answer within {0:?}")]
    Silent(Duration),
    /// The node closed the connection.
    #[error("the node closed the connection")]
    Closed,
}

/// Subscribes to new heads at `url` until `cancel` fires and returns the wake-up that each new
/// head (and each successful (re)subscription, which may follow missed heads) signals.
pub fn watch_new_heads(url: Url, metrics: Metrics, cancel: CancellationToken) -> Arc<Notify> {
    let wake = Arc::new(Notify::new());
    let signal = wake.clone();
    tokio::spawn(async move {
        let shown = redact(&url);
        let mut backoff = BACKOFF.0;
        loop {
            let started = Instant::now();
            let outcome = tokio::select! {
                () = cancel.cancelled() => return,
                outcome = subscribe(&url, &shown, &signal, &metrics) => outcome,
            };
            if started.elapsed() >= HEALTHY_FOR {
                backoff = BACKOFF.0;
            }
            match outcome {
                Ok(()) | Err(HeadsError::Closed) => {
                    info!(url = %shown, "new-heads subscription closed; reconnecting (polling meanwhile)");
                }
                Err(error) => {
                    warn!(url = %shown, %error, retry_in = ?backoff, "new-heads subscription failed; polling meanwhile");
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(BACKOFF.1);
        }
    });
    wake
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One connection: subscribe, then wake on every notification until the connection ends.
async fn subscribe(url: &Url, shown: &str, wake: &Notify, metrics: &Metrics) -> Result<(), HeadsError> {
    let connect =
        tokio_tungstenite::connect_async_tls_with_config(url.as_str(), None, false, Some(connector()));
    let (mut socket, _) = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| HeadsError::Silent(CONNECT_TIMEOUT))??;
    socket.send(Message::text(SUBSCRIBE)).await?;
    match tokio::time::timeout(CONNECT_TIMEOUT, confirmation(&mut socket)).await {
        Ok(Ok(())) => metrics.rpc_call("eth_subscribe", "ok"),
        Ok(Err(error)) => {
            metrics.rpc_call("eth_subscribe", "error_response");
            return Err(error);
        }
        Err(_) => {
            metrics.rpc_call("eth_subscribe", "transient_error");
            return Err(HeadsError::Silent(CONNECT_TIMEOUT));
        }
    }
    info!(url = %shown, "subscribed to new heads");
    // Heads may have arrived while we were away.
    wake.notify_one();

    let mut pinged = false;
    loop {
        let message = match tokio::time::timeout(PING_AFTER, socket.next()).await {
            Ok(Some(message)) => message?,
            Ok(None) => return Err(HeadsError::Closed),
            Err(_) if pinged => return Err(HeadsError::Silent(PING_AFTER * 2)),
            Err(_) => {
                socket.send(Message::Ping(Vec::new().into())).await?;
                pinged = true;
                continue;
            }
        };
        pinged = false;
        match message {
            Message::Text(text) => {
                if let Some(head) = notification(text.as_str()) {
                    metrics.rpc_call("eth_subscription", "ok");
                    debug!(?head, "new head announced");
                    wake.notify_one();
                }
            }
            // Queued replies (pongs) go out with the next write; send them now.
            Message::Ping(_) => socket.flush().await?,
            Message::Close(_) => return Err(HeadsError::Closed),
            Message::Binary(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

/// Waits for the answer to [`SUBSCRIBE`], skipping anything else the node sends first.
async fn confirmation(socket: &mut Socket) -> Result<(), HeadsError> {
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else { continue };
        let Ok(answer) = serde_json::from_str::<Value>(text.as_str()) else { continue };
        if answer.get("id") != Some(&Value::from(1)) {
            continue;
        }
        if let Some(error) = answer.get("error") {
            let message = error.get("message").and_then(Value::as_str).unwrap_or("no message");
            return Err(HeadsError::Refused(message.to_owned()));
        }
        return match answer.get("result") {
            Some(Value::String(_)) => Ok(()),
            _ => Err(HeadsError::Refused(format!("unexpected answer {text}"))),
        };
    }
    Err(HeadsError::Closed)
}

/// The announced block number if `text` is a subscription notification (`Some(None)` when
/// the header carries no readable number: still a reason to poll).
fn notification(text: &str) -> Option<Option<u64>> {
    let message: Value = serde_json::from_str(text).ok()?;
    if message.get("method")?.as_str()? != "eth_subscription" {
        return None;
    }
    let number = message
        .pointer("/params/result/number")
        .and_then(Value::as_str)
        .and_then(|hex| u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok());
    Some(number)
}

/// TLS for `wss://` with the same provider (ring) and roots (webpki) as the rest of the binary,
/// chosen explicitly so that no process-wide default provider is needed.
fn connector() -> Connector {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    match rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
        Ok(builder) => {
            Connector::Rustls(Arc::new(builder.with_root_certificates(roots).with_no_client_auth()))
        }
        // Only if ring lacked every safe protocol version; plain ws:// still works then.
        Err(_) => Connector::Plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_notifications_and_ignores_everything_else() {
        let head = r#"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x1","result":{"number":"0x1b4","hash":"0x00"}}}"#;
        assert_eq!(notification(head), Some(Some(436)));
        let odd =
            r#"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x1","result":{}}}"#;
        assert_eq!(notification(odd), Some(None), "a header without a number still wakes");
        assert_eq!(notification(r#"{"jsonrpc":"2.0","id":1,"result":"0x1"}"#), None);
        assert_eq!(notification("not json"), None);
    }
}
