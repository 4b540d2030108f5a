//! The SQLite writer: one OS thread that group-commits. It takes every write waiting in its
//! queue (up to [`MAX_BATCH`]), runs them in one `BEGIN IMMEDIATE` transaction and commits
//! once, so one fsync covers the whole batch. Answers are sent only after the commit
//! succeeded, and after the commit counter the readers watch was bumped; if a write fails
//! (a [`DbFailure`]), the whole batch is rolled back and nothing of it is acknowledged. The
//! batch's events are published once it committed.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use tokio::sync::{broadcast, mpsc};

use super::write_tx::SqliteWriteTx;
use crate::error::DbFailure;
use crate::records::EventRecord;
use crate::store::StoreObserver;
use crate::write::{QueuedOp, WriteOp};

/// The most writes committed in one transaction.
pub(super) const MAX_BATCH: usize = 512;

/// A write in the writer's queue, whatever its operation and answer type.
pub(super) trait QueuedWrite: Send {
    /// Runs the write inside the batch transaction; `Err` when the batch must be rolled
    /// back.
    fn run(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure>;
    /// Answers the caller; called only once the batch committed. Dropping the write
    /// instead tells the caller it was not committed.
    fn send_answer(self: Box<Self>);
}

impl<Op: WriteOp> QueuedWrite for QueuedOp<Op> {
    fn run(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        let outcome = run_ready(self.op().run(tx))?;
        self.keep_outcome(outcome)
    }

    fn send_answer(self: Box<Self>) {
        (*self).send_answer()
    }
}

/// Runs a future that never waits (SQLite's primitives are direct calls) to its end, here,
/// with one poll: no executor, no allocation.
pub(super) fn run_ready<F: Future>(future: F) -> Result<F::Output, DbFailure> {
    /// The waker of futures that never wait: nothing ever wakes it.
    struct NeverWoken;
    impl Wake for NeverWoken {
        fn wake(self: Arc<Self>) {}
    }
    static NEVER_WOKEN: OnceLock<Waker> = OnceLock::new();
    let waker = NEVER_WOKEN.get_or_init(|| Waker::from(Arc::new(NeverWoken)));
    match pin!(future).poll(&mut Context::from_waker(waker)) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(DbFailure::Other(
            "internal error: a SQLite statement waited for something".into(),
        )),
    }
}

/// The writer thread: takes every queued write, runs them in one transaction, commits once,
/// then replies and publishes the events. Ends when the store is dropped.
pub(super) fn run_writer(
    mut tx: SqliteWriteTx,
    mut queue: mpsc::Receiver<Box<dyn QueuedWrite>>,
    events: broadcast::Sender<Arc<EventRecord>>,
    observer: Arc<OnceLock<Arc<dyn StoreObserver>>>,
    commits: Arc<AtomicU64>,
) {
    let mut batch: Vec<Box<dyn QueuedWrite>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let writes = batch.len();
        tx.events.clear();
        if let Err(e) = tx.conn.execute_batch("BEGIN IMMEDIATE") {
            tracing::error!(error = %e, writes, "could not start a write transaction");
            batch.clear();
            continue;
        }
        let mut poisoned = false;
        for write in batch.iter_mut() {
            if let Err(e) = write.run(&mut tx) {
                tracing::error!(error = %e, "a write failed; its batch will be rolled back");
                poisoned = true;
            }
        }
        let ended = tx
            .conn
            .execute_batch(if poisoned { "ROLLBACK" } else { "COMMIT" });
        if let Some(observer) = observer.get() {
            observer.batch_committed(writes, started.elapsed(), ended.is_ok() && !poisoned);
        }
        match ended {
            Ok(()) if !poisoned => {
                // Before anyone hears of the commit: readers then take new snapshots.
                commits.fetch_add(1, Ordering::AcqRel);
                for event in tx.events.drain(..) {
                    let _ = events.send(Arc::new(event));
                }
                batch.drain(..).for_each(|write| write.send_answer());
            }
            Ok(()) => {
                tracing::error!(writes, "a write failed; its batch was rolled back");
                batch.clear();
            }
            Err(e) => {
                tracing::error!(error = %e, writes, "commit failed; the batch was not acknowledged");
                let _ = tx.conn.execute_batch("ROLLBACK");
                batch.clear();
            }
        }
    }
}
