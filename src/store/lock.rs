//! The SQL of the writer lock: a PostgreSQL advisory lock held by the writer's own session,
//! and the session settings that let the server notice a vanished client.
//!
//! The store only offers the mechanism (take, find the holder, check it is still held, open a
//! session with keepalives), used through [`super::Session`] and [`super::Writer`]; when to
//! take, check and give up the lock is the indexer's policy (`indexer::lock` and
//! `indexer::supervise`).

use std::time::Duration;

use alloy::primitives::keccak256;
use sqlx::{ConnectOptions as _, PgConnection};

use super::{Board, SessionOptions, StoreError};

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

/// How a writer session connects: `database_url` with `keepalive` applied to the session,
/// and a name operators see in `pg_stat_activity`.
///
/// # Errors
/// [`StoreError::Database`] (a configuration error, deterministic) if the URL does not parse.
pub fn session_options(database_url: &str, keepalive: Keepalive) -> Result<SessionOptions, StoreError> {
    let options: SessionOptions = database_url.parse()?;
    let k = keepalive;
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
pub(super) async fn connect(options: &SessionOptions, timeout: Duration) -> Result<PgConnection, StoreError> {
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
pub(super) async fn try_acquire(conn: &mut PgConnection, key: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(conn).await?)
}

/// The backend pid of the session holding the lock of `key`, if any (for the standby's log).
///
/// # Errors
/// [`StoreError::Database`] if the statement fails.
pub(super) async fn holder(conn: &mut PgConnection, key: i64) -> Result<Option<i32>, StoreError> {
    let sql = format!("SELECT pid FROM pg_locks WHERE {LOCK_ROW} LIMIT 1");
    Ok(sqlx::query_scalar(&sql).bind(key).fetch_optional(conn).await?)
}

/// Checks that `conn`'s own session still holds the lock of `key`. A session-level lock is
/// lost only with its session (which also fails the write that follows) or by an explicit
/// unlock, so this catches the second and reports the first before any statement of the
/// write is sent.
///
/// # Errors
/// [`StoreError::LockLost`] if the session does not hold it; [`StoreError::Database`] if the
/// statement fails.
pub(super) async fn ensure_held(conn: &mut PgConnection, key: i64) -> Result<(), StoreError> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE {LOCK_ROW} AND pid = pg_backend_pid())");
    let held: bool = sqlx::query_scalar(&sql).bind(key).fetch_one(conn).await?;
    if held { Ok(()) } else { Err(StoreError::LockLost) }
}

/// Checks, from another session, that the session with backend pid `pid` still holds the lock
/// of `key`: the writer's second connection (its projector) writes only for a writer that still
/// holds the board.
///
/// # Errors
/// [`StoreError::LockLost`] if that session does not hold it; [`StoreError::Database`] if the
/// statement fails.
pub(super) async fn ensure_held_by(conn: &mut PgConnection, key: i64, pid: i32) -> Result<(), StoreError> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE {LOCK_ROW} AND pid = $2)");
    let held: bool = sqlx::query_scalar(&sql).bind(key).bind(pid).fetch_one(conn).await?;
    if held { Ok(()) } else { Err(StoreError::LockLost) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takeover_is_the_longer_of_probing_and_the_user_timeout() {
        let slow = Keepalive { idle: 60, interval: 10, count: 5, user_timeout: 30 };
        assert_eq!(slow.takeover(), Duration::from_secs(110));
        let patient = Keepalive { idle: 1, interval: 1, count: 1, user_timeout: 30 };
        assert_eq!(patient.takeover(), Duration::from_secs(30));
    }
}
