//! One module per command: its arguments (clap) and what it does. What they share: the
//! wrap-up arguments of `apply` and `doctor`, paging, the `--db` argument of the server
//! commands. Printing is in `render.rs`, errors and exit codes in `output.rs`.

pub mod apply;
pub mod batch;
pub mod clients;
pub mod codes;
pub mod config;
pub mod db;
pub mod divisions;
pub mod doctor;
pub mod ids;
pub mod interactions;
pub mod lint;
pub mod migrate;
pub mod notifications;
pub mod pages;
pub mod queues;
pub mod seed;
pub mod serve;
pub mod serve_test_options;
pub mod simulate;
pub mod token;
pub mod users;
pub mod webhooks;
pub mod webhooks_listen;
pub mod wrapup_args;
