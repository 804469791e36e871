//! An embedded, throwaway PostgreSQL cluster: `jobboard dev`, the benches and the tests start
//! their own instead of needing a system service.
//!
//! The server can never outlive its owner, even one killed with SIGKILL. `postgres` runs under
//! a small `sh` supervisor (in a process group of its own, so a Ctrl-C at the terminal reaches
//! only the owner) whose stdin is a pipe that only this process writes to. A watcher in the
//! supervisor blocks reading that pipe; reading returns end-of-file exactly when the last
//! write end closes: on [`EmbeddedPostgres::stop`], on drop, or when the kernel closes the
//! descriptors of a dead owner. The watcher then sends the postmaster SIGINT (fast shutdown:
//! open transactions roll back, the data stays consistent) and the supervisor exits once the
//! server has. No `pg_ctl`: it daemonizes, which would cut the server loose from the pipe.
//!
//! As root, PostgreSQL refuses to run, so `initdb`, the supervisor and the server run as the
//! `postgres` user, in a cluster directory created for it (see [`super::cluster_home`]):
//! nothing outside that directory changes owner or mode. Every connection needs the password
//! drawn when the cluster was created; [`EmbeddedPostgres::url`] carries it.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection};
use tracing::{info, warn};

use super::LocalError;
use super::cluster_home::{ClusterHome, Password, ServerUser};
use super::process::{Lifeline, lifeline_command};
use crate::store::admin;

/// How long [`EmbeddedPostgres::start`] waits for the server to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a fast shutdown may take before [`EmbeddedPostgres::stop`] asks for an immediate
/// one (a durable cluster's shutdown checkpoint writes every dirty buffer).
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an immediate shutdown may take before stopping gives up.
const IMMEDIATE_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long drop blocks waiting for the server to stop; after that it keeps stopping on its own.
const DROP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long start-up waits for a previous server on the same data directory to finish
/// shutting down (its owner was just killed, and the restart came quickly).
const PREVIOUS_SERVER_TIMEOUT: Duration = Duration::from_secs(60);
/// How many ports are tried when the caller lets us choose (another process can take a free
/// port between our check and the server's bind).
const PORT_ATTEMPTS: usize = 3;
/// The server log, inside the data directory (written after initdb, which needs an empty one).
const LOG_FILE: &str = "server.log";

/// How to run the cluster.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// The cluster directory: initialised if it holds no cluster yet, else reused, so a second
    /// run resumes with the same data. It holds the server's data directory (`pgdata/`) and
    /// the password; as root it is a link to where the `postgres` user keeps it.
    pub data_dir: PathBuf,
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// `false` turns off fsync, synchronous commit and full-page writes: much faster, for tests
    /// and benches, but a machine crash can lose or corrupt data. `jobboard dev` keeps it on.
    pub durable: bool,
    /// The server's `max_connections`; parallel tests each hold a small pool.
    pub max_connections: u32,
    /// Delete the data directory once the server has stopped because its owner let go (stop,
    /// drop or death). For the tests' throwaway clusters, which nothing else would clean up.
    pub ephemeral: bool,
}

impl PostgresOptions {
    /// Options for a test or bench cluster in `data_dir`: a free port, not durable, 200
    /// connections, data kept after stopping.
    pub fn new(data_dir: impl Into<PathBuf>) -> PostgresOptions {
        PostgresOptions {
            data_dir: data_dir.into(),
            port: 0,
            durable: false,
            max_connections: 200,
            ephemeral: false,
        }
    }
}

/// A running cluster with superuser `postgres`, password authentication (scram-sha-256),
/// listening on 127.0.0.1 only (no Unix socket). Stopped by [`EmbeddedPostgres::stop`], on drop, and by its supervisor
/// if this process dies.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    supervisor: Child,
    /// The write end of the supervisor's stdin: closing it is the stop signal.
    lifeline: Option<ChildStdin>,
    port: u16,
    /// The server's data directory.
    data_dir: PathBuf,
    /// The superuser's password.
    password: Password,
    /// Where this run's part of the (appended) server log starts.
    log_offset: u64,
}

impl EmbeddedPostgres {
    /// Initialises `options.data_dir` if it holds no cluster, starts the server and waits (up
    /// to 30 s) until it accepts connections.
    ///
    /// # Errors
    /// [`LocalError::PostgresNotInstalled`] without the server binaries;
    /// [`LocalError::PortInUse`] or [`LocalError::DataDirInUse`] when another process holds
    /// the port or the data directory; [`LocalError::Initdb`], [`LocalError::ServerExited`] or
    /// [`LocalError::NotReady`] (with the server log's tail) when the server does not come up;
    /// [`LocalError::NoServerUser`] as root without a `postgres` user.
    pub async fn start(options: PostgresOptions) -> Result<EmbeddedPostgres, LocalError> {
        let started = Instant::now();
        let binaries = find_binaries()?;
        let user = server_user()?;
        if options.port != 0 && !port_is_free(options.port) {
            return Err(LocalError::PortInUse { port: options.port });
        }
        let home = ClusterHome::prepare(&options.data_dir, user)?;
        let data_dir = home.pgdata.clone();
        wait_for_previous_server(&data_dir).await?;
        let initialised = !home.is_initialised();
        let password = if initialised {
            let password = home.new_password(user)?;
            initdb(&binaries.initdb, &home, user, options.durable).await?;
            password
        } else {
            home.password()?
        };
        let remove = if options.ephemeral { Some(home.dir.as_path()) } else { None };
        let server = Server { postgres: &binaries.postgres, data_dir: &data_dir, remove, password, user };
        let result = Self::spawn_until_ready(&server, &options).await;
        match result {
            Ok(cluster) => {
                info!(
                    port = cluster.port,
                    data_dir = %data_dir.display(),
                    initialised,
                    elapsed_ms = started.elapsed().as_millis(),
                    "PostgreSQL started"
                );
                Ok(cluster)
            }
            Err(error) => {
                if options.ephemeral && initialised {
                    // Best effort: the cluster was ours alone, and nothing else will remove it.
                    let _ = std::fs::remove_dir_all(&home.dir);
                }
                Err(error)
            }
        }
    }

    /// Starts a streaming replica of `primary` in `options.data_dir`, a hot standby that
    /// answers reads and replays the primary's writes: a base backup (`pg_basebackup -R`, which
    /// also writes the connection to the primary) on first start, then the server; waits until
    /// it accepts connections. Its superuser and password are the primary's.
    ///
    /// # Errors
    /// As [`EmbeddedPostgres::start`]; [`LocalError::BaseBackup`] when the backup fails.
    pub async fn start_standby(
        primary: &EmbeddedPostgres,
        options: PostgresOptions,
    ) -> Result<EmbeddedPostgres, LocalError> {
        let binaries = find_binaries()?;
        let user = server_user()?;
        let home = ClusterHome::prepare(&options.data_dir, user)?;
        let data_dir = home.pgdata.clone();
        wait_for_previous_server(&data_dir).await?;
        if !home.is_initialised() {
            home.write_password(&primary.password, user)?;
            base_backup(&binaries.pg_basebackup, &home, user, primary, options.durable).await?;
        }
        let password = home.password()?;
        let remove = if options.ephemeral { Some(home.dir.as_path()) } else { None };
        let server = Server { postgres: &binaries.postgres, data_dir: &data_dir, remove, password, user };
        let standby = Self::spawn_until_ready(&server, &options).await?;
        info!(port = standby.port, primary = primary.port, data_dir = %data_dir.display(), "PostgreSQL standby started");
        Ok(standby)
    }

    /// Spawns the supervised server, retrying with another port when the caller let us choose
    /// and the chosen one was taken before the server could bind it.
    async fn spawn_until_ready(
        server: &Server<'_>,
        options: &PostgresOptions,
    ) -> Result<EmbeddedPostgres, LocalError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = match options.port {
                0 => free_port()?,
                port => port,
            };
            let mut cluster = Self::spawn(server, port, options)?;
            match cluster.wait_until_ready().await {
                Ok(()) => return Ok(cluster),
                Err(LocalError::PortInUse { port }) if options.port == 0 && attempt < PORT_ATTEMPTS => {
                    warn!(port, "the chosen port was taken before PostgreSQL could bind it; trying another");
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Starts the supervisor, which starts the server.
    fn spawn(
        server: &Server<'_>,
        port: u16,
        options: &PostgresOptions,
    ) -> Result<EmbeddedPostgres, LocalError> {
        let Server { postgres, data_dir, remove, user, .. } = *server;
        let log_offset = std::fs::metadata(data_dir.join(LOG_FILE)).map(|m| m.len()).unwrap_or(0);
        let mut settings = vec![
            format!("port={port}"),
            "listen_addresses=127.0.0.1".to_owned(),
            // No Unix socket: nothing under /var/run is needed, and no path-length limit applies.
            "unix_socket_directories=".to_owned(),
            format!("max_connections={}", options.max_connections),
            // A reused data directory may have it on; the log must reach server.log.
            "logging_collector=off".to_owned(),
        ];
        if !options.durable {
            settings
                .extend(["fsync=off", "synchronous_commit=off", "full_page_writes=off"].map(str::to_owned));
        }
        // Under the lifeline (`process::lifeline_command`): the server stops (SIGINT, a fast
        // shutdown) when this process lets go, even on -9, and an ephemeral cluster is deleted.
        let log = data_dir.join(LOG_FILE);
        let lifeline =
            Lifeline { name: "jobboard-postgres-supervisor", signal: "INT", log: Some(&log), remove };
        let mut command = lifeline_command(postgres, lifeline);
        command.arg("-D").arg(data_dir);
        for setting in &settings {
            command.arg("-c").arg(setting);
        }
        command
            .current_dir(data_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(user) = user {
            command.uid(user.uid).gid(user.gid);
        }
        let mut supervisor = command.spawn().map_err(io_error("starting the PostgreSQL supervisor (sh)"))?;
        let lifeline = supervisor.stdin.take();
        Ok(EmbeddedPostgres {
            supervisor,
            lifeline,
            port,
            data_dir: data_dir.to_owned(),
            password: server.password.clone(),
            log_offset,
        })
    }

    /// Connects until the server answers, and checks that the answer comes from our data
    /// directory (not from another server that took the port first).
    async fn wait_until_ready(&mut self) -> Result<(), LocalError> {
        let started = Instant::now();
        let options = self.connect_options("postgres").disable_statement_logging();
        loop {
            if let Ok(Ok(mut conn)) = tokio::time::timeout(Duration::from_secs(2), options.connect()).await {
                let served = admin::data_directory(&mut conn).await;
                let _ = conn.close().await;
                if let Ok(served) = served
                    && Path::new(&served) != self.data_dir
                {
                    return Err(LocalError::PortInUse { port: self.port });
                }
                return Ok(());
            }
            if !matches!(self.supervisor.try_wait(), Ok(None)) {
                return Err(self.exit_error());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(LocalError::NotReady {
                    port: self.port,
                    data_dir: self.data_dir.clone(),
                    waited: READY_TIMEOUT,
                    log_tail: self.log_tail(30),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Explains why the server exited during start-up, from this run's part of its log.
    fn exit_error(&self) -> LocalError {
        let log_tail = self.log_tail(30);
        if log_tail.contains("Address already in use") {
            LocalError::PortInUse { port: self.port }
        } else if log_tail.contains("lock file \"postmaster.pid\" already exists") {
            let pid = read_pid_file(&self.data_dir).map_or(0, |file| file.pid);
            LocalError::DataDirInUse { data_dir: self.data_dir.clone(), pid }
        } else {
            LocalError::ServerExited { port: self.port, data_dir: self.data_dir.clone(), log_tail }
        }
    }

    /// The last `lines` lines the server logged since this start.
    fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read(self.log_path()).unwrap_or_default();
        let start = usize::try_from(self.log_offset).unwrap_or(0).min(text.len());
        let text = String::from_utf8_lossy(&text[start..]);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's data directory (`pgdata` in the cluster directory), absolute and with
    /// symlinks resolved.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server log, to point a user at when something goes wrong.
    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join(LOG_FILE)
    }

    /// A connection URL for `database` as the superuser `postgres`, with its password: all a
    /// client needs (the password is hex, so it needs no escaping).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres:{}@127.0.0.1:{}/{database}", self.password.as_str(), self.port)
    }

    /// The URL of the `postgres` maintenance database, for `CREATE DATABASE` and the like.
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    /// Connection options for `database`, built without reading `PG*` environment variables
    /// or `~/.pgpass`, which are meant for other servers.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .host("127.0.0.1")
            .port(self.port)
            .username("postgres")
            .password(self.password.as_str())
            .database(database)
            .ssl_mode(PgSslMode::Disable)
    }

    /// Stops the server with a fast shutdown (open transactions roll back) and waits for it;
    /// if that takes over a minute, asks for an immediate shutdown.
    ///
    /// # Errors
    /// [`LocalError::NotStopped`] if the server is still running after both;
    /// [`LocalError::Io`] if its state cannot be read.
    pub async fn stop(mut self) -> Result<(), LocalError> {
        let started = Instant::now();
        drop(self.lifeline.take());
        if self.wait_for_exit(STOP_TIMEOUT).await? {
            info!(port = self.port, elapsed_ms = started.elapsed().as_millis(), "PostgreSQL stopped");
            return Ok(());
        }
        warn!(port = self.port, "PostgreSQL did not finish a fast shutdown; asking for an immediate one");
        if let Some(pid) = live_server_pid(&self.data_dir) {
            let _ = Command::new("kill").arg("-QUIT").arg(pid.to_string()).status();
        }
        if self.wait_for_exit(IMMEDIATE_STOP_TIMEOUT).await? {
            return Ok(());
        }
        Err(LocalError::NotStopped {
            data_dir: self.data_dir.clone(),
            waited: STOP_TIMEOUT + IMMEDIATE_STOP_TIMEOUT,
        })
    }

    /// Whether the supervisor (and so the server) exited within `within`.
    async fn wait_for_exit(&mut self, within: Duration) -> Result<bool, LocalError> {
        let started = Instant::now();
        loop {
            if self.supervisor.try_wait().map_err(io_error("waiting for PostgreSQL to stop"))?.is_some() {
                return Ok(true);
            }
            if started.elapsed() > within {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        // Closing the pipe is the stop signal. Wait a little, so that the port and the data
        // directory are free when drop returns; if the server is slower than that, it goes on
        // stopping by itself.
        if self.lifeline.take().is_some() {
            let started = Instant::now();
            while started.elapsed() < DROP_TIMEOUT {
                if !matches!(self.supervisor.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            warn!(port = self.port, "PostgreSQL still stopping after drop; leaving it to finish");
        }
    }
}

/// The two server binaries, from the same installation.
struct Binaries {
    initdb: PathBuf,
    postgres: PathBuf,
    pg_basebackup: PathBuf,
}

/// Finds a directory holding both `initdb` and `postgres`: on `PATH` first, else the newest
/// `/usr/lib/postgresql/<version>/bin` (where Debian's packages put them, off `PATH`).
fn find_binaries() -> Result<Binaries, LocalError> {
    let on_path: Vec<PathBuf> =
        std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect()).unwrap_or_default();
    let mut packaged: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let version: Option<Vec<u32>> = name.split('.').map(|part| part.parse().ok()).collect();
                    Some((version?, entry.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    packaged.sort_by(|a, b| b.0.cmp(&a.0));
    on_path
        .into_iter()
        .chain(packaged.into_iter().map(|(_, dir)| dir))
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        .map(|dir| {
            // PATH often holds only links to initdb and postgres (as here: /usr/local/bin);
            // the client tools are beside the server's real binary.
            let real = std::fs::canonicalize(dir.join("postgres")).ok();
            let beside = real.as_deref().and_then(Path::parent).unwrap_or(&dir).to_owned();
            Binaries {
                initdb: dir.join("initdb"),
                postgres: dir.join("postgres"),
                pg_basebackup: beside.join("pg_basebackup"),
            }
        })
        .ok_or(LocalError::PostgresNotInstalled)
}

/// What starting the server needs.
struct Server<'a> {
    postgres: &'a Path,
    data_dir: &'a Path,
    /// The cluster directory, for an ephemeral cluster.
    remove: Option<&'a Path>,
    password: Password,
    user: Option<ServerUser>,
}

/// `None` for a normal user (the server runs as us); the `postgres` user when we are root,
/// which PostgreSQL refuses to run as.
fn server_user() -> Result<Option<ServerUser>, LocalError> {
    // The owner of /proc/self is our effective uid: no libc call, so no unsafe code.
    let root = std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0);
    if !root {
        return Ok(None);
    }
    let id = |flag: &str| -> Result<u32, LocalError> {
        let output = Command::new("id")
            .arg(flag)
            .arg("postgres")
            .output()
            .map_err(io_error("running `id postgres` to find the postgres user"))?;
        if !output.status.success() {
            return Err(LocalError::NoServerUser);
        }
        String::from_utf8_lossy(&output.stdout).trim().parse().map_err(|_| LocalError::NoServerUser)
    };
    Ok(Some(ServerUser { uid: id("-u")?, gid: id("-g")? }))
}

/// Creates the cluster: superuser `postgres` with the password in the cluster directory,
/// required for every connection (scram-sha-256), UTF-8 with the C locale (present on every
/// system).
async fn initdb(
    initdb: &Path,
    home: &ClusterHome,
    user: Option<ServerUser>,
    durable: bool,
) -> Result<(), LocalError> {
    let data_dir = &home.pgdata;
    let mut command = tokio::process::Command::new(initdb);
    command
        .arg("--pgdata")
        .arg(data_dir)
        .arg("--pwfile")
        .arg(home.password_file())
        .args(["--username=postgres", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"])
        .current_dir(&home.dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    match run_tool(command, initdb, user, durable).await? {
        None => Ok(()),
        Some(output) => Err(LocalError::Initdb { data_dir: data_dir.to_owned(), output }),
    }
}

/// Runs one of PostgreSQL's tools (`--no-sync` unless `durable`, as the server's user): `None`
/// when it succeeded, else what it printed.
async fn run_tool(
    mut command: tokio::process::Command,
    program: &Path,
    user: Option<ServerUser>,
    durable: bool,
) -> Result<Option<String>, LocalError> {
    if !durable {
        command.arg("--no-sync");
    }
    if let Some(user) = user {
        command.uid(user.uid).gid(user.gid);
    }
    let output = command.output().await.map_err(io_error(format!("running {}", program.display())))?;
    Ok((!output.status.success())
        .then(|| String::from_utf8_lossy(&[output.stdout, output.stderr].concat()).trim().to_owned()))
}

/// Copies `primary` into `home` with `pg_basebackup`, streaming the WAL written meanwhile, and
/// with `-R` (a `standby.signal` and the primary's connection in `postgresql.auto.conf`).
async fn base_backup(
    pg_basebackup: &Path,
    home: &ClusterHome,
    user: Option<ServerUser>,
    primary: &EmbeddedPostgres,
    durable: bool,
) -> Result<(), LocalError> {
    let data_dir = &home.pgdata;
    if data_dir.exists() {
        std::fs::remove_dir_all(data_dir).map_err(io_error(format!("clearing {}", data_dir.display())))?;
    }
    let mut command = tokio::process::Command::new(pg_basebackup);
    command
        .arg("--pgdata")
        .arg(data_dir)
        .args(["--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast"])
        .args(["--host=127.0.0.1", &format!("--port={}", primary.port), "--username=postgres"])
        .env("PGPASSWORD", primary.password.as_str())
        .current_dir(&home.dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    match run_tool(command, pg_basebackup, user, durable).await? {
        None => Ok(()),
        Some(output) => Err(LocalError::BaseBackup { data_dir: data_dir.to_owned(), output }),
    }
}

/// What start-up needs from a `postmaster.pid` (see PostgreSQL's `pidfile.h`).
struct PidFile {
    pid: u32,
    /// Line 8: the postmaster is shutting down.
    stopping: bool,
}

fn read_pid_file(data_dir: &Path) -> Option<PidFile> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let mut lines = text.lines();
    let pid = lines.next()?.trim().parse().ok()?;
    let stopping = lines.nth(6).is_some_and(|status| status.trim() == "stopping");
    Some(PidFile { pid, stopping })
}

/// The pid of a live postmaster serving `data_dir`, if there is one. A `postmaster.pid` left
/// by a killed server names a dead process, or, after a reboot or in a container, possibly an
/// unrelated live one; only a process named `postgres` whose working directory is `data_dir`
/// (the postmaster changes into it) counts.
fn live_server_pid(data_dir: &Path) -> Option<u32> {
    let pid = read_pid_file(data_dir)?.pid;
    server_process_matches(pid, data_dir).then_some(pid)
}

fn server_process_matches(pid: u32, data_dir: &Path) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // "pid (comm) state ...": comm may contain spaces and parentheses, so split at the last ')'.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { return false };
    let comm = &stat[open + 1..close];
    let zombie = stat[close + 1..].trim_start().starts_with('Z');
    if comm != "postgres" || zombie {
        return false;
    }
    // Unreadable (another user's process without root): assume it is the server, as
    // PostgreSQL itself would.
    std::fs::read_link(format!("/proc/{pid}/cwd")).map_or(true, |cwd| cwd == data_dir)
}

/// Refuses a data directory a live server owns, waiting first for one that is shutting down
/// (its owner was killed just before this start); removes a `postmaster.pid` whose pid now
/// belongs to an unrelated process, which would make PostgreSQL refuse to start.
async fn wait_for_previous_server(data_dir: &Path) -> Result<(), LocalError> {
    let started = Instant::now();
    loop {
        let Some(file) = read_pid_file(data_dir) else { return Ok(()) };
        let process_exists = Path::new(&format!("/proc/{}", file.pid)).exists();
        if !server_process_matches(file.pid, data_dir) {
            if process_exists {
                warn!(pid = file.pid, data_dir = %data_dir.display(), "removing a stale postmaster.pid naming an unrelated process");
                std::fs::remove_file(data_dir.join("postmaster.pid"))
                    .map_err(io_error(format!("removing the stale {}/postmaster.pid", data_dir.display())))?;
            }
            // A dead pid: PostgreSQL sees that itself and starts anyway.
            return Ok(());
        }
        if !file.stopping || started.elapsed() > PREVIOUS_SERVER_TIMEOUT {
            return Err(LocalError::DataDirInUse { data_dir: data_dir.to_owned(), pid: file.pid });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn free_port() -> Result<u16, LocalError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(io_error("finding a free port on 127.0.0.1"))?;
    Ok(listener.local_addr().map_err(io_error("finding a free port on 127.0.0.1"))?.port())
}

fn io_error(action: impl Into<String>) -> impl FnOnce(io::Error) -> LocalError {
    let action = action.into();
    move |source| LocalError::Io { action, source }
}
