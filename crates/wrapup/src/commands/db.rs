//! The database the server commands work on directly (`--db`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

#[derive(Args)]
pub struct DbArg {
    /// Database URL: sqlite://PATH (created if missing), or
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE to run several nodes on one database
    /// (see docs/deployment.md). The schema is migrated on start.
    #[arg(
        long,
        env = "WRAPUP_DB",
        hide_env_values = true,
        default_value = "sqlite://wrapup.db"
    )]
    pub db: String,
}

impl DbArg {
    /// Opens (and migrates) the database.
    pub async fn open(&self) -> anyhow::Result<Arc<dyn wrapup_store::Store>> {
        wrapup_store::open(&self.db)
            .await
            .with_context(|| format!("opening {}", self.shown()))
    }

    /// Opens (and migrates) the database for `wrapup serve`, reading as `reads` says on
    /// SQLite.
    pub async fn open_for_serving(
        &self,
        reads: wrapup_store::SqliteReads,
    ) -> anyhow::Result<Arc<dyn wrapup_store::Store>> {
        wrapup_store::open_with_reads(&self.db, reads)
            .await
            .with_context(|| format!("opening {}", self.shown()))
    }

    /// The URL fit to print (no password).
    pub fn shown(&self) -> String {
        wrapup_store::redact_url(&self.db)
    }

    /// The SQLite file the URL names, made absolute (`None` for PostgreSQL).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        if wrapup_store::is_postgres(&self.db) {
            return None;
        }
        let options = wrapup_store::sqlite_connect_options(&self.db).ok()?;
        let path = options.get_filename();
        Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
    }

    /// The database as a person needs to know it: the URL, and for SQLite the file it
    /// resolved to (a relative path depends on the current directory).
    pub fn described(&self) -> String {
        match self.sqlite_file() {
            Some(file) => format!("{} ({})", self.shown(), file.display()),
            None => self.shown(),
        }
    }
}
