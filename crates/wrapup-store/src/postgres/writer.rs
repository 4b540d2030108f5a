//! The PostgreSQL writer: one task per node that runs the writer's loop (`writer.rs`), which
//! group-commits as on SQLite. This is its transaction: for a batch of jobs (up to
//! [`MAX_BATCH`]) it reads the rows they name in one go, runs them in one transaction,
//! writes back what they changed and commits once. If a statement of the batch fails (a
//! race with another node on a unique name, a deadlock), the batch is rolled back and each
//! job is run again in a transaction of its own, so one bad write never fails its
//! neighbours. A job is answered only after `COMMIT` returned; a failed `COMMIT` fails the
//! whole batch, unretried, since it may or may not have been applied. The events of each
//! committed transaction go to the tailer, in commit order, before its jobs are answered.

use sqlx::postgres::PgPool;
use tokio::sync::mpsc;

use super::write_tx::PgWriteTx;
use crate::error::{DbFailure, StoreError};
use crate::records::EventRecord;
use crate::write::Preload;
use crate::writer::{fail_all, Committer, Job};

/// The most writes committed in one transaction.
pub(super) const MAX_BATCH: usize = 256;

/// The PostgreSQL side of the writer: its connection, and where committed events go.
pub(super) struct PgCommitter {
    /// A pool of one connection: the writer's.
    pub(super) pool: PgPool,
    /// The events of each committed transaction, to the tailer, in commit order.
    pub(super) committed: mpsc::UnboundedSender<Vec<EventRecord>>,
}

/// How a batch failed.
pub(super) enum BatchFailure {
    /// Before `COMMIT`: nothing was applied; the writes may be run again.
    Aborted(DbFailure),
    /// At `COMMIT`: it is unknown whether the batch was applied.
    Commit(sqlx::Error),
}

impl PgCommitter {
    /// Makes a committed batch's events known (the tailer publishes them in order).
    fn publish(&mut self, events: Vec<EventRecord>) {
        let _ = self.committed.send(events);
    }
}

impl Committer for PgCommitter {
    const MAX_BATCH: usize = MAX_BATCH;
    type Committed = Vec<EventRecord>;
    type Failure = BatchFailure;

    async fn next_job(queue: &mut mpsc::Receiver<Box<dyn Job>>) -> Option<Box<dyn Job>> {
        queue.recv().await
    }

    async fn run(&mut self, batch: &mut [Box<dyn Job>]) -> Result<Vec<EventRecord>, BatchFailure> {
        run_batch(&self.pool, batch).await
    }

    fn publish_and_answer(&mut self, events: Vec<EventRecord>, batch: &mut Vec<Box<dyn Job>>) {
        self.publish(events);
        batch.drain(..).for_each(|job| job.send_answer());
    }

    async fn recover(&mut self, batch: &mut Vec<Box<dyn Job>>, failure: BatchFailure) {
        match failure {
            BatchFailure::Aborted(e) if batch.len() > 1 => {
                let writes = batch.len();
                tracing::debug!(error = %e, writes, "a write batch failed; running its writes one by one");
                for mut job in batch.drain(..) {
                    match run_batch(&self.pool, std::slice::from_mut(&mut job)).await {
                        Ok(events) => {
                            self.publish(events);
                            job.send_answer();
                        }
                        Err(e) => {
                            let error = single_failure(e, job.as_ref());
                            job.send_error(error);
                        }
                    }
                }
            }
            // One write that failed alone, or a commit whose outcome is unknown.
            failure => {
                let error = single_failure(failure, batch[0].as_ref());
                fail_all(batch, error);
            }
        }
    }
}

/// The answer to a write that failed alone: a unique violation is a conflict, a foreign
/// key violation a missing parent; anything else a database error.
fn single_failure(e: BatchFailure, job: &dyn Job) -> StoreError {
    match e {
        BatchFailure::Aborted(DbFailure::UniqueViolation(_)) => {
            StoreError::Conflict(job.conflict())
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

/// Runs `jobs` in one transaction: reads the rows they name, runs them, writes back what
/// they changed with their events, and commits. Each job keeps its answer.
async fn run_batch(
    pool: &PgPool,
    jobs: &mut [Box<dyn Job>],
) -> Result<Vec<EventRecord>, BatchFailure> {
    let mut tx = PgWriteTx::begin(pool)
        .await
        .map_err(BatchFailure::Aborted)?;
    let mut rows = Preload::default();
    for job in jobs.iter() {
        job.preload(&mut rows);
    }
    tx.preload(rows).await.map_err(BatchFailure::Aborted)?;
    for job in jobs.iter_mut() {
        job.run_postgres(&mut tx)
            .await
            .map_err(BatchFailure::Aborted)?;
    }
    let events = tx.write_back().await.map_err(BatchFailure::Aborted)?;
    tx.commit().await.map_err(BatchFailure::Commit)?;
    Ok(events)
}
