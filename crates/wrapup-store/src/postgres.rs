//! The PostgreSQL store, for several server nodes on one database.
//!
//! Writes: each node has one writer task that group-commits, as the SQLite writer does. It
//! takes every queued write (up to [`MAX_BATCH`]), runs them in one transaction and commits
//! once. Interactions are read `FOR UPDATE`, so writes from different nodes to the same
//! interaction serialise in the database. If a statement of the batch fails (a race with
//! another node on a unique name, a deadlock), the batch is rolled back and each write is
//! run again in a transaction of its own, so one bad write never fails its neighbours. A
//! write is acknowledged only after `COMMIT` returned; a failed `COMMIT` fails the whole
//! batch, unretried, since it may or may not have been applied.
//!
//! Events: a batch writes its events last. It takes their numbers from the one row of
//! `event_counter`, whose lock it holds until it commits, so event numbers are assigned in
//! commit order across all nodes: whoever has read event N can read every event before it.
//! The batch also sends `NOTIFY wrapup_events, '<last number>'`, which PostgreSQL delivers
//! at commit. Each node runs a tailer that publishes events to the node's subscribers in
//! strict number order, with no gap and no repeat: its own commits directly, and the other
//! nodes' by reading the log when a notification (or, as a safety net, a periodic look at
//! the counter) says there is more. The log is the source of truth; a lost notification
//! only delays an event by at most [`CHECK_EVERY`].
//!
//! The finalization timer runs on every node; `FOR UPDATE SKIP LOCKED` and the
//! `NOT finalized` condition make each interaction finalized (and its event written)
//! exactly once.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, PgConnection, Postgres, QueryBuilder, Row};
use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;
use wrapup_domain::names::name_key;
use wrapup_types::timestamp::{from_millis, to_millis};
use wrapup_types::{
    Channel, Division, DivisionGrant, ErrorDetail, EventKind, Interaction, InteractionState,
    ScopeSet, WrapUp, WrapUpCode,
};

use crate::rules;
use crate::{
    ApplyOutcome, ApplyWrapUp, ClientRecord, CodeFilter, CodeRecord, EventBounds, EventRecord,
    InteractionFilter, InteractionRecord, NewInteraction, PageRequest, Result, Store, StoreError,
    StoreObserver, TokenRecord, EVENT_BUFFER,
};

/// The most writes committed in one transaction.
const MAX_BATCH: usize = 256;
/// The channel of the commit notifications.
const CHANNEL: &str = "wrapup_events";
/// How often the tailer looks at the event counter, in case a notification was lost.
const CHECK_EVERY: Duration = Duration::from_millis(250);
/// The `meta` key recording the last pruned event sequence number.
const PRUNED_THROUGH: &str = "events.pruned_through";
/// The most interactions one finalization pass handles.
const FINALIZE_BATCH: i64 = 1_000;
/// Connections for reads.
const READERS: u32 = 16;

/// Why a write transaction could not go on: it must be rolled back.
#[derive(Debug)]
enum Fail {
    Sql(sqlx::Error),
    Corrupt(String),
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Self {
        Fail::Sql(e)
    }
}

impl From<Fail> for StoreError {
    fn from(e: Fail) -> Self {
        match e {
            Fail::Sql(e) => e.into(),
            Fail::Corrupt(m) => StoreError::Database(m),
        }
    }
}

/// A database step: `Err` aborts the transaction; `Ok(Err(_))` is the write's own answer
/// (not found, rejected, conflict), which leaves the transaction usable.
type Step<T> = std::result::Result<T, Fail>;

/// A write, as data: it can be run in a batch and, if the batch fails, once more alone.
#[derive(Debug, Clone)]
enum Op {
    CreateDivision {
        id: Uuid,
        name: String,
        now_ms: i64,
    },
    CreateCode(WrapUpCode),
    UpdateCode {
        id: Uuid,
        name: String,
        description: Option<String>,
        now_ms: i64,
    },
    ArchiveCode {
        id: Uuid,
        now_ms: i64,
    },
    CreateInteraction(NewInteraction),
    SetState {
        id: Uuid,
        to: InteractionState,
        now_ms: i64,
        settle_ms: i64,
    },
    Apply(ApplyWrapUp),
    FinalizeDue(i64),
    CreateClient(ClientRecord),
    InsertToken(TokenRecord),
    PruneEvents(i64),
    SetMeta(String, String),
}

impl Op {
    /// What a unique violation means for this write.
    fn conflict(&self) -> String {
        match self {
            Op::CreateDivision { name, .. } => {
                format!("a division named \"{name}\" already exists")
            }
            Op::CreateCode(WrapUpCode { name, .. }) | Op::UpdateCode { name, .. } => {
                format!("a wrap-up code named \"{name}\" already exists in the division")
            }
            Op::CreateInteraction(new) => format!("interaction {} already exists", new.id),
            _ => "the change conflicts with another one".into(),
        }
    }
}

/// What a write returns.
#[derive(Debug)]
enum Out {
    Unit,
    Division(Division),
    Code(CodeRecord),
    Interaction(InteractionRecord),
    Applied(ApplyOutcome),
    Interactions(Vec<InteractionRecord>),
    Count(u64),
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Out>>,
}

/// An event written by the batch, numbered when the batch ends.
struct PendingEvent {
    kind: EventKind,
    interaction: Interaction,
    created_ms: i64,
}

/// A write transaction: the rows its writes work on, and what they changed, written back
/// in a few set-based statements when the batch ends (a round trip per statement is what a
/// batch costs, so a batch costs the same handful of them whatever its size).
struct Tx<'c> {
    conn: &'c mut PgConnection,
    /// Interactions read (and locked `FOR UPDATE`) in this transaction, as changed so far.
    interactions: HashMap<Uuid, InteractionRecord>,
    /// Interactions changed since the last [`Tx::flush`], in the order first changed.
    dirty: Vec<Uuid>,
    /// Codes read in this transaction (`None`: no such code).
    codes: HashMap<Uuid, Option<CodeRecord>>,
    /// Wrap-up history rows to insert.
    history: Vec<(Uuid, WrapUp)>,
    events: Vec<PendingEvent>,
}

/// The PostgreSQL implementation of [`Store`].
pub struct PgStore {
    pool: PgPool,
    jobs: mpsc::Sender<Job>,
    events: broadcast::Sender<Arc<EventRecord>>,
    observer: Arc<OnceLock<Arc<dyn StoreObserver>>>,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.tasks.iter().for_each(tokio::task::AbortHandle::abort);
    }
}

/// The connection options a `postgres://` URL names.
pub fn connect_options(url: &str) -> Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Database(format!("invalid PostgreSQL URL: {e}")))?
        .application_name("wrapup")
        .log_statements(tracing::log::LevelFilter::Trace))
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`),
    /// migrates it if needed (several nodes may do so at once: the migrator takes a lock),
    /// and starts the writer and the tailer.
    pub async fn open(url: &str) -> Result<PgStore> {
        Self::open_with_event_buffer(url, EVENT_BUFFER).await
    }

    /// Like [`PgStore::open`], with `event_buffer` committed events kept in memory for
    /// subscribers (a subscriber that falls further behind re-reads the log).
    pub async fn open_with_event_buffer(url: &str, event_buffer: usize) -> Result<PgStore> {
        let options = connect_options(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(READERS)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Database(format!("connecting to PostgreSQL: {e}")))?;
        migrator()
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(format!("migrating the database: {e}")))?;
        let writer = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Database(format!("connecting to PostgreSQL: {e}")))?;
        let latest: i64 = sqlx::query_scalar("SELECT last FROM event_counter")
            .fetch_one(&pool)
            .await?;
        let (jobs, rx) = mpsc::channel(MAX_BATCH * 4);
        let (events, _) = broadcast::channel(event_buffer.max(1));
        let observer = Arc::new(OnceLock::new());
        let (committed, committed_rx) = mpsc::unbounded_channel();
        let (signals, signals_rx) = mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        tokio::spawn(run_writer(writer, rx, committed, observer.clone()));
        tasks.push(tokio::spawn(run_listener(pool.clone(), signals)).abort_handle());
        let tailer = Tailer {
            pool: pool.clone(),
            events: events.clone(),
            published: latest,
        };
        tasks.push(tokio::spawn(tailer.run(committed_rx, signals_rx)).abort_handle());
        Ok(PgStore {
            pool,
            jobs,
            events,
            observer,
            tasks,
        })
    }

    async fn write(&self, op: Op) -> Result<Out> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job { op, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Database(
                "the write was not committed (see the server log)".into(),
            ))
        })
    }
}

/// The migrations of the PostgreSQL schema.
pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations/postgres")
}

fn unexpected(out: Out) -> StoreError {
    StoreError::Database(format!("internal error: unexpected write result {out:?}"))
}

// ---- the writer ----------------------------------------------------------------------

/// How a batch failed.
enum BatchError {
    /// Before `COMMIT`: nothing was applied; the writes may be run again.
    Aborted(Fail),
    /// At `COMMIT`: it is unknown whether the batch was applied.
    Commit(sqlx::Error),
}

/// The writer task: batches queued writes into transactions until the store is dropped.
async fn run_writer(
    pool: PgPool,
    mut rx: mpsc::Receiver<Job>,
    committed: mpsc::UnboundedSender<Vec<EventRecord>>,
    observer: Arc<OnceLock<Arc<dyn StoreObserver>>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let jobs = batch.len();
        let ops: Vec<&Op> = batch.iter().map(|j| &j.op).collect();
        let outcome = run_batch(&pool, &ops).await;
        if let Some(observer) = observer.get() {
            observer.batch_committed(jobs, started.elapsed(), outcome.is_ok());
        }
        match outcome {
            Ok((results, events)) => {
                let _ = committed.send(events);
                for (job, result) in batch.drain(..).zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(BatchError::Aborted(e)) if jobs > 1 => {
                tracing::debug!(error = ?e, jobs, "a write batch failed; running its writes one by one");
                for job in batch.drain(..) {
                    let result = match run_batch(&pool, &[&job.op]).await {
                        Ok((mut results, events)) => {
                            let _ = committed.send(events);
                            results.pop().unwrap_or(Err(StoreError::Closed))
                        }
                        Err(e) => Err(single_failure(e, &job.op)),
                    };
                    let _ = job.reply.send(result);
                }
            }
            // One write that failed alone, or a commit whose outcome is unknown.
            Err(e) => {
                let error = single_failure(e, &batch[0].op);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// The answer to a write that failed alone: a unique violation is a conflict, a foreign
/// key violation a missing parent; anything else a database error.
fn single_failure(e: BatchError, op: &Op) -> StoreError {
    match e {
        BatchError::Aborted(Fail::Sql(sqlx::Error::Database(db))) if db.is_unique_violation() => {
            StoreError::Conflict(op.conflict())
        }
        BatchError::Aborted(Fail::Sql(sqlx::Error::Database(db)))
            if db.is_foreign_key_violation() =>
        {
            StoreError::NotFound
        }
        BatchError::Aborted(f) => {
            let e = StoreError::from(f);
            tracing::error!(error = %e, "a write failed");
            e
        }
        BatchError::Commit(e) => {
            tracing::error!(error = %e, "commit failed; the writes were not acknowledged");
            StoreError::Database(format!("commit failed: {e}"))
        }
    }
}

/// Runs `ops` in one transaction, writes their events and commits.
async fn run_batch(
    pool: &PgPool,
    ops: &[&Op],
) -> std::result::Result<(Vec<Result<Out>>, Vec<EventRecord>), BatchError> {
    let aborted = |e: sqlx::Error| BatchError::Aborted(Fail::Sql(e));
    let mut conn = pool.acquire().await.map_err(aborted)?;
    let mut db = conn.begin().await.map_err(aborted)?;
    let mut tx = Tx {
        conn: &mut db,
        interactions: HashMap::new(),
        dirty: Vec::new(),
        codes: HashMap::new(),
        history: Vec::new(),
        events: Vec::new(),
    };
    tx.preload(ops).await.map_err(BatchError::Aborted)?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        results.push(run_op(&mut tx, op).await.map_err(BatchError::Aborted)?);
    }
    tx.flush().await.map_err(BatchError::Aborted)?;
    let events = number_events(&mut tx).await.map_err(BatchError::Aborted)?;
    db.commit().await.map_err(BatchError::Commit)?;
    Ok((results, events))
}

/// Numbers the batch's events (holding the counter's lock until commit), stores them and
/// queues the notification.
async fn number_events(tx: &mut Tx<'_>) -> Step<Vec<EventRecord>> {
    if tx.events.is_empty() {
        return Ok(Vec::new());
    }
    let n = tx.events.len();
    let mut kinds = Vec::with_capacity(n);
    let mut interactions = Vec::with_capacity(n);
    let mut divisions = Vec::with_capacity(n);
    let mut data = Vec::with_capacity(n);
    let mut created = Vec::with_capacity(n);
    for e in &tx.events {
        kinds.push(e.kind.as_str());
        interactions.push(e.interaction.id);
        divisions.push(e.interaction.division_id);
        data.push(serde_json::to_string(&e.interaction).map_err(|e| Fail::Corrupt(e.to_string()))?);
        created.push(e.created_ms);
    }
    // One statement takes the numbers (locking the counter until COMMIT), stores the events
    // and queues the notification: the lock is held for this round trip and the COMMIT.
    let last: i64 = sqlx::query_scalar(
        "WITH counter AS (UPDATE event_counter SET last = last + $1 RETURNING last), \
         stored AS (INSERT INTO events (seq, kind, interaction_id, division_id, data, created_at) \
           SELECT (SELECT last FROM counter) - $1 + e.n, e.kind, e.interaction_id, e.division_id, e.data, e.created_at \
           FROM UNNEST($2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::bigint[]) \
             WITH ORDINALITY AS e (kind, interaction_id, division_id, data, created_at, n)) \
         SELECT counter.last FROM counter, LATERAL (SELECT pg_notify($7, counter.last::text)) AS notified",
    )
    .bind(n as i64)
    .bind(&kinds)
    .bind(&interactions)
    .bind(&divisions)
    .bind(&data)
    .bind(&created)
    .bind(CHANNEL)
    .fetch_one(&mut *tx.conn)
    .await?;
    let first = last - n as i64 + 1;
    Ok(tx
        .events
        .drain(..)
        .enumerate()
        .map(|(k, e)| EventRecord {
            seq: first + k as i64,
            kind: e.kind,
            division_id: e.interaction.division_id,
            interaction: e.interaction,
            created_ms: e.created_ms,
        })
        .collect())
}

/// Runs one write inside the batch transaction.
async fn run_op(tx: &mut Tx<'_>, op: &Op) -> Step<Result<Out>> {
    Ok(match op {
        Op::CreateDivision { id, name, now_ms } => {
            let inserted = sqlx::query(
                "INSERT INTO divisions (id, name, name_key, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(name)
            .bind(name_key(name))
            .bind(now_ms)
            .execute(&mut *tx.conn)
            .await?;
            if inserted.rows_affected() == 0 {
                Err(StoreError::Conflict(op.conflict()))
            } else {
                Ok(Out::Division(Division {
                    id: *id,
                    name: name.clone(),
                }))
            }
        }
        Op::CreateCode(c) => {
            if load_division(&mut *tx.conn, c.division_id).await?.is_none() {
                return Ok(Err(StoreError::NotFound));
            }
            let seq: Option<i64> = sqlx::query_scalar(
                "INSERT INTO wrapup_codes (id, division_id, name, name_key, description, archived, \
                 date_created, date_modified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT DO NOTHING RETURNING seq",
            )
            .bind(c.id)
            .bind(c.division_id)
            .bind(&c.name)
            .bind(name_key(&c.name))
            .bind(&c.description)
            .bind(c.archived)
            .bind(to_millis(c.date_created))
            .bind(to_millis(c.date_modified))
            .fetch_optional(&mut *tx.conn)
            .await?;
            match seq {
                Some(seq) => Ok(Out::Code(CodeRecord {
                    code: c.clone(),
                    seq,
                })),
                None => Err(StoreError::Conflict(op.conflict())),
            }
        }
        Op::UpdateCode {
            id,
            name,
            description,
            now_ms,
        } => {
            let Some(current) = load_code_for_update(&mut *tx.conn, *id).await? else {
                return Ok(Err(StoreError::NotFound));
            };
            let taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM wrapup_codes WHERE division_id = $1 AND name_key = $2 \
                 AND NOT archived AND id <> $3)",
            )
            .bind(current.code.division_id)
            .bind(name_key(name))
            .bind(id)
            .fetch_one(&mut *tx.conn)
            .await?;
            if taken && !current.code.archived {
                return Ok(Err(StoreError::Conflict(op.conflict())));
            }
            sqlx::query(
                "UPDATE wrapup_codes SET name = $1, name_key = $2, description = $3, date_modified = $4 \
                 WHERE id = $5",
            )
            .bind(name)
            .bind(name_key(name))
            .bind(description)
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx.conn)
            .await?;
            tx.codes.remove(id);
            match tx.code(*id).await? {
                Some(c) => Ok(Out::Code(c)),
                None => Err(StoreError::NotFound),
            }
        }
        Op::ArchiveCode { id, now_ms } => {
            sqlx::query(
                "UPDATE wrapup_codes SET archived = TRUE, date_modified = $1 WHERE id = $2 AND NOT archived",
            )
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx.conn)
            .await?;
            tx.codes.remove(id);
            match tx.code(*id).await? {
                Some(c) => Ok(Out::Code(c)),
                None => Err(StoreError::NotFound),
            }
        }
        Op::CreateInteraction(new) => {
            let seq: Option<i64> = sqlx::query_scalar(
                "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, version) \
                 VALUES ($1, $2, $3, 'queued', FALSE, $4, 1) ON CONFLICT DO NOTHING RETURNING seq",
            )
            .bind(new.id)
            .bind(new.division_id)
            .bind(new.channel.as_str())
            .bind(new.now_ms)
            .fetch_optional(&mut *tx.conn)
            .await?;
            match seq {
                Some(seq) => {
                    let rec = rules::new_interaction(new, seq);
                    tx.event(EventKind::Created, &rec, new.now_ms);
                    tx.interactions.insert(rec.interaction.id, rec.clone());
                    Ok(Out::Interaction(rec))
                }
                None => Err(StoreError::Conflict(op.conflict())),
            }
        }
        Op::SetState {
            id,
            to,
            now_ms,
            settle_ms,
        } => {
            let Some(mut rec) = tx.interaction(*id).await? else {
                return Ok(Err(StoreError::NotFound));
            };
            if let Err(e) = rules::move_state(&mut rec, *to, *now_ms, *settle_ms) {
                return Ok(Err(e));
            }
            tx.save(&rec);
            tx.event(EventKind::State, &rec, *now_ms);
            if rules::is_due(&rec, *now_ms) {
                tx.finalize(&mut rec, *now_ms);
            }
            Ok(Out::Interaction(rec))
        }
        Op::Apply(cmd) => tx.apply(cmd).await?.map(Out::Applied),
        Op::FinalizeDue(now_ms) => {
            // The query below must see this batch's changes so far.
            tx.flush().await?;
            let due = sqlx::query(&format!(
                "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE NOT finalized AND state = 'closed' \
                 AND finalize_due_at <= $1 ORDER BY finalize_due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
            ))
            .bind(now_ms)
            .bind(FINALIZE_BATCH)
            .fetch_all(&mut *tx.conn)
            .await?;
            let mut done = Vec::with_capacity(due.len());
            for row in due {
                let mut rec = interaction_from_row(&row)?;
                tx.finalize(&mut rec, *now_ms);
                done.push(rec);
            }
            Ok(Out::Interactions(done))
        }
        Op::CreateClient(c) => {
            let divisions =
                serde_json::to_string(&c.divisions).map_err(|e| Fail::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO oauth_clients (id, name, secret_hash, scopes, divisions, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(c.id)
            .bind(&c.name)
            .bind(&c.secret_hash)
            .bind(c.scopes.to_string())
            .bind(divisions)
            .bind(c.created_ms)
            .execute(&mut *tx.conn)
            .await?;
            Ok(Out::Unit)
        }
        Op::InsertToken(t) => {
            sqlx::query(
                "INSERT INTO access_tokens (hash, client_id, scopes, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&t.hash[..])
            .bind(t.client_id)
            .bind(t.scopes.to_string())
            .bind(t.expires_ms)
            .execute(&mut *tx.conn)
            .await?;
            // Tokens expired for more than a week answer authentication.invalid from then on.
            sqlx::query("DELETE FROM access_tokens WHERE expires_at < $1")
                .bind(t.expires_ms - 8 * 86_400_000)
                .execute(&mut *tx.conn)
                .await?;
            Ok(Out::Unit)
        }
        Op::PruneEvents(before_ms) => {
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE created_at < $1")
                    .bind(before_ms)
                    .fetch_one(&mut *tx.conn)
                    .await?;
            let Some(last) = last else {
                return Ok(Ok(Out::Count(0)));
            };
            let deleted = sqlx::query("DELETE FROM events WHERE seq <= $1")
                .bind(last)
                .execute(&mut *tx.conn)
                .await?
                .rows_affected();
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET \
                 value = GREATEST(meta.value::bigint, excluded.value::bigint)::text",
            )
            .bind(PRUNED_THROUGH)
            .bind(last.to_string())
            .execute(&mut *tx.conn)
            .await?;
            Ok(Out::Count(deleted))
        }
        Op::SetMeta(key, value) => {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx.conn)
            .await?;
            Ok(Out::Unit)
        }
    })
}

impl Tx<'_> {
    /// Records the event of a change; it is numbered and stored when the batch ends.
    fn event(&mut self, kind: EventKind, rec: &InteractionRecord, now_ms: i64) {
        self.events.push(PendingEvent {
            kind,
            interaction: rec.interaction.clone(),
            created_ms: now_ms,
        });
    }

    /// Marks a closed interaction finalized and records the event.
    fn finalize(&mut self, rec: &mut InteractionRecord, now_ms: i64) {
        rules::mark_finalized(rec, now_ms);
        self.save(rec);
        self.event(EventKind::Finalized, rec, now_ms);
    }

    /// Reads and locks the interactions the batch's writes name, in id order (so two nodes'
    /// batches never wait for each other in a cycle), and the codes its wrap-ups name.
    async fn preload(&mut self, ops: &[&Op]) -> Step<()> {
        let mut ids = Vec::new();
        let mut codes = Vec::new();
        for op in ops {
            match op {
                Op::SetState { id, .. } => ids.push(*id),
                Op::Apply(cmd) => {
                    ids.push(cmd.interaction_id);
                    codes.push(cmd.request.code_id);
                }
                _ => {}
            }
        }
        if !ids.is_empty() {
            ids.sort_unstable();
            ids.dedup();
            let rows = sqlx::query(&format!(
                "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE id = ANY($1) ORDER BY id FOR UPDATE"
            ))
            .bind(&ids)
            .fetch_all(&mut *self.conn)
            .await?;
            for row in &rows {
                let rec = interaction_from_row(row)?;
                self.interactions.insert(rec.interaction.id, rec);
            }
        }
        if !codes.is_empty() {
            codes.sort_unstable();
            codes.dedup();
            let rows = sqlx::query(&format!(
                "SELECT {CODE_COLUMNS} FROM wrapup_codes WHERE id = ANY($1)"
            ))
            .bind(&codes)
            .fetch_all(&mut *self.conn)
            .await?;
            for id in codes {
                self.codes.insert(id, None);
            }
            for row in &rows {
                let code = code_from_row(row)?;
                self.codes.insert(code.code.id, Some(code));
            }
        }
        Ok(())
    }

    /// An interaction as this transaction sees it, locked `FOR UPDATE`.
    async fn interaction(&mut self, id: Uuid) -> Step<Option<InteractionRecord>> {
        if let Some(rec) = self.interactions.get(&id) {
            return Ok(Some(rec.clone()));
        }
        let row = sqlx::query(&format!(
            "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *self.conn)
        .await?;
        let Some(rec) = row.as_ref().map(interaction_from_row).transpose()? else {
            return Ok(None);
        };
        self.interactions.insert(id, rec.clone());
        Ok(Some(rec))
    }

    /// Records a changed interaction; it is written back by [`Tx::flush`].
    fn save(&mut self, rec: &InteractionRecord) {
        let id = rec.interaction.id;
        if !self.dirty.contains(&id) {
            self.dirty.push(id);
        }
        self.interactions.insert(id, rec.clone());
    }

    /// A code as this transaction sees it.
    async fn code(&mut self, id: Uuid) -> Step<Option<CodeRecord>> {
        if let Some(code) = self.codes.get(&id) {
            return Ok(code.clone());
        }
        let code = load_code(&mut *self.conn, id).await?;
        self.codes.insert(id, code.clone());
        Ok(code)
    }

    /// Writes the changed interactions and the new history rows back, one statement each.
    async fn flush(&mut self) -> Step<()> {
        if !self.dirty.is_empty() {
            let recs: Vec<&InteractionRecord> = self
                .dirty
                .iter()
                .filter_map(|id| self.interactions.get(id))
                .collect();
            let ms = |t: Option<time::OffsetDateTime>| t.map(to_millis);
            let col = |f: &dyn Fn(&InteractionRecord) -> Option<i64>| -> Vec<Option<i64>> {
                recs.iter().map(|r| f(r)).collect()
            };
            let wrap = |r: &InteractionRecord| r.interaction.wrap_up.clone();
            sqlx::query(
                "UPDATE interactions AS i SET state = u.state, finalized = u.finalized, active_at = u.active_at, \
                 closed_at = u.closed_at, finalize_due_at = u.finalize_due_at, finalized_at = u.finalized_at, \
                 wrapup_code_id = u.code_id, wrapup_code_name = u.code_name, wrapup_duration_ms = u.duration_ms, \
                 wrapup_notes = u.notes, wrapup_applied_at = u.applied_at, wrapup_applied_by = u.applied_by, \
                 version = u.version \
                 FROM UNNEST($1::uuid[], $2::text[], $3::bool[], $4::bigint[], $5::bigint[], $6::bigint[], \
                 $7::bigint[], $8::uuid[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::uuid[], \
                 $14::bigint[]) AS u (id, state, finalized, active_at, closed_at, finalize_due_at, finalized_at, \
                 code_id, code_name, duration_ms, notes, applied_at, applied_by, version) \
                 WHERE i.id = u.id",
            )
            .bind(recs.iter().map(|r| r.interaction.id).collect::<Vec<_>>())
            .bind(recs.iter().map(|r| r.interaction.state.as_str()).collect::<Vec<_>>())
            .bind(recs.iter().map(|r| r.interaction.finalized).collect::<Vec<_>>())
            .bind(col(&|r| ms(r.interaction.active_at)))
            .bind(col(&|r| ms(r.interaction.closed_at)))
            .bind(col(&|r| r.finalize_due_ms))
            .bind(col(&|r| ms(r.interaction.finalized_at)))
            .bind(recs.iter().map(|r| wrap(r).map(|w| w.code_id)).collect::<Vec<_>>())
            .bind(recs.iter().map(|r| wrap(r).map(|w| w.code_name)).collect::<Vec<_>>())
            .bind(col(&|r| wrap(r).map(|w| i64::from(w.duration_ms))))
            .bind(recs.iter().map(|r| wrap(r).and_then(|w| w.notes)).collect::<Vec<_>>())
            .bind(col(&|r| wrap(r).map(|w| to_millis(w.applied_at))))
            .bind(recs.iter().map(|r| wrap(r).map(|w| w.applied_by)).collect::<Vec<_>>())
            .bind(recs.iter().map(|r| r.interaction.version).collect::<Vec<_>>())
            .execute(&mut *self.conn)
            .await?;
            self.dirty.clear();
        }
        if !self.history.is_empty() {
            let h = std::mem::take(&mut self.history);
            sqlx::query(
                "INSERT INTO wrapup_history (interaction_id, code_id, code_name, duration_ms, notes, applied_at, \
                 applied_by) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], \
                 $6::bigint[], $7::uuid[])",
            )
            .bind(h.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| w.code_id).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| w.code_name.as_str()).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| i64::from(w.duration_ms)).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| w.notes.as_deref()).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| to_millis(w.applied_at)).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| w.applied_by).collect::<Vec<_>>())
            .execute(&mut *self.conn)
            .await?;
        }
        Ok(())
    }

    /// The state and code problems of a wrap-up, and the code when it can be applied.
    async fn assess(
        &mut self,
        rec: &InteractionRecord,
        code_id: Uuid,
        grant: &DivisionGrant,
        now_ms: i64,
    ) -> Step<(Vec<ErrorDetail>, Option<WrapUpCode>)> {
        let code = self.code(code_id).await?.map(|c| c.code);
        let names = division_names(&mut *self.conn, rec, code.as_ref(), grant).await?;
        Ok(rules::assess(
            rec,
            Some(code_id),
            code,
            grant,
            &names,
            now_ms,
        ))
    }

    async fn apply(&mut self, cmd: &ApplyWrapUp) -> Step<Result<ApplyOutcome>> {
        let Some(mut rec) = self
            .interaction(cmd.interaction_id)
            .await?
            .filter(|r| cmd.divisions.allows(r.interaction.division_id))
        else {
            return Ok(Err(StoreError::NotFound));
        };
        // The timer may not have fired yet for an interaction that is due: settle it now.
        if rules::is_due(&rec, cmd.now_ms) {
            self.finalize(&mut rec, cmd.now_ms);
        }
        let (problems, code) = self
            .assess(&rec, cmd.request.code_id, &cmd.divisions, cmd.now_ms)
            .await?;
        let code = match code {
            Some(code) if problems.is_empty() => code,
            _ => return Ok(Err(StoreError::Rejected(problems))),
        };
        let Some(wrap_up) = rules::set_wrapup(&mut rec, cmd, code) else {
            return Ok(Ok(ApplyOutcome::Unchanged(rec)));
        };
        self.history.push((cmd.interaction_id, wrap_up));
        self.save(&rec);
        self.event(EventKind::WrapUp, &rec, cmd.now_ms);
        Ok(Ok(ApplyOutcome::Applied(rec)))
    }
}

// ---- rows ----------------------------------------------------------------------------

const INTERACTION_COLUMNS: &str = "seq, id, division_id, channel, state, finalized, created_at, active_at, \
     closed_at, finalize_due_at, finalized_at, wrapup_code_id, wrapup_code_name, wrapup_duration_ms, \
     wrapup_notes, wrapup_applied_at, wrapup_applied_by, version";

const CODE_COLUMNS: &str =
    "seq, id, division_id, name, description, archived, date_created, date_modified";

fn corrupt(what: &str, value: &str) -> Fail {
    Fail::Corrupt(format!("stored {what} \"{value}\" is not valid"))
}

fn interaction_from_row(row: &PgRow) -> Step<InteractionRecord> {
    let channel: String = row.try_get("channel")?;
    let state: String = row.try_get("state")?;
    let opt_time =
        |col: &str| -> Step<_> { Ok(row.try_get::<Option<i64>, _>(col)?.map(from_millis)) };
    let wrap_up = match row.try_get::<Option<Uuid>, _>("wrapup_code_id")? {
        Some(code_id) => Some(WrapUp {
            code_id,
            code_name: row.try_get("wrapup_code_name")?,
            duration_ms: row.try_get::<i64, _>("wrapup_duration_ms")? as u32,
            notes: row.try_get("wrapup_notes")?,
            applied_at: from_millis(row.try_get("wrapup_applied_at")?),
            applied_by: row.try_get("wrapup_applied_by")?,
        }),
        None => None,
    };
    Ok(InteractionRecord {
        seq: row.try_get("seq")?,
        finalize_due_ms: row.try_get("finalize_due_at")?,
        interaction: Interaction {
            id: row.try_get("id")?,
            division_id: row.try_get("division_id")?,
            channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
            state: InteractionState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
            finalized: row.try_get("finalized")?,
            created_at: from_millis(row.try_get("created_at")?),
            active_at: opt_time("active_at")?,
            closed_at: opt_time("closed_at")?,
            finalized_at: opt_time("finalized_at")?,
            wrap_up,
            version: row.try_get("version")?,
        },
    })
}

fn code_from_row(row: &PgRow) -> Step<CodeRecord> {
    Ok(CodeRecord {
        seq: row.try_get("seq")?,
        code: WrapUpCode {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            division_id: row.try_get("division_id")?,
            description: row.try_get("description")?,
            archived: row.try_get("archived")?,
            date_created: from_millis(row.try_get("date_created")?),
            date_modified: from_millis(row.try_get("date_modified")?),
        },
    })
}

fn division_from_row(row: &PgRow) -> Step<Division> {
    Ok(Division {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
    })
}

fn client_from_row(row: &PgRow) -> Step<ClientRecord> {
    let scopes: String = row.try_get("scopes")?;
    let divisions: String = row.try_get("divisions")?;
    Ok(ClientRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        scopes: ScopeSet::parse(&scopes).map_err(|s| corrupt("scope", &s))?,
        divisions: serde_json::from_str(&divisions)
            .map_err(|_| corrupt("division grant", &divisions))?,
        created_ms: row.try_get("created_at")?,
    })
}

fn event_from_row(row: &PgRow) -> Step<EventRecord> {
    let kind: String = row.try_get("kind")?;
    let data: String = row.try_get("data")?;
    Ok(EventRecord {
        seq: row.try_get("seq")?,
        kind: EventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
        division_id: row.try_get("division_id")?,
        interaction: serde_json::from_str(&data).map_err(|_| corrupt("event data", &data))?,
        created_ms: row.try_get("created_at")?,
    })
}

async fn load_code(conn: &mut PgConnection, id: Uuid) -> Step<Option<CodeRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {CODE_COLUMNS} FROM wrapup_codes WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(code_from_row).transpose()
}

async fn load_code_for_update(conn: &mut PgConnection, id: Uuid) -> Step<Option<CodeRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {CODE_COLUMNS} FROM wrapup_codes WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(code_from_row).transpose()
}

async fn load_division(conn: &mut PgConnection, id: Uuid) -> Step<Option<Division>> {
    let row = sqlx::query("SELECT id, name FROM divisions WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(division_from_row).transpose()
}

/// The names of the divisions the messages about `code` need.
async fn division_names(
    conn: &mut PgConnection,
    rec: &InteractionRecord,
    code: Option<&WrapUpCode>,
    grant: &DivisionGrant,
) -> Step<HashMap<Uuid, String>> {
    let mut names = HashMap::new();
    for id in rules::divisions_to_name(rec, code, grant) {
        if let Some(d) = load_division(&mut *conn, id).await? {
            names.insert(id, d.name);
        }
    }
    Ok(names)
}

// ---- the tailer ----------------------------------------------------------------------

/// What the listener tells the tailer.
enum Signal {
    /// A transaction committed events up to this number.
    Committed(i64),
    /// The listening connection was (re)established: notifications may have been lost.
    Listening,
}

/// Listens for commit notifications and passes them on; reconnects when the connection
/// drops (the tailer then re-reads the counter).
async fn run_listener(pool: PgPool, signals: mpsc::UnboundedSender<Signal>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for commits; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "cannot listen for commits; retrying in 1 s");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if signals.send(Signal::Listening).is_err() {
            return;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    let Ok(last) = n.payload().parse() else {
                        continue;
                    };
                    if signals.send(Signal::Committed(last)).is_err() {
                        return;
                    }
                }
                // The connection was lost; the next call reconnects.
                Ok(None) => {
                    if signals.send(Signal::Listening).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listening for commits failed; reconnecting in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

/// Publishes committed events to this node's subscribers in number order, each once.
struct Tailer {
    pool: PgPool,
    events: broadcast::Sender<Arc<EventRecord>>,
    /// The last event number published.
    published: i64,
}

impl Tailer {
    async fn run(
        mut self,
        mut committed: mpsc::UnboundedReceiver<Vec<EventRecord>>,
        mut signals: mpsc::UnboundedReceiver<Signal>,
    ) {
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let target = tokio::select! {
                batch = committed.recv() => match batch {
                    Some(batch) => self.publish_local(batch),
                    None => return,
                },
                signal = signals.recv() => match signal {
                    Some(Signal::Committed(last)) => Some(last),
                    Some(Signal::Listening) | None => self.latest().await,
                },
                _ = check.tick() => self.latest().await,
            };
            if let Some(target) = target.filter(|t| *t > self.published) {
                if let Err(e) = self.catch_up(target).await {
                    tracing::warn!(error = %e, "reading committed events failed; will retry");
                }
            }
        }
    }

    /// Publishes this node's own commit when it follows what was published; otherwise
    /// says how far the log must be read.
    fn publish_local(&mut self, batch: Vec<EventRecord>) -> Option<i64> {
        let (first, last) = (batch.first()?.seq, batch.last()?.seq);
        if last <= self.published {
            return None;
        }
        if first != self.published + 1 {
            return Some(last);
        }
        for event in batch {
            self.publish(event);
        }
        None
    }

    fn publish(&mut self, event: EventRecord) {
        self.published = event.seq;
        let _ = self.events.send(Arc::new(event));
    }

    async fn latest(&self) -> Option<i64> {
        match sqlx::query_scalar("SELECT last FROM event_counter")
            .fetch_one(&self.pool)
            .await
        {
            Ok(last) => Some(last),
            Err(e) => {
                tracing::warn!(error = %e, "reading the event counter failed");
                None
            }
        }
    }

    /// Reads and publishes the log after what was published, up to `target`.
    async fn catch_up(&mut self, target: i64) -> Result<()> {
        while self.published < target {
            let page = events_after(&self.pool, self.published, 1_000).await?;
            if page.is_empty() {
                // Pruned already (numbers are taken under the counter's lock and committed
                // with their events, so nothing else leaves a hole).
                self.published = target;
                return Ok(());
            }
            for event in page {
                self.publish(event);
            }
        }
        Ok(())
    }
}

async fn events_after(pool: &PgPool, after_seq: i64, limit: u32) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(
        "SELECT seq, kind, division_id, data, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(event_from_row).collect::<Step<_>>()?)
}

// ---- the store -----------------------------------------------------------------------

impl PgStore {
    /// One page of a listing: `select` is `SELECT … FROM … WHERE seq > `; `filters`
    /// appends `AND …` clauses; rows outside the granted divisions (`grant_column`) are
    /// left out.
    async fn select_page<T>(
        &self,
        select: &str,
        grant_column: &str,
        grant: &DivisionGrant,
        page: PageRequest,
        filters: impl FnOnce(&mut QueryBuilder<'_, Postgres>),
        map: fn(&PgRow) -> Step<T>,
    ) -> Result<Vec<T>> {
        let mut q = QueryBuilder::new(select);
        q.push_bind(page.after.unwrap_or(0));
        filters(&mut q);
        if let DivisionGrant::Only(ids) = grant {
            let ids: Vec<Uuid> = ids.to_vec();
            q.push(format!(" AND {grant_column} = ANY("))
                .push_bind(ids)
                .push(")");
        }
        q.push(" ORDER BY seq LIMIT ")
            .push_bind(i64::from(page.limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(map).collect::<Step<_>>()?)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn health(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        if self.jobs.is_closed() {
            return Err(StoreError::Closed);
        }
        Ok(())
    }

    async fn create_division(&self, id: Uuid, name: &str, now_ms: i64) -> Result<Division> {
        match self
            .write(Op::CreateDivision {
                id,
                name: name.to_string(),
                now_ms,
            })
            .await?
        {
            Out::Division(d) => Ok(d),
            other => Err(unexpected(other)),
        }
    }

    async fn get_division(&self, id: Uuid) -> Result<Option<Division>> {
        let mut conn = self.pool.acquire().await?;
        Ok(load_division(&mut conn, id).await?)
    }

    async fn list_divisions(
        &self,
        grant: &DivisionGrant,
        page: PageRequest,
    ) -> Result<Vec<(i64, Division)>> {
        self.select_page(
            "SELECT seq, id, name FROM divisions WHERE seq > ",
            "id",
            grant,
            page,
            |_| {},
            |r| Ok((r.try_get("seq")?, division_from_row(r)?)),
        )
        .await
    }

    async fn create_code(&self, code: &WrapUpCode) -> Result<CodeRecord> {
        match self.write(Op::CreateCode(code.clone())).await? {
            Out::Code(c) => Ok(c),
            other => Err(unexpected(other)),
        }
    }

    async fn get_code(&self, id: Uuid) -> Result<Option<CodeRecord>> {
        let mut conn = self.pool.acquire().await?;
        Ok(load_code(&mut conn, id).await?)
    }

    async fn list_codes(
        &self,
        grant: &DivisionGrant,
        filter: &CodeFilter,
        page: PageRequest,
    ) -> Result<Vec<CodeRecord>> {
        let select = format!("SELECT {CODE_COLUMNS} FROM wrapup_codes WHERE seq > ");
        self.select_page(
            &select,
            "division_id",
            grant,
            page,
            |q| {
                if let Some(d) = filter.division {
                    q.push(" AND division_id = ").push_bind(d);
                }
                if let Some(name) = &filter.name {
                    q.push(" AND name_key = ").push_bind(name_key(name));
                }
                if !filter.include_archived {
                    q.push(" AND NOT archived");
                }
            },
            code_from_row,
        )
        .await
    }

    async fn update_code(
        &self,
        id: Uuid,
        name: &str,
        description: Option<&str>,
        now_ms: i64,
    ) -> Result<CodeRecord> {
        let op = Op::UpdateCode {
            id,
            name: name.to_string(),
            description: description.map(str::to_string),
            now_ms,
        };
        match self.write(op).await? {
            Out::Code(c) => Ok(c),
            other => Err(unexpected(other)),
        }
    }

    async fn archive_code(&self, id: Uuid, now_ms: i64) -> Result<CodeRecord> {
        match self.write(Op::ArchiveCode { id, now_ms }).await? {
            Out::Code(c) => Ok(c),
            other => Err(unexpected(other)),
        }
    }

    async fn create_interaction(&self, new: &NewInteraction) -> Result<InteractionRecord> {
        match self.write(Op::CreateInteraction(new.clone())).await? {
            Out::Interaction(i) => Ok(i),
            other => Err(unexpected(other)),
        }
    }

    async fn get_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(interaction_from_row).transpose()?)
    }

    async fn list_interactions(
        &self,
        grant: &DivisionGrant,
        filter: &InteractionFilter,
        page: PageRequest,
    ) -> Result<Vec<InteractionRecord>> {
        let select = format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE seq > ");
        self.select_page(
            &select,
            "division_id",
            grant,
            page,
            |q| {
                if let Some(s) = filter.state {
                    q.push(" AND state = ").push_bind(s.as_str());
                }
                if let Some(d) = filter.division {
                    q.push(" AND division_id = ").push_bind(d);
                }
                match filter.wrapped_up {
                    Some(true) => q.push(" AND wrapup_code_id IS NOT NULL"),
                    Some(false) => q.push(" AND wrapup_code_id IS NULL"),
                    None => q,
                };
            },
            interaction_from_row,
        )
        .await
    }

    async fn set_state(
        &self,
        id: Uuid,
        to: InteractionState,
        now_ms: i64,
        settle_ms: i64,
    ) -> Result<InteractionRecord> {
        let op = Op::SetState {
            id,
            to,
            now_ms,
            settle_ms,
        };
        match self.write(op).await? {
            Out::Interaction(i) => Ok(i),
            other => Err(unexpected(other)),
        }
    }

    async fn apply_wrapup(&self, cmd: &ApplyWrapUp) -> Result<ApplyOutcome> {
        match self.write(Op::Apply(cmd.clone())).await? {
            Out::Applied(a) => Ok(a),
            other => Err(unexpected(other)),
        }
    }

    async fn assess_wrapup(
        &self,
        interaction: &InteractionRecord,
        code_id: Option<Uuid>,
        divisions: &DivisionGrant,
        now_ms: i64,
    ) -> Result<Vec<ErrorDetail>> {
        let mut conn = self.pool.acquire().await?;
        let code = match code_id {
            Some(id) => load_code(&mut conn, id).await?.map(|c| c.code),
            None => None,
        };
        let names = division_names(&mut conn, interaction, code.as_ref(), divisions).await?;
        Ok(rules::assess(interaction, code_id, code, divisions, &names, now_ms).0)
    }

    async fn wrapup_history(&self, interaction_id: Uuid) -> Result<Vec<WrapUp>> {
        let rows = sqlx::query(
            "SELECT code_id, code_name, duration_ms, notes, applied_at, applied_by FROM wrapup_history \
             WHERE interaction_id = $1 ORDER BY seq",
        )
        .bind(interaction_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WrapUp {
                    code_id: r.try_get("code_id")?,
                    code_name: r.try_get("code_name")?,
                    duration_ms: r.try_get::<i64, _>("duration_ms")? as u32,
                    notes: r.try_get("notes")?,
                    applied_at: from_millis(r.try_get("applied_at")?),
                    applied_by: r.try_get("applied_by")?,
                })
            })
            .collect()
    }

    async fn finalize_due(&self, now_ms: i64) -> Result<Vec<InteractionRecord>> {
        match self.write(Op::FinalizeDue(now_ms)).await? {
            Out::Interactions(done) => Ok(done),
            other => Err(unexpected(other)),
        }
    }

    async fn next_finalize_due(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(finalize_due_at) FROM interactions WHERE NOT finalized AND state = 'closed'",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn create_client(&self, client: &ClientRecord) -> Result<()> {
        self.write(Op::CreateClient(client.clone())).await?;
        Ok(())
    }

    async fn get_client(&self, id: Uuid) -> Result<Option<ClientRecord>> {
        let row = sqlx::query(
            "SELECT id, name, secret_hash, scopes, divisions, created_at FROM oauth_clients WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(client_from_row).transpose()?)
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<()> {
        self.write(Op::InsertToken(token.clone())).await?;
        Ok(())
    }

    async fn get_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        let row =
            sqlx::query("SELECT client_id, scopes, expires_at FROM access_tokens WHERE hash = $1")
                .bind(&hash[..])
                .fetch_optional(&self.pool)
                .await?;
        let Some(r) = row else { return Ok(None) };
        let scopes: String = r.try_get("scopes")?;
        Ok(Some(TokenRecord {
            hash: *hash,
            client_id: r.try_get("client_id")?,
            scopes: ScopeSet::parse(&scopes).map_err(|s| StoreError::from(corrupt("scope", &s)))?,
            expires_ms: r.try_get("expires_at")?,
        }))
    }

    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<EventRecord>> {
        events_after(&self.pool, after_seq, limit).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.events.subscribe()
    }

    async fn event_bounds(&self) -> Result<EventBounds> {
        let row = sqlx::query(
            "SELECT (SELECT last FROM event_counter) AS latest, \
             (SELECT value FROM meta WHERE key = $1) AS pruned",
        )
        .bind(PRUNED_THROUGH)
        .fetch_one(&self.pool)
        .await?;
        let pruned: Option<String> = row.try_get("pruned")?;
        Ok(EventBounds {
            pruned_through: match pruned {
                Some(v) => v
                    .parse()
                    .map_err(|_| StoreError::from(corrupt(PRUNED_THROUGH, &v)))?,
                None => 0,
            },
            latest: row.try_get("latest")?,
        })
    }

    async fn prune_events(&self, before_ms: i64) -> Result<u64> {
        match self.write(Op::PruneEvents(before_ms)).await? {
            Out::Count(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    fn set_observer(&self, observer: Arc<dyn StoreObserver>) {
        if self.observer.set(observer).is_err() {
            tracing::warn!("the store observer was already set; keeping the first");
        }
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn seed_finalized(&self, division: Uuid, ids: Vec<Uuid>, now_ms: i64) -> Result<u64> {
        let done = sqlx::query(
            "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, active_at, \
             closed_at, finalize_due_at, finalized_at, version) \
             SELECT id, $2, 'voice', 'closed', TRUE, $3, $3, $3, $3, $3, 4 FROM UNNEST($1::uuid[]) AS t (id)",
        )
        .bind(&ids)
        .bind(division)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.write(Op::SetMeta(key.to_string(), value.to_string()))
            .await?;
        Ok(())
    }
}
