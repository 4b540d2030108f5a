//! The store's integration tests, in one binary: `conformance` (every `Store` on both
//! backends) and `shutdown` (the writer at its limits). Tests run as threads of one process.

mod conformance;
mod shutdown;
