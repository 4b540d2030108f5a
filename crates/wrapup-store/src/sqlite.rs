//! The SQLite store: WAL mode, `synchronous=FULL`, one writer connection fed by a queue,
//! a pool of read-only connections.
//!
//! Writes are group-committed: the writer task takes every job waiting in its queue (up to
//! [`MAX_BATCH`]), runs them in one `BEGIN IMMEDIATE` transaction and commits once, so one
//! fsync covers the whole batch. A job's reply is sent only after the commit succeeded; if
//! the transaction fails, every job of the batch fails and nothing of it is acknowledged.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::error::ErrorKind;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Executor, QueryBuilder, Row, Sqlite};
use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;
use wrapup_domain::lifecycle;
use wrapup_domain::names::name_key;
use wrapup_domain::wrapup_body::check_code;
use wrapup_types::timestamp::from_millis;
use wrapup_types::{
    Channel, Division, DivisionGrant, ErrorDetail, EventKind, Interaction, InteractionState,
    ScopeSet, WrapUp, WrapUpCode,
};

use crate::{
    ApplyOutcome, ApplyWrapUp, ClientRecord, CodeFilter, CodeRecord, EventBounds, EventRecord,
    InteractionFilter, InteractionRecord, NewInteraction, PageRequest, Result, Store, StoreError,
    StoreObserver, TokenRecord,
};

/// The most jobs committed in one transaction.
const MAX_BATCH: usize = 512;
/// How many committed events a slow subscriber may lag before it must re-read the log.
pub const EVENT_BUFFER: usize = 16_384;
/// The `meta` key recording the last pruned event sequence number.
const PRUNED_THROUGH: &str = "events.pruned_through";
/// The most interactions one finalization pass handles.
const FINALIZE_BATCH: i64 = 1_000;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// Sends a job's reply; called only after its batch committed. Dropping it fails the job.
type Finish = Box<dyn FnOnce() + Send>;
/// A write job: runs inside the batch transaction, says whether it failed in a way that
/// poisons the transaction, and hands back how to reply.
type Job = Box<dyn for<'c> FnOnce(&'c mut WriteCtx) -> BoxFuture<'c, (bool, Finish)> + Send>;

/// What a write job works with: the writer connection, and the events written so far in
/// this batch (published once it commits).
pub(crate) struct WriteCtx {
    conn: SqliteConnection,
    events: Vec<EventRecord>,
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    readers: SqlitePool,
    jobs: mpsc::Sender<Job>,
    events: broadcast::Sender<Arc<EventRecord>>,
    observer: Arc<OnceLock<Arc<dyn StoreObserver>>>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `url`: `sqlite://path`,
    /// `sqlite:path` or a bare path.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        Self::open_with_event_buffer(url, EVENT_BUFFER).await
    }

    /// Like [`SqliteStore::open`], with `event_buffer` committed events kept in memory for
    /// subscribers (a subscriber that falls further behind re-reads the log). Small values
    /// are for tests of that fallback.
    pub async fn open_with_event_buffer(url: &str, event_buffer: usize) -> Result<SqliteStore> {
        let options = connect_options(url)?;
        let mut writer = options.clone().connect().await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut writer)
            .await
            .map_err(|e| StoreError::Database(format!("migrating the database: {e}")))?;
        // Commits never pay for a checkpoint: a background task checkpoints instead.
        writer.execute("PRAGMA wal_autocheckpoint = 0").await?;
        let checkpointer = options.clone().connect().await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options.read_only(true))
            .await?;
        let (jobs, rx) = mpsc::channel(MAX_BATCH * 4);
        let (events, _) = broadcast::channel(event_buffer.max(1));
        let ctx = WriteCtx {
            conn: writer,
            events: Vec::new(),
        };
        let observer = Arc::new(OnceLock::new());
        tokio::spawn(run_writer(ctx, rx, events.clone(), observer.clone()));
        tokio::spawn(run_checkpointer(checkpointer, jobs.downgrade()));
        Ok(SqliteStore {
            readers,
            jobs,
            events,
            observer,
        })
    }

    /// The bulk path for benchmarks and load tests: inserts `count` interactions of
    /// `division`, closed and finalized at `now_ms`, with the ids `id_of(i)`, in large
    /// transactions of multi-row INSERTs, without events (the event log describes changes
    /// made through the API; seeded data is the starting state). Returns how many were
    /// inserted.
    pub async fn seed_finalized(
        &self,
        division: Uuid,
        count: u64,
        now_ms: i64,
        id_of: impl Fn(u64) -> Uuid + Send + Sync + 'static,
    ) -> Result<u64> {
        const ROWS_PER_STATEMENT: u64 = 500;
        const ROWS_PER_TRANSACTION: u64 = 100_000;
        let id_of = Arc::new(id_of);
        let mut done = 0;
        while done < count {
            let end = (done + ROWS_PER_TRANSACTION).min(count);
            let (start, id_of) = (done, id_of.clone());
            self.write(move |ctx| {
                Box::pin(async move {
                    let mut i = start;
                    while i < end {
                        let last = (i + ROWS_PER_STATEMENT).min(end);
                        let mut insert = QueryBuilder::<Sqlite>::new(
                            "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, \
                             active_at, closed_at, finalize_due_at, finalized_at, version) ",
                        );
                        insert.push_values(i..last, |mut row, n| {
                            row.push_bind(id_of(n))
                                .push_bind(division)
                                .push_bind("voice")
                                .push_bind("closed")
                                .push_bind(true)
                                .push_bind(now_ms)
                                .push_bind(now_ms)
                                .push_bind(now_ms)
                                .push_bind(now_ms)
                                .push_bind(now_ms)
                                .push_bind(4_i64);
                        });
                        insert.build().execute(&mut ctx.conn).await?;
                        i = last;
                    }
                    Ok(())
                })
            })
            .await?;
            done = end;
        }
        Ok(done)
    }

    /// Runs `op` in the writer's next batch and returns its result once committed.
    async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut WriteCtx) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |ctx| {
            Box::pin(async move {
                let result = op(ctx).await;
                let fatal = matches!(result, Err(StoreError::Database(_)));
                let finish: Finish = Box::new(move || {
                    let _ = tx.send(result);
                });
                (fatal, finish)
            })
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Database(
                "the write was not committed (see the server log)".into(),
            ))
        })
    }
}

/// The options every connection of the store uses: WAL, `synchronous=FULL`, a busy
/// timeout, foreign keys.
pub fn connect_options(url: &str) -> Result<SqliteConnectOptions> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        // The writer and the reader pool are separate connections, and each in-memory
        // connection is its own database.
        return Err(StoreError::Database(
            "in-memory SQLite databases are not supported; use a file, e.g. sqlite:///tmp/wrapup.db".into(),
        ));
    }
    let url = if url.starts_with("sqlite:") {
        url.to_string()
    } else {
        format!("sqlite://{url}")
    };
    Ok(SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .log_statements(tracing::log::LevelFilter::Trace))
}

/// How often the background checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Checkpoints the WAL in the background (PASSIVE: it never blocks the writer or readers),
/// so that no commit stalls on a checkpoint and the WAL stays small. Runs until the store
/// is dropped (its job queue closes).
async fn run_checkpointer(mut conn: SqliteConnection, store: mpsc::WeakSender<Job>) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if store.upgrade().is_none() {
            // A last checkpoint, so a reopened database starts with a short WAL.
            let _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await;
            return;
        }
        let started = Instant::now();
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await
        {
            Ok((_, log, done)) if log > 0 => tracing::trace!(
                frames = log,
                checkpointed = done,
                ms = started.elapsed().as_secs_f64() * 1000.0,
                "checkpoint"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
        }
    }
}

async fn run_writer(
    mut ctx: WriteCtx,
    mut rx: mpsc::Receiver<Job>,
    events: broadcast::Sender<Arc<EventRecord>>,
    observer: Arc<OnceLock<Arc<dyn StoreObserver>>>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let started = Instant::now();
        let jobs = batch.len();
        ctx.events.clear();
        if let Err(e) = ctx.conn.execute("BEGIN IMMEDIATE").await {
            tracing::error!(error = %e, jobs = batch.len(), "could not start a write transaction");
            batch.clear();
            continue;
        }
        let mut finishes = Vec::with_capacity(batch.len());
        let mut poisoned = false;
        for job in batch.drain(..) {
            let (fatal, finish) = job(&mut ctx).await;
            poisoned |= fatal;
            finishes.push(finish);
        }
        let end = if poisoned { "ROLLBACK" } else { "COMMIT" };
        let ended = ctx.conn.execute(end).await;
        if let Some(observer) = observer.get() {
            observer.batch_committed(jobs, started.elapsed(), ended.is_ok() && !poisoned);
        }
        match ended {
            Ok(_) if !poisoned => {
                for event in ctx.events.drain(..) {
                    let _ = events.send(Arc::new(event));
                }
                finishes.into_iter().for_each(|f| f());
            }
            Ok(_) => tracing::error!(
                jobs = finishes.len(),
                "a write failed; its batch was rolled back"
            ),
            Err(e) => {
                tracing::error!(error = %e, jobs = finishes.len(), "commit failed; the batch was not acknowledged");
                let _ = ctx.conn.execute("ROLLBACK").await;
            }
        }
    }
}

/// Maps a statement error: constraint violations are the caller's problem and leave the
/// transaction usable; anything else poisons the batch.
fn constraint_or_db(e: sqlx::Error, conflict: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if matches!(db.kind(), ErrorKind::UniqueViolation) => {
            StoreError::Conflict(conflict())
        }
        sqlx::Error::Database(db) if matches!(db.kind(), ErrorKind::ForeignKeyViolation) => {
            StoreError::NotFound
        }
        _ => StoreError::from(e),
    }
}

// ---- row mapping ---------------------------------------------------------------------

const INTERACTION_COLUMNS: &str = "seq, id, division_id, channel, state, finalized, created_at, active_at, \
     closed_at, finalize_due_at, finalized_at, wrapup_code_id, wrapup_code_name, wrapup_duration_ms, \
     wrapup_notes, wrapup_applied_at, wrapup_applied_by, version";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(format!("stored {what} \"{value}\" is not valid"))
}

fn interaction_from_row(row: &SqliteRow) -> Result<InteractionRecord> {
    let channel: String = row.try_get("channel")?;
    let state: String = row.try_get("state")?;
    let opt_time =
        |col: &str| -> Result<_> { Ok(row.try_get::<Option<i64>, _>(col)?.map(from_millis)) };
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

const CODE_COLUMNS: &str =
    "seq, id, division_id, name, description, archived, date_created, date_modified";

fn code_from_row(row: &SqliteRow) -> Result<CodeRecord> {
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

fn client_from_row(row: &SqliteRow) -> Result<ClientRecord> {
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

async fn load_interaction<'e, E: Executor<'e, Database = Sqlite>>(
    e: E,
    id: Uuid,
) -> Result<Option<InteractionRecord>> {
    let sql = format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE id = ?");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(interaction_from_row)
        .transpose()
}

async fn load_code<'e, E: Executor<'e, Database = Sqlite>>(
    e: E,
    id: Uuid,
) -> Result<Option<CodeRecord>> {
    let sql = format!("SELECT {CODE_COLUMNS} FROM wrapup_codes WHERE id = ?");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(code_from_row)
        .transpose()
}

async fn load_division<'e, E: Executor<'e, Database = Sqlite>>(
    e: E,
    id: Uuid,
) -> Result<Option<Division>> {
    Ok(sqlx::query("SELECT id, name FROM divisions WHERE id = ?")
        .bind(id)
        .fetch_optional(e)
        .await?
        .map(|row| Division {
            id: row.get("id"),
            name: row.get("name"),
        }))
}

/// Writes every column of an interaction back.
async fn save_interaction(conn: &mut SqliteConnection, rec: &InteractionRecord) -> Result<()> {
    let i = &rec.interaction;
    let ms = |t: Option<time::OffsetDateTime>| t.map(wrapup_types::timestamp::to_millis);
    let w = i.wrap_up.as_ref();
    sqlx::query(
        "UPDATE interactions SET state = ?, finalized = ?, active_at = ?, closed_at = ?, finalize_due_at = ?, \
         finalized_at = ?, wrapup_code_id = ?, wrapup_code_name = ?, wrapup_duration_ms = ?, wrapup_notes = ?, \
         wrapup_applied_at = ?, wrapup_applied_by = ?, version = ? WHERE id = ?",
    )
    .bind(i.state.as_str())
    .bind(i.finalized)
    .bind(ms(i.active_at))
    .bind(ms(i.closed_at))
    .bind(rec.finalize_due_ms)
    .bind(ms(i.finalized_at))
    .bind(w.map(|w| w.code_id))
    .bind(w.map(|w| w.code_name.clone()))
    .bind(w.map(|w| w.duration_ms as i64))
    .bind(w.and_then(|w| w.notes.clone()))
    .bind(ms(w.map(|w| w.applied_at)))
    .bind(w.map(|w| w.applied_by))
    .bind(i.version)
    .bind(i.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends the event describing a change, in the transaction of the change.
async fn append_event(
    ctx: &mut WriteCtx,
    kind: EventKind,
    rec: &InteractionRecord,
    now_ms: i64,
) -> Result<()> {
    let data =
        serde_json::to_string(&rec.interaction).map_err(|e| StoreError::Database(e.to_string()))?;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (kind, interaction_id, division_id, data, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
    )
    .bind(kind.as_str())
    .bind(rec.interaction.id)
    .bind(rec.interaction.division_id)
    .bind(data)
    .bind(now_ms)
    .fetch_one(&mut ctx.conn)
    .await?;
    ctx.events.push(EventRecord {
        seq,
        kind,
        division_id: rec.interaction.division_id,
        interaction: rec.interaction.clone(),
        created_ms: now_ms,
    });
    Ok(())
}

/// Marks a closed interaction finalized and records the event.
async fn finalize(ctx: &mut WriteCtx, rec: &mut InteractionRecord, now_ms: i64) -> Result<()> {
    rec.interaction.finalized = true;
    rec.interaction.finalized_at = Some(from_millis(now_ms));
    rec.interaction.version += 1;
    save_interaction(&mut ctx.conn, rec).await?;
    append_event(ctx, EventKind::Finalized, rec, now_ms).await
}

/// The state (step 5) and code (step 6) problems of a wrap-up, and the code when it can
/// be applied.
async fn assess(
    conn: &mut SqliteConnection,
    rec: &InteractionRecord,
    code_id: Option<Uuid>,
    grant: &DivisionGrant,
    now_ms: i64,
) -> Result<(Vec<ErrorDetail>, Option<WrapUpCode>)> {
    let i = &rec.interaction;
    let mut problems = Vec::new();
    problems.extend(lifecycle::check_ready(
        i.state,
        i.finalized,
        rec.finalize_due_ms,
        now_ms,
    ));
    let Some(code_id) = code_id else {
        return Ok((problems, None));
    };
    let code = load_code(&mut *conn, code_id).await?.map(|c| c.code);
    let visible = code.as_ref().is_some_and(|c| grant.allows(c.division_id));
    let mut names = HashMap::new();
    if let Some(c) = code
        .as_ref()
        .filter(|c| visible && c.division_id != i.division_id)
    {
        for id in [c.division_id, i.division_id] {
            if let Some(d) = load_division(&mut *conn, id).await? {
                names.insert(id, d.name);
            }
        }
    }
    let name_of = |id: Uuid| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "(unnamed)".into())
    };
    match check_code(code_id, code.as_ref(), visible, i.division_id, name_of) {
        Some(p) => {
            problems.push(p);
            Ok((problems, None))
        }
        None => Ok((problems, code)),
    }
}

/// Restricts a query to the granted divisions; `column` holds the division id.
fn push_grant(q: &mut QueryBuilder<'_, Sqlite>, column: &str, grant: &DivisionGrant) {
    if let DivisionGrant::Only(ids) = grant {
        q.push(format!(" AND {column} IN ("));
        let mut sep = q.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        sep.push_unseparated(")");
    }
}

impl SqliteStore {
    /// One page of a listing: `select` is `SELECT … FROM … WHERE seq > `; `filters` appends
    /// `AND …` clauses; rows outside the granted divisions (`grant_column`) are left out.
    async fn select_page<T>(
        &self,
        select: String,
        grant_column: &str,
        grant: &DivisionGrant,
        page: PageRequest,
        filters: impl FnOnce(&mut QueryBuilder<'static, Sqlite>),
        map: impl Fn(&SqliteRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        if matches!(grant, DivisionGrant::Only(ids) if ids.is_empty()) {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::new(select);
        q.push_bind(page.after.unwrap_or(0));
        filters(&mut q);
        push_grant(&mut q, grant_column, grant);
        q.push(" ORDER BY seq LIMIT ").push_bind(page.limit as i64);
        q.build()
            .fetch_all(&self.readers)
            .await?
            .iter()
            .map(map)
            .collect()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn health(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        if self.jobs.is_closed() {
            return Err(StoreError::Closed);
        }
        Ok(())
    }

    async fn create_division(&self, id: Uuid, name: &str, now_ms: i64) -> Result<Division> {
        let name = name.to_string();
        self.write(move |ctx| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO divisions (id, name, name_key, created_at) VALUES (?, ?, ?, ?)",
                )
                .bind(id)
                .bind(&name)
                .bind(name_key(&name))
                .bind(now_ms)
                .execute(&mut ctx.conn)
                .await
                .map_err(|e| {
                    constraint_or_db(e, || format!("a division named \"{name}\" already exists"))
                })?;
                Ok(Division { id, name })
            })
        })
        .await
    }

    async fn get_division(&self, id: Uuid) -> Result<Option<Division>> {
        load_division(&self.readers, id).await
    }

    async fn list_divisions(
        &self,
        grant: &DivisionGrant,
        page: PageRequest,
    ) -> Result<Vec<(i64, Division)>> {
        let select = "SELECT seq, id, name FROM divisions WHERE seq > ".to_string();
        self.select_page(
            select,
            "id",
            grant,
            page,
            |_| {},
            |r| {
                Ok((
                    r.try_get("seq")?,
                    Division {
                        id: r.try_get("id")?,
                        name: r.try_get("name")?,
                    },
                ))
            },
        )
        .await
    }

    async fn create_code(&self, code: &WrapUpCode) -> Result<CodeRecord> {
        let code = code.clone();
        self.write(move |ctx| {
            Box::pin(async move {
                let c = &code;
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO wrapup_codes (id, division_id, name, name_key, description, archived, date_created, \
                     date_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                )
                .bind(c.id)
                .bind(c.division_id)
                .bind(&c.name)
                .bind(name_key(&c.name))
                .bind(&c.description)
                .bind(c.archived)
                .bind(wrapup_types::timestamp::to_millis(c.date_created))
                .bind(wrapup_types::timestamp::to_millis(c.date_modified))
                .fetch_one(&mut ctx.conn)
                .await
                .map_err(|e| {
                    constraint_or_db(e, || format!("a wrap-up code named \"{}\" already exists in the division", c.name))
                })?;
                Ok(CodeRecord { code, seq })
            })
        })
        .await
    }

    async fn get_code(&self, id: Uuid) -> Result<Option<CodeRecord>> {
        load_code(&self.readers, id).await
    }

    async fn list_codes(
        &self,
        grant: &DivisionGrant,
        filter: &CodeFilter,
        page: PageRequest,
    ) -> Result<Vec<CodeRecord>> {
        let filter = filter.clone();
        let select = format!("SELECT {CODE_COLUMNS} FROM wrapup_codes WHERE seq > ");
        let filters = move |q: &mut QueryBuilder<'static, Sqlite>| {
            if let Some(d) = filter.division {
                q.push(" AND division_id = ").push_bind(d);
            }
            if let Some(name) = &filter.name {
                q.push(" AND name_key = ").push_bind(name_key(name));
            }
            if !filter.include_archived {
                q.push(" AND archived = 0");
            }
        };
        self.select_page(select, "division_id", grant, page, filters, code_from_row)
            .await
    }

    async fn update_code(
        &self,
        id: Uuid,
        name: &str,
        description: Option<&str>,
        now_ms: i64,
    ) -> Result<CodeRecord> {
        let (name, description) = (name.to_string(), description.map(str::to_string));
        self.write(move |ctx| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE wrapup_codes SET name = ?, name_key = ?, description = ?, date_modified = ? WHERE id = ?",
                )
                .bind(&name)
                .bind(name_key(&name))
                .bind(&description)
                .bind(now_ms)
                .bind(id)
                .execute(&mut ctx.conn)
                .await
                .map_err(|e| {
                    constraint_or_db(e, || format!("a wrap-up code named \"{name}\" already exists in the division"))
                })?;
                load_code(&mut ctx.conn, id).await?.ok_or(StoreError::NotFound)
            })
        })
        .await
    }

    async fn archive_code(&self, id: Uuid, now_ms: i64) -> Result<CodeRecord> {
        self.write(move |ctx| {
            Box::pin(async move {
                sqlx::query("UPDATE wrapup_codes SET archived = 1, date_modified = ? WHERE id = ? AND archived = 0")
                    .bind(now_ms)
                    .bind(id)
                    .execute(&mut ctx.conn)
                    .await?;
                load_code(&mut ctx.conn, id).await?.ok_or(StoreError::NotFound)
            })
        })
        .await
    }

    async fn create_interaction(&self, new: &NewInteraction) -> Result<InteractionRecord> {
        let new = new.clone();
        self.write(move |ctx| {
            Box::pin(async move {
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, version) \
                     VALUES (?, ?, ?, 'queued', 0, ?, 1) RETURNING seq",
                )
                .bind(new.id)
                .bind(new.division_id)
                .bind(new.channel.as_str())
                .bind(new.now_ms)
                .fetch_one(&mut ctx.conn)
                .await
                .map_err(|e| constraint_or_db(e, || format!("interaction {} already exists", new.id)))?;
                let rec = InteractionRecord {
                    seq,
                    finalize_due_ms: None,
                    interaction: Interaction {
                        id: new.id,
                        division_id: new.division_id,
                        channel: new.channel,
                        state: InteractionState::Queued,
                        finalized: false,
                        created_at: from_millis(new.now_ms),
                        active_at: None,
                        closed_at: None,
                        finalized_at: None,
                        wrap_up: None,
                        version: 1,
                    },
                };
                append_event(ctx, EventKind::Created, &rec, new.now_ms).await?;
                Ok(rec)
            })
        })
        .await
    }

    async fn get_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>> {
        load_interaction(&self.readers, id).await
    }

    async fn list_interactions(
        &self,
        grant: &DivisionGrant,
        filter: &InteractionFilter,
        page: PageRequest,
    ) -> Result<Vec<InteractionRecord>> {
        let filter = filter.clone();
        let select = format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE seq > ");
        let filters = move |q: &mut QueryBuilder<'static, Sqlite>| {
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
        };
        self.select_page(
            select,
            "division_id",
            grant,
            page,
            filters,
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
        self.write(move |ctx| {
            Box::pin(async move {
                let mut rec = load_interaction(&mut ctx.conn, id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                lifecycle::check_move(rec.interaction.state, to)
                    .map_err(|p| StoreError::Rejected(vec![p]))?;
                let i = &mut rec.interaction;
                i.state = to;
                i.version += 1;
                match to {
                    InteractionState::Active => i.active_at = Some(from_millis(now_ms)),
                    InteractionState::Closed => {
                        i.closed_at = Some(from_millis(now_ms));
                        rec.finalize_due_ms = Some(now_ms + settle_ms);
                    }
                    _ => {}
                }
                save_interaction(&mut ctx.conn, &rec).await?;
                append_event(ctx, EventKind::State, &rec, now_ms).await?;
                if to == InteractionState::Closed && settle_ms <= 0 {
                    finalize(ctx, &mut rec, now_ms).await?;
                }
                Ok(rec)
            })
        })
        .await
    }

    async fn apply_wrapup(&self, cmd: &ApplyWrapUp) -> Result<ApplyOutcome> {
        let cmd = cmd.clone();
        self.write(move |ctx| {
            Box::pin(async move {
                let mut rec = load_interaction(&mut ctx.conn, cmd.interaction_id)
                    .await?
                    .filter(|r| cmd.divisions.allows(r.interaction.division_id))
                    .ok_or(StoreError::NotFound)?;
                let i = &rec.interaction;
                // The timer may not have fired yet for an interaction that is due: settle it now.
                if i.state == InteractionState::Closed
                    && !i.finalized
                    && rec.finalize_due_ms.is_some_and(|due| due <= cmd.now_ms)
                {
                    finalize(ctx, &mut rec, cmd.now_ms).await?;
                }
                let (problems, code) =
                    assess(&mut ctx.conn, &rec, Some(cmd.request.code_id), &cmd.divisions, cmd.now_ms).await?;
                let code = match code {
                    Some(code) if problems.is_empty() => code,
                    _ => return Err(StoreError::Rejected(problems)),
                };
                let req = &cmd.request;
                if let Some(w) = &rec.interaction.wrap_up {
                    if w.code_id == req.code_id && w.duration_ms == req.duration_ms && w.notes == req.notes {
                        return Ok(ApplyOutcome::Unchanged(rec));
                    }
                }
                let wrap_up = WrapUp {
                    code_id: code.id,
                    code_name: code.name,
                    duration_ms: req.duration_ms,
                    notes: req.notes.clone(),
                    applied_at: from_millis(cmd.now_ms),
                    applied_by: cmd.client_id,
                };
                sqlx::query(
                    "INSERT INTO wrapup_history (interaction_id, code_id, code_name, duration_ms, notes, applied_at, \
                     applied_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(cmd.interaction_id)
                .bind(wrap_up.code_id)
                .bind(&wrap_up.code_name)
                .bind(wrap_up.duration_ms as i64)
                .bind(&wrap_up.notes)
                .bind(cmd.now_ms)
                .bind(cmd.client_id)
                .execute(&mut ctx.conn)
                .await?;
                rec.interaction.wrap_up = Some(wrap_up);
                rec.interaction.state = InteractionState::Completed;
                rec.interaction.version += 1;
                save_interaction(&mut ctx.conn, &rec).await?;
                append_event(ctx, EventKind::WrapUp, &rec, cmd.now_ms).await?;
                Ok(ApplyOutcome::Applied(rec))
            })
        })
        .await
    }

    async fn assess_wrapup(
        &self,
        interaction: &InteractionRecord,
        code_id: Option<Uuid>,
        divisions: &DivisionGrant,
        now_ms: i64,
    ) -> Result<Vec<ErrorDetail>> {
        let mut conn = self.readers.acquire().await?;
        Ok(assess(&mut conn, interaction, code_id, divisions, now_ms)
            .await?
            .0)
    }

    async fn wrapup_history(&self, interaction_id: Uuid) -> Result<Vec<WrapUp>> {
        let rows = sqlx::query(
            "SELECT code_id, code_name, duration_ms, notes, applied_at, applied_by FROM wrapup_history \
             WHERE interaction_id = ? ORDER BY seq",
        )
        .bind(interaction_id)
        .fetch_all(&self.readers)
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
        self.write(move |ctx| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE finalized = 0 AND state = 'closed' \
                     AND finalize_due_at <= ? ORDER BY finalize_due_at LIMIT ?"
                );
                let rows = sqlx::query(&sql)
                    .bind(now_ms)
                    .bind(FINALIZE_BATCH)
                    .fetch_all(&mut ctx.conn)
                    .await?;
                let mut done = Vec::with_capacity(rows.len());
                for row in &rows {
                    let mut rec = interaction_from_row(row)?;
                    finalize(ctx, &mut rec, now_ms).await?;
                    done.push(rec);
                }
                Ok(done)
            })
        })
        .await
    }

    async fn next_finalize_due(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(finalize_due_at) FROM interactions WHERE finalized = 0 AND state = 'closed'",
        )
        .fetch_one(&self.readers)
        .await?)
    }

    async fn create_client(&self, client: &ClientRecord) -> Result<()> {
        let c = client.clone();
        self.write(move |ctx| {
            Box::pin(async move {
                let divisions = serde_json::to_string(&c.divisions).map_err(|e| StoreError::Database(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO oauth_clients (id, name, secret_hash, scopes, divisions, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                )
                .bind(c.id)
                .bind(&c.name)
                .bind(&c.secret_hash)
                .bind(c.scopes.to_string())
                .bind(divisions)
                .bind(c.created_ms)
                .execute(&mut ctx.conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn get_client(&self, id: Uuid) -> Result<Option<ClientRecord>> {
        sqlx::query("SELECT id, name, secret_hash, scopes, divisions, created_at FROM oauth_clients WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.readers)
            .await?
            .as_ref()
            .map(client_from_row)
            .transpose()
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<()> {
        let t = token.clone();
        self.write(move |ctx| {
            Box::pin(async move {
                sqlx::query("INSERT INTO access_tokens (hash, client_id, scopes, expires_at) VALUES (?, ?, ?, ?)")
                    .bind(&t.hash[..])
                    .bind(t.client_id)
                    .bind(t.scopes.to_string())
                    .bind(t.expires_ms)
                    .execute(&mut ctx.conn)
                    .await?;
                // Tokens expired for more than a week answer authentication.invalid from then on.
                sqlx::query("DELETE FROM access_tokens WHERE expires_at < ?")
                    .bind(t.expires_ms - 8 * 86_400_000)
                    .execute(&mut ctx.conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn get_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        let row = sqlx::query(
            "SELECT hash, client_id, scopes, expires_at FROM access_tokens WHERE hash = ?",
        )
        .bind(&hash[..])
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| {
            let scopes: String = r.try_get("scopes")?;
            Ok(TokenRecord {
                hash: *hash,
                client_id: r.try_get("client_id")?,
                scopes: ScopeSet::parse(&scopes).map_err(|s| corrupt("scope", &s))?,
                expires_ms: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(
            "SELECT seq, kind, division_id, data, created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after_seq)
        .bind(limit as i64)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let data: String = r.try_get("data")?;
                Ok(EventRecord {
                    seq: r.try_get("seq")?,
                    kind: EventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
                    division_id: r.try_get("division_id")?,
                    interaction: serde_json::from_str(&data)
                        .map_err(|_| corrupt("event data", &data))?,
                    created_ms: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.events.subscribe()
    }

    async fn event_bounds(&self) -> Result<EventBounds> {
        let pruned: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(PRUNED_THROUGH)
            .fetch_optional(&self.readers)
            .await?;
        // AUTOINCREMENT keeps the highest sequence number ever assigned here, even once
        // the rows are pruned.
        let latest: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
                .fetch_optional(&self.readers)
                .await?;
        Ok(EventBounds {
            pruned_through: match pruned {
                Some(v) => v.parse().map_err(|_| corrupt(PRUNED_THROUGH, &v))?,
                None => 0,
            },
            latest: latest.unwrap_or(0),
        })
    }

    async fn prune_events(&self, before_ms: i64) -> Result<u64> {
        self.write(move |ctx| {
            Box::pin(async move {
                let last: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE created_at < ?")
                        .bind(before_ms)
                        .fetch_one(&mut ctx.conn)
                        .await?;
                let Some(last) = last else { return Ok(0) };
                let deleted = sqlx::query("DELETE FROM events WHERE seq <= ?")
                    .bind(last)
                    .execute(&mut ctx.conn)
                    .await?
                    .rows_affected();
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET \
                     value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                )
                .bind(PRUNED_THROUGH)
                .bind(last.to_string())
                .execute(&mut ctx.conn)
                .await?;
                Ok(deleted)
            })
        })
        .await
    }

    fn set_observer(&self, observer: Arc<dyn StoreObserver>) {
        if self.observer.set(observer).is_err() {
            tracing::warn!("the store observer was already set; keeping the first");
        }
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.readers)
            .await?)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(move |ctx| {
            Box::pin(async move {
                sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                    .bind(&key)
                    .bind(&value)
                    .execute(&mut ctx.conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}
