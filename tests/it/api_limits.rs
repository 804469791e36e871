//! The request limits with small settings, in-process: the per-request deadline, the answer
//! ceiling and the batch cap; and the WebSocket endpoint's timers on a real socket: a client
//! that never sends `connection_init` is closed with 4408, one that stops answering the
//! server's keep-alive pings with 4000, one that stops reading with 4001, and a subscription
//! whose queue overflowed ends with `SUBSCRIPTION_LAGGED`.

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

use crate::support::db::test_database;
use crate::support::generated::generate_board;

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

    // A request that would wait 5 s for a block the index never reaches (X-Min-Block) is cut
    // by a 100 ms deadline: QUERY_TIMEOUT, not the wait's own NOT_YET_INDEXED.
    let strict = state(ApiConfig { request_timeout: Duration::from_millis(100), ..ApiConfig::default() })?;
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-min-block", "1000000000")
        .body(Body::from(query("{ jobs { totalCount } }")))?;
    let response = api::router(strict.clone()).oneshot(request).await?;
    let answer: Value = serde_json::from_slice(&axum::body::to_bytes(response.into_body(), 1 << 24).await?)?;
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

/// A subscription's socket, initialised and subscribed to `query` as operation "1", with a
/// receive buffer of a few KiB: once it stops reading, the server's sends block after a few
/// hundred KiB instead of the megabytes loopback buffers take by default.
async fn subscribed(addr: std::net::SocketAddr, query: &str) -> Result<Socket> {
    let tcp = tokio::net::TcpSocket::new_v4()?;
    tcp.set_recv_buffer_size(4096)?;
    let stream = tcp.connect(addr).await?;
    let mut request = format!("ws://{addr}/graphql").into_client_request()?;
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let mut socket = tokio_tungstenite::client_async(request, stream).await?.0;
    socket.send(Message::text(json!({"type": "connection_init"}).to_string())).await?;
    let ack = socket.next().await.context("no ack")??;
    ensure!(ack.to_text()?.contains("connection_ack"), "{ack:?}");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    socket.send(Message::text(subscribe.to_string())).await?;
    Ok(socket)
}

/// What a client that stopped reading finds once it reads again.
#[derive(Debug, PartialEq)]
enum Found {
    /// An error with this code, after this many events.
    Error(String, usize),
    /// A close frame with this code, after this many events.
    Closed(u16, usize),
    /// The connection ended without a close frame (the server could not send it into a full
    /// socket), after this many events.
    Ended(usize),
    /// Every event up to the top block arrived: nothing was done about the silence.
    Everything(usize),
}

async fn read_until_told(socket: &mut Socket, top: i64) -> Result<Found> {
    let mut events = 0;
    loop {
        let message = match tokio::time::timeout(Duration::from_secs(20), socket.next()).await {
            Err(_) => bail!("nothing within 20 s after {events} events"),
            Ok(None | Some(Err(_))) => return Ok(Found::Ended(events)),
            Ok(Some(Ok(message))) => message,
        };
        match message {
            Message::Close(frame) => {
                return Ok(Found::Closed(frame.map_or(1005, |f| u16::from(f.code)), events));
            }
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text)?;
                if let Some(code) = value["payload"]["errors"][0]["extensions"]["code"].as_str() {
                    return Ok(Found::Error(code.to_owned(), events));
                }
                if value["type"] == "next" {
                    events += 1;
                    let block = value["payload"]["data"]["activity"]["blockNumber"].as_str().unwrap_or("");
                    if block == top.to_string() {
                        return Ok(Found::Everything(events));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Waits until `done(metrics)` holds (the hub pushed, the server closed…), for up to a minute.
async fn until(metrics: &Metrics, what: &str, done: impl Fn(&Metrics) -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(metrics) {
        ensure!(
            Instant::now() < deadline,
            "{what} did not happen within 60 s ({:?} pushed)",
            metrics.live_pushed_total()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Subscribers that stop reading while 100k events are pushed. The server's sends to them
/// block once their socket is full; with a long send timeout the subscription's queue
/// overflows and, reading again, the client learns it with `SUBSCRIPTION_LAGGED` (not a
/// user-input error); with a short one the server drops it as a slow consumer (close 4001)
/// instead of buffering for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_and_slow_subscribers_are_told_and_dropped() -> Result<()> {
    let db = test_database().await?;
    let board = generate_board(&db.pool, 100_000).await?;
    let top: i64 = sqlx::query_scalar("SELECT max(block_number) FROM events").fetch_one(&db.pool).await?;
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE block_number > 1").fetch_one(&db.pool).await?;
    let total = u64::try_from(total)?;
    // The index starts at block 1 (as after a revert); each server's hub learns that before
    // the index moves forward: a read with `X-Min-Block: 1` answers once the hub has seen it.
    sqlx::query("UPDATE indexer_state SET block_number = 1").execute(&db.pool).await?;
    let cancel = CancellationToken::new();
    let mut servers = Vec::new();
    for send_timeout in [Duration::from_secs(120), Duration::from_millis(300)] {
        let config =
            ApiConfig { ws: WsLimits { send_timeout, ..WsLimits::default() }, ..ApiConfig::default() };
        let metrics = Metrics::default();
        let state =
            ApiState::new(Reader::new(db.pool.clone(), board)?, config, metrics.clone(), cancel.clone());
        // A small, fixed send buffer (accepted sockets inherit it; fixing it turns off the
        // kernel's growing of it), so a silent client blocks the server's sends after a few
        // hundred events, long before its queue of 4096 could overflow.
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_send_buffer_size(8192)?;
        socket.bind("127.0.0.1:0".parse()?)?;
        let listener = socket.listen(64)?;
        let addr = listener.local_addr()?;
        tokio::spawn(api::serve_on(listener, state, cancel.clone()));
        let query = "subscription { activity { kind jobId applicationId status employer applicant blockNumber \
                     blockHash logIndex txHash timestamp } }";
        servers.push((subscribed(addr, query).await?, metrics));
        let seen: Value = reqwest::Client::new()
            .post(format!("http://{addr}/graphql"))
            .header("x-min-block", "1")
            .json(&json!({ "query": "{ _meta { block { number } } }" }))
            .send()
            .await?
            .json()
            .await?;
        ensure!(seen["data"]["_meta"]["block"]["number"] == "1", "{seen}");
    }
    let mut servers = servers.into_iter();
    let (mut lagging, lagging_metrics) = servers.next().context("server")?;
    let (mut slow, slow_metrics) = servers.next().context("server")?;
    // A first step forward pushes a few hundred events: more than the sockets hold, fewer than
    // a subscription's queue (4096), so neither subscription can lag yet; both servers' sends
    // block. The short-timeout server gives up on its client (close 4001).
    let (step, step_events): (i64, i64) = sqlx::query_as(
        "SELECT block_number, n FROM (SELECT block_number, count(*) OVER (ORDER BY block_number) AS n \
         FROM events WHERE block_number > 1) e WHERE n <= 2000 ORDER BY block_number DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await?;
    ensure!(step_events >= 300, "the first step holds only {step_events} events");
    sqlx::query("UPDATE indexer_state SET block_number = $1").bind(step).execute(&db.pool).await?;
    until(&slow_metrics, "a close 4001", |m| m.ws_closes_total(4001) == 1).await?;
    // Then to the top: the long-timeout server keeps its blocked client, so its hub pushes all
    // 100k events into a queue nobody drains.
    sqlx::query("UPDATE indexer_state SET block_number = $1").bind(top).execute(&db.pool).await?;
    until(&lagging_metrics, "the whole push", |m| m.live_pushed_total().0 >= total).await?;
    let found = read_until_told(&mut lagging, top).await?;
    println!("silent while {total} events were pushed, reading again: {found:?}");
    ensure!(matches!(&found, Found::Error(code, _) if code == "SUBSCRIPTION_LAGGED"), "{found:?}");
    let found = read_until_told(&mut slow, top).await?;
    println!(
        "silent over a 300 ms send timeout while {step_events} events were pushed, reading again: {found:?}"
    );
    // The close frame reaches the client when the server could still queue it; when the
    // socket stayed full, the connection simply ends. Either way it ends before the top block.
    ensure!(matches!(found, Found::Closed(4001, _) | Found::Ended(_)), "{found:?}");
    ensure!(lagging_metrics.ws_closes_total(4001) == 0, "the patient server dropped its client");
    cancel.cancel();
    Ok(())
}
