//! The store's write side: a [`Session`] (the writer's own database connection) and the
//! [`Writer`] it becomes once it holds the board's writer lock.
//!
//! The indexer writes only through a [`Writer`], which exists only after the lock was taken
//! on its connection and checks the lock is still held before every write; the connection,
//! the lock key and the SQL stay inside `store`.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use sqlx::PgConnection;

use super::ids::{LastIds, last_ids};
use super::load::{RawBatch, load_raw};
use super::project::project_loaded;
use super::revert::{RevertSummary, revert_to};
use super::state::{IndexerState, load_state, load_window, refresh_statistics, register_board, update_head};
use super::write::{Batch, apply_batch};
use super::{Board, MIGRATOR, SessionOptions, StoreError, lock};
use crate::chain::BlockRef;

/// The connection a session runs on: opened by the session itself, or lent by a caller (a
/// test or a lone indexer that opened it).
enum Conn<'c> {
    Owned(Box<PgConnection>),
    Borrowed(&'c mut PgConnection),
}

impl Deref for Conn<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Conn::Owned(conn) => conn,
            Conn::Borrowed(conn) => conn,
        }
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Conn::Owned(conn) => conn,
            Conn::Borrowed(conn) => conn,
        }
    }
}

/// A writer's database session that does not (yet) hold a board's writer lock: it may
/// migrate, try the lock and name the lock's holder, but not write.
pub struct Session<'c> {
    conn: Conn<'c>,
    /// How the session connected, when it did so itself: its writer opens a second connection
    /// the same way for its [`Projector`].
    reconnect: Option<(SessionOptions, Duration)>,
}

impl Session<'static> {
    /// Opens a session with `options` (see [`lock::session_options`]), giving up after
    /// `timeout`.
    ///
    /// # Errors
    /// [`StoreError::Database`] if connecting fails, [`StoreError::Timeout`] if it takes too long.
    pub async fn connect(options: &SessionOptions, timeout: Duration) -> Result<Self, StoreError> {
        let conn = lock::connect(options, timeout).await?;
        Ok(Session { conn: Conn::Owned(Box::new(conn)), reconnect: Some((options.clone(), timeout)) })
    }
}

/// A session over a connection the caller opened and keeps.
impl<'c> From<&'c mut PgConnection> for Session<'c> {
    fn from(conn: &'c mut PgConnection) -> Self {
        Session { conn: Conn::Borrowed(conn), reconnect: None }
    }
}

impl<'c> Session<'c> {
    /// Applies the pending [`MIGRATOR`] migrations.
    ///
    /// # Errors
    /// [`StoreError::Migrate`] (or another store error) if a migration fails.
    pub async fn migrate(&mut self) -> Result<(), StoreError> {
        MIGRATOR.run(&mut *self.conn).await?;
        Ok(())
    }

    /// Takes `board`'s writer lock on this session if it is free: the session becomes the
    /// board's [`Writer`], or comes back as [`Acquired::Busy`] while another session holds it.
    ///
    /// # Errors
    /// [`StoreError::Database`] if the statement fails (the session is then dropped).
    pub async fn try_acquire(mut self, board: Board) -> Result<Acquired<'c>, StoreError> {
        let key = lock::lock_key(&board);
        if lock::try_acquire(&mut self.conn, key).await? {
            Ok(Acquired::Writer(Writer { conn: self.conn, board, key, reconnect: self.reconnect }))
        } else {
            Ok(Acquired::Busy(self))
        }
    }

    /// The backend pid of the session holding `board`'s writer lock, if any (for a
    /// standby's log).
    ///
    /// # Errors
    /// [`StoreError::Database`] if the statement fails.
    pub async fn holder(&mut self, board: &Board) -> Result<Option<i32>, StoreError> {
        lock::holder(&mut self.conn, lock::lock_key(board)).await
    }
}

/// What [`Session::try_acquire`] got.
pub enum Acquired<'c> {
    /// The lock: the session is now the board's writer.
    Writer(Writer<'c>),
    /// Another session holds the lock: the session, to try again later.
    Busy(Session<'c>),
}

/// The one writer of a board: a session holding the board's writer lock. Every write checks
/// first that the lock is still held ([`Writer::ensure_held`]), in the same session, so a
/// writer that lost its lock never writes beside the one that took it.
pub struct Writer<'c> {
    conn: Conn<'c>,
    board: Board,
    key: i64,
    reconnect: Option<(SessionOptions, Duration)>,
}

impl Writer<'_> {
    /// The board this writer holds.
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// Checks that this session still holds the writer lock: a session-level lock is lost only
    /// with its session or by an explicit unlock; this catches the second and reports the first
    /// before any statement of a write is sent.
    ///
    /// # Errors
    /// [`StoreError::LockLost`] if it does not; [`StoreError::Database`] if the statement fails.
    pub async fn ensure_held(&mut self) -> Result<(), StoreError> {
        lock::ensure_held(&mut self.conn, self.key).await
    }

    /// Registers the board to index from `start_block`, or checks that its registration
    /// uses that start block; returns its state.
    ///
    /// # Errors
    /// [`StoreError::StartBlockMismatch`] if it is registered with another start block.
    pub async fn register(&mut self, start_block: u64) -> Result<IndexerState, StoreError> {
        register_board(&mut self.conn, &self.board, start_block).await
    }

    /// The board's indexer state; `None` if it was never registered.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed query, [`StoreError::Corrupt`] on impossible values.
    pub async fn state(&mut self) -> Result<Option<IndexerState>, StoreError> {
        load_state(&mut self.conn, &self.board).await
    }

    /// The reorg window, newest block first.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed query, [`StoreError::Corrupt`] on malformed rows.
    pub async fn window(&mut self) -> Result<Vec<BlockRef>, StoreError> {
        load_window(&mut self.conn, &self.board).await
    }

    /// The newest job and application ids stored, which the next batch must continue.
    ///
    /// # Errors
    /// [`StoreError::Database`] on a failed query.
    pub async fn last_ids(&mut self) -> Result<LastIds, StoreError> {
        last_ids(&mut self.conn, &self.board).await
    }

    /// Writes `batch` in one transaction, after checking the lock is held.
    ///
    /// # Errors
    /// [`StoreError::LockLost`], [`StoreError::CheckpointMoved`] or the database's error.
    pub async fn apply_batch(&mut self, batch: &Batch<'_>) -> Result<(), StoreError> {
        self.ensure_held().await?;
        apply_batch(&mut self.conn, &self.board, batch).await
    }

    /// Appends a backfill batch's raw rows below the finalized block and moves the loaded mark,
    /// in one transaction, after checking the lock is held; [`Writer::project_loaded`] builds
    /// their projections later (ADR 0021).
    ///
    /// # Errors
    /// [`StoreError::LockLost`], [`StoreError::CheckpointConflict`] or the database's error.
    pub async fn load_raw(&mut self, batch: &RawBatch<'_>) -> Result<(), StoreError> {
        self.ensure_held().await?;
        load_raw(&mut self.conn, &self.board, batch).await
    }

    /// Projects every raw row loaded beyond the checkpoint and moves the checkpoint to the
    /// loaded mark, in one transaction, after checking the lock is held; returns the new
    /// checkpoint, or `None` when nothing waited.
    ///
    /// # Errors
    /// [`StoreError::LockLost`], [`StoreError::Corrupt`] or the database's error.
    pub async fn project_loaded(&mut self) -> Result<Option<u64>, StoreError> {
        self.ensure_held().await?;
        project_loaded(&mut self.conn, &self.board, None).await
    }

    /// Opens this writer's [`Projector`]: a second connection, made as this session was, on
    /// which the backfill projects one chunk while this one loads the next. `None` for a
    /// session over a connection the caller lent (it cannot be made again).
    ///
    /// # Errors
    /// [`StoreError::Database`] if connecting fails, [`StoreError::Timeout`] if it takes too long.
    pub async fn open_projector(&mut self) -> Result<Option<Projector>, StoreError> {
        let Some((options, timeout)) = &self.reconnect else { return Ok(None) };
        let writer_pid: i32 =
            sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *self.conn).await?;
        let options = options.clone().application_name("jobboard-projector");
        let conn = lock::connect(&options, *timeout).await?;
        Ok(Some(Projector { conn, board: self.board, key: self.key, writer_pid }))
    }

    /// Reverts the board to the state after block `fork` in one transaction, after checking
    /// the lock is held.
    ///
    /// # Errors
    /// [`StoreError::LockLost`] or the database's error.
    pub async fn revert_to(&mut self, fork: &BlockRef) -> Result<RevertSummary, StoreError> {
        self.ensure_held().await?;
        revert_to(&mut self.conn, &self.board, fork).await
    }

    /// Records the node's head and finalized block without moving the checkpoint (the
    /// indexer's heartbeat), after checking the lock is held.
    ///
    /// # Errors
    /// [`StoreError::LockLost`] or the database's error.
    pub async fn update_head(&mut self, head: u64, finalized: Option<u64>) -> Result<(), StoreError> {
        self.ensure_held().await?;
        update_head(&mut self.conn, &self.board, head, finalized).await
    }

    /// Refreshes the planner's statistics of the tables a backfill fills: run once when a
    /// backfill completes, so the API's queries are not planned on default row estimates.
    ///
    /// # Errors
    /// [`StoreError::Database`] if the statement fails.
    pub async fn analyse(&mut self) -> Result<(), StoreError> {
        refresh_statistics(&mut self.conn).await
    }
}

/// A writer's second connection, on which the backfill projects loaded rows while the writer's
/// own connection loads the next batch (ADR 0021): the two transactions touch different
/// tables, and each moves its own mark. It writes only while the writer's session still holds
/// the board's lock, and its checkpoint moves by a compare-and-set, so a writer that lost the
/// board never projects beside the one that took it.
pub struct Projector {
    conn: PgConnection,
    board: Board,
    key: i64,
    /// The backend pid of the writer's session, which must hold the lock.
    writer_pid: i32,
}

impl Projector {
    /// Projects the rows loaded beyond the checkpoint up to block `through` (which the loaded
    /// mark has reached) and moves the checkpoint there, in one transaction, after checking
    /// that the writer's session still holds the lock; returns the new checkpoint.
    ///
    /// # Errors
    /// [`StoreError::LockLost`], [`StoreError::CheckpointConflict`], [`StoreError::Corrupt`]
    /// or the database's error; nothing is written then.
    pub async fn project_through(&mut self, through: &BlockRef) -> Result<Option<u64>, StoreError> {
        lock::ensure_held_by(&mut self.conn, self.key, self.writer_pid).await?;
        project_loaded(&mut self.conn, &self.board, Some(through)).await
    }
}
