//! The graphql-transport-ws endpoint, bounded: async-graphql speaks the protocol, and this
//! loop around it enforces what a public endpoint needs.
//!
//! - a message is at most `--max-body-bytes`, like a POST body (close 1009 past it);
//! - the client must send `connection_init` within `--ws-init-timeout` (close 4408, the
//!   protocol's own code for it);
//! - the server pings every `--ws-keepalive`; a client that answers nothing for two intervals
//!   is gone (close 4000);
//! - an answer the client does not read within `--ws-send-timeout` marks a slow consumer: it is
//!   dropped (close 4001) rather than buffered; while the loop waits on the socket it reads no
//!   further events, and a subscription that falls behind the live hub's bounded channel ends
//!   with `SUBSCRIPTION_LAGGED`;
//! - connections and subscriptions per connection are capped (see `http.rs` and `codes.rs`).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_graphql::Data;
use async_graphql::futures_util::{SinkExt, StreamExt, future};
use async_graphql::http::{WebSocket as Protocol, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::http::HeaderMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::tungstenite;

use super::codes::SubscriptionSlots;
use super::snapshot::SnapshotExecutor;
use crate::telemetry::Metrics;

/// Close code: a message over the size limit (RFC 6455's "message too big").
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close code: no `connection_init` in time (graphql-transport-ws's own code).
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// Close code: the client answered no keep-alive ping for two intervals.
pub const CLOSE_KEEPALIVE_TIMEOUT: u16 = 4000;
/// Close code: the client does not read what it subscribed to.
pub const CLOSE_SLOW_CONSUMER: u16 = 4001;
/// Close code: a frame the protocol does not allow.
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;

/// The WebSocket bounds; each is a `serve`/`run` flag.
#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    /// Open WebSocket connections the server accepts at once.
    pub max_connections: usize,
    /// Subscriptions one connection may hold at once.
    pub max_subscriptions: usize,
    /// Largest message accepted from a client.
    pub max_message_bytes: usize,
    /// How long a client has to send `connection_init`.
    pub init_timeout: Duration,
    /// How often the server pings.
    pub keepalive: Duration,
    /// How long one message may take to reach the client before it counts as a slow consumer.
    pub send_timeout: Duration,
}

impl Default for WsLimits {
    fn default() -> Self {
        use super::defaults;
        Self {
            max_connections: defaults::WS_MAX_CONNECTIONS as usize,
            max_subscriptions: defaults::WS_MAX_SUBSCRIPTIONS as usize,
            max_message_bytes: defaults::MAX_BODY_BYTES,
            init_timeout: defaults::WS_INIT_TIMEOUT,
            keepalive: defaults::WS_KEEPALIVE,
            send_timeout: defaults::WS_SEND_TIMEOUT,
        }
    }
}

/// The GraphQL protocol a client asked for in `Sec-WebSocket-Protocol`, if it is one we speak.
pub fn protocol_of(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
}

/// Why the loop closes a connection.
struct Closing(u16, String);

/// Serves one upgraded connection until either side closes it; `_connection` is its slot
/// among `--ws-max-connections`, released when this returns.
pub async fn serve_socket(
    socket: WebSocket,
    executor: SnapshotExecutor,
    protocol: WebSocketProtocols,
    limits: WsLimits,
    metrics: Metrics,
    _connection: OwnedSemaphorePermit,
) {
    let (mut sink, mut source) = socket.split();
    let last_heard = Arc::new(std::sync::Mutex::new(Instant::now()));
    let failure: Arc<std::sync::Mutex<Option<Closing>>> = Arc::default();
    let initialised = Arc::new(AtomicBool::new(false));

    // The client's messages, as the protocol reads them; any frame counts as a sign of life,
    // and a read error ends the stream after noting how to close.
    let input = {
        let last_heard = Arc::clone(&last_heard);
        let failure = Arc::clone(&failure);
        let max = limits.max_message_bytes;
        (&mut source)
            .map(move |message| {
                if let Ok(mut heard) = last_heard.lock() {
                    *heard = Instant::now();
                }
                message
            })
            .take_while(move |message| {
                if let Err(error) = message
                    && let Ok(mut failure) = failure.lock()
                {
                    *failure = Some(closing_for(error, max));
                }
                future::ready(message.is_ok())
            })
            .filter_map(|message| {
                future::ready(match message {
                    Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                    _ => None,
                })
            })
    };
    let mut slots = Data::default();
    slots.insert(SubscriptionSlots {
        free: Arc::new(Semaphore::new(limits.max_subscriptions)),
        limit: limits.max_subscriptions,
    });
    let on_init = {
        let initialised = Arc::clone(&initialised);
        move |_payload: serde_json::Value| {
            initialised.store(true, Ordering::Relaxed);
            future::ready(Ok::<Data, async_graphql::Error>(Data::default()))
        }
    };
    let protocol =
        Protocol::new(executor, input, protocol).connection_data(slots).on_connection_init(on_init);
    let mut protocol = Box::pin(protocol);

    let init_deadline = tokio::time::sleep(limits.init_timeout);
    tokio::pin!(init_deadline);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + limits.keepalive, limits.keepalive);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    let closing = loop {
        let outgoing = tokio::select! {
            message = protocol.next() => match message {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                Some(WsMessage::Close(code, reason)) => break Some(Closing(code, reason)),
                None => break failure.lock().ok().and_then(|mut f| f.take()),
            },
            () = &mut init_deadline, if !initialised.load(Ordering::Relaxed) => {
                break Some(Closing(CLOSE_INIT_TIMEOUT, "connection_init not received in time".into()));
            }
            _ = ping.tick() => {
                let silent = last_heard.lock().map(|heard| heard.elapsed()).unwrap_or_default();
                if silent > limits.keepalive * 2 {
                    break Some(Closing(CLOSE_KEEPALIVE_TIMEOUT, "no answer to keep-alive pings".into()));
                }
                Message::Ping(axum::body::Bytes::new())
            }
        };
        match tokio::time::timeout(limits.send_timeout, sink.send(outgoing)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break None,
            Err(_) => {
                let reason =
                    format!("not reading: a message waited over {:?} to be sent", limits.send_timeout);
                break Some(Closing(CLOSE_SLOW_CONSUMER, reason));
            }
        }
    };
    if let Some(Closing(code, reason)) = closing {
        tracing::debug!(code, reason, "closing a WebSocket connection");
        metrics.ws_closed(code);
        let frame = Message::Close(Some(CloseFrame { code, reason: reason.into() }));
        // A client that reads nothing may not take this either: bounded, then dropped.
        let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(frame)).await;
        // The closing handshake: the socket is read (and what arrives dropped) until the
        // client's own Close or the bound. Dropped at once, whatever the client still sends (a
        // pong it owed) meets a reset, which can discard our Close before the client reads it.
        drop(protocol);
        let _ =
            tokio::time::timeout(CLOSE_GRACE, async { while let Some(Ok(_)) = source.next().await {} }).await;
    }
}

/// How long a closing connection waits for the client to take the Close frame, and then for
/// the client's Close in answer.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How to close after a read error: 1009 for a message over the limit, else a protocol error.
fn closing_for(error: &axum::Error, max: usize) -> Closing {
    let too_big = std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<tungstenite::Error>())
        .is_some_and(|error| matches!(error, tungstenite::Error::Capacity(_)));
    if too_big {
        Closing(CLOSE_TOO_BIG, format!("messages are at most {max} bytes"))
    } else {
        Closing(CLOSE_PROTOCOL_ERROR, "unreadable frame".into())
    }
}
