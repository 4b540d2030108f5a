//! The WAL checkpoints. A background task copies the WAL back into the database every
//! [`CHECKPOINT_EVERY`] (PASSIVE: it never blocks the writer or the readers), so that no
//! commit stalls on a checkpoint; and the commit that finds the WAL past
//! [`WRITER_CHECKPOINT_PAGES`] finishes the checkpoint itself, which keeps the WAL bounded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::mpsc;

use super::readers::Readers;
use crate::writer::Job;

/// The WAL size (in pages) at which a commit finishes the checkpoint itself. The background
/// checkpointer copies most of the WAL back without blocking anyone, but under a continuous
/// write load it never catches up with the last frames, and only a checkpoint that completes
/// lets the next write start the WAL over: without this, the WAL grew by ~90 MB a second
/// under sustained PUTs (measured). The commit that crosses the threshold copies only what
/// the background checkpointer has not.
pub(super) const WRITER_CHECKPOINT_PAGES: i64 = 1_000;
/// How often the background checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Checkpoints the WAL in the background (PASSIVE: it never blocks the writer or readers),
/// so that no commit stalls on a checkpoint and the WAL stays small. Runs until the store
/// is dropped (its write queue closes).
pub(super) async fn run_checkpointer(
    conn: Connection,
    readers: Arc<Readers>,
    store: mpsc::WeakSender<Box<dyn Job>>,
) {
    let conn = Arc::new(Mutex::new(conn));
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
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
