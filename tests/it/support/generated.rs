//! A large board generated in SQL (`tests/fixtures/generated_board.sql`), for the tests that need
//! more events than the indexer can write in a test's time: plans and hostile queries. It has
//! the shapes and proportions of a real board, not the history of a real chain.

use alloy::primitives::Address;
use anyhow::{Context, Result};
use jobboard::store::Board;
use sqlx::PgPool;

/// The generated board's identity.
pub fn generated_board() -> Board {
    Board { chain_id: 31_337, contract: Address::repeat_byte(0x42) }
}

/// Employer `n`'s address (it posted jobs `n`, `n + employers`, …).
pub fn employer(n: u64) -> Address {
    numbered_address(1_000_000 + n)
}

/// An address that never acted on the board.
pub fn stranger() -> Address {
    numbered_address(9_000_000)
}

fn numbered_address(n: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[12..].copy_from_slice(&n.to_be_bytes());
    Address::from(bytes)
}

/// Fills `pool`'s (migrated, empty) database with a board of about `events` events, then
/// ANALYZEs it.
pub async fn generate_board(pool: &PgPool, events: u64) -> Result<Board> {
    let board = generated_board();
    let mut conn = pool.acquire().await?;
    sqlx::query(
        "SELECT set_config('gen.events', $1, false), set_config('gen.chain_id', $2, false), \
         set_config('gen.contract', $3, false)",
    )
    .bind(events.to_string())
    .bind(board.chain_id.to_string())
    .bind(alloy::hex::encode(board.contract))
    .execute(&mut *conn)
    .await?;
    sqlx::raw_sql(include_str!("../../fixtures/generated_board.sql"))
        .execute(&mut *conn)
        .await
        .context("generating the board")?;
    Ok(board)
}

/// Applicant `n`'s address.
pub fn applicant(n: u64) -> Address {
    numbered_address(2_000_000 + n)
}
