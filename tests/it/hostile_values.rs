//! Every value an event can carry is stored and served: `uint64` deadlines and salaries at
//! their edges (0, 1, 2^32, 2^40, the last RFC 3339 second, the one after, 2^64-1) in postings
//! and updates, and a log that does not decode, which stops the indexer naming its position
//! until the operator names it with `--skip-log`.

use alloy::primitives::{B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;
use anyhow::{Context, Result, ensure};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use jobboard::api::{self, ApiConfig, ApiState};
use jobboard::contract::{JobBoard, LogAt};
use jobboard::store::Reader;
use jobboard::telemetry::Metrics;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::indexer::{board_of, index_to_head, test_config};
use crate::support::db::{TestDatabase, test_database};
use crate::support::scenario::{Scenario, TestChain, TestPosting, assert_db_matches_model};

/// The last second RFC 3339 can write: 9999-12-31T23:59:59Z.
const LAST_RFC3339_SECOND: u64 = 253_402_300_799;

/// The edges of a `uint64` that a time or a `BIGINT` handles differently.
const EDGES: [u64; 7] = [0, 1, 1 << 32, 1 << 40, LAST_RFC3339_SECOND, LAST_RFC3339_SECOND + 1, u64::MAX];

fn posting(title: &str, salary: u64, deadline: u64) -> TestPosting {
    TestPosting {
        title: title.as_bytes().to_vec(),
        company: b"Edge Cases Ltd".to_vec(),
        location: Vec::new(),
        tags: b"edge".to_vec(),
        description: Vec::new(),
        salary_currency: if salary == 0 { Vec::new() } else { b"USD".to_vec() },
        salary_min: salary,
        salary_max: salary,
        deadline,
    }
}

/// The API over `db`, answering in-process.
struct Api {
    state: ApiState,
    cancel: CancellationToken,
}

impl Api {
    fn new(chain: &TestChain, db: &TestDatabase) -> Result<Api> {
        let cancel = CancellationToken::new();
        let reader = Reader::new(db.pool.clone(), board_of(chain))?;
        let state = ApiState::new(reader, ApiConfig::default(), Metrics::default(), cancel.clone());
        Ok(Api { state, cancel })
    }

    async fn query(&self, query: &str) -> Result<Value> {
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(json!({ "query": query }).to_string()))?;
        let response = api::router(self.state.clone()).oneshot(request).await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await?;
        let body: Value = serde_json::from_slice(&bytes)?;
        ensure!(status == StatusCode::OK && body.get("errors").is_none(), "{status}: {body}");
        body.get("data").cloned().context("no data")
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// What ADR 0008 says the API shows for an on-chain deadline: (`deadline`, `deadlineUnix`).
fn documented_deadline(unix: u64) -> (Value, Value) {
    match unix {
        0 => (Value::Null, Value::Null),
        t if t <= LAST_RFC3339_SECOND => {
            let time = chrono::DateTime::from_timestamp(i64::try_from(t).unwrap_or(i64::MAX), 0)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            (time.map_or(Value::Null, Value::String), json!(t.to_string()))
        }
        t => (Value::Null, json!(t.to_string())),
    }
}

fn documented_salary(value: u64) -> Value {
    if value == 0 { Value::Null } else { json!(value.to_string()) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uint64_edges_in_postings_and_updates_are_indexed_and_served_as_documented() -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, 71);
    let employer = chain.anvil.address(1);
    // A deadline must be in the future when posted, so 1 cannot be posted (the forged-log test
    // below covers it); every other edge is posted as a deadline, and all seven as salaries.
    let deadlines: Vec<u64> = EDGES.iter().copied().filter(|&d| d != 1).collect();
    let mut expected = Vec::new(); // per job: [(salary, deadline) per revision]
    for (i, &salary) in EDGES.iter().enumerate() {
        let first = (salary, deadlines[i % deadlines.len()]);
        let update = (EDGES[(i + 3) % EDGES.len()], deadlines[(i + 2) % deadlines.len()]);
        scenario.post_posting(&chain, employer, posting(&format!("edge {i}"), first.0, first.1)).await?;
        expected.push(vec![first, update]);
    }
    // The index follows the edges, then keeps going past them.
    let db = test_database().await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    for (i, revisions) in expected.iter().enumerate() {
        let (salary, deadline) = revisions[1];
        let id = i as u64 + 1;
        chain
            .send(employer, posting(&format!("edge {i} updated"), salary, deadline).update_calldata(id))
            .await?;
    }
    scenario.post_job(&chain).await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;

    // Stored losslessly, the revisions included.
    for (i, revisions) in expected.iter().enumerate() {
        let id = i as i64 + 1;
        let stored: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT salary_max::text, deadline_unix::text FROM job_revisions WHERE job_id = $1 \
             ORDER BY block_number, log_index",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
        let want: Vec<_> = revisions
            .iter()
            .map(|&(s, d)| ((s != 0).then(|| s.to_string()), (d != 0).then(|| d.to_string())))
            .collect();
        ensure!(stored == want, "job {id}: revisions stored as {stored:?}, expected {want:?}");
    }

    // Served as ADR 0008 documents, in deadline order, never expired by overflow.
    let api = Api::new(&chain, &db)?;
    let data = api
        .query(
            "{ jobs(where: { title_contains: \"edge\" }, orderBy: DEADLINE_SOONEST, first: 100) { nodes { \
               id deadline deadlineUnix salaryMin salaryMax status \
               revisions { deadline deadlineUnix salaryMin salaryMax } } } }",
        )
        .await?;
    let nodes = data["jobs"]["nodes"].as_array().context("nodes")?;
    ensure!(nodes.len() == EDGES.len(), "expected {} edge jobs, got {}", EDGES.len(), nodes.len());
    // Every uint64 in order, "no deadline" (0 on-chain) after all of them; ties by id.
    let mut order: Vec<(u128, u64)> = expected
        .iter()
        .enumerate()
        .map(|(i, r)| (if r[1].1 == 0 { 1u128 << 64 } else { u128::from(r[1].1) }, i as u64 + 1))
        .collect();
    order.sort_unstable();
    let got: Vec<String> = nodes.iter().map(|n| n["id"].as_str().unwrap_or_default().to_owned()).collect();
    let want: Vec<String> = order.iter().map(|(_, id)| id.to_string()).collect();
    ensure!(got == want, "DEADLINE_SOONEST order {got:?}, expected {want:?}");
    for node in nodes {
        let id: usize = node["id"].as_str().context("id")?.parse()?;
        let revisions = &expected[id - 1];
        let (salary, deadline) = revisions[1];
        let (time, unix) = documented_deadline(deadline);
        ensure!(node["deadline"] == time && node["deadlineUnix"] == unix, "job {id} deadline: {node}");
        ensure!(
            node["salaryMin"] == documented_salary(salary) && node["salaryMax"] == documented_salary(salary),
            "job {id} salary: {node}"
        );
        ensure!(node["status"] == "OPEN", "job {id} must be open (no deadline passed): {node}");
        for (revision, &(salary, deadline)) in
            node["revisions"].as_array().context("revisions")?.iter().zip(revisions)
        {
            let (time, unix) = documented_deadline(deadline);
            ensure!(
                revision["deadline"] == time
                    && revision["deadlineUnix"] == unix
                    && revision["salaryMax"] == documented_salary(salary),
                "job {id} revision {revision} != ({salary}, {deadline})"
            );
        }
    }
    // A deadline past year 9999 is after any time a client can name.
    let data = api
        .query("{ jobs(where: { deadline_gte: \"9999-12-31T23:59:59Z\" }, first: 100) { nodes { deadlineUnix } } }")
        .await?;
    let mut late: Vec<String> = data["jobs"]["nodes"]
        .as_array()
        .context("nodes")?
        .iter()
        .filter_map(|n| n["deadlineUnix"].as_str().map(str::to_owned))
        .collect();
    late.sort();
    let mut want: Vec<String> = expected
        .iter()
        .map(|r| r[1].1)
        .filter(|&d| d >= LAST_RFC3339_SECOND)
        .map(|d| d.to_string())
        .collect();
    want.sort();
    ensure!(late == want, "deadline_gte 9999-12-31T23:59:59Z matched {late:?}, expected {want:?}");
    let data = api.query("{ jobs(where: { status_in: [EXPIRED] }, first: 100) { nodes { id } } }").await?;
    ensure!(data["jobs"]["nodes"] == json!([]), "nothing is expired: {data}");
    // The rest of the projections match the model (salaries as the exact decimal).
    let mut model = scenario.model.clone();
    for (i, revisions) in expected.iter().enumerate() {
        let job = model.jobs.get_mut(&(i as u64 + 1)).context("job")?;
        let (salary, deadline) = revisions[1];
        job.posting = posting(&format!("edge {i} updated"), salary, deadline);
        job.revisions += 1;
        model.events += 1;
    }
    assert_db_matches_model(&db.pool, &model).await
}

/// Runtime bytecode that emits LOG3 with the first three 32-byte words of its calldata as
/// topics and the rest as data: put at the board's address, it forges any board log.
const LOG3_EMITTER: &str = "0x366000600037604051602051600051606036036060a300";

fn forged(topics: [B256; 3], data: &[u8]) -> Vec<u8> {
    let mut calldata: Vec<u8> = topics.iter().flat_map(|t| t.0).collect();
    calldata.extend_from_slice(data);
    calldata
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_log_stops_the_index_by_position_until_named_and_deadline_1_is_expired() -> Result<()>
{
    let chain = TestChain::start().await?;
    let _: Value = chain
        .provider
        .raw_request("anvil_setCode".into(), (chain.board, Bytes::from(alloy::hex::decode(LOG3_EMITTER)?)))
        .await?;
    let employer = chain.anvil.address(1);
    let sender = chain.anvil.address(0);
    let job_posted =
        |id: u64| [JobBoard::JobPosted::SIGNATURE_HASH, B256::from(U256::from(id)), employer.into_word()];
    // Job 1 with a deadline of 1 (no contract call could post it: it is long past).
    let valid_block =
        chain.send(sender, forged(job_posted(1), &posting("deadline one", 1, 1).event_data())).await?;
    // Not the board's ABI: a JobPosted whose data is three bytes.
    let bad_block = chain.send(sender, forged(job_posted(2), &[1, 2, 3])).await?;
    chain.send(sender, forged(job_posted(2), &posting("after the bad log", 0, 0).event_data())).await?;

    let db = test_database().await?;
    let error = index_to_head(&chain, &db, test_config(&chain))
        .await
        .expect_err("an undecodable log must stop the index");
    let message = format!("{error:#}");
    ensure!(
        message.contains(&format!("block {bad_block}, log index 0")) && message.contains("--skip-log"),
        "the error must name the log's position and the flag: {message}"
    );
    let jobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE job_id = 2").fetch_one(&db.pool).await?;
    ensure!(jobs == 0, "nothing past the undecodable log may be written");

    // Naming a log that decodes skips nothing.
    let mut config = test_config(&chain);
    config.skip_logs = [LogAt { block_number: valid_block, log_index: 0 }].into_iter().collect();
    ensure!(
        index_to_head(&chain, &db, config).await.is_err(),
        "naming a valid log must not let the bad one pass"
    );

    // Naming the undecodable one lets the index go on, without it.
    let mut config = test_config(&chain);
    config.skip_logs =
        [format!("{bad_block}:0").parse::<LogAt>().map_err(anyhow::Error::msg)?].into_iter().collect();
    index_to_head(&chain, &db, config).await?;
    let events: Vec<(i64, i64)> =
        sqlx::query_as("SELECT block_number, job_id FROM events ORDER BY block_number")
            .fetch_all(&db.pool)
            .await?;
    ensure!(
        events == [(valid_block as i64, 1), (bad_block as i64 + 1, 2)],
        "expected jobs 1 and 2 and no trace of the skipped log: {events:?}"
    );

    let api = Api::new(&chain, &db)?;
    let data = api.query("{ job(id: \"1\") { deadline deadlineUnix salaryMin status } }").await?;
    ensure!(
        data["job"]
            == json!({ "deadline": "1970-01-01T00:00:01Z", "deadlineUnix": "1", "salaryMin": "1", "status": "EXPIRED" }),
        "deadline 1 is a real, passed deadline: {data}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0003_keeps_stored_deadlines_and_takes_years_past_9999_off_the_time() -> Result<()> {
    // A database at schema 0002 holding deadlines the old way (a year-36812 one included).
    let db = test_database().await?;
    let name = format!("{}_old", db.url.rsplit('/').next().context("database name")?);
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&db.pool).await?;
    let url = format!("{}/{name}", db.url.rsplit_once('/').context("database url")?.0);
    let pool = sqlx::PgPool::connect(&url).await?;
    let old = tempfile::tempdir()?;
    for file in ["0001_schema.sql", "0002_applications_fillfactor.sql"] {
        std::fs::copy(
            crate::support::harness::repo_root().join("migrations").join(file),
            old.path().join(file),
        )?;
    }
    sqlx::migrate::Migrator::new(old.path()).await?.run(&pool).await?;
    let deadlines: [Option<i64>; 3] = [Some(1 << 40), Some(1_700_000_000), None];
    for (id, deadline) in (1i64..).zip(deadlines) {
        sqlx::query(
            "INSERT INTO jobs (chain_id, contract, job_id, employer, title, company, location, tags_text, tags, \
                 description, salary_currency, deadline, posted_block, posted_log_index, posted_tx, posted_at, \
                 updated_block, updated_at) \
             VALUES (1, $1, $2, $1, 't', '', '', '', '{}', '', '', to_timestamp($3), 1, 0, $1, now(), 1, now())",
        )
        .bind(vec![0u8; 20])
        .bind(id)
        .bind(deadline)
        .execute(&pool)
        .await?;
        sqlx::query(
            "INSERT INTO job_revisions (chain_id, contract, job_id, title, company, location, tags_text, \
                 description, salary_currency, deadline, block_number, log_index, tx_hash, block_time) \
             VALUES (1, $1, $2, 't', '', '', '', '', '', to_timestamp($3), 1, 0, $1, now())",
        )
        .bind(vec![0u8; 20])
        .bind(id)
        .bind(deadline)
        .execute(&pool)
        .await?;
    }

    jobboard::store::MIGRATOR.run(&pool).await?;
    for table in ["jobs", "job_revisions"] {
        let rows: Vec<(Option<String>, Option<String>)> = sqlx::query_as(&format!(
            "SELECT deadline_unix::text, to_char(deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') \
             FROM {table} ORDER BY job_id"
        ))
        .fetch_all(&pool)
        .await?;
        let want = [
            (Some("1099511627776".to_owned()), None),
            (Some("1700000000".to_owned()), Some("2023-11-14 22:13:20".to_owned())),
            (None, None),
        ];
        ensure!(rows == want, "{table} after migration 0003: {rows:?}");
    }
    pool.close().await;
    Ok(())
}
