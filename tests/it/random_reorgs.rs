//! Randomised reorgs: random histories (posts, updates, closes, applications, withdrawals,
//! single and batch status changes), each cut by an `anvil_reorg` of random depth 1..=20 that
//! reverts updates and closes of jobs with applications among the rest. After every reorg the
//! database equals a fresh index of the canonical chain in every table and column.

use std::collections::BTreeSet;

use alloy::primitives::{Address, B256};
use anyhow::{Context, Result, ensure};
use jobboard::contract::ApplicationStatus;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

use crate::indexer::{index_to_head, test_config};
use crate::support::db::test_database;
use crate::support::scenario::{
    Model, ModelApplication, ModelJob, Scenario, TestChain, TestPosting, assert_same_dump, dump_tables,
};

/// What the reverted blocks held, across every reorg of a run.
#[derive(Debug, Default)]
struct Reverted(BTreeSet<String>);

impl Reverted {
    /// Everything a run must have reverted at least once.
    const REQUIRED: [&'static str; 9] = [
        "JobPosted",
        "JobUpdated",
        "JobClosed",
        "ApplicationSubmitted",
        "ApplicationStatusChanged",
        "JobUpdated of a job with applications",
        "JobClosed of a job with applications",
        "batch status change",
        "withdrawal",
    ];

    /// Records what the events above `fork` in `pool` (about to be reverted) are.
    async fn record(&mut self, pool: &PgPool, fork: u64) -> Result<()> {
        let fork = i64::try_from(fork)?;
        let rows: Vec<(String, bool, bool, Option<i16>)> = sqlx::query_as(
            "SELECT e.kind, \
               EXISTS (SELECT 1 FROM events s WHERE s.kind = 'ApplicationSubmitted' AND s.job_id = e.job_id \
                       AND s.block_number <= $1), \
               (SELECT count(*) FROM events b WHERE b.tx_hash = e.tx_hash) > 1, \
               e.status \
             FROM events e WHERE e.block_number > $1",
        )
        .bind(fork)
        .fetch_all(pool)
        .await?;
        for (kind, job_had_applications, batch, status) in rows {
            if job_had_applications && (kind == "JobUpdated" || kind == "JobClosed") {
                self.0.insert(format!("{kind} of a job with applications"));
            }
            if kind == "ApplicationStatusChanged" && batch {
                self.0.insert("batch status change".into());
            }
            if status == Some(4) {
                self.0.insert("withdrawal".into());
            }
            self.0.insert(kind);
        }
        Ok(())
    }

    fn missing(&self) -> Vec<&'static str> {
        Self::REQUIRED.into_iter().filter(|r| !self.0.contains(*r)).collect()
    }
}

/// One chain, `rounds` reorgs; returns what they reverted.
async fn run(seed: u64, rounds: usize, reverted: &mut Reverted) -> Result<()> {
    let chain = TestChain::start().await?;
    let mut scenario = Scenario::new(&chain, seed);
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    scenario.run(&chain, 60).await?;
    let db = test_database().await?;
    index_to_head(&chain, &db, test_config(&chain)).await?;
    for round in 0..rounds {
        let depth = rng.random_range(1..=20u64);
        // At least `depth` new blocks, so the reorg reverts only what this round made; updates
        // and closes of jobs with applications at random places among them.
        for _ in 0..rng.random_range(depth..depth + 5) {
            let done = match rng.random_range(0..10) {
                0 | 1 => scenario.update_job_with_applications(&chain).await?,
                2 => scenario.close_job_with_applications(&chain).await?,
                _ => false,
            };
            if !done {
                scenario.run(&chain, 1).await?;
            }
        }
        index_to_head(&chain, &db, test_config(&chain)).await?;
        let fork = chain.head().await? - depth;
        reverted.record(&db.pool, fork).await?;
        if rng.random_bool(0.3) {
            // The new branch is not empty: it posts a job of its own (with an id the reverted
            // branch had given to another job).
            let posting = TestPosting::titled(format!("branch {seed}.{round}"), "reorg");
            chain.reorg_with(depth, chain.anvil.address(3), posting.post_calldata()).await?;
        } else {
            chain.reorg(depth).await?;
        }
        chain.mine(rng.random_range(0..3)).await?;

        index_to_head(&chain, &db, test_config(&chain)).await?;
        let fresh = test_database().await?;
        index_to_head(&chain, &fresh, test_config(&chain)).await?;
        assert_same_dump(&dump_tables(&db.pool).await?, &dump_tables(&fresh.pool).await?)
            .with_context(|| format!("seed {seed}, round {round}: after a reorg of depth {depth}"))?;
        // The chain lost the reverted actions: continue from what it holds now.
        scenario.replace_model(model_of(&fresh.pool).await?);
    }
    Ok(())
}

/// An application: id, job, applicant, hash, status, and its status history.
type ApplicationRow = (i64, i64, Vec<u8>, Vec<u8>, i16, Vec<i16>);

/// The board as `pool`, an exact index of the chain as it is now, holds it: after a reorg the
/// scenario's own model no longer matches the chain. Posting contents come back as their
/// stored text; the model then serves to choose valid actions, not to check strings.
async fn model_of(pool: &PgPool) -> Result<Model> {
    let jobs: Vec<(i64, Vec<u8>, bool, String, i64, i64)> = sqlx::query_as(
        "SELECT j.job_id, j.employer, j.closed, j.title, j.posted_block, \
           (SELECT count(*) FROM job_revisions r WHERE r.job_id = j.job_id) FROM jobs j",
    )
    .fetch_all(pool)
    .await?;
    let applications: Vec<ApplicationRow> = sqlx::query_as(
        "SELECT a.application_id, a.job_id, a.applicant, a.application_hash, a.status, \
           ARRAY(SELECT h.status FROM application_status_changes h \
                 WHERE h.application_id = a.application_id ORDER BY h.block_number, h.log_index) \
         FROM applications a",
    )
    .fetch_all(pool)
    .await?;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(pool).await?;
    let mut model = Model { events: usize::try_from(events)?, ..Model::default() };
    for (id, employer, closed, title, posted_block, revisions) in jobs {
        let posting = TestPosting {
            title: title.into_bytes(),
            company: Vec::new(),
            location: Vec::new(),
            tags: Vec::new(),
            description: Vec::new(),
            salary_currency: Vec::new(),
            salary_min: 0,
            salary_max: 0,
            deadline: 0,
        };
        let job = ModelJob {
            employer: Address::from_slice(&employer),
            posting,
            closed,
            revisions: usize::try_from(revisions)?,
            posted_block: u64::try_from(posted_block)?,
        };
        model.jobs.insert(u64::try_from(id)?, job);
    }
    for (id, job_id, applicant, hash, _status, history) in applications {
        let history = history
            .into_iter()
            .map(|s| ApplicationStatus::try_from(u8::try_from(s)?).map_err(anyhow::Error::from))
            .collect::<Result<Vec<_>>>()?;
        let status = *history.last().context("an application without a status")?;
        let application = ModelApplication {
            job_id: u64::try_from(job_id)?,
            applicant: Address::from_slice(&applicant),
            hash: B256::from_slice(&hash),
            status,
            history,
        };
        model.applications.insert(u64::try_from(id)?, application);
    }
    Ok(model)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_reorgs_leave_the_database_equal_to_a_fresh_index() -> Result<()> {
    let mut reverted = Reverted::default();
    for seed in [1, 2] {
        run(seed, 6, &mut reverted).await?;
    }
    let missing = reverted.missing();
    ensure!(missing.is_empty(), "no reorg reverted {missing:?}; reverted {:?}", reverted.0);
    Ok(())
}
