//! The server's integration tests, in one binary (one link of the server instead of one
//! per file). Each module was a test binary of its own; they now run as threads of one
//! process, so none may change process-wide state (environment, current directory, the
//! global tracing dispatcher except through `logs`). The harness is
//! `wrapup_server::testkit`; snapshots are in `snapshots/`, named `it__<module>__<name>`.

mod access;
mod api;
mod auth_limits;
mod bulk_wrapups;
mod chaos;
mod clock;
mod connections;
mod console;
mod disk_full;
mod docs_reference;
mod error_bodies;
mod events;
mod genesys_analytics;
mod genesys_conversations;
mod genesys_listings;
mod genesys_support;
mod genesys_wrapups;
mod logs;
mod notifications;
mod openapi;
mod ops;
mod properties;
mod queues;
mod read_cache;
mod roundtrip;
mod webhooks;
mod wrapup;
