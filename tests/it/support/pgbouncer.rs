//! pgbouncer in transaction mode in front of a test database: Debian's package (1.18), as an
//! operator would run it, on a free port, with its configuration in a temporary directory.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use jobboard::local::process::{Launched, Stop, Stream};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use url::Url;

use crate::support::ports::free_port;

/// A running pgbouncer, killed on drop.
pub struct Pgbouncer {
    process: Launched,
    /// Holds the ini and the user list while it runs.
    _dir: tempfile::TempDir,
    /// The upstream URL with pgbouncer's address in place of PostgreSQL's.
    pub url: String,
}

/// The program: `PGBOUNCER`, else Debian's.
fn binary() -> PathBuf {
    std::env::var_os("PGBOUNCER").map_or_else(|| PathBuf::from("/usr/sbin/pgbouncer"), PathBuf::from)
}

impl Pgbouncer {
    /// Starts pgbouncer in transaction mode in front of the database at `upstream` (a URL with
    /// user and password, as the test cluster gives), lending at most `server_connections`
    /// server connections, handed out round-robin: a client's consecutive transactions land
    /// on different ones, as they would under load. Returns once a client gets through.
    pub async fn start(upstream: &str, server_connections: u32) -> Result<Pgbouncer> {
        let program = binary();
        if !program.is_file() {
            bail!(
                "{} is missing: the connection-pooler test needs Debian's pgbouncer; run \
                 `scripts/pgbouncer` (`make test` does, as root), or set PGBOUNCER",
                program.display()
            );
        }
        let upstream = Url::parse(upstream)?;
        let database = upstream.path().trim_start_matches('/').to_owned();
        let (user, password) = (upstream.username(), upstream.password().context("no password")?);
        let port = free_port()?;
        let dir = tempfile::Builder::new().prefix("jobboard-pgbouncer").tempdir()?;
        let users = dir.path().join("userlist.txt");
        std::fs::write(&users, format!("\"{user}\" \"{password}\"\n"))?;
        let ini = dir.path().join("pgbouncer.ini");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n\
                 {database} = host={host} port={upstream_port} dbname={database}\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = scram-sha-256\n\
                 auth_file = {users}\n\
                 pool_mode = transaction\n\
                 default_pool_size = {server_connections}\n\
                 max_client_conn = 200\n\
                 server_round_robin = 1\n",
                host = upstream.host_str().context("no host")?,
                upstream_port = upstream.port().unwrap_or(5432),
                users = users.display(),
            ),
        )?;
        let mut command = Command::new(&program);
        // pgbouncer refuses to run as root: it reads its files first, then becomes `postgres`.
        if is_root() {
            command.args(["-u", "postgres"]);
        }
        command.arg(&ini);
        let process = Launched::spawn(command, Stop::Kill).context("spawning pgbouncer")?;
        let mut url = upstream.clone();
        url.set_port(Some(port)).map_err(|()| anyhow::anyhow!("setting the port"))?;
        let bouncer = Pgbouncer { process, _dir: dir, url: url.to_string() };
        bouncer.wait_until_it_serves().await?;
        Ok(bouncer)
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        self.process.output(Stream::Stderr)
    }

    /// Connects through it until a statement answers, up to 30 s.
    async fn wait_until_it_serves(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let answered = async {
                // No `extra_float_digits` in the startup packet: pgbouncer refuses it.
                let options: PgConnectOptions = self.url.parse()?;
                let mut conn = options.extra_float_digits(None).connect().await?;
                sqlx::raw_sql("SELECT 1").execute(&mut conn).await?;
                conn.close().await
            };
            match answered.await {
                Ok(()) => return Ok(()),
                Err(error) => ensure!(
                    Instant::now() < deadline,
                    "pgbouncer did not serve within 30 s ({error}):\n{}",
                    self.log()
                ),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Whether this process runs as root (the owner of /proc/self is our effective uid).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}
