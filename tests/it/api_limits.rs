//! The request limits with small settings, in-process: the per-request deadline, the answer
//! ceiling and the batch cap; and the WebSocket endpoint's timers on a real socket: a client
//! that never sends `connection_init` is closed with 4408, and one that stops answering the
//! server's keep-alive pings with 4000.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use axum::body::Body;
use axum::http::Request;
use futures::{SinkExt, StreamExt};
use jobboard::api::{self, ApiConfig, ApiState, WsLimits};
use jobboard::store::Reader;
use jobboard::telemetry::Metrics;
use serde_json::Value;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

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

    // A server that takes one WebSocket connection refuses a second while the first is open.
    let config =
        ApiConfig { ws: WsLimits { max_connections: 1, ..WsLimits::default() }, ..ApiConfig::default() };
    let state =
        ApiState::new(Reader::new(db.pool.clone(), board)?, config, Metrics::default(), cancel.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(api::serve_on(listener, state, cancel.clone()));
    let request = || -> Result<_> {
        let mut request = format!("ws://{addr}/graphql").into_client_request()?;
        request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        Ok(request)
    };
    let _held = tokio_tungstenite::connect_async(request()?).await?;
    match tokio_tungstenite::connect_async(request()?).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            ensure!(response.status() == 503, "second connection: HTTP {}", response.status());
        }
        other => bail!("a second connection was not refused: {:?}", other.map(|(_, r)| r.status())),
    }
    cancel.cancel();
    Ok(())
}

/// POSTs `body` to a router over `state`: the HTTP status and the JSON answer.
async fn post(state: &ApiState, body: String) -> Result<(u16, Value)> {
    let request =
        Request::post("/graphql").header("content-type", "application/json").body(Body::from(body))?;
    let response = api::router(state.clone()).oneshot(request).await?;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await?;
    Ok((status, serde_json::from_slice(&bytes)?))
}

fn code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_answer_ceiling_and_batch_cap_hold() -> Result<()> {
    let db = test_database().await?;
    let board = generate_board(&db.pool, 1_000).await?;
    let cancel = CancellationToken::new();
    let state = |config: ApiConfig| -> Result<ApiState> {
        Ok(ApiState::new(Reader::new(db.pool.clone(), board)?, config, Metrics::default(), cancel.clone()))
    };
    let query = |q: &str| json!({ "query": q }).to_string();

    // A deadline of zero: the query must wait on the database, so it is cancelled.
    let strict = state(ApiConfig { request_timeout: Duration::ZERO, ..ApiConfig::default() })?;
    let (_, answer) = post(&strict, query("{ jobs { totalCount } }")).await?;
    ensure!(code(&answer) == Some("QUERY_TIMEOUT"), "{answer}");

    // An answer over the ceiling is replaced by an error; a small one passes.
    let small = state(ApiConfig { max_response_bytes: 300, ..ApiConfig::default() })?;
    let (_, answer) = post(&small, query("{ jobs(first: 50) { nodes { id title } } }")).await?;
    ensure!(code(&answer) == Some("RESPONSE_TOO_LARGE"), "{answer}");
    let (_, answer) = post(&small, query("{ jobs(first: 1) { nodes { id } } }")).await?;
    ensure!(answer["data"]["jobs"]["nodes"][0]["id"].is_string(), "{answer}");

    // Batches up to the cap run; a longer one is refused whole, with the limit.
    let two = state(ApiConfig { max_batch_size: 2, ..ApiConfig::default() })?;
    let batch = |n: usize| serde_json::to_string(&vec![json!({ "query": "{ _meta { synced } }" }); n]);
    let (status, answer) = post(&two, batch(2)?).await?;
    ensure!(status == 200 && answer.as_array().is_some_and(|a| a.len() == 2), "{answer}");
    let (status, answer) = post(&two, batch(3)?).await?;
    ensure!(status == 400 && code(&answer) == Some("BATCH_TOO_LARGE"), "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
    ensure!(message.contains("at most 2") && message.contains("has 3"), "{message}");

    // A job's revisions are a page: bounded like any list.
    let (_, answer) =
        post(&two, query("{ jobs(first: 1) { nodes { revisions(first: 1001) { title } } } }")).await?;
    ensure!(code(&answer) == Some("BAD_USER_INPUT"), "{answer}");
    let (_, answer) =
        post(&two, query("{ jobs(first: 1) { nodes { revisions(first: 1) { title } } } }")).await?;
    ensure!(
        answer["data"]["jobs"]["nodes"][0]["revisions"].as_array().is_some_and(|r| r.len() == 1),
        "{answer}"
    );
    cancel.cancel();
    Ok(())
}
