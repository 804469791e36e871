//! The fault-injecting RPC proxy (`support::rpc_proxy`) against a real anvil: it forwards
//! untouched when no fault applies, and each fault looks as a hosted provider's would.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

use crate::support::harness::Anvil;
use crate::support::rpc_proxy::*;

/// Init code that emits `logs` anonymous, empty LOG0s (`PUSH1 0 PUSH1 0 LOG0`) and deploys
/// nothing: the cheapest way to put a chosen number of logs in a block.
fn log_emitter(logs: usize) -> String {
    format!("0x{}00", "60006000a0".repeat(logs))
}

fn request(id: u64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

fn get_logs(id: u64, from: &str, to: &str) -> Value {
    request(id, "eth_getLogs", json!([{ "fromBlock": from, "toBlock": to }]))
}

/// Posts `body` and returns the status and raw body.
async fn post_raw(
    client: &reqwest::Client,
    url: &Url,
    body: impl Into<reqwest::Body>,
) -> Result<(StatusCode, Bytes)> {
    let response = client
        .post(url.as_str())
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .context("sending")?;
    let status = response.status();
    Ok((status, response.bytes().await.context("reading the body")?))
}

/// Posts a JSON request and decodes the JSON answer, whatever its status.
async fn call(client: &reqwest::Client, url: &Url, body: &Value) -> Result<Value> {
    let (status, bytes) = post_raw(client, url, body.to_string()).await?;
    ensure!(status == StatusCode::OK, "status {status}");
    serde_json::from_slice(&bytes).context("decoding the answer")
}

/// One block per entry of `logs_per_block`, holding that many logs; returns the last block.
async fn emit_logs(client: &reqwest::Client, anvil: &Anvil, logs_per_block: &[usize]) -> Result<u64> {
    let from = anvil.address(0).to_string();
    for &logs in logs_per_block {
        let send = request(1, "eth_sendTransaction", json!([{ "from": from, "data": log_emitter(logs) }]));
        let hash = call(client, &anvil.endpoint, &send).await?["result"].clone();
        ensure!(hash.is_string(), "eth_sendTransaction: {hash}");
        // Anvil answers eth_sendTransaction before it mines: wait for the receipt.
        let deadline = Instant::now() + Duration::from_secs(5);
        let receipt = loop {
            let receipt =
                call(client, &anvil.endpoint, &request(2, "eth_getTransactionReceipt", json!([hash])))
                    .await?;
            if !receipt["result"].is_null() {
                break receipt;
            }
            ensure!(Instant::now() < deadline, "no receipt for {hash} within 5 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        ensure!(receipt["result"]["status"] == "0x1", "emitter failed: {receipt}");
        ensure!(
            receipt["result"]["logs"].as_array().map(Vec::len) == Some(logs),
            "wrong log count: {receipt}"
        );
    }
    let head = call(client, &anvil.endpoint, &request(3, "eth_blockNumber", json!([]))).await?;
    parse_quantity(head["result"].as_str().context("block number")?).context("block number quantity")
}

fn error_of(answer: &Value) -> Option<(i64, &str)> {
    Some((answer["error"]["code"].as_i64()?, answer["error"]["message"].as_str()?))
}

/// The `[0xA, 0xB]` hint of a log-limit message.
fn parse_hint(message: &str) -> Option<(u64, u64)> {
    let inside = message.split_once('[')?.1.split_once(']')?.0;
    let (start, end) = inside.split_once(", ")?;
    Some((parse_quantity(start)?, parse_quantity(end)?))
}

fn log_count(answer: &Value) -> Option<usize> {
    answer["result"].as_array().map(Vec::len)
}

#[tokio::test]
async fn forwards_byte_for_byte_when_no_fault_applies() -> Result<()> {
    let anvil = Anvil::spawn()?;
    let proxy = RpcProxy::start(anvil.endpoint.clone(), Faults::default()).await?;
    let client = reqwest::Client::new();

    let chain_id = request(1, "eth_chainId", json!([])).to_string();
    let direct = post_raw(&client, &anvil.endpoint, chain_id.clone()).await?;
    let proxied = post_raw(&client, &proxy.url, chain_id).await?;
    assert_eq!(proxied, direct);
    assert_eq!(serde_json::from_slice::<Value>(&proxied.1)?["result"], "0x7a69");

    // Malformed JSON is upstream's to answer; the proxy passes its answer on.
    let malformed = r#"{"jsonrpc":"2.0","id":1,"method":"#;
    let direct = post_raw(&client, &anvil.endpoint, malformed).await?;
    let proxied = post_raw(&client, &proxy.url, malformed).await?;
    assert_eq!(proxied, direct);

    // A batch without faults: the same bytes as anvil's own answer.
    let batch =
        json!([request(1, "eth_chainId", json!([])), request(2, "eth_blockNumber", json!([]))]).to_string();
    let direct = post_raw(&client, &anvil.endpoint, batch.clone()).await?;
    let proxied = post_raw(&client, &proxy.url, batch).await?;
    assert_eq!(proxied, direct);

    let stats = proxy.stats();
    assert_eq!(stats.method("eth_chainId"), MethodStats { forwarded: 2, ..MethodStats::default() });
    assert_eq!(stats.method("eth_blockNumber").forwarded, 1);
    assert_eq!(stats.method(UNPARSED).forwarded, 1);
    assert_eq!(stats.total(), MethodStats { forwarded: 4, ..MethodStats::default() });
    Ok(())
}

#[tokio::test]
async fn max_logs_refuses_with_a_hint_that_fits() -> Result<()> {
    let anvil = Anvil::spawn()?;
    let client = reqwest::Client::new();
    // Blocks 1..=5 hold 1, 2, 3, 4 and 5 logs.
    let head = emit_logs(&client, &anvil, &[1, 2, 3, 4, 5]).await?;
    assert_eq!(head, 5);
    let faults = Faults { max_logs: Some(4), ..Faults::default() };
    let proxy = RpcProxy::start(anvil.endpoint.clone(), faults.clone()).await?;

    let everything = get_logs(1, "0x0", "latest");
    assert_eq!(log_count(&call(&client, &anvil.endpoint, &everything).await?), Some(15));
    let refused = call(&client, &proxy.url, &everything).await?;
    let (code, message) = error_of(&refused).context("expected an error")?;
    assert_eq!(code, -32005);
    assert_eq!(message, "query returned more than 4 results. Try with this block range [0x0, 0x2].");
    let (start, end) = parse_hint(message).context("hint")?;
    let hinted = get_logs(2, &format!("{start:#x}"), &format!("{end:#x}"));
    let direct = log_count(&call(&client, &anvil.endpoint, &hinted).await?).context("hinted logs")?;
    assert!((1..=4).contains(&direct), "the hint holds {direct} logs");
    assert_eq!(log_count(&call(&client, &proxy.url, &hinted).await?), Some(direct));

    // From block 3 (3 logs, then 4): the hint stops before block 4.
    let refused = call(&client, &proxy.url, &get_logs(3, "0x3", "0x5")).await?;
    assert_eq!(parse_hint(error_of(&refused).context("error")?.1), Some((3, 3)));

    // Block 5 alone holds 5 logs: no range fits, so no hint.
    let refused = call(&client, &proxy.url, &get_logs(4, "0x5", "0x5")).await?;
    assert_eq!(error_of(&refused), Some((-32005, "query returned more than 4 results")));

    // Few enough logs: upstream's bytes.
    let few = get_logs(5, "0x1", "0x2").to_string();
    assert_eq!(
        post_raw(&client, &proxy.url, few.clone()).await?,
        post_raw(&client, &anvil.endpoint, few).await?
    );

    proxy.set_faults(Faults { max_logs_without_hint: true, ..faults });
    let refused = call(&client, &proxy.url, &everything).await?;
    assert_eq!(error_of(&refused), Some((-32005, "query returned more than 4 results")));

    assert_eq!(
        proxy.stats().method("eth_getLogs"),
        MethodStats { forwarded: 2, refused: 4, ..MethodStats::default() }
    );
    Ok(())
}

#[tokio::test]
async fn max_block_range_refuses_large_ranges_and_accepts_small_ones() -> Result<()> {
    let anvil = Anvil::spawn()?;
    let client = reqwest::Client::new();
    // Head 100; anvil puts `safe` 32 and `finalized` 64 blocks behind it (68 and 36).
    call(&client, &anvil.endpoint, &request(1, "anvil_mine", json!(["0x64"]))).await?;
    let proxy =
        RpcProxy::start(anvil.endpoint.clone(), Faults { max_block_range: Some(10), ..Faults::default() })
            .await?;
    let refusal = Some((-32600, "exceed maximum block range: 10"));

    let too_wide = [
        ("0x0", "0xa"),
        ("0x0", "latest"),
        ("earliest", "finalized"),
        ("0x1a", "finalized"),
        ("0x5a", "pending"),
    ];
    for (from, to) in too_wide {
        let answer = call(&client, &proxy.url, &get_logs(1, from, to)).await?;
        assert_eq!(error_of(&answer), refusal, "{from}..{to}");
    }
    let narrow_enough =
        [("0x0", "0x9"), ("0x5b", "latest"), ("latest", "latest"), ("0x1b", "finalized"), ("0x3b", "safe")];
    for (from, to) in narrow_enough {
        let answer = call(&client, &proxy.url, &get_logs(1, from, to)).await?;
        assert_eq!(log_count(&answer), Some(0), "{from}..{to}: {answer}");
    }
    // A block-hash filter names one block: never over the limit.
    let head =
        call(&client, &anvil.endpoint, &request(1, "eth_getBlockByNumber", json!(["latest", false]))).await?;
    let by_hash = request(2, "eth_getLogs", json!([{ "blockHash": head["result"]["hash"] }]));
    assert_eq!(log_count(&call(&client, &proxy.url, &by_hash).await?), Some(0));

    assert_eq!(
        proxy.stats().method("eth_getLogs"),
        MethodStats { forwarded: 6, refused: 5, ..MethodStats::default() }
    );
    Ok(())
}

#[tokio::test]
async fn batches_get_per_call_refusals_in_request_order() -> Result<()> {
    let anvil = Anvil::spawn()?;
    let client = reqwest::Client::new();
    emit_logs(&client, &anvil, &[1, 2, 3, 4, 5]).await?;
    call(&client, &anvil.endpoint, &request(1, "anvil_mine", json!(["0x14"]))).await?;
    let faults = Faults { max_logs: Some(4), max_block_range: Some(10), ..Faults::default() };
    let proxy = RpcProxy::start(anvil.endpoint.clone(), faults).await?;

    let batch = json!([
        request(1, "eth_chainId", json!([])),
        get_logs(2, "0x0", "latest"), // 26 blocks: over the range limit
        get_logs(3, "0x0", "0x5"),    // 15 logs: over the log limit
        get_logs(4, "0x1", "0x2"),    // 3 logs: fine
        request(5, "eth_blockNumber", json!([])),
    ]);
    let answers = call(&client, &proxy.url, &batch).await?;
    let answers = answers.as_array().context("a batch answer")?;
    let ids: Vec<u64> = answers.iter().filter_map(|answer| answer["id"].as_u64()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(answers[0]["result"], "0x7a69");
    assert_eq!(error_of(&answers[1]), Some((-32600, "exceed maximum block range: 10")));
    assert_eq!(answers[2]["error"]["code"], -32005);
    assert_eq!(parse_hint(answers[2]["error"]["message"].as_str().context("message")?), Some((0, 2)));
    let direct = call(&client, &anvil.endpoint, &get_logs(4, "0x1", "0x2")).await?;
    assert_eq!(answers[3], direct);
    assert_eq!(answers[4]["result"], "0x19");

    // Every call refused: the proxy answers alone.
    let all_refused = json!([get_logs(6, "0x0", "0x14"), get_logs(7, "earliest", "latest")]);
    let answers = call(&client, &proxy.url, &all_refused).await?;
    let codes: Vec<i64> =
        answers.as_array().context("array")?.iter().filter_map(|a| a["error"]["code"].as_i64()).collect();
    assert_eq!(codes, [-32600, -32600]);

    let stats = proxy.stats();
    assert_eq!(
        stats.method("eth_getLogs"),
        MethodStats { forwarded: 1, refused: 4, ..MethodStats::default() }
    );
    assert_eq!(stats.method("eth_chainId").forwarded, 1);
    assert_eq!(stats.method("eth_blockNumber").forwarded, 1);
    Ok(())
}

/// What a client saw of one request.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Answered,
    Unavailable,
    InternalError,
    Dropped,
}

async fn observe(client: &reqwest::Client, url: &Url, body: &Value) -> Result<Outcome> {
    let (status, bytes) = match post_raw(client, url, body.to_string()).await {
        Ok(answer) => answer,
        Err(_) => return Ok(Outcome::Dropped),
    };
    if status == StatusCode::SERVICE_UNAVAILABLE && bytes.is_empty() {
        return Ok(Outcome::Unavailable);
    }
    ensure!(status == StatusCode::OK, "unexpected status {status}");
    let answer: Value = serde_json::from_slice(&bytes)?;
    match error_of(&answer) {
        None => Ok(Outcome::Answered),
        Some((-32603, "internal error")) => Ok(Outcome::InternalError),
        Some(other) => bail!("unexpected error {other:?}"),
    }
}

#[tokio::test]
async fn fail_ratio_one_fails_every_request_and_zero_none() -> Result<()> {
    let anvil = Anvil::spawn()?;
    let failing = Faults { fail_ratio: 1.0, seed: 7, ..Faults::default() };
    let proxy = RpcProxy::start(anvil.endpoint.clone(), failing.clone()).await?;
    let client = reqwest::Client::new();
    let chain_id = request(1, "eth_chainId", json!([]));

    let mut outcomes = Vec::new();
    for _ in 0..30 {
        outcomes.push(observe(&client, &proxy.url, &chain_id).await?);
    }
    assert!(!outcomes.contains(&Outcome::Answered));
    for kind in [Outcome::Unavailable, Outcome::InternalError, Outcome::Dropped] {
        assert!(outcomes.contains(&kind), "no {kind:?} in 30 failures");
    }
    assert_eq!(proxy.stats().method("eth_chainId"), MethodStats { failed: 30, ..MethodStats::default() });

    // The same seed replays the same failures.
    proxy.set_faults(failing.clone());
    for expected in &outcomes {
        assert_eq!(&observe(&client, &proxy.url, &chain_id).await?, expected);
    }

    // A failed batch fails whole: the internal error answers every call.
    let batch = json!([request(1, "eth_chainId", json!([])), request(2, "eth_blockNumber", json!([]))]);
    let before = proxy.stats();
    let _ = post_raw(&client, &proxy.url, batch.to_string()).await;
    assert_eq!(proxy.stats().method("eth_blockNumber").failed, before.method("eth_blockNumber").failed + 1);

    proxy.set_faults(Faults { fail_ratio: 0.0, ..failing.clone() });
    for _ in 0..30 {
        assert_eq!(observe(&client, &proxy.url, &chain_id).await?, Outcome::Answered);
    }
    assert_eq!(proxy.stats().method("eth_chainId").forwarded, 30);

    // only_methods spares the others.
    proxy.set_faults(Faults { only_methods: vec!["eth_getLogs".into()], ..failing });
    assert_eq!(observe(&client, &proxy.url, &chain_id).await?, Outcome::Answered);
    assert_ne!(observe(&client, &proxy.url, &get_logs(2, "0x0", "0x0")).await?, Outcome::Answered);
    assert_eq!(proxy.stats().method("eth_getLogs").failed, 1);
    Ok(())
}

#[tokio::test]
async fn stalls_delay_or_withhold_answers() -> Result<()> {
    let anvil = Anvil::spawn()?;
    let short = Faults { stall_ratio: 1.0, stall_for: Duration::from_millis(200), ..Faults::default() };
    let proxy = RpcProxy::start(anvil.endpoint.clone(), short).await?;
    let client = reqwest::Client::new();
    let chain_id = request(1, "eth_chainId", json!([]));

    let started = Instant::now();
    assert_eq!(call(&client, &proxy.url, &chain_id).await?["result"], "0x7a69");
    assert!(started.elapsed() >= Duration::from_millis(200));

    // A long stall outlasts the client's time-out.
    proxy.set_faults(Faults { stall_ratio: 1.0, stall_for: Duration::from_secs(60), ..Faults::default() });
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(300)).build()?;
    let timed_out = post_raw(&impatient, &proxy.url, chain_id.to_string()).await;
    assert!(timed_out.is_err(), "expected a time-out, got {timed_out:?}");
    assert_eq!(
        proxy.stats().method("eth_chainId"),
        MethodStats { forwarded: 1, stalled: 2, ..MethodStats::default() }
    );

    // Dropping the proxy releases a request it is holding.
    let url = proxy.url.clone();
    let held =
        tokio::spawn(async move { post_raw(&reqwest::Client::new(), &url, chain_id.to_string()).await });
    // Held once the proxy has counted its stall (the third of eth_chainId).
    let holding = Instant::now() + Duration::from_secs(10);
    while proxy.stats().method("eth_chainId").stalled < 3 {
        ensure!(Instant::now() < holding, "the proxy never took the third request");
        tokio::task::yield_now().await;
    }
    drop(proxy);
    let released = tokio::time::timeout(Duration::from_secs(5), held).await.context("still held")??;
    assert_ne!(released.ok().map(|(status, _)| status), Some(StatusCode::OK));
    Ok(())
}

#[tokio::test]
async fn unreachable_upstream_is_a_bad_gateway() -> Result<()> {
    // A port that was just free: nothing listens there.
    let closed = TcpListener::bind(("127.0.0.1", 0)).await?.local_addr()?;
    let upstream = Url::parse(&format!("http://{closed}/"))?;
    let proxy = RpcProxy::start(upstream, Faults::default()).await?;
    let client = reqwest::Client::new();
    let (status, _) = post_raw(&client, &proxy.url, request(1, "eth_chainId", json!([])).to_string()).await?;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let batch = json!([request(1, "eth_chainId", json!([])), request(2, "eth_blockNumber", json!([]))]);
    let (status, _) = post_raw(&client, &proxy.url, batch.to_string()).await?;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let stats = proxy.stats();
    assert_eq!(stats.method("eth_chainId"), MethodStats { upstream_errors: 2, ..MethodStats::default() });
    assert_eq!(stats.total().upstream_errors, 3);
    Ok(())
}
