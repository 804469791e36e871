//! `jobboard dev`'s stack: an embedded PostgreSQL cluster and an anvil chain (or several, with
//! `--chains N`: chain ids 31337, 31338, ... on consecutive ports), all keeping their data in
//! one project-local directory, with the board deployed and the demo seeded once on each.
//!
//! A second run resumes: the cluster reuses its data directory, anvil reloads its state file
//! (blocks, logs and all), and the indexer continues from its checkpoint. If the chain no
//! longer holds the recorded board (its state file was lost), the board is deployed and seeded
//! again and the old index is dropped, so the database never describes a chain that is gone.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use serde::{Deserialize, Serialize};
use tracing::info;

use super::LocalError;
use super::anvil::{AnvilError, AnvilProcess, find_anvil};
use super::cluster_home::remove_cluster;
use super::demo::{self, DemoError};
use super::postgres::{EmbeddedPostgres, PostgresOptions};
use crate::chain::{ChainError, deploy_board};
use crate::store::admin::{self, IfExists};

/// The database the dev stack indexes into.
pub const DEV_DATABASE: &str = "jobboard";
/// Dev accounts anvil creates: the demo uses the first ten; 10 to 19 are left for people
/// trying the page with a browser wallet, and for the browser tests.
const ACCOUNTS: &str = "20";
/// Seconds between anvil's state dumps, which bound what a crash of the whole machine loses.
const STATE_INTERVAL: &str = "5";
/// Marks a directory as a dev data directory, which `--reset` may delete.
const MARKER: &str = ".jobboard-dev";
/// The cluster directory, inside the data directory (as root, a link to where it lives).
const POSTGRES_DIR: &str = "postgres";

/// How to run the dev stack.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// Where the cluster, the chain state and the demo documents live.
    pub data_dir: PathBuf,
    /// anvil's port on 127.0.0.1.
    pub anvil_port: u16,
    /// PostgreSQL's port on 127.0.0.1.
    pub postgres_port: u16,
    /// Delete the data directory first.
    pub reset: bool,
    /// Seed the demo on a fresh board.
    pub seed: bool,
    /// How many chains to run (at least 1): chain ids [`FIRST_CHAIN_ID`] and up, anvil ports
    /// `anvil_port` and up.
    pub chains: u16,
}

/// The first dev chain's id (anvil's default); the others count up from it.
pub const FIRST_CHAIN_ID: u64 = 31337;

/// Why the dev stack could not come up or go down.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// anvil is missing or did not start.
    #[error(transparent)]
    Anvil(#[from] AnvilError),
    /// The embedded PostgreSQL did not start or stop.
    #[error(transparent)]
    Postgres(#[from] LocalError),
    /// A port the stack needs is taken.
    #[error(
        "port {port} on 127.0.0.1 is already in use (another `jobboard dev`?): stop what listens there, or pass {flag} <free port>"
    )]
    PortInUse {
        /// The port.
        port: u16,
        /// The flag that sets it.
        flag: &'static str,
    },
    /// `--reset` was asked to delete a directory that is not a dev data directory.
    #[error(
        "refusing to reset {0}: it is not a `jobboard dev` data directory (no {MARKER} file); delete it yourself if you mean it"
    )]
    NotADevDirectory(PathBuf),
    /// Deploying the board failed.
    #[error("deploying the board to the dev chain: {0}")]
    Deploy(#[from] ChainError),
    /// Seeding the demo failed.
    #[error(transparent)]
    Demo(#[from] DemoError),
    /// A call to the dev chain failed.
    #[error("talking to the dev chain: {0}")]
    Node(String),
    /// Preparing the database failed.
    #[error("preparing the dev database: {0}")]
    Database(#[from] sqlx::Error),
    /// A file in the data directory could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The board the dev chain holds, as recorded in the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevBoard {
    /// The chain id (31337).
    pub chain_id: u64,
    /// The board's address.
    pub address: Address,
    /// Its deploy block: the indexer's start block.
    pub deploy_block: u64,
    /// The last block of the demo's transactions (the deploy block without a demo).
    pub seeded_through: u64,
}

/// A dev chain beyond the first (`--chains N`), with the board on it.
#[derive(Debug)]
pub struct DevChain {
    /// The chain.
    pub anvil: AnvilProcess,
    /// The board on it.
    pub board: DevBoard,
}

/// The running stack. Stop it with [`DevStack::down`]; dropping it stops every process too.
#[derive(Debug)]
pub struct DevStack {
    /// The cluster.
    pub postgres: EmbeddedPostgres,
    /// The first chain: the one the API and the page show.
    pub anvil: AnvilProcess,
    /// The board on it.
    pub board: DevBoard,
    /// The other chains (`--chains N`), in chain id order; empty by default.
    pub others: Vec<DevChain>,
    /// Whether this run found the board of an earlier run (false: deployed and seeded now).
    pub resumed: bool,
    /// The data directory, absolute.
    pub data_dir: PathBuf,
}

impl DevStack {
    /// Starts the cluster and the chain, and deploys and seeds the board unless the chain
    /// already holds the one recorded in the data directory.
    ///
    /// # Errors
    /// [`DevError`], whose message says what to do.
    pub async fn up(options: &DevOptions) -> Result<DevStack, DevError> {
        let chains = options.chains.max(1);
        for index in 0..chains {
            let port = chain_port(options.anvil_port, index);
            if port != 0 && TcpListener::bind(("127.0.0.1", port)).is_err() {
                return Err(DevError::PortInUse { port, flag: "--anvil-port" });
            }
        }
        let port = options.postgres_port;
        if port != 0 && TcpListener::bind(("127.0.0.1", port)).is_err() {
            return Err(DevError::PortInUse { port, flag: "--postgres-port" });
        }
        let anvil_binary = find_anvil(&std::env::current_dir().unwrap_or_default())
            .or_else(|_| find_anvil(Path::new(env!("CARGO_MANIFEST_DIR"))))?;
        let data_dir = prepare_data_dir(&options.data_dir, options.reset)?;

        let mut pg_options = PostgresOptions::new(data_dir.join(POSTGRES_DIR));
        pg_options.port = options.postgres_port;
        pg_options.durable = true;
        pg_options.max_connections = 50;
        let postgres = EmbeddedPostgres::start(pg_options).await.map_err(|error| match error {
            LocalError::PortInUse { port } => DevError::PortInUse { port, flag: "--postgres-port" },
            other => DevError::Postgres(other),
        })?;

        let mut started = Vec::with_capacity(usize::from(chains));
        for index in 0..chains {
            started.push(ChainFiles::of(&data_dir, index).start(&anvil_binary, options.anvil_port).await?);
        }
        // The index is kept only if every chain still holds its recorded board: a chain that
        // lost it is deployed and seeded again, and the database describes no chain that is gone.
        let resumed = started.iter().all(|chain| chain.recorded.is_some());
        if resumed {
            info!("resuming the dev board");
            // A cluster made anew (its directory was deleted) has no database yet; the
            // indexer then indexes the chain again from the deploy block.
            create_database_if_missing(&postgres).await?;
        } else {
            recreate_database(&postgres).await?;
        }
        let mut chains = Vec::with_capacity(started.len());
        for chain in started {
            let board = match chain.recorded {
                Some(board) => board,
                None => {
                    let board =
                        deploy_and_seed(&chain.anvil, &chain.provider, &chain.files.demo, options.seed)
                            .await?;
                    write_board(&chain.files.board, &board)?;
                    board
                }
            };
            chains.push(DevChain { anvil: chain.anvil, board });
        }
        let mut chains = chains.into_iter();
        let DevChain { anvil, board } = chains.next().ok_or_else(|| DevError::Node("no dev chain".into()))?;
        Ok(DevStack { postgres, anvil, board, others: chains.collect(), resumed, data_dir })
    }

    /// Where `jobboard dev --chains N` writes [`DevStack::boards_file`] (and the banner says).
    pub fn boards_path(&self) -> PathBuf {
        self.data_dir.join("boards.toml")
    }

    /// The boards file of every chain of the stack, polling every `poll_interval` and woken by
    /// each anvil's WebSocket: what `jobboard dev --chains N` indexes, and an example to copy.
    pub fn boards_file(&self, poll_interval: std::time::Duration) -> String {
        use std::fmt::Write as _;
        let mut text = String::from(
            "# The boards `jobboard dev` indexes: one anvil chain each (see jobboard.example.toml).\n",
        );
        let first = std::iter::once((&self.anvil, &self.board));
        for (anvil, board) in first.chain(self.others.iter().map(|c| (&c.anvil, &c.board))) {
            let _ = write!(
                text,
                "\n[[board]]\nname = \"anvil-{chain_id}\"\nchain_id = {chain_id}\nrpc_urls = [\"{rpc}\"]\n",
                chain_id = board.chain_id,
                rpc = anvil.endpoint,
            );
            if let Some(ws) = anvil.ws_endpoint() {
                let _ = writeln!(text, "ws_url = \"{ws}\"");
            }
            let _ = writeln!(
                text,
                "contract = \"{}\"\nstart_block = {}\npoll_interval = \"{}ms\"",
                board.address,
                board.deploy_block,
                poll_interval.as_millis()
            );
        }
        text
    }

    /// The indexer's and the API's database URL.
    pub fn database_url(&self) -> String {
        self.postgres.url(DEV_DATABASE)
    }

    /// Stops the chain (which writes its state file) and then the cluster.
    ///
    /// # Errors
    /// [`DevError::Postgres`] if the cluster does not stop.
    pub async fn down(self) -> Result<(), DevError> {
        let DevStack { postgres, anvil, others, .. } = self;
        for anvil in std::iter::once(anvil).chain(others.into_iter().map(|c| c.anvil)) {
            if !anvil.stop() {
                tracing::warn!("anvil did not stop in time and was killed; its last state dump is kept");
            }
        }
        postgres.stop().await?;
        Ok(())
    }
}

/// Chain `index`'s anvil port: consecutive from `first` (0, an OS-chosen port, stays 0).
fn chain_port(first: u16, index: u16) -> u16 {
    if first == 0 { 0 } else { first.saturating_add(index) }
}

/// Where chain `index` keeps its state, its board record and its demo documents: the first
/// chain's names are those of a one-chain stack, so `--chains 2` resumes a `make dev` chain.
struct ChainFiles {
    index: u16,
    chain_id: u64,
    state: PathBuf,
    board: PathBuf,
    demo: PathBuf,
}

/// A chain's anvil, started, with the board recorded for it if the chain still holds it.
struct StartedChain {
    files: ChainFiles,
    anvil: AnvilProcess,
    provider: RootProvider,
    recorded: Option<DevBoard>,
}

impl ChainFiles {
    fn of(data_dir: &Path, index: u16) -> ChainFiles {
        let chain_id = FIRST_CHAIN_ID + u64::from(index);
        let name = |base: &str, ext: &str| match index {
            0 => data_dir.join(format!("{base}{ext}")),
            _ => data_dir.join(format!("{base}-{chain_id}{ext}")),
        };
        ChainFiles {
            index,
            chain_id,
            state: name("anvil-state", ".json"),
            board: name("board", ".json"),
            demo: name("demo", ""),
        }
    }

    /// Starts this chain's anvil (resuming its state file) and reads back its board record,
    /// kept only if the chain still holds the board.
    async fn start(self, binary: &Path, first_port: u16) -> Result<StartedChain, DevError> {
        let port = chain_port(first_port, self.index).to_string();
        let chain_id = self.chain_id.to_string();
        let state = self.state.to_string_lossy().into_owned();
        let anvil = AnvilProcess::start(
            binary,
            &[
                "--port",
                &port,
                "--chain-id",
                &chain_id,
                "--accounts",
                ACCOUNTS,
                "--state",
                &state,
                "--state-interval",
                STATE_INTERVAL,
            ],
        )?;
        let provider =
            ProviderBuilder::new().disable_recommended_fillers().connect_http(anvil.endpoint.clone());
        let provider = provider.root().clone();
        let recorded = match read_board(&self.board)? {
            Some(board) => {
                let code =
                    provider.get_code_at(board.address).await.map_err(|e| DevError::Node(e.to_string()))?;
                if code.is_empty() {
                    info!(
                        chain_id = self.chain_id,
                        "the dev chain no longer holds the recorded board; deploying and seeding again"
                    );
                    None
                } else {
                    Some(board)
                }
            }
            None => None,
        };
        Ok(StartedChain { files: self, anvil, provider, recorded })
    }
}

/// Creates the data directory (deleting it first on `reset`) and returns it absolute.
fn prepare_data_dir(data_dir: &Path, reset: bool) -> Result<PathBuf, DevError> {
    let io = |action, path: &Path| {
        let path = path.to_owned();
        move |source| DevError::Io { action, path, source }
    };
    if reset && data_dir.exists() {
        let is_empty = std::fs::read_dir(data_dir).map_err(io("reading", data_dir))?.next().is_none();
        if !is_empty && !data_dir.join(MARKER).is_file() {
            return Err(DevError::NotADevDirectory(data_dir.to_owned()));
        }
        remove_cluster(&data_dir.join(POSTGRES_DIR))?;
        std::fs::remove_dir_all(data_dir).map_err(io("deleting", data_dir))?;
        info!(data_dir = %data_dir.display(), "reset: deleted the dev data");
    }
    std::fs::create_dir_all(data_dir).map_err(io("creating", data_dir))?;
    let marker = data_dir.join(MARKER);
    if !marker.is_file() {
        std::fs::write(&marker, "data of `jobboard dev`; `jobboard dev --reset` deletes this directory\n")
            .map_err(io("writing", &marker))?;
    }
    std::fs::canonicalize(data_dir).map_err(io("resolving", data_dir))
}

fn read_board(path: &Path) -> Result<Option<DevBoard>, DevError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DevError::Io { action: "reading", path: path.to_owned(), source }),
    }
}

fn write_board(path: &Path, board: &DevBoard) -> Result<(), DevError> {
    let json = serde_json::to_vec_pretty(board).map_err(|e| DevError::Node(e.to_string()))?;
    std::fs::write(path, json).map_err(|source| DevError::Io {
        action: "writing",
        path: path.to_owned(),
        source,
    })
}

/// Drops and recreates the dev database: a new board means the old index describes nothing.
async fn recreate_database(postgres: &EmbeddedPostgres) -> Result<(), DevError> {
    admin::create_database(&postgres.connect_options("postgres"), DEV_DATABASE, IfExists::Replace).await?;
    Ok(())
}

/// Creates the dev database unless it exists.
async fn create_database_if_missing(postgres: &EmbeddedPostgres) -> Result<(), DevError> {
    if admin::create_database(&postgres.connect_options("postgres"), DEV_DATABASE, IfExists::Keep).await? {
        info!(database = DEV_DATABASE, "the cluster is new: created the dev database");
    }
    Ok(())
}

/// Deploys the board from dev account 0 and seeds the demo from the others, keeping the demo's
/// documents in `demo_dir`.
async fn deploy_and_seed(
    anvil: &AnvilProcess,
    provider: &RootProvider,
    demo_dir: &Path,
    seed: bool,
) -> Result<DevBoard, DevError> {
    let wallet = anvil.wallet().ok_or_else(|| DevError::Node("anvil printed no dev keys".into()))?;
    let deployer = ProviderBuilder::new().wallet(wallet).connect_http(anvil.endpoint.clone());
    let deployment = deploy_board(&deployer).await?;
    info!(address = %deployment.address, block = deployment.block, "deployed the dev board");
    let mut board = DevBoard {
        chain_id: deployment.chain_id,
        address: deployment.address,
        deploy_block: deployment.block,
        seeded_through: deployment.block,
    };
    if seed {
        let accounts: Vec<Address> = anvil.keys.iter().map(|key| key.address()).collect();
        let seeded =
            demo::seed(provider, deployment.address, deployment.chain_id, &accounts, demo_dir).await?;
        info!(
            transactions = seeded.transactions,
            applications = seeded.applications.len(),
            "seeded the demo"
        );
        board.seeded_through = seeded.last_block;
    }
    Ok(board)
}
