//! The boards file (`--config jobboard.toml`): the boards one `index` or `run` process follows,
//! on one or more chains, and the process-wide settings beside them. Parsed into typed values
//! at start-up, before anything connects, so a mistake fails fast naming the file, the board
//! and the key; the single-board flags (`crate::cli`) build the same [`BoardConfig`].
//!
//! ```toml
//! database_url = "postgres://jobboard@localhost/jobboard"   # or --database-url
//! metrics_listen = "127.0.0.1:9100"                          # optional
//!
//! [[board]]
//! name = "base"
//! chain_id = 8453
//! rpc_urls = ["https://mainnet.base.org"]
//! contract = "0x…"
//! start_block = 12345678
//! poll_interval = "1s"                                       # every other key is optional
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use alloy::primitives::Address;
use serde::Deserialize;
use url::Url;

use crate::args::parse_duration;
use crate::chain::RetryPolicy;
use crate::contract::LogAt;
use crate::indexer::IndexerConfig;

/// One board to index: where it is, which nodes to ask, and how to index it.
#[derive(Debug, Clone)]
pub struct BoardConfig {
    /// A short name operators know the board by ("base", "bsc-testnet"), shown in its status.
    pub name: String,
    /// The chain id every RPC URL must report; a node on another chain stops this board.
    pub chain_id: u64,
    /// The node's JSON-RPC URLs, in preference order (failover, as `--rpc-url`).
    pub rpc_urls: Vec<Url>,
    /// The node's WebSocket URL: new heads wake the indexer at once (as `--ws-url`).
    pub ws_url: Option<Url>,
    /// Time-out of one JSON-RPC request (as `--rpc-timeout`).
    pub rpc_timeout: Duration,
    /// The indexer's settings: contract, start block, confirmations, poll interval, limits.
    pub indexer: IndexerConfig,
}

/// What the boards file says: the boards, and the process-wide settings it sets.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The file read, for messages.
    pub path: PathBuf,
    /// `database_url`, if the file sets it (`--database-url` wins over it).
    pub database_url: Option<String>,
    /// `metrics_listen`, if the file sets it (`--metrics-listen` wins over it).
    pub metrics_listen: Option<SocketAddr>,
    /// The boards, in file order.
    pub boards: Vec<BoardConfig>,
}

/// Why the boards file cannot be used. Every message names the file, and the board and key
/// where there is one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("reading the config file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML, or a top-level key is unknown or of the wrong type.
    #[error("config file {}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message (with the line it points at).
        message: String,
    },
    /// A board's table has an unknown key, lacks a required one, or has one of the wrong type.
    #[error("config file {}: {board}: {message}", path.display())]
    BoardSyntax {
        /// The file.
        path: PathBuf,
        /// Which board: its position and, when it has one, its name.
        board: String,
        /// The TOML deserializer's message, which names the key.
        message: String,
    },
    /// A key's value parsed but cannot be used.
    #[error("config file {}: {board}: {key}: {message}", path.display())]
    Value {
        /// The file.
        path: PathBuf,
        /// Which board (or "top level").
        board: String,
        /// The key.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The file lists no board.
    #[error("config file {}: no [[board]] listed; add one (see jobboard.example.toml)", path.display())]
    NoBoards {
        /// The file.
        path: PathBuf,
    },
    /// Two boards are the same contract on the same chain: one writer per board.
    #[error("config file {}: {second} is the same board as {first} (chain {chain_id}, contract {contract})", path.display())]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// The board listed first.
        first: String,
        /// The board listed again.
        second: String,
        /// Their chain.
        chain_id: u64,
        /// Their contract.
        contract: Address,
    },
    /// Two boards share a name: the status rows and `--chain` tell boards apart by it.
    #[error("config file {}: {second} has the same name as {first}: give each board its own name", path.display())]
    DuplicateName {
        /// The file.
        path: PathBuf,
        /// The board listed first.
        first: String,
        /// The board listed again.
        second: String,
    },
    /// The file lists several boards and a command that talks to one was not told which.
    #[error(
        "config file {} lists {count} boards: pick one with --chain <name or chain id> \
         (JOBBOARD_CHAIN): {boards}",
        path.display()
    )]
    NoChainPicked {
        /// The file.
        path: PathBuf,
        /// How many boards it lists.
        count: usize,
        /// Its boards, as `"name" (chain N)`.
        boards: String,
    },
    /// `--chain` is neither the name nor the chain id of a board in the file.
    #[error("config file {} has no board {chain:?} (by name or chain id): it lists {boards}", path.display())]
    NoSuchBoard {
        /// The file.
        path: PathBuf,
        /// What `--chain` said.
        chain: String,
        /// Its boards, as `"name" (chain N)`.
        boards: String,
    },
    /// `--chain` is a chain id with several boards on it (several contracts on one chain).
    #[error(
        "config file {} has several boards on chain {chain_id}: {boards}; pick one with --chain <name>",
        path.display()
    )]
    SeveralOnChain {
        /// The file.
        path: PathBuf,
        /// The chain id given.
        chain_id: u64,
        /// The boards on it, as `"name" (chain N)`.
        boards: String,
    },
}

/// The file as TOML gives it: boards kept as tables so each is checked on its own and its
/// errors name it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    database_url: Option<String>,
    metrics_listen: Option<String>,
    #[serde(default)]
    board: Vec<toml::Table>,
}

/// One `[[board]]` as TOML gives it; values are checked and converted in [`RawBoard::check`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoard {
    name: String,
    chain_id: u64,
    rpc_urls: Vec<String>,
    ws_url: Option<String>,
    contract: String,
    start_block: u64,
    confirmations: Option<u64>,
    poll_interval: Option<String>,
    rpc_timeout: Option<String>,
    fetch_concurrency: Option<u16>,
    batch_events: Option<u32>,
    projection_events: Option<u32>,
    max_range: Option<u64>,
    #[serde(default)]
    skip_logs: Vec<String>,
}

impl ConfigFile {
    /// Reads and checks the boards file at `path`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file, the board and the key at fault.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        ConfigFile::parse(path, &text)
    }

    /// Checks `text` as the boards file `path`.
    ///
    /// # Errors
    /// As [`ConfigFile::load`].
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| ConfigError::Syntax { path: path.to_owned(), message: e.to_string() })?;
        let value = |key, message: String| ConfigError::Value {
            path: path.to_owned(),
            board: "top level".into(),
            key,
            message,
        };
        let database_url = raw
            .database_url
            .map(|url| crate::cli::parse_database_url(&url).map_err(|m| value("database_url", m)))
            .transpose()?;
        let metrics_listen = raw
            .metrics_listen
            .map(|addr| {
                SocketAddr::from_str(&addr).map_err(|_| {
                    value("metrics_listen", format!("{addr:?} is not an address like 127.0.0.1:9100"))
                })
            })
            .transpose()?;
        if raw.board.is_empty() {
            return Err(ConfigError::NoBoards { path: path.to_owned() });
        }
        let mut boards = Vec::with_capacity(raw.board.len());
        let mut seen: HashMap<(u64, Address), String> = HashMap::new();
        let mut names: HashMap<String, String> = HashMap::new();
        for (index, table) in raw.board.into_iter().enumerate() {
            let named = board_label(index, table.get("name").and_then(toml::Value::as_str));
            let board: RawBoard =
                serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                    let key = e.path().to_string();
                    let message = e.into_inner().message().trim_end().to_owned();
                    ConfigError::BoardSyntax {
                        path: path.to_owned(),
                        board: named.clone(),
                        message: if key == "." { message } else { format!("{key}: {message}") },
                    }
                })?;
            let board = board.check().map_err(|(key, message)| ConfigError::Value {
                path: path.to_owned(),
                board: named.clone(),
                key,
                message,
            })?;
            let key = (board.chain_id, board.indexer.contract);
            if let Some(first) = seen.insert(key, named.clone()) {
                return Err(ConfigError::Duplicate {
                    path: path.to_owned(),
                    first,
                    second: named,
                    chain_id: key.0,
                    contract: key.1,
                });
            }
            if let Some(first) = names.insert(board.name.clone(), named.clone()) {
                return Err(ConfigError::DuplicateName { path: path.to_owned(), first, second: named });
            }
            boards.push(board);
        }
        Ok(ConfigFile { path: path.to_owned(), database_url, metrics_listen, boards })
    }

    /// The one board a command that talks to a single board (`job`, `application`) uses: the
    /// board named `chain`, else the one board on chain id `chain` (names are unique, and a
    /// name wins over a chain id); with `chain` unset, the file's only board.
    ///
    /// # Errors
    /// [`ConfigError::NoChainPicked`] when `chain` is unset and the file lists several boards,
    /// [`ConfigError::NoSuchBoard`] when `chain` matches none, and
    /// [`ConfigError::SeveralOnChain`] when it is a chain id with several boards on it; each
    /// lists the boards to choose from.
    pub fn pick(&self, chain: Option<&str>) -> Result<&BoardConfig, ConfigError> {
        let path = self.path.clone();
        let Some(chain) = chain.map(str::trim) else {
            return match self.boards.as_slice() {
                [only] => Ok(only),
                boards => Err(ConfigError::NoChainPicked {
                    path,
                    count: boards.len(),
                    boards: listing(boards.iter()),
                }),
            };
        };
        if let Some(board) = self.boards.iter().find(|b| b.name == chain) {
            return Ok(board);
        }
        let chain_id = chain.parse::<u64>().ok();
        let on_chain: Vec<&BoardConfig> =
            self.boards.iter().filter(|b| Some(b.chain_id) == chain_id).collect();
        match (on_chain.as_slice(), chain_id) {
            ([one], _) => Ok(*one),
            ([_, _, ..], Some(chain_id)) => {
                Err(ConfigError::SeveralOnChain { path, chain_id, boards: listing(on_chain.iter().copied()) })
            }
            _ => Err(ConfigError::NoSuchBoard {
                path,
                chain: chain.to_owned(),
                boards: listing(self.boards.iter()),
            }),
        }
    }
}

/// `"base" (chain 8453), "bsc" (chain 56)`: boards as an error message lists them to choose from.
fn listing<'a>(boards: impl Iterator<Item = &'a BoardConfig>) -> String {
    boards.map(|b| format!("{:?} (chain {})", b.name, b.chain_id)).collect::<Vec<_>>().join(", ")
}

/// "board 2 (\"base\")": boards are numbered from 1 as they appear in the file.
fn board_label(index: usize, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("board {} ({name:?})", index + 1),
        None => format!("board {}", index + 1),
    }
}

impl RawBoard {
    /// The board with every value checked and converted; an error names the key.
    fn check(self) -> Result<BoardConfig, (&'static str, String)> {
        if self.name.trim().is_empty() {
            return Err(("name", "must not be empty".into()));
        }
        if self.rpc_urls.is_empty() {
            return Err(("rpc_urls", "lists no URL; give at least one http(s):// node URL".into()));
        }
        let rpc_urls = self
            .rpc_urls
            .iter()
            .map(|text| parse_rpc_url(text).map_err(|m| ("rpc_urls", m)))
            .collect::<Result<Vec<Url>, _>>()?;
        let ws_url =
            self.ws_url.map(|text| crate::cli::parse_ws_url(&text).map_err(|m| ("ws_url", m))).transpose()?;
        let contract = Address::from_str(self.contract.trim())
            .map_err(|_| ("contract", format!("{:?} is not a 0x-prefixed 20-byte address", self.contract)))?;
        let mut indexer = IndexerConfig::new(contract, self.start_block);
        if let Some(confirmations) = self.confirmations {
            indexer.confirmations = confirmations;
        }
        if let Some(text) = &self.poll_interval {
            indexer.poll_interval = parse_duration(text).map_err(|m| ("poll_interval", m))?;
        }
        let rpc_timeout = match &self.rpc_timeout {
            Some(text) => parse_duration(text).map_err(|m| ("rpc_timeout", m))?,
            None => RetryPolicy::default().timeout,
        };
        if rpc_timeout.is_zero() {
            return Err(("rpc_timeout", "must be above zero".into()));
        }
        if let Some(n) = self.fetch_concurrency {
            if !(1..=64).contains(&n) {
                return Err(("fetch_concurrency", format!("{n} is not in 1..=64")));
            }
            indexer.fetch_concurrency = usize::from(n);
        }
        if let Some(n) = self.batch_events {
            if n == 0 {
                return Err(("batch_events", "must be at least 1".into()));
            }
            indexer.batch_events = n as usize;
        }
        if let Some(n) = self.projection_events {
            if n == 0 {
                return Err(("projection_events", "must be at least 1".into()));
            }
            indexer.projection_events = n as usize;
        }
        if let Some(n) = self.max_range {
            if n == 0 {
                return Err(("max_range", "must be at least 1".into()));
            }
            indexer.max_range = n;
        }
        indexer.skip_logs = self
            .skip_logs
            .iter()
            .map(|text| LogAt::from_str(text).map_err(|m| ("skip_logs", m)))
            .collect::<Result<_, _>>()?;
        Ok(BoardConfig { name: self.name, chain_id: self.chain_id, rpc_urls, ws_url, rpc_timeout, indexer })
    }
}

/// Parses a node URL, refusing other schemes than http(s) (a ws:// URL here belongs in
/// `ws_url`).
fn parse_rpc_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("{text:?}: scheme {other}:// is not http:// or https://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTRACT: &str = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

    fn board(chain_id: u64, name: &str, extra: &str) -> String {
        format!(
            "[[board]]\nname = \"{name}\"\nchain_id = {chain_id}\nrpc_urls = [\"http://127.0.0.1:8545\"]\n\
             contract = \"{CONTRACT}\"\nstart_block = 7\n{extra}\n"
        )
    }

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        ConfigFile::parse(Path::new("boards.toml"), text)
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("the file must be refused").to_string()
    }

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../jobboard.example.toml");
        let config = parse(text).expect("the example parses");
        assert_eq!(config.boards.len(), 3);
        assert!(config.database_url.is_some() && config.metrics_listen.is_some());
        let names: Vec<&str> = config.boards.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["ethereum", "base", "bsc"]);
    }

    #[test]
    fn defaults_are_the_flags_defaults_and_every_key_is_read() {
        let config = parse(&board(1, "one", "")).expect("a minimal board parses");
        let only = &config.boards[0];
        let contract = Address::from_str(CONTRACT).expect("an address");
        assert_eq!(format!("{:?}", only.indexer), format!("{:?}", IndexerConfig::new(contract, 7)));
        assert_eq!(only.rpc_timeout, RetryPolicy::default().timeout);
        assert_eq!(config.database_url, None);

        let all = "ws_url = \"ws://127.0.0.1:8546\"\nconfirmations = 3\npoll_interval = \"500ms\"\n\
                   rpc_timeout = \"5s\"\nfetch_concurrency = 2\nbatch_events = 100\nmax_range = 1000\n\
                   skip_logs = [\"12:3\"]";
        let config = parse(&format!(
            "database_url = \"postgres://x@h/db\"\nmetrics_listen = \"127.0.0.1:9100\"\n{}",
            board(8453, "base", all)
        ))
        .expect("every key parses");
        let base = &config.boards[0];
        assert_eq!((base.chain_id, base.indexer.confirmations), (8453, 3));
        assert_eq!(base.indexer.poll_interval, Duration::from_millis(500));
        assert_eq!(base.rpc_timeout, Duration::from_secs(5));
        assert_eq!((base.indexer.fetch_concurrency, base.indexer.batch_events), (2, 100));
        assert_eq!(base.indexer.max_range, 1000);
        assert!(base.indexer.skip_logs.contains(12, 3));
        assert_eq!(base.ws_url.as_ref().map(Url::as_str), Some("ws://127.0.0.1:8546/"));
        assert_eq!(config.metrics_listen, Some(SocketAddr::from(([127, 0, 0, 1], 9100))));
    }

    #[test]
    fn an_unknown_key_names_the_file_the_board_and_the_key() {
        let text = format!("{}{}", board(1, "one", ""), board(2, "two", "rpc_url = \"http://x\""));
        let message = error(&text);
        assert!(message.starts_with("config file boards.toml: board 2 (\"two\"): "), "{message}");
        assert!(message.contains("rpc_url"), "{message}");
        let message = error(&format!("database_uri = \"x\"\n{}", board(1, "one", "")));
        assert!(message.contains("boards.toml") && message.contains("database_uri"), "{message}");
    }

    #[test]
    fn a_missing_key_or_a_wrong_type_names_the_key() {
        let message =
            error("[[board]]\nname = \"one\"\nchain_id = 1\nrpc_urls = [\"http://h\"]\nstart_block = 1\n");
        assert!(message.contains("board 1 (\"one\")") && message.contains("contract"), "{message}");
        let message = error(&board(1, "one", "").replace("start_block = 7", "start_block = \"seven\""));
        assert!(message.contains("board 1 (\"one\")") && message.contains("start_block"), "{message}");
    }

    #[test]
    fn bad_values_are_refused_naming_the_key() {
        for (extra, key) in [
            ("poll_interval = \"soon\"", "poll_interval"),
            ("ws_url = \"http://h:8546\"", "ws_url"),
            ("fetch_concurrency = 0", "fetch_concurrency"),
            ("batch_events = 0", "batch_events"),
            ("max_range = 0", "max_range"),
            ("skip_logs = [\"12\"]", "skip_logs"),
        ] {
            let message = error(&board(1, "one", extra));
            assert!(message.contains(&format!("board 1 (\"one\"): {key}: ")), "{extra}: {message}");
        }
        let empty = board(1, "one", "").replace("[\"http://127.0.0.1:8545\"]", "[]");
        assert!(error(&empty).contains("rpc_urls: lists no URL"), "{}", error(&empty));
        let bad = board(1, "one", "").replace("http://127.0.0.1:8545", "not a url");
        assert!(error(&bad).contains("rpc_urls: \"not a url\" is not a URL"), "{}", error(&bad));
        let ws = board(1, "one", "").replace("http://127.0.0.1:8545", "ws://127.0.0.1:8545");
        assert!(error(&ws).contains("rpc_urls: \"ws://127.0.0.1:8545\": scheme ws://"), "{}", error(&ws));
        let short = board(1, "one", "").replace(CONTRACT, "0x12");
        assert!(error(&short).contains("contract: \"0x12\" is not"), "{}", error(&short));
        let message = error(&format!("database_url = \"mysql://h/db\"\n{}", board(1, "one", "")));
        assert!(message.contains("top level: database_url: "), "{message}");
    }

    #[test]
    fn the_same_board_twice_and_no_board_at_all_are_refused() {
        let twice = format!("{}{}", board(5, "a", ""), board(5, "b", ""));
        let message = error(&twice);
        assert!(
            message.contains("board 2 (\"b\") is the same board as board 1 (\"a\") (chain 5"),
            "{message}"
        );
        // The same contract on two chains is two boards.
        parse(&format!("{}{}", board(5, "a", ""), board(6, "b", ""))).expect("two chains");
        assert!(error("database_url = \"postgres://h/db\"\n").contains("no [[board]] listed"));
        assert!(error("[[board\n").starts_with("config file boards.toml: "));
        let named_twice = format!("{}{}", board(5, "a", ""), board(6, "a", ""));
        assert!(
            error(&named_twice).contains("board 2 (\"a\") has the same name as board 1 (\"a\")"),
            "{}",
            error(&named_twice)
        );
    }

    #[test]
    fn a_board_is_picked_by_name_or_chain_id_and_a_miss_lists_the_boards() {
        let other = "0x0000000000000000000000000000000000000042";
        let text = format!(
            "{}{}{}",
            board(8453, "base", ""),
            board(56, "bsc", ""),
            board(56, "bsc-2", "").replace(CONTRACT, other)
        );
        let config = parse(&text).expect("three boards");
        let pick = |chain: Option<&str>| config.pick(chain).map(|b| b.name.as_str());
        assert_eq!(pick(Some("base")).expect("by name"), "base");
        assert_eq!(pick(Some(" 8453 ")).expect("by chain id"), "base");
        assert_eq!(pick(Some("bsc-2")).expect("by name on a shared chain"), "bsc-2");
        let list = "\"base\" (chain 8453), \"bsc\" (chain 56), \"bsc-2\" (chain 56)";
        let none = pick(None).expect_err("several boards, none picked").to_string();
        assert!(none.contains("lists 3 boards: pick one with --chain") && none.ends_with(list), "{none}");
        let miss = pick(Some("eth")).expect_err("no such board").to_string();
        assert!(miss.contains("no board \"eth\" (by name or chain id): it lists ") && miss.ends_with(list));
        let shared = pick(Some("56")).expect_err("two boards on chain 56").to_string();
        assert!(shared.contains("several boards on chain 56: \"bsc\" (chain 56), \"bsc-2\""), "{shared}");

        let one = parse(&board(1, "only", "")).expect("one board");
        assert_eq!(one.pick(None).map(|b| b.name.as_str()).expect("the only board"), "only");
        assert!(one.pick(Some("2")).is_err(), "a --chain that names no board is refused even then");
    }
}
