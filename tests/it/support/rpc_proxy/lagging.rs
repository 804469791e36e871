//! The proxy's node faults: a lagging node behind a load balancer (`lag_ratio`), and a provider
//! whose log index trails its head (`logs_lag_blocks`). Both answer call by call, as such a node
//! would, from upstream's answers: nothing here is invented but the missing blocks and logs.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Call, Envelope, Plan, Shared, json_response, parse_quantity};

/// What the answering node has.
#[derive(Clone, Copy, Debug)]
enum View {
    /// A whole node whose head is `head`: nothing above it exists.
    Node { head: u64 },
    /// Upstream itself, but `eth_getLogs` knows nothing above `head`.
    LogIndex { head: u64 },
}

impl View {
    fn head(self) -> u64 {
        match self {
            View::Node { head } | View::LogIndex { head } => head,
        }
    }
}

/// The answer to `envelope` under the plan's node faults, or `None` when they touch none of its
/// calls and the ordinary path answers it.
pub(super) async fn answer(shared: &Shared, plan: &Plan, envelope: &Envelope<'_>) -> Option<Response> {
    let calls: Vec<&Call<'_>> = match envelope {
        Envelope::Unparsed => return None,
        Envelope::Single(call) => vec![call],
        Envelope::Batch(calls) => calls.iter().collect(),
    };
    let view = if plan.lagging {
        View::Node { head: shared.resolve_block(None).await?.saturating_sub(plan.faults.lag_blocks) }
    } else {
        let lag = plan.faults.logs_lag_blocks?;
        if !calls.iter().any(|call| call.is_get_logs()) {
            return None;
        }
        View::LogIndex { head: shared.resolve_block(None).await?.saturating_sub(lag) }
    };
    let mut answers = Vec::with_capacity(calls.len());
    for call in &calls {
        answers.push(answer_call(shared, call, view).await);
    }
    let body = match envelope {
        Envelope::Batch(_) => format!("[{}]", answers.join(",")),
        _ => answers.concat(),
    };
    Some(json_response(StatusCode::OK, body))
}

/// One call's answer (JSON text) from the node `view` describes.
async fn answer_call(shared: &Shared, call: &Call<'_>, view: View) -> String {
    let whole = matches!(view, View::Node { .. });
    let visible = view.head();
    let params = call.params.clone().unwrap_or_else(|| json!([]));
    let first = params.get(0).cloned();
    let lagged = || shared.count([call.method()], |s| s.lagged += 1);
    match call.method() {
        "eth_blockNumber" if whole => {
            lagged();
            result(call, json!(format!("0x{visible:x}")))
        }
        "eth_getBlockByNumber" if whole => {
            let Some(number) = shared.resolve_block(first.as_ref()).await else {
                return forward(shared, call).await;
            };
            let number = match first.as_ref().and_then(Value::as_str) {
                Some("latest" | "pending") => visible,
                Some("finalized" | "safe") => number.min(visible),
                _ => number,
            };
            lagged();
            if number > visible {
                return result(call, Value::Null);
            }
            let mut params = params.clone();
            params[0] = json!(format!("0x{number:x}"));
            forward_with(shared, call, params).await
        }
        "eth_getBlockByHash" | "eth_getBlockReceipts" if whole => {
            lagged();
            match block_number_of(shared, first.as_ref()).await {
                Some(number) if number > visible => result(call, Value::Null),
                _ => forward_with(shared, call, params).await,
            }
        }
        "eth_getLogs" => {
            let Some(filter) = first.filter(Value::is_object) else { return forward(shared, call).await };
            if let Some(hash) = filter.get("blockHash") {
                return match block_number_of(shared, Some(hash)).await {
                    Some(number) if number > visible => {
                        lagged();
                        if whole {
                            call.error_answer(-32000, "unknown block")
                        } else {
                            result(call, json!([]))
                        }
                    }
                    _ => forward(shared, call).await,
                };
            }
            let from = shared.resolve_block(filter.get("fromBlock")).await;
            let to = shared.resolve_block(filter.get("toBlock")).await;
            let (Some(from), Some(to)) = (from, to) else { return forward(shared, call).await };
            if to <= visible {
                return forward(shared, call).await;
            }
            lagged();
            if from > visible {
                return result(call, json!([]));
            }
            let mut filter = filter.clone();
            filter["fromBlock"] = json!(format!("0x{from:x}"));
            filter["toBlock"] = json!(format!("0x{visible:x}"));
            let mut params = params.clone();
            params[0] = filter;
            forward_with(shared, call, params).await
        }
        _ => forward(shared, call).await,
    }
}

/// The number of the block a parameter names: a quantity or tag, a block hash, or an object
/// `{"blockHash": ...}` / `{"blockNumber": ...}`.
async fn block_number_of(shared: &Shared, block: Option<&Value>) -> Option<u64> {
    let block = block?;
    if let Some(object) = block.as_object() {
        if let Some(hash) = object.get("blockHash") {
            return Box::pin(block_number_of(shared, Some(hash))).await;
        }
        return shared.resolve_block(object.get("blockNumber")).await;
    }
    let text = block.as_str()?;
    if text.len() == 66 {
        let found = shared.ask_upstream("eth_getBlockByHash", json!([text, false])).await?;
        return parse_quantity(found.get("number")?.as_str()?);
    }
    shared.resolve_block(Some(block)).await
}

fn result(call: &Call<'_>, value: Value) -> String {
    let id = call.id.map_or("null", |id| id.get());
    format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{value}}}"#)
}

/// Upstream's answer to `call` as sent.
async fn forward(shared: &Shared, call: &Call<'_>) -> String {
    shared.count([call.method()], |s| s.forwarded += 1);
    send(shared, call, Bytes::from(call.raw.get().to_owned())).await
}

/// Upstream's answer to `call` with `params` instead of its own.
async fn forward_with(shared: &Shared, call: &Call<'_>, params: Value) -> String {
    let id: Value = call.id.and_then(|id| serde_json::from_str(id.get()).ok()).unwrap_or(Value::Null);
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": call.method(), "params": params });
    send(shared, call, Bytes::from(body.to_string())).await
}

async fn send(shared: &Shared, call: &Call<'_>, body: Bytes) -> String {
    match shared.forward(body, None).await {
        Ok(answer) => String::from_utf8_lossy(&answer.body).into_owned(),
        Err(_) => {
            shared.count([call.method()], |s| s.upstream_errors += 1);
            call.error_answer(-32603, "rpc proxy: upstream unreachable")
        }
    }
}
