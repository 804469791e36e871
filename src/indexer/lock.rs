//! One writer per board and database: a PostgreSQL advisory lock held by the writer's own
//! connection.
//!
//! All writes go through the connection that holds the lock, so if that connection dies the
//! lock is released *and* the writer can no longer write: a standby can never interleave with
//! a writer it believes dead. A second `jobboard index` waits as a hot standby and takes over
//! (the waiting and retrying is in [`super::supervise`]).
//!
//! A connection can also die without either end knowing (a network partition): the lock would
//! then stay held by a server session nobody uses for as long as TCP takes to notice, ~2 h by
//! default. The writer's session therefore asks the *server* to probe its client
//! ([`KEEPALIVE`]): a silent client is declared dead, its session ended and the lock released
//! within [`KEEPALIVE.takeover`](Keepalive::takeover), after which a standby takes the lock on
//! its next try. The client side of a partition is covered by a timeout on every statement the
//! writer makes ([`super::IndexerConfig::statement_timeout`]).

use std::time::Duration;

use alloy::primitives::keccak256;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, PgConnection};

use crate::store::{Board, StoreError};

/// The server-side TCP settings of the writer's (and standby's) session, in seconds: the
/// server sends a keepalive probe after `idle` seconds of silence, then every `interval`
/// seconds, and ends the session after `count` unanswered probes; `user_timeout` ends it when
/// data it sent stays unacknowledged that long (a partition mid-answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Silence before the first probe.
    pub idle: u32,
    /// Between probes.
    pub interval: u32,
    /// Unanswered probes before the session is ended.
    pub count: u32,
    /// Unacknowledged data before the session is ended.
    pub user_timeout: u32,
}

impl Keepalive {
    /// The longest a partitioned writer's session (and so the lock) outlives the partition.
    pub const fn takeover(&self) -> Duration {
        let probing = self.idle + self.interval * self.count;
        let longest = if probing > self.user_timeout { probing } else { self.user_timeout };
        Duration::from_secs(longest as u64)
    }
}

/// 10 s idle + 3 probes 5 s apart, or 25 s of unacknowledged data: a partitioned writer
/// loses the lock within 25 s, and a standby (polling every second) takes over within 30 s.
pub const KEEPALIVE: Keepalive = Keepalive { idle: 10, interval: 5, count: 3, user_timeout: 25 };

/// How the writer and the standby connect: `database_url` with the [`KEEPALIVE`] settings
/// applied to the session, and a name operators see in `pg_stat_activity`.
///
/// # Errors
/// [`StoreError::Database`] (a configuration error, deterministic) if the URL does not parse.
pub fn writer_options(database_url: &str) -> Result<PgConnectOptions, StoreError> {
    let options: PgConnectOptions = database_url.parse()?;
    let k = KEEPALIVE;
    let user_timeout_ms = (u64::from(k.user_timeout) * 1000).to_string();
    Ok(options.application_name("jobboard-indexer").options([
        ("tcp_keepalives_idle", k.idle.to_string().as_str()),
        ("tcp_keepalives_interval", k.interval.to_string().as_str()),
        ("tcp_keepalives_count", k.count.to_string().as_str()),
        ("tcp_user_timeout", user_timeout_ms.as_str()),
    ]))
}

/// Opens a session for the writer, giving up after `timeout` (a connect to a partitioned
/// server would otherwise wait for the kernel's SYN retries).
///
/// # Errors
/// [`StoreError::Database`] if connecting fails, [`StoreError::Timeout`] if it takes too long.
pub async fn connect(options: &PgConnectOptions, timeout: Duration) -> Result<PgConnection, StoreError> {
    match tokio::time::timeout(timeout, options.connect()).await {
        Ok(conn) => Ok(conn?),
        Err(_) => Err(StoreError::Timeout { what: "connecting", after: timeout }),
    }
}

/// The advisory-lock key of a board: stable across processes and versions.
pub fn lock_key(board: &Board) -> i64 {
    let mut preimage = b"jobboard.indexer.v1".to_vec();
    preimage.extend_from_slice(&board.chain_id.to_be_bytes());
    preimage.extend_from_slice(board.contract.as_slice());
    let hash = keccak256(preimage);
    let mut key = [0u8; 8];
    key.copy_from_slice(&hash[..8]);
    i64::from_be_bytes(key)
}

/// The condition on `pg_locks` that picks the board's advisory lock (a bigint key is stored
/// as two 32-bit halves).
const LOCK_ROW: &str = "locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1";

/// Takes the writer lock of `key` on `conn` if it is free; returns whether it did.
///
/// # Errors
/// [`StoreError::Database`] if the statement fails.
pub async fn try_acquire(conn: &mut PgConnection, key: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(conn).await?)
}

/// The backend pid of the session holding the lock of `key`, if any (for the standby's log).
///
/// # Errors
/// [`StoreError::Database`] if the statement fails.
pub async fn holder(conn: &mut PgConnection, key: i64) -> Result<Option<i32>, StoreError> {
    let sql = format!("SELECT pid FROM pg_locks WHERE {LOCK_ROW} LIMIT 1");
    Ok(sqlx::query_scalar(&sql).bind(key).fetch_optional(conn).await?)
}

/// Checks that `conn`'s own session still holds the lock of `key`; the writer calls it before
/// each write. A session-level lock is lost only with its session (which also fails the write
/// that follows) or by an explicit unlock, so this catches the second and reports the first
/// before any statement of the write is sent.
///
/// # Errors
/// [`StoreError::LockLost`] if the session does not hold it; [`StoreError::Database`] if the
/// statement fails.
pub async fn ensure_held(conn: &mut PgConnection, key: i64) -> Result<(), StoreError> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE {LOCK_ROW} AND pid = pg_backend_pid())");
    let held: bool = sqlx::query_scalar(&sql).bind(key).fetch_one(conn).await?;
    if held { Ok(()) } else { Err(StoreError::LockLost) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partitioned_writer_loses_the_lock_within_25_seconds() {
        assert_eq!(KEEPALIVE.takeover(), Duration::from_secs(25));
        let slow = Keepalive { idle: 60, interval: 10, count: 5, user_timeout: 30 };
        assert_eq!(slow.takeover(), Duration::from_secs(110));
    }
}
