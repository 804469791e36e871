//! A generated board history and the state the test expects from it.
//!
//! The scenario sends real transactions to a real anvil (one block per transaction, so ids are
//! predictable), choosing only actions that the contract's rules allow, and keeps its own model
//! of the resulting state. The model is computed from what the test sent, never read back from
//! the chain, so comparing the database with it checks the whole indexer.
//!
//! Over 600 lines: the model, the action generator and the comparison with the database are
//! one piece (the model is what the generator keeps and the comparison reads).

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolValue};
use anyhow::{Context, Result, ensure};
use jobboard::chain::deploy_board;
use jobboard::contract::{ApplicationStatus, JobBoard, lossy_text, split_tags};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

use crate::support::harness::Anvil;

/// A posting as the test sends it: strings as raw bytes, so invalid UTF-8 can be sent too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPosting {
    pub title: Vec<u8>,
    pub company: Vec<u8>,
    pub location: Vec<u8>,
    pub tags: Vec<u8>,
    pub description: Vec<u8>,
    pub salary_currency: Vec<u8>,
    pub salary_min: u64,
    pub salary_max: u64,
    pub deadline: u64,
}

alloy::sol! {
    /// `JobBoard.Posting` with bytes for strings (same ABI encoding) to send arbitrary bytes.
    struct WirePosting { bytes title; bytes company; bytes location; bytes tags; bytes description;
        bytes salaryCurrency; uint64 salaryMin; uint64 salaryMax; uint64 deadline; }
}

impl TestPosting {
    /// A posting with only a title and tags, every other field empty: the smallest valid one.
    pub fn titled(title: String, tags: &str) -> TestPosting {
        TestPosting {
            title: title.into_bytes(),
            company: Vec::new(),
            location: Vec::new(),
            tags: tags.as_bytes().to_vec(),
            description: Vec::new(),
            salary_currency: Vec::new(),
            salary_min: 0,
            salary_max: 0,
            deadline: 0,
        }
    }

    fn wire(&self) -> WirePosting {
        WirePosting {
            title: Bytes::from(self.title.clone()),
            company: Bytes::from(self.company.clone()),
            location: Bytes::from(self.location.clone()),
            tags: Bytes::from(self.tags.clone()),
            description: Bytes::from(self.description.clone()),
            salaryCurrency: Bytes::from(self.salary_currency.clone()),
            salaryMin: self.salary_min,
            salaryMax: self.salary_max,
            deadline: self.deadline,
        }
    }

    /// The ABI data of a `JobPosted` or `JobUpdated` log carrying this posting.
    pub fn event_data(&self) -> Vec<u8> {
        self.wire().abi_encode()
    }

    /// Calldata of `postJob(posting)`.
    pub fn post_calldata(&self) -> Vec<u8> {
        let mut data = JobBoard::postJobCall::SELECTOR.to_vec();
        data.extend((self.wire(),).abi_encode_params());
        data
    }

    /// Calldata of `updateJob(jobId, posting)`.
    pub fn update_calldata(&self, job_id: u64) -> Vec<u8> {
        let mut data = JobBoard::updateJobCall::SELECTOR.to_vec();
        data.extend((U256::from(job_id), self.wire()).abi_encode_params());
        data
    }
}

#[derive(Debug, Clone)]
pub struct ModelJob {
    pub employer: Address,
    pub posting: TestPosting,
    pub closed: bool,
    pub revisions: usize,
    pub posted_block: u64,
}

#[derive(Debug, Clone)]
pub struct ModelApplication {
    pub job_id: u64,
    pub applicant: Address,
    pub hash: B256,
    pub status: ApplicationStatus,
    pub history: Vec<ApplicationStatus>,
}

/// The expected board state.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub jobs: BTreeMap<u64, ModelJob>,
    pub applications: BTreeMap<u64, ModelApplication>,
    pub events: usize,
}

/// A chain with a deployed board that the test drives.
pub struct TestChain {
    pub anvil: Anvil,
    pub provider: RootProvider,
    pub board: Address,
    pub deploy_block: u64,
    pub chain_id: u64,
}

impl TestChain {
    pub async fn start() -> Result<TestChain> {
        Self::start_with(&[]).await
    }

    pub async fn start_with(anvil_args: &[&str]) -> Result<TestChain> {
        let anvil = Anvil::spawn_with(anvil_args)?;
        let deployer = ProviderBuilder::new().wallet(anvil.wallet()).connect_http(anvil.endpoint.clone());
        let deployment = deploy_board(&deployer).await?;
        // Plain eth_sendTransaction from anvil's unlocked accounts: one call per transaction.
        let provider =
            ProviderBuilder::new().disable_recommended_fillers().connect_http(anvil.endpoint.clone());
        let provider = provider.root().clone();
        Ok(TestChain {
            anvil,
            provider,
            board: deployment.address,
            deploy_block: deployment.block,
            chain_id: deployment.chain_id,
        })
    }

    /// Sends `calldata` to the board from `from`, mined at once; fails if it reverts.
    pub async fn send(&self, from: Address, calldata: Vec<u8>) -> Result<u64> {
        let tx = TransactionRequest::default()
            .from(from)
            .to(self.board)
            .input(calldata.into())
            .gas_limit(3_000_000);
        let pending = self.provider.send_transaction(tx).await.context("eth_sendTransaction")?;
        let hash = *pending.tx_hash();
        // Automine mines right after the call returns; poll briefly rather than alloy's
        // interval-based watcher.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let receipt = loop {
            if let Some(receipt) = self.provider.get_transaction_receipt(hash).await? {
                break receipt;
            }
            ensure!(std::time::Instant::now() < deadline, "no receipt for {hash}: is anvil automining?");
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        };
        ensure!(receipt.status(), "transaction {hash} reverted");
        receipt.block_number.context("receipt without block")
    }

    pub async fn head(&self) -> Result<u64> {
        Ok(self.provider.get_block_number().await?)
    }

    pub async fn mine(&self, blocks: u64) -> Result<()> {
        let _: serde_json::Value =
            self.provider.raw_request("anvil_mine".into(), (U256::from(blocks),)).await?;
        Ok(())
    }

    /// Replaces the newest `depth` blocks with empty ones (anvil_reorg): their transactions are
    /// gone from the canonical chain.
    pub async fn reorg(&self, depth: u64) -> Result<()> {
        let none: Vec<serde_json::Value> = Vec::new();
        let _: serde_json::Value = self.provider.raw_request("anvil_reorg".into(), (depth, none)).await?;
        Ok(())
    }

    /// Replaces the newest `depth` blocks, putting `calldata` sent by `from` in the first new one.
    pub async fn reorg_with(&self, depth: u64, from: Address, calldata: Vec<u8>) -> Result<()> {
        let tx = serde_json::json!({
            "from": from, "to": self.board, "input": Bytes::from(calldata), "gas": "0x2dc6c0",
        });
        let _: serde_json::Value =
            self.provider.raw_request("anvil_reorg".into(), (depth, vec![(tx, 0u64)])).await?;
        Ok(())
    }
}

/// Drives a random but valid history and records the expected state.
pub struct Scenario {
    pub model: Model,
    rng: StdRng,
    employers: Vec<Address>,
    applicants: Vec<Address>,
    next_job: u64,
    next_application: u64,
}

const TITLES: &[&str] = &[
    "Senior Rust Engineer",
    "Solidity Auditor",
    "Frontend Developer (React)",
    "DevRel Lead 🚀",
    "Protocol Researcher — ZK",
    "Data Engineer, Indexing",
    "Ingénieur Backend",
    "スマートコントラクト開発者",
];
const COMPANIES: &[&str] = &["Acme Chain Tools", "Zero Knowledge Co", "Blockworks GmbH", "", "Ñandú Labs"];
const LOCATIONS: &[&str] = &["Remote", "Berlin", "New York, NY", "Lisbon / Remote", ""];
const TAGS: &[&str] =
    &["rust,ethereum", "solidity, security ,audit", "react,typescript", "", "zk,research,math"];

impl Scenario {
    pub fn new(chain: &TestChain, seed: u64) -> Scenario {
        Scenario {
            model: Model::default(),
            rng: StdRng::seed_from_u64(seed),
            employers: (1..4).map(|i| chain.anvil.address(i)).collect(),
            applicants: (4..10).map(|i| chain.anvil.address(i)).collect(),
            next_job: 1,
            next_application: 1,
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    fn posting(&mut self) -> TestPosting {
        let mut title = self.pick(TITLES).as_bytes().to_vec();
        if self.rng.random_bool(0.05) {
            title = "ü".repeat(100).into_bytes(); // exactly the 200-byte maximum
        }
        let description = if self.rng.random_bool(0.05) {
            "# Max\n".repeat(4096 / 6).into_bytes()
        } else {
            format!(
                "## Role\n\nWe build things. Salary band {}.\n\n- Rust\n- SQL",
                self.rng.random_range(1..99)
            )
            .into_bytes()
        };
        let salary = self.rng.random_bool(0.7);
        let min = if salary { self.rng.random_range(1..200) * 1000 } else { 0 };
        TestPosting {
            title,
            company: self.pick(COMPANIES).as_bytes().to_vec(),
            location: self.pick(LOCATIONS).as_bytes().to_vec(),
            tags: self.pick(TAGS).as_bytes().to_vec(),
            description,
            salary_currency: if salary { b"USD".to_vec() } else { Vec::new() },
            salary_min: min,
            salary_max: if salary { min + self.rng.random_range(0..50) * 1000 } else { 0 },
            deadline: 0,
        }
    }

    pub async fn post_job(&mut self, chain: &TestChain) -> Result<u64> {
        let employer = self.pick(&self.employers.clone());
        let posting = self.posting();
        self.post_posting(chain, employer, posting).await
    }

    pub async fn post_posting(
        &mut self,
        chain: &TestChain,
        employer: Address,
        posting: TestPosting,
    ) -> Result<u64> {
        let block = chain.send(employer, posting.post_calldata()).await?;
        let id = self.next_job;
        self.next_job += 1;
        self.model
            .jobs
            .insert(id, ModelJob { employer, posting, closed: false, revisions: 1, posted_block: block });
        self.model.events += 1;
        Ok(id)
    }

    fn open_jobs(&self) -> Vec<u64> {
        self.model.jobs.iter().filter(|(_, j)| !j.closed).map(|(id, _)| *id).collect()
    }

    pub async fn update_job(&mut self, chain: &TestChain) -> Result<bool> {
        let open = self.open_jobs();
        if open.is_empty() {
            return Ok(false);
        }
        let id = self.pick(&open);
        let posting = self.posting();
        let employer = self.model.jobs[&id].employer;
        chain.send(employer, posting.update_calldata(id)).await?;
        let job = self.model.jobs.get_mut(&id).context("job")?;
        job.posting = posting;
        job.revisions += 1;
        self.model.events += 1;
        Ok(true)
    }

    pub async fn close_job(&mut self, chain: &TestChain) -> Result<bool> {
        let open = self.open_jobs();
        if open.len() < 3 {
            return Ok(false);
        }
        let id = self.pick(&open);
        let employer = self.model.jobs[&id].employer;
        chain.send(employer, JobBoard::closeJobCall { jobId: U256::from(id) }.abi_encode()).await?;
        self.model.jobs.get_mut(&id).context("job")?.closed = true;
        self.model.events += 1;
        Ok(true)
    }

    fn live_application(&self, job: u64, applicant: Address) -> bool {
        self.model
            .applications
            .values()
            .any(|a| a.job_id == job && a.applicant == applicant && a.status != ApplicationStatus::Withdrawn)
    }

    pub async fn apply(&mut self, chain: &TestChain) -> Result<bool> {
        let open = self.open_jobs();
        for _ in 0..10 {
            if open.is_empty() {
                return Ok(false);
            }
            let job = self.pick(&open);
            let applicant = self.pick(&self.applicants.clone());
            if self.live_application(job, applicant) {
                continue;
            }
            let hash = B256::from(self.rng.random::<[u8; 32]>());
            let call = JobBoard::applyToCall { jobId: U256::from(job), applicationHash: hash };
            chain.send(applicant, call.abi_encode()).await?;
            let id = self.next_application;
            self.next_application += 1;
            self.model.applications.insert(
                id,
                ModelApplication {
                    job_id: job,
                    applicant,
                    hash,
                    status: ApplicationStatus::Submitted,
                    history: vec![ApplicationStatus::Submitted],
                },
            );
            self.model.events += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// One employer status change, a batch of them, or a withdrawal.
    pub async fn change_status(&mut self, chain: &TestChain) -> Result<bool> {
        let movable: Vec<u64> =
            self.model.applications.iter().filter(|(_, a)| !a.status.is_final()).map(|(id, _)| *id).collect();
        if movable.is_empty() {
            return Ok(false);
        }
        let id = self.pick(&movable);
        let app = self.model.applications[&id].clone();
        let roll = self.rng.random_range(0..10);
        if roll < 2 {
            chain
                .send(
                    app.applicant,
                    JobBoard::withdrawApplicationCall { applicationId: U256::from(id) }.abi_encode(),
                )
                .await?;
            self.set_status(id, ApplicationStatus::Withdrawn)?;
            return Ok(true);
        }
        let employer = self.model.jobs[&app.job_id].employer;
        let target = match (app.status, roll) {
            (ApplicationStatus::Submitted, 2..=5) => ApplicationStatus::Shortlisted,
            (_, 2..=7) => ApplicationStatus::Rejected,
            _ => ApplicationStatus::Hired,
        };
        if roll == 9 {
            // A batch: every movable application of this employer that can take `target`.
            let ids: Vec<u64> = movable
                .iter()
                .copied()
                .filter(|i| {
                    let a = &self.model.applications[i];
                    self.model.jobs[&a.job_id].employer == employer
                        && !(a.status == ApplicationStatus::Shortlisted
                            && target == ApplicationStatus::Shortlisted)
                })
                .take(5)
                .collect();
            let call = JobBoard::setApplicationStatusBatchCall {
                applicationIds: ids.iter().map(|i| U256::from(*i)).collect(),
                status: target as u8,
            };
            chain.send(employer, call.abi_encode()).await?;
            for i in ids {
                self.set_status(i, target)?;
            }
            return Ok(true);
        }
        let call = JobBoard::setApplicationStatusCall { applicationId: U256::from(id), status: target as u8 };
        chain.send(employer, call.abi_encode()).await?;
        self.set_status(id, target)?;
        Ok(true)
    }

    fn set_status(&mut self, id: u64, status: ApplicationStatus) -> Result<()> {
        let app = self.model.applications.get_mut(&id).context("application")?;
        app.status = status;
        app.history.push(status);
        self.model.events += 1;
        Ok(())
    }

    /// Jobs still open that have live applications: the parents whose counters a revert of
    /// their update or close must restore.
    fn open_jobs_with_applications(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .model
            .applications
            .values()
            .filter(|a| a.status != ApplicationStatus::Withdrawn && !self.model.jobs[&a.job_id].closed)
            .map(|a| a.job_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Updates an open job that has live applications, if there is one.
    pub async fn update_job_with_applications(&mut self, chain: &TestChain) -> Result<bool> {
        let candidates = self.open_jobs_with_applications();
        if candidates.is_empty() {
            return Ok(false);
        }
        let id = self.pick(&candidates);
        let posting = self.posting();
        chain.send(self.model.jobs[&id].employer, posting.update_calldata(id)).await?;
        let job = self.model.jobs.get_mut(&id).context("job")?;
        job.posting = posting;
        job.revisions += 1;
        self.model.events += 1;
        Ok(true)
    }

    /// Closes an open job that has live applications, if there is one.
    pub async fn close_job_with_applications(&mut self, chain: &TestChain) -> Result<bool> {
        let candidates = self.open_jobs_with_applications();
        if candidates.is_empty() {
            return Ok(false);
        }
        let id = self.pick(&candidates);
        let employer = self.model.jobs[&id].employer;
        chain.send(employer, JobBoard::closeJobCall { jobId: U256::from(id) }.abi_encode()).await?;
        self.model.jobs.get_mut(&id).context("job")?.closed = true;
        self.model.events += 1;
        Ok(true)
    }

    /// Replaces the model, e.g. with one read back from an exact index after a reorg
    /// changed the chain under it; the next ids follow from it.
    pub fn replace_model(&mut self, model: Model) {
        self.next_job = model.jobs.keys().max().map_or(1, |id| id + 1);
        self.next_application = model.applications.keys().max().map_or(1, |id| id + 1);
        self.model = model;
    }

    /// Runs `steps` random actions with a realistic mix.
    pub async fn run(&mut self, chain: &TestChain, steps: usize) -> Result<()> {
        for _ in 0..steps {
            let roll = self.rng.random_range(0..100);
            let done = match roll {
                0..=14 => {
                    self.post_job(chain).await?;
                    true
                }
                15..=19 => self.update_job(chain).await?,
                20..=22 => self.close_job(chain).await?,
                23..=64 => self.apply(chain).await?,
                _ => self.change_status(chain).await?,
            };
            if !done {
                self.post_job(chain).await?;
            }
        }
        Ok(())
    }
}

/// An application: id, job, applicant, hash, status, and its status history.
type ApplicationRow = (i64, i64, Vec<u8>, Vec<u8>, i16, Vec<i16>);

/// A `jobs` row with its revision count, as compared with the model.
#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct JobRow {
    job_id: i64,
    employer: Vec<u8>,
    title: String,
    company: String,
    location: String,
    tags: Vec<String>,
    description: String,
    salary_currency: String,
    salary_min: Option<String>,
    salary_max: Option<String>,
    closed: bool,
    application_count: i32,
    posted_block: i64,
    revisions: i64,
}

/// Checks every projection against the model.
pub async fn assert_db_matches_model(pool: &PgPool, model: &Model) -> Result<()> {
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(pool).await?;
    ensure!(events as usize == model.events, "events: database has {events}, model {}", model.events);

    let rows: Vec<JobRow> = sqlx::query_as(
        "SELECT j.job_id, j.employer, j.title, j.company, j.location, j.tags, j.description, j.salary_currency, \
                j.salary_min::text AS salary_min, j.salary_max::text AS salary_max, j.closed, j.application_count, \
                j.posted_block, \
                (SELECT count(*) FROM job_revisions r WHERE r.job_id = j.job_id AND r.chain_id = j.chain_id \
                   AND r.contract = j.contract) AS revisions \
         FROM jobs j ORDER BY j.job_id",
    )
    .fetch_all(pool)
    .await?;
    ensure!(rows.len() == model.jobs.len(), "jobs: database has {}, model {}", rows.len(), model.jobs.len());
    let live: HashMap<u64, i32> = model
        .applications
        .values()
        .filter(|a| a.status != ApplicationStatus::Withdrawn)
        .fold(HashMap::new(), |mut m, a| {
            *m.entry(a.job_id).or_default() += 1;
            m
        });
    for (row, (id, job)) in rows.iter().zip(&model.jobs) {
        let p = &job.posting;
        let salary = |v: u64| (v != 0).then(|| v.to_string());
        let expected = JobRow {
            job_id: *id as i64,
            employer: job.employer.to_vec(),
            title: lossy_text(&p.title),
            company: lossy_text(&p.company),
            location: lossy_text(&p.location),
            tags: split_tags(&p.tags),
            description: lossy_text(&p.description),
            salary_currency: lossy_text(&p.salary_currency),
            salary_min: salary(p.salary_min),
            salary_max: salary(p.salary_max),
            closed: job.closed,
            application_count: live.get(id).copied().unwrap_or(0),
            posted_block: job.posted_block as i64,
            revisions: job.revisions as i64,
        };
        ensure!(*row == expected, "job {id} differs:\n database {row:?}\n model    {expected:?}");
    }

    let rows: Vec<ApplicationRow> = sqlx::query_as(
        "SELECT a.application_id, a.job_id, a.applicant, a.application_hash, a.status, \
                ARRAY(SELECT h.status FROM application_status_changes h \
                      WHERE h.application_id = a.application_id AND h.chain_id = a.chain_id AND h.contract = a.contract \
                      ORDER BY h.block_number, h.log_index) \
         FROM applications a ORDER BY a.application_id",
    )
    .fetch_all(pool)
    .await?;
    ensure!(
        rows.len() == model.applications.len(),
        "applications: database has {}, model {}",
        rows.len(),
        model.applications.len()
    );
    for (row, (id, app)) in rows.iter().zip(&model.applications) {
        let expected = (
            *id as i64,
            app.job_id as i64,
            app.applicant.to_vec(),
            app.hash.to_vec(),
            app.status as i16,
            app.history.iter().map(|s| *s as i16).collect::<Vec<_>>(),
        );
        ensure!(*row == expected, "application {id} differs:\n database {row:?}\n model    {expected:?}");
    }

    let mut employers: BTreeMap<Vec<u8>, (i32, i32)> = BTreeMap::new();
    for job in model.jobs.values() {
        let e = employers.entry(job.employer.to_vec()).or_default();
        e.0 += 1;
        e.1 += i32::from(!job.closed);
    }
    let rows: Vec<(Vec<u8>, i32, i32)> =
        sqlx::query_as("SELECT address, job_count, open_job_count FROM employers ORDER BY address")
            .fetch_all(pool)
            .await?;
    let expected: Vec<_> = employers.into_iter().map(|(a, (n, o))| (a, n, o)).collect();
    ensure!(rows == expected, "employers differ:\n database {rows:?}\n model    {expected:?}");

    let mut applicants: BTreeMap<Vec<u8>, (i32, i32)> = BTreeMap::new();
    for app in model.applications.values() {
        let e = applicants.entry(app.applicant.to_vec()).or_default();
        e.0 += 1;
        e.1 += i32::from(app.status != ApplicationStatus::Withdrawn);
    }
    let rows: Vec<(Vec<u8>, i32, i32)> = sqlx::query_as(
        "SELECT address, application_count, live_application_count FROM applicants ORDER BY address",
    )
    .fetch_all(pool)
    .await?;
    let expected: Vec<_> = applicants.into_iter().map(|(a, (n, l))| (a, n, l)).collect();
    ensure!(rows == expected, "applicants differ:\n database {rows:?}\n model    {expected:?}");
    Ok(())
}

/// Every data table and its key order.
const DATA_TABLES: [(&str, &str); 7] = [
    ("events", "chain_id, block_number, log_index"),
    ("jobs", "chain_id, contract, job_id"),
    ("job_revisions", "chain_id, contract, job_id, block_number, log_index"),
    ("applications", "chain_id, contract, application_id"),
    ("application_status_changes", "chain_id, contract, application_id, block_number, log_index"),
    ("employers", "chain_id, contract, address"),
    ("applicants", "chain_id, contract, address"),
];

/// Every row of every data table as text, in key order: two databases that index the same
/// chain must produce identical dumps.
pub async fn dump_tables(pool: &PgPool) -> Result<BTreeMap<&'static str, Vec<String>>> {
    let mut out = BTreeMap::new();
    for (table, key) in DATA_TABLES {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t ORDER BY {key}"))
            .fetch_all(pool)
            .await?;
        out.insert(table, rows);
    }
    Ok(out)
}

/// [`dump_tables`] of one board's rows only: a database holding several boards must hold, for
/// each, what a database indexing it alone holds.
pub async fn dump_board(
    pool: &PgPool,
    chain_id: u64,
    contract: Address,
) -> Result<BTreeMap<&'static str, Vec<String>>> {
    let mut out = BTreeMap::new();
    for (table, key) in DATA_TABLES {
        let sql =
            format!("SELECT t::text FROM {table} t WHERE chain_id = $1 AND contract = $2 ORDER BY {key}");
        let rows: Vec<String> =
            sqlx::query_scalar(&sql).bind(chain_id as i64).bind(contract.to_vec()).fetch_all(pool).await?;
        out.insert(table, rows);
    }
    Ok(out)
}

/// Asserts two dumps are equal, naming the first differing table and row.
pub fn assert_same_dump(
    actual: &BTreeMap<&'static str, Vec<String>>,
    expected: &BTreeMap<&'static str, Vec<String>>,
) -> Result<()> {
    for (table, rows) in expected {
        let got = actual.get(table).context("table missing from dump")?;
        if got != rows {
            let first = got.iter().zip(rows).position(|(a, b)| a != b);
            anyhow::bail!(
                "table {table} differs: {} rows vs {} expected; first difference at {first:?}: {:?} vs {:?}",
                got.len(),
                rows.len(),
                first.and_then(|i| got.get(i)),
                first.and_then(|i| rows.get(i)),
            );
        }
    }
    Ok(())
}

/// A boards file's `[[board]]` entry for `chain` named `name`, polled every 50 ms.
pub fn board_entry(name: &str, chain: &TestChain) -> String {
    format!(
        "[[board]]\nname = \"{name}\"\nchain_id = {}\nrpc_urls = [\"{}\"]\ncontract = \"{}\"\nstart_block = {}\npoll_interval = \"50ms\"\n\n",
        chain.chain_id, chain.anvil.endpoint, chain.board, chain.deploy_block
    )
}
