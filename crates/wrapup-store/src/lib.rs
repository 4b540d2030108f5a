//! wrapup's storage: the [`Store`] trait, which speaks in domain operations (create an
//! interaction, apply a wrap-up, finalize what is due), and its implementations,
//! [`SqliteStore`] and [`PgStore`].
//!
//! Invariants every implementation keeps:
//! - A call that changes something returns only once the change is durable.
//! - Every change to an interaction writes an event row, with a global, strictly increasing
//!   sequence number, in the same transaction as the change; committed events are then
//!   published to [`Store::subscribe`] in sequence order.
//! - The checks that decide a wrap-up (state, finalization, code) run inside the
//!   transaction that applies it, so concurrent wrap-ups serialise cleanly.
//!
//! How it is built. One trait, [`Store`] (with [`WebhookStore`], reached through
//! [`Store::webhooks`]), implemented by each backend with no trait in between:
//! - Reads are the trait's required methods. Each backend implements them directly, with its
//!   query (`impl Store for SqliteStore` in `sqlite/mod.rs`, for `PgStore` in
//!   `postgres/mod.rs`, and their webhook reads in each backend's `webhooks.rs`). Adding a
//!   read is a method of the trait and its query in each backend.
//! - Writes are provided methods: each builds its operation and hands it to the store's
//!   [`Writer`], the one required accessor ([`Store::writer`]). An operation (`ops.rs`,
//!   `webhooks/ops.rs`) is one type implementing `WriteOp` (`write.rs`): its logic, written
//!   once, against `WriteTx`, the primitives of a write transaction, which each backend
//!   implements in its SQL (`write_tx.rs`, `webhook_tx.rs`). `rules.rs`: what a change does
//!   to an interaction, as pure functions. Adding a write is its operation type and its
//!   provided method, plus a `WriteTx` primitive per backend if it needs new SQL.
//! - The writer (`writer.rs`) is one per store and group-commits: the handle ([`Writer`]:
//!   the queue, the event channel, the observer, close) and the loop that drains the queue
//!   (batches up to a close marker, refuses what follows it, tells the observer, answers
//!   only after the commit) are written once. Each backend's `writer.rs` gives the loop its
//!   transaction: SQLite's writer thread (`BEGIN IMMEDIATE` … `COMMIT`, then the read cache
//!   forgets what the batch wrote and its events are published), PostgreSQL's writer task
//!   (preload, run, write back, commit; a failed batch runs each write again, alone).
//! - `records.rs`, `error.rs`: the values the trait speaks in. `schema.rs`: the column
//!   lists, how a row becomes a record, the constants of the stored data. `listing.rs`: the
//!   query of a page of a listing.
//!
//! Why a concrete writer handle rather than a trait over backends: what both backends share
//! is the writer, not the reads, so the writer is the shared piece and the reads stay each
//! backend's own. The queue holds `Box<dyn Job>`, one type for both backends (a job's vtable
//! has SQLite's run and PostgreSQL's), so a write costs what it did: one allocation for its
//! job, its answer channel, and no extra await. `webhooks/` is the storage of webhook
//! endpoints, their delivery queues and attempt logs. `testing.rs` (feature `testing`)
//! makes throw-away databases.

mod acw;
mod analytics;
mod error;
mod listing;
pub mod notifications;
mod ops;
mod postgres;
mod queue_ops;
mod records;
mod rules;
mod schema;
mod sqlite;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhooks;
mod write;
mod writer;

use std::sync::Arc;

pub use crate::analytics::StartedScan;
pub use crate::error::{Result, StoreError};
pub use crate::notifications::{ChannelChange, ChannelRecord, NotificationStore};
pub use crate::ops::ApplyWrapUp;
pub use crate::postgres::{migrator as postgres_migrator, PgStore};
pub use crate::records::{
    ClientRecord, CodeFilter, CodeRecord, CodeSearch, EventBounds, EventRecord, Found,
    InteractionFilter, InteractionRecord, NewInteraction, PageRequest, QueueRecord, QueueSearch,
    Search, SharedInteraction, SortKey, StateCount, TokenRecord, UserRecord, WrapUpApplied,
};
pub use crate::schema::EVENT_BUFFER;
pub use crate::sqlite::{
    connect_options as sqlite_connect_options, SqliteReads, SqliteStore, READ_CACHE_ENTRIES,
};
#[cfg(feature = "testing")]
pub use crate::sqlite::{SyncHold, WriterHold};
pub use crate::store::Store;
pub use crate::webhooks::WebhookStore;
pub use crate::writer::{StoreObserver, Writer};

/// Opens the store a database URL names, creating and migrating it if needed:
/// `postgres://…` (or `postgresql://…`) for PostgreSQL, `sqlite://path` (or a bare path) for
/// SQLite.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with_reads(url, SqliteReads::default()).await
}

/// [`open`], reading as `reads` says on SQLite (PostgreSQL has no read cache and no map).
pub async fn open_with_reads(url: &str, reads: SqliteReads) -> Result<Arc<dyn Store>> {
    if is_postgres(url) {
        return Ok(Arc::new(PgStore::open(url).await?));
    }
    Ok(Arc::new(
        SqliteStore::open_with(url, EVENT_BUFFER, reads).await?,
    ))
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
