//! Change notices: the writer announces each committed batch and each revert with PostgreSQL
//! `NOTIFY`, inside the transaction, so a notice is delivered only if (and once) the change
//! commits. API processes `LISTEN` and push subscriptions from it, wherever the writer runs.

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::postgres::{PgListener, PgPool};

use super::{Board, StoreError};

/// The channel every notice goes to (payloads name their board).
pub const CHANNEL: &str = "jobboard_changes";

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Blocks up to `to` are indexed.
    Indexed {
        /// The new checkpoint.
        to: u64,
    },
    /// Everything above block `to` was reverted.
    Reverted {
        /// The fork point, now the checkpoint.
        to: u64,
        /// Its hash.
        hash: B256,
    },
}

/// A change to one board's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The board's chain.
    pub chain_id: u64,
    /// The board's contract.
    pub contract: Address,
    /// What changed.
    #[serde(flatten)]
    pub change: Change,
}

impl Notice {
    /// Whether the notice is about `board`.
    pub fn is_for(&self, board: &Board) -> bool {
        self.chain_id == board.chain_id && self.contract == board.contract
    }
}

/// Queues a notice in the current transaction (delivered on commit, dropped on rollback).
pub(crate) async fn notify(conn: &mut PgConnection, board: &Board, change: Change) -> Result<(), StoreError> {
    let notice = Notice { chain_id: board.chain_id, contract: board.contract, change };
    let payload = serde_json::to_string(&notice)
        .map_err(|e| StoreError::Corrupt(format!("serializing a notice: {e}")))?;
    sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(conn).await?;
    Ok(())
}

/// Starts listening for notices on a dedicated connection from `pool`'s settings.
///
/// # Errors
/// [`StoreError::Database`] if the connection or `LISTEN` fails.
pub async fn listen(pool: &PgPool) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Whether `error` is a hot standby refusing `LISTEN` ("cannot execute LISTEN during
/// recovery", SQLSTATE 25006): no notice will come from this database while it replays.
pub fn is_standby_refusal(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("25006"))
}

/// Parses a notice's payload; `None` for a payload this version does not understand.
pub fn parse_notice(payload: &str) -> Option<Notice> {
    serde_json::from_str(payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_through_their_payload() {
        let notice = Notice {
            chain_id: 31337,
            contract: Address::repeat_byte(7),
            change: Change::Reverted { to: 9, hash: B256::repeat_byte(1) },
        };
        let payload = serde_json::to_string(&notice).expect("serializes");
        assert!(payload.contains("\"kind\":\"reverted\""), "{payload}");
        assert_eq!(parse_notice(&payload), Some(notice));
        assert_eq!(parse_notice("{\"kind\":\"unknown\"}"), None);
    }
}
