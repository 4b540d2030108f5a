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
//! How it is built. Both backends have one writer per process that group-commits: it runs
//! every write waiting in its queue in one transaction, commits once, and only then
//! answers. What is shared is written once:
//! - `store.rs`, `records.rs`, `error.rs`: the trait and the values it speaks in.
//! - `backend.rs`: the [`Store`] implementation, over what a backend provides (its writer
//!   queue, its reads).
//! - `ops.rs`: every write operation, one type each, implementing `WriteOp` (`write.rs`):
//!   the operation's logic, run by either backend's writer against `WriteTx`, the
//!   primitives of a write transaction. `rules.rs`: what a change does to an interaction.
//! - `schema.rs`: the column lists, how a row becomes a record, the constants of the stored
//!   data. `listing.rs`: the query of a page of a listing.
//!
//! Each backend (`sqlite/`, `postgres/`) implements `WriteTx` in its SQL, runs its writer,
//! and serves reads. Adding a write operation is a type in `ops.rs` and a `Store` method in
//! `store.rs` and `backend.rs`, plus a `WriteTx` primitive per backend if it needs new SQL.
//! `webhooks/` is the storage of webhook endpoints, their delivery queues and attempt logs
//! ([`WebhookStore`], reached through [`Store::webhooks`]). `testing.rs` (feature
//! `testing`) makes throw-away databases.

mod backend;
mod error;
mod listing;
mod ops;
mod postgres;
mod records;
mod rules;
mod schema;
mod sqlite;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhooks;
mod write;

use std::sync::Arc;

pub use crate::error::{Result, StoreError};
pub use crate::postgres::{migrator as postgres_migrator, PgStore};
pub use crate::records::{
    ApplyWrapUp, ClientRecord, CodeFilter, CodeRecord, CodeSearch, EventBounds, EventRecord, Found,
    InteractionFilter, InteractionRecord, NewInteraction, PageRequest, Search, SharedInteraction,
    SortKey, StateCount, TokenRecord, WrapUpApplied,
};
pub use crate::schema::EVENT_BUFFER;
pub use crate::sqlite::{
    connect_options as sqlite_connect_options, SqliteStore, READ_CACHE_ENTRIES,
};
pub use crate::store::{Store, StoreObserver};
pub use crate::webhooks::WebhookStore;

/// Opens the store a database URL names, creating and migrating it if needed:
/// `postgres://…` (or `postgresql://…`) for PostgreSQL, `sqlite://path` (or a bare path) for
/// SQLite.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with_read_cache(url, READ_CACHE_ENTRIES).await
}

/// [`open`], keeping at most `entries` interactions in the read cache on SQLite (0 turns it
/// off; PostgreSQL has none).
pub async fn open_with_read_cache(url: &str, entries: usize) -> Result<Arc<dyn Store>> {
    if is_postgres(url) {
        return Ok(Arc::new(PgStore::open(url).await?));
    }
    Ok(Arc::new(
        SqliteStore::open_with(url, EVENT_BUFFER, entries).await?,
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
