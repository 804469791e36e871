//! The WebSocket endpoint's timers, on a real socket with short limits: a client that never
//! sends `connection_init` is closed with 4408, and one that stops answering the server's
//! keep-alive pings with 4000.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use futures::{SinkExt, StreamExt};
use jobboard::api::{self, ApiConfig, ApiState, WsLimits};
use jobboard::store::Reader;
use jobboard::telemetry::Metrics;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;

use crate::db::test_database;
use crate::generated::generate_board;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The close code the server ends `socket` with, skipping other frames.
async fn close_code(socket: &mut Socket) -> Result<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .context("no close in 10 s")?
        {
            Some(Ok(Message::Close(Some(frame)))) => return Ok(u16::from(frame.code)),
            Some(Ok(_)) => {}
            other => bail!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_websocket_clients_are_closed_with_their_codes() -> Result<()> {
    let db = test_database().await?;
    let board = generate_board(&db.pool, 1_000).await?;
    let limits = WsLimits {
        init_timeout: Duration::from_millis(300),
        keepalive: Duration::from_millis(200),
        ..WsLimits::default()
    };
    let config = ApiConfig { ws: limits, ..ApiConfig::default() };
    let cancel = CancellationToken::new();
    let state =
        ApiState::new(Reader::new(db.pool.clone(), board)?, config, Metrics::default(), cancel.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(api::serve_on(listener, state, cancel.clone()));
    let connect = || async move {
        let mut request = format!("ws://{addr}/graphql").into_client_request()?;
        request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        Ok::<Socket, anyhow::Error>(tokio_tungstenite::connect_async(request).await?.0)
    };

    // No connection_init.
    let mut socket = connect().await?;
    let started = Instant::now();
    let code = close_code(&mut socket).await?;
    println!("no connection_init: closed with {code} after {:.0?}", started.elapsed());
    ensure!(code == 4408, "close code {code}");

    // Initialised, then deaf: tungstenite answers pings only while the client reads, so a
    // client that stops reading stops answering.
    let mut socket = connect().await?;
    socket.send(Message::text(json!({"type": "connection_init"}).to_string())).await?;
    let ack = socket.next().await.context("no ack")??;
    ensure!(ack.to_text()?.contains("connection_ack"), "{ack:?}");
    // Silence is the behaviour under test: four keep-alive intervals of it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let started = Instant::now();
    let code = close_code(&mut socket).await?;
    println!("no pongs: closed with {code} ({:.0?} after reading again)", started.elapsed());
    ensure!(code == 4000, "close code {code}");

    // A client that answers keeps its connection past several keep-alive intervals.
    let mut socket = connect().await?;
    socket.send(Message::text(json!({"type": "connection_init"}).to_string())).await?;
    let deadline = Instant::now() + Duration::from_millis(1000);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(50), socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => bail!("a live client was closed: {frame:?}"),
            Ok(Some(Err(error))) => bail!("{error}"),
            _ => {}
        }
    }
    cancel.cancel();
    Ok(())
}
