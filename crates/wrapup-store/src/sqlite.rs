//! The SQLite store: WAL mode, `synchronous=FULL`, one writer thread fed by a queue, a pool
//! of read-only connections.
//!
//! SQLite is used synchronously (rusqlite, cached prepared statements): a statement is a
//! direct call of microseconds, not a message to another thread. The writer is one OS
//! thread that group-commits: it takes every job waiting in its queue (up to
//! [`MAX_BATCH`]), runs them in one `BEGIN IMMEDIATE` transaction and commits once, so one
//! fsync covers the whole batch. A job's reply is sent only after the commit succeeded; if
//! the transaction fails, every job of the batch fails and nothing of it is acknowledged.
//! Reads run on the blocking thread pool with a connection from the reader pool. A
//! background task checkpoints the WAL every 100 ms, so a commit only finishes the little it
//! left (see [`WRITER_CHECKPOINT_PAGES`]), which keeps the WAL bounded. Migrations
//! are run with sqlx's migrator when the store opens.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::ConnectOptions;
use tokio::sync::{broadcast, mpsc, oneshot, Semaphore};
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
/// Read-only connections.
const READERS: usize = 8;
/// The WAL size (in pages) at which a commit finishes the checkpoint itself. The background
/// checkpointer copies most of the WAL back without blocking anyone, but under a continuous
/// write load it never catches up with the last frames, and only a checkpoint that completes
/// lets the next write start the WAL over: without this, the WAL grew by ~90 MB a second
/// under sustained PUTs (measured). The commit that crosses the threshold copies only what
/// the background checkpointer has not.
const WRITER_CHECKPOINT_PAGES: i64 = 1_000;
/// How often the background checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Sends a job's reply; called only after its batch committed. Dropping it fails the job.
type Finish = Box<dyn FnOnce() + Send>;
/// A write job: runs inside the batch transaction, says whether it failed in a way that
/// poisons the transaction, and hands back how to reply.
type Job = Box<dyn FnOnce(&mut WriteCtx) -> (bool, Finish) + Send>;

/// What a write job works with: the writer connection (inside the batch transaction), and
/// the events written so far in this batch (published once it commits).
pub(crate) struct WriteCtx {
    conn: Connection,
    events: Vec<EventRecord>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// A read-only connection and the snapshot it holds.
struct Reader {
    conn: Connection,
    /// While `Some(n)`, the connection holds an open read transaction begun when `n` write
    /// batches had committed.
    snapshot: Option<u64>,
}

/// The read-only connections, lent to one task at a time.
///
/// Beginning and ending a read transaction costs SQLite two `fcntl` locks on the WAL index
/// (about 10% of a GET's CPU time, measured). So a connection keeps its read transaction
/// open between uses for as long as no write batch has committed: `commits` counts them, and
/// the writer bumps it after each commit and before answering its jobs. A connection lent
/// out with an older snapshot ends it and begins anew, so every read still sees every write
/// acknowledged before it began. Idle connections give up old snapshots before each
/// checkpoint ([`Readers::release_idle`]), so they never hold the WAL back.
///
/// Commits of other processes (`wrapup clients create` while the server runs) do not bump
/// `commits`; the reads that must see them ([`Store::get_client`]) ask for a new snapshot.
struct Readers {
    conns: Mutex<Vec<Reader>>,
    available: Semaphore,
    commits: Arc<AtomicU64>,
}

impl Readers {
    /// Lends a connection to `op` (the caller holds a permit, so one is free); with
    /// `new_snapshot`, one that sees every commit, of any process, made before the call.
    fn with_connection<T>(
        &self,
        new_snapshot: bool,
        op: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let mut reader = self
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .ok_or(StoreError::Closed)?;
        if new_snapshot {
            Self::end(&mut reader);
        }
        let result = Self::fresh(&mut reader, self.commits.load(Ordering::Acquire))
            .and_then(|()| op(&reader.conn));
        if result.is_err() {
            // Whatever failed, start the next use from a clean slate.
            Self::end(&mut reader);
        }
        self.conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(reader);
        result
    }

    /// Makes sure `reader` reads a snapshot taken after `commits` batches committed.
    fn fresh(reader: &mut Reader, commits: u64) -> Result<()> {
        if reader.snapshot == Some(commits) {
            return Ok(());
        }
        Self::end(reader);
        // The snapshot itself is taken by the first read, after `commits` was loaded.
        reader.conn.execute_batch("BEGIN")?;
        reader.snapshot = Some(commits);
        Ok(())
    }

    fn end(reader: &mut Reader) {
        if reader.snapshot.take().is_some() && !reader.conn.is_autocommit() {
            let _ = reader.conn.execute_batch("COMMIT");
        }
    }

    /// Ends the outdated read transactions of the idle connections.
    fn release_idle(&self) {
        let commits = self.commits.load(Ordering::Acquire);
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        for reader in conns.iter_mut() {
            if reader.snapshot.is_some_and(|s| s != commits) {
                Self::end(reader);
            }
        }
    }
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    readers: Arc<Readers>,
    jobs: mpsc::Sender<Job>,
    events: broadcast::Sender<Arc<EventRecord>>,
    observer: Arc<OnceLock<Arc<dyn StoreObserver>>>,
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
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
        let path: PathBuf = options.get_filename().to_path_buf();
        {
            let mut migrator = options.clone().connect().await?;
            sqlx::migrate!("./migrations/sqlite")
                .run(&mut migrator)
                .await
                .map_err(|e| StoreError::Database(format!("migrating the database: {e}")))?;
            sqlx::Connection::close(migrator).await?;
        }
        let (writer, readers, checkpointer) = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || -> Result<_> {
                let writer = open_connection(&path, false)?;
                // Commits finish the checkpoint only past a threshold; the checkpointer does most of it.
                writer.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
                let readers = (0..READERS)
                    .map(|_| open_connection(&path, true))
                    .collect::<Result<Vec<_>>>()?;
                let checkpointer = open_connection(&path, false)?;
                Ok((writer, readers, checkpointer))
            })
            .await
            .map_err(|e| StoreError::Database(e.to_string()))??
        };
        let (jobs, rx) = mpsc::channel(MAX_BATCH * 4);
        let (events, _) = broadcast::channel(event_buffer.max(1));
        let observer = Arc::new(OnceLock::new());
        let commits = Arc::new(AtomicU64::new(0));
        let ctx = WriteCtx {
            conn: writer,
            events: Vec::new(),
        };
        let (published, watched, counted) = (events.clone(), observer.clone(), commits.clone());
        std::thread::Builder::new()
            .name("wrapup-sqlite-writer".into())
            .spawn(move || run_writer(ctx, rx, published, watched, counted))
            .map_err(|e| StoreError::Database(format!("starting the writer thread: {e}")))?;
        let readers = Arc::new(Readers {
            conns: Mutex::new(
                readers
                    .into_iter()
                    .map(|conn| Reader {
                        conn,
                        snapshot: None,
                    })
                    .collect(),
            ),
            available: Semaphore::new(READERS),
            commits,
        });
        tokio::spawn(run_checkpointer(
            checkpointer,
            readers.clone(),
            jobs.downgrade(),
        ));
        Ok(SqliteStore {
            readers,
            jobs,
            events,
            observer,
        })
    }

    /// Runs `op` in the writer's next batch and returns its result once committed.
    async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |ctx| {
            let result = op(ctx);
            let fatal = matches!(result, Err(StoreError::Database(_)));
            let finish: Finish = Box::new(move || {
                let _ = tx.send(result);
            });
            (fatal, finish)
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Database(
                "the write was not committed (see the server log)".into(),
            ))
        })
    }

    /// Runs a point read (one indexed row: microseconds from the page cache) with a
    /// read-only connection right here, on the calling thread: handing it to another
    /// thread would cost more than the read. Longer reads (pages, logs) use [`Self::read`].
    async fn read_now<T, F>(&self, op: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T>,
    {
        self.read_now_with(false, op).await
    }

    /// [`Self::read_now`], optionally on a new snapshot (see [`Readers`]).
    async fn read_now_with<T, F>(&self, new_snapshot: bool, op: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T>,
    {
        let _permit = self
            .readers
            .available
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        self.readers.with_connection(new_snapshot, op)
    }

    /// Runs `op` with a read-only connection on the blocking pool.
    async fn read<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .readers
            .available
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || readers.with_connection(false, op))
            .await
            .map_err(|e| StoreError::Database(format!("a read task failed: {e}")))?
    }
}

/// The options of the migrator connection: WAL, `synchronous=FULL`, a busy timeout,
/// foreign keys. Refuses in-memory databases.
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
    Ok(SqliteConnectOptions::from_str(&url)
        .map_err(|e| StoreError::Database(e.to_string()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .log_statements(tracing::log::LevelFilter::Trace))
}

/// Checkpoints the WAL in the background (PASSIVE: it never blocks the writer or readers),
/// so that no commit stalls on a checkpoint and the WAL stays small. Runs until the store
/// is dropped (its job queue closes).
async fn run_checkpointer(conn: Connection, readers: Arc<Readers>, store: mpsc::WeakSender<Job>) {
    let conn = Arc::new(Mutex::new(conn));
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let last = store.upgrade().is_none();
        let (conn, readers) = (conn.clone(), readers.clone());
        let result = tokio::task::spawn_blocking(move || {
            // Idle readers must not hold old snapshots, or the WAL could not be copied back.
            readers.release_idle();
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
        })
        .await;
        match result {
            Ok(Ok((log, done))) if log > 0 => {
                tracing::trace!(frames = log, checkpointed = done, "checkpoint")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
            Err(e) => tracing::warn!(error = %e, "the checkpoint task failed"),
        }
        if last {
            return;
        }
    }
}

/// The writer thread: takes every queued job, runs them in one transaction, commits once,
/// then replies and publishes the events. Ends when the store is dropped.
fn run_writer(
    mut ctx: WriteCtx,
    mut rx: mpsc::Receiver<Job>,
    events: broadcast::Sender<Arc<EventRecord>>,
    observer: Arc<OnceLock<Arc<dyn StoreObserver>>>,
    commits: Arc<AtomicU64>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let jobs = batch.len();
        ctx.events.clear();
        if let Err(e) = ctx.conn.execute_batch("BEGIN IMMEDIATE") {
            tracing::error!(error = %e, jobs, "could not start a write transaction");
            batch.clear();
            continue;
        }
        let mut finishes = Vec::with_capacity(jobs);
        let mut poisoned = false;
        for job in batch.drain(..) {
            let (fatal, finish) = job(&mut ctx);
            poisoned |= fatal;
            finishes.push(finish);
        }
        let ended = ctx
            .conn
            .execute_batch(if poisoned { "ROLLBACK" } else { "COMMIT" });
        if let Some(observer) = observer.get() {
            observer.batch_committed(jobs, started.elapsed(), ended.is_ok() && !poisoned);
        }
        match ended {
            Ok(()) if !poisoned => {
                // Before anyone hears of the commit: readers then take new snapshots.
                commits.fetch_add(1, Ordering::AcqRel);
                for event in ctx.events.drain(..) {
                    let _ = events.send(Arc::new(event));
                }
                finishes.into_iter().for_each(|f| f());
            }
            Ok(()) => tracing::error!(
                jobs = finishes.len(),
                "a write failed; its batch was rolled back"
            ),
            Err(e) => {
                tracing::error!(error = %e, jobs = finishes.len(), "commit failed; the batch was not acknowledged");
                let _ = ctx.conn.execute_batch("ROLLBACK");
            }
        }
    }
}

/// Maps a statement error: constraint violations are the caller's problem and leave the
/// transaction usable; anything else poisons the batch.
fn constraint_or_db(e: rusqlite::Error, conflict: impl FnOnce() -> String) -> StoreError {
    use rusqlite::ffi;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict(conflict())
        }
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
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

/// A row mapper's error: a column that could not be read, or a value that is not valid.
enum MapError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for MapError {
    fn from(e: rusqlite::Error) -> Self {
        MapError::Sql(e)
    }
}

impl From<MapError> for StoreError {
    fn from(e: MapError) -> Self {
        match e {
            MapError::Sql(e) => e.into(),
            MapError::Store(e) => e,
        }
    }
}

type Mapped<T> = std::result::Result<T, MapError>;

/// Reads an interaction selected as [`INTERACTION_COLUMNS`], by column position: looking
/// columns up by name was 8% of the instructions of a GET.
fn interaction_from_row(row: &Row<'_>) -> Mapped<InteractionRecord> {
    let channel: String = row.get(3)?;
    let state: String = row.get(4)?;
    let opt_time =
        |col: usize| -> Mapped<_> { Ok(row.get::<_, Option<i64>>(col)?.map(from_millis)) };
    let wrap_up = match row.get::<_, Option<Uuid>>(11)? {
        Some(code_id) => Some(WrapUp {
            code_id,
            code_name: row.get(12)?,
            duration_ms: row.get::<_, i64>(13)? as u32,
            notes: row.get(14)?,
            applied_at: from_millis(row.get(15)?),
            applied_by: row.get(16)?,
        }),
        None => None,
    };
    Ok(InteractionRecord {
        seq: row.get(0)?,
        finalize_due_ms: row.get(9)?,
        interaction: Interaction {
            id: row.get(1)?,
            division_id: row.get(2)?,
            channel: Channel::parse(&channel)
                .ok_or_else(|| MapError::Store(corrupt("channel", &channel)))?,
            state: InteractionState::parse(&state)
                .ok_or_else(|| MapError::Store(corrupt("state", &state)))?,
            finalized: row.get(5)?,
            created_at: from_millis(row.get(6)?),
            active_at: opt_time(7)?,
            closed_at: opt_time(8)?,
            finalized_at: opt_time(10)?,
            wrap_up,
            version: row.get(17)?,
        },
    })
}

const CODE_COLUMNS: &str =
    "seq, id, division_id, name, description, archived, date_created, date_modified";

fn code_from_row(row: &Row<'_>) -> Mapped<CodeRecord> {
    Ok(CodeRecord {
        seq: row.get("seq")?,
        code: WrapUpCode {
            id: row.get("id")?,
            name: row.get("name")?,
            division_id: row.get("division_id")?,
            description: row.get("description")?,
            archived: row.get("archived")?,
            date_created: from_millis(row.get("date_created")?),
            date_modified: from_millis(row.get("date_modified")?),
        },
    })
}

fn client_from_row(row: &Row<'_>) -> Mapped<ClientRecord> {
    let scopes: String = row.get("scopes")?;
    let divisions: String = row.get("divisions")?;
    Ok(ClientRecord {
        id: row.get("id")?,
        name: row.get("name")?,
        secret_hash: row.get("secret_hash")?,
        scopes: ScopeSet::parse(&scopes).map_err(|s| MapError::Store(corrupt("scope", &s)))?,
        divisions: serde_json::from_str(&divisions)
            .map_err(|_| MapError::Store(corrupt("division grant", &divisions)))?,
        created_ms: row.get("created_at")?,
    })
}

fn division_from_row(row: &Row<'_>) -> Mapped<Division> {
    Ok(Division {
        id: row.get("id")?,
        name: row.get("name")?,
    })
}

/// Runs a query for at most one row and maps it.
fn query_one<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl FnOnce(&Row<'_>) -> Mapped<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    match rows.next()? {
        Some(row) => Ok(Some(map(row)?)),
        None => Ok(None),
    }
}

/// Runs a query and maps every row.
fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl Fn(&Row<'_>) -> Mapped<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

fn load_interaction(conn: &Connection, id: Uuid) -> Result<Option<InteractionRecord>> {
    query_one(
        conn,
        &format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE id = ?"),
        [id],
        interaction_from_row,
    )
}

fn load_code(conn: &Connection, id: Uuid) -> Result<Option<CodeRecord>> {
    query_one(
        conn,
        &format!("SELECT {CODE_COLUMNS} FROM wrapup_codes WHERE id = ?"),
        [id],
        code_from_row,
    )
}

fn load_division(conn: &Connection, id: Uuid) -> Result<Option<Division>> {
    query_one(
        conn,
        "SELECT id, name FROM divisions WHERE id = ?",
        [id],
        division_from_row,
    )
}

/// Writes every column of an interaction back.
fn save_interaction(conn: &Connection, rec: &InteractionRecord) -> Result<()> {
    let i = &rec.interaction;
    let ms = |t: Option<time::OffsetDateTime>| t.map(to_millis);
    let w = i.wrap_up.as_ref();
    conn.prepare_cached(
        "UPDATE interactions SET state = ?, finalized = ?, active_at = ?, closed_at = ?, finalize_due_at = ?, \
         finalized_at = ?, wrapup_code_id = ?, wrapup_code_name = ?, wrapup_duration_ms = ?, wrapup_notes = ?, \
         wrapup_applied_at = ?, wrapup_applied_by = ?, version = ? WHERE id = ?",
    )?
    .execute(params![
        i.state.as_str(),
        i.finalized,
        ms(i.active_at),
        ms(i.closed_at),
        rec.finalize_due_ms,
        ms(i.finalized_at),
        w.map(|w| w.code_id),
        w.map(|w| w.code_name.clone()),
        w.map(|w| w.duration_ms as i64),
        w.and_then(|w| w.notes.clone()),
        ms(w.map(|w| w.applied_at)),
        w.map(|w| w.applied_by),
        i.version,
        i.id,
    ])?;
    Ok(())
}

/// Appends the event describing a change, in the transaction of the change.
fn append_event(
    ctx: &mut WriteCtx,
    kind: EventKind,
    rec: &InteractionRecord,
    now_ms: i64,
) -> Result<()> {
    let data =
        serde_json::to_string(&rec.interaction).map_err(|e| StoreError::Database(e.to_string()))?;
    let seq: i64 = ctx
        .conn
        .prepare_cached(
            "INSERT INTO events (kind, interaction_id, division_id, data, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
        )?
        .query_row(
            params![
                kind.as_str(),
                rec.interaction.id,
                rec.interaction.division_id,
                data,
                now_ms
            ],
            |r| r.get(0),
        )?;
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
fn finalize(ctx: &mut WriteCtx, rec: &mut InteractionRecord, now_ms: i64) -> Result<()> {
    rules::mark_finalized(rec, now_ms);
    save_interaction(&ctx.conn, rec)?;
    append_event(ctx, EventKind::Finalized, rec, now_ms)
}

/// The state and code problems of a wrap-up, and the code when it can be applied.
fn assess(
    conn: &Connection,
    rec: &InteractionRecord,
    code_id: Option<Uuid>,
    grant: &DivisionGrant,
    now_ms: i64,
) -> Result<(Vec<ErrorDetail>, Option<WrapUpCode>)> {
    let code = match code_id {
        Some(id) => load_code(conn, id)?.map(|c| c.code),
        None => None,
    };
    let mut names = HashMap::new();
    for id in rules::divisions_to_name(rec, code.as_ref(), grant) {
        if let Some(d) = load_division(conn, id)? {
            names.insert(id, d.name);
        }
    }
    Ok(rules::assess(rec, code_id, code, grant, &names, now_ms))
}

fn uuid_value(id: Uuid) -> Value {
    Value::Blob(id.as_bytes().to_vec())
}

/// A listing query under construction: SQL text and its parameters.
struct Select {
    sql: String,
    params: Vec<Value>,
}

impl Select {
    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    fn bind(&mut self, value: Value) -> &mut Self {
        self.sql.push('?');
        self.params.push(value);
        self
    }

    /// Restricts the rows to the granted divisions; `column` holds the division id.
    fn grant(&mut self, column: &str, grant: &DivisionGrant) {
        if let DivisionGrant::Only(ids) = grant {
            self.push(&format!(" AND {column} IN ("));
            for (n, id) in ids.iter().enumerate() {
                if n > 0 {
                    self.push(", ");
                }
                self.bind(uuid_value(*id));
            }
            self.push(")");
        }
    }
}

impl SqliteStore {
    /// One page of a listing: `select` is `SELECT … FROM … WHERE seq > `; `filters` appends
    /// `AND …` clauses; rows outside the granted divisions (`grant_column`) are left out.
    async fn select_page<T: Send + 'static>(
        &self,
        select: String,
        grant_column: &'static str,
        grant: &DivisionGrant,
        page: PageRequest,
        filters: impl FnOnce(&mut Select) + Send + 'static,
        map: fn(&Row<'_>) -> Mapped<T>,
    ) -> Result<Vec<T>> {
        if matches!(grant, DivisionGrant::Only(ids) if ids.is_empty()) {
            return Ok(Vec::new());
        }
        let grant = grant.clone();
        self.read(move |conn| {
            let mut q = Select {
                sql: select,
                params: Vec::new(),
            };
            q.bind(Value::Integer(page.after.unwrap_or(0)));
            filters(&mut q);
            q.grant(grant_column, &grant);
            q.push(" ORDER BY seq LIMIT ")
                .bind(Value::Integer(i64::from(page.limit)));
            query_all(
                conn,
                &q.sql,
                rusqlite::params_from_iter(q.params.iter()),
                map,
            )
        })
        .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn health(&self) -> Result<()> {
        self.read_now(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await?;
        if self.jobs.is_closed() {
            return Err(StoreError::Closed);
        }
        Ok(())
    }

    async fn create_division(&self, id: Uuid, name: &str, now_ms: i64) -> Result<Division> {
        let name = name.to_string();
        self.write(move |ctx| {
            ctx.conn
                .prepare_cached(
                    "INSERT INTO divisions (id, name, name_key, created_at) VALUES (?, ?, ?, ?)",
                )?
                .execute(params![id, name, name_key(&name), now_ms])
                .map_err(|e| {
                    constraint_or_db(e, || format!("a division named \"{name}\" already exists"))
                })?;
            Ok(Division { id, name })
        })
        .await
    }

    async fn get_division(&self, id: Uuid) -> Result<Option<Division>> {
        self.read_now(move |conn| load_division(conn, id)).await
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
            |r| Ok((r.get("seq")?, division_from_row(r)?)),
        )
        .await
    }

    async fn create_code(&self, code: &WrapUpCode) -> Result<CodeRecord> {
        let code = code.clone();
        self.write(move |ctx| {
            let c = &code;
            let seq: i64 = ctx
                .conn
                .prepare_cached(
                    "INSERT INTO wrapup_codes (id, division_id, name, name_key, description, archived, date_created, \
                     date_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                )?
                .query_row(
                    params![
                        c.id,
                        c.division_id,
                        c.name,
                        name_key(&c.name),
                        c.description,
                        c.archived,
                        to_millis(c.date_created),
                        to_millis(c.date_modified)
                    ],
                    |r| r.get(0),
                )
                .map_err(|e| {
                    constraint_or_db(e, || {
                        format!("a wrap-up code named \"{}\" already exists in the division", c.name)
                    })
                })?;
            Ok(CodeRecord { code, seq })
        })
        .await
    }

    async fn get_code(&self, id: Uuid) -> Result<Option<CodeRecord>> {
        self.read_now(move |conn| load_code(conn, id)).await
    }

    async fn list_codes(
        &self,
        grant: &DivisionGrant,
        filter: &CodeFilter,
        page: PageRequest,
    ) -> Result<Vec<CodeRecord>> {
        let filter = filter.clone();
        let select = format!("SELECT {CODE_COLUMNS} FROM wrapup_codes WHERE seq > ");
        let filters = move |q: &mut Select| {
            if let Some(d) = filter.division {
                q.push(" AND division_id = ").bind(uuid_value(d));
            }
            if let Some(name) = &filter.name {
                q.push(" AND name_key = ").bind(Value::Text(name_key(name)));
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
            ctx.conn
                .prepare_cached(
                    "UPDATE wrapup_codes SET name = ?, name_key = ?, description = ?, date_modified = ? WHERE id = ?",
                )?
                .execute(params![name, name_key(&name), description, now_ms, id])
                .map_err(|e| {
                    constraint_or_db(e, || {
                        format!("a wrap-up code named \"{name}\" already exists in the division")
                    })
                })?;
            load_code(&ctx.conn, id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn archive_code(&self, id: Uuid, now_ms: i64) -> Result<CodeRecord> {
        self.write(move |ctx| {
            ctx.conn
                .prepare_cached(
                    "UPDATE wrapup_codes SET archived = 1, date_modified = ? WHERE id = ? AND archived = 0",
                )?
                .execute(params![now_ms, id])?;
            load_code(&ctx.conn, id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn create_interaction(&self, new: &NewInteraction) -> Result<InteractionRecord> {
        let new = new.clone();
        self.write(move |ctx| {
            let seq: i64 = ctx
                .conn
                .prepare_cached(
                    "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, version) \
                     VALUES (?, ?, ?, 'queued', 0, ?, 1) RETURNING seq",
                )?
                .query_row(
                    params![new.id, new.division_id, new.channel.as_str(), new.now_ms],
                    |r| r.get(0),
                )
                .map_err(|e| {
                    constraint_or_db(e, || format!("interaction {} already exists", new.id))
                })?;
            let rec = rules::new_interaction(&new, seq);
            append_event(ctx, EventKind::Created, &rec, new.now_ms)?;
            Ok(rec)
        })
        .await
    }

    async fn get_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>> {
        self.read_now(move |conn| load_interaction(conn, id)).await
    }

    async fn list_interactions(
        &self,
        grant: &DivisionGrant,
        filter: &InteractionFilter,
        page: PageRequest,
    ) -> Result<Vec<InteractionRecord>> {
        let filter = filter.clone();
        let select = format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE seq > ");
        let filters = move |q: &mut Select| {
            if let Some(s) = filter.state {
                q.push(" AND state = ")
                    .bind(Value::Text(s.as_str().to_string()));
            }
            if let Some(d) = filter.division {
                q.push(" AND division_id = ").bind(uuid_value(d));
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
            let mut rec = load_interaction(&ctx.conn, id)?.ok_or(StoreError::NotFound)?;
            rules::move_state(&mut rec, to, now_ms, settle_ms)?;
            save_interaction(&ctx.conn, &rec)?;
            append_event(ctx, EventKind::State, &rec, now_ms)?;
            if rules::is_due(&rec, now_ms) {
                finalize(ctx, &mut rec, now_ms)?;
            }
            Ok(rec)
        })
        .await
    }

    async fn apply_wrapup(&self, cmd: &ApplyWrapUp) -> Result<ApplyOutcome> {
        let cmd = cmd.clone();
        self.write(move |ctx| {
            let mut rec = load_interaction(&ctx.conn, cmd.interaction_id)?
                .filter(|r| cmd.divisions.allows(r.interaction.division_id))
                .ok_or(StoreError::NotFound)?;
            // The timer may not have fired yet for an interaction that is due: settle it now.
            if rules::is_due(&rec, cmd.now_ms) {
                finalize(ctx, &mut rec, cmd.now_ms)?;
            }
            let (problems, code) = assess(
                &ctx.conn,
                &rec,
                Some(cmd.request.code_id),
                &cmd.divisions,
                cmd.now_ms,
            )?;
            let code = match code {
                Some(code) if problems.is_empty() => code,
                _ => return Err(StoreError::Rejected(problems)),
            };
            let Some(wrap_up) = rules::set_wrapup(&mut rec, &cmd, code) else {
                return Ok(ApplyOutcome::Unchanged(rec));
            };
            ctx.conn
                .prepare_cached(
                    "INSERT INTO wrapup_history (interaction_id, code_id, code_name, duration_ms, notes, applied_at, \
                     applied_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    cmd.interaction_id,
                    wrap_up.code_id,
                    wrap_up.code_name,
                    wrap_up.duration_ms as i64,
                    wrap_up.notes,
                    cmd.now_ms,
                    cmd.client_id
                ])?;
            save_interaction(&ctx.conn, &rec)?;
            append_event(ctx, EventKind::WrapUp, &rec, cmd.now_ms)?;
            Ok(ApplyOutcome::Applied(rec))
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
        let (rec, grant) = (interaction.clone(), divisions.clone());
        self.read(move |conn| Ok(assess(conn, &rec, code_id, &grant, now_ms)?.0))
            .await
    }

    async fn wrapup_history(&self, interaction_id: Uuid) -> Result<Vec<WrapUp>> {
        self.read(move |conn| {
            query_all(
                conn,
                "SELECT code_id, code_name, duration_ms, notes, applied_at, applied_by FROM wrapup_history \
                 WHERE interaction_id = ? ORDER BY seq",
                [interaction_id],
                |r| {
                    Ok(WrapUp {
                        code_id: r.get("code_id")?,
                        code_name: r.get("code_name")?,
                        duration_ms: r.get::<_, i64>("duration_ms")? as u32,
                        notes: r.get("notes")?,
                        applied_at: from_millis(r.get("applied_at")?),
                        applied_by: r.get("applied_by")?,
                    })
                },
            )
        })
        .await
    }

    async fn finalize_due(&self, now_ms: i64) -> Result<Vec<InteractionRecord>> {
        self.write(move |ctx| {
            let due = query_all(
                &ctx.conn,
                &format!(
                    "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE finalized = 0 AND state = 'closed' \
                     AND finalize_due_at <= ? ORDER BY finalize_due_at LIMIT ?"
                ),
                params![now_ms, FINALIZE_BATCH],
                interaction_from_row,
            )?;
            let mut done = Vec::with_capacity(due.len());
            for mut rec in due {
                finalize(ctx, &mut rec, now_ms)?;
                done.push(rec);
            }
            Ok(done)
        })
        .await
    }

    async fn next_finalize_due(&self) -> Result<Option<i64>> {
        self.read_now(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT MIN(finalize_due_at) FROM interactions WHERE finalized = 0 AND state = 'closed'",
                )?
                .query_row([], |r| r.get(0))?)
        })
        .await
    }

    async fn create_client(&self, client: &ClientRecord) -> Result<()> {
        let c = client.clone();
        self.write(move |ctx| {
            let divisions = serde_json::to_string(&c.divisions)
                .map_err(|e| StoreError::Database(e.to_string()))?;
            ctx.conn
                .prepare_cached(
                    "INSERT INTO oauth_clients (id, name, secret_hash, scopes, divisions, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![
                    c.id,
                    c.name,
                    c.secret_hash,
                    c.scopes.to_string(),
                    divisions,
                    c.created_ms
                ])?;
            Ok(())
        })
        .await
    }

    async fn get_client(&self, id: Uuid) -> Result<Option<ClientRecord>> {
        // `wrapup clients create` may have added it from another process just now.
        self.read_now_with(true, move |conn| {
            query_one(
                conn,
                "SELECT id, name, secret_hash, scopes, divisions, created_at FROM oauth_clients WHERE id = ?",
                [id],
                client_from_row,
            )
        })
        .await
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<()> {
        let t = token.clone();
        self.write(move |ctx| {
            ctx.conn
                .prepare_cached(
                    "INSERT INTO access_tokens (hash, client_id, scopes, expires_at) VALUES (?, ?, ?, ?)",
                )?
                .execute(params![&t.hash[..], t.client_id, t.scopes.to_string(), t.expires_ms])?;
            // Tokens expired for more than a week answer authentication.invalid from then on.
            ctx.conn
                .prepare_cached("DELETE FROM access_tokens WHERE expires_at < ?")?
                .execute([t.expires_ms - 8 * 86_400_000])?;
            Ok(())
        })
        .await
    }

    async fn get_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        let hash = *hash;
        self.read_now(move |conn| {
            query_one(
                conn,
                "SELECT client_id, scopes, expires_at FROM access_tokens WHERE hash = ?",
                [&hash[..]],
                |r| {
                    let scopes: String = r.get("scopes")?;
                    Ok(TokenRecord {
                        hash,
                        client_id: r.get("client_id")?,
                        scopes: ScopeSet::parse(&scopes)
                            .map_err(|s| MapError::Store(corrupt("scope", &s)))?,
                        expires_ms: r.get("expires_at")?,
                    })
                },
            )
        })
        .await
    }

    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<EventRecord>> {
        self.read(move |conn| {
            query_all(
                conn,
                "SELECT seq, kind, division_id, data, created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                params![after_seq, i64::from(limit)],
                |r| {
                    let kind: String = r.get("kind")?;
                    let data: String = r.get("data")?;
                    Ok(EventRecord {
                        seq: r.get("seq")?,
                        kind: EventKind::parse(&kind)
                            .ok_or_else(|| MapError::Store(corrupt("event kind", &kind)))?,
                        division_id: r.get("division_id")?,
                        interaction: serde_json::from_str(&data)
                            .map_err(|_| MapError::Store(corrupt("event data", &data)))?,
                        created_ms: r.get("created_at")?,
                    })
                },
            )
        })
        .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.events.subscribe()
    }

    async fn event_bounds(&self) -> Result<EventBounds> {
        self.read_now(|conn| {
            let pruned: Option<String> = conn
                .prepare_cached("SELECT value FROM meta WHERE key = ?")?
                .query_row([PRUNED_THROUGH], |r| r.get(0))
                .optional()?;
            // AUTOINCREMENT keeps the highest sequence number ever assigned here, even
            // once the rows are pruned.
            let latest: Option<i64> = conn
                .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'events'")?
                .query_row([], |r| r.get(0))
                .optional()?;
            Ok(EventBounds {
                pruned_through: match pruned {
                    Some(v) => v.parse().map_err(|_| corrupt(PRUNED_THROUGH, &v))?,
                    None => 0,
                },
                latest: latest.unwrap_or(0),
            })
        })
        .await
    }

    async fn prune_events(&self, before_ms: i64) -> Result<u64> {
        self.write(move |ctx| {
            let last: Option<i64> = ctx
                .conn
                .prepare_cached("SELECT MAX(seq) FROM events WHERE created_at < ?")?
                .query_row([before_ms], |r| r.get(0))?;
            let Some(last) = last else { return Ok(0) };
            let deleted = ctx
                .conn
                .prepare_cached("DELETE FROM events WHERE seq <= ?")?
                .execute([last])?;
            ctx.conn
                .prepare_cached(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET \
                     value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                )?
                .execute(params![PRUNED_THROUGH, last.to_string()])?;
            Ok(deleted as u64)
        })
        .await
    }

    fn set_observer(&self, observer: Arc<dyn StoreObserver>) {
        if self.observer.set(observer).is_err() {
            tracing::warn!("the store observer was already set; keeping the first");
        }
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_string();
        self.read_now(move |conn| {
            Ok(conn
                .prepare_cached("SELECT value FROM meta WHERE key = ?")?
                .query_row([key], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn seed_finalized(&self, division: Uuid, ids: Vec<Uuid>, now_ms: i64) -> Result<u64> {
        self.write(move |ctx| {
            let mut insert = ctx.conn.prepare_cached(
                "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, \
                 active_at, closed_at, finalize_due_at, finalized_at, version) \
                 VALUES (?, ?, 'voice', 'closed', 1, ?, ?, ?, ?, ?, 4)",
            )?;
            for id in &ids {
                insert.execute(params![
                    id, division, now_ms, now_ms, now_ms, now_ms, now_ms
                ])?;
            }
            Ok(ids.len() as u64)
        })
        .await
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(move |ctx| {
            ctx.conn
                .prepare_cached(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![key, value])?;
            Ok(())
        })
        .await
    }
}
