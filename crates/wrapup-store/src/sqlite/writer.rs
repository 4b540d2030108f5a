//! The SQLite writer: one OS thread that group-commits. It takes every write waiting in its
//! queue (up to [`MAX_BATCH`]), runs them in one `BEGIN IMMEDIATE` transaction and commits
//! once, so one fsync covers the whole batch. Answers are sent only after the commit
//! succeeded, after the commit counter the readers watch was bumped, and after the read cache
//! forgot the interactions the batch wrote; if a write fails
//! (a [`DbFailure`]), the whole batch is rolled back and every write of it is answered with
//! the failure (a full disk says so). The batch's events are published once it committed.
//! [`CloseWriter`] in the queue makes the writer commit and answer everything queued before
//! it, then stop: what `Store::close` does at shutdown.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use tokio::sync::{broadcast, mpsc};

use super::read_cache::ReadCache;
use super::write_tx::SqliteWriteTx;
use crate::error::{DbFailure, StoreError};
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
    /// Answers the caller; called only once the batch committed.
    fn send_answer(self: Box<Self>);
    /// Answers the caller that the write was not committed, and why.
    fn send_error(self: Box<Self>, error: StoreError);
    /// Whether this is [`CloseWriter`]: the writer stops once it is answered.
    fn closes_writer(&self) -> bool {
        false
    }
}

impl<Op: WriteOp> QueuedWrite for QueuedOp<Op> {
    fn run(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        let outcome = run_ready(self.op().run(tx))?;
        self.keep_outcome(outcome)
    }

    fn send_answer(self: Box<Self>) {
        (*self).send_answer()
    }

    fn send_error(self: Box<Self>, error: StoreError) {
        (*self).send_error(error)
    }
}

/// The last entry of the queue: the writer answers it once every write queued before it
/// committed (or failed) and was answered, then stops. Writes queued after it are dropped
/// unanswered, which their callers read as "the store is closed".
pub(super) struct CloseWriter(pub(super) tokio::sync::oneshot::Sender<()>);

impl QueuedWrite for CloseWriter {
    fn run(&mut self, _tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        Ok(())
    }

    fn send_answer(self: Box<Self>) {
        let _ = self.0.send(());
    }

    fn send_error(self: Box<Self>, _error: StoreError) {
        let _ = self.0.send(());
    }

    fn closes_writer(&self) -> bool {
        true
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

/// For tests (feature `testing`): sets SQLite's `max_page_count` on the writer's
/// connection, so a write that needs a page beyond it fails with `SQLITE_FULL`, exactly as
/// on a full disk (a cap below the current size caps it at the current size).
#[cfg(feature = "testing")]
pub(super) struct CapPages(pub(super) u32, pub(super) tokio::sync::oneshot::Sender<()>);

#[cfg(feature = "testing")]
impl QueuedWrite for CapPages {
    fn run(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        tx.conn
            .query_row(&format!("PRAGMA max_page_count = {}", self.0), [], |_| {
                Ok(())
            })?;
        Ok(())
    }

    fn send_answer(self: Box<Self>) {
        let _ = self.1.send(());
    }

    fn send_error(self: Box<Self>, _error: StoreError) {
        let _ = self.1.send(());
    }
}

/// The writer thread: takes every queued write, runs them in one transaction, commits once,
/// then replies and publishes the events. Ends when the store is dropped, or after a
/// [`CloseWriter`].
pub(super) fn run_writer(
    mut tx: SqliteWriteTx,
    mut queue: mpsc::Receiver<Box<dyn QueuedWrite>>,
    events: broadcast::Sender<Arc<EventRecord>>,
    observer: Arc<OnceLock<Arc<dyn StoreObserver>>>,
    commits: Arc<AtomicU64>,
    cache: Arc<ReadCache>,
) {
    let mut batch: Vec<Box<dyn QueuedWrite>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        let mut closing = first.closes_writer();
        batch.push(first);
        while batch.len() < MAX_BATCH && !closing {
            match queue.try_recv() {
                Ok(write) => {
                    closing = write.closes_writer();
                    batch.push(write);
                }
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let writes = batch.len();
        tx.events.clear();
        tx.touched.clear();
        if let Err(e) = tx.conn.execute_batch("BEGIN IMMEDIATE") {
            tracing::error!(error = %e, writes, "could not start a write transaction");
            fail_all(&mut batch, DbFailure::from(e).into());
            if closing {
                return refuse_the_rest(queue);
            }
            continue;
        }
        let mut failure = None;
        for write in batch.iter_mut() {
            if let Err(e) = write.run(&mut tx) {
                tracing::error!(error = %e, "a write failed; its batch will be rolled back");
                failure.get_or_insert(e);
            }
        }
        let ended = tx.conn.execute_batch(if failure.is_some() {
            "ROLLBACK"
        } else {
            "COMMIT"
        });
        if let Some(observer) = observer.get() {
            observer.batch_committed(
                writes,
                started.elapsed(),
                ended.is_ok() && failure.is_none(),
            );
        }
        match (ended, failure) {
            (Ok(()), None) => {
                // Before anyone hears of the commit: readers then take new snapshots, and
                // the cache forgets what the batch wrote (read_cache.rs).
                commits.fetch_add(1, Ordering::AcqRel);
                cache.invalidate(&tx.touched);
                for event in tx.events.drain(..) {
                    let _ = events.send(Arc::new(event));
                }
                batch.drain(..).for_each(|write| write.send_answer());
            }
            (Ok(()), Some(failure)) => {
                tracing::error!(writes, "a write failed; its batch was rolled back");
                fail_all(&mut batch, failure.into());
            }
            (Err(e), _) => {
                tracing::error!(error = %e, writes, "commit failed; the batch was not acknowledged");
                let _ = tx.conn.execute_batch("ROLLBACK");
                fail_all(&mut batch, DbFailure::from(e).into());
            }
        }
        if closing {
            return refuse_the_rest(queue);
        }
    }
}

/// After a [`CloseWriter`]: refuses new writes, and answers those queued after it as
/// refused by a closed store (they never ran).
fn refuse_the_rest(mut queue: mpsc::Receiver<Box<dyn QueuedWrite>>) {
    queue.close();
    while let Ok(write) = queue.try_recv() {
        write.send_error(StoreError::Closed);
    }
}

/// Answers every write of a batch that did not commit with why.
fn fail_all(batch: &mut Vec<Box<dyn QueuedWrite>>, error: StoreError) {
    for write in batch.drain(..) {
        write.send_error(error.clone());
    }
}
