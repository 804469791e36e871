//! Randomised reorgs: random histories (posts, updates, closes, applications, withdrawals,
//! single and batch status changes), each cut by an `anvil_reorg` of random depth 1..=20 that
//! reverts updates and closes of jobs with applications among the rest. After every reorg the
//! database equals a fresh index of the canonical chain in every table and column.

use std::collections::BTreeSet;

use anyhow::{Context, Result, ensure};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

use crate::db::test_database;
use crate::indexer::{index_to_head, test_config};
use crate::scenario::{Scenario, TestChain, assert_same_dump, dump_tables};

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
        chain.reorg(depth).await?;
        chain.mine(rng.random_range(0..3)).await?;

        index_to_head(&chain, &db, test_config(&chain)).await?;
        let fresh = test_database().await?;
        index_to_head(&chain, &fresh, test_config(&chain)).await?;
        assert_same_dump(&dump_tables(&db.pool).await?, &dump_tables(&fresh.pool).await?)
            .with_context(|| format!("seed {seed}, round {round}: after a reorg of depth {depth}"))?;
        // The chain lost the reverted actions: continue from what it holds now.
        scenario.resync(&fresh.pool).await?;
    }
    Ok(())
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
