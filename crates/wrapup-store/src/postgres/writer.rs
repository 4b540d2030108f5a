//! The PostgreSQL writer: one task per node that group-commits, as the SQLite writer does.
//! It takes every queued write (up to [`MAX_BATCH`]), reads the rows they name in one go,
//! runs them in one transaction, writes back what they changed and commits once. If a
//! statement of the batch fails (a race with another node on a unique name, a deadlock),
//! the batch is rolled back and each write is run again in a transaction of its own, so
//! one bad write never fails its neighbours. A write is answered only after `COMMIT`
//! returned; a failed `COMMIT` fails the whole batch, unretried, since it may or may not
//! have been applied.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use sqlx::postgres::PgPool;
use tokio::sync::mpsc;

use super::write_tx::PgWriteTx;
use crate::error::{DbFailure, StoreError};
use crate::records::EventRecord;
use crate::store::StoreObserver;
use crate::write::{Preload, QueuedOp, WriteOp};

/// The most writes committed in one transaction.
pub(super) const MAX_BATCH: usize = 256;

/// The future of one run of a queued write.
type Running<'a> = Pin<Box<dyn Future<Output = Result<(), DbFailure>> + Send + 'a>>;

/// A write in the writer's queue, whatever its operation and answer type.
pub(super) trait QueuedWrite: Send {
    /// Names the rows the write will read (see [`PgWriteTx::preload`]).
    fn preload(&self, rows: &mut Preload);
    /// Runs the write inside the batch transaction, keeping its answer; `Err` when the
    /// transaction must be rolled back. May be called again, in another transaction.
    fn run<'a>(&'a mut self, tx: &'a mut PgWriteTx) -> Running<'a>;
    /// What a unique violation means for this write.
    fn conflict(&self) -> String;
    /// Answers the caller with the answer of the last run; called once its batch committed.
    fn send_answer(self: Box<Self>);
    /// Answers the caller with an error.
    fn send_error(self: Box<Self>, error: StoreError);
    /// Whether this is [`CloseWriter`]: the writer stops once it is answered.
    fn closes_writer(&self) -> bool {
        false
    }
}

/// The last entry of the queue: the writer answers it once every write queued before it
/// was committed (or failed) and answered, then stops. Writes queued after it are dropped
/// unanswered, which their callers read as "the store is closed".
pub(super) struct CloseWriter(pub(super) tokio::sync::oneshot::Sender<()>);

impl QueuedWrite for CloseWriter {
    fn preload(&self, _rows: &mut Preload) {}

    fn run<'a>(&'a mut self, _tx: &'a mut PgWriteTx) -> Running<'a> {
        Box::pin(async { Ok(()) })
    }

    fn conflict(&self) -> String {
        String::new()
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

impl<Op: WriteOp> QueuedWrite for QueuedOp<Op> {
    fn preload(&self, rows: &mut Preload) {
        self.op().preload(rows);
    }

    fn run<'a>(&'a mut self, tx: &'a mut PgWriteTx) -> Running<'a> {
        Box::pin(async move {
            let outcome = self.op().run(tx).await;
            self.keep_outcome(outcome)
        })
    }

    fn conflict(&self) -> String {
        self.op().conflict()
    }

    fn send_answer(self: Box<Self>) {
        (*self).send_answer()
    }

    fn send_error(self: Box<Self>, error: StoreError) {
        (*self).send_error(error)
    }
}

/// How a batch failed.
enum BatchFailure {
    /// Before `COMMIT`: nothing was applied; the writes may be run again.
    Aborted(DbFailure),
    /// At `COMMIT`: it is unknown whether the batch was applied.
    Commit(sqlx::Error),
}

/// The writer task: batches queued writes into transactions until the store is dropped or
/// a [`CloseWriter`] is answered.
/// The events of each committed batch go to the tailer, in commit order.
pub(super) async fn run_writer(
    pool: PgPool,
    mut queue: mpsc::Receiver<Box<dyn QueuedWrite>>,
    committed: mpsc::UnboundedSender<Vec<EventRecord>>,
    observer: Arc<OnceLock<Arc<dyn StoreObserver>>>,
) {
    let mut batch: Vec<Box<dyn QueuedWrite>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.recv().await {
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
        let outcome = run_batch(&pool, &mut batch).await;
        if let Some(observer) = observer.get() {
            observer.batch_committed(writes, started.elapsed(), outcome.is_ok());
        }
        match outcome {
            Ok(events) => {
                let _ = committed.send(events);
                batch.drain(..).for_each(|write| write.send_answer());
            }
            Err(BatchFailure::Aborted(e)) if writes > 1 => {
                tracing::debug!(error = %e, writes, "a write batch failed; running its writes one by one");
                for mut write in batch.drain(..) {
                    match run_batch(&pool, std::slice::from_mut(&mut write)).await {
                        Ok(events) => {
                            let _ = committed.send(events);
                            write.send_answer();
                        }
                        Err(e) => {
                            let error = single_failure(e, write.as_ref());
                            write.send_error(error);
                        }
                    }
                }
            }
            // One write that failed alone, or a commit whose outcome is unknown.
            Err(e) => {
                let error = single_failure(e, batch[0].as_ref());
                for write in batch.drain(..) {
                    write.send_error(error.clone());
                }
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

/// The answer to a write that failed alone: a unique violation is a conflict, a foreign
/// key violation a missing parent; anything else a database error.
fn single_failure(e: BatchFailure, write: &dyn QueuedWrite) -> StoreError {
    match e {
        BatchFailure::Aborted(DbFailure::UniqueViolation(_)) => {
            StoreError::Conflict(write.conflict())
        }
        BatchFailure::Aborted(DbFailure::ForeignKeyViolation(_)) => StoreError::NotFound,
        BatchFailure::Aborted(f) => {
            let e = StoreError::from(f);
            tracing::error!(error = %e, "a write failed");
            e
        }
        BatchFailure::Commit(e) => {
            tracing::error!(error = %e, "commit failed; the writes were not acknowledged");
            match DbFailure::from(e) {
                DbFailure::Storage(m) => StoreError::NotWritten(m),
                other => StoreError::Database(format!("commit failed: {other}")),
            }
        }
    }
}

/// Runs `writes` in one transaction: reads the rows they name, runs them, writes back
/// what they changed with their events, and commits. Each write keeps its answer.
async fn run_batch(
    pool: &PgPool,
    writes: &mut [Box<dyn QueuedWrite>],
) -> Result<Vec<EventRecord>, BatchFailure> {
    let mut tx = PgWriteTx::begin(pool)
        .await
        .map_err(BatchFailure::Aborted)?;
    let mut rows = Preload::default();
    for write in writes.iter() {
        write.preload(&mut rows);
    }
    tx.preload(rows).await.map_err(BatchFailure::Aborted)?;
    for write in writes.iter_mut() {
        write.run(&mut tx).await.map_err(BatchFailure::Aborted)?;
    }
    let events = tx.write_back().await.map_err(BatchFailure::Aborted)?;
    tx.commit().await.map_err(BatchFailure::Commit)?;
    Ok(events)
}
