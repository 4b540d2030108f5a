//! The PostgreSQL store, for several server nodes on one database.
//!
//! Writes (`writer.rs`, `write_tx.rs`): each node has one writer task, which runs the
//! writer's loop (`crate::writer`) with its transaction and group-commits, as on SQLite.
//! Interactions are read `FOR UPDATE`, so writes from different nodes to the same
//! interaction serialise in the database; a batch that fails is run again one write at a
//! time, so one bad write never fails its neighbours.
//!
//! Events: a batch writes its events last. It takes their numbers from the one row of
//! `event_counter`, whose lock it holds until it commits, so event numbers are assigned in
//! commit order across all nodes: whoever has read event N can read every event before it.
//! The batch also sends `NOTIFY wrapup_events, '<last number>'`, which PostgreSQL delivers
//! at commit. Each node runs a listener (`listener.rs`) and a tailer (`tailer.rs`) that
//! publishes events to the node's subscribers in strict number order, with no gap and no
//! repeat: its own commits directly, and the other nodes' by reading the log.
//!
//! The finalization timer runs on every node; `FOR UPDATE SKIP LOCKED` and the
//! `NOT finalized` condition make each interaction finalized (and its event written)
//! exactly once. Reads (`queries.rs` and the [`Store`] implementation below) use a pool of
//! connections. The webhook tables' writes and reads are `webhook_tx.rs` and `webhooks.rs`.

mod listener;
mod notifications;
mod queries;
mod tailer;
mod webhook_tx;
mod webhooks;
pub(crate) mod write_tx;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Row};
use tokio::sync::mpsc;
use uuid::Uuid;
use wrapup_types::{Division, DivisionGrant, ErrorDetail, WrapUp};

use self::listener::run_listener;
use self::queries::PgPageQuery;
use self::tailer::Tailer;
use self::writer::{PgCommitter, MAX_BATCH};
use crate::error::{DbFailure, Result, StoreError};
use crate::listing::{count_query, Listing, Searched};
use crate::ops;
use crate::records::{
    ClientRecord, CodeFilter, CodeRecord, CodeSearch, EventBounds, EventRecord, Found,
    InteractionFilter, InteractionRecord, PageRequest, QueueRecord, QueueSearch, Search,
    SharedInteraction, StateCount, TokenRecord, UserRecord,
};
use crate::schema::ResultRow;
use crate::schema::{
    self, client_columns, history_columns, interaction_columns, token_columns, EVENT_BUFFER,
    PRUNED_THROUGH,
};
use crate::store::Store;
use crate::webhooks::WebhookStore;
use crate::writer::{drain, Writer};

/// Connections for reads.
const READERS: u32 = 16;

/// The PostgreSQL implementation of [`Store`].
pub struct PgStore {
    pool: PgPool,
    writer: Writer,
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

/// The migrations of the PostgreSQL schema.
pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations/postgres")
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
        let (handle, queue) = Writer::new(MAX_BATCH * 4, event_buffer);
        let (committed, committed_rx) = mpsc::unbounded_channel();
        let (signals, signals_rx) = mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        let committer = PgCommitter {
            pool: writer,
            committed,
        };
        tokio::spawn(drain(queue, committer));
        tasks.push(tokio::spawn(run_listener(pool.clone(), signals)).abort_handle());
        let tailer = Tailer {
            pool: pool.clone(),
            events: handle.events().clone(),
            published: latest,
        };
        tasks.push(tokio::spawn(tailer.run(committed_rx, signals_rx)).abort_handle());
        Ok(PgStore {
            pool,
            writer: handle,
            tasks,
        })
    }

    /// An interaction, read (what [`Store::get_interaction`] and
    /// [`Store::get_interaction_shared`] answer).
    async fn read_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            interaction_columns!(),
            " FROM interactions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(schema::interaction).transpose()?)
    }

    /// One page of a listing, decoded by `decode`.
    async fn list<T>(
        &self,
        listing: Listing<'_>,
        grant: &DivisionGrant,
        page: PageRequest,
        decode: fn(&sqlx::postgres::PgRow) -> Result<T, DbFailure>,
    ) -> Result<Vec<T>> {
        let Some(query) = listing.page_query::<PgPageQuery>(grant, page) else {
            return Ok(Vec::new());
        };
        Ok(query.run(&self.pool, decode).await?)
    }

    /// A search: how many match, and the page.
    async fn search<T>(
        &self,
        searched: Searched<'_>,
        grant: &DivisionGrant,
        decode: fn(&sqlx::postgres::PgRow) -> Result<T, DbFailure>,
    ) -> Result<Found<T>> {
        let Some((count, page)) = searched.queries::<PgPageQuery>(grant) else {
            return Ok(Found {
                total: 0,
                items: Vec::new(),
            });
        };
        let total = count.run(&self.pool, |r| r.int(0)).await?;
        Ok(Found {
            total: total.first().copied().unwrap_or(0).max(0) as u64,
            items: page.run(&self.pool, decode).await?,
        })
    }
}

#[async_trait]
impl Store for PgStore {
    fn writer(&self) -> &Writer {
        &self.writer
    }

    async fn health(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        if self.writer.is_closed() {
            return Err(StoreError::Closed);
        }
        Ok(())
    }

    async fn get_division(&self, id: Uuid) -> Result<Option<Division>> {
        let mut conn = self.pool.acquire().await?;
        Ok(queries::division(&mut conn, id).await?)
    }

    async fn list_divisions(
        &self,
        grant: &DivisionGrant,
        page: PageRequest,
    ) -> Result<Vec<(i64, Division)>> {
        self.list(Listing::Divisions, grant, page, schema::division)
            .await
    }

    async fn get_code(&self, id: Uuid) -> Result<Option<CodeRecord>> {
        let mut conn = self.pool.acquire().await?;
        Ok(queries::code(&mut conn, id).await?)
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
        self.search(Searched::Codes(search), grant, schema::code)
            .await
    }

    async fn get_queue(&self, id: Uuid) -> Result<Option<QueueRecord>> {
        let mut conn = self.pool.acquire().await?;
        Ok(queries::queue(&mut conn, id).await?)
    }

    async fn search_queues(
        &self,
        grant: &DivisionGrant,
        search: &QueueSearch,
    ) -> Result<Found<QueueRecord>> {
        self.search(Searched::Queues(search), grant, schema::queue)
            .await
    }

    async fn get_user(&self, id: Uuid) -> Result<Option<UserRecord>> {
        let mut conn = self.pool.acquire().await?;
        Ok(queries::user(&mut conn, id).await?)
    }

    async fn search_users(
        &self,
        grant: &DivisionGrant,
        search: &Search,
    ) -> Result<Found<UserRecord>> {
        self.search(Searched::Users(search), grant, schema::user)
            .await
    }

    async fn next_timeout_due(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(acw_due_at) FROM interactions WHERE acw_due_at IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn list_codes(
        &self,
        grant: &DivisionGrant,
        filter: &CodeFilter,
        page: PageRequest,
    ) -> Result<Vec<CodeRecord>> {
        self.list(Listing::Codes(filter), grant, page, schema::code)
            .await
    }

    async fn get_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>> {
        self.read_interaction(id).await
    }

    async fn get_interaction_shared(&self, id: Uuid) -> Result<Option<Arc<SharedInteraction>>> {
        // No cache: every read goes to the database (other nodes write too).
        Ok(self
            .read_interaction(id)
            .await?
            .map(SharedInteraction::shared))
    }

    async fn list_interactions(
        &self,
        grant: &DivisionGrant,
        filter: &InteractionFilter,
        page: PageRequest,
    ) -> Result<Vec<InteractionRecord>> {
        self.list(
            Listing::Interactions(filter),
            grant,
            page,
            schema::interaction,
        )
        .await
    }

    async fn count_interactions(&self, grant: &DivisionGrant) -> Result<Vec<StateCount>> {
        let Some(query) = count_query::<PgPageQuery>(grant) else {
            return Ok(Vec::new());
        };
        Ok(query.run(&self.pool, schema::state_count).await?)
    }

    async fn wrapup_problems(
        &self,
        interaction: &InteractionRecord,
        code_id: Option<Uuid>,
        divisions: &DivisionGrant,
        now_ms: i64,
    ) -> Result<Vec<ErrorDetail>> {
        let mut conn = self.pool.acquire().await?;
        let (problems, _) =
            ops::load_and_check_wrapup(&mut *conn, interaction, code_id, divisions, now_ms).await?;
        Ok(problems)
    }

    async fn wrapup_history(&self, interaction_id: Uuid) -> Result<Vec<WrapUp>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            history_columns!(),
            " FROM wrapup_history WHERE interaction_id = $1 ORDER BY seq"
        ))
        .bind(interaction_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(schema::history_entry)
            .collect::<Result<_, DbFailure>>()?)
    }

    async fn next_finalize_due(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(finalize_due_at) FROM interactions WHERE NOT finalized AND state = 'closed'",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn get_client(&self, id: Uuid) -> Result<Option<ClientRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM oauth_clients WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(schema::client).transpose()?)
    }

    async fn get_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM access_tokens WHERE hash = $1"
        ))
        .bind(&hash[..])
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(|r| schema::token(r, *hash)).transpose()?)
    }

    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<EventRecord>> {
        Ok(queries::events_after(&self.pool, after_seq, limit).await?)
    }

    async fn event_bounds(&self) -> Result<EventBounds> {
        let row = sqlx::query(
            "SELECT (SELECT last FROM event_counter) AS latest, \
             (SELECT value FROM meta WHERE key = $1) AS pruned",
        )
        .bind(PRUNED_THROUGH)
        .fetch_one(&self.pool)
        .await?;
        Ok(EventBounds {
            pruned_through: schema::pruned_through(row.try_get("pruned")?)?,
            latest: row.try_get("latest")?,
        })
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    fn webhooks(&self) -> &dyn WebhookStore {
        self
    }

    fn notifications(&self) -> &dyn crate::NotificationStore {
        self
    }
}
