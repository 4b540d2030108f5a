//! The client's integration tests, in one binary: against the real server in-process
//! (`wrapup_server::testkit`) and, for what it cannot be made to show on demand (a 503, a
//! 429 without a body, a dropped stream), against the scripted server in `fake`.

mod apply;
mod concurrency;
mod doctor;
mod fake;
mod notifications;
mod retry;
mod transport;
