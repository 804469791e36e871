//! The command line of `jobboard job ...` and `jobboard application ...`: clap types only;
//! what they do lives in `job.rs` and `application.rs`.

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::{Address, B256};
use clap::{Args, Subcommand};

use super::posting::parse_deadline;
use crate::args::{NodeArgs, parse_duration};
use crate::contract::ApplicationStatus;

/// Where the board is and how to print: shared by every job and application command. The
/// board comes from the flags (`--rpc-url`, `--contract`, `--chain-id`), or from a boards file
/// (`--config`, as `jobboard index` reads it) where `--chain` picks one; the two exclude each
/// other, so a command never mixes one board's node with another's contract.
#[derive(Debug, Clone, Args)]
pub struct BoardArgs {
    /// A boards file (TOML, as `jobboard index --config` reads it): the board `--chain` picks
    /// gives the node (the first of its rpc_urls), the contract and the chain id; replaces
    /// --rpc-url, --contract and --chain-id.
    #[arg(
        long,
        env = "JOBBOARD_CONFIG",
        value_name = "PATH",
        conflicts_with_all = ["rpc_url", "contract", "chain_id"]
    )]
    pub config: Option<PathBuf>,
    /// With --config: the board to use, by its name or its chain id; may be omitted when the
    /// file lists one board.
    #[arg(
        long,
        env = "JOBBOARD_CHAIN",
        value_name = "NAME|CHAIN_ID",
        requires = "config",
        conflicts_with_all = ["rpc_url", "contract", "chain_id"]
    )]
    pub chain: Option<String>,
    /// The node to talk to.
    #[command(flatten)]
    pub node: NodeArgs,
    /// The JobBoard contract's address.
    #[arg(long, env = "JOBBOARD_CONTRACT", required_unless_present = "config")]
    pub contract: Option<Address>,
    /// The chain id the node must be on: a guard against signing on the wrong network.
    #[arg(long = "chain-id", env = "JOBBOARD_CHAIN_ID")]
    pub chain_id: Option<u64>,
    /// Print one JSON object on stdout (camelCase keys) for scripts, instead of text.
    #[arg(long, env = "JOBBOARD_JSON")]
    pub json: bool,
}

/// Where the signing key comes from: shared by every command that signs (`deploy`, `job`,
/// `application`), so they all load it the same way.
///
/// There is deliberately no flag for a raw key: keys on a command line end up in shell history
/// and process listings.
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// Encrypted JSON keystore (as made by `cast wallet new` or geth) holding the signing key;
    /// its password comes from JOBBOARD_KEYSTORE_PASSWORD or, on a terminal, a prompt. Without
    /// it the key is read from JOBBOARD_PRIVATE_KEY.
    #[arg(long, env = "JOBBOARD_KEYSTORE", value_name = "FILE")]
    pub keystore: Option<PathBuf>,
}

/// How a sending command signs and how long it waits for its transaction.
#[derive(Debug, Clone, Args)]
pub struct SignerArgs {
    /// The signing key.
    #[command(flatten)]
    pub key: KeyArgs,
    /// How long to wait for the transaction to be mined before giving up (it may still be
    /// mined later).
    #[arg(long = "tx-timeout", env = "JOBBOARD_TX_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub tx_timeout: Duration,
}

/// What every sending command needs: the board, and a signer.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// The board.
    #[command(flatten)]
    pub board: BoardArgs,
    /// The signer.
    #[command(flatten)]
    pub signer: SignerArgs,
}

/// `jobboard job ...`: the employer's commands.
#[derive(Debug, Clone, Args)]
pub struct JobArgs {
    /// What to do with a job.
    #[command(subcommand)]
    pub command: JobCommand,
}

/// The employer's commands.
#[derive(Debug, Clone, Subcommand)]
pub enum JobCommand {
    /// Post a new job; prints its id, the transaction hash and the block.
    Post(JobPostArgs),
    /// Replace some fields of an open job you posted; fields not given keep their current value.
    Update(JobUpdateArgs),
    /// Close a job you posted: it takes no more applications or updates.
    Close(JobCloseArgs),
}

/// A posting's fields as flags, or from a file; flags override the file.
///
/// Not environment variables: a posting's content is per call, and a stray `JOBBOARD_TITLE`
/// would silently end up in every posting.
#[derive(Debug, Clone, Default, Args)]
pub struct PostingArgs {
    /// Read the fields from a TOML or JSON file (same field names as the flags, e.g.
    /// `salary-min`); flags given as well override its values.
    #[arg(long, value_name = "posting.toml|posting.json")]
    pub file: Option<PathBuf>,
    /// Title, required when posting (1..200 bytes).
    #[arg(long)]
    pub title: Option<String>,
    /// Company (0..100 bytes).
    #[arg(long)]
    pub company: Option<String>,
    /// Location, e.g. "Remote (EU)" (0..100 bytes).
    #[arg(long)]
    pub location: Option<String>,
    /// Comma-separated tags, e.g. rust,ethereum (0..200 bytes).
    #[arg(long)]
    pub tags: Option<String>,
    /// Description in markdown (0..4096 bytes).
    #[arg(long, conflicts_with = "description_file")]
    pub description: Option<String>,
    /// Read the description (markdown) from this file.
    #[arg(long = "description-file", value_name = "PATH")]
    pub description_file: Option<PathBuf>,
    /// Salary currency, e.g. USD or USDC (0..12 bytes; required with a salary).
    #[arg(long = "salary-currency")]
    pub salary_currency: Option<String>,
    /// Minimum salary; 0 = not disclosed.
    #[arg(long = "salary-min")]
    pub salary_min: Option<u64>,
    /// Maximum salary; 0 = not disclosed, else at least --salary-min.
    #[arg(long = "salary-max")]
    pub salary_max: Option<u64>,
    /// Last moment applications are taken: 2026-12-31 (the end of that day, UTC),
    /// 2026-12-31T12:00:00Z, unix seconds, or `none`.
    #[arg(long, value_parser = parse_deadline)]
    pub deadline: Option<u64>,
}

/// Arguments of `jobboard job post`.
#[derive(Debug, Clone, Args)]
pub struct JobPostArgs {
    /// The board and the signer.
    #[command(flatten)]
    pub send: SendArgs,
    /// The posting's fields.
    #[command(flatten)]
    pub posting: PostingArgs,
}

/// Arguments of `jobboard job update`.
#[derive(Debug, Clone, Args)]
pub struct JobUpdateArgs {
    /// The job to update.
    #[arg(long)]
    pub id: u64,
    /// The first block to search for the job's current posting (the board's deploy block);
    /// the posting text lives only in events, so updating reads it from the logs. Defaults to
    /// the board's start_block with --config, else to 0.
    #[arg(long = "start-block", env = "JOBBOARD_START_BLOCK")]
    pub start_block: Option<u64>,
    /// The board and the signer.
    #[command(flatten)]
    pub send: SendArgs,
    /// The posting's fields.
    #[command(flatten)]
    pub posting: PostingArgs,
}

/// Arguments of `jobboard job close`.
#[derive(Debug, Clone, Args)]
pub struct JobCloseArgs {
    /// The job to close.
    #[arg(long)]
    pub id: u64,
    /// The board and the signer.
    #[command(flatten)]
    pub send: SendArgs,
}

/// `jobboard application ...`: the applicant's commands, the employer's status changes, and
/// verification of a document against its commitment.
#[derive(Debug, Clone, Args)]
pub struct ApplicationArgs {
    /// What to do with an application.
    #[command(subcommand)]
    pub command: ApplicationCommand,
}

/// The application commands.
#[derive(Debug, Clone, Subcommand)]
pub enum ApplicationCommand {
    /// Apply to a job with a private document: only a salted hash of it goes on-chain.
    Submit(SubmitArgs),
    /// Withdraw one of your applications (you may then apply to the job again).
    Withdraw(WithdrawArgs),
    /// As the job's employer, set applications to shortlisted, rejected or hired.
    Status(StatusArgs),
    /// Check a document and salt against an application's on-chain hash (read-only; exits
    /// with 1 on a mismatch, 2 when it could not check).
    Verify(VerifyArgs),
}

/// Arguments of `jobboard application submit`.
#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    /// The job to apply to.
    #[arg(long)]
    pub job: u64,
    /// The document (CV, cover letter...) to commit to; it never leaves this machine.
    #[arg(long, value_name = "FILE")]
    pub document: PathBuf,
    /// A file holding the 32-byte salt (0x + 64 hex digits); a random one is drawn when no
    /// salt is given.
    #[arg(long = "salt-file", value_name = "FILE", conflicts_with = "salt")]
    pub salt_file: Option<PathBuf>,
    /// UNSAFE: the salt on the command line, where other local users see it in process
    /// listings and it lands in shell history; prefer --salt-file. Kept for scripts.
    #[arg(long)]
    pub salt: Option<B256>,
    /// The board and the signer.
    #[command(flatten)]
    pub send: SendArgs,
}

/// Arguments of `jobboard application withdraw`.
#[derive(Debug, Clone, Args)]
pub struct WithdrawArgs {
    /// The application to withdraw.
    #[arg(long)]
    pub id: u64,
    /// The board and the signer.
    #[command(flatten)]
    pub send: SendArgs,
}

/// Arguments of `jobboard application status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The application(s): repeat (--id 3 --id 4) or comma-separate (--id 3,4); several are
    /// changed in one transaction, all or nothing.
    #[arg(long = "id", required = true, value_delimiter = ',')]
    pub ids: Vec<u64>,
    /// The new status: shortlisted, rejected or hired.
    #[arg(value_parser = parse_employer_status, value_name = "shortlisted|rejected|hired")]
    pub status: ApplicationStatus,
    /// The board and the signer.
    #[command(flatten)]
    pub send: SendArgs,
}

/// Arguments of `jobboard application verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The application to check.
    #[arg(long)]
    pub id: u64,
    /// The document the applicant handed over.
    #[arg(long, value_name = "FILE")]
    pub document: PathBuf,
    /// A file holding the salt the applicant handed over (0x + 64 hex digits); may be omitted
    /// when a receipt (`<document>.jobboard*.json`, pending or mined) beside the document
    /// holds it.
    #[arg(long = "salt-file", value_name = "FILE", conflicts_with = "salt")]
    pub salt_file: Option<PathBuf>,
    /// UNSAFE: the salt on the command line, where other local users see it in process
    /// listings and it lands in shell history; prefer --salt-file.
    #[arg(long)]
    pub salt: Option<B256>,
    /// The board.
    #[command(flatten)]
    pub board: BoardArgs,
}

/// Parses a status an employer may set, case-insensitively; explains why the others are refused.
///
/// # Errors
/// A message for an unknown name, and for `submitted`/`withdrawn`, which employers cannot set.
pub fn parse_employer_status(text: &str) -> Result<ApplicationStatus, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "shortlisted" => Ok(ApplicationStatus::Shortlisted),
        "rejected" => Ok(ApplicationStatus::Rejected),
        "hired" => Ok(ApplicationStatus::Hired),
        "submitted" => Err("employers can't set submitted: an application is submitted when the \
                            applicant applies; use shortlisted, rejected or hired"
            .into()),
        "withdrawn" => Err("employers can't set withdrawn: only the applicant can withdraw \
                            (`jobboard application withdraw`); use shortlisted, rejected or hired"
            .into()),
        _ => Err(format!("'{text}' is not a status: use shortlisted, rejected or hired")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn employer_statuses_parse_case_insensitively_and_the_others_are_explained() {
        assert_eq!(parse_employer_status("Shortlisted"), Ok(ApplicationStatus::Shortlisted));
        assert_eq!(parse_employer_status("REJECTED"), Ok(ApplicationStatus::Rejected));
        assert_eq!(parse_employer_status("hired"), Ok(ApplicationStatus::Hired));
        let submitted = parse_employer_status("Submitted").expect_err("submitted is refused");
        assert!(submitted.contains("employers can't set submitted"), "{submitted}");
        let withdrawn = parse_employer_status("withdrawn").expect_err("withdrawn is refused");
        assert!(withdrawn.contains("only the applicant can withdraw"), "{withdrawn}");
        assert!(parse_employer_status("promoted").is_err());
    }
}
