//! A graphql-transport-ws client on a real socket, for the subscription tests.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A graphql-transport-ws client on a real socket.
pub struct WsClient {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl WsClient {
    /// Connects to `ws://{addr}/graphql` and completes `connection_init`.
    pub async fn connect(addr: std::net::SocketAddr) -> Result<WsClient> {
        let mut request = format!("ws://{addr}/graphql").into_client_request()?;
        request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
        socket.send(Message::text(json!({"type": "connection_init"}).to_string())).await?;
        let mut client = WsClient { socket };
        let ack = client.next_message().await?;
        ensure!(ack["type"] == "connection_ack", "no ack: {ack}");
        Ok(client)
    }

    /// Starts subscription `id` with `query`.
    pub async fn subscribe(&mut self, id: &str, query: &str) -> Result<()> {
        let message = json!({"id": id, "type": "subscribe", "payload": {"query": query}});
        self.socket.send(Message::text(message.to_string())).await?;
        Ok(())
    }

    /// The next text message, skipping WebSocket pings and pongs.
    async fn next_message(&mut self) -> Result<Value> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(20), self.socket.next())
                .await
                .context("no message within 20 s")?
                .context("socket closed")??;
            match message {
                Message::Text(text) => return Ok(serde_json::from_str(&text)?),
                Message::Ping(_) | Message::Pong(_) => {}
                other => bail!("unexpected message {other:?}"),
            }
        }
    }

    /// Runs `query` as operation `id` (a query over the socket, as GraphiQL and some clients
    /// send them) and returns its one answer's payload: `data`, and `errors` if any.
    pub async fn query(&mut self, id: &str, query: &str) -> Result<Value> {
        self.subscribe(id, query).await?;
        loop {
            let message = self.next_message().await?;
            match message["type"].as_str() {
                Some("next") if message["id"] == id => return Ok(message["payload"].clone()),
                Some("ping") => self.socket.send(Message::text(json!({"type": "pong"}).to_string())).await?,
                Some("error") => bail!("operation error: {message}"),
                _ => {}
            }
        }
    }

    /// The payload of the next `next` message of subscription `id`.
    pub async fn next_event(&mut self, id: &str) -> Result<Value> {
        loop {
            let message = self.next_message().await?;
            match message["type"].as_str() {
                Some("next") if message["id"] == id => return Ok(message["payload"]["data"].clone()),
                Some("ping") => self.socket.send(Message::text(json!({"type": "pong"}).to_string())).await?,
                Some("error") => bail!("subscription error: {message}"),
                _ => {}
            }
        }
    }
}
