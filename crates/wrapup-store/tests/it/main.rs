//! The store's integration tests, in one binary: `conformance` (every `Store` on both
//! backends), `migrations` (databases of earlier versions) and `shutdown` (the writer at its
//! limits). Tests run as threads of one process.

mod conformance;
mod migrations;
mod shutdown;
