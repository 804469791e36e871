//! `--chains N` (N >= 2) of the indexer bench: the same load generated on N anvils with chain
//! ids 31337, 31338, ..., then two backfills by `jobboard index --config` on one embedded
//! PostgreSQL: the first chain alone, then all N at once. Both run in the same invocation, one
//! after the other, so they see the same machine; the figure that matters is their ratio
//! (issue 14: total events/s with several chains >= 0.9 x the single-chain figure).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

use super::POLL_INTERVAL_MS;
use crate::common::{ANVIL_CHAIN_ID, Chain, peak_rss_kib, say, start_and_generate_on};

/// The ratio issue 14 asks of several chains' total events/s to one chain's.
const TARGET_RATIO: f64 = 0.9;

/// One backfill's outcome.
struct Backfill {
    events: usize,
    took: Duration,
    peak_rss_kib: u64,
}

impl Backfill {
    fn rate(&self) -> f64 {
        self.events as f64 / self.took.as_secs_f64()
    }
}

/// Generates `events` events on each of `chains` anvils, then times the single-chain and the
/// N-chain backfill and prints both, their ratio against the target, and peak RSS.
pub async fn run(root: &Path, work: &Path, events: usize, chains: u64) -> Result<()> {
    // Generated one chain after the other: concurrent generation would make each anvil's
    // history depend on how the two shared the cores, and the chains should be alike.
    let mut generated = Vec::new();
    for n in 0..chains {
        let chain_id = ANVIL_CHAIN_ID + n;
        generated.push((chain_id, start_and_generate_on(root, events, chain_id).await?));
    }

    let pg = jobboard::local::postgres::EmbeddedPostgres::start(
        jobboard::local::postgres::PostgresOptions::new(work.join("pg")),
    )
    .await?;
    let admin = PgPoolOptions::new().max_connections(1).connect(&pg.url("postgres")).await?;

    let single = backfill(&admin, &pg.url("single"), "single", work, &generated[..1]).await?;
    say(format!(
        "1 chain     {} events in {:.2?} = {:.0} events/s; peak RSS {:.1} MiB",
        single.events,
        single.took,
        single.rate(),
        single.peak_rss_kib as f64 / 1024.0
    ));
    let several = backfill(&admin, &pg.url("several"), "several", work, &generated).await?;
    say(format!(
        "{chains} chains    {} events in {:.2?} = {:.0} events/s in total; peak RSS {:.1} MiB",
        several.events,
        several.took,
        several.rate(),
        several.peak_rss_kib as f64 / 1024.0
    ));
    let ratio = several.rate() / single.rate();
    say(format!(
        "ratio       {chains} chains / 1 chain = {ratio:.2} (target >= {TARGET_RATIO}: {})",
        if ratio >= TARGET_RATIO { "met" } else { "NOT met" }
    ));
    Ok(())
}

/// Creates database `name`, runs `jobboard index --config` over `chains` into it until every
/// board's checkpoint is its chain's head, and checks that every generated event is there.
async fn backfill(
    admin: &PgPool,
    url: &str,
    name: &str,
    work: &Path,
    chains: &[(u64, Chain)],
) -> Result<Backfill> {
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(admin).await?;
    // Migrated before the clock starts, as the single-chain bench does.
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    jobboard::store::MIGRATOR.run(&pool).await?;
    pool.close().await;

    let file = work.join(format!("{name}.toml"));
    std::fs::write(&file, boards_file(chains))?;
    let log_path = work.join(format!("{name}.log"));
    let mut child = index(&file, url, &log_path)?;
    let mut conn = PgConnection::connect(url).await?;
    let started = Instant::now();
    let outcome = async {
        for (chain_id, chain) in chains {
            while checkpoint_of(&mut conn, *chain_id).await? != Some(chain.head_after as i64) {
                if let Some(status) = child.try_wait()? {
                    bail!("jobboard index exited with {status}: {}", std::fs::read_to_string(&log_path)?);
                }
                ensure!(
                    started.elapsed() < Duration::from_secs(1800),
                    "backfill did not finish in 30 minutes"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Ok(started.elapsed())
    }
    .await;
    let peak_rss_kib = peak_rss_kib(child.id()).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    let took = outcome?;
    let expected: usize = chains.iter().map(|(_, chain)| chain.generated).sum();
    let indexed: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&mut conn).await?;
    ensure!(indexed as usize == expected, "{name}: indexed {indexed} events, expected {expected}");
    Ok(Backfill { events: expected, took, peak_rss_kib })
}

/// A boards file with one board per chain, named by its chain id.
fn boards_file(chains: &[(u64, Chain)]) -> String {
    let mut text = String::new();
    for (chain_id, chain) in chains {
        text.push_str(&format!(
            "[[board]]\nname = \"chain-{chain_id}\"\nchain_id = {chain_id}\nrpc_urls = [\"{}\"]\n\
             contract = \"{}\"\nstart_block = {}\npoll_interval = \"{POLL_INTERVAL_MS}ms\"\n\n",
            chain.anvil.endpoint, chain.board, chain.deploy_block
        ));
    }
    text
}

/// `jobboard index --config file` into `url`, its log in `log_path`.
fn index(file: &Path, url: &str, log_path: &Path) -> Result<Child> {
    let log = std::fs::File::create(log_path)?;
    Command::new(env!("CARGO_BIN_EXE_jobboard"))
        .arg("index")
        .arg("--config")
        .arg(file)
        .args(["--database-url", url])
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .env_remove("JOBBOARD_CONFIG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("spawning jobboard index --config")
}

/// The checkpoint of the board on `chain_id` (one board per chain here).
async fn checkpoint_of(conn: &mut PgConnection, chain_id: u64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT block_number FROM indexer_state WHERE chain_id = $1")
        .bind(chain_id as i64)
        .fetch_optional(conn)
        .await?
        .flatten())
}
