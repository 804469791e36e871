//! What a newcomer meets when the node refuses: each refusal driven for real against anvil
//! (an unfunded key, a transaction of the same account still pending, the wrong chain), the
//! message checked for what a person needs to act; and the application receipt surviving a
//! CLI killed while its transaction waits to be mined.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail, ensure};
use axum::body::Bytes;
use axum::extract::State;
use jobboard::actions::NodeRefusal;
use serde_json::{Value, json};

use crate::actions::{Board, Run, key_hex};

/// A key that holds nothing on any dev chain.
fn pauper() -> Result<PrivateKeySigner> {
    Ok(PrivateKeySigner::from_bytes(&B256::repeat_byte(0x11))?)
}

fn path_arg(path: &Path) -> Result<&str> {
    path.to_str().context("utf-8 path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfunded_key_is_told_its_balance_the_cost_and_the_dev_keys() -> Result<()> {
    let board = Board::start()?;
    board.json(1, &["job", "post", "--title", "Rust Engineer"])?;
    let dir = tempfile::tempdir()?;
    let document = dir.path().join("cv.txt");
    std::fs::write(&document, b"my cv")?;
    let pauper = pauper()?;
    let output = board
        .command()
        .env("JOBBOARD_PRIVATE_KEY", key_hex(&pauper))
        .args(["application", "submit", "--job", "1", "--document", path_arg(&document)?])
        .output()?;
    let message = Run { output }.failure(1)?;
    eprintln!("--- insufficient funds:\n{message}");
    for needle in [
        "applyTo refused for insufficient funds",
        &format!("account {}", pauper.address()),
        "holds 0.000000000000000000 ETH on chain 31337",
        "the transaction needs up to",
        "dev chain (anvil, chain id 31337)",
        &format!("--private-key <dev key> {}", pauper.address()),
        &key_hex(&board.anvil.keys[0]),
        &key_hex(&board.anvil.keys[1]),
    ] {
        ensure!(message.contains(needle), "{needle:?} not in:\n{message}");
    }
    ensure!(!message.contains("error code -32003"), "the raw node error leaks:\n{message}");
    // The node refused it: no application, so no receipt is kept.
    let files: Vec<_> =
        std::fs::read_dir(dir.path())?.filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(files.len(), 1, "a receipt was kept for a refused transaction: {files:?}");

    // `deploy` explains it the same way.
    let output = board.command().env("JOBBOARD_PRIVATE_KEY", key_hex(&pauper)).args(["deploy"]).output()?;
    let message = Run { output }.failure(1)?;
    eprintln!("--- insufficient funds (deploy):\n{message}");
    ensure!(
        message.contains(&format!("deployment refused for insufficient funds: account {}", pauper.address()))
            && message.contains("the transaction needs up to")
            && message.contains(&key_hex(&board.anvil.keys[0])),
        "{message}"
    );

    // The words are checked against anvil's own answer, not only our reading of it.
    let provider = ProviderBuilder::new().wallet(pauper.clone()).connect_http(board.anvil.endpoint.clone());
    let refused = provider
        .send_transaction(
            TransactionRequest::default().with_to(board.anvil.address(2)).with_value(U256::from(1)),
        )
        .await
        .err()
        .context("anvil took a transaction from an empty account")?;
    assert_eq!(NodeRefusal::of(&refused), Some(NodeRefusal::InsufficientFunds), "{refused}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_chain_is_named_before_anything_is_signed() -> Result<()> {
    let board = Board::start()?;
    let run = board.run(1, &["job", "post", "--title", "t", "--chain-id", "11155111"])?;
    let message = run.failure(1)?;
    eprintln!("--- wrong chain:\n{message}");
    ensure!(
        message.contains("is on chain 31337, not chain 11155111")
            && message.contains("correct --chain-id (JOBBOARD_CHAIN_ID)"),
        "{message}"
    );
    assert_eq!(board.contract().nextJobId().call().await?, U256::from(1), "something was posted");

    // A node refusing the chain id a transaction was signed for: anvil's answer is recognised.
    let wallet = EthereumWallet::from(board.anvil.keys[3].clone());
    let provider = ProviderBuilder::new().wallet(wallet).connect_http(board.anvil.endpoint.clone());
    let foreign = TransactionRequest::default()
        .with_to(board.anvil.address(2))
        .with_chain_id(1)
        .with_nonce(0)
        .with_gas_limit(21_000)
        .with_max_fee_per_gas(10_000_000_000)
        .with_max_priority_fee_per_gas(1);
    let refused =
        provider.send_transaction(foreign).await.err().context("anvil took a chain-1 transaction")?;
    assert_eq!(NodeRefusal::of(&refused), Some(NodeRefusal::WrongChainId), "{refused}");
    Ok(())
}

/// A JSON-RPC proxy in front of anvil whose view of account nonces lags: it answers
/// `eth_getTransactionCount` at the block tag it is set to, whatever the client asked, as a
/// load-balanced provider does when the request lands on a node that has not seen the latest
/// transactions. Everything else, and every answer, is anvil's own.
struct LaggingNode {
    url: url::Url,
    tag: Arc<Mutex<String>>,
    server: tokio::task::JoinHandle<()>,
}

impl LaggingNode {
    async fn start(upstream: url::Url) -> Result<LaggingNode> {
        let tag = Arc::new(Mutex::new("latest".to_owned()));
        let state = (upstream, tag.clone(), reqwest::Client::new());
        let app = axum::Router::new().route("/", axum::routing::post(forward)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = url::Url::parse(&format!("http://{}", listener.local_addr()?))?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(LaggingNode { url, tag, server })
    }

    fn answer_nonces_at(&self, tag: &str) {
        *self.tag.lock().unwrap_or_else(PoisonError::into_inner) = tag.to_owned();
    }
}

impl Drop for LaggingNode {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type ProxyState = (url::Url, Arc<Mutex<String>>, reqwest::Client);

async fn forward(State((upstream, tag, client)): State<ProxyState>, body: Bytes) -> axum::response::Response {
    let mut request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let tag = tag.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let calls: Vec<&mut Value> = match &mut request {
        Value::Array(calls) => calls.iter_mut().collect(),
        call => vec![call],
    };
    for call in calls {
        if call["method"] == "eth_getTransactionCount"
            && let Some(params) = call["params"].as_array_mut()
        {
            params.truncate(1);
            params.push(json!(tag));
        }
    }
    let answer = client.post(upstream).json(&request).send().await;
    match answer {
        Ok(answer) => {
            let bytes = answer.bytes().await.unwrap_or_default();
            axum::response::Response::builder()
                .header("content-type", "application/json")
                .body(axum::body::Body::from(bytes))
                .unwrap_or_default()
        }
        Err(_) => axum::response::Response::builder()
            .status(502)
            .body(axum::body::Body::empty())
            .unwrap_or_default(),
    }
}

/// Waits until the receipt beside `document` names a transaction (the CLI has sent it).
fn wait_for_sent_receipt(path: &Path, child: &mut std::process::Child) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(receipt) = serde_json::from_str::<Value>(&text)
            && receipt.get("txHash").is_some()
        {
            return Ok(receipt);
        }
        if let Some(status) = child.try_wait()? {
            bail!("the submitting CLI exited ({status}) before sending");
        }
        if Instant::now() > deadline {
            bail!("no receipt with a transaction hash at {} within 60 s", path.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_transaction_keeps_its_salt_and_blocks_the_next_one_with_a_message() -> Result<()> {
    let board = Board::start()?;
    board.json(1, &["job", "post", "--title", "Rust Engineer"])?;
    // From here on blocks are mined only when the test says so.
    let _: Value = board.provider.raw_request("evm_setAutomine".into(), (false,)).await?;

    // The applicant submits; the CLI sends and waits for mining, and is killed while waiting.
    let dir = tempfile::tempdir()?;
    let document = dir.path().join("cv.pdf");
    std::fs::write(&document, b"%PDF my cv")?;
    let applicant = board.anvil.address(2);
    let mut submitting = board
        .command()
        .env("JOBBOARD_PRIVATE_KEY", key_hex(&board.anvil.keys[2]))
        .args(["application", "submit", "--job", "1", "--document", path_arg(&document)?])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let receipt_path: PathBuf = dir.path().join("cv.pdf.jobboard.json");
    let receipt = wait_for_sent_receipt(&receipt_path, &mut submitting)?;
    submitting.kill()?;
    submitting.wait()?;
    let mode = std::fs::metadata(&receipt_path)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the receipt must be private");
    assert_eq!(receipt["status"], json!("pending"));
    assert_eq!(
        receipt["applicant"].as_str().map(str::to_lowercase),
        Some(applicant.to_string().to_lowercase())
    );
    let salt: B256 = receipt["salt"].as_str().context("the pending receipt holds the salt")?.parse()?;
    ensure!(salt != B256::ZERO);
    let tx: B256 = receipt["txHash"].as_str().context("txHash")?.parse()?;
    ensure!(board.provider.get_transaction_receipt(tx).await?.is_none(), "mined although automine is off");

    // The same account sends again through a node that has not seen its pending transaction:
    // the node refuses the reused nonce, and the message says why.
    let lagging = LaggingNode::start(board.anvil.endpoint.clone()).await?;
    let again = |title: &str| -> Result<Run> {
        let output = board
            .command()
            .env("JOBBOARD_RPC_URL", lagging.url.as_str())
            .env("JOBBOARD_PRIVATE_KEY", key_hex(&board.anvil.keys[2]))
            .args(["job", "post", "--title", title])
            .output()?;
        Ok(Run { output })
    };
    let underpriced = again("Second job")?.failure(1)?;
    eprintln!("--- replacement underpriced:\n{underpriced}");
    for needle in [
        "postJob refused (replacement transaction underpriced",
        &format!("another transaction from {applicant} on chain 31337 is pending with the same nonce"),
        "Wait until it is mined",
    ] {
        ensure!(underpriced.contains(needle), "{needle:?} not in:\n{underpriced}");
    }

    // Mined now; a node still a block behind hands out the used nonce: "nonce too low".
    let before: u64 = board.provider.get_block_number().await?;
    let _: Value = board.provider.raw_request("evm_mine".into(), ()).await?;
    lagging.answer_nonces_at(&format!("{before:#x}"));
    let too_low = again("Third job")?.failure(1)?;
    eprintln!("--- nonce too low:\n{too_low}");
    ensure!(
        too_low.contains("postJob refused (nonce too low)")
            && too_low.contains(&format!(
                "another transaction from {applicant} on chain 31337 took the same nonce"
            )),
        "{too_low}"
    );

    // The killed CLI's application exists now, and its pending receipt verifies it.
    let mined = board.provider.get_transaction_receipt(tx).await?.context("the application was not mined")?;
    ensure!(mined.status(), "the application reverted");
    let verified = board
        .command()
        .args(["application", "verify", "--id", "1", "--json", "--document", path_arg(&document)?])
        .output()?;
    let verified = Run { output: verified }.json()?;
    assert_eq!(verified["verified"], json!(true), "{verified}");
    assert_eq!(verified["saltFrom"], json!(receipt_path.to_str()));
    Ok(())
}
