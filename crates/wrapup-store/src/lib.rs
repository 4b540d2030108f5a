//! wrapup's storage: the [`Store`] trait, which speaks in domain operations (create an
//! interaction, apply a wrap-up, finalize what is due), and its implementations.
//!
//! Invariants every implementation keeps:
//! - A call that changes something returns only once the change is durable.
//! - Every change to an interaction writes an event row, with a global, strictly increasing
//!   sequence number, in the same transaction as the change; committed events are then
//!   published to [`Store::subscribe`] in sequence order.
//! - The checks that decide a wrap-up (state, finalization, code) run inside the
//!   transaction that applies it, so concurrent wrap-ups serialise cleanly.

#![forbid(unsafe_code)]

mod postgres;
mod rules;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast;
use uuid::Uuid;
use wrapup_types::{
    Channel, Division, DivisionGrant, ErrorDetail, EventKind, Interaction, InteractionState,
    ScopeSet, WrapUp, WrapUpCode, WrapUpRequest,
};

pub use postgres::{migrator as postgres_migrator, PgStore};
pub use sqlite::{connect_options as sqlite_connect_options, SqliteStore, EVENT_BUFFER};

/// What can go wrong in storage.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated (e.g. a code name in its division).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The domain rules refused the change; the problems say why.
    #[error("rejected: {0:?}")]
    Rejected(Vec<ErrorDetail>),
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(String),
    /// The store has shut down.
    #[error("the store is closed")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An interaction as stored, with what the API object does not show.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionRecord {
    pub interaction: Interaction,
    /// Position in listing order (for cursors).
    pub seq: i64,
    /// When a closed interaction is (or was) due to be finalized, in ms since the epoch.
    pub finalize_due_ms: Option<i64>,
}

/// A wrap-up code as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeRecord {
    pub code: WrapUpCode,
    pub seq: i64,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// The global sequence number: the event id on the stream.
    pub seq: i64,
    pub kind: EventKind,
    pub division_id: Uuid,
    pub interaction: Interaction,
    pub created_ms: i64,
}

/// The range of the stored event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventBounds {
    /// Every event with a sequence number up to this one has been pruned (0: none).
    pub pruned_through: i64,
    /// The highest sequence number ever assigned (0: no event yet).
    pub latest: i64,
}

/// Told about the store's work, for metrics. Must not block.
pub trait StoreObserver: Send + Sync + 'static {
    /// A write batch of `jobs` jobs committed (or failed) after `elapsed`.
    fn batch_committed(&self, jobs: usize, elapsed: std::time::Duration, ok: bool);
}

/// An OAuth client as stored; the secret only as an argon2 PHC string.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    pub id: Uuid,
    pub name: String,
    pub secret_hash: String,
    pub scopes: ScopeSet,
    pub divisions: DivisionGrant,
    pub created_ms: i64,
}

/// An access token as stored: only its SHA-256 hash.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub hash: [u8; 32],
    pub client_id: Uuid,
    pub scopes: ScopeSet,
    pub expires_ms: i64,
}

/// Filters of `GET /api/v2/interactions`.
#[derive(Debug, Clone, Default)]
pub struct InteractionFilter {
    pub state: Option<InteractionState>,
    pub division: Option<Uuid>,
    pub wrapped_up: Option<bool>,
}

/// Filters of `GET /api/v2/routing/wrapupcodes`.
#[derive(Debug, Clone, Default)]
pub struct CodeFilter {
    pub division: Option<Uuid>,
    /// Exact name, ignoring case.
    pub name: Option<String>,
    pub include_archived: bool,
}

/// One page of a listing: entities after the cursor position `after`, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<i64>,
    pub limit: u32,
}

/// A wrap-up to apply, with who applies it and what they may see.
#[derive(Debug, Clone)]
pub struct ApplyWrapUp {
    pub interaction_id: Uuid,
    pub request: WrapUpRequest,
    pub client_id: Uuid,
    pub divisions: DivisionGrant,
    pub now_ms: i64,
}

/// The result of a wrap-up that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyOutcome {
    /// The wrap-up was set or replaced.
    Applied(InteractionRecord),
    /// The same wrap-up was already in place; nothing changed.
    Unchanged(InteractionRecord),
}

/// A new interaction.
#[derive(Debug, Clone)]
pub struct NewInteraction {
    pub id: Uuid,
    pub division_id: Uuid,
    pub channel: Channel,
    pub now_ms: i64,
}

/// The storage interface of the server. See the crate docs for the invariants.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers once the store can serve requests.
    async fn health(&self) -> Result<()>;

    async fn create_division(&self, id: Uuid, name: &str, now_ms: i64) -> Result<Division>;
    async fn get_division(&self, id: Uuid) -> Result<Option<Division>>;
    async fn list_divisions(
        &self,
        grant: &DivisionGrant,
        page: PageRequest,
    ) -> Result<Vec<(i64, Division)>>;

    async fn create_code(&self, code: &WrapUpCode) -> Result<CodeRecord>;
    async fn get_code(&self, id: Uuid) -> Result<Option<CodeRecord>>;
    async fn list_codes(
        &self,
        grant: &DivisionGrant,
        filter: &CodeFilter,
        page: PageRequest,
    ) -> Result<Vec<CodeRecord>>;
    /// Renames or describes a code; `Conflict` if the name is taken in its division.
    async fn update_code(
        &self,
        id: Uuid,
        name: &str,
        description: Option<&str>,
        now_ms: i64,
    ) -> Result<CodeRecord>;
    /// Archives a code (idempotent).
    async fn archive_code(&self, id: Uuid, now_ms: i64) -> Result<CodeRecord>;

    async fn create_interaction(&self, new: &NewInteraction) -> Result<InteractionRecord>;
    async fn get_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>>;
    async fn list_interactions(
        &self,
        grant: &DivisionGrant,
        filter: &InteractionFilter,
        page: PageRequest,
    ) -> Result<Vec<InteractionRecord>>;
    /// Moves an interaction through its lifecycle. Closing sets the finalization deadline
    /// `settle_ms` from now (finalizing at once when it is 0). `Rejected` when the
    /// lifecycle does not allow the move.
    async fn set_state(
        &self,
        id: Uuid,
        to: InteractionState,
        now_ms: i64,
        settle_ms: i64,
    ) -> Result<InteractionRecord>;
    /// Applies a wrap-up after the state, finalization and code checks, all inside one
    /// transaction; `Rejected` with every problem found otherwise.
    async fn apply_wrapup(&self, cmd: &ApplyWrapUp) -> Result<ApplyOutcome>;
    /// The state and code problems a wrap-up of `code_id` would meet now, without changing
    /// anything (used to report every problem of an invalid body).
    async fn assess_wrapup(
        &self,
        interaction: &InteractionRecord,
        code_id: Option<Uuid>,
        divisions: &DivisionGrant,
        now_ms: i64,
    ) -> Result<Vec<ErrorDetail>>;
    async fn wrapup_history(&self, interaction_id: Uuid) -> Result<Vec<WrapUp>>;

    /// Finalizes every closed interaction whose settle time is at or before `now_ms`,
    /// writing its event. Returns the interactions finalized.
    async fn finalize_due(&self, now_ms: i64) -> Result<Vec<InteractionRecord>>;
    /// The earliest pending finalization deadline.
    async fn next_finalize_due(&self) -> Result<Option<i64>>;

    async fn create_client(&self, client: &ClientRecord) -> Result<()>;
    async fn get_client(&self, id: Uuid) -> Result<Option<ClientRecord>>;
    async fn insert_token(&self, token: &TokenRecord) -> Result<()>;
    async fn get_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>>;

    /// Stored events after `after_seq`, oldest first, at most `limit`.
    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<EventRecord>>;
    /// Committed events, as they commit.
    fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>>;
    /// The range of the event log: the last sequence number pruned and the last assigned.
    async fn event_bounds(&self) -> Result<EventBounds>;
    /// Deletes the events created before `before_ms`; returns how many were deleted.
    async fn prune_events(&self, before_ms: i64) -> Result<u64>;
    /// Installs the observer told about every committed write batch (for metrics).
    fn set_observer(&self, observer: Arc<dyn StoreObserver>);

    /// The bulk path for benchmarks and load tests: inserts interactions with these ids
    /// into `division`, closed and finalized at `now_ms`, in one transaction, without
    /// events (the event log describes changes made through the API; seeded data is the
    /// starting state). Returns how many were inserted.
    async fn seed_finalized(&self, division: Uuid, ids: Vec<Uuid>, now_ms: i64) -> Result<u64>;

    async fn get_meta(&self, key: &str) -> Result<Option<String>>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<()>;
}

/// Opens the store a database URL names, creating and migrating it if needed:
/// `postgres://…` (or `postgresql://…`) for PostgreSQL, `sqlite://path` (or a bare path) for
/// SQLite.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if is_postgres(url) {
        return Ok(Arc::new(PgStore::open(url).await?));
    }
    Ok(Arc::new(SqliteStore::open(url).await?))
}

/// A database URL fit to print: the password, if any, is replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..start],
            &authority[..colon],
            &url[start + at..]
        ),
        _ => url.to_string(),
    }
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cr@t@db:5432/wrapup"),
            "postgres://app:***@db:5432/wrapup"
        );
        assert_eq!(
            redact_url("postgres://app@db/wrapup"),
            "postgres://app@db/wrapup"
        );
        assert_eq!(redact_url("sqlite:///tmp/w.db"), "sqlite:///tmp/w.db");
        assert_eq!(redact_url("wrapup.db"), "wrapup.db");
    }
}
