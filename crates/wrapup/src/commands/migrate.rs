//! `wrapup migrate`: create or migrate the database, then exit.

use crate::commands::db::DbArg;
use crate::exit;

/// The example of `wrapup migrate --help`.
pub const AFTER_HELP: &str = "Example:\n  wrapup migrate --db sqlite://wrapup.db";

pub async fn run(args: DbArg) -> anyhow::Result<u8> {
    args.open().await?;
    println!("{} is up to date.", args.shown());
    Ok(exit::OK)
}
