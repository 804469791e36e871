//! The README cannot rot: its GraphQL examples, its marked shell blocks and its JavaScript
//! application-hash snippet are extracted and run, and every command-line flag must be in it.
//!
//! Conventions in README.md: every ```graphql block runs against a fresh `jobboard dev` demo
//! (queries over HTTP, subscriptions over WebSocket); a ```sh block preceded by
//! `<!-- readme-test: run -->` runs in bash against the same demo, with the README's default
//! addresses (127.0.0.1:8545, :8000) pointed at the test's ports; the ```js block preceded by
//! `<!-- readme-test: application-hash -->` must reproduce the committed hash vectors.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use clap::CommandFactory;
use serde_json::Value;

use crate::support::dev::{DevPorts, DevProcess, jobboard_binary};
use crate::support::harness::repo_root;
use crate::support::ws::WsClient;

/// A fenced block of the README.
#[derive(Debug)]
struct Block {
    /// The info string (`graphql`, `sh`, `js`, ...).
    language: String,
    /// The `readme-test:` marker on the line before the fence, if any.
    marker: Option<String>,
    /// The block's text.
    code: String,
    /// 1-based line of the opening fence, for messages.
    line: usize,
}

fn readme() -> Result<String> {
    std::fs::read_to_string(repo_root().join("README.md")).context("reading README.md")
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    let mut previous = "";
    while let Some((number, line)) = lines.next() {
        if let Some(language) = line.strip_prefix("```") {
            let marker = previous
                .trim()
                .strip_prefix("<!-- readme-test:")
                .and_then(|rest| rest.strip_suffix("-->"))
                .map(|m| m.trim().to_owned());
            let mut code = String::new();
            for (_, inner) in lines.by_ref() {
                if inner.starts_with("```") {
                    break;
                }
                code.push_str(inner);
                code.push('\n');
            }
            blocks.push(Block { language: language.trim().to_owned(), marker, code, line: number + 1 });
            previous = "";
        } else if !line.trim().is_empty() {
            previous = line;
        }
    }
    blocks
}

#[tokio::test]
async fn readme_graphql_and_shell_examples_run_against_the_demo() -> Result<()> {
    let text = readme()?;
    let blocks = blocks(&text);
    let temp = crate::support::dev::TempDevDir::new()?;
    let ports = DevPorts::free()?;
    let dev = DevProcess::start(&temp.path().join("dev"), ports, &[])?;

    // Queries: each answers without errors, and every top-level field has data.
    let queries: Vec<&Block> = blocks
        .iter()
        .filter(|b| b.language == "graphql" && !b.code.trim_start().starts_with("subscription"))
        .collect();
    ensure!(queries.len() >= 5, "expected at least 5 GraphQL query examples, found {}", queries.len());
    for block in &queries {
        let data = dev.query(&block.code).await.with_context(|| format!("README.md line {}", block.line))?;
        let fields = data.as_object().context("data is an object")?;
        for (name, value) in fields {
            ensure!(!value.is_null(), "README.md line {}: {name} is null", block.line);
        }
        ensure!(data.to_string().len() > 40, "README.md line {}: almost no data: {data}", block.line);
    }

    // Subscriptions: subscribe first, then the shell walk-through posts and applies.
    let subscriptions: Vec<&Block> = blocks
        .iter()
        .filter(|b| b.language == "graphql" && b.code.trim_start().starts_with("subscription"))
        .collect();
    ensure!(!subscriptions.is_empty(), "the README lost its subscription example");
    let api_addr: std::net::SocketAddr = format!("127.0.0.1:{}", ports.api).parse()?;
    let mut ws = WsClient::connect(api_addr).await?;
    for (n, block) in subscriptions.iter().enumerate() {
        ws.subscribe(&format!("s{n}"), &block.code).await?;
    }
    // The server has registered the subscriptions before anything happens on the chain.
    let registered = u64::try_from(subscriptions.len())?;
    crate::support::serve::wait_for_subscribers(api_addr, registered).await?;

    let shell: Vec<&Block> = blocks.iter().filter(|b| b.marker.as_deref() == Some("run")).collect();
    ensure!(shell.len() >= 2, "expected the curl and walk-through blocks, found {}", shell.len());
    let workdir = tempfile::tempdir()?;
    let bin_dir = jobboard_binary().parent().context("binary dir")?.to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let api_base = format!("http://127.0.0.1:{}", ports.api);
    for block in &shell {
        ensure!(block.language == "sh", "README.md line {}: a run block must be sh", block.line);
        let script =
            block.code.replace("http://127.0.0.1:8545", &dev.rpc).replace("http://127.0.0.1:8000", &api_base);
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(workdir.path())
            .env("PATH", &path)
            .env_remove("JOBBOARD_PRIVATE_KEY")
            .env_remove("JOBBOARD_CONTRACT")
            .env_remove("JOBBOARD_RPC_URL")
            .output()?;
        ensure!(
            output.status.success(),
            "README.md line {} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            block.line,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    // The walk-through's effects, as a frontend sees them once indexed.
    let mut state = Value::Null;
    for _ in 0..100 {
        state = dev
            .query(r#"{ job(id: "31") { title status salaryMax applications { nodes { id status } } } }"#)
            .await?;
        if state.pointer("/job/status") == Some(&Value::from("CLOSED")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state.pointer("/job/title"), Some(&Value::from("Protocol Engineer")), "{state}");
    assert_eq!(state.pointer("/job/status"), Some(&Value::from("CLOSED")), "{state}");
    assert_eq!(state.pointer("/job/salaryMax"), Some(&Value::from("200000")), "{state}");
    assert_eq!(
        state.pointer("/job/applications/nodes"),
        Some(&serde_json::json!([{ "id": "82", "status": "SHORTLISTED" }])),
        "{state}"
    );
    assert!(workdir.path().join("cv.md.jobboard.json").is_file(), "the salt receipt was not written");

    // The subscription saw the new job and the application, in chain order.
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let event = ws.next_event("s0").await?;
        kinds.push((
            event.pointer("/activity/kind").and_then(Value::as_str).unwrap_or_default().to_owned(),
            event.pointer("/activity/jobId").and_then(Value::as_str).unwrap_or_default().to_owned(),
        ));
    }
    assert_eq!(
        kinds,
        [("JOB_POSTED".to_owned(), "31".to_owned()), ("APPLICATION_SUBMITTED".to_owned(), "31".to_owned())]
    );
    dev.interrupt()
}

#[test]
fn readme_application_hash_snippet_matches_the_vectors() -> Result<()> {
    let text = readme()?;
    let snippet = blocks(&text)
        .into_iter()
        .find(|b| b.marker.as_deref() == Some("application-hash"))
        .context("the README lost its application-hash snippet")?;
    ensure!(snippet.language == "js", "the application-hash block must be js");
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(
        repo_root().join("contracts/test/vectors/application-hash.json"),
    )?)?;
    let vectors = vectors["vectors"].as_array().context("vectors")?.clone();
    ensure!(vectors.len() >= 3);

    // Under the repository root, so `import "viem"` resolves to the pinned node_modules.
    let dir = tempfile::Builder::new().prefix(".readme-snippet").tempdir_in(repo_root())?;
    let script = dir.path().join("check.mjs");
    let mut program = snippet.code.clone();
    program.push_str("\nimport { hexToBytes } from \"viem\";\n");
    program.push_str(&format!("const vectors = {};\n", Value::Array(vectors.clone())));
    program.push_str(
        "for (const v of vectors) console.log(applicationHash({ ...v, document: hexToBytes(v.document.startsWith('0x') ? v.document : '0x' + v.document) }));\n",
    );
    program.push_str("if (newSalt().length !== 66) throw new Error('newSalt is not 32 bytes');\n");
    std::fs::write(&script, program)?;
    let output = Command::new("node").arg(&script).output().context("running node")?;
    ensure!(output.status.success(), "node failed: {}", String::from_utf8_lossy(&output.stderr));
    let got: Vec<String> = String::from_utf8(output.stdout)?.lines().map(str::to_owned).collect();
    let expected: Vec<String> =
        vectors.iter().map(|v| v["applicationHash"].as_str().unwrap_or_default().to_lowercase()).collect();
    assert_eq!(got, expected);
    Ok(())
}

/// Every subcommand's path and its long flags.
fn flags(command: &clap::Command, path: &str, out: &mut BTreeSet<(String, String)>) {
    for arg in command.get_arguments() {
        if let Some(long) = arg.get_long()
            && long != "help"
            && long != "version"
        {
            out.insert((path.to_owned(), format!("--{long}")));
        }
    }
    for sub in command.get_subcommands() {
        flags(sub, &format!("{path} {}", sub.get_name()), out);
    }
}

#[test]
fn readme_documents_every_command_and_flag() -> Result<()> {
    let text = readme()?;
    let mut all = BTreeSet::new();
    flags(&jobboard::cli::Cli::command(), "jobboard", &mut all);
    let missing: Vec<String> = all
        .iter()
        .filter(|(_, flag)| !text.contains(&format!("`{flag}")) && !text.contains(&format!(" {flag} ")))
        .map(|(path, flag)| format!("{path} {flag}"))
        .collect();
    assert!(missing.is_empty(), "flags missing from README.md: {missing:#?}");
    for sub in jobboard::cli::Cli::command().get_subcommands() {
        let name = format!("jobboard {}", sub.get_name());
        assert!(text.contains(&name), "README.md never mentions `{name}`");
    }
    Ok(())
}
