//! Which row runs when. The scheduler owns the batch's moving parts — the input, the one
//! event stream, the rows waiting for their interaction, the chunk being filled, the tasks
//! in flight — and reacts to one thing at a time: rows read ([`Scheduler::on_row`]), an
//! event ([`Scheduler::on_event`]), the reconciliation tick ([`Scheduler::on_tick`]), a
//! task finished ([`Scheduler::on_done`]). Rows to send (read, or ready after waiting) go
//! into the chunk, which leaves as a task as soon as a permit is free (so chunks are large
//! when the server is the bottleneck, small when the input is) or when it is full. Rows of
//! one interaction run one at a time, in input order: an interaction's next row joins a
//! chunk only once the row before it is committed as done. A semaphore bounds the tasks in
//! flight. Asked to stop (SIGINT, SIGTERM), it reads no more rows and starts no new task,
//! lets the tasks in flight finish (their journal entries are then final or `waiting`), and
//! returns: a re-run resumes from the journal.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinError, JoinSet};
use tokio::time::{Interval, MissedTickBehavior};
use uuid::Uuid;
use wrapup_client::{EventStream, StreamEvent};
use wrapup_domain::lifecycle::is_ready;

use crate::counts::Counts;
use crate::error::BatchError;
use crate::handler::{Outcomes, RowHandler};
use crate::input::InputItem;
use crate::row::{ChunkItem, Row, RowOutcome, RowTask, WaitingRow};

/// How long an interaction seen ready is remembered, for rows whose read raced the event.
const READY_SEEN_FOR: Duration = Duration::from_secs(120);

/// What a task returns: where each of its rows stands, by interaction.
type TaskDone = Result<Outcomes, BatchError>;

/// The state of a running batch (see the module documentation).
pub(crate) struct Scheduler {
    handler: Arc<RowHandler>,
    /// One permit per task in flight (`concurrency` in all).
    permits: Arc<Semaphore>,
    tasks: JoinSet<TaskDone>,
    /// The chunk being filled: rows to send in the next bulk request.
    chunk: Vec<ChunkItem>,
    /// `None` while the stream is unavailable (waiting rows are then re-read each tick).
    events: Option<EventStream>,
    /// The last event seen, to resume the stream after it drops.
    last_event_id: Option<String>,
    /// Rows waiting for their interaction, by interaction.
    waiting: HashMap<Uuid, Vec<WaitingRow>>,
    waiting_count: usize,
    /// Interactions seen ready recently, so a row whose GET raced the event still goes.
    ready_seen: HashMap<Uuid, Instant>,
    /// Interactions with a row in progress (or waiting), and their later rows, parked in
    /// input order.
    busy: HashMap<Uuid, VecDeque<Row>>,
    input_done: bool,
    /// Asked to stop: no new rows, no new tasks; ends once the tasks in flight are done.
    stopping: bool,
    tick: Interval,
}

impl Scheduler {
    /// Subscribes to the event stream before anything is read, so no interaction becomes
    /// ready unseen.
    pub(crate) async fn start(handler: Arc<RowHandler>) -> Scheduler {
        let options = &handler.options;
        let mut tick = tokio::time::interval(options.reconcile_every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Scheduler {
            permits: Arc::new(Semaphore::new(options.concurrency.max(1))),
            tasks: JoinSet::new(),
            chunk: Vec::new(),
            events: handler.api.open_stream(None).await,
            last_event_id: None,
            waiting: HashMap::new(),
            waiting_count: 0,
            ready_seen: HashMap::new(),
            busy: HashMap::new(),
            input_done: false,
            stopping: false,
            tick,
            handler,
        }
    }

    /// Runs until every record of `input` is done (`Ok(false)`), or until `stop` completes
    /// and the tasks then in flight are done (`Ok(true)`), calling `progress` as it goes.
    /// On an error the scheduler is dropped, and with it every task still in flight.
    pub(crate) async fn run(
        mut self,
        mut input: mpsc::Receiver<InputItem>,
        progress: impl Fn(&Counts),
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<bool, BatchError> {
        let mut stop = std::pin::pin!(stop);
        loop {
            let waiting = self.waiting_count as u64;
            self.handler.tally.add(|c| c.waiting = waiting);
            progress(&self.handler.tally.snapshot());
            if self.stopping && self.tasks.is_empty() {
                // Rows read but not sent have no journal entry yet: a re-run reads them.
                return Ok(true);
            }
            self.flush();
            if self.input_done
                && self.tasks.is_empty()
                && self.waiting_count == 0
                && self.chunk.is_empty()
            {
                return Ok(false);
            }
            let can_read = !self.input_done
                && !self.stopping
                && self.waiting_count < self.handler.options.max_waiting
                && self.chunk.len() < self.handler.api.chunk_limit();
            tokio::select! {
                () = &mut stop, if !self.stopping => self.stopping = true,
                item = input.recv(), if can_read => self.on_row(item, &mut input)?,
                event = next_event(&mut self.events), if self.events.is_some() => {
                    self.on_event(event).await
                }
                _ = self.tick.tick() => self.on_tick().await,
                done = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    self.on_done(done.expect("guarded by is_empty")).await?
                }
            }
        }
    }

    async fn permit(&self) -> OwnedSemaphorePermit {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// Runs `task` on its own tokio task, holding `permit` until it finishes.
    fn spawn(&mut self, task: RowTask, permit: OwnedSemaphorePermit) {
        let handler = self.handler.clone();
        self.tasks.spawn(async move {
            let _permit = permit;
            handler.run(task).await
        });
    }

    /// Sends the chunk being filled if a permit is free (and not stopping), up to the
    /// chunk limit.
    fn flush(&mut self) {
        if self.chunk.is_empty() || self.stopping {
            return;
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return;
        };
        let limit = self.handler.api.chunk_limit();
        let rest = if self.chunk.len() > limit {
            self.chunk.split_off(limit)
        } else {
            Vec::new()
        };
        let chunk = std::mem::replace(&mut self.chunk, rest);
        self.spawn(RowTask::Chunk(chunk), permit);
    }

    /// Records read from the input (`None`: the input ended): `item`, then whatever else is
    /// queued already, up to a full chunk.
    fn on_row(
        &mut self,
        mut item: Option<InputItem>,
        input: &mut mpsc::Receiver<InputItem>,
    ) -> Result<(), std::io::Error> {
        loop {
            match item {
                None => {
                    self.input_done = true;
                    return Ok(());
                }
                Some(Err(e)) => return Err(e),
                Some(Ok(Ok(row))) => {
                    self.handler.tally.add(|c| c.read += 1);
                    match self.busy.get_mut(&row.interaction_id) {
                        Some(parked) => parked.push_back(row),
                        None => {
                            self.busy.insert(row.interaction_id, VecDeque::new());
                            self.chunk.push(ChunkItem::Fresh(row));
                        }
                    }
                }
                Some(Ok(Err(invalid))) => {
                    self.handler.tally.add(|c| c.read += 1);
                    self.chunk.push(ChunkItem::Invalid(invalid));
                }
            }
            if self.chunk.len() >= self.handler.api.chunk_limit() {
                return Ok(());
            }
            item = match input.try_recv() {
                Ok(next) => Some(next),
                Err(mpsc::error::TryRecvError::Empty) => return Ok(()),
                Err(mpsc::error::TryRecvError::Disconnected) => None,
            };
        }
    }

    /// An event of the stream (`None` or an error: the stream dropped).
    async fn on_event(&mut self, event: Option<wrapup_client::Result<StreamEvent>>) {
        match event {
            Some(Ok(StreamEvent::Interaction {
                id, interaction, ..
            })) => {
                self.last_event_id = Some(id.to_string());
                if is_ready(interaction.state, interaction.finalized) {
                    self.ready_seen.insert(interaction.id, Instant::now());
                    if self.stopping {
                        // Its rows stay `waiting` in the journal; a re-run sends them.
                        return;
                    }
                    if let Some(rows) = self.waiting.remove(&interaction.id) {
                        self.waiting_count -= rows.len();
                        self.chunk.extend(rows.into_iter().map(ChunkItem::Ready));
                    }
                }
            }
            Some(Ok(StreamEvent::Reset(reset))) => {
                self.last_event_id = Some(reset.resume_from.to_string());
                // Events may have been missed: re-read every waiting row.
                let due = Instant::now().checked_sub(self.handler.options.reconcile_after);
                for w in self.waiting.values_mut().flatten() {
                    w.checked = due.unwrap_or(w.since).min(w.checked);
                }
            }
            Some(Err(_)) | None => {
                tracing::debug!(?event, "the event stream dropped; reopening it");
                self.events = self
                    .handler
                    .api
                    .open_stream(self.last_event_id.clone())
                    .await;
            }
        }
    }

    /// The reconciliation tick: reopens the stream if it is down, and re-reads the rows
    /// that have waited long without news (or whose time is up).
    async fn on_tick(&mut self) {
        tracing::debug!(
            tasks = self.tasks.len(),
            free_permits = self.permits.available_permits(),
            chunk = self.chunk.len(),
            waiting = self.waiting_count,
            waiting_interactions = self.waiting.len(),
            busy_interactions = self.busy.len(),
            input_done = self.input_done,
            stream = self.events.is_some(),
            stopping = self.stopping,
            "batch state"
        );
        if self.stopping {
            return;
        }
        let now = Instant::now();
        self.ready_seen
            .retain(|_, at| now.duration_since(*at) < READY_SEEN_FOR);
        if self.events.is_none() {
            self.events = self
                .handler
                .api
                .open_stream(self.last_event_id.clone())
                .await;
        }
        let options = &self.handler.options;
        let due_after = if self.events.is_some() {
            options.reconcile_after
        } else {
            options.reconcile_every
        };
        let due: Vec<Uuid> = self
            .waiting
            .iter()
            .filter(|(_, rows)| {
                rows.iter()
                    .any(|w| now.duration_since(w.checked) >= due_after || now >= w.deadline)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            for w in self.waiting.remove(&id).unwrap_or_default() {
                self.waiting_count -= 1;
                let permit = self.permit().await;
                self.spawn(RowTask::Reconcile(w), permit);
            }
        }
    }

    /// A row's task finished: start the interaction's next row, or keep the row waiting.
    /// A task that crashed (panicked) stops the batch as an internal error.
    async fn on_done(&mut self, done: Result<TaskDone, JoinError>) -> Result<(), BatchError> {
        for (interaction, outcome) in done?? {
            match outcome {
                RowOutcome::Done => {
                    // The interaction's next row, if the input had another (when stopping,
                    // it is left for a re-run: it was read, not journaled).
                    if let Some(id) = interaction.filter(|_| !self.stopping) {
                        match self.busy.get_mut(&id).and_then(VecDeque::pop_front) {
                            Some(next) => self.chunk.push(ChunkItem::Fresh(next)),
                            None => {
                                self.busy.remove(&id);
                            }
                        }
                    }
                }
                RowOutcome::Ready(w) => self.chunk.push(ChunkItem::Ready(w)),
                RowOutcome::Waiting(w) => {
                    let id = w.row.interaction_id;
                    let read_at = w
                        .checked
                        .checked_sub(Duration::from_secs(1))
                        .unwrap_or(w.checked);
                    if self.ready_seen.get(&id).is_some_and(|at| *at >= read_at) {
                        // It became ready while its row was being read.
                        let permit = self.permit().await;
                        self.spawn(RowTask::Reconcile(w), permit);
                    } else {
                        self.waiting_count += 1;
                        self.waiting.entry(id).or_default().push(w);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The next event of `events` (only polled while there is a stream).
async fn next_event(
    events: &mut Option<EventStream>,
) -> Option<wrapup_client::Result<StreamEvent>> {
    events.as_mut().expect("guarded by is_some").next().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BatchApi;
    use crate::counts::Tally;
    use crate::journal::Journal;
    use crate::options::Options;

    /// A task that panics is reported as the internal error it is, not as a problem of the
    /// input or the server.
    #[tokio::test]
    async fn a_crashed_task_is_an_internal_error() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("journal.db")).await.unwrap();
        let options = Options::default();
        let tally = Arc::new(Tally::default());
        // Nothing listens there: the scheduler runs without an event stream.
        let client = wrapup_client::Client::new("http://127.0.0.1:9");
        let handler = Arc::new(RowHandler {
            api: Arc::new(BatchApi::new(client, &options, tally.clone())),
            journal,
            options,
            tally,
        });
        let mut scheduler = Scheduler::start(handler).await;
        let mut crashing: JoinSet<TaskDone> = JoinSet::new();
        crashing.spawn(async { panic!("a bug in a row's task") });
        let crashed = crashing.join_next().await.unwrap();
        let error = scheduler.on_done(crashed).await.unwrap_err();
        assert!(matches!(error, BatchError::TaskCrashed(_)), "{error:?}");
        let message = error.to_string();
        assert!(message.starts_with("internal error"), "{message}");
        assert!(!message.contains("reading the input"), "{message}");
    }
}
