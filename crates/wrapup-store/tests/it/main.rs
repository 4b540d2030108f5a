//! The store's integration tests, in one binary: `batches` (what a write reads inside a batch
//! of others), `checkpoints` (SQLite's WAL copied back), `conformance` (every `Store` on both
//! backends), `memory_map` (SQLite's readers through a memory map), `migrations` (databases of
//! earlier versions), `shutdown` (the writer at its limits) and `warm_cache` (SQLite's read
//! cache filled at start-up). Tests run as threads of one
//! process.

mod batches;
mod checkpoints;
mod conformance;
mod memory_map;
mod migrations;
mod shutdown;
mod warm_cache;
