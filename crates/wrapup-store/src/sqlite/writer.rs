//! The SQLite writer: one OS thread that runs the writer's loop (`writer.rs`), which
//! group-commits. This is its transaction: every job of a batch (up to [`MAX_BATCH`]) runs in
//! one `BEGIN IMMEDIATE` transaction that commits once. The commit does not wait for the
//! disk (`synchronous=NORMAL` on this connection): the batch goes to the syncer
//! (`syncer.rs`), which fsyncs the WAL and only then bumps the commit counter the readers
//! watch, has the read cache forget the interactions the batch wrote, publishes its events
//! and answers its jobs, while this thread runs the next batch. If a job fails (a
//! [`DbFailure`]), the whole batch is rolled back and every job of it is answered with the
//! failure (a full disk says so).

use tokio::sync::mpsc;

use super::syncer::{Committed, Syncer};
use super::write_tx::{run_ready, SqliteWriteTx};
use crate::error::DbFailure;
use crate::writer::{drain, fail_all, Committer, Job, Queue};

/// The most writes committed in one transaction.
pub(super) const MAX_BATCH: usize = 512;

/// The SQLite side of the writer: its connection (inside [`SqliteWriteTx`]) and the syncer
/// its commits go to.
pub(super) struct SqliteCommitter {
    pub(super) tx: SqliteWriteTx,
    pub(super) syncer: Syncer,
}

/// How a SQLite batch failed.
pub(super) enum SqliteFailure {
    /// `BEGIN IMMEDIATE` failed: nothing ran.
    NotBegun(DbFailure),
    /// A job failed: the batch was rolled back.
    RolledBack(DbFailure),
    /// `COMMIT` (or the `ROLLBACK` after a failed job) failed.
    Ended(rusqlite::Error),
}

/// The writer thread: the writer's loop, until the store is dropped or closed. Nothing the
/// loop awaits here is ever pending (the queue is waited for with `blocking_recv`, on this
/// thread of its own, and SQLite's statements never wait), so it runs to its end with one
/// poll, without an executor.
pub(super) fn run_writer(queue: Queue, committer: SqliteCommitter) {
    if run_ready(drain(queue, committer)).is_err() {
        tracing::error!("internal error: the SQLite writer waited for something; it stopped");
    }
}

impl Committer for SqliteCommitter {
    const MAX_BATCH: usize = MAX_BATCH;
    type Committed = ();
    type Failure = SqliteFailure;

    async fn next_job(queue: &mut mpsc::Receiver<Box<dyn Job>>) -> Option<Box<dyn Job>> {
        queue.blocking_recv()
    }

    async fn run(&mut self, batch: &mut [Box<dyn Job>]) -> Result<(), SqliteFailure> {
        let tx = &mut self.tx;
        tx.events.clear();
        tx.touched.clear();
        tx.codes.clear();
        if self.syncer.failed() {
            return Err(SqliteFailure::NotBegun(DbFailure::Other(
                "an earlier fsync of the database failed; restart the server".into(),
            )));
        }
        if let Err(e) = tx.conn.execute_batch("BEGIN IMMEDIATE") {
            let writes = batch.len();
            tracing::error!(error = %e, writes, "could not start a write transaction");
            return Err(SqliteFailure::NotBegun(e.into()));
        }
        // The batch stops at its first failure: it is rolled back and every job of it failed
        // anyway, and after an error that made SQLite roll back by itself the next jobs
        // would run outside any transaction, each committing on its own.
        let mut failure = None;
        for job in batch.iter_mut() {
            if let Err(e) = job.run_sqlite(tx) {
                tracing::error!(error = %e, "a write failed; its batch will be rolled back");
                failure = Some(e);
                break;
            }
        }
        let ended = match failure {
            // SQLite rolls a transaction back by itself after some errors (a full disk,
            // an I/O error): then there is nothing left to roll back.
            Some(_) if tx.conn.is_autocommit() => Ok(()),
            Some(_) => tx.conn.execute_batch("ROLLBACK"),
            None => tx.conn.execute_batch("COMMIT"),
        };
        match (ended, failure) {
            (Ok(()), None) => Ok(()),
            (Ok(()), Some(failure)) => Err(SqliteFailure::RolledBack(failure)),
            (Err(e), _) => Err(SqliteFailure::Ended(e)),
        }
    }

    fn ran(failure: &SqliteFailure) -> bool {
        !matches!(failure, SqliteFailure::NotBegun(_))
    }

    fn publish_and_answer(&mut self, _: (), batch: &mut Vec<Box<dyn Job>>) {
        self.syncer.hand_over(Committed {
            events: std::mem::take(&mut self.tx.events),
            touched: std::mem::take(&mut self.tx.touched),
            jobs: std::mem::replace(batch, Vec::with_capacity(MAX_BATCH)),
        });
    }

    async fn recover(&mut self, batch: &mut Vec<Box<dyn Job>>, failure: SqliteFailure) {
        let writes = batch.len();
        let failure = match failure {
            SqliteFailure::NotBegun(failure) => failure,
            SqliteFailure::RolledBack(failure) => {
                tracing::error!(writes, "a write failed; its batch was rolled back");
                failure
            }
            SqliteFailure::Ended(e) => {
                tracing::error!(error = %e, writes, "commit failed; the batch was not acknowledged");
                let _ = self.tx.conn.execute_batch("ROLLBACK");
                DbFailure::from(e)
            }
        };
        fail_all(batch, failure.into());
    }
}

/// For tests (feature `testing`): a job only ever queued on SQLite, told whether its batch
/// committed.
#[cfg(feature = "testing")]
pub(super) trait SqliteTestJob: Send {
    fn run(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure>;
    fn answer(self: Box<Self>, committed: bool);
}

#[cfg(feature = "testing")]
impl<T: SqliteTestJob> Job for T {
    fn run_sqlite(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        self.run(tx)
    }

    fn run_postgres<'a>(
        &'a mut self,
        _tx: &'a mut crate::postgres::write_tx::PgWriteTx,
    ) -> crate::writer::Running<'a> {
        Box::pin(async { Ok(()) })
    }

    fn send_answer(self: Box<Self>) {
        self.answer(true);
    }

    fn send_error(self: Box<Self>, _error: crate::error::StoreError) {
        self.answer(false);
    }
}

/// For tests (feature `testing`): sets SQLite's `max_page_count` on the writer's
/// connection, so a write that needs a page beyond it fails with `SQLITE_FULL`, exactly as
/// on a full disk (a cap below the current size caps it at the current size).
#[cfg(feature = "testing")]
pub(super) struct CapPages(pub(super) u32, pub(super) tokio::sync::oneshot::Sender<()>);

#[cfg(feature = "testing")]
impl SqliteTestJob for CapPages {
    fn run(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        tx.conn
            .query_row(&format!("PRAGMA max_page_count = {}", self.0), [], |_| {
                Ok(())
            })?;
        Ok(())
    }

    fn answer(self: Box<Self>, _committed: bool) {
        let _ = self.1.send(());
    }
}

/// For tests (feature `testing`): a job that holds the writer's thread inside its batch
/// until the [`WriterHold`] is dropped, so that the writes queued meanwhile form the next
/// batch together, in the order they were queued.
#[cfg(feature = "testing")]
pub(super) struct HoldWriter {
    pub(super) reached: Option<tokio::sync::oneshot::Sender<()>>,
    pub(super) released: std::sync::mpsc::Receiver<()>,
}

/// For tests (feature `testing`): while alive, the writer's thread waits inside a batch of
/// its own (`SqliteStore::hold_writer_for_tests`); dropping it lets the writer go on.
#[cfg(feature = "testing")]
pub struct WriterHold {
    pub(super) _release: std::sync::mpsc::Sender<()>,
}

#[cfg(feature = "testing")]
impl SqliteTestJob for HoldWriter {
    fn run(&mut self, _tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        if let Some(reached) = self.reached.take() {
            let _ = reached.send(());
        }
        // Err once the hold is dropped.
        let _ = self.released.recv();
        Ok(())
    }

    fn answer(self: Box<Self>, _committed: bool) {}
}

/// For tests (feature `testing`): a write that fails after SQLite rolled its transaction
/// back by itself, as SQLite does after some errors (a full disk, an I/O error, depending on
/// where they strike); answered `true` if it was acknowledged.
#[cfg(feature = "testing")]
pub(super) struct FailRolledBack(pub(super) tokio::sync::oneshot::Sender<bool>);

#[cfg(feature = "testing")]
impl SqliteTestJob for FailRolledBack {
    fn run(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        tx.conn.execute_batch("ROLLBACK")?;
        Err(DbFailure::Storage(
            "the disk is full (a failure made by a test)".into(),
        ))
    }

    fn answer(self: Box<Self>, committed: bool) {
        let _ = self.0.send(committed);
    }
}
