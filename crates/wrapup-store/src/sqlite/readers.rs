//! The pool of read-only connections, and the snapshots they keep between uses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::error::{Result, StoreError};

/// Read-only connections.
pub(super) const READERS: usize = 8;

/// A read-only connection and the snapshot it holds.
struct Reader {
    conn: Connection,
    /// While `Some(n)`, the connection holds an open read transaction begun when `n` write
    /// batches had committed.
    snapshot: Option<u64>,
}

/// The read-only connections, lent to one task at a time.
///
/// Beginning and ending a read transaction costs SQLite two `fcntl` locks on the WAL index
/// (about 10% of a GET's CPU time, measured). So a connection keeps its read transaction
/// open between uses for as long as no write batch has committed: `commits` counts them, and
/// the writer bumps it after each commit and before answering its jobs. A connection lent
/// out with an older snapshot ends it and begins anew, so every read still sees every write
/// acknowledged before it began. Idle connections give up old snapshots before each
/// checkpoint ([`Readers::release_idle`]), so they never hold the WAL back.
///
/// Commits of other processes (`wrapup clients create` while the server runs) do not bump
/// `commits`; the reads that must see them (`Store::get_client`) ask for a new snapshot.
pub(super) struct Readers {
    conns: Mutex<Vec<Reader>>,
    available: Semaphore,
    commits: Arc<AtomicU64>,
}

impl Readers {
    /// The pool of `conns`; `commits` is the writer's count of committed batches.
    pub(super) fn new(conns: Vec<Connection>, commits: Arc<AtomicU64>) -> Readers {
        Readers {
            available: Semaphore::new(conns.len()),
            conns: Mutex::new(
                conns
                    .into_iter()
                    .map(|conn| Reader {
                        conn,
                        snapshot: None,
                    })
                    .collect(),
            ),
            commits,
        }
    }

    /// Runs a point read (one indexed row: microseconds from the page cache) right here, on
    /// the calling thread: handing it to another thread would cost more than the read.
    /// Longer reads (pages, logs) use [`Readers::read`]. With `new_snapshot`, the read sees
    /// every commit, of any process, made before the call.
    pub(super) async fn read_now<T>(
        &self,
        new_snapshot: bool,
        op: impl FnOnce(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        let _permit = self
            .available
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        self.with_connection(new_snapshot, op)
    }

    /// Runs `op` with a read-only connection on the blocking thread pool.
    pub(super) async fn read<T, F>(self: &Arc<Self>, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .available
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.with_connection(false, op))
            .await
            .map_err(|e| StoreError::Database(format!("a read task failed: {e}")))?
    }

    /// Lends a connection to `op` (the caller holds a permit, so one is free); with
    /// `new_snapshot`, one that sees every commit, of any process, made before the call.
    fn with_connection<T>(
        &self,
        new_snapshot: bool,
        op: impl FnOnce(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        let mut reader = self
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .ok_or(StoreError::Closed)?;
        if new_snapshot {
            Self::end(&mut reader);
        }
        let result = Self::fresh(&mut reader, self.commits.load(Ordering::Acquire))
            .and_then(|()| op(&mut reader.conn));
        if result.is_err() {
            // Whatever failed, start the next use from a clean slate.
            Self::end(&mut reader);
        }
        self.conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(reader);
        result
    }

    /// Makes sure `reader` reads a snapshot taken after `commits` batches committed.
    fn fresh(reader: &mut Reader, commits: u64) -> Result<()> {
        if reader.snapshot == Some(commits) {
            return Ok(());
        }
        Self::end(reader);
        // The snapshot itself is taken by the first read, after `commits` was loaded.
        reader.conn.execute_batch("BEGIN")?;
        reader.snapshot = Some(commits);
        Ok(())
    }

    fn end(reader: &mut Reader) {
        if reader.snapshot.take().is_some() && !reader.conn.is_autocommit() {
            let _ = reader.conn.execute_batch("COMMIT");
        }
    }

    /// Ends the outdated read transactions of the idle connections.
    pub(super) fn release_idle(&self) {
        let commits = self.commits.load(Ordering::Acquire);
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        for reader in conns.iter_mut() {
            if reader.snapshot.is_some_and(|s| s != commits) {
                Self::end(reader);
            }
        }
    }
}
