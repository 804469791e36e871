//! The backfill's `eth_getLogs` request (a JSON-RPC batch with the head and the range's last
//! header), sent over HTTP and parsed as its bytes arrive, log by log.
//!
//! Through alloy's transport a large answer was held three times over: its JSON text, a copy
//! of each reply's `result`, and the parsed logs (ADR 0007: one 35,000-log block cost about
//! 200 MiB). Here the body is fed chunk by chunk to a [`Splitter`], which hands out each element
//! of a reply's `result` array as soon as its last byte arrives (it is parsed into a [`Log`]
//! at once and its bytes dropped) and keeps the rest of the answer, with those arrays emptied,
//! as a small skeleton parsed at the end: the JSON text of the logs is never held whole.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::U64;
use alloy::rpc::json_rpc::ErrorPayload;
use alloy::rpc::types::{Block, Filter, Log};
use alloy::transports::http::reqwest;
use alloy::transports::{RpcError, TransportError, TransportErrorKind};
use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

/// What one request brings: the node's head, the logs, and the range's last block.
#[derive(Debug)]
pub(crate) struct LogsAnswer {
    /// The node's head, asked before the logs.
    pub head: u64,
    /// The logs, in the node's order.
    pub logs: Vec<Log>,
    /// Block `to`, or `None` if the node does not have it.
    pub last: Option<Block>,
}

/// The ids of the batch's three calls.
const HEAD: u64 = 0;
const LOGS: u64 = 1;
const LAST_BLOCK: u64 = 2;

/// Asks `url` in one HTTP request for its head, the logs matching `filter` and block `to`.
///
/// # Errors
/// The node's error answer to any call (the logs' first, so that a range refusal is seen as
/// one) as [`RpcError::ErrorResp`]; HTTP failures and malformed answers as transport errors.
pub(crate) async fn fetch_logs(
    http: &reqwest::Client,
    url: &Url,
    filter: &Filter,
    to: u64,
) -> Result<LogsAnswer, TransportError> {
    let request = serde_json::json!([
        {"jsonrpc": "2.0", "id": HEAD, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": LOGS, "method": "eth_getLogs", "params": [filter]},
        {"jsonrpc": "2.0", "id": LAST_BLOCK, "method": "eth_getBlockByNumber",
         "params": [BlockNumberOrTag::Number(to), false]},
    ]);
    let mut response = http
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(request.to_string())
        .send()
        .await
        .map_err(TransportErrorKind::custom)?;
    let status = response.status();
    if !status.is_success() {
        let body = response.bytes().await.map_err(TransportErrorKind::custom)?;
        return Err(TransportErrorKind::http_error(
            status.as_u16(),
            String::from_utf8_lossy(&body).into_owned(),
        ));
    }
    let mut splitter = Splitter::default();
    let mut logs = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(TransportErrorKind::custom)? {
        splitter.push(&chunk, |_, element| {
            logs.push(serde_json::from_slice::<Log>(element).map_err(|e| RpcError::deser_err(e, "a log"))?);
            Ok::<(), TransportError>(())
        })?;
    }
    let skeleton = splitter.finish().ok_or_else(|| TransportErrorKind::custom_str("truncated answer"))?;
    read_skeleton(&skeleton, logs)
}

/// One reply of the batch, its array `result` emptied by the splitter.
#[derive(Debug, Deserialize)]
struct Reply {
    id: Option<u64>,
    result: Option<Box<RawValue>>,
    error: Option<ErrorPayload>,
}

/// The answer from its skeleton and the logs taken out of it.
fn read_skeleton(skeleton: &[u8], logs: Vec<Log>) -> Result<LogsAnswer, TransportError> {
    let text = String::from_utf8_lossy(skeleton);
    let replies: Vec<Reply> = match serde_json::from_slice(skeleton) {
        Ok(replies) => replies,
        // A node that refuses batches answers with one error object.
        Err(_) => vec![serde_json::from_slice::<Reply>(skeleton).map_err(|e| RpcError::deser_err(e, &text))?],
    };
    let reply = |id: u64| -> Result<&Reply, TransportError> {
        let found =
            replies.iter().find(|r| r.id == Some(id)).or_else(|| replies.iter().find(|r| r.error.is_some()));
        let reply =
            found.ok_or_else(|| TransportErrorKind::custom_str(&format!("no answer to call {id}")))?;
        match &reply.error {
            Some(error) => Err(RpcError::ErrorResp(error.clone())),
            None => Ok(reply),
        }
    };
    let result = |reply: &Reply| reply.result.as_ref().map_or("null", |r| r.get()).to_owned();
    reply(LOGS)?;
    let head_text = result(reply(HEAD)?);
    let head: U64 = serde_json::from_str(&head_text).map_err(|e| RpcError::deser_err(e, &head_text))?;
    let last_text = result(reply(LAST_BLOCK)?);
    let last: Option<Block> =
        serde_json::from_str(&last_text).map_err(|e| RpcError::deser_err(e, &last_text))?;
    Ok(LogsAnswer { head: head.to(), logs, last })
}

/// Splits a JSON-RPC batch answer, fed in chunks of any size, into the elements of each
/// reply's `result` array, handed out one by one as they complete, and a skeleton: the answer
/// with those arrays emptied. It tracks only what it must (nesting depth, strings and their
/// escapes, the key being read inside a reply) and checks nothing else: the skeleton and each
/// element are parsed by `serde_json` afterwards, which rejects anything malformed.
#[derive(Debug, Default)]
pub(crate) struct Splitter {
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Inside a reply object (depth 2): a key may start here.
    expect_key: bool,
    /// Inside a reply object: between a key's `:` and the first byte of its value.
    expect_value: bool,
    /// The key being read, or the last one read, inside a reply object.
    key: Vec<u8>,
    reading_key: bool,
    /// Inside a reply's `result` array, whose elements are at depth 3.
    in_array: bool,
    element: Vec<u8>,
    /// The current reply's position in the batch (1-based while inside one; 0 before).
    replies: usize,
    skeleton: Vec<u8>,
}

impl Splitter {
    /// Feeds `chunk`; `element(reply, bytes)` receives each completed array element with the
    /// 0-based position of its reply in the batch.
    ///
    /// # Errors
    /// Whatever `element` returns.
    pub(crate) fn push<E>(
        &mut self,
        chunk: &[u8],
        mut element: impl FnMut(usize, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        for &b in chunk {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.reading_key = false;
                }
                self.take(b);
                continue;
            }
            if self.in_array && self.depth == 3 {
                match b {
                    b',' => {
                        self.finish_element(&mut element)?;
                        continue;
                    }
                    b']' => {
                        self.finish_element(&mut element)?;
                        self.in_array = false;
                        self.depth = 2;
                        self.skeleton.push(b']');
                        continue;
                    }
                    b' ' | b'\n' | b'\r' | b'\t' => continue,
                    _ => {}
                }
            }
            if self.depth == 2 && self.expect_value && !b.is_ascii_whitespace() {
                self.expect_value = false;
                if b == b'[' && self.key == b"result" {
                    self.in_array = true;
                    self.depth = 3;
                    self.skeleton.push(b'[');
                    continue;
                }
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    self.take(b);
                    if self.depth == 2 && self.expect_key {
                        self.reading_key = true;
                        self.key.clear();
                    }
                    continue;
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.depth == 2 {
                        self.replies += 1;
                        self.expect_key = true;
                    }
                }
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                b',' if self.depth == 2 => self.expect_key = true,
                b':' if self.depth == 2 => {
                    self.expect_key = false;
                    self.expect_value = true;
                }
                _ => {}
            }
            self.take(b);
        }
        Ok(())
    }

    /// Records a byte: into the element being read inside a `result` array, else into the
    /// skeleton (and into the key being read).
    fn take(&mut self, b: u8) {
        if self.in_array && self.depth >= 3 {
            self.element.push(b);
        } else {
            self.skeleton.push(b);
            if self.reading_key && self.in_string {
                self.key.push(b);
            }
        }
    }

    fn finish_element<E>(
        &mut self,
        element: &mut impl FnMut(usize, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        if !self.element.is_empty() {
            element(self.replies.saturating_sub(1), &self.element)?;
            self.element.clear();
        }
        Ok(())
    }

    /// The skeleton, once the answer is complete (`None` if it ended inside a value).
    pub(crate) fn finish(self) -> Option<Vec<u8>> {
        (self.depth == 0 && !self.in_string && !self.in_array).then_some(self.skeleton)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// Splits `text` fed in chunks of `size` bytes: the skeleton and each reply's elements.
    fn split(text: &str, size: usize) -> (Value, Vec<(usize, Value)>) {
        let mut splitter = Splitter::default();
        let mut elements = Vec::new();
        for chunk in text.as_bytes().chunks(size) {
            splitter
                .push(chunk, |reply, bytes| {
                    elements.push((reply, serde_json::from_slice(bytes).expect("an element is JSON")));
                    Ok::<(), ()>(())
                })
                .expect("no error from the callback");
        }
        let skeleton = splitter.finish().expect("complete");
        (serde_json::from_slice(&skeleton).expect("the skeleton is JSON"), elements)
    }

    #[test]
    fn takes_out_result_arrays_in_any_chunking_and_keeps_the_rest() {
        let answer = json!([
            {"jsonrpc": "2.0", "id": 0, "result": "0x10"},
            {"result": [{"data": "0x01", "topics": ["0xaa"], "s": "a \"quoted\" ] } [ { , \\"},
                        {"data": "0x02", "nested": {"result": [1, 2]}}], "id": 1, "jsonrpc": "2.0"},
            {"jsonrpc": "2.0", "id": 2, "result": {"number": "0x10", "transactions": [], "result": [3]}},
            {"jsonrpc": "2.0", "id": 3, "error": {"code": -32005, "message": "limit [0x1, 0x2]"}}
        ]);
        let text = serde_json::to_string_pretty(&answer).expect("serializes");
        for size in [1, 2, 3, 7, 64, text.len()] {
            let (skeleton, elements) = split(&text, size);
            let mut expected_skeleton = answer.clone();
            expected_skeleton[1]["result"] = json!([]);
            assert_eq!(skeleton, expected_skeleton, "chunks of {size}");
            let expected: Vec<(usize, Value)> =
                answer[1]["result"].as_array().expect("array").iter().map(|e| (1, e.clone())).collect();
            assert_eq!(elements, expected, "chunks of {size}");
        }
    }

    #[test]
    fn an_empty_or_scalar_result_array_and_a_lone_error_object() {
        let (skeleton, elements) = split(r#"[{"id":1,"result":[]},{"id":2,"result":["0x1", 5 ,null]}]"#, 1);
        assert_eq!(skeleton, json!([{"id": 1, "result": []}, {"id": 2, "result": []}]));
        assert_eq!(elements, vec![(1, json!("0x1")), (1, json!(5)), (1, Value::Null)]);
        let (skeleton, elements) = split(r#"{"id":null,"error":{"code":-32600,"message":"no batches"}}"#, 5);
        assert_eq!(skeleton["error"]["code"], json!(-32600));
        assert!(elements.is_empty());
    }

    #[test]
    fn a_truncated_answer_has_no_skeleton() {
        let mut splitter = Splitter::default();
        splitter.push(br#"[{"id":1,"result":[{"data":"0x"#, |_, _| Ok::<(), ()>(())).expect("no error");
        assert!(splitter.finish().is_none());
    }

    #[test]
    fn the_skeleton_gives_the_head_the_block_and_the_logs_error_first() {
        let ok = br#"[{"id":0,"result":"0x2a"},{"id":1,"result":[]},{"id":2,"result":null}]"#;
        let answer = read_skeleton(ok, Vec::new()).expect("reads");
        assert_eq!((answer.head, answer.last.is_none()), (42, true));
        let refused = br#"[{"id":0,"result":"0x2a"},{"id":1,"error":{"code":-32005,"message":"too many"}},{"id":2,"result":null}]"#;
        let error = read_skeleton(refused, Vec::new()).expect_err("the refusal");
        assert_eq!(error.as_error_resp().map(|e| e.code), Some(-32005));
        let lone = br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch not supported"}}"#;
        assert_eq!(
            read_skeleton(lone, Vec::new()).expect_err("refused").as_error_resp().map(|e| e.code),
            Some(-32600)
        );
    }
}
