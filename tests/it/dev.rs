//! `jobboard dev` as a newcomer runs it: the real binary as a subprocess on free ports, the
//! demo queried over HTTP with exact expected values, Ctrl-C (SIGINT) stopping every process
//! it started, a second run resuming the same data, and the errors a newcomer meets.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use jobboard::local::demo::{DemoPlan, EXAMPLE_QUERIES};
use serde_json::{Value, json};

use crate::support::dev::{DevPorts, DevProcess, TempDevDir, jobboard_binary};
use crate::support::ports::free_port;

/// Processes whose command line mentions `needle` (the data directory: PostgreSQL's `-D`,
/// anvil's `--state`, their supervisors).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let own = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter(|entry| entry.file_name().to_string_lossy() != own)
        .filter_map(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(needle).then(|| format!("{}: {cmdline}", entry.file_name().to_string_lossy()))
        })
        .collect()
}

/// The database URL the banner prints.
fn banner_database_url(dev: &DevProcess) -> Result<String> {
    Ok(dev
        .banner
        .lines()
        .find_map(|line| line.trim().strip_prefix("database").map(str::trim))
        .context("no database line in the banner")?
        .to_owned())
}

fn count(data: &Value, pointer: &str) -> i64 {
    data.pointer(pointer).and_then(Value::as_i64).unwrap_or(-1)
}

/// Applications per status in the demo: 80 first-round applications plus one re-application;
/// six shortlisted, of which one is hired later; four rejected one by one and two in a batch;
/// one withdrawn (and re-applied, so submitted again).
const DEMO_STATUS_COUNTS: [(&str, i64); 5] =
    [("SUBMITTED", 68), ("SHORTLISTED", 5), ("REJECTED", 6), ("HIRED", 1), ("WITHDRAWN", 1)];

async fn check_demo(dev: &DevProcess) -> Result<()> {
    let plan = DemoPlan::load()?;
    // The 20 newest open jobs: 30 posted, job 1 closed, so jobs 30 down to 11.
    let data = dev
        .query("{ jobs(first: 20, where: { status: OPEN }) { totalCount nodes { id title company } } }")
        .await?;
    assert_eq!(count(&data, "/jobs/totalCount"), 29);
    let nodes = data.pointer("/jobs/nodes").and_then(Value::as_array).context("nodes")?;
    let got: Vec<(String, String)> = nodes
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap_or_default().to_owned(),
                n["title"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> =
        (11..=30).rev().map(|id: usize| (id.to_string(), plan.jobs[id - 1].title.clone())).collect();
    assert_eq!(got, expected);

    for (status, expected) in DEMO_STATUS_COUNTS {
        let data =
            dev.query(&format!("{{ applications(where: {{ status: {status} }}) {{ totalCount }} }}")).await?;
        assert_eq!(count(&data, "/applications/totalCount"), expected, "{status}");
    }

    // Job 1: shortlisted twice, one of them hired, one rejected; then closed.
    let data = dev
        .query(r#"{ job(id: "1") { status title applications(orderBy: OLDEST) { nodes { id status history { status } } } } }"#)
        .await?;
    assert_eq!(data.pointer("/job/status"), Some(&json!("CLOSED")));
    assert_eq!(data.pointer("/job/title").and_then(Value::as_str), Some(plan.jobs[0].title.as_str()));
    let mut statuses: Vec<&str> = data
        .pointer("/job/applications/nodes")
        .and_then(Value::as_array)
        .context("applications")?
        .iter()
        .filter_map(|n| n["status"].as_str())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["HIRED", "REJECTED", "SHORTLISTED"]);

    // Job 3 was updated: two revisions, the salary 10k higher in the second.
    let data = dev.query(r#"{ job(id: "3") { salaryMin revisions { salaryMin } } }"#).await?;
    let base = plan.jobs[2].salary_min;
    assert_eq!(
        data.pointer("/job/revisions"),
        Some(&json!([{ "salaryMin": base.to_string() }, { "salaryMin": (base + 10_000).to_string() }]))
    );

    // The examples the banner prints answer without errors, and with data.
    for (title, query) in EXAMPLE_QUERIES {
        let data = dev.query(query).await.with_context(|| title.to_owned())?;
        assert!(data.to_string().len() > 100, "{title}: {data}");
    }
    Ok(())
}

#[tokio::test]
async fn dev_serves_the_demo_stops_on_ctrl_c_and_resumes() -> Result<()> {
    let temp = TempDevDir::new()?;
    let data_dir = temp.path().join("dev");
    let needle = data_dir.to_string_lossy().into_owned();

    // Nothing above the data directory may change mode (as root, the cluster must not be made
    // reachable by loosening them).
    let modes_above = || -> Vec<(PathBuf, u32)> {
        data_dir
            .ancestors()
            .skip(1)
            .filter_map(|dir| Some((dir.to_owned(), std::fs::metadata(dir).ok()?.permissions().mode())))
            .collect()
    };
    let modes_before = modes_above();

    let ports = DevPorts::free()?;
    let dev = DevProcess::start(&data_dir, ports, &[])?;
    assert!(dev.banner.contains(&dev.api), "{}", dev.banner);
    assert!(!dev.banner.contains("resumed"), "{}", dev.banner);
    assert_eq!(modes_above(), modes_before, "a directory above the data directory changed mode");
    let binary = std::fs::canonicalize(jobboard_binary())?;
    assert!(
        dev.banner.contains(&format!("jobboard is {}", binary.display())),
        "the banner must name the binary it runs:\n{}",
        dev.banner
    );
    // The printed database URL works as is; without its password the cluster refuses.
    let database_url = banner_database_url(&dev)?;
    let conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database_url).await?;
    sqlx::Connection::close(conn).await?;
    let mut no_password = url::Url::parse(&database_url)?;
    ensure!(no_password.password().is_some_and(|p| p.len() == 64), "no password in {database_url}");
    let _ = no_password.set_password(None);
    let refused = <sqlx::PgConnection as sqlx::Connection>::connect(no_password.as_str()).await;
    ensure!(refused.is_err(), "the dev cluster took a connection without the password");
    // As root the cluster lives where the postgres user can reach it; its processes mention it.
    let cluster = std::fs::canonicalize(data_dir.join("postgres"))?.to_string_lossy().into_owned();
    for (_, query) in EXAMPLE_QUERIES {
        let first_line = query.lines().nth(1).unwrap_or_default().trim();
        assert!(dev.banner.contains(first_line), "the banner lacks {first_line:?}:\n{}", dev.banner);
    }
    check_demo(&dev).await?;
    ensure!(!processes_mentioning(&needle).is_empty(), "expected anvil and postgres to mention {needle}");
    dev.interrupt()?;
    let left = [processes_mentioning(&needle), processes_mentioning(&cluster)].concat();
    assert!(left.is_empty(), "processes left running after Ctrl-C: {left:#?}");
    assert_eq!(modes_above(), modes_before, "a directory above the data directory changed mode");

    // Run again: the same chain and data, nothing seeded twice.
    let ports = DevPorts::free()?;
    let dev = DevProcess::start(&data_dir, ports, &[])?;
    assert!(dev.banner.contains("resumed"), "{}", dev.banner);
    check_demo(&dev).await?;
    dev.interrupt()?;
    assert!(processes_mentioning(&needle).is_empty());
    assert!(processes_mentioning(&cluster).is_empty());

    // --reset refuses a directory that is not a dev data directory, and starts nothing.
    let foreign = temp.path().join("precious");
    std::fs::create_dir_all(&foreign)?;
    std::fs::write(foreign.join("notes.txt"), "keep me")?;
    let ports = DevPorts::free()?;
    let output = Command::new(jobboard_binary())
        .args(["dev", "--reset", "--data-dir"])
        .arg(&foreign)
        .args(["--listen", &format!("127.0.0.1:{}", ports.api)])
        .args(["--anvil-port", &ports.anvil.to_string(), "--postgres-port", &ports.postgres.to_string()])
        .output()?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing to reset"), "{stderr}");
    assert!(foreign.join("notes.txt").is_file());
    // As root the cluster lives outside the temporary directory: delete it with the rest.
    jobboard::local::cluster_home::remove_cluster(&data_dir.join("postgres"))?;
    ensure!(!PathBuf::from(&cluster).exists(), "the cluster {cluster} is left behind");
    Ok(())
}

#[tokio::test]
async fn newcomer_errors_say_what_to_do() -> Result<()> {
    // A port in use names the flag that moves it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port();
    let temp = TempDevDir::new()?;
    let output = Command::new(jobboard_binary())
        .args(["dev", "--data-dir"])
        .arg(temp.path().join("dev"))
        .args(["--listen", &format!("127.0.0.1:{}", free_port()?)])
        .args(["--anvil-port", &port.to_string(), "--postgres-port", &free_port()?.to_string()])
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("already in use") && stderr.contains("--anvil-port"), "{stderr}");

    // anvil missing: ANVIL_BIN pointing nowhere says how to install it.
    let output = Command::new(jobboard_binary())
        .args(["dev", "--data-dir"])
        .arg(temp.path().join("dev2"))
        .args(["--listen", &format!("127.0.0.1:{}", free_port()?)])
        .args(["--anvil-port", &free_port()?.to_string(), "--postgres-port", &free_port()?.to_string()])
        .env("ANVIL_BIN", "/nonexistent/anvil")
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("anvil") && stderr.contains("npm ci"), "{stderr}");

    // An RPC URL that is not an Ethereum node (a plain HTTP server answering HTML).
    let not_a_node = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", not_a_node.local_addr()?);
    std::thread::spawn(move || {
        for stream in not_a_node.incoming().map_while(Result::ok) {
            let mut stream = stream;
            let mut buffer = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buffer);
            let body = "<html><body>Welcome to nginx!</body></html>";
            let _ = std::io::Write::write_all(
                &mut stream,
                format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).as_bytes(),
            );
        }
    });
    let output = Command::new(jobboard_binary())
        .args(["index", "--rpc-url", &url, "--contract", "0x5fbdb2315678afecb367f032d93f642f64180aa3"])
        .args([
            "--start-block",
            "1",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/none",
            "--rpc-timeout",
            "2s",
        ])
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("is --rpc-url an Ethereum JSON-RPC node"), "{stderr}");

    // A database nobody listens on: says where it looked and what to check.
    let closed = free_port()?;
    let output = Command::new(jobboard_binary())
        .args(["migrate", "--database-url", &format!("postgres://postgres@127.0.0.1:{closed}/jobboard")])
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("127.0.0.1:{closed}")) && stderr.contains("is PostgreSQL running"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn dev_with_two_chains_seeds_and_indexes_both_in_one_process() -> Result<()> {
    let temp = TempDevDir::new()?;
    let data_dir = temp.path().join("dev");
    let ports = DevPorts::free()?;
    let dev = DevProcess::start(&data_dir, ports, &["--chains", "2"])?;
    for needle in
        ["chain id 31337", "chain id 31338", "boards.toml", &format!("127.0.0.1:{}", ports.anvil + 1)]
    {
        ensure!(dev.banner.contains(needle), "{needle:?} not in the banner:\n{}", dev.banner);
    }
    // The boards file dev wrote is a boards file `index --config` reads.
    let file = jobboard::config::ConfigFile::load(&data_dir.join("boards.toml"))?;
    let chain_ids: Vec<u64> = file.boards.iter().map(|b| b.chain_id).collect();
    ensure!(chain_ids == [31337, 31338], "{chain_ids:?}");

    let database_url = banner_database_url(&dev)?;
    let pool = sqlx::PgPool::connect(&database_url).await?;
    // The banner waits for both boards' demos to be indexed: the same demo on each chain.
    let events: Vec<(i64, i64)> =
        sqlx::query_as("SELECT chain_id, count(*) FROM events GROUP BY chain_id ORDER BY chain_id")
            .fetch_all(&pool)
            .await?;
    ensure!(events.len() == 2 && events[0].1 == events[1].1 && events[0].1 > 0, "{events:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let statuses = jobboard::store::board_statuses(&pool).await?;
        let live = statuses.iter().filter(|s| s.state == jobboard::store::BoardState::Live).count();
        if live == 2 {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "both boards never LIVE: {statuses:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    pool.close().await;
    // The API serves both chains: each on its own, and merged.
    let data = dev
        .query(r#"{ a: jobs(chainId: "31337") { totalCount } b: jobs(chainId: "31338") { totalCount } all: jobs { totalCount } }"#)
        .await?;
    ensure!(count(&data, "/a/totalCount") == 30 && count(&data, "/b/totalCount") == 30, "{data}");
    ensure!(count(&data, "/all/totalCount") == 60, "{data}");
    // The banner's queries name the chain where a lookup needs it, and answer.
    for (title, query) in jobboard::local::demo::example_queries_on(31337) {
        let data = dev.query(&query).await.with_context(|| title.to_owned())?;
        ensure!(data.as_object().is_some_and(|d| d.values().all(|v| !v.is_null())), "{title}: {data}");
    }
    dev.interrupt()
}
