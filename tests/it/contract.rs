//! The contract seen from Rust on a real chain: deploy with the committed artifact, post a job,
//! apply, and decode both events back into the `sol!` types.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::SolEvent;
use anyhow::{Context, Result};
use jobboard::chain::deploy_board;
use jobboard::contract::{ApplicationCommitment, ApplicationStatus, JobBoard, document_hash};

use crate::support::harness::Anvil;

fn typical_posting() -> JobBoard::Posting {
    JobBoard::Posting {
        title: "Senior Rust Engineer".into(),
        company: "Acme Chain Tools".into(),
        location: "Remote (EU)".into(),
        tags: "rust,ethereum,postgres".into(),
        description: "## About the role\n\nBuild an indexer. 🚀 Naïve approaches need not apply.".into(),
        salaryCurrency: "USDC".into(),
        salaryMin: 120_000,
        salaryMax: 160_000,
        deadline: 4_102_444_800, // 2100-01-01
    }
}

/// Decodes exactly one `E` from the receipt's logs emitted by `board`.
fn single_event<E: SolEvent>(receipt: &TransactionReceipt, board: Address) -> Result<E> {
    let mut decoded = receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == board)
        .filter_map(|log| E::decode_log(&log.inner).ok())
        .map(|log| log.data);
    let event = decoded.next().with_context(|| format!("no {} in the receipt", E::SIGNATURE))?;
    anyhow::ensure!(decoded.next().is_none(), "more than one {}", E::SIGNATURE);
    Ok(event)
}

#[tokio::test]
async fn deploy_post_apply_and_decode_both_events() -> Result<()> {
    let anvil = Anvil::spawn()?;
    let provider = ProviderBuilder::new().wallet(anvil.wallet()).connect_http(anvil.endpoint.clone());
    let employer = anvil.address(0);
    let applicant = anvil.address(1);

    let deployment = deploy_board(&provider).await?;
    assert_eq!(deployment.chain_id, 31337);
    assert!(deployment.block >= 1);
    let code = provider.get_code_at(deployment.address).await?;
    assert!(!code.is_empty(), "no code at the deployed address");
    let board = JobBoard::new(deployment.address, &provider);
    assert_eq!(board.VERSION().call().await?, "1.0.0");
    assert_eq!(board.nextJobId().call().await?, U256::from(1));

    // Post a job and decode JobPosted.
    let posting = typical_posting();
    let receipt = board.postJob(posting.clone()).from(employer).send().await?.get_receipt().await?;
    assert!(receipt.status());
    let posted: JobBoard::JobPosted = single_event(&receipt, deployment.address)?;
    assert_eq!(posted.jobId, U256::from(1));
    assert_eq!(posted.employer, employer);
    assert_eq!(posted.posting, posting);

    // Apply with a commitment computed in Rust, and check it against the contract's view.
    let salt = B256::repeat_byte(0x5a);
    let commitment = ApplicationCommitment {
        chain_id: deployment.chain_id,
        board: deployment.address,
        job_id: posted.jobId,
        applicant,
        salt,
        document_hash: document_hash(b"%PDF-1.7 my curriculum vitae"),
    };
    let application_hash = commitment.application_hash();
    let on_chain =
        board.applicationHashOf(posted.jobId, applicant, salt, commitment.document_hash).call().await?;
    assert_eq!(on_chain, application_hash, "Rust and Solidity disagree on the application hash");

    let receipt =
        board.applyTo(posted.jobId, application_hash).from(applicant).send().await?.get_receipt().await?;
    assert!(receipt.status());
    let submitted: JobBoard::ApplicationSubmitted = single_event(&receipt, deployment.address)?;
    assert_eq!(submitted.jobId, posted.jobId);
    assert_eq!(submitted.applicant, applicant);
    assert_eq!(submitted.applicationId, U256::from(1));
    assert_eq!(submitted.applicationHash, application_hash);

    // The stored state agrees with the events.
    let stored = board.getApplication(submitted.applicationId).call().await?;
    assert_eq!(stored.applicant, applicant);
    assert_eq!(stored.jobId, 1);
    assert_eq!(ApplicationStatus::try_from(stored.status)?, ApplicationStatus::Submitted);
    assert_eq!(stored.applicationHash, application_hash);
    assert_eq!(board.applicationOf(posted.jobId, applicant).call().await?, submitted.applicationId);
    Ok(())
}

#[tokio::test]
async fn reverts_decode_into_the_custom_error_with_arguments() -> Result<()> {
    let anvil = Anvil::spawn()?;
    let provider = ProviderBuilder::new().wallet(anvil.wallet()).connect_http(anvil.endpoint.clone());
    let deployment = deploy_board(&provider).await?;
    let board = JobBoard::new(deployment.address, &provider);

    let err = board
        .applyTo(U256::from(7), B256::repeat_byte(1))
        .from(anvil.address(1))
        .call()
        .await
        .expect_err("applying to a job that does not exist must revert");
    let decoded = err
        .as_decoded_interface_error::<JobBoard::JobBoardErrors>()
        .context("the revert did not decode as a JobBoard error")?;
    match decoded {
        JobBoard::JobBoardErrors::JobNotFound(e) => assert_eq!(e.jobId, U256::from(7)),
        other => anyhow::bail!("expected JobNotFound, got {other:?}"),
    }
    Ok(())
}
