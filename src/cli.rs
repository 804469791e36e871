//! The command line: every flag is also a `JOBBOARD_*` environment variable, and values are
//! parsed into typed form at start-up so a bad one fails fast, naming the flag.

use clap::{Args, Parser, Subcommand};
use url::Url;

/// The environment variable that holds the private key of the account that signs transactions.
///
/// Keys are taken only from the environment, never from a flag, so they stay out of shell
/// history and process listings.
pub const PRIVATE_KEY_ENV: &str = "JOBBOARD_PRIVATE_KEY";

/// jobboard: an on-chain job board's contract tooling, indexer and GraphQL API.
#[derive(Debug, Parser)]
#[command(name = "jobboard", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deploy a new JobBoard contract, signing with the key in JOBBOARD_PRIVATE_KEY; prints its
    /// address and deploy block (the indexer's --contract and --start-block).
    Deploy(DeployArgs),
}

/// Where to reach the Ethereum node.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// JSON-RPC URL of the Ethereum node (http or https).
    #[arg(long = "rpc-url", env = "JOBBOARD_RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub rpc_url: Url,
}

/// Arguments of `jobboard deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// The node to deploy through.
    #[command(flatten)]
    pub node: NodeArgs,
    /// Print the result as one JSON object (chainId, address, block, txHash) for scripts.
    #[arg(long, env = "JOBBOARD_JSON")]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_rpc_url_fails_naming_the_flag() {
        let err = Cli::try_parse_from(["jobboard", "deploy", "--rpc-url", "not a url"])
            .expect_err("a malformed URL must be rejected at parse time");
        assert!(err.to_string().contains("--rpc-url"), "{err}");
    }
}
