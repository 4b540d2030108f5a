//! The SQLite store: WAL mode, every write answered once its commit is on disk, one writer
//! thread fed by a queue, a syncer thread that makes its commits durable, a pool of
//! read-only connections.
//!
//! SQLite is used synchronously (rusqlite, cached prepared statements): a statement is a
//! direct call of microseconds, not a message to another thread. The parts:
//! - `writer.rs`: the writer thread, which runs the writer's loop (`crate::writer`) with its
//!   transaction (one `BEGIN IMMEDIATE` … `COMMIT` per batch of queued writes);
//!   `write_tx.rs`: the primitives the write operations (`ops.rs`) run with, in SQLite's SQL.
//! - `syncer.rs`: fsyncs the WAL after each commit, off the writer's thread (which runs the
//!   next batch meanwhile), then publishes the batch and answers its writes.
//! - `readers.rs`: the read-only connections, which keep their snapshot between uses until
//!   the writer commits; point reads run inline, longer ones on the blocking thread pool.
//!   `queries.rs`: the reads, which the [`Store`] implementation below runs.
//! - `read_cache.rs`: the cache of hot interactions, exact because the writer forgets what
//!   it wrote before it answers; `warm.rs` fills it when the server asks.
//! - `checkpoint.rs`: the WAL checkpoints, which keep the WAL bounded.
//! - `webhook_tx.rs` and `webhooks.rs`: the webhook tables' writes and reads.
//!
//! Migrations are run with sqlx's migrator when the store opens.

mod checkpoint;
mod notifications;
mod queries;
mod read_cache;
mod readers;
mod syncer;
mod warm;
mod webhook_tx;
mod webhooks;
pub(crate) mod write_tx;
mod writer;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::ConnectOptions;
use uuid::Uuid;
use wrapup_types::{Division, DivisionGrant, ErrorDetail, WrapUp};

use self::checkpoint::{run_checkpointer, WRITER_CHECKPOINT_PAGES};
use self::queries::Select;
use self::read_cache::ReadCache;
use self::readers::{Readers, READERS};
#[cfg(feature = "testing")]
pub use self::syncer::SyncHold;
use self::syncer::{Publish, Syncer};
use self::write_tx::{run_ready, SqliteWriteTx};
#[cfg(feature = "testing")]
pub use self::writer::WriterHold;
use self::writer::{run_writer, SqliteCommitter, MAX_BATCH};
use crate::analytics::{started_queries, StartedScan};
use crate::error::{DbFailure, Result, StoreError};
use crate::listing::{count_query, Listing, Searched};
use crate::ops;
use crate::records::{
    ClientRecord, CodeFilter, CodeRecord, CodeSearch, EventBounds, EventRecord, Found,
    InteractionFilter, InteractionRecord, PageRequest, QueueRecord, QueueSearch, Search,
    SharedInteraction, StateCount, TokenRecord, UserRecord,
};
use crate::schema::ResultRow;
use crate::schema::{self, EVENT_BUFFER};
use crate::store::Store;
use crate::webhooks::WebhookStore;
use crate::writer::Writer;

/// How many hot interactions a SQLite store keeps in its read cache by default (about 1 KiB
/// each); see `read_cache.rs`.
pub const READ_CACHE_ENTRIES: usize = 100_000;

/// How a SQLite store reads (`wrapup serve --read-cache`, `--mmap-mib`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteReads {
    /// Hot interactions kept in the read cache (0 turns it off); see `read_cache.rs`.
    pub cache_entries: usize,
    /// Bytes of the database file each read-only connection maps into memory and reads
    /// there instead of copying pages with `pread` (0, the default: no map). Faster cold
    /// reads of a large database (docs/benchmarks.md), at the cost of a process RSS that
    /// counts the mapped pages once per connection, and of a crash (`SIGBUS`) instead of an
    /// error if the file cannot be read (docs/operations.md#reading-through-a-memory-map).
    pub mmap_bytes: u64,
}

impl Default for SqliteReads {
    fn default() -> SqliteReads {
        SqliteReads {
            cache_entries: READ_CACHE_ENTRIES,
            mmap_bytes: 0,
        }
    }
}

/// The writer connection's page cache, in KiB (SQLite's default is 2,000). The writer is
/// the only connection that writes, so its cache stays valid from one batch to the next;
/// with the default, a PUT at 100k interactions read 2.8 pages from the OS (`pread`), with
/// this 1.2, and the writer's CPU per PUT fell ~10%. At 10M interactions it does not pay
/// (fewer reads, but more CPU per PUT managing pages that do not fit): kept for the smaller
/// databases; docs/benchmarks.md has both. It costs at most this much memory, once.
const WRITER_CACHE_KIB: i64 = 64 * 1024;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    readers: Arc<Readers>,
    cache: Arc<ReadCache>,
    writer: Writer,
    #[cfg(feature = "testing")]
    hooks: Arc<syncer::TestHooks>,
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

/// A read-only connection, reading through a memory map of up to `mmap_bytes` of the
/// database file when not 0 (SQLite caps it at its build's `SQLITE_MAX_MMAP_SIZE`, 64 GiB
/// here: `.cargo/config.toml`).
fn open_reader(path: &Path, mmap_bytes: u64) -> Result<Connection> {
    let conn = open_connection(path, true)?;
    if mmap_bytes > 0 {
        let mapped: u64 = conn.query_row(&format!("PRAGMA mmap_size = {mmap_bytes}"), [], |r| {
            r.get(0)
        })?;
        if mapped < mmap_bytes {
            tracing::warn!(
                asked = mmap_bytes,
                mapped,
                "SQLite maps less of the database than asked (its build's limit)"
            );
        }
    }
    Ok(conn)
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
        Self::open_with(url, event_buffer, SqliteReads::default()).await
    }

    /// Like [`SqliteStore::open_with_event_buffer`], reading as `reads` says.
    pub async fn open_with(
        url: &str,
        event_buffer: usize,
        reads: SqliteReads,
    ) -> Result<SqliteStore> {
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
                // The writer's commits do not wait for the disk: the syncer makes each durable
                // before anyone hears of it (syncer.rs). A first read opens (creates) the WAL,
                // which the syncer opens too.
                writer.pragma_update(None, "synchronous", "NORMAL")?;
                writer.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
                writer.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
                let readers = (0..READERS)
                    .map(|_| open_reader(&path, reads.mmap_bytes))
                    .collect::<Result<Vec<_>>>()?;
                let checkpointer = open_connection(&path, false)?;
                Ok((writer, readers, checkpointer))
            })
            .await
            .map_err(|e| StoreError::Database(e.to_string()))??
        };
        let commits = Arc::new(AtomicU64::new(0));
        let committed = Arc::new(tokio::sync::Notify::new());
        let cache = Arc::new(ReadCache::new(commits.clone(), reads.cache_entries));
        let (handle, queue) = Writer::new(MAX_BATCH * 4, event_buffer);
        #[cfg(feature = "testing")]
        let hooks = Arc::new(syncer::TestHooks::default());
        let syncer = Syncer::start(
            &path,
            Publish {
                events: handle.events().clone(),
                commits: commits.clone(),
                cache: cache.clone(),
                committed: committed.clone(),
                #[cfg(feature = "testing")]
                hooks: hooks.clone(),
            },
        )
        .map_err(|e| StoreError::Database(format!("opening the database's WAL: {e}")))?;
        let committer = SqliteCommitter {
            tx: SqliteWriteTx {
                conn: writer,
                events: Vec::new(),
                touched: Vec::new(),
                codes: Default::default(),
            },
            syncer,
        };
        std::thread::Builder::new()
            .name("wrapup-sqlite-writer".into())
            .spawn(move || run_writer(queue, committer))
            .map_err(|e| StoreError::Database(format!("starting the writer thread: {e}")))?;
        let readers = Arc::new(Readers::new(readers, commits));
        tokio::spawn(run_checkpointer(
            checkpointer,
            readers.clone(),
            committed,
            handle.downgrade(),
        ));
        Ok(SqliteStore {
            readers,
            cache,
            writer: handle,
            #[cfg(feature = "testing")]
            hooks,
        })
    }

    /// For tests (feature `testing`): stops the syncer before its next fsync until the
    /// returned hold is dropped (`syncer.rs`).
    #[cfg(feature = "testing")]
    pub fn hold_syncs_for_tests(&self) -> syncer::SyncHold {
        self.hooks.hold()
    }

    /// For tests (feature `testing`): the syncer's next fsync fails, as on a failing disk
    /// (`syncer.rs`): its writes are answered [`StoreError::NotDurable`], and the store
    /// refuses every later write.
    #[cfg(feature = "testing")]
    pub fn fail_next_sync_for_tests(&self) {
        self.hooks.fail_next_sync();
    }

    /// For tests (feature `testing`): holds the writer's thread inside a batch of its own
    /// until the returned hold is dropped; returns once the writer is held. Writes queued
    /// meanwhile make its next batch together, in the order they were queued
    /// ([`SqliteStore::queued_writes_for_tests`] counts them).
    #[cfg(feature = "testing")]
    pub async fn hold_writer_for_tests(&self) -> writer::WriterHold {
        let (reached, held) = tokio::sync::oneshot::channel();
        let (release, released) = std::sync::mpsc::channel();
        let hold = writer::HoldWriter {
            reached: Some(reached),
            released,
        };
        if self.writer.queue(Box::new(hold)).await {
            let _ = held.await;
        }
        writer::WriterHold { _release: release }
    }

    /// For tests (feature `testing`): how many jobs wait in the writer's queue.
    #[cfg(feature = "testing")]
    pub fn queued_writes_for_tests(&self) -> usize {
        self.writer.queued()
    }

    /// For tests (feature `testing`): queues a write that fails after SQLite rolled its
    /// transaction back by itself (as after a full disk, `writer.rs`); its answer says
    /// whether it was acknowledged.
    #[cfg(feature = "testing")]
    pub async fn queue_rolled_back_write_for_tests(&self) -> tokio::sync::oneshot::Receiver<bool> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.writer
            .queue(Box::new(writer::FailRolledBack(answer)))
            .await;
        answered
    }

    /// For tests (feature `testing`): caps the database at `pages` pages, so the next write
    /// that needs another page fails as it would on a full disk (`SQLITE_FULL`); `None`
    /// lifts the cap. A cap below the current size holds the database at its current size.
    #[cfg(feature = "testing")]
    pub async fn cap_pages_for_tests(&self, pages: Option<u32>) {
        let (done, answered) = tokio::sync::oneshot::channel();
        let cap = writer::CapPages(pages.unwrap_or(u32::MAX - 1), done);
        if self.writer.queue(Box::new(cap)).await {
            let _ = answered.await;
        }
    }

    /// An interaction, read (what [`Store::get_interaction`] reads and the read cache
    /// keeps).
    async fn read_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>> {
        self.read_now(move |conn| Ok(queries::interaction(conn, id)?))
            .await
    }

    /// A point read, on the calling thread (see [`Readers::read_now`]).
    async fn read_now<T>(&self, op: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        self.readers.read_now(false, op).await
    }

    /// One page of a listing, decoded by `decode`.
    async fn list<T: Send + 'static>(
        &self,
        listing: Listing<'_>,
        grant: &DivisionGrant,
        page: PageRequest,
        decode: fn(&rusqlite::Row<'_>) -> Result<T, DbFailure>,
    ) -> Result<Vec<T>> {
        let Some(select) = listing.page_query::<Select>(grant, page) else {
            return Ok(Vec::new());
        };
        self.readers
            .read(move |conn| Ok(select.run(conn, decode)?))
            .await
    }

    /// A search: how many match, and the page, read in one snapshot.
    async fn search<T: Send + 'static>(
        &self,
        searched: Searched<'_>,
        grant: &DivisionGrant,
        decode: fn(&rusqlite::Row<'_>) -> Result<T, DbFailure>,
    ) -> Result<Found<T>> {
        let Some((count, page)) = searched.queries::<Select>(grant) else {
            return Ok(Found {
                total: 0,
                items: Vec::new(),
            });
        };
        self.readers
            .read(move |conn| {
                let total = count.run(conn, |r| r.int(0))?;
                Ok(Found {
                    total: total.first().copied().unwrap_or(0).max(0) as u64,
                    items: page.run(conn, decode)?,
                })
            })
            .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn writer(&self) -> &Writer {
        &self.writer
    }

    async fn health(&self) -> Result<()> {
        self.read_now(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await?;
        if self.writer.is_closed() {
            return Err(StoreError::Closed);
        }
        Ok(())
    }

    async fn get_division(&self, id: Uuid) -> Result<Option<Division>> {
        self.read_now(move |conn| Ok(queries::division(conn, id)?))
            .await
    }

    async fn list_divisions(
        &self,
        grant: &DivisionGrant,
        page: PageRequest,
    ) -> Result<Vec<(i64, Division)>> {
        self.list(Listing::Divisions, grant, page, |r| schema::division(r))
            .await
    }

    async fn search_divisions(
        &self,
        grant: &DivisionGrant,
        search: &Search,
    ) -> Result<Found<Division>> {
        self.search(Searched::Divisions(search), grant, |r| {
            Ok(schema::division(r)?.1)
        })
        .await
    }

    async fn search_codes(
        &self,
        grant: &DivisionGrant,
        search: &CodeSearch,
    ) -> Result<Found<CodeRecord>> {
        self.search(Searched::Codes(search), grant, |r| schema::code(r))
            .await
    }

    async fn get_code(&self, id: Uuid) -> Result<Option<CodeRecord>> {
        self.read_now(move |conn| Ok(queries::code(conn, id)?))
            .await
    }

    async fn list_codes(
        &self,
        grant: &DivisionGrant,
        filter: &CodeFilter,
        page: PageRequest,
    ) -> Result<Vec<CodeRecord>> {
        self.list(Listing::Codes(filter), grant, page, |r| schema::code(r))
            .await
    }

    async fn get_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>> {
        self.read_interaction(id).await
    }

    fn read_cache_entries(&self) -> Option<usize> {
        Some(self.cache.len())
    }

    async fn warm_read_cache(&self) -> Result<usize> {
        warm::warm(&self.readers, &self.cache, || self.writer.is_closed()).await
    }

    async fn get_interaction_shared(&self, id: Uuid) -> Result<Option<Arc<SharedInteraction>>> {
        if let Some(hit) = self.cache.get(id) {
            return Ok(Some(hit));
        }
        let began = self.cache.read_begins();
        let Some(found) = self.read_interaction(id).await? else {
            return Ok(None);
        };
        let found = SharedInteraction::shared(found);
        self.cache.insert(found.clone(), began);
        Ok(Some(found))
    }

    async fn list_interactions(
        &self,
        grant: &DivisionGrant,
        filter: &InteractionFilter,
        page: PageRequest,
    ) -> Result<Vec<InteractionRecord>> {
        self.list(Listing::Interactions(filter), grant, page, |r| {
            schema::interaction(r)
        })
        .await
    }

    async fn interactions_started(
        &self,
        grant: &DivisionGrant,
        scan: &StartedScan,
    ) -> Result<Found<InteractionRecord>> {
        let Some((count, page)) = started_queries::<Select>(grant, scan) else {
            return Ok(Found {
                total: 0,
                items: Vec::new(),
            });
        };
        self.readers
            .read(move |conn| {
                let total = match count {
                    Some(count) => count.run(conn, |r| r.int(0))?.first().copied().unwrap_or(0),
                    None => 0,
                };
                Ok(Found {
                    total: total.max(0) as u64,
                    items: page.run(conn, |r| schema::interaction(r))?,
                })
            })
            .await
    }

    async fn count_interactions(&self, grant: &DivisionGrant) -> Result<Vec<StateCount>> {
        let Some(select) = count_query::<Select>(grant) else {
            return Ok(Vec::new());
        };
        self.readers
            .read(move |conn| Ok(select.run(conn, |r| schema::state_count(r))?))
            .await
    }

    async fn wrapup_problems(
        &self,
        interaction: &InteractionRecord,
        code_id: Option<Uuid>,
        divisions: &DivisionGrant,
        now_ms: i64,
    ) -> Result<Vec<ErrorDetail>> {
        let (rec, grant) = (interaction.clone(), divisions.clone());
        self.readers
            .read(move |conn| {
                let checked = run_ready(ops::load_and_check_wrapup(
                    conn, &rec, code_id, &grant, now_ms,
                ))?;
                Ok(checked?.0)
            })
            .await
    }

    async fn wrapup_history(&self, interaction_id: Uuid) -> Result<Vec<WrapUp>> {
        self.readers
            .read(move |conn| Ok(queries::history(conn, interaction_id)?))
            .await
    }

    async fn next_finalize_due(&self) -> Result<Option<i64>> {
        self.read_now(|conn| Ok(queries::next_finalize_due(conn)?))
            .await
    }

    async fn next_timeout_due(&self) -> Result<Option<i64>> {
        self.read_now(|conn| Ok(queries::next_timeout_due(conn)?))
            .await
    }

    async fn get_queue(&self, id: Uuid) -> Result<Option<QueueRecord>> {
        self.read_now(move |conn| Ok(queries::queue(conn, id)?))
            .await
    }

    async fn search_queues(
        &self,
        grant: &DivisionGrant,
        search: &QueueSearch,
    ) -> Result<Found<QueueRecord>> {
        self.search(Searched::Queues(search), grant, |r| schema::queue(r))
            .await
    }

    async fn get_user(&self, id: Uuid) -> Result<Option<UserRecord>> {
        self.read_now(move |conn| Ok(queries::user(conn, id)?))
            .await
    }

    async fn search_users(
        &self,
        grant: &DivisionGrant,
        search: &Search,
    ) -> Result<Found<UserRecord>> {
        self.search(Searched::Users(search), grant, |r| schema::user(r))
            .await
    }

    async fn get_client(&self, id: Uuid) -> Result<Option<ClientRecord>> {
        // `wrapup clients create` may have added it from another process just now.
        self.readers
            .read_now(true, move |conn| Ok(queries::client(conn, id)?))
            .await
    }

    async fn get_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        let hash = *hash;
        self.read_now(move |conn| Ok(queries::token(conn, hash)?))
            .await
    }

    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<EventRecord>> {
        self.readers
            .read(move |conn| Ok(queries::events_after(conn, after_seq, limit)?))
            .await
    }

    async fn event_bounds(&self) -> Result<EventBounds> {
        self.read_now(|conn| Ok(queries::event_bounds(conn)?)).await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        self.read_now(move |conn| Ok(queries::meta(conn, key)?))
            .await
    }

    fn webhooks(&self) -> &dyn WebhookStore {
        self
    }

    fn notifications(&self) -> &dyn crate::notifications::NotificationStore {
        self
    }
}
