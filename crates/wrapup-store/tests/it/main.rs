//! The store's integration tests, in one binary: `conformance` (every `Store` on both
//! backends), `memory_map` (SQLite's readers through a memory map), `migrations` (databases of
//! earlier versions) and `shutdown` (the writer at its limits). Tests run as threads of one process.

mod conformance;
mod memory_map;
mod migrations;
mod shutdown;
