//! The `jobboard job` and `jobboard application` commands as a user runs them: the real binary
//! against a real anvil, keys from the environment or a keystore made by `cast`, every
//! `--json` answer checked against the chain, and the result indexed and served by
//! `jobboard run` over a real PostgreSQL.
//!
//! Over 600 lines: one case per command and failure a user meets, sharing the key and keystore
//! set-up; each case is short.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use anyhow::{Context, Result, bail, ensure};
use jobboard::actions::{
    MAX_COMPANY_LENGTH, MAX_DESCRIPTION_LENGTH, MAX_LOCATION_LENGTH, MAX_SALARY_CURRENCY_LENGTH,
    MAX_TAGS_LENGTH, MAX_TITLE_LENGTH,
};
use jobboard::contract::{ApplicationCommitment, ApplicationStatus, JobBoard, document_hash};
use serde_json::{Value, json};

use crate::support::db::test_database;
use crate::support::harness::{Anvil, JobboardProcess, repo_root};

/// Variables that would leak the developer's own setup into the runs.
const CLEARED_ENV: [&str; 11] = [
    "JOBBOARD_CONFIG",
    "JOBBOARD_CHAIN",
    "JOBBOARD_PRIVATE_KEY",
    "JOBBOARD_KEYSTORE",
    "JOBBOARD_KEYSTORE_PASSWORD",
    "JOBBOARD_JSON",
    "JOBBOARD_START_BLOCK",
    "JOBBOARD_TX_TIMEOUT",
    "JOBBOARD_DATABASE_URL",
    "JOBBOARD_CHAIN_ID",
    "RUST_BACKTRACE",
];

/// A board on a fresh anvil, driven through the `jobboard` binary.
pub(crate) struct Board {
    pub anvil: Anvil,
    pub address: Address,
    pub deploy_block: u64,
    pub provider: RootProvider,
}

/// One run of the binary and what it printed.
pub(crate) struct Run {
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// The single JSON object a successful `--json` run prints.
    pub fn json(&self) -> Result<Value> {
        ensure!(self.output.status.success(), "failed ({:?}):\n{}", self.code(), self.stderr());
        let stdout = self.stdout();
        ensure!(stdout.lines().count() == 1, "expected one line of JSON, got:\n{stdout}");
        serde_json::from_str(&stdout).with_context(|| format!("not JSON: {stdout}"))
    }

    /// The error message of a run that must fail with exit code `code`.
    pub fn failure(&self, code: i32) -> Result<String> {
        ensure!(
            self.code() == Some(code),
            "expected exit code {code}, got {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code(),
            self.stdout(),
            self.stderr()
        );
        Ok(self.stderr())
    }
}

pub(crate) fn key_hex(key: &PrivateKeySigner) -> String {
    key.to_bytes().to_string()
}

impl Board {
    /// Starts anvil and deploys a board with `jobboard deploy --json`.
    pub fn start() -> Result<Board> {
        Self::start_with(&[])
    }

    /// [`Board::start`] with extra anvil arguments (e.g. `--chain-id 31338`).
    pub fn start_with(anvil_args: &[&str]) -> Result<Board> {
        let anvil = Anvil::spawn_with(anvil_args)?;
        let deployed = jobboard_at(anvil.endpoint.as_str())
            .env("JOBBOARD_PRIVATE_KEY", key_hex(&anvil.keys[0]))
            .args(["deploy", "--json"])
            .output()
            .context("running jobboard deploy")?;
        let deployed = Run { output: deployed }.json()?;
        let address: Address = deployed["address"].as_str().context("address")?.parse()?;
        let deploy_block = deployed["block"].as_u64().context("block")?;
        let provider =
            ProviderBuilder::new().disable_recommended_fillers().connect_http(anvil.endpoint.clone());
        Ok(Board { provider: provider.root().clone(), anvil, address, deploy_block })
    }

    pub fn contract(&self) -> JobBoard::JobBoardInstance<&RootProvider> {
        JobBoard::new(self.address, &self.provider)
    }

    /// The binary with this board's node and contract in the environment and no key.
    pub fn command(&self) -> Command {
        let mut command = jobboard_at(self.anvil.endpoint.as_str());
        command.env("JOBBOARD_CONTRACT", self.address.to_string());
        command
    }

    /// Runs `args` signed by dev account `signer`.
    pub fn run(&self, signer: usize, args: &[&str]) -> Result<Run> {
        let output = self
            .command()
            .env("JOBBOARD_PRIVATE_KEY", key_hex(&self.anvil.keys[signer]))
            .args(args)
            .output()
            .with_context(|| format!("running jobboard {args:?}"))?;
        Ok(Run { output })
    }

    /// Runs `args --json` signed by dev account `signer` and returns its JSON answer.
    pub fn json(&self, signer: usize, args: &[&str]) -> Result<Value> {
        let mut args = args.to_vec();
        args.push("--json");
        self.run(signer, &args)?.json().with_context(|| format!("jobboard {args:?}"))
    }

    /// The posting a transaction emitted (`JobPosted` or `JobUpdated`).
    async fn emitted_posting(&self, tx_hash: &Value) -> Result<JobBoard::Posting> {
        let hash: B256 = tx_hash.as_str().context("txHash is a string")?.parse()?;
        let receipt = self.provider.get_transaction_receipt(hash).await?.context("receipt")?;
        for log in receipt.inner.logs() {
            if let Ok(event) = JobBoard::JobPosted::decode_log(&log.inner) {
                return Ok(event.data.posting);
            }
            if let Ok(event) = JobBoard::JobUpdated::decode_log(&log.inner) {
                return Ok(event.data.posting);
            }
        }
        bail!("{hash} emitted no posting")
    }

    async fn status_of(&self, application_id: u64) -> Result<ApplicationStatus> {
        let application = self.contract().getApplication(U256::from(application_id)).call().await?;
        Ok(ApplicationStatus::try_from(application.status)?)
    }
}

/// The binary with the developer's own settings removed and `rpc` as its node.
pub(crate) fn jobboard_at(rpc: &str) -> Command {
    let mut command = jobboard_bare();
    command.env("JOBBOARD_RPC_URL", rpc);
    command
}

/// The binary with the developer's own settings removed, no node and no contract.
pub(crate) fn jobboard_bare() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobboard"));
    for name in CLEARED_ENV {
        command.env_remove(name);
    }
    command.env_remove("JOBBOARD_RPC_URL").env_remove("JOBBOARD_CONTRACT").stdin(Stdio::null());
    command
}

/// Asserts that a `--json` answer carries a transaction hash and a block number.
fn assert_mined(answer: &Value) -> Result<u64> {
    let tx = answer["txHash"].as_str().context("txHash")?;
    ensure!(tx.len() == 66 && tx.starts_with("0x"), "bad txHash in {answer}");
    answer["block"].as_u64().with_context(|| format!("block is not a number in {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn employer_and_applicant_commands_drive_the_board_and_the_index() -> Result<()> {
    let board = Board::start()?;
    let contract = board.contract();
    let employer = board.anvil.address(0);
    let dir = tempfile::tempdir()?;

    // The local limits are the contract's.
    assert_eq!(contract.MAX_TITLE_LENGTH().call().await?, U256::from(MAX_TITLE_LENGTH));
    assert_eq!(contract.MAX_COMPANY_LENGTH().call().await?, U256::from(MAX_COMPANY_LENGTH));
    assert_eq!(contract.MAX_LOCATION_LENGTH().call().await?, U256::from(MAX_LOCATION_LENGTH));
    assert_eq!(contract.MAX_TAGS_LENGTH().call().await?, U256::from(MAX_TAGS_LENGTH));
    assert_eq!(contract.MAX_DESCRIPTION_LENGTH().call().await?, U256::from(MAX_DESCRIPTION_LENGTH));
    assert_eq!(contract.MAX_SALARY_CURRENCY_LENGTH().call().await?, U256::from(MAX_SALARY_CURRENCY_LENGTH));

    // Post from flags.
    let posted = board.json(
        0,
        &[
            "job",
            "post",
            "--title",
            "Senior Rust Engineer",
            "--company",
            "Acme",
            "--location",
            "Remote (EU)",
            "--tags",
            "rust,ethereum",
            "--description",
            "## Role\nBuild an indexer.",
            "--salary-currency",
            "USDC",
            "--salary-min",
            "120000",
            "--salary-max",
            "160000",
            "--deadline",
            "2099-12-31",
        ],
    )?;
    assert_eq!(posted["jobId"], json!("1"));
    assert_eq!(posted["employer"].as_str().map(str::to_lowercase), Some(employer.to_string().to_lowercase()));
    assert_mined(&posted)?;
    let first = board.emitted_posting(&posted["txHash"]).await?;
    let expected = JobBoard::Posting {
        title: "Senior Rust Engineer".into(),
        company: "Acme".into(),
        location: "Remote (EU)".into(),
        tags: "rust,ethereum".into(),
        description: "## Role\nBuild an indexer.".into(),
        salaryCurrency: "USDC".into(),
        salaryMin: 120_000,
        salaryMax: 160_000,
        deadline: 4_102_444_799, // 2099-12-31T23:59:59Z
    };
    assert_eq!(first, expected);
    let job = contract.getJob(U256::from(1)).call().await?;
    assert_eq!((job.employer, job.deadline, job.closed), (employer, 4_102_444_799, false));

    // Post from a TOML file; a flag overrides the file's title.
    std::fs::write(dir.path().join("role.md"), "# Indexer work\n\nPostgres, reorgs.\n")?;
    let file = dir.path().join("posting.toml");
    std::fs::write(
        &file,
        "title = \"From the file\"\ncompany = \"Files Inc\"\ntags = [\"sql\", \"rust\"]\n\
         description-file = \"role.md\"\ndeadline = 2098-01-01T12:00:00Z\n",
    )?;
    let file_arg = file.to_str().context("utf-8 path")?;
    let from_file = board.json(0, &["job", "post", "--file", file_arg, "--title", "Data Engineer"])?;
    assert_eq!(from_file["jobId"], json!("2"));
    let second = board.emitted_posting(&from_file["txHash"]).await?;
    assert_eq!(second.title, "Data Engineer");
    assert_eq!(second.company, "Files Inc");
    assert_eq!(second.tags, "sql,rust");
    assert_eq!(second.description, "# Indexer work\n\nPostgres, reorgs.\n");
    assert_eq!((second.salaryMin, second.deadline), (0, 4_039_416_000));

    // Update one field: the others keep their on-chain values.
    let updated = board.json(0, &["job", "update", "--id", "1", "--salary-max", "250000"])?;
    assert_eq!(updated["jobId"], json!("1"));
    assert_eq!(updated["changed"], json!(["salaryMax"]));
    assert_mined(&updated)?;
    let after_update = board.emitted_posting(&updated["txHash"]).await?;
    assert_eq!(after_update, JobBoard::Posting { salaryMax: 250_000, ..expected.clone() });

    // Apply with a document; the salt is printed and kept in a receipt beside it.
    let document = dir.path().join("cv.pdf");
    let cv = b"%PDF-1.7 curriculum vitae of applicant one".to_vec();
    std::fs::write(&document, &cv)?;
    let doc_arg = document.to_str().context("utf-8 path")?;
    let applicant = board.anvil.address(1);
    let submit = board.run(1, &["application", "submit", "--job", "1", "--document", doc_arg, "--json"])?;
    let submitted = submit.json()?;
    assert_eq!(submitted["applicationId"], json!("1"));
    assert_eq!(submitted["jobId"], json!("1"));
    assert_mined(&submitted)?;
    let salt: B256 = submitted["salt"].as_str().context("salt")?.parse()?;
    ensure!(salt != B256::ZERO, "the salt must be random");
    let warning = submit.stderr();
    ensure!(
        warning.contains(&salt.to_string())
            && warning.contains("keep the salt")
            && warning.contains("employer"),
        "no salt warning on stderr:\n{warning}"
    );
    let commitment = ApplicationCommitment {
        chain_id: 31337,
        board: board.address,
        job_id: U256::from(1),
        applicant,
        salt,
        document_hash: document_hash(&cv),
    };
    let stored = contract.getApplication(U256::from(1)).call().await?;
    assert_eq!(stored.applicant, applicant);
    assert_eq!(stored.applicationHash, commitment.application_hash());
    assert_eq!(submitted["applicationHash"], json!(commitment.application_hash().to_string()));
    let receipt_path = dir.path().join("cv.pdf.jobboard.json");
    assert_eq!(submitted["receiptFile"], json!(receipt_path.to_str()));
    let receipt: Value = serde_json::from_str(&std::fs::read_to_string(&receipt_path)?)?;
    assert_eq!(receipt["salt"], json!(salt.to_string()));
    assert_eq!(receipt["applicationId"], json!("1"));
    assert_eq!(receipt["chainId"], json!(31337));
    assert_eq!(receipt["documentHash"], json!(document_hash(&cv).to_string()));
    assert_eq!(receipt["txHash"], submitted["txHash"]);
    assert_eq!(receipt["status"], json!("mined"));
    assert_eq!(
        std::fs::metadata(&receipt_path)?.permissions().mode() & 0o777,
        0o600,
        "the receipt is private"
    );

    // A second applicant with the same document file and a chosen salt (from a file, not argv):
    // the first receipt is kept and the new one gets the next free name.
    let chosen = B256::repeat_byte(0x42).to_string();
    let salt_file = dir.path().join("salt.txt");
    std::fs::write(&salt_file, format!("{chosen}\n"))?;
    let salt_file_arg = salt_file.to_str().context("utf-8 path")?;
    let second_app = board.json(
        2,
        &["application", "submit", "--job", "1", "--document", doc_arg, "--salt-file", salt_file_arg],
    )?;
    assert_eq!(
        (second_app["applicationId"].clone(), second_app["salt"].clone()),
        (json!("2"), json!(chosen))
    );
    let second_receipt: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cv.pdf.jobboard-2.json"))?)?;
    assert_eq!(second_receipt["salt"], json!(chosen));
    let first_receipt: Value = serde_json::from_str(&std::fs::read_to_string(&receipt_path)?)?;
    assert_eq!(first_receipt["applicationId"], json!("1"), "the first receipt was overwritten");
    let third_app = board.json(3, &["application", "submit", "--job", "1", "--document", doc_arg])?;
    assert_eq!(third_app["applicationId"], json!("3"));

    // Statuses: one, then a batch (ids repeated and comma-separated), then withdraw.
    let one = board.json(0, &["application", "status", "--id", "1", "Shortlisted"])?;
    assert_eq!((one["applicationIds"].clone(), one["status"].clone()), (json!(["1"]), json!("Shortlisted")));
    assert_mined(&one)?;
    assert_eq!(board.status_of(1).await?, ApplicationStatus::Shortlisted);
    let batch = board.json(0, &["application", "status", "--id", "2", "--id", "3,2", "REJECTED"])?;
    assert_eq!(
        (batch["applicationIds"].clone(), batch["status"].clone()),
        (json!(["2", "3"]), json!("Rejected"))
    );
    let batch_tx: B256 = batch["txHash"].as_str().context("txHash")?.parse()?;
    let batch_receipt = board.provider.get_transaction_receipt(batch_tx).await?.context("receipt")?;
    assert_eq!(batch_receipt.inner.logs().len(), 2, "one transaction, one event per application");
    assert_eq!(board.status_of(2).await?, ApplicationStatus::Rejected);
    assert_eq!(board.status_of(3).await?, ApplicationStatus::Rejected);
    let withdrawn = board.json(1, &["application", "withdraw", "--id", "1"])?;
    assert_eq!(withdrawn["applicationId"], json!("1"));
    assert_eq!(withdrawn["jobId"], json!("1"));
    assert_eq!(withdrawn["status"], json!("Withdrawn"));
    assert_eq!(board.status_of(1).await?, ApplicationStatus::Withdrawn);

    // Verify: the right document and salt (from the flag, or from the receipt file) pass...
    // (read-only: no key needed)
    let verify_args = ["application", "verify", "--id", "2", "--document", doc_arg, "--salt", &chosen];
    let verified = Run { output: board.command().args(verify_args).output()? };
    ensure!(verified.code() == Some(0) && verified.stdout().starts_with("verified"), "{}", verified.stdout());
    ensure!(
        verified.stderr().contains("--salt on the command line is visible"),
        "no warning: {}",
        verified.stderr()
    );
    let from_receipt = board.json(9, &["application", "verify", "--id", "1", "--document", doc_arg])?;
    assert_eq!(from_receipt["verified"], json!(true));
    assert_eq!(from_receipt["saltFrom"], json!(receipt_path.to_str()));
    assert_eq!(from_receipt["status"], json!("Withdrawn"));
    // ...one changed byte or a wrong salt do not.
    let other_dir = tempfile::tempdir()?;
    let changed = other_dir.path().join("cv.pdf");
    let mut tampered = cv.clone();
    tampered[5] ^= 0x01;
    std::fs::write(&changed, &tampered)?;
    let changed_arg = changed.to_str().context("utf-8 path")?;
    let salt_arg = salt.to_string();
    let mismatch = board
        .run(9, &["application", "verify", "--id", "1", "--document", changed_arg, "--salt", &salt_arg])?;
    mismatch.failure(1)?;
    ensure!(mismatch.stdout().starts_with("MISMATCH"), "{}", mismatch.stdout());
    ensure!(mismatch.stdout().contains(&commitment.application_hash().to_string()), "{}", mismatch.stdout());
    let wrong_salt = B256::repeat_byte(0x13).to_string();
    let wrong = board.run(
        9,
        &["application", "verify", "--id", "1", "--document", doc_arg, "--salt", &wrong_salt, "--json"],
    )?;
    wrong.failure(1)?;
    let wrong: Value = serde_json::from_str(&wrong.stdout())?;
    assert_eq!(wrong["verified"], json!(false));
    assert_eq!(wrong["onChainHash"], json!(commitment.application_hash().to_string()));
    // No salt and no receipt: it cannot check, and says so (exit code 2, not 1).
    let no_salt = board.run(9, &["application", "verify", "--id", "1", "--document", changed_arg])?;
    ensure!(no_salt.failure(2)?.contains("pass --salt"), "{}", no_salt.stderr());

    // Close; the closed job then refuses applications and updates with the contract's reason.
    let closed = board.json(0, &["job", "close", "--id", "1"])?;
    assert_eq!(closed["jobId"], json!("1"));
    let close_block = assert_mined(&closed)?;
    assert!(contract.getJob(U256::from(1)).call().await?.closed);
    let late = dir.path().join("late.pdf");
    std::fs::write(&late, b"too late")?;
    let late_arg = late.to_str().context("utf-8 path")?;
    let refused = board.run(4, &["application", "submit", "--job", "1", "--document", late_arg])?;
    let message = refused.failure(1)?;
    ensure!(message.contains("job 1 is closed"), "{message}");
    ensure!(
        !dir.path().join("late.pdf.jobboard.json").exists(),
        "a receipt was written for a refused application"
    );
    let update_closed = board.run(0, &["job", "update", "--id", "1", "--title", "Again"])?;
    ensure!(update_closed.failure(1)?.contains("job 1 is closed"), "{}", update_closed.stderr());
    let not_yours = board.run(5, &["job", "close", "--id", "2"])?;
    let message = not_yours.failure(1)?;
    ensure!(
        message.contains("not the employer of job 2") && message.contains(&employer.to_string()),
        "{message}"
    );
    let final_status = board.run(0, &["application", "status", "--id", "2", "hired"])?;
    let message = final_status.failure(1)?;
    ensure!(message.contains("application 2 is Rejected") && message.contains("final"), "{message}");

    // The indexer and the API see what the commands did.
    let head = board.provider.get_block_number().await?;
    ensure!(head >= close_block, "head {head} below the close block {close_block}");
    let db = test_database().await?;
    let api = ApiProcess::spawn(&board, &db.url)?;
    let data = api
        .query(
            head,
            r#"{
              job(id: "1") { title company salaryMax status applicationCount revisions { title } }
              second: job(id: "2") { title company tags }
              a1: application(id: "1") { status applicationHash }
              a2: application(id: "2") { status }
              a3: application(id: "3") { status }
            }"#,
        )
        .await?;
    assert_eq!(data["job"]["title"], json!("Senior Rust Engineer"));
    assert_eq!(data["job"]["company"], json!("Acme"));
    assert_eq!(data["job"]["salaryMax"], json!("250000"));
    assert_eq!(data["job"]["status"], json!("CLOSED"));
    assert_eq!(data["job"]["applicationCount"], json!(2), "withdrawn applications do not count");
    assert_eq!(data["job"]["revisions"].as_array().map(Vec::len), Some(2));
    assert_eq!(data["second"]["title"], json!("Data Engineer"));
    assert_eq!(data["second"]["tags"], json!(["sql", "rust"]));
    assert_eq!(data["a1"]["status"], json!("WITHDRAWN"));
    assert_eq!(data["a1"]["applicationHash"], json!(commitment.application_hash().to_string()));
    assert_eq!(data["a2"]["status"], json!("REJECTED"));
    assert_eq!(data["a3"]["status"], json!("REJECTED"));
    let rows: Vec<(i64, i16)> =
        sqlx::query_as("SELECT application_id, status FROM applications ORDER BY application_id")
            .fetch_all(&db.pool)
            .await?;
    assert_eq!(rows, [(1, 4), (2, 2), (3, 2)]);
    let (salary_max, closed): (String, bool) =
        sqlx::query_as("SELECT salary_max::text, closed FROM jobs WHERE job_id = 1")
            .fetch_one(&db.pool)
            .await?;
    assert_eq!((salary_max.as_str(), closed), ("250000", true));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keystore_made_by_cast_signs_and_a_wrong_or_missing_password_is_explained() -> Result<()> {
    let board = Board::start()?;
    let dir = tempfile::tempdir()?;
    let cast = repo_root().join("node_modules/@foundry-rs/cast-linux-amd64/bin/cast");
    let key = &board.anvil.keys[6];
    let imported = Command::new(&cast)
        .args(["wallet", "import", "employer", "--keystore-dir"])
        .arg(dir.path())
        .args(["--private-key", &key_hex(key), "--unsafe-password", "correct horse"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", cast.display()))?;
    ensure!(imported.status.success(), "cast wallet import: {}", String::from_utf8_lossy(&imported.stderr));
    let keystore = dir.path().join("employer");
    ensure!(keystore.exists(), "cast did not write {}", keystore.display());

    let with_keystore = |password: Option<&str>| -> Result<Run> {
        let mut command = board.command();
        command
            .args(["job", "post", "--title", "Signed by a keystore", "--json", "--keystore"])
            .arg(&keystore);
        if let Some(password) = password {
            command.env("JOBBOARD_KEYSTORE_PASSWORD", password);
        }
        Ok(Run { output: command.output()? })
    };
    let posted = with_keystore(Some("correct horse"))?.json()?;
    assert_eq!(posted["jobId"], json!("1"));
    let employer = board.contract().getJob(U256::from(1)).call().await?.employer;
    assert_eq!(employer, key.address(), "the job must be posted by the keystore's account");

    // `deploy` loads its key the same way.
    let deployed = board
        .command()
        .args(["deploy", "--json", "--keystore"])
        .arg(&keystore)
        .env("JOBBOARD_KEYSTORE_PASSWORD", "correct horse")
        .output()?;
    let deployed = Run { output: deployed }.json()?;
    let tx: B256 = deployed["txHash"].as_str().context("txHash")?.parse()?;
    let receipt = board.provider.get_transaction_receipt(tx).await?.context("the deployment's receipt")?;
    assert_eq!(receipt.from, key.address(), "deploy --keystore must sign with the keystore's account");
    let address: Address = deployed["address"].as_str().context("address")?.parse()?;
    ensure!(!board.provider.get_code_at(address).await?.is_empty(), "no board deployed at {address}");
    let no_password = board.command().args(["deploy", "--keystore"]).arg(&keystore).output()?;
    let no_password = Run { output: no_password }.failure(1)?;
    ensure!(no_password.contains("JOBBOARD_KEYSTORE_PASSWORD"), "{no_password}");

    let wrong = with_keystore(Some("battery staple"))?.failure(1)?;
    ensure!(wrong.contains("wrong password for the keystore"), "{wrong}");
    let missing = with_keystore(None)?.failure(1)?;
    ensure!(missing.contains("JOBBOARD_KEYSTORE_PASSWORD"), "{missing}");
    assert_eq!(board.contract().nextJobId().call().await?, U256::from(2), "a failed run sent something");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_a_wrong_setup_fail_before_sending_with_a_message_that_says_what_to_do() -> Result<()> {
    let board = Board::start()?;
    let expect_failure = |run: Run, needles: &[&str]| -> Result<()> {
        let message = run.failure(1)?;
        for needle in needles {
            ensure!(message.contains(needle), "{needle:?} not in:\n{message}");
        }
        Ok(())
    };
    let long_title = "x".repeat(201);
    expect_failure(
        board.run(0, &["job", "post", "--title", &long_title])?,
        &["title is 201 bytes", "200", "--title"],
    )?;
    expect_failure(board.run(0, &["job", "post", "--company", "Acme"])?, &["needs a title", "--title"])?;
    expect_failure(
        board.run(0, &["job", "post", "--title", "t", "--salary-min", "10"])?,
        &["needs a currency", "--salary-currency"],
    )?;
    expect_failure(
        board.run(
            0,
            &[
                "job",
                "post",
                "--title",
                "t",
                "--salary-currency",
                "USD",
                "--salary-min",
                "9",
                "--salary-max",
                "8",
            ],
        )?,
        &["--salary-min 9 is above --salary-max 8"],
    )?;
    expect_failure(
        board.run(0, &["job", "post", "--title", "t", "--deadline", "2001-01-01"])?,
        &["is not in the future", "--deadline none"],
    )?;
    expect_failure(board.run(0, &["job", "update", "--id", "1"])?, &["nothing to update"])?;
    expect_failure(
        board.run(0, &["job", "update", "--id", "9", "--title", "t"])?,
        &["job 9 does not exist"],
    )?;
    expect_failure(
        board.run(0, &["application", "withdraw", "--id", "4"])?,
        &["application 4 does not exist"],
    )?;

    // Usage errors come from clap (exit code 2) and name the value.
    let bad_deadline = board.run(0, &["job", "post", "--title", "t", "--deadline", "soon"])?;
    ensure!(bad_deadline.failure(2)?.contains("--deadline"), "{}", bad_deadline.stderr());
    let submitted = board.run(0, &["application", "status", "--id", "1", "submitted"])?;
    ensure!(submitted.failure(2)?.contains("employers can't set submitted"), "{}", submitted.stderr());
    let withdrawn = board.run(0, &["application", "status", "--id", "1", "Withdrawn"])?;
    ensure!(withdrawn.failure(2)?.contains("only the applicant can withdraw"), "{}", withdrawn.stderr());
    let no_flag = board.command().args(["job", "post", "--title", "t", "--private-key", "0x01"]).output()?;
    ensure!(Run { output: no_flag }.failure(2)?.contains("--private-key"), "a key flag must not exist");

    // The setup: no key, a bad key, a node that is not there, an address without the board.
    let no_key = Run { output: board.command().args(["job", "post", "--title", "t"]).output()? };
    expect_failure(no_key, &["no signing key", "JOBBOARD_PRIVATE_KEY", "--keystore"])?;
    let bad_key = board
        .command()
        .env("JOBBOARD_PRIVATE_KEY", "0xnot-a-key")
        .args(["job", "close", "--id", "1"])
        .output()?;
    let bad_key = Run { output: bad_key }.failure(1)?;
    ensure!(bad_key.contains("JOBBOARD_PRIVATE_KEY is not a valid hex private key"), "{bad_key}");
    ensure!(!bad_key.contains("not-a-key"), "the key must never be printed: {bad_key}");
    let unreachable = board.run(0, &["job", "close", "--id", "1", "--rpc-url", "http://127.0.0.1:9"])?;
    expect_failure(unreachable, &["RPC URL http://127.0.0.1:9 is not reachable", "--rpc-url"])?;
    let nobody = Address::repeat_byte(0x42).to_string();
    let no_contract = board.run(0, &["job", "close", "--id", "1", "--contract", &nobody])?;
    expect_failure(
        no_contract,
        &[&format!("no contract at {nobody} on chain 31337"), "check --contract (JOBBOARD_CONTRACT)"],
    )?;

    assert_eq!(board.contract().nextJobId().call().await?, U256::from(1), "nothing may have been posted");
    Ok(())
}

/// `jobboard run` (indexer and API in one process) on a free port; killed on drop.
struct ApiProcess {
    process: JobboardProcess,
    url: String,
}

impl ApiProcess {
    fn spawn(board: &Board, database_url: &str) -> Result<ApiProcess> {
        let port = crate::support::ports::free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let mut command = board.command();
        command
            .args(["run", "--database-url", database_url, "--listen", &listen])
            .args(["--start-block", &board.deploy_block.to_string(), "--poll-interval", "50ms"])
            .args(["--min-block-wait", "30s"]);
        let process = JobboardProcess::spawn(command).context("spawning jobboard run")?;
        Ok(ApiProcess { process, url: format!("http://{listen}/graphql") })
    }

    fn log(&self) -> String {
        self.process.log()
    }

    /// Runs `query` once the index has reached `min_block` (the API's X-Min-Block wait),
    /// retrying while the server starts.
    async fn query(&self, min_block: u64, query: &str) -> Result<Value> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let sent = client
                .post(&self.url)
                .header("x-min-block", min_block.to_string())
                .json(&json!({ "query": query }))
                .send()
                .await;
            match sent {
                Ok(response) => {
                    let status = response.status();
                    let body: Value = response.json().await?;
                    ensure!(
                        status.is_success() && body.get("errors").is_none(),
                        "{status}: {body}\n{}",
                        self.log()
                    );
                    return body.get("data").cloned().context("no data");
                }
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(error) => bail!("the API never answered ({error}):\n{}", self.log()),
            }
        }
    }
}
