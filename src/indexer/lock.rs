//! One writer per board and database: the policy around the store's writer lock
//! ([`crate::store::lock`], a PostgreSQL advisory lock held by the writer's own connection).
//!
//! All writes go through the connection that holds the lock, so if that connection dies the
//! lock is released *and* the writer can no longer write: a standby can never interleave with
//! a writer it believes dead. A second `jobboard index` waits as a hot standby and takes over
//! (the waiting and retrying is in [`super::supervise`]); the writer checks it still holds the
//! lock before each write.
//!
//! A connection can also die without either end knowing (a network partition): the lock would
//! then stay held by a server session nobody uses for as long as TCP takes to notice, ~2 h by
//! default. The writer's session therefore asks the *server* to probe its client
//! ([`KEEPALIVE`]): a silent client is declared dead, its session ended and the lock released
//! within [`KEEPALIVE.takeover`](Keepalive::takeover), after which a standby takes the lock on
//! its next try. The client side of a partition is covered by a timeout on every statement the
//! writer makes ([`super::IndexerConfig::statement_timeout`]).

use crate::store::lock::{Keepalive, session_options};
use crate::store::{SessionOptions, StoreError};

/// 10 s idle + 3 probes 5 s apart, or 25 s of unacknowledged data: a partitioned writer
/// loses the lock within 25 s, and a standby (polling every second) takes over within 30 s.
pub const KEEPALIVE: Keepalive = Keepalive { idle: 10, interval: 5, count: 3, user_timeout: 25 };

/// How the writer and the standby connect: `database_url` with the [`KEEPALIVE`] settings
/// applied to the session, and a name operators see in `pg_stat_activity`.
///
/// # Errors
/// [`StoreError::Database`] (a configuration error, deterministic) if the URL does not parse.
pub fn writer_options(database_url: &str) -> Result<SessionOptions, StoreError> {
    session_options(database_url, KEEPALIVE)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_partitioned_writer_loses_the_lock_within_25_seconds() {
        assert_eq!(KEEPALIVE.takeover(), Duration::from_secs(25));
    }
}
