//! One API over two chains: lookups by `chainId` (the same job id on both), lists merged across
//! chains in "time (or the ordering's value), then chain id" order and paged both ways against
//! a model built from each chain's own list, subscriptions by chain, and `X-Min-Block` naming
//! its chain.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use jobboard::store::board_statuses;
use serde_json::{Value, json};

use crate::support::db::test_database;
use crate::support::harness::JobboardProcess;
use crate::support::scenario::{Scenario, TestChain, board_entry};
use crate::support::serve::{ServeProcess, first_code, wait_for_subscribers};
use crate::support::ws::WsClient;

const CHAINS: [u64; 2] = [31337, 31338];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_api_serves_two_chains_by_chain_id_and_merged() -> Result<()> {
    let mut chains = Vec::new();
    let mut scenarios = Vec::new();
    for (n, chain_id) in CHAINS.iter().enumerate() {
        let chain = TestChain::start_with(&["--chain-id", &chain_id.to_string()]).await?;
        let mut scenario = Scenario::new(&chain, 700 + n as u64);
        scenario.run(&chain, 60).await?;
        chains.push(chain);
        scenarios.push(scenario);
    }
    ensure!(chains[0].board == chains[1].board, "the test deploys the board at one address on both chains");
    let dir = tempfile::tempdir()?;
    let mut text = String::new();
    for (name, chain) in ["alpha", "beta"].iter().zip(&chains) {
        text.push_str(&board_entry(name, chain));
    }
    let file = dir.path().join("boards.toml");
    std::fs::write(&file, text)?;
    let db = test_database().await?;
    let _index = JobboardProcess::run(&[
        "index",
        "--config",
        file.to_str().context("utf-8 path")?,
        "--database-url",
        &db.url,
    ])?;
    // Without --chain-id, `serve` serves the contract on every chain it is indexed on when it
    // starts: both, once the indexer has registered them.
    let heads = [chains[0].head().await?, chains[1].head().await?];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let statuses = board_statuses(&db.pool).await?;
        let registered =
            CHAINS.iter().all(|c| statuses.iter().any(|s| s.board.chain_id == *c && s.indexed.is_some()));
        if registered {
            break;
        }
        ensure!(Instant::now() < deadline, "the boards were never registered: {statuses:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let serve = ServeProcess::start(&db.url, chains[0].board, &[]).await?;
    serve.wait_for("/readyz", 200, Duration::from_secs(30)).await?;
    for (chain_id, head) in CHAINS.iter().zip(heads) {
        let answer = serve
            .post_chain_at(json!({ "query": "{ _meta { chainId } }" }).to_string(), *chain_id, head)
            .await?;
        ensure!(answer.0 == 200 && answer.1["data"]["_meta"]["chainId"].is_string(), "{answer:?}");
    }

    // Lookups: the same id on both chains, each read from its own chain.
    let missing = serve.query(r#"{ job(id: "1") { id } }"#).await?;
    ensure!(first_code(&missing) == Some("BAD_USER_INPUT"), "{missing}");
    ensure!(missing.to_string().contains("chainId"), "the error says what to pass: {missing}");
    let unknown = serve.query(r#"{ jobs(chainId: "99") { totalCount } }"#).await?;
    ensure!(first_code(&unknown) == Some("BAD_USER_INPUT"), "{unknown}");
    for (chain_id, scenario) in CHAINS.iter().zip(&scenarios) {
        let job = scenario.model.jobs.get(&1).context("job 1 in the model")?;
        let answer = serve
            .query(&format!(
                r#"{{ job(chainId: "{chain_id}", id: "1") {{ nodeId chainId title employer {{ chainId jobCount }} }}
                     _meta(chainId: "{chain_id}") {{ chainId }} }}"#
            ))
            .await?;
        let found = &answer["data"]["job"];
        ensure!(found["nodeId"] == format!("Job:{chain_id}:1"), "{answer}");
        ensure!(found["chainId"] == decimal(*chain_id), "{answer}");
        ensure!(found["employer"]["chainId"] == decimal(*chain_id), "{answer}");
        ensure!(found["title"] == String::from_utf8_lossy(&job.posting.title).as_ref(), "{answer}");
        ensure!(answer["data"]["_meta"]["chainId"] == decimal(*chain_id), "{answer}");
    }

    // Lists: each ordering merged across the chains equals the model merge of each chain's own
    // list, paged forward and backward.
    let job_fields = "id chainId postedAt salaryMax deadlineUnix applicationCount";
    for (order, key) in [
        ("NEWEST", Key::Time("postedAt", true)),
        ("OLDEST", Key::Time("postedAt", false)),
        ("SALARY_HIGH_TO_LOW", Key::Number("salaryMax", "-1", true)),
        ("DEADLINE_SOONEST", Key::Number("deadlineUnix", "18446744073709551616", false)),
        ("MOST_APPLICATIONS", Key::Number("applicationCount", "0", true)),
    ] {
        let list = format!("jobs(orderBy: {order}, %ARGS%)");
        check_merged(&serve, &list, job_fields, &key).await.with_context(|| format!("jobs by {order}"))?;
    }
    for (order, key) in [
        ("NEWEST", Key::Time("submittedAt", true)),
        ("OLDEST", Key::Time("submittedAt", false)),
        ("RECENTLY_UPDATED", Key::Time("updatedAt", true)),
    ] {
        let list = format!("applications(orderBy: {order}, %ARGS%)");
        let fields = "id chainId submittedAt updatedAt job { chainId }";
        check_merged(&serve, &list, fields, &key)
            .await
            .with_context(|| format!("applications by {order}"))?;
    }
    let fields = "jobId logIndex chainId timestamp blockNumber";
    check_merged(&serve, "activity(%ARGS%)", fields, &Key::Time("timestamp", true))
        .await
        .context("activity")?;

    // Subscriptions: one chain's, and every chain's.
    // Two connections: a client reading one subscription's messages drops the other's.
    let mut ws = WsClient::connect(serve.addr).await?;
    ws.subscribe("beta", r#"subscription { activity(chainId: "31338") { kind chainId jobId } }"#).await?;
    let mut every = WsClient::connect(serve.addr).await?;
    every.subscribe("all", "subscription { activity { kind chainId jobId } }").await?;
    wait_for_subscribers(serve.addr, 2).await?;
    let alpha_job = scenarios[0].post_job(&chains[0]).await?;
    let beta_job = scenarios[1].post_job(&chains[1]).await?;
    let beta_block = chains[1].head().await?;
    let first = ws.next_event("beta").await?;
    ensure!(
        first["activity"]["chainId"] == "31338" && first["activity"]["jobId"] == decimal(beta_job),
        "the chain's subscription gets its chain's event only: {first}"
    );
    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = every.next_event("all").await?;
        seen.push((event["activity"]["chainId"].clone(), event["activity"]["jobId"].clone()));
    }
    seen.sort_by_key(|(chain, _)| chain.to_string());
    ensure!(
        seen == [
            (json!("31337"), json!(alpha_job.to_string())),
            (json!("31338"), json!(beta_job.to_string()))
        ],
        "every chain's subscription gets both: {seen:?}"
    );

    // X-Min-Block names its chain.
    let query = format!(r#"{{ job(chainId: "31338", id: "{beta_job}") {{ nodeId }} }}"#);
    let (status, answer) =
        serve.post_chain_at(json!({ "query": query }).to_string(), 31338, beta_block).await?;
    ensure!(status == 200 && answer["data"]["job"]["nodeId"] == format!("Job:31338:{beta_job}"), "{answer}");
    let (status, answer) = serve.post_chain_at(json!({ "query": query }).to_string(), 5, 1).await?;
    ensure!(status == 400 && answer.to_string().contains("31337, 31338"), "{status} {answer}");
    Ok(())
}

/// A number as the API writes `BigInt` and `ID`: a decimal string.
fn decimal(n: u64) -> Value {
    Value::String(n.to_string())
}

/// What a merged list is ordered by, read from its nodes: a time field, or a number field with
/// the value SQL puts in for null; and whether high to low.
enum Key {
    Time(&'static str, bool),
    Number(&'static str, &'static str, bool),
}

impl Key {
    fn compare(&self, a: &Value, b: &Value) -> Ordering {
        let (ordering, descending) = match self {
            Key::Time(field, descending) => {
                let time =
                    |v: &Value| v[*field].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                (time(a).cmp(&time(b)), *descending)
            }
            Key::Number(field, null, descending) => {
                let number = |v: &Value| {
                    let text = match &v[*field] {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => (*null).to_owned(),
                    };
                    text.parse::<i128>().unwrap_or(i128::MAX)
                };
                (number(a).cmp(&number(b)), *descending)
            }
        };
        if descending { ordering.reverse() } else { ordering }
    }
}

fn label(node: &Value) -> String {
    let id = if node["id"].is_null() {
        format!("{}/{}/{}", node["blockNumber"], node["logIndex"], node["jobId"])
    } else {
        node["id"].to_string()
    };
    format!("{}:{id}", node["chainId"])
}

/// Checks `list` (with `%ARGS%` where the page arguments go) merged across both chains against
/// the stable merge of each chain's own list, paging forward and backward.
async fn check_merged(serve: &ServeProcess, list: &str, fields: &str, key: &Key) -> Result<()> {
    let field = list.split('(').next().context("list name")?;
    let page = |args: String| list.replace("%ARGS%", &args);
    // Each chain's own list, in its own order.
    let mut expected: Vec<(Value, u64, usize)> = Vec::new();
    let mut total = 0;
    for chain_id in CHAINS {
        let query = format!(
            "{{ {} {{ nodes {{ {fields} }} }} }}",
            page(format!("chainId: \"{chain_id}\", first: 1000"))
        );
        let answer = serve.query(&query).await?;
        let nodes = answer["data"][field]["nodes"].as_array().with_context(|| format!("{answer}"))?;
        ensure!(!nodes.is_empty(), "chain {chain_id} has rows: {answer}");
        total += nodes.len();
        expected.extend(nodes.iter().cloned().enumerate().map(|(rank, node)| (node, chain_id, rank)));
    }
    expected.sort_by(|(a, a_chain, a_rank), (b, b_chain, b_rank)| {
        key.compare(a, b).then(a_chain.cmp(b_chain)).then(a_rank.cmp(b_rank))
    });
    let expected: Vec<String> = expected.iter().map(|(node, _, _)| label(node)).collect();
    ensure!(expected.len() == total);

    // Forward, 7 at a time.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let cursor = after.as_ref().map(|c| format!(", after: \"{c}\"")).unwrap_or_default();
        let query = format!(
            "{{ {} {{ totalCount nodes {{ {fields} }} pageInfo {{ hasNextPage endCursor }} }} }}",
            page(format!("first: 7{cursor}"))
        );
        let answer = serve.query(&query).await?;
        let connection = &answer["data"][field];
        let nodes = connection["nodes"].as_array().with_context(|| format!("{answer}"))?;
        if field != "activity" {
            ensure!(connection["totalCount"] == total, "totalCount sums the chains: {answer}");
        }
        if field == "applications" {
            ensure!(
                nodes.iter().all(|n| n["job"]["chainId"] == n["chainId"]),
                "each job from its chain: {answer}"
            );
        }
        seen.extend(nodes.iter().map(label));
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        if Instant::now() > deadline {
            bail!("paging never ended");
        }
    }
    ensure!(seen == expected, "forward:\n{seen:?}\nexpected:\n{expected:?}");
    if field == "activity" {
        return Ok(()); // the feed pages forward only
    }

    // Backward from the end, 6 at a time.
    let mut seen: Vec<String> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let cursor = before.as_ref().map(|c| format!(", before: \"{c}\"")).unwrap_or_default();
        let query = format!(
            "{{ {} {{ nodes {{ {fields} }} pageInfo {{ hasPreviousPage startCursor }} }} }}",
            page(format!("last: 6{cursor}"))
        );
        let answer = serve.query(&query).await?;
        let connection = &answer["data"][field];
        let nodes = connection["nodes"].as_array().with_context(|| format!("{answer}"))?;
        let mut page: Vec<String> = nodes.iter().map(label).collect();
        page.extend(seen);
        seen = page;
        if connection["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = connection["pageInfo"]["startCursor"].as_str().map(str::to_owned);
        if Instant::now() > deadline {
            bail!("paging never ended");
        }
    }
    ensure!(seen == expected, "backward:\n{seen:?}\nexpected:\n{expected:?}");
    Ok(())
}

/// `serve` started before any indexer (as an API Deployment and an indexer Deployment start
/// together) serves each chain as it is registered, without a restart: the first when an
/// indexer registers it, a second when another indexer registers it later. A list answered
/// (and cached) over one chain is answered over both once the second is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_adds_a_chain_registered_after_it_started() -> Result<()> {
    let mut chains = Vec::new();
    let mut scenarios = Vec::new();
    for (n, chain_id) in CHAINS.iter().enumerate() {
        let chain = TestChain::start_with(&["--chain-id", &chain_id.to_string()]).await?;
        let mut scenario = Scenario::new(&chain, 900 + n as u64);
        scenario.run(&chain, 15).await?;
        chains.push(chain);
        scenarios.push(scenario);
    }
    let db = test_database().await?;
    let serve = ServeProcess::start(&db.url, chains[0].board, &[]).await?;
    let (status, _) = serve.get("/readyz").await?;
    ensure!(status == 503, "ready before any board was registered: {status}");

    // One indexer per chain, each with its own boards file: the second starts later.
    let dir = tempfile::tempdir()?;
    let mut indexers = Vec::new();
    let mut index = |name: &str, chain: &TestChain| -> Result<()> {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, board_entry(name, chain))?;
        let path = file.to_str().context("utf-8 path")?.to_owned();
        indexers.push(JobboardProcess::run(&["index", "--config", &path, "--database-url", &db.url])?);
        Ok(())
    };
    index("alpha", &chains[0])?;
    serve.wait_for("/readyz", 200, Duration::from_secs(60)).await?;
    let alpha_head = chains[0].head().await?;
    let every_job = "{ jobs(first: 1000) { nodes { nodeId } } }";
    let (status, answer) = serve.post_at(json!({ "query": every_job }).to_string(), Some(alpha_head)).await?;
    ensure!(status == 200, "{answer}");
    let alpha_jobs = node_ids(&answer)?;
    ensure!(alpha_jobs.len() == scenarios[0].model.jobs.len(), "alpha's jobs: {answer}");
    // Asked twice: the second answer comes from the result cache.
    ensure!(serve.query(every_job).await? == answer, "a repeat answers the same");
    let one = serve.query(r#"{ job(id: "1") { nodeId } }"#).await?;
    ensure!(one["data"]["job"]["nodeId"] == "Job:31337:1", "one chain served, no chainId needed: {one}");

    index("beta", &chains[1])?;
    let beta_head = chains[1].head().await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let meta = serve.query("{ _meta { boards { chainId served } } }").await?;
        let served = meta["data"]["_meta"]["boards"]
            .as_array()
            .is_some_and(|boards| boards.iter().filter(|b| b["served"] == true).count() == 2);
        if served {
            break;
        }
        ensure!(Instant::now() < deadline, "the second chain was never served: {meta}\n{}", serve.stderr());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let query = r#"{ job(chainId: "31338", id: "1") { nodeId } }"#;
    let (status, answer) =
        serve.post_chain_at(json!({ "query": query }).to_string(), 31338, beta_head).await?;
    ensure!(status == 200 && answer["data"]["job"]["nodeId"] == "Job:31338:1", "{status} {answer}");
    let both = node_ids(&serve.query(every_job).await?)?;
    let beta_jobs = both.iter().filter(|id| id.starts_with("Job:31338:")).count();
    ensure!(
        both.len() == alpha_jobs.len() + scenarios[1].model.jobs.len()
            && beta_jobs == scenarios[1].model.jobs.len(),
        "the list cached over alpha now holds both chains' jobs: {both:?}"
    );
    let one = serve.query(r#"{ job(id: "1") { nodeId } }"#).await?;
    ensure!(first_code(&one) == Some("BAD_USER_INPUT"), "two chains served, a lookup names its chain: {one}");
    Ok(())
}

fn node_ids(answer: &Value) -> Result<Vec<String>> {
    let nodes = answer["data"]["jobs"]["nodes"].as_array().with_context(|| format!("no jobs in {answer}"))?;
    Ok(nodes.iter().filter_map(|node| node["nodeId"].as_str().map(str::to_owned)).collect())
}
