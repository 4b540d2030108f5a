//! The `wrapup` command's integration tests, in one binary: real `wrapup` processes
//! (`CARGO_BIN_EXE_wrapup`, started through `common`) and in-process servers
//! (`wrapup_server::testkit`). Tests run as threads of one process.

mod batch;
mod cli;
mod client_cli;
mod common;
mod first_hour;
mod multinode;
mod notifications;
mod second_hour;
mod shutdown;
mod test_options;
mod webhooks;
