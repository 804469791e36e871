//! Which board a `job` or `application` command talks to: the one the flags describe
//! (`--rpc-url`, `--contract`, `--chain-id`), or the one `--chain` picks from a boards file
//! (`--config`), read by [`crate::config`] exactly as `jobboard index` reads it, so the file
//! that names a process's boards also names the board a person posts to.

use std::fmt;
use std::path::PathBuf;

use alloy::primitives::Address;
use url::Url;

use super::ActionError;
use super::args::BoardArgs;
use crate::config::ConfigFile;

/// The board a command talks to, resolved from the flags or the boards file.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The node to send through.
    pub rpc_url: Url,
    /// The board's contract.
    pub contract: Address,
    /// The chain the node must be on, when known: a guard against signing on another network.
    pub chain_id: Option<u64>,
    /// The board's deploy block, when the boards file gives it (`job update` searches from it).
    pub start_block: Option<u64>,
    /// Where these came from, for messages that say what to correct.
    pub origin: Origin,
}

/// Where a command's board came from, so that an error names the setting to correct.
#[derive(Debug, Clone)]
pub enum Origin {
    /// The flags (or their `JOBBOARD_*` variables).
    Flags,
    /// A board of a boards file.
    File {
        /// The boards file.
        path: PathBuf,
        /// The board's name in it.
        board: String,
    },
}

/// One setting of a board, named as the user wrote it: a flag or a key of the boards file.
#[derive(Debug, Clone, Copy)]
enum Setting {
    RpcUrl,
    Contract,
    ChainId,
}

/// A setting of an [`Origin`], displayed as the flag and its variable or as the file's key.
pub struct Named<'a>(&'a Origin, Setting);

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Origin::Flags => f.write_str(match self.1 {
                Setting::RpcUrl => "--rpc-url (JOBBOARD_RPC_URL)",
                Setting::Contract => "--contract (JOBBOARD_CONTRACT)",
                Setting::ChainId => "--chain-id (JOBBOARD_CHAIN_ID)",
            }),
            Origin::File { path, board } => {
                let key = match self.1 {
                    Setting::RpcUrl => "rpc_urls",
                    Setting::Contract => "contract",
                    Setting::ChainId => "chain_id",
                };
                write!(f, "{key} of board {board:?} in {}", path.display())
            }
        }
    }
}

impl Origin {
    /// The setting that gives the node's URL.
    pub fn rpc_url(&self) -> Named<'_> {
        Named(self, Setting::RpcUrl)
    }

    /// The setting that gives the contract's address.
    pub fn contract(&self) -> Named<'_> {
        Named(self, Setting::Contract)
    }

    /// The setting that gives the chain id.
    pub fn chain_id(&self) -> Named<'_> {
        Named(self, Setting::ChainId)
    }
}

impl BoardArgs {
    /// The board these arguments name: the flags' board, or the one `--chain` picks from
    /// `--config` (its first RPC URL, the node it prefers).
    ///
    /// # Errors
    /// [`ActionError::Config`] when the boards file cannot be read or `--chain` picks no single
    /// board of it.
    pub(crate) fn target(&self) -> Result<Target, ActionError> {
        let Some(path) = &self.config else {
            // clap requires --contract without --config; this covers arguments built in code.
            let contract = self.contract.ok_or(ActionError::NoBoard)?;
            return Ok(Target {
                rpc_url: self.node.rpc_url.clone(),
                contract,
                chain_id: self.chain_id,
                start_block: None,
                origin: Origin::Flags,
            });
        };
        let file = ConfigFile::load(path)?;
        let board = file.pick(self.chain.as_deref())?;
        let rpc_url = board.rpc_urls.first().cloned().expect(
            "a board of a parsed boards file lists at least one RPC URL (ConfigFile::parse checks it)",
        );
        Ok(Target {
            rpc_url,
            contract: board.indexer.contract,
            chain_id: Some(board.chain_id),
            start_block: Some(board.indexer.start_block),
            origin: Origin::File { path: path.clone(), board: board.name.clone() },
        })
    }
}
