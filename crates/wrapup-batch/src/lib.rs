//! Apply wrap-ups by the thousand: nothing lost, nothing applied twice.
//!
//! [`Batch::run`] reads records as a stream, records each one's status in a durable
//! [`Journal`] before and after its PUT, waits for interactions that are not ready on one
//! shared event stream (with a reconciliation read for rows that wait long), pauses the
//! whole batch on 429, retries 5xx and network errors with backoff and jitter, and fails a
//! row only for a permanent refusal, with the server's diagnosis. A re-run with the same
//! journal skips what is done and checks anything that was in flight with a GET before
//! sending it again; and sending the same wrap-up twice is a no-op on the server anyway.

#![forbid(unsafe_code)]

pub mod input;
pub mod journal;

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use uuid::Uuid;
use wrapup_client::{
    Client, CodeQuery, CodeRef, Error, EventQuery, EventStream, RetryPolicy, StreamEvent, WrapUp,
};
use wrapup_types::{ErrorCode, Interaction, InteractionState};

pub use input::{Format, Records, Row, RowError};
pub use journal::{Entry, Journal, JournalError, Status};

/// The error code of a row whose interaction was not ready in time.
pub const WAIT_TIMEOUT: &str = "batch.wait.timeout";

/// How a batch runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rows handled at once (reads and PUTs in flight).
    pub concurrency: usize,
    /// The longest a row may wait for its interaction to be ready before it fails as
    /// `timed out`.
    pub wait: Duration,
    /// Retries of a request after a 5xx or network error before the batch stops (the rows
    /// stay unfinished in the journal; a re-run picks them up).
    pub max_retries: u32,
    /// A waiting row is re-read after waiting this long (in case an event was missed).
    pub reconcile_after: Duration,
    /// How often waiting rows are looked over.
    pub reconcile_every: Duration,
    /// The most rows waiting at once; reading the input pauses beyond it.
    pub max_waiting: usize,
    /// Try rows that failed in an earlier run again.
    pub retry_failed: bool,
    /// The first backoff after a 5xx or network error (it doubles, with full jitter).
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 16,
            wait: Duration::from_secs(600),
            max_retries: 8,
            reconcile_after: Duration::from_secs(60),
            reconcile_every: Duration::from_secs(5),
            max_waiting: 10_000,
            retry_failed: false,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// What the batch has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Records read from the input.
    pub read: u64,
    /// Records applied by an earlier run (left alone; earlier failures count as failed).
    pub skipped: u64,
    pub applied: u64,
    pub already_applied: u64,
    pub failed: u64,
    /// Of the failed, those whose interaction was not ready within `wait`.
    pub timed_out: u64,
    /// Rows waiting for their interaction now.
    pub waiting: u64,
    /// Requests retried (5xx, network errors, 429).
    pub retries: u64,
    /// Dry run: rows that would be applied now.
    pub would_apply: u64,
    /// Dry run: rows that would wait for their interaction.
    pub would_wait: u64,
}

impl Counts {
    /// Records finished (in this run or an earlier one).
    pub fn done(&self) -> u64 {
        self.skipped
            + self.applied
            + self.already_applied
            + self.failed
            + self.would_apply
            + self.would_wait
    }
}

/// Why a batch stopped before the end. Unfinished rows stay in the journal.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("reading the input: {0}")]
    Input(#[from] std::io::Error),
    #[error("line {line} differs from the one recorded in the journal {journal}: the input changed since the earlier run; use a new --journal for a new input")]
    InputChanged { line: u64, journal: String },
    #[error("the server kept failing ({0}); the batch stopped after its retries; run the same command again to resume")]
    Unreachable(Error),
    #[error("the server refused the credentials ({0}); the batch stopped")]
    Unauthorized(Error),
}

/// What happened to one row (internal).
enum Outcome {
    Done,
    Wait(Waiting),
}

#[derive(Debug, Clone)]
struct Waiting {
    row: Row,
    wrapup: WrapUp,
    since: Instant,
    deadline: Instant,
    checked: Instant,
    state: InteractionState,
}

struct Shared {
    client: Client,
    journal: Journal,
    options: Options,
    counts: Mutex<Counts>,
    pause_until: Mutex<Option<Instant>>,
    /// Backoff after 5xx and network errors, from `options`.
    backoff: RetryPolicy,
    codes: Mutex<HashMap<(Uuid, String), Result<Uuid, String>>>,
}

/// A request's failure, after the retries it deserved.
enum Failure {
    /// Refused for good: the row fails with this diagnosis.
    Refused(Error),
    /// Stop the batch.
    Abort(BatchError),
}

impl From<JournalError> for Failure {
    fn from(e: JournalError) -> Self {
        Failure::Abort(e.into())
    }
}

fn ready(i: &Interaction) -> bool {
    (i.state == InteractionState::Closed && i.finalized) || i.state == InteractionState::Completed
}

impl Shared {
    fn count(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.counts.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Counts a row an earlier run finished: failures still count as failures (so the
    /// exit code says the batch is not all applied), the rest as skipped.
    fn count_earlier(&self, entry: &Entry) {
        self.count(|c| match entry.status {
            Status::Failed => {
                c.failed += 1;
                if entry.error_code.as_deref() == Some(WAIT_TIMEOUT) {
                    c.timed_out += 1;
                }
            }
            _ => c.skipped += 1,
        });
    }

    /// Waits while the batch is paused by a 429.
    async fn paused(&self) {
        loop {
            let until = *self.pause_until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => return,
            }
        }
    }

    fn pause(&self, for_: Duration) {
        let until = Instant::now() + for_;
        let mut pause = self.pause_until.lock().unwrap_or_else(|e| e.into_inner());
        if pause.is_none_or(|p| p < until) {
            *pause = Some(until);
        }
    }

    /// Runs `request` until it succeeds, is refused for good, or the retries run out.
    async fn retrying<T, F, Fut>(&self, request: F) -> Result<T, Failure>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        let mut failures = 0;
        let mut rate_limited = 0;
        loop {
            self.paused().await;
            let error = match request().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            match &error {
                Error::Api {
                    status: 429,
                    retry_after,
                    ..
                } => {
                    rate_limited += 1;
                    if rate_limited > self.options.max_retries * 10 {
                        return Err(Failure::Abort(BatchError::Unreachable(error)));
                    }
                    self.pause(retry_after.unwrap_or(Duration::from_secs(1)));
                    self.count(|c| c.retries += 1);
                    continue;
                }
                Error::Api { status: 401, .. } | Error::OAuth { .. } | Error::NoCredentials => {
                    return Err(Failure::Abort(BatchError::Unauthorized(error)))
                }
                Error::Api { status, .. } if *status < 500 => return Err(Failure::Refused(error)),
                Error::Unexpected { status, .. }
                    if (400..500).contains(status) && *status != 429 =>
                {
                    return Err(Failure::Refused(error))
                }
                _ => {}
            }
            failures += 1;
            // The client's backoff (exponential, full jitter); None once the retries are spent.
            let Some(delay) = self.backoff.delay(failures, None) else {
                return Err(Failure::Abort(BatchError::Unreachable(error)));
            };
            self.count(|c| c.retries += 1);
            tokio::time::sleep(delay).await;
        }
    }

    async fn put(
        &self,
        row: &Row,
        status: Status,
        code_id: Option<Uuid>,
        error: Option<(&str, &str)>,
    ) -> Result<(), JournalError> {
        self.journal
            .put(Entry {
                line: row.line,
                interaction_id: Some(row.interaction_id),
                status,
                spec: row.spec(),
                code_id,
                error_code: error.map(|e| e.0.to_string()),
                message: error.map(|e| e.1.to_string()),
            })
            .await
    }

    async fn fail(
        &self,
        row: &Row,
        code_id: Option<Uuid>,
        code: &str,
        message: &str,
    ) -> Result<Outcome, Failure> {
        self.put(row, Status::Failed, code_id, Some((code, message)))
            .await?;
        self.count(|c| c.failed += 1);
        Ok(Outcome::Done)
    }

    async fn refused(
        &self,
        row: &Row,
        code_id: Option<Uuid>,
        e: &Error,
    ) -> Result<Outcome, Failure> {
        let (code, message) = match e {
            Error::Api { body, .. } => (body.code.as_str().to_string(), body.message.clone()),
            other => ("request.failed".to_string(), other.to_string()),
        };
        self.fail(row, code_id, &code, &message).await
    }

    /// The id of a code named in the interaction's division (cached).
    async fn resolve(
        &self,
        division: Uuid,
        code: &CodeRef,
    ) -> Result<Result<Uuid, String>, Failure> {
        let name = match code {
            CodeRef::Id(id) => return Ok(Ok(*id)),
            CodeRef::Name(name) => name.to_lowercase(),
        };
        let key = (division, name.clone());
        if let Some(hit) = self
            .codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let query = CodeQuery {
            division_id: Some(division),
            name: Some(name.clone()),
            ..CodeQuery::default()
        };
        let found = match self.retrying(|| self.client.list_codes(&query)).await {
            Ok(page) => page
                .entities
                .first()
                .map(|c| c.id)
                .ok_or_else(|| format!("no active wrap-up code named \"{name}\" in division {division} (the interaction's)")),
            Err(Failure::Refused(e)) => Err(e.to_string()),
            Err(abort) => return Err(abort),
        };
        self.codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, found.clone());
        Ok(found)
    }

    /// Looks a row over: skips it if done, fails it if invalid, applies it if ready.
    async fn process(&self, row: Row) -> Result<Outcome, Failure> {
        let earlier = self.journal.get(row.line).await?;
        if let Some(entry) = &earlier {
            if entry.spec != row.spec() {
                return Err(Failure::Abort(BatchError::InputChanged {
                    line: row.line,
                    journal: self.journal.path().to_string(),
                }));
            }
            if entry.status.is_done()
                && !(self.options.retry_failed && entry.status == Status::Failed)
            {
                self.count_earlier(entry);
                return Ok(Outcome::Done);
            }
        }
        let id = row.interaction_id;
        let interaction = match self.retrying(|| self.client.get_interaction(id)).await {
            Ok(i) => i,
            Err(Failure::Refused(e)) => return self.refused(&row, None, &e).await,
            Err(abort) => return Err(abort),
        };
        let code_id = match self.resolve(interaction.division_id, &row.code).await? {
            Ok(id) => id,
            Err(message) => {
                return self
                    .fail(&row, None, ErrorCode::WrapupCodeNotFound.as_str(), &message)
                    .await
            }
        };
        let wrapup = match row.wrapup(code_id) {
            Ok(w) => w,
            Err(e) => return self.fail(&row, Some(code_id), &e.code, &e.message).await,
        };
        if let Some(applied) = &interaction.wrap_up {
            if wrapup.matches(applied) {
                // In flight when an earlier run died: that run's PUT took effect.
                let ours = earlier.is_some_and(|e| e.status == Status::Sending);
                let status = if ours {
                    Status::Applied
                } else {
                    Status::AlreadyApplied
                };
                self.put(&row, status, Some(code_id), None).await?;
                self.count(|c| {
                    if ours {
                        c.applied += 1
                    } else {
                        c.already_applied += 1
                    }
                });
                return Ok(Outcome::Done);
            }
        }
        if ready(&interaction) {
            return self.send(row, wrapup).await;
        }
        self.wait(row, wrapup, interaction.state).await
    }

    /// Records that a row waits for its interaction, and hands it to the waiting set.
    async fn wait(
        &self,
        row: Row,
        wrapup: WrapUp,
        state: InteractionState,
    ) -> Result<Outcome, Failure> {
        self.put(&row, Status::Waiting, Some(wrapup.code_id()), None)
            .await?;
        let now = Instant::now();
        Ok(Outcome::Wait(Waiting {
            row,
            wrapup,
            since: now,
            deadline: now + self.options.wait,
            checked: now,
            state,
        }))
    }

    /// Sends the PUT, with the journal written before and after it.
    async fn send(&self, row: Row, wrapup: WrapUp) -> Result<Outcome, Failure> {
        let code_id = Some(wrapup.code_id());
        self.put(&row, Status::Sending, code_id, None).await?;
        let body = wrapup.request();
        let id = row.interaction_id;
        match self.retrying(|| self.client.put_wrapup(id, &body)).await {
            Ok(()) => {
                self.put(&row, Status::Applied, code_id, None).await?;
                self.count(|c| c.applied += 1);
                Ok(Outcome::Done)
            }
            Err(Failure::Refused(e))
                if matches!(
                    e.code(),
                    Some(ErrorCode::InteractionNotFinalized | ErrorCode::InteractionNotClosed)
                ) =>
            {
                self.wait(row, wrapup, InteractionState::Closed).await
            }
            Err(Failure::Refused(e)) => self.refused(&row, code_id, &e).await,
            Err(abort) => Err(abort),
        }
    }

    /// Re-reads a waiting row's interaction: applies it if ready, fails it if its time is
    /// up, or leaves it waiting.
    async fn reconcile(&self, mut waiting: Waiting) -> Result<Outcome, Failure> {
        let id = waiting.row.interaction_id;
        let interaction = match self.retrying(|| self.client.get_interaction(id)).await {
            Ok(i) => i,
            Err(Failure::Refused(e)) => {
                return self
                    .refused(&waiting.row, Some(waiting.wrapup.code_id()), &e)
                    .await
            }
            Err(abort) => return Err(abort),
        };
        if ready(&interaction) {
            return self.send(waiting.row, waiting.wrapup).await;
        }
        if Instant::now() >= waiting.deadline {
            self.count(|c| c.timed_out += 1);
            let message = format!(
                "timed out: the interaction was still {} after waiting {} s",
                if interaction.state == InteractionState::Closed {
                    "closed but not finalized".to_string()
                } else {
                    interaction.state.to_string()
                },
                waiting.since.elapsed().as_secs()
            );
            return self
                .fail(
                    &waiting.row,
                    Some(waiting.wrapup.code_id()),
                    WAIT_TIMEOUT,
                    &message,
                )
                .await;
        }
        waiting.checked = Instant::now();
        waiting.state = interaction.state;
        Ok(Outcome::Wait(waiting))
    }
}

/// A batch run.
pub struct Batch {
    shared: Arc<Shared>,
}

/// What the reader sends: a record, or an I/O error that ends the input.
pub type InputItem = Result<Result<Row, RowError>, std::io::Error>;

enum Job {
    Process(Row),
    Invalid(RowError),
    Send(Waiting),
    Reconcile(Waiting),
}

impl Batch {
    /// A batch applying through `client` (whose own retries should be off: the batch
    /// retries itself, pausing everything on 429) and recording in `journal`.
    pub fn new(client: Client, journal: Journal, options: Options) -> Batch {
        let backoff = RetryPolicy {
            max_attempts: options.max_retries.saturating_add(1),
            base_delay: options.backoff,
            max_delay: options.max_backoff,
            ..RetryPolicy::default()
        };
        Batch {
            shared: Arc::new(Shared {
                client,
                journal,
                options,
                counts: Mutex::new(Counts::default()),
                pause_until: Mutex::new(None),
                backoff,
                codes: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn counts(&self) -> Counts {
        self.shared
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn open_stream(&self, last: Option<String>) -> Option<EventStream> {
        let query = EventQuery {
            last_event_id: last,
            ..EventQuery::default()
        };
        match self.shared.client.events(&query).await {
            Ok(stream) => Some(stream),
            Err(e) => {
                tracing::warn!(error = %e, "the event stream is unavailable; waiting rows are re-read instead");
                None
            }
        }
    }

    /// Runs the batch over `input` until every record is done, calling `progress` as it
    /// goes. Returns the counts; an error stops the batch (a re-run resumes it).
    pub async fn run(
        &self,
        mut input: mpsc::Receiver<InputItem>,
        progress: impl Fn(&Counts),
    ) -> Result<Counts, BatchError> {
        let shared = &self.shared;
        let options = &shared.options;
        let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
        // Subscribe before reading anything, so no interaction becomes ready unseen.
        let mut stream = self.open_stream(None).await;
        let mut last_event: Option<String> = None;
        let mut waiting: HashMap<Uuid, Vec<Waiting>> = HashMap::new();
        let mut waiting_count = 0usize;
        // Interactions seen ready recently, so a row whose GET raced the event still goes.
        let mut ready_seen: HashMap<Uuid, Instant> = HashMap::new();
        let mut tasks: JoinSet<(Option<Uuid>, Result<Outcome, Failure>)> = JoinSet::new();
        // Rows of one interaction are applied in input order, one at a time: an interaction
        // with a row in progress (or waiting) is busy, and its later rows are parked.
        let mut busy: HashMap<Uuid, VecDeque<Row>> = HashMap::new();
        let mut input_done = false;
        let mut tick = tokio::time::interval(options.reconcile_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        let spawn = |tasks: &mut JoinSet<(Option<Uuid>, Result<Outcome, Failure>)>,
                     job: Job,
                     permit: tokio::sync::OwnedSemaphorePermit| {
            let shared = shared.clone();
            let interaction = match &job {
                Job::Process(row) => Some(row.interaction_id),
                Job::Send(w) | Job::Reconcile(w) => Some(w.row.interaction_id),
                Job::Invalid(_) => None,
            };
            tasks.spawn(async move {
                let _permit = permit;
                let outcome = async {
                    match job {
                        Job::Process(row) => shared.process(row).await,
                        Job::Invalid(e) => {
                            let spec = format!("invalid record: {}", e.message);
                            if let Some(entry) = shared.journal.get(e.line).await? {
                                if entry.status.is_done() && entry.spec == spec {
                                    shared.count_earlier(&entry);
                                    return Ok(Outcome::Done);
                                }
                            }
                            shared
                                .journal
                                .put(Entry {
                                    line: e.line,
                                    interaction_id: e.interaction_id,
                                    status: Status::Failed,
                                    spec,
                                    code_id: None,
                                    error_code: Some(e.code.clone()),
                                    message: Some(e.message.clone()),
                                })
                                .await?;
                            shared.count(|c| c.failed += 1);
                            Ok(Outcome::Done)
                        }
                        Job::Send(w) => shared.send(w.row, w.wrapup).await,
                        Job::Reconcile(w) => shared.reconcile(w).await,
                    }
                }
                .await;
                (interaction, outcome)
            });
        };

        loop {
            shared.count(|c| c.waiting = waiting_count as u64);
            progress(&self.counts());
            if input_done && tasks.is_empty() && waiting_count == 0 {
                break;
            }
            let can_read = !input_done
                && waiting_count < options.max_waiting
                && permits.available_permits() > 0;
            tokio::select! {
                item = input.recv(), if can_read => {
                    let permit = permits.clone().acquire_owned().await.expect("the semaphore is never closed");
                    match item {
                        None => { input_done = true; drop(permit); }
                        Some(Err(e)) => return Err(e.into()),
                        Some(Ok(Ok(row))) => {
                            shared.count(|c| c.read += 1);
                            match busy.get_mut(&row.interaction_id) {
                                Some(parked) => parked.push_back(row),
                                None => {
                                    busy.insert(row.interaction_id, VecDeque::new());
                                    spawn(&mut tasks, Job::Process(row), permit);
                                }
                            }
                        }
                        Some(Ok(Err(invalid))) => {
                            shared.count(|c| c.read += 1);
                            spawn(&mut tasks, Job::Invalid(invalid), permit);
                        }
                    }
                }
                event = async { stream.as_mut().expect("guarded").next().await }, if stream.is_some() => {
                    match event {
                        Some(Ok(StreamEvent::Interaction { id, interaction, .. })) => {
                            last_event = Some(id.to_string());
                            if ready(&interaction) {
                                ready_seen.insert(interaction.id, Instant::now());
                                if let Some(rows) = waiting.remove(&interaction.id) {
                                    waiting_count -= rows.len();
                                    for w in rows {
                                        let permit = permits.clone().acquire_owned().await.expect("open");
                                        spawn(&mut tasks, Job::Send(w), permit);
                                    }
                                }
                            }
                        }
                        Some(Ok(StreamEvent::Reset(reset))) => {
                            last_event = Some(reset.resume_from.to_string());
                            // Events may have been missed: re-read every waiting row.
                            let due = Instant::now().checked_sub(options.reconcile_after);
                            for w in waiting.values_mut().flatten() {
                                w.checked = due.unwrap_or(w.since).min(w.checked);
                            }
                        }
                        Some(Err(_)) | None => {
                            stream = self.open_stream(last_event.clone()).await;
                        }
                    }
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    ready_seen.retain(|_, at| now.duration_since(*at) < Duration::from_secs(120));
                    if stream.is_none() {
                        stream = self.open_stream(last_event.clone()).await;
                    }
                    let due_after = if stream.is_some() { options.reconcile_after } else { options.reconcile_every };
                    let ids: Vec<Uuid> = waiting
                        .iter()
                        .filter(|(_, rows)| rows.iter().any(|w| now.duration_since(w.checked) >= due_after || now >= w.deadline))
                        .map(|(id, _)| *id)
                        .collect();
                    for id in ids {
                        for w in waiting.remove(&id).unwrap_or_default() {
                            waiting_count -= 1;
                            let permit = permits.clone().acquire_owned().await.expect("open");
                            spawn(&mut tasks, Job::Reconcile(w), permit);
                        }
                    }
                }
                done = tasks.join_next(), if !tasks.is_empty() => {
                    let (interaction, outcome) = match done.expect("guarded by is_empty") {
                        Ok(done) => done,
                        Err(join) => {
                            tasks.abort_all();
                            return Err(BatchError::Input(std::io::Error::other(join.to_string())));
                        }
                    };
                    match outcome {
                        Ok(Outcome::Done) => {
                            // The interaction's next row, if the input had another.
                            if let Some(id) = interaction {
                                match busy.get_mut(&id).and_then(VecDeque::pop_front) {
                                    Some(next) => {
                                        let permit = permits.clone().acquire_owned().await.expect("open");
                                        spawn(&mut tasks, Job::Process(next), permit);
                                    }
                                    None => {
                                        busy.remove(&id);
                                    }
                                }
                            }
                        }
                        Ok(Outcome::Wait(w)) => {
                            let id = w.row.interaction_id;
                            let read_at = w.checked.checked_sub(Duration::from_secs(1)).unwrap_or(w.checked);
                            if ready_seen.get(&id).is_some_and(|at| *at >= read_at) {
                                // It became ready while its row was being read.
                                let permit = permits.clone().acquire_owned().await.expect("open");
                                spawn(&mut tasks, Job::Reconcile(w), permit);
                            } else {
                                waiting_count += 1;
                                waiting.entry(id).or_default().push(w);
                            }
                        }
                        Err(Failure::Abort(e)) => {
                            tasks.abort_all();
                            return Err(e);
                        }
                        Err(Failure::Refused(e)) => {
                            // Every refusal is handled where it happens; this is a bug.
                            tasks.abort_all();
                            return Err(BatchError::Unreachable(e));
                        }
                    }
                }
            }
        }
        Ok(self.counts())
    }

    /// Writes one JSON line per journal entry, in input order.
    pub async fn write_report(&self, out: &mut impl Write) -> Result<u64, BatchError> {
        let mut after = 0;
        let mut written = 0;
        loop {
            let page = self.shared.journal.page(after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.line;
            for entry in &page {
                serde_json::to_writer(&mut *out, entry).map_err(std::io::Error::other)?;
                out.write_all(b"\n")?;
                written += 1;
            }
        }
        out.flush()?;
        Ok(written)
    }
}

/// Reads `records` on a blocking thread into a bounded channel (the input is read only as
/// fast as the batch consumes it).
pub fn feed<R: std::io::BufRead + Send + 'static>(
    records: Records<R>,
    capacity: usize,
) -> mpsc::Receiver<InputItem> {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    tokio::task::spawn_blocking(move || {
        for item in records {
            let stop = item.is_err();
            if tx.blocking_send(item).is_err() || stop {
                return;
            }
        }
    });
    rx
}

/// One line of a dry run's report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunLine {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interaction_id: Option<Uuid>,
    /// `would-apply`, `would-wait`, `already-applied` or `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Batch {
    /// Checks every record without applying anything or writing the journal: the record
    /// is valid, and (unless `offline`) its interaction is visible, its code resolves in
    /// the interaction's division, and whether it would be applied now or wait. Report
    /// lines go to `report` as rows finish (not in input order).
    pub async fn dry_run(
        &self,
        mut input: mpsc::Receiver<InputItem>,
        offline: bool,
        mut report: impl FnMut(&DryRunLine),
        progress: impl Fn(&Counts),
    ) -> Result<Counts, BatchError> {
        let shared = &self.shared;
        let permits = Arc::new(Semaphore::new(shared.options.concurrency.max(1)));
        let mut tasks: JoinSet<Result<DryRunLine, Failure>> = JoinSet::new();
        let mut input_done = false;
        loop {
            progress(&self.counts());
            if input_done && tasks.is_empty() {
                break;
            }
            tokio::select! {
                item = input.recv(), if !input_done && permits.available_permits() > 0 => {
                    let Some(item) = item else { input_done = true; continue };
                    shared.count(|c| c.read += 1);
                    let row = match item? {
                        Ok(row) => row,
                        Err(e) => {
                            shared.count(|c| c.failed += 1);
                            report(&DryRunLine { line: e.line, interaction_id: e.interaction_id, status: "failed", code_id: None, error_code: Some(e.code), message: Some(e.message) });
                            continue;
                        }
                    };
                    let permit = permits.clone().acquire_owned().await.expect("open");
                    let shared = shared.clone();
                    tasks.spawn(async move {
                        let _permit = permit;
                        shared.check(row, offline).await
                    });
                }
                done = tasks.join_next(), if !tasks.is_empty() => {
                    match done.expect("guarded") {
                        Ok(Ok(line)) => {
                            shared.count(|c| match line.status {
                                "would-apply" => c.would_apply += 1,
                                "would-wait" => c.would_wait += 1,
                                "already-applied" => c.already_applied += 1,
                                _ => c.failed += 1,
                            });
                            report(&line);
                        }
                        Ok(Err(Failure::Abort(e))) => { tasks.abort_all(); return Err(e); }
                        Ok(Err(Failure::Refused(e))) => { tasks.abort_all(); return Err(BatchError::Unreachable(e)); }
                        Err(join) => { tasks.abort_all(); return Err(BatchError::Input(std::io::Error::other(join.to_string()))); }
                    }
                }
            }
        }
        Ok(self.counts())
    }
}

impl Shared {
    /// The dry-run verdict on one row.
    async fn check(&self, row: Row, offline: bool) -> Result<DryRunLine, Failure> {
        let line = |status, code_id, error: Option<(String, String)>| DryRunLine {
            line: row.line,
            interaction_id: Some(row.interaction_id),
            status,
            code_id,
            error_code: error.as_ref().map(|e| e.0.clone()),
            message: error.map(|e| e.1),
        };
        if offline {
            let code_id = match &row.code {
                CodeRef::Id(id) => *id,
                CodeRef::Name(_) => Uuid::nil(),
            };
            return Ok(match row.wrapup(code_id) {
                Ok(_) => line("would-apply", None, None),
                Err(e) => line("failed", None, Some((e.code, e.message))),
            });
        }
        let id = row.interaction_id;
        let interaction = match self.retrying(|| self.client.get_interaction(id)).await {
            Ok(i) => i,
            Err(Failure::Refused(e)) => {
                let error = match &e {
                    Error::Api { body, .. } => {
                        (body.code.as_str().to_string(), body.message.clone())
                    }
                    other => ("request.failed".into(), other.to_string()),
                };
                return Ok(line("failed", None, Some(error)));
            }
            Err(abort) => return Err(abort),
        };
        let code_id = match self.resolve(interaction.division_id, &row.code).await? {
            Ok(c) => c,
            Err(m) => {
                return Ok(line(
                    "failed",
                    None,
                    Some((ErrorCode::WrapupCodeNotFound.as_str().into(), m)),
                ))
            }
        };
        if let CodeRef::Id(_) = row.code {
            let code = self.retrying(|| self.client.get_code(code_id)).await;
            match code {
                Ok(c) if c.archived => {
                    return Ok(line(
                        "failed",
                        Some(code_id),
                        Some((
                            ErrorCode::WrapupCodeArchived.as_str().into(),
                            format!("\"{}\" is archived", c.name),
                        )),
                    ))
                }
                Ok(c) if c.division_id != interaction.division_id => {
                    return Ok(line(
                        "failed",
                        Some(code_id),
                        Some((
                            ErrorCode::WrapupCodeDivisionMismatch.as_str().into(),
                            format!(
                                "the code is in division {}, the interaction in {}",
                                c.division_id, interaction.division_id
                            ),
                        )),
                    ))
                }
                Ok(_) => {}
                Err(Failure::Refused(e)) => {
                    return Ok(line(
                        "failed",
                        Some(code_id),
                        Some((
                            e.code()
                                .map_or("request.failed".into(), |c| c.as_str().to_string()),
                            e.to_string(),
                        )),
                    ))
                }
                Err(abort) => return Err(abort),
            }
        }
        let wrapup = match row.wrapup(code_id) {
            Ok(w) => w,
            Err(e) => return Ok(line("failed", Some(code_id), Some((e.code, e.message)))),
        };
        if interaction
            .wrap_up
            .as_ref()
            .is_some_and(|a| wrapup.matches(a))
        {
            return Ok(line("already-applied", Some(code_id), None));
        }
        Ok(if ready(&interaction) {
            line("would-apply", Some(code_id), None)
        } else {
            line(
                "would-wait",
                Some(code_id),
                Some((
                    "interaction.not.ready".into(),
                    format!("the interaction is {}", interaction.state),
                )),
            )
        })
    }
}
