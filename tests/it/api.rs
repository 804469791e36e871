//! The GraphQL API against a real PostgreSQL filled by the real indexer from a real anvil:
//! answers checked against the transactions the test sent, pagination, bad input, the
//! statement count per page, X-Min-Block, and subscriptions over a real WebSocket.
//!
//! Over 600 lines because its cases share one fixture (a scenario indexed into a database, an
//! in-process router); each case is short.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use alloy::primitives::Address;
use anyhow::{Context, Result, bail, ensure};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use jobboard::api::{self, ApiConfig, ApiState};
use jobboard::contract::ApplicationStatus;
use jobboard::store::Reader;
use jobboard::telemetry::Metrics;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::indexer::{board_of, index_to_head, test_config};
use crate::support::db::{TestDatabase, test_database};
use crate::support::scenario::{Scenario, TestChain};
use crate::support::ws::WsClient;

/// A chain with a generated history, indexed, and an API over it.
struct Fixture {
    chain: TestChain,
    scenario: Scenario,
    db: TestDatabase,
    state: ApiState,
    cancel: CancellationToken,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn fixture(seed: u64, steps: usize, config: ApiConfig) -> Result<Fixture> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, seed);
    scenario.run(&chain, steps).await?;
    let db = test_database().await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    let options: PgConnectOptions = db.url.parse()?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.options([("statement_timeout", "5000")]))
        .await?;
    let cancel = CancellationToken::new();
    let state =
        ApiState::new(Reader::new(pool, board_of(&chain))?, config, Metrics::default(), cancel.clone());
    Ok(Fixture { chain, scenario, db, state, cancel })
}

impl Fixture {
    /// POSTs a body to /graphql in-process; returns the status and the JSON answer.
    async fn post_raw(&self, body: impl Into<Body>, min_block: Option<u64>) -> Result<(StatusCode, Value)> {
        self.post_with_min_block(body, min_block.map(|block| block.to_string())).await
    }

    /// POSTs a body with `X-Min-Block` set to `min_block` as given (any form, valid or not).
    async fn post_with_min_block(
        &self,
        body: impl Into<Body>,
        min_block: Option<String>,
    ) -> Result<(StatusCode, Value)> {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(value) = min_block {
            request = request.header("x-min-block", value);
        }
        let response = api::router(self.state.clone()).oneshot(request.body(body.into())?).await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await?;
        let value = serde_json::from_slice(&bytes)
            .with_context(|| format!("non-JSON answer: {}", String::from_utf8_lossy(&bytes)))?;
        Ok((status, value))
    }

    /// Runs a query that must succeed; returns its `data`.
    async fn query(&self, query: &str, variables: Value) -> Result<Value> {
        let (status, body) =
            self.post_raw(json!({ "query": query, "variables": variables }).to_string(), None).await?;
        ensure!(
            status == StatusCode::OK && body.get("errors").is_none(),
            "query failed ({status}): {body}\n{query}"
        );
        Ok(body["data"].clone())
    }

    /// Runs a query that must fail; returns its first error's code and message.
    async fn query_error(&self, query: &str, variables: Value) -> Result<(String, String)> {
        let (_, body) =
            self.post_raw(json!({ "query": query, "variables": variables }).to_string(), None).await?;
        error_of(&body)
    }

    async fn get(&self, path: &str) -> Result<(StatusCode, String)> {
        let response =
            api::router(self.state.clone()).oneshot(Request::get(path).body(Body::empty())?).await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await?;
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The statements this fixture's reader has run for requests, from `/metrics`.
    ///
    /// The difference around one request is that request's own count: nothing else metered
    /// runs meanwhile. The live hub's once-a-second status read and `/metrics`' own read are
    /// unmetered (`Reader::status_unmetered`), and the hub's catch-up reads run only as the
    /// index moves while someone subscribes, which never happens in a counting test.
    /// `jobboard_api_result_cache_requests_total` for `result` (hit, miss, bypass).
    async fn cache_requests(&self, result: &str) -> Result<u64> {
        let (_, text) = self.get("/metrics").await?;
        let prefix = format!("jobboard_api_result_cache_requests_total{{result=\"{result}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|n| n.trim().parse().ok())
            .with_context(|| format!("no {result} count of the result cache in /metrics"))
    }

    async fn sql_statements(&self) -> Result<u64> {
        let (_, text) = self.get("/metrics").await?;
        text.lines()
            .find_map(|l| l.strip_prefix("jobboard_api_sql_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .context("no statement counter in /metrics")
    }
}

fn error_of(body: &Value) -> Result<(String, String)> {
    let error = body["errors"].get(0).with_context(|| format!("expected an error, got {body}"))?;
    let code =
        error["extensions"]["code"].as_str().with_context(|| format!("error without a code: {body}"))?;
    Ok((code.to_owned(), error["message"].as_str().unwrap_or_default().to_owned()))
}

fn lower(address: Address) -> String {
    format!("{address:#x}")
}

fn status_name(status: ApplicationStatus) -> String {
    status.name().to_uppercase()
}

fn ids(nodes: &Value) -> Vec<u64> {
    nodes.as_array().into_iter().flatten().filter_map(|n| n["id"].as_str()?.parse().ok()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_and_filter_matches_the_sent_transactions() -> Result<()> {
    let f = fixture(61, 300, ApiConfig::default()).await?;
    let model = &f.scenario.model;
    ensure!(model.jobs.len() > 10 && model.applications.len() > 20, "the scenario is too small");

    // Every job, with its employer, counts and revisions.
    let data = f
        .query(
            "{ jobs(first: 1000, orderBy: OLDEST) { totalCount nodes { id title company status applicationCount \
               salaryMin salaryMax employer { address jobCount } revisions { title } } } }",
            json!({}),
        )
        .await?;
    let jobs = &data["jobs"];
    ensure!(
        jobs["totalCount"] == json!(model.jobs.len()),
        "totalCount {} != {}",
        jobs["totalCount"],
        model.jobs.len()
    );
    let live = |job: u64| {
        model
            .applications
            .values()
            .filter(|a| a.job_id == job && a.status != ApplicationStatus::Withdrawn)
            .count()
    };
    let nodes = jobs["nodes"].as_array().context("nodes")?;
    ensure!(
        ids(&jobs["nodes"]) == model.jobs.keys().copied().collect::<Vec<_>>(),
        "OLDEST order or set differs"
    );
    for (node, (id, job)) in nodes.iter().zip(&model.jobs) {
        let context = || format!("job {id}: {node}");
        ensure!(
            node["title"] == json!(String::from_utf8_lossy(&job.posting.title)),
            "title of {}",
            context()
        );
        ensure!(node["employer"]["address"] == json!(lower(job.employer)), "employer of {}", context());
        ensure!(
            node["status"] == json!(if job.closed { "CLOSED" } else { "OPEN" }),
            "status of {}",
            context()
        );
        ensure!(node["applicationCount"] == json!(live(*id)), "applicationCount of {}", context());
        ensure!(
            node["revisions"].as_array().map(Vec::len) == Some(job.revisions),
            "revisions of {}",
            context()
        );
        let salary = |v: u64| if job.posting.salary_max == 0 { Value::Null } else { json!(v.to_string()) };
        ensure!(node["salaryMax"] == salary(job.posting.salary_max), "salaryMax of {}", context());
        let employer_jobs = model.jobs.values().filter(|j| j.employer == job.employer).count();
        ensure!(node["employer"]["jobCount"] == json!(employer_jobs), "jobCount of {}", context());
    }

    // Every application with its history, through the applicant lists.
    let applicants: BTreeSet<Address> = model.applications.values().map(|a| a.applicant).collect();
    for applicant in applicants {
        let data = f
            .query(
                "query($a: Address!) { applicant(address: $a) { applicationCount totalApplicationCount \
                   applications(first: 1000, orderBy: OLDEST) { nodes { id status applicationHash job { id } \
                   history { status } } } } }",
                json!({ "a": format!("{applicant:#x}").to_uppercase().replace("0X", "0x") }),
            )
            .await?;
        let expected: Vec<(&u64, _)> =
            model.applications.iter().filter(|(_, a)| a.applicant == applicant).collect();
        let node = &data["applicant"];
        ensure!(node["totalApplicationCount"] == json!(expected.len()), "total of {applicant}: {node}");
        let live = expected.iter().filter(|(_, a)| a.status != ApplicationStatus::Withdrawn).count();
        ensure!(node["applicationCount"] == json!(live), "live count of {applicant}: {node}");
        let got = node["applications"]["nodes"].as_array().context("nodes")?;
        ensure!(got.len() == expected.len(), "applications of {applicant}");
        for (g, (id, a)) in got.iter().zip(&expected) {
            ensure!(g["id"] == json!(id.to_string()), "order of {applicant}'s applications");
            ensure!(g["status"] == json!(status_name(a.status)), "status of application {id}: {g}");
            ensure!(g["job"]["id"] == json!(a.job_id.to_string()), "job of application {id}");
            ensure!(g["applicationHash"] == json!(format!("{:#x}", a.hash)), "hash of application {id}");
            let history: Vec<String> = a.history.iter().map(|s| status_name(*s)).collect();
            let got_history: Vec<&str> =
                g["history"].as_array().into_iter().flatten().filter_map(|h| h["status"].as_str()).collect();
            ensure!(got_history == history, "history of application {id}: {got_history:?} != {history:?}");
        }
    }

    // Filters, each against the model.
    let closed = model.jobs.values().filter(|j| j.closed).count();
    let data = f.query("{ jobs(where: {status: CLOSED}) { totalCount } }", json!({})).await?;
    ensure!(data["jobs"]["totalCount"] == json!(closed), "closed jobs");
    let employer = model.jobs.values().next().context("a job")?.employer;
    let data = f
        .query(
            "query($e: Address!) { jobs(where: {employer: $e}, first: 1000) { nodes { id } } }",
            json!({"e": lower(employer)}),
        )
        .await?;
    let mut expected: Vec<u64> =
        model.jobs.iter().filter(|(_, j)| j.employer == employer).map(|(id, _)| *id).collect();
    expected.reverse();
    ensure!(ids(&data["jobs"]["nodes"]) == expected, "employer filter, newest first");
    let data = f
        .query(
            "{ jobs(where: {or: [{status: CLOSED}, {salaryMin_gte: \"100000\"}]}, first: 1000) { nodes { id } } }",
            json!({}),
        )
        .await?;
    let expected: BTreeSet<u64> = model
        .jobs
        .iter()
        .filter(|(_, j)| j.closed || (j.posting.salary_max != 0 && j.posting.salary_min >= 100_000))
        .map(|(id, _)| *id)
        .collect();
    ensure!(ids(&data["jobs"]["nodes"]).into_iter().collect::<BTreeSet<_>>() == expected, "or filter");
    let data = f
        .query("{ jobs(where: {tags_has: \" RUST \"}, first: 1000) { nodes { id tags } } }", json!({}))
        .await?;
    let expected =
        model.jobs.values().filter(|j| String::from_utf8_lossy(&j.posting.tags).contains("rust")).count();
    ensure!(data["jobs"]["nodes"].as_array().map(Vec::len) == Some(expected), "tags_has");
    let data = f
        .query(
            "{ applications(where: {status_in: [HIRED, REJECTED]}, first: 1000) { totalCount } }",
            json!({}),
        )
        .await?;
    let expected = model
        .applications
        .values()
        .filter(|a| matches!(a.status, ApplicationStatus::Hired | ApplicationStatus::Rejected))
        .count();
    ensure!(data["applications"]["totalCount"] == json!(expected), "status_in");

    // Orderings hold their promise.
    let data = f
        .query(
            "{ a: jobs(orderBy: MOST_APPLICATIONS, first: 1000) { nodes { applicationCount } } \
               s: jobs(orderBy: SALARY_HIGH_TO_LOW, first: 1000) { nodes { salaryMax } } \
               n: jobs(first: 1000) { nodes { id } } }",
            json!({}),
        )
        .await?;
    let counts: Vec<i64> = data["a"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["applicationCount"].as_i64())
        .collect();
    ensure!(counts.windows(2).all(|w| w[0] >= w[1]), "MOST_APPLICATIONS: {counts:?}");
    let salaries: Vec<i64> = data["s"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["salaryMax"].as_str().and_then(|s| s.parse().ok()).unwrap_or(-1))
        .collect();
    ensure!(salaries.windows(2).all(|w| w[0] >= w[1]), "SALARY_HIGH_TO_LOW: {salaries:?}");
    let newest = ids(&data["n"]["nodes"]);
    ensure!(newest.windows(2).all(|w| w[0] > w[1]) && newest.len() == model.jobs.len(), "NEWEST");

    // Full-text search finds postings by a word of the title.
    let data = f.query("{ jobs(search: \"auditor\", first: 1000) { nodes { title } } }", json!({})).await?;
    let expected = model.jobs.values().filter(|j| j.posting.title.starts_with(b"Solidity Auditor")).count();
    ensure!(
        expected > 0 && data["jobs"]["nodes"].as_array().map(Vec::len) == Some(expected),
        "search: {data}"
    );

    // Activity: every event, newest first, and by job.
    let data =
        f.query("{ activity(first: 1000) { nodes { kind blockNumber logIndex } } }", json!({})).await?;
    let nodes = data["activity"]["nodes"].as_array().context("activity")?;
    ensure!(
        nodes.len() == model.events.min(1000),
        "activity has {} events, sent {}",
        nodes.len(),
        model.events
    );
    let positions: Vec<(u64, i64)> = nodes
        .iter()
        .filter_map(|n| Some((n["blockNumber"].as_str()?.parse().ok()?, n["logIndex"].as_i64()?)))
        .collect();
    ensure!(positions.windows(2).all(|w| w[0] > w[1]), "activity is not newest first");

    // Activity by address: the events of the jobs it posted and of the applications it sent,
    // checked against a plain join over the tables; `or` lists and `totalCount` too.
    let addresses: BTreeSet<Address> = model
        .jobs
        .values()
        .map(|j| j.employer)
        .chain(model.applications.values().map(|a| a.applicant))
        .chain([Address::repeat_byte(0x99)])
        .collect();
    for address in addresses {
        let expected: Vec<(i64, i32)> = sqlx::query_as(
            "SELECT e.block_number, e.log_index FROM events e \
             LEFT JOIN jobs j ON j.job_id = e.job_id LEFT JOIN applications a ON a.application_id = e.application_id \
             WHERE j.employer = $1 OR a.applicant = $1 ORDER BY e.block_number DESC, e.log_index DESC",
        )
        .bind(address.to_vec())
        .fetch_all(&f.db.pool)
        .await?;
        let data = f
            .query(
                "query($a: Address!) { activity(where: { address: $a }, first: 1000) { totalCount \
                   nodes { blockNumber logIndex } } }",
                json!({ "a": lower(address) }),
            )
            .await?;
        let got: Vec<(i64, i32)> = data["activity"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| {
                Some((n["blockNumber"].as_str()?.parse().ok()?, i32::try_from(n["logIndex"].as_i64()?).ok()?))
            })
            .collect();
        ensure!(got == expected, "activity of {address}: {got:?} != {expected:?}");
        ensure!(data["activity"]["totalCount"] == json!(expected.len()), "totalCount of {address}: {data}");
    }
    let (first, second) = (model.jobs.keys().next().copied(), model.jobs.keys().nth(1).copied());
    let (Some(first), Some(second)) = (first, second) else {
        bail!("the scenario posted fewer than two jobs")
    };
    let expected: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE job_id IN ($1, $2)")
        .bind(i64::try_from(first)?)
        .bind(i64::try_from(second)?)
        .fetch_one(&f.db.pool)
        .await?;
    let data = f
        .query(
            "query($a: ID!, $b: ID!) { activity(where: { or: [{ jobId: $a }, { jobId: $b }] }) { totalCount } }",
            json!({ "a": first.to_string(), "b": second.to_string() }),
        )
        .await?;
    ensure!(data["activity"]["totalCount"] == json!(expected), "or: {data}, expected {expected}");

    // _meta names the indexed head.
    let data = f.query("{ _meta { chainId contract block { number } synced } }", json!({})).await?;
    let head = f.chain.head().await?;
    ensure!(data["_meta"]["block"]["number"] == json!(head.to_string()), "meta: {data}");
    ensure!(data["_meta"]["contract"] == json!(lower(f.chain.board)), "meta contract");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_walks_every_row_once_in_both_directions_while_rows_arrive() -> Result<()> {
    let mut f = fixture(62, 120, ApiConfig::default()).await?;
    let before: BTreeSet<u64> = f.scenario.model.jobs.keys().copied().collect();

    // Forward, oldest first, while new jobs are posted between pages: every job that existed
    // is seen once, and the new ones (appended at the end) too.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        if !seen.is_empty() && seen.len() < 40 {
            // New rows arrive mid-walk.
            let chain = &f.chain;
            f.scenario.post_job(chain).await?;
            index_to_head(chain, &f.db, test_config(chain)).await?;
        }
        let data = f
            .query(
                "query($after: String) { jobs(orderBy: OLDEST, first: 7, after: $after) { \
                   nodes { id } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after }),
            )
            .await?;
        seen.extend(ids(&data["jobs"]["nodes"]));
        let info = &data["jobs"]["pageInfo"];
        if info["hasNextPage"] != json!(true) {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    ensure!(unique.len() == seen.len(), "a row was repeated: {seen:?}");
    ensure!(before.is_subset(&unique), "rows were missed");
    ensure!(unique == f.scenario.model.jobs.keys().copied().collect(), "new rows were missed");

    // Backward with last/before over applications, newest first: the same set as one page.
    let all = f.query("{ applications(first: 1000) { nodes { id } } }", json!({})).await?;
    let all = ids(&all["applications"]["nodes"]);
    let mut walked = Vec::new();
    let mut before_cursor: Option<String> = None;
    loop {
        let data = f
            .query(
                "query($b: String) { applications(last: 9, before: $b) { nodes { id } \
                   pageInfo { hasPreviousPage startCursor } } }",
                json!({ "b": before_cursor }),
            )
            .await?;
        let mut page = ids(&data["applications"]["nodes"]);
        page.extend(walked);
        walked = page;
        let info = &data["applications"]["pageInfo"];
        if info["hasPreviousPage"] != json!(true) {
            break;
        }
        before_cursor = info["startCursor"].as_str().map(str::to_owned);
    }
    ensure!(walked == all, "backward walk differs from the single page");

    // Cursors from another ordering are refused.
    let data = f.query("{ jobs(first: 1, orderBy: NEWEST) { pageInfo { endCursor } } }", json!({})).await?;
    let cursor = data["jobs"]["pageInfo"]["endCursor"].as_str().context("cursor")?.to_owned();
    let (code, _) = f
        .query_error(
            "query($c: String) { jobs(orderBy: OLDEST, after: $c) { nodes { id } } }",
            json!({"c": cursor}),
        )
        .await?;
    ensure!(code == "BAD_USER_INPUT", "foreign cursor: {code}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_the_server_stays_healthy() -> Result<()> {
    let f = fixture(63, 20, ApiConfig::default()).await?;
    let cases: [(&str, Value, &str, &str); 8] = [
        (
            "query($a: Address!) { employer(address: $a) { jobCount } }",
            json!({"a": "0x1234"}),
            "BAD_USER_INPUT",
            "40 hex",
        ),
        (
            "query($a: Address!) { employer(address: $a) { jobCount } }",
            json!({"a": "0xzz00000000000000000000000000000000000000"}),
            "BAD_USER_INPUT",
            "hex",
        ),
        ("{ job(id: \"abc\") { id } }", json!({}), "BAD_USER_INPUT", "decimal"),
        ("{ jobs(after: \"not-a-cursor\") { nodes { id } } }", json!({}), "BAD_USER_INPUT", "cursor"),
        ("{ jobs(first: 100000) { nodes { id } } }", json!({}), "BAD_USER_INPUT", "at most 1000"),
        (
            // The right list, a sort value that is no salary: refused, never cast in SQL.
            "query($c: String) { jobs(orderBy: SALARY_HIGH_TO_LOW, after: $c) { nodes { id } } }",
            json!({ "c": alloy::hex::encode("jobs:SalaryHighToLow|1|1e999; x") }),
            "BAD_USER_INPUT",
            "cursor",
        ),
        ("{ jobs { nodes { nonsense } } }", json!({}), "GRAPHQL_VALIDATION_FAILED", "nonsense"),
        ("{ jobs { nodes { id }", json!({}), "GRAPHQL_PARSE_FAILED", ""),
    ];
    for (query, variables, code, needle) in cases {
        let (got, message) = f.query_error(query, variables).await?;
        ensure!(got == code, "{query}: code {got}, expected {code} ({message})");
        ensure!(message.contains(needle), "{query}: message {message:?} lacks {needle:?}");
    }

    // 50 levels deep, in pages of one (cheap, so it is the depth that is refused).
    let deep = format!(
        "{{ jobs {{ nodes {{ {} }} }} }}",
        "employer { jobs(first: 1) { nodes { ".repeat(16) + "id" + &" } } }".repeat(16)
    );
    let (code, _) = f.query_error(&deep, json!({})).await?;
    ensure!(code == "QUERY_TOO_DEEP", "deep query: {code}");

    // A 10 MB body, invalid JSON, and a JSON body that is not a request.
    let (status, body) = f.post_raw(vec![b' '; 10 * 1024 * 1024], None).await?;
    ensure!(
        status == StatusCode::PAYLOAD_TOO_LARGE && error_of(&body)?.0 == "PAYLOAD_TOO_LARGE",
        "{status} {body}"
    );
    let (status, body) = f.post_raw("{\"query\": ", None).await?;
    ensure!(status == StatusCode::BAD_REQUEST && error_of(&body)?.0 == "BAD_REQUEST", "{status} {body}");
    let (status, body) = f.post_raw("[1, 2]", None).await?;
    ensure!(status == StatusCode::BAD_REQUEST, "{status} {body}");
    let (status, body) = f.post_raw("{\"query\": \"{ _meta { synced } }\"}", Some(u64::MAX)).await?;
    ensure!(status == StatusCode::OK && error_of(&body)?.0 == "NOT_YET_INDEXED", "{status} {body}");

    // Still healthy, and still answering.
    ensure!(f.get("/healthz").await?.0 == StatusCode::OK, "healthz");
    let data = f.query("{ jobs(first: 1) { totalCount } }", json!({})).await?;
    ensure!(data["jobs"]["totalCount"] == json!(f.scenario.model.jobs.len()), "answer after bad input");
    let (status, page) = f.get("/graphql").await?;
    ensure!(status == StatusCode::OK && page.contains("graphiql"), "GraphiQL page");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_costs_the_same_statements_whatever_its_size() -> Result<()> {
    // The loader gathers a level's keys for --batch-wait; under the default 2 ms, a test thread
    // stalled by the tests running beside this one split a level of 40 rows in every run once
    // (CI, {2: 8, 10: 8, 40: 10}). 100 ms leaves only real batching bugs to show.
    // The result cache would answer the repeated runs with no statement at all: off here, as
    // this counts what executing a request costs.
    let config =
        ApiConfig { batch_wait: Duration::from_millis(100), result_cache_bytes: 0, ..ApiConfig::default() };
    let f = fixture(64, 250, config).await?;
    let query = "query($n: Int) { jobs(first: $n) { totalCount nodes { id employer { address openJobCount } \
                   revisions { title } applications(first: 5) { totalCount nodes { id applicant { address } \
                   history { status } job { title } } } } } }";
    let mut costs = BTreeMap::new();
    // A split level only ever adds statements, so each size takes its cheapest of eight runs.
    for n in [2, 10, 40] {
        let mut cheapest = u64::MAX;
        for _ in 0..8 {
            let before = f.sql_statements().await?;
            let data = f.query(query, json!({ "n": n })).await?;
            let rows = data["jobs"]["nodes"].as_array().map(Vec::len).unwrap_or(0);
            ensure!(rows == n.min(f.scenario.model.jobs.len()), "page of {n} has {rows} rows");
            cheapest = cheapest.min(f.sql_statements().await? - before);
        }
        costs.insert(n, cheapest);
    }
    let distinct: BTreeSet<u64> = costs.values().copied().collect();
    ensure!(distinct.len() == 1, "statements per page size: {costs:?}");
    // jobs, count, job counts of the employers, revisions, the applications' pages, their
    // counts, histories, and their jobs: one each. Applicants' addresses need no read.
    ensure!(costs[&2] == 8, "a page costs {} statements, not 8", costs[&2]);

    // A job reached alone reads its children at once (no loader timer), and its one page of
    // applications with their jobs in its own statement: the job with the page, its revisions.
    // Exact on every run: nothing waits to batch.
    let job = f.scenario.model.jobs.keys().next().copied().context("a job")?;
    let query = "query($id: ID!, $n: Int) { job(id: $id) { title revisions { title } \
                 applications(first: $n) { nodes { id applicant { address } job { title } } } } }";
    for n in [1, 5, 50] {
        let before = f.sql_statements().await?;
        let data = f.query(query, json!({ "id": job.to_string(), "n": n })).await?;
        ensure!(data["job"]["title"].is_string(), "{data}");
        let cost = f.sql_statements().await? - before;
        ensure!(cost == 2, "job(id) with {n} applications cost {cost} statements, not 2");
    }

    // An applicant with a page of applications and their jobs: one statement.
    let applicant = f.scenario.model.applications.values().next().context("an application")?.applicant;
    let query = "query($a: Address!, $n: Int) { applicant(address: $a) { applicationCount \
                 applications(first: $n) { nodes { id job { title } } } } }";
    for n in [1, 5, 50] {
        let before = f.sql_statements().await?;
        let data = f.query(query, json!({ "a": format!("{applicant:#x}"), "n": n })).await?;
        let rows = data["applicant"]["applications"]["nodes"].as_array().map(Vec::len).unwrap_or(0);
        ensure!(rows >= 1, "{data}");
        let cost = f.sql_statements().await? - before;
        ensure!(cost == 1, "applicant with {n} applications cost {cost} statements, not 1");
    }
    Ok(())
}

/// The parent's read-ahead of its page of applications (one statement) answers exactly what
/// the field's own reads answer: the same query with the list under two aliases cannot be read
/// ahead, so it takes the plain path, and both must agree, in every order and across pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_ahead_pages_equal_the_plain_reads() -> Result<()> {
    let f = fixture(66, 120, ApiConfig::default()).await?;
    let busiest = |key: fn(&crate::support::scenario::ModelApplication) -> String| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for a in f.scenario.model.applications.values() {
            *counts.entry(key(a)).or_default() += 1;
        }
        counts.into_iter().max_by_key(|(_, n)| *n).map(|(k, _)| k).context("an application")
    };
    let job = busiest(|a| a.job_id.to_string())?;
    let applicant = busiest(|a| format!("{:#x}", a.applicant))?;
    let fields = "totalCount pageInfo { hasNextPage endCursor } \
                  edges { cursor node { id status updatedAt applicant { address } job { id title applicationCount } } }";
    for (parent, variables) in
        [("job(id: $p)", json!({ "p": job })), ("applicant(address: $p)", json!({ "p": applicant }))]
    {
        let kind = if parent.starts_with("job") { "ID!" } else { "Address!" };
        for order in ["NEWEST", "OLDEST", "RECENTLY_UPDATED"] {
            let mut after: Option<String> = None;
            let mut seen = 0;
            loop {
                let args = format!("first: 3, orderBy: {order}, after: $after");
                let ahead = format!(
                    "query($p: {kind}, $after: String) {{ {parent} {{ list: applications({args}) {{ {fields} }} }} }}"
                );
                let plain = format!(
                    "query($p: {kind}, $after: String) {{ {parent} {{ list: applications({args}) {{ {fields} }} \
                     other: applications({args}) {{ totalCount }} }} }}"
                );
                let mut vars = variables.clone();
                vars["after"] = json!(after);
                let root = parent.split('(').next().context("root field")?;
                let before = f.sql_statements().await?;
                let a = f.query(&ahead, vars.clone()).await?[root]["list"].clone();
                let cost = f.sql_statements().await? - before;
                // The parent with its page, and the page's count.
                let before = f.sql_statements().await?;
                let b = f.query(&plain, vars).await?[root]["list"].clone();
                let plain_cost = f.sql_statements().await? - before;
                ensure!(cost == 2, "{parent} {order}: the read-ahead query cost {cost} statements: {ahead}");
                ensure!(plain_cost > cost, "{parent} {order}: the plain query cost {plain_cost} statements");
                ensure!(a == b, "{parent} {order} after {after:?}: read ahead {a} but plain {b}");
                let edges = a["edges"].as_array().map(Vec::len).unwrap_or(0);
                ensure!(edges > 0 || seen > 0, "{parent} {order}: empty first page");
                seen += edges;
                if a["pageInfo"]["hasNextPage"] != json!(true) {
                    break;
                }
                after = a["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            }
            ensure!(seen >= 4, "{parent} {order}: only {seen} applications walked");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_min_block_waits_for_the_indexer_then_answers() -> Result<()> {
    let config = ApiConfig { min_block_wait: Duration::from_secs(10), ..ApiConfig::default() };
    let mut f = fixture(65, 10, config).await?;
    let job = f.scenario.post_job(&f.chain).await?;
    let block = f.chain.head().await?;
    // The request arrives first and waits; only then does the indexer catch up. Everything the
    // handler does before the wait is synchronous for an in-memory body, so a request still
    // pending after its first poll is parked in the wait (it cannot be answered yet: the job's
    // block is not indexed).
    let (chain, db) = (&f.chain, &f.db);
    let query = json!({ "query": format!("{{ job(id: \"{job}\") {{ id }} }}") }).to_string();
    let (status, body) = {
        let request = f.post_raw(query, Some(block));
        tokio::pin!(request);
        ensure!(futures::poll!(&mut request).is_pending(), "answered before the block was indexed");
        let (answer, indexed) = tokio::join!(request, index_to_head(chain, db, test_config(chain)));
        indexed?;
        answer?
    };
    ensure!(status == StatusCode::OK && body["data"]["job"]["id"] == json!(job.to_string()), "{body}");

    // The chain-qualified form names this API's chain, or is refused naming both chains.
    let query = json!({ "query": format!("{{ job(id: \"{job}\") {{ id }} }}") }).to_string();
    let chain_id = f.chain.chain_id;
    let (status, body) = f.post_with_min_block(query.clone(), Some(format!("{chain_id}:{block}"))).await?;
    ensure!(status == StatusCode::OK && body["data"]["job"]["id"] == json!(job.to_string()), "{body}");
    let other = chain_id + 1;
    let (status, body) = f.post_with_min_block(query.clone(), Some(format!("{other}:{block}"))).await?;
    let (code, message) = error_of(&body)?;
    ensure!(status == StatusCode::BAD_REQUEST && code == "BAD_USER_INPUT", "{status} {body}");
    ensure!(message.contains(&other.to_string()) && message.contains(&chain_id.to_string()), "{message}");
    for malformed in ["0x10", "abc:1", "1:2:3"] {
        let (status, body) = f.post_with_min_block(query.clone(), Some(malformed.to_owned())).await?;
        ensure!(
            status == StatusCode::BAD_REQUEST && error_of(&body)?.0 == "BAD_USER_INPUT",
            "{malformed}: {body}"
        );
    }

    // Past the bound: NOT_YET_INDEXED, in about the bound.
    let config = ApiConfig { min_block_wait: Duration::from_millis(300), ..ApiConfig::default() };
    let state = ApiState::new(
        Reader::new(f.db.pool.clone(), board_of(&f.chain))?,
        config,
        Metrics::default(),
        f.cancel.clone(),
    );
    f.state = state;
    let started = std::time::Instant::now();
    let (status, body) = f.post_raw("{\"query\": \"{ _meta { synced } }\"}", Some(block + 5)).await?;
    ensure!(status == StatusCode::OK && error_of(&body)?.0 == "NOT_YET_INDEXED", "{body}");
    ensure!(started.elapsed() < Duration::from_secs(3), "the wait was not bounded");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_answer_is_never_older_than_the_index_a_client_was_promised() -> Result<()> {
    // Answers would live a minute: only invalidation can make them change within the test.
    let config = ApiConfig {
        min_block_wait: Duration::from_secs(10),
        result_cache_ttl: Duration::from_secs(60),
        ..ApiConfig::default()
    };
    let mut f = fixture(68, 10, config).await?;
    let query = "{ jobs(first: 100, orderBy: NEWEST) { totalCount nodes { id title } } }";
    let ids = |data: &Value| -> Vec<String> {
        data["jobs"]["nodes"].as_array().into_iter().flatten().map(|n| n["id"].to_string()).collect()
    };
    let answer = |body: Value| -> Result<Value> {
        ensure!(body.get("errors").is_none(), "{body}");
        Ok(body["data"].clone())
    };
    // The hub caches only once it listens for change notices: the first requests may bypass.
    let first = f.query(query, json!({})).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while f.cache_requests("hit").await? == 0 {
        ensure!(std::time::Instant::now() < deadline, "no answer came from the cache");
        ensure!(f.query(query, json!({})).await? == first, "a repeated answer differs");
    }
    let hits = f.cache_requests("hit").await?;
    ensure!(f.query(query, json!({})).await? == first, "the cached answer differs from the read one");
    ensure!(f.cache_requests("hit").await? == hits + 1, "a repeat was not answered from the cache");

    // A new job: a client promised its block sees it, and so does every request after.
    let job = f.scenario.post_job(&f.chain).await?;
    let block = f.chain.head().await?;
    index_to_head(&f.chain, &f.db, test_config(&f.chain)).await?;
    // Another query, promised the block, says the API has seen it; the cached answer of the
    // first must be gone by then.
    let meta = json!({ "query": "{ _meta { block { number } } }" }).to_string();
    answer(f.post_raw(meta.clone(), Some(block)).await?.1)?;
    let seen = f.query(query, json!({})).await?;
    ensure!(ids(&seen).contains(&format!("\"{job}\"")), "a cached answer outlived block {block}: {seen}");
    let body = json!({ "query": query }).to_string();
    let promised = answer(f.post_raw(body.clone(), Some(block)).await?.1)?;
    ensure!(promised == seen, "X-Min-Block {block} answered otherwise: {promised}");

    // The job's block reverted and the fork grown past it: a client promised the new head
    // no longer sees the job, and neither does any request after.
    f.chain.reorg(1).await?;
    f.chain.mine(1).await?;
    let head = f.chain.head().await?;
    index_to_head(&f.chain, &f.db, test_config(&f.chain)).await?;
    answer(f.post_raw(meta, Some(head)).await?.1)?;
    let reverted = f.query(query, json!({})).await?;
    ensure!(ids(&reverted) == ids(&first), "a cached answer still sees the reverted job: {reverted}");
    let promised = answer(f.post_raw(body, Some(head)).await?.1)?;
    ensure!(promised == reverted, "X-Min-Block {head} answered otherwise: {promised}");

    // Off: every request runs.
    let off = ApiConfig { result_cache_bytes: 0, ..ApiConfig::default() };
    f.state = ApiState::new(
        Reader::new(f.db.pool.clone(), board_of(&f.chain))?,
        off,
        Metrics::default(),
        f.cancel.clone(),
    );
    for _ in 0..3 {
        f.query(query, json!({})).await?;
    }
    ensure!(
        f.cache_requests("hit").await? == 0 && f.cache_requests("bypass").await? == 3,
        "the cache answered while off"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_push_committed_events_in_order_and_reorgs() -> Result<()> {
    let mut f = fixture(66, 10, ApiConfig::default()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(api::serve_on(listener, f.state.clone(), f.cancel.clone()));
    let mut client = WsClient::connect(addr).await?;
    client
        .subscribe("a", "subscription { activity { kind jobId applicationId blockNumber logIndex } }")
        .await?;
    client.subscribe("m", "subscription { meta { block { number } } }").await?;
    let first_meta = client.next_event("m").await?;
    ensure!(
        first_meta["meta"]["block"]["number"] == json!(f.chain.head().await?.to_string()),
        "{first_meta}"
    );
    // Both subscriptions registered before anything is committed.
    crate::support::serve::wait_for_subscribers(addr, 2).await?;

    let job = f.scenario.post_job(&f.chain).await?;
    let mut applied = 0;
    while applied < 2 {
        applied += usize::from(f.scenario.apply(&f.chain).await?);
    }
    let head = f.chain.head().await?;
    index_to_head(&f.chain, &f.db, test_config(&f.chain)).await?;

    let mut received = Vec::new();
    while received.len() < 3 {
        received.push(client.next_event("a").await?["activity"].clone());
    }
    ensure!(
        received[0]["kind"] == "JOB_POSTED" && received[0]["jobId"] == json!(job.to_string()),
        "{received:?}"
    );
    ensure!(received[1..].iter().all(|e| e["kind"] == "APPLICATION_SUBMITTED"), "{received:?}");
    let positions: Vec<(String, i64)> = received
        .iter()
        .map(|e| {
            (
                format!("{:>20}", e["blockNumber"].as_str().unwrap_or_default()),
                e["logIndex"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    ensure!(positions.windows(2).all(|w| w[0] < w[1]), "events out of order: {positions:?}");
    ensure!(
        received.iter().all(|e| e["blockNumber"].as_str().and_then(|b| b.parse::<u64>().ok()) <= Some(head)),
        "future block"
    );

    // A reorg of the last block: a REORG event naming the block reverted to.
    f.chain.reorg(1).await?;
    index_to_head(&f.chain, &f.db, test_config(&f.chain)).await?;
    let reorg = client.next_event("a").await?["activity"].clone();
    ensure!(reorg["kind"] == "REORG", "expected REORG, got {reorg}");
    ensure!(
        reorg["blockNumber"] == json!((head - 1).to_string()),
        "reorg to {}, head was {head}",
        reorg["blockNumber"]
    );
    Ok(())
}

#[test]
fn schema_graphql_is_up_to_date() -> Result<()> {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))?;
    ensure!(
        committed == api::sdl(),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and commit it"
    );
    Ok(())
}
