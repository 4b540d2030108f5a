//! The writer, written once for both backends.
//!
//! [`Writer`] is the handle a store holds (and [`Store::writer`](crate::Store::writer) hands
//! out): it queues write operations (`ops.rs`) as jobs and waits for their answers, queues
//! the close marker, and owns the channel committed events are published on and the
//! observer told about every batch. Each store has one writer, which group-commits.
//!
//! [`drain`] is the writer's loop: it takes the next job and every job waiting behind it (up
//! to a batch; a close marker ends the batch), has the backend's [`Committer`] run the batch
//! in one transaction and commit it, tells the observer, and then either publishes what
//! committed and answers every job, or has the committer answer a batch that failed (SQLite
//! fails them all; PostgreSQL runs each again, alone). After the close marker it refuses
//! whatever is still queued. A backend's writer (`sqlite/writer.rs`, `postgres/writer.rs`)
//! only opens, runs and commits its transaction.
//!
//! A job in the queue is a `Box<dyn` [`Job`]`>`, whatever its operation and answer type: a
//! [`QueuedOp`] (an operation, its caller's channel, its answer until the batch commits), or
//! a marker such as [`CloseWriter`]. Its vtable holds each backend's run of it, so one queue
//! type serves both: SQLite's, a direct call run to its end with one poll (its primitives
//! never wait); PostgreSQL's, a boxed future that can be run again in another transaction.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, oneshot};

use crate::error::{DbFailure, Result, StoreError};
use crate::postgres::write_tx::PgWriteTx;
use crate::records::EventRecord;
use crate::sqlite::write_tx::{run_ready, SqliteWriteTx};
use crate::write::{Preload, WriteError, WriteOp};

/// Told about the store's work, for metrics. Must not block.
pub trait StoreObserver: Send + Sync + 'static {
    /// A write batch of `jobs` jobs committed (or failed) after `elapsed`.
    fn batch_committed(&self, jobs: usize, elapsed: std::time::Duration, ok: bool);
}

/// The observer slot, shared by the handle (which fills it) and the loop (which reads it).
type ObserverSlot = Arc<OnceLock<Arc<dyn StoreObserver>>>;

/// A store's writer: where its writes are queued, and where its committed events are
/// published. Obtained from [`Store::writer`](crate::Store::writer); the store's write
/// methods go through it.
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    events: broadcast::Sender<Arc<EventRecord>>,
    observer: ObserverSlot,
}

/// The other end of a writer's queue, for the backend's writer to [`drain`].
pub(crate) struct Queue {
    jobs: mpsc::Receiver<Box<dyn Job>>,
    observer: ObserverSlot,
}

impl Writer {
    /// A writer whose queue holds `capacity` jobs and whose event channel keeps
    /// `event_buffer` events for slow subscribers; and its queue, to [`drain`].
    pub(crate) fn new(capacity: usize, event_buffer: usize) -> (Writer, Queue) {
        let (jobs, queue) = mpsc::channel(capacity);
        let (events, _) = broadcast::channel(event_buffer.max(1));
        let observer = ObserverSlot::default();
        let writer = Writer {
            jobs,
            events,
            observer: observer.clone(),
        };
        (
            writer,
            Queue {
                jobs: queue,
                observer,
            },
        )
    }

    /// Runs `op` in the writer's next batch; answers once the batch committed.
    pub(crate) async fn write<Op: WriteOp>(&self, op: Op) -> Result<Op::Output> {
        let (queued, answer) = QueuedOp::new(op);
        self.jobs
            .send(Box::new(queued))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer_of(answer).await
    }

    /// Queues a job that is not a write operation (a marker); `false` if the writer has
    /// stopped.
    pub(crate) async fn queue(&self, job: Box<dyn Job>) -> bool {
        self.jobs.send(job).await.is_ok()
    }

    /// How many jobs wait in the queue (for tests).
    #[cfg(feature = "testing")]
    pub(crate) fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// Stops the writer after the writes queued now (see
    /// [`Store::close`](crate::Store::close)); returns once it has.
    pub(crate) async fn close(&self) {
        let (closed, done) = oneshot::channel();
        if self.queue(Box::new(CloseWriter(closed))).await {
            // Dropped unanswered only if the writer already stopped: closed either way.
            let _ = done.await;
        }
    }

    /// Whether the writer has stopped (closed, or its loop ended).
    pub(crate) fn is_closed(&self) -> bool {
        self.jobs.is_closed()
    }

    /// A handle that does not keep the writer alive: its `upgrade` fails once the store
    /// is dropped.
    pub(crate) fn downgrade(&self) -> mpsc::WeakSender<Box<dyn Job>> {
        self.jobs.downgrade()
    }

    /// The channel committed events are published on.
    pub(crate) fn events(&self) -> &broadcast::Sender<Arc<EventRecord>> {
        &self.events
    }

    /// Committed events, as they are published.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.events.subscribe()
    }

    /// Installs the observer told about every batch (the first one set stays).
    pub(crate) fn set_observer(&self, observer: Arc<dyn StoreObserver>) {
        if self.observer.set(observer).is_err() {
            tracing::warn!("the store observer was already set; keeping the first");
        }
    }
}

/// The future of one run of a job on PostgreSQL.
pub(crate) type Running<'a> = Pin<Box<dyn Future<Output = Result<(), DbFailure>> + Send + 'a>>;

/// A job in the writer's queue, whatever its operation and answer type.
pub(crate) trait Job: Send {
    /// Runs the job inside SQLite's batch transaction, to its end, keeping its answer;
    /// `Err` when the batch must be rolled back.
    fn run_sqlite(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure>;
    /// Runs the job inside PostgreSQL's batch transaction, keeping its answer; `Err` when
    /// the transaction must be rolled back. May be called again, in another transaction.
    fn run_postgres<'a>(&'a mut self, tx: &'a mut PgWriteTx) -> Running<'a>;
    /// Names the rows the job will read (PostgreSQL reads a batch's rows in one go).
    fn preload(&self, _rows: &mut Preload) {}
    /// What a unique violation means for this job (PostgreSQL, when it failed alone).
    fn conflict(&self) -> String {
        String::new()
    }
    /// Answers the caller with the outcome of the last run; called once its batch
    /// committed.
    fn send_answer(self: Box<Self>);
    /// Answers the caller that the job was not committed, and why.
    fn send_error(self: Box<Self>, error: StoreError);
    /// Whether this is [`CloseWriter`]: the writer stops once it is answered.
    fn closes_writer(&self) -> bool {
        false
    }
}

/// What a write answers its caller: its output, or why it was refused or failed.
type Answer<T> = Result<T, StoreError>;

/// A write operation in the queue: the operation, the channel its caller waits on, and its
/// answer once it ran (sent only once the batch committed).
pub(crate) struct QueuedOp<Op: WriteOp> {
    op: Op,
    reply: oneshot::Sender<Answer<Op::Output>>,
    answer: Option<Answer<Op::Output>>,
}

impl<Op: WriteOp> QueuedOp<Op> {
    /// The queued write, and where its answer will come.
    fn new(op: Op) -> (Self, oneshot::Receiver<Answer<Op::Output>>) {
        let (reply, answer) = oneshot::channel();
        (
            QueuedOp {
                op,
                reply,
                answer: None,
            },
            answer,
        )
    }

    /// Keeps the outcome of a run: `Err` when it failed (the batch must be rolled back).
    fn keep_outcome(&mut self, outcome: Result<Op::Output, WriteError>) -> Result<(), DbFailure> {
        match outcome {
            Ok(output) => self.answer = Some(Ok(output)),
            Err(WriteError::Refused(e)) => self.answer = Some(Err(e)),
            Err(WriteError::Failed(e)) => {
                self.answer = None;
                return Err(e);
            }
        }
        Ok(())
    }
}

impl<Op: WriteOp> Job for QueuedOp<Op> {
    fn run_sqlite(&mut self, tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        let outcome = run_ready(self.op.run(tx))?;
        self.keep_outcome(outcome)
    }

    fn run_postgres<'a>(&'a mut self, tx: &'a mut PgWriteTx) -> Running<'a> {
        Box::pin(async move {
            let outcome = self.op.run(tx).await;
            self.keep_outcome(outcome)
        })
    }

    fn preload(&self, rows: &mut Preload) {
        self.op.preload(rows);
    }

    fn conflict(&self) -> String {
        self.op.conflict()
    }

    fn send_answer(self: Box<Self>) {
        let QueuedOp { reply, answer, .. } = *self;
        let answer = answer.unwrap_or_else(|| {
            Err(StoreError::Database(
                "internal error: a write was answered before it ran".into(),
            ))
        });
        let _ = reply.send(answer);
    }

    fn send_error(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// Waits for a queued write's answer. A write dropped without one was in a batch that did
/// not commit.
async fn answer_of<T>(answer: oneshot::Receiver<Answer<T>>) -> Result<T> {
    answer.await.unwrap_or_else(|_| {
        Err(StoreError::Database(
            "the write was not committed (see the server log)".into(),
        ))
    })
}

/// The last entry of the queue: the writer answers it once every write queued before it
/// committed (or failed) and was answered, then stops. Writes queued after it are answered
/// [`StoreError::Closed`].
struct CloseWriter(oneshot::Sender<()>);

impl Job for CloseWriter {
    fn run_sqlite(&mut self, _tx: &mut SqliteWriteTx) -> Result<(), DbFailure> {
        Ok(())
    }

    fn run_postgres<'a>(&'a mut self, _tx: &'a mut PgWriteTx) -> Running<'a> {
        Box::pin(async { Ok(()) })
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

/// What a backend's writer does with a batch: [`drain`] hands it every batch, and it runs
/// the batch in one transaction of its database and commits it.
pub(crate) trait Committer: Send {
    /// The most jobs committed in one transaction.
    const MAX_BATCH: usize;
    /// What a committed batch leaves to publish.
    type Committed: Send;
    /// Why a batch did not commit.
    type Failure: Send;

    /// Waits for the next job; `None` once every [`Writer`] is dropped.
    fn next_job(
        queue: &mut mpsc::Receiver<Box<dyn Job>>,
    ) -> impl Future<Output = Option<Box<dyn Job>>> + Send;
    /// Runs every job of `batch` in one transaction (each keeps its answer) and commits.
    fn run(
        &mut self,
        batch: &mut [Box<dyn Job>],
    ) -> impl Future<Output = Result<Self::Committed, Self::Failure>> + Send;
    /// Whether a batch that failed with `failure` ran at all: the observer hears only of
    /// batches that ran (on SQLite, one whose `BEGIN` failed did not).
    fn ran(_failure: &Self::Failure) -> bool {
        true
    }
    /// Makes a committed batch known, then answers every job of it, emptying `batch`:
    /// readers must see it and its events are published, in order, before any of its jobs
    /// is answered. A backend may do it after `run` returned, in commit order (SQLite, once
    /// the commit is durable: `sqlite/syncer.rs`).
    fn publish_and_answer(&mut self, committed: Self::Committed, batch: &mut Vec<Box<dyn Job>>);
    /// Answers every job of a batch that did not commit, emptying `batch`.
    fn recover(
        &mut self,
        batch: &mut Vec<Box<dyn Job>>,
        failure: Self::Failure,
    ) -> impl Future<Output = ()> + Send;
}

/// The writer's loop: batches of queued jobs, each run and committed by `committer`, until
/// every [`Writer`] is dropped or the close marker is answered.
pub(crate) async fn drain<C: Committer>(queue: Queue, mut committer: C) {
    let Queue {
        jobs: mut queue,
        observer,
    } = queue;
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(C::MAX_BATCH);
    while let Some(first) = C::next_job(&mut queue).await {
        let mut closing = first.closes_writer();
        batch.push(first);
        while batch.len() < C::MAX_BATCH && !closing {
            match queue.try_recv() {
                Ok(job) => {
                    closing = job.closes_writer();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let jobs = batch.len();
        let outcome = committer.run(&mut batch).await;
        let ran = outcome.as_ref().err().is_none_or(C::ran);
        if let Some(observer) = observer.get().filter(|_| ran) {
            observer.batch_committed(jobs, started.elapsed(), outcome.is_ok());
        }
        match outcome {
            Ok(committed) => committer.publish_and_answer(committed, &mut batch),
            Err(failure) => committer.recover(&mut batch, failure).await,
        }
        debug_assert!(batch.is_empty(), "a job of the batch was left unanswered");
        if closing {
            return refuse_the_rest(queue);
        }
    }
}

/// After the close marker: refuses new writes, and answers those queued after it as
/// refused by a closed store (they never ran).
fn refuse_the_rest(mut queue: mpsc::Receiver<Box<dyn Job>>) {
    queue.close();
    while let Ok(job) = queue.try_recv() {
        job.send_error(StoreError::Closed);
    }
}

/// Answers every job of a batch that did not commit with why.
pub(crate) fn fail_all(batch: &mut Vec<Box<dyn Job>>, error: StoreError) {
    for job in batch.drain(..) {
        job.send_error(error.clone());
    }
}
