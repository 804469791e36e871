//! The local stack: processes that `jobboard dev`, the benches and the tests start themselves
//! (an anvil chain and a throwaway PostgreSQL cluster), so nothing needs to be running first.
//!
//! Nothing here is on the indexing path: an operator's deployment points the indexer and the
//! API at a real node and a real database.

pub mod anvil;
pub mod banner;
pub mod cluster_home;
pub mod demo;
pub mod dev;
pub mod postgres;
pub mod process;

use std::path::PathBuf;
use std::time::Duration;

/// Why a process of the local stack could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// `initdb` or `postgres` is neither on `PATH` nor under `/usr/lib/postgresql/*/bin`.
    #[error(
        "PostgreSQL server binaries (initdb, postgres) not found: install postgresql-15 \
         (apt-get install postgresql) or put them on PATH"
    )]
    PostgresNotInstalled,
    /// We run as root, which PostgreSQL refuses, and there is no `postgres` user to run it as.
    #[error(
        "running as root, and there is no `postgres` user to run PostgreSQL as: create one \
         (useradd --system postgres) or run as a normal user"
    )]
    NoServerUser,
    /// Something else listens on the requested port.
    #[error("port {port} on 127.0.0.1 is already in use: choose another port, or stop what listens there")]
    PortInUse {
        /// The port asked for.
        port: u16,
    },
    /// A live PostgreSQL server already runs on the data directory.
    #[error(
        "data directory {data_dir} is in use by a running PostgreSQL server (pid {pid}): stop it, \
         or use another data directory"
    )]
    DataDirInUse {
        /// The data directory.
        data_dir: PathBuf,
        /// The running postmaster's process id, from its `postmaster.pid`.
        pid: u32,
    },
    /// `initdb` failed to create the cluster.
    #[error("initdb failed for data directory {data_dir}: {output}")]
    Initdb {
        /// The data directory.
        data_dir: PathBuf,
        /// What initdb printed.
        output: String,
    },
    /// `pg_basebackup` failed to copy the primary for a standby.
    #[error("pg_basebackup failed for standby data directory {data_dir}: {output}")]
    BaseBackup {
        /// The standby's data directory.
        data_dir: PathBuf,
        /// What pg_basebackup printed.
        output: String,
    },
    /// The server exited before it accepted connections.
    #[error(
        "PostgreSQL exited while starting on port {port} (data directory {data_dir}); server log:\n{log_tail}"
    )]
    ServerExited {
        /// The port it was to listen on.
        port: u16,
        /// The data directory.
        data_dir: PathBuf,
        /// The last lines of the server log.
        log_tail: String,
    },
    /// The server runs but did not accept connections in time.
    #[error(
        "PostgreSQL did not accept connections on port {port} within {waited:?} (data directory \
         {data_dir}); server log:\n{log_tail}"
    )]
    NotReady {
        /// The port.
        port: u16,
        /// The data directory.
        data_dir: PathBuf,
        /// How long we waited.
        waited: Duration,
        /// The last lines of the server log.
        log_tail: String,
    },
    /// The server did not stop, even after an immediate-shutdown request.
    #[error("PostgreSQL on data directory {data_dir} did not stop within {waited:?}")]
    NotStopped {
        /// The data directory.
        data_dir: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// A directory a cluster would live in is not safe or not ours to use.
    #[error("cannot keep the PostgreSQL cluster in {path}: {reason}")]
    UnsafeClusterDir {
        /// The directory or link.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: &'static str,
    },
    /// A file-system or process operation failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done, naming the path or program.
        action: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl LocalError {
    /// Whether trying again can help: a busy port or data directory may be freed, and a slow
    /// start may succeed on a less loaded machine; missing binaries, a missing user or a failed
    /// initdb need someone to act first.
    pub fn is_transient(&self) -> bool {
        match self {
            LocalError::PortInUse { .. }
            | LocalError::DataDirInUse { .. }
            | LocalError::NotReady { .. }
            | LocalError::NotStopped { .. } => true,
            LocalError::PostgresNotInstalled
            | LocalError::NoServerUser
            | LocalError::Initdb { .. }
            | LocalError::BaseBackup { .. }
            | LocalError::ServerExited { .. }
            | LocalError::UnsafeClusterDir { .. }
            | LocalError::Io { .. } => false,
        }
    }
}
