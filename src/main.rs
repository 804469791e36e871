//! The `jobboard` binary: parse the command line, start logging, dispatch. The commands live
//! in the library (`jobboard::app` for the long-running ones, `jobboard::actions` for the
//! transactions); this is the only place `anyhow` turns their errors into an exit.

use alloy::providers::ProviderBuilder;
use anyhow::{Context, Result};
use clap::Parser;
use jobboard::chain::{deploy_board, redact};
use jobboard::cli::{Cli, Command, DeployArgs};
use jobboard::{app, shutdown, telemetry};

/// mimalloc instead of glibc's malloc: the API allocates many small, short-lived objects per
/// request across threads, where glibc spent a fifth of the server's CPU (measured with perf
/// under `cargo bench --bench api`). See [`with_allocator_options`] for its one setting.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The mimalloc option `jobboard` runs with, and its value.
const PURGE_DELAY: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "0");

fn main() -> Result<()> {
    with_allocator_options();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run_command())
}

/// Makes sure mimalloc returns freed memory to the OS at once (`MIMALLOC_PURGE_DELAY=0`)
/// instead of after its default second: the indexer frees a batch's buffers every fraction of a
/// second, and the delay alone held ~90 MiB (peak RSS of `jobboard index` over 100k events:
/// 216 MiB with the default, 130 MiB with 0; API requests/s unchanged; docs/adr/0006).
///
/// mimalloc reads its options from the environment as it initialises, before `main`, and
/// setting one later takes `unsafe` FFI, which this crate forbids; so unless the variable is
/// already set (an operator's choice wins), `jobboard` replaces itself once with the same
/// program, arguments and PID, the variable set. If that fails, it runs on with the default.
fn with_allocator_options() {
    use std::os::unix::process::CommandExt;

    let (name, value) = PURGE_DELAY;
    if std::env::var_os(name).is_some() {
        return;
    }
    let Ok(program) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| program.clone().into_os_string());
    // `exec` returns only if it failed.
    let _failed = std::process::Command::new(&program).arg0(arg0).args(args).env(name, value).exec();
}

async fn run_command() -> Result<()> {
    let cli = Cli::parse();
    telemetry::init();
    match cli.command {
        Command::Deploy(args) => deploy(args).await,
        Command::Index(args) => Ok(app::index(args, shutdown::on_signal()).await?),
        Command::Migrate(args) => Ok(app::migrate(&args).await?),
        Command::Serve(args) => Ok(app::serve(args, shutdown::on_signal()).await?),
        Command::Run(args) => Ok(app::run(args, shutdown::on_signal()).await?),
        Command::Dev(args) => Ok(app::dev(args, shutdown::on_signal()).await?),
        Command::Schema => {
            print!("{}", jobboard::api::sdl());
            Ok(())
        }
        Command::Job(args) => Ok(jobboard::actions::run_job(args).await?),
        Command::Application(args) => application(args).await,
    }
}

/// `jobboard application`: `verify` exits with 1 on a mismatch (after printing its report)
/// and with 2 when it could not check, so scripts can tell the two apart.
async fn application(args: jobboard::actions::ApplicationArgs) -> Result<()> {
    use jobboard::actions::{ApplicationCommand, Verdict};
    let verifying = matches!(args.command, ApplicationCommand::Verify(_));
    match jobboard::actions::run_application(args).await {
        Ok(Verdict::Done) => Ok(()),
        Ok(Verdict::Mismatch) => std::process::exit(1),
        Err(error) if verifying => {
            eprintln!("Error: {:?}", anyhow::Error::from(error));
            std::process::exit(2)
        }
        Err(error) => Err(error.into()),
    }
}

async fn deploy(args: DeployArgs) -> Result<()> {
    let signer = jobboard::actions::load_signer(args.key.keystore.as_deref())?;
    let account = signer.address();
    let url = redact(&args.node.rpc_url);
    let provider = ProviderBuilder::new().wallet(signer).connect_http(args.node.rpc_url.clone());
    let deployment = match deploy_board(&provider).await {
        Ok(deployment) => deployment,
        Err(error) => {
            if let Some(explained) =
                jobboard::actions::explain_deploy_refusal(&provider, account, &url, &error).await
            {
                return Err(explained.into());
            }
            return Err(error).with_context(|| format!("deploying JobBoard through {url}"));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string(&deployment).context("serializing the deployment")?);
    } else {
        println!("JobBoard deployed on chain {}", deployment.chain_id);
        println!("  address: {}", deployment.address);
        println!("  block:   {}", deployment.block);
        println!("  tx:      {}", deployment.tx_hash);
    }
    Ok(())
}
