//! The remote-like shape of issue 16: the board's history spread over 2M blocks and read through
//! a proxy that answers like a public RPC provider: every HTTP request (a JSON-RPC batch is one)
//! waits a fixed latency, and `eth_getLogs` over more than a maximum block range is refused with
//! the message such providers give (`exceed maximum block range: 10000`).
//!
//! anvil cannot hold 2M blocks: an empty block takes it longer to mine the longer the chain is
//! (measured: 1.3 ms a block at 1,000 blocks, 25 ms at 8,000), so mining 2M would take days.
//! The proxy stretches the chain instead: real block r is virtual block r × `stretch`, and the
//! virtual blocks in between are empty blocks it answers for itself (the header of the real
//! block below, renumbered, with an empty bloom and no transactions). Every virtual block has
//! a hash derived from its number, and each block's parent hash is its predecessor's, so the
//! indexer sees one consistent chain of `stretch` times anvil's length, and the logs it is given
//! carry the virtual numbers and hashes. The virtual finalized block is 64 blocks below the
//! virtual head, as anvil's is below its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use alloy::primitives::{B256, keccak256};
use anyhow::Result;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use url::Url;

/// How far below the virtual head the virtual finalized block is (anvil's own distance).
const FINALITY_DEPTH: u64 = 64;
/// The root of an empty trie: what an empty block's transaction and receipt roots are.
const EMPTY_ROOT: &str = "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421";

/// How the proxy behaves.
#[derive(Debug, Clone, Copy)]
pub struct Remote {
    /// Virtual blocks per real block.
    pub stretch: u64,
    /// Added to every HTTP request.
    pub latency: Duration,
    /// The longest `eth_getLogs` range answered, in virtual blocks.
    pub max_range: u64,
}

/// What the proxy saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// HTTP requests (a batch counts once).
    pub requests: AtomicU64,
    /// JSON-RPC calls (each call of a batch counts).
    pub calls: AtomicU64,
    /// `eth_getLogs` calls refused for their range.
    pub refused: AtomicU64,
    in_flight: AtomicUsize,
    /// The most HTTP requests in flight at once.
    pub peak_in_flight: AtomicUsize,
}

struct Shared {
    upstream: Url,
    client: reqwest::Client,
    remote: Remote,
    seen: Arc<Seen>,
    /// Virtual hashes handed out, for `blockHash` filters.
    hashes: Mutex<HashMap<B256, u64>>,
}

/// A running proxy; stops with the bench.
pub struct RemoteProxy {
    /// Where to send JSON-RPC.
    pub url: Url,
    /// What it saw.
    pub seen: Arc<Seen>,
}

/// Starts the proxy in front of `upstream` (anvil).
pub async fn start(upstream: Url, remote: Remote) -> Result<RemoteProxy> {
    let seen = Arc::new(Seen::default());
    let shared = Arc::new(Shared {
        upstream,
        client: reqwest::Client::builder().no_proxy().build()?,
        remote,
        seen: seen.clone(),
        hashes: Mutex::new(HashMap::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = Url::parse(&format!("http://{}/", listener.local_addr()?))?;
    let app = Router::new().route("/", post(handle)).with_state(shared);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(RemoteProxy { url, seen })
}

async fn handle(State(shared): State<Arc<Shared>>, body: Bytes) -> axum::response::Response {
    let seen = &shared.seen;
    seen.requests.fetch_add(1, Ordering::Relaxed);
    let now = seen.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    seen.peak_in_flight.fetch_max(now, Ordering::Relaxed);
    let answer = async {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        match request {
            Value::Array(calls) => {
                Value::Array(futures::future::join_all(calls.into_iter().map(|c| answer(&shared, c))).await)
            }
            call => answer(&shared, call).await,
        }
    };
    let (answer, ()) = tokio::join!(answer, tokio::time::sleep(shared.remote.latency));
    seen.in_flight.fetch_sub(1, Ordering::Relaxed);
    axum::response::Response::builder()
        .header("content-type", "application/json")
        .body(axum::body::Body::from(answer.to_string()))
        .unwrap_or_default()
}

/// An error answer: its JSON-RPC code and message.
type Failure = (i64, String);

async fn answer(shared: &Shared, call: Value) -> Value {
    shared.seen.calls.fetch_add(1, Ordering::Relaxed);
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let method = call.get("method").and_then(Value::as_str).unwrap_or_default().to_owned();
    let params = call.get("params").cloned().unwrap_or(json!([]));
    match shared.call(&method, params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        }
    }
}

fn quantity(value: &Value) -> Option<u64> {
    u64::from_str_radix(value.as_str()?.strip_prefix("0x")?, 16).ok()
}

fn hex(n: u64) -> Value {
    Value::String(format!("{n:#x}"))
}

impl Shared {
    async fn upstream(&self, method: &str, params: Value) -> Result<Value, Failure> {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let response = self
            .client
            .post(self.upstream.clone())
            .json(&request)
            .send()
            .await
            .map_err(|e| (-32603, format!("upstream: {e}")))?;
        let mut body: Value = response.json().await.map_err(|e| (-32603, format!("upstream: {e}")))?;
        if let Some(error) = body.get("error") {
            let code = error.get("code").and_then(Value::as_i64).unwrap_or(-32603);
            let message = error.get("message").and_then(Value::as_str).unwrap_or_default().to_owned();
            return Err((code, message));
        }
        Ok(body.get_mut("result").map(Value::take).unwrap_or(Value::Null))
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value, Failure> {
        match method {
            "eth_blockNumber" => Ok(hex(self.virtual_head().await?)),
            "eth_getBlockByNumber" => {
                let number = self.resolve(params.get(0).unwrap_or(&Value::Null)).await?;
                self.virtual_block(number).await
            }
            "eth_getBlockByHash" => {
                match params.get(0).and_then(|h| h.as_str()).and_then(|h| self.number_of(h)) {
                    Some(number) => self.virtual_block(number).await,
                    None => Ok(Value::Null),
                }
            }
            "eth_getLogs" => self.logs(params.get(0).cloned().unwrap_or(Value::Null)).await,
            "eth_getBlockReceipts" => {
                let block = params.get(0).unwrap_or(&Value::Null);
                let number = match block.as_str().and_then(|h| self.number_of(h)) {
                    Some(number) => number,
                    None => self.resolve(block).await?,
                };
                if !number.is_multiple_of(self.remote.stretch) {
                    return Ok(json!([]));
                }
                let mut receipts = self.upstream(method, json!([hex(number / self.remote.stretch)])).await?;
                for receipt in receipts.as_array_mut().into_iter().flatten() {
                    if let Some(logs) = receipt.get_mut("logs").and_then(Value::as_array_mut) {
                        logs.iter_mut().for_each(|log| self.renumber_log(log));
                    }
                }
                Ok(receipts)
            }
            _ => self.upstream(method, params).await,
        }
    }

    async fn virtual_head(&self) -> Result<u64, Failure> {
        let head = self.upstream("eth_blockNumber", json!([])).await?;
        Ok(quantity(&head).unwrap_or(0) * self.remote.stretch)
    }

    /// A block tag or number as a virtual block number.
    async fn resolve(&self, block: &Value) -> Result<u64, Failure> {
        if let Some(number) = quantity(block) {
            return Ok(number);
        }
        match block.as_str() {
            Some("earliest") => Ok(0),
            Some("finalized" | "safe") => Ok(self.virtual_head().await?.saturating_sub(FINALITY_DEPTH)),
            _ => self.virtual_head().await,
        }
    }

    /// The hash of virtual block `number`, remembered for lookups by hash.
    fn hash_of(&self, number: u64) -> B256 {
        let mut seed = b"jobboard bench virtual block".to_vec();
        seed.extend_from_slice(&number.to_be_bytes());
        let hash = keccak256(&seed);
        self.hashes.lock().unwrap_or_else(PoisonError::into_inner).insert(hash, number);
        hash
    }

    fn number_of(&self, hash: &str) -> Option<u64> {
        let hash: B256 = hash.parse().ok()?;
        self.hashes.lock().unwrap_or_else(PoisonError::into_inner).get(&hash).copied()
    }

    /// Virtual block `number`: a real block renumbered, or an empty one between two.
    async fn virtual_block(&self, number: u64) -> Result<Value, Failure> {
        let stretch = self.remote.stretch;
        if number > self.virtual_head().await? {
            return Ok(Value::Null);
        }
        let mut block = self.upstream("eth_getBlockByNumber", json!([hex(number / stretch), false])).await?;
        let Some(fields) = block.as_object_mut() else { return Ok(Value::Null) };
        fields.insert("number".into(), hex(number));
        fields.insert("hash".into(), json!(self.hash_of(number)));
        if number > 0 {
            fields.insert("parentHash".into(), json!(self.hash_of(number - 1)));
        }
        if !number.is_multiple_of(stretch) {
            fields.insert("transactions".into(), json!([]));
            fields.insert("logsBloom".into(), Value::String(format!("0x{}", "00".repeat(256))));
            fields.insert("gasUsed".into(), hex(0));
            fields.insert("transactionsRoot".into(), json!(EMPTY_ROOT));
            fields.insert("receiptsRoot".into(), json!(EMPTY_ROOT));
        }
        Ok(block)
    }

    async fn logs(&self, mut filter: Value) -> Result<Value, Failure> {
        let stretch = self.remote.stretch;
        if let Some(hash) = filter.get("blockHash").and_then(Value::as_str).map(str::to_owned) {
            let Some(number) = self.number_of(&hash) else { return Err((-32000, "unknown block".into())) };
            if !number.is_multiple_of(stretch) {
                return Ok(json!([]));
            }
            let real = self.upstream("eth_getBlockByNumber", json!([hex(number / stretch), false])).await?;
            filter["blockHash"] = real.get("hash").cloned().unwrap_or(Value::Null);
        } else {
            let from = self.resolve(filter.get("fromBlock").unwrap_or(&json!("earliest"))).await?;
            let to = self.resolve(filter.get("toBlock").unwrap_or(&json!("latest"))).await?;
            if to >= from && to - from + 1 > self.remote.max_range {
                self.seen.refused.fetch_add(1, Ordering::Relaxed);
                return Err((-32600, format!("exceed maximum block range: {}", self.remote.max_range)));
            }
            let (real_from, real_to) = (from.div_ceil(stretch), to / stretch);
            if real_from > real_to {
                return Ok(json!([]));
            }
            filter["fromBlock"] = hex(real_from);
            filter["toBlock"] = hex(real_to);
        }
        let mut logs = self.upstream("eth_getLogs", json!([filter])).await?;
        logs.as_array_mut().into_iter().flatten().for_each(|log| self.renumber_log(log));
        Ok(logs)
    }

    fn renumber_log(&self, log: &mut Value) {
        let Some(real) = log.get("blockNumber").and_then(quantity) else { return };
        let number = real * self.remote.stretch;
        log["blockNumber"] = hex(number);
        log["blockHash"] = json!(self.hash_of(number));
    }
}

/// The stretch that makes a chain of `real_head` blocks about `blocks` long.
pub fn stretch_for(real_head: u64, blocks: u64) -> u64 {
    blocks.div_ceil(real_head.max(1)).max(1)
}

impl RemoteProxy {
    /// A one-line summary of what the proxy saw.
    pub fn summary(&self) -> String {
        let seen = &self.seen;
        format!(
            "{} HTTP requests, {} calls, {} ranges refused, at most {} requests in flight",
            seen.requests.load(Ordering::Relaxed),
            seen.calls.load(Ordering::Relaxed),
            seen.refused.load(Ordering::Relaxed),
            seen.peak_in_flight.load(Ordering::Relaxed)
        )
    }

    /// Counters back to zero (between the raw fetch and the backfill).
    pub fn reset(&self) {
        let seen = &self.seen;
        seen.requests.store(0, Ordering::Relaxed);
        seen.calls.store(0, Ordering::Relaxed);
        seen.refused.store(0, Ordering::Relaxed);
        seen.peak_in_flight.store(0, Ordering::Relaxed);
    }
}
