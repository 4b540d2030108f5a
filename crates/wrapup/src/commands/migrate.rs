//! `wrapup migrate`: create or migrate the database, then exit.

use crate::commands::db::DbArg;
use crate::exit;
use crate::help::examples;

/// The examples of `wrapup migrate --help`.
pub const HELP: &str = examples!(
    "wrapup migrate --db sqlite://wrapup.db",
    "WRAPUP_DB=postgres://wrapup:PASSWORD@db.internal:5432/wrapup wrapup migrate",
);

pub async fn run(args: DbArg) -> anyhow::Result<u8> {
    args.open().await?;
    println!("{} is up to date.", args.shown());
    Ok(exit::OK)
}
