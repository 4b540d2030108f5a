//! The WAL checkpoints. A background task copies the WAL back into the database
//! [`AFTER_COMMIT`] after a commit, and every [`IDLE_EVERY`] when nothing commits (PASSIVE:
//! it never blocks the writer or the readers), so that a commit rarely has a checkpoint to
//! do; and the commit that finds the WAL past [`WRITER_CHECKPOINT_PAGES`] finishes the
//! checkpoint itself, which keeps the WAL bounded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::{mpsc, Notify};

use super::readers::Readers;
use crate::writer::Job;

/// The WAL size (in pages) at which a commit finishes the checkpoint itself. The background
/// checkpointer copies most of the WAL back without blocking anyone, but under a continuous
/// write load it never catches up with the last frames, and only a checkpoint that completes
/// lets the next write start the WAL over: without this, the WAL grew by ~90 MB a second
/// under sustained PUTs (measured). The commit that crosses the threshold copies only what
/// the background checkpointer has not.
pub(super) const WRITER_CHECKPOINT_PAGES: i64 = 1_000;
/// How long after a commit the background checkpointer copies the WAL back: under a steady
/// write load, about a hundred checkpoints a second, each of the few hundred pages written
/// since the last one. The commit that crosses [`WRITER_CHECKPOINT_PAGES`] then finds almost
/// everything copied and flushed, and its own checkpoint (on the writer's thread, holding up
/// the batches behind it) is short. Against a checkpoint every 100 ms whatever the load:
/// PUT's p99 at 100k interactions 6.9–8.0 ms against 8.5–13.1 ms in six alternating runs,
/// the same throughput (docs/benchmarks.md, issue 29).
const AFTER_COMMIT: Duration = Duration::from_millis(10);
/// How often the background checkpointer runs when nothing commits: for commits made by
/// other processes, and to release idle readers' snapshots.
const IDLE_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints the WAL in the background (PASSIVE: it never blocks the writer or readers),
/// [`AFTER_COMMIT`] after each commit the syncer announces on `committed` (or every
/// [`IDLE_EVERY`]), so that no commit stalls on a long checkpoint and the WAL stays small.
/// Runs until the store is dropped (its write queue closes).
pub(super) async fn run_checkpointer(
    conn: Connection,
    readers: Arc<Readers>,
    committed: Arc<Notify>,
    store: mpsc::WeakSender<Box<dyn Job>>,
) {
    let conn = Arc::new(Mutex::new(conn));
    loop {
        // A commit's notice that arrives while a checkpoint runs is kept for the next
        // round (`Notify` holds one), so the commits of a steady load are followed every
        // AFTER_COMMIT plus the checkpoint's own time.
        if tokio::time::timeout(IDLE_EVERY, committed.notified())
            .await
            .is_ok()
        {
            tokio::time::sleep(AFTER_COMMIT).await;
        }
        let last = store.upgrade().is_none();
        let (conn, readers) = (conn.clone(), readers.clone());
        let result = tokio::task::spawn_blocking(move || {
            // Idle readers must not hold old snapshots, or the WAL could not be copied back.
            readers.release_idle();
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
        })
        .await;
        match result {
            Ok(Ok((log, done))) if log > 0 => {
                tracing::trace!(frames = log, checkpointed = done, "checkpoint")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
            Err(e) => tracing::warn!(error = %e, "the checkpoint task failed"),
        }
        if last {
            return;
        }
    }
}
