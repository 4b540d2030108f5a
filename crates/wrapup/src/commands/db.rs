//! The database the server commands work on directly (`--db`).

use std::sync::Arc;

use anyhow::Context;
use clap::Args;

#[derive(Args)]
pub struct DbArg {
    /// Database URL: sqlite://PATH (created if missing), or
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE to run several nodes on one database
    /// (see docs/deployment.md). The schema is migrated on start.
    #[arg(long, env = "WRAPUP_DB", default_value = "sqlite://wrapup.db")]
    pub db: String,
}

impl DbArg {
    /// Opens (and migrates) the database.
    pub async fn open(&self) -> anyhow::Result<Arc<dyn wrapup_store::Store>> {
        wrapup_store::open(&self.db)
            .await
            .with_context(|| format!("opening {}", self.shown()))
    }

    /// The URL fit to print (no password).
    pub fn shown(&self) -> String {
        wrapup_store::redact_url(&self.db)
    }
}
