//! Throw-away databases for tests (feature `testing`): a SQLite file in a temporary
//! directory, or a fresh database on the PostgreSQL server that `WRAPUP_TEST_POSTGRES_URL`
//! names. Each is removed when the [`TestDb`] is dropped.
//!
//! Without `WRAPUP_TEST_POSTGRES_URL`, PostgreSQL tests are skipped (with a line on stderr)
//! unless `WRAPUP_REQUIRE_POSTGRES=1`, which CI sets so that a missing server fails the run
//! instead of passing it quietly.
//!
//! [`TestDb::from_env`] is what the server's test harness uses: SQLite, or PostgreSQL when
//! `WRAPUP_TEST_BACKEND=postgres`, so the whole API suite can run on either backend.

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::store::Store;

/// The variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "WRAPUP_TEST_POSTGRES_URL";
/// The variable choosing the backend of [`TestDb::from_env`]: `sqlite` (default) or
/// `postgres`.
pub const BACKEND_VAR: &str = "WRAPUP_TEST_BACKEND";

/// A database that exists for one test.
pub struct TestDb {
    /// The URL to open it with (`sqlite://…` or `postgres://…`).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// The server URL and the database name, to drop it afterwards.
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A new SQLite database file.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        TestDb {
            url: format!("sqlite://{}", dir.path().join("wrapup.db").display()),
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new, empty PostgreSQL database, or `None` (after saying so) when no server is
    /// configured. Panics when `WRAPUP_REQUIRE_POSTGRES=1` and none is.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(server) = std::env::var(POSTGRES_URL_VAR) else {
            if std::env::var("WRAPUP_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("WRAPUP_REQUIRE_POSTGRES=1 but {POSTGRES_URL_VAR} is not set");
            }
            eprintln!("skipped: set {POSTGRES_URL_VAR} to run the PostgreSQL tests");
            return None;
        };
        let name = format!("wrapup_test_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("connecting to {POSTGRES_URL_VAR} ({server}): {e}"));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("creating a test database: {e}"));
        let _ = conn.close().await;
        Some(TestDb {
            url: with_database(&server, &name),
            _dir: None,
            postgres: Some((server, name)),
        })
    }
}

impl TestDb {
    /// A database of the backend `WRAPUP_TEST_BACKEND` names (SQLite by default).
    pub async fn from_env() -> TestDb {
        match std::env::var(BACKEND_VAR).as_deref() {
            Ok("postgres") => Self::postgres()
                .await
                .unwrap_or_else(|| panic!("{BACKEND_VAR}=postgres needs {POSTGRES_URL_VAR}")),
            Ok("sqlite") | Err(_) => Self::sqlite(),
            Ok(other) => panic!("{BACKEND_VAR}={other}: use sqlite or postgres"),
        }
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// The SQLite database file, for tests that inspect it.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let dir = self._dir.as_ref()?;
        Some(dir.path().join("wrapup.db"))
    }

    /// Opens the store, keeping `event_buffer` committed events in memory for subscribers.
    pub async fn open(&self, event_buffer: usize) -> Arc<dyn Store> {
        if self.is_postgres() {
            Arc::new(
                PgStore::open_with_event_buffer(&self.url, event_buffer)
                    .await
                    .expect("opening the PostgreSQL test database"),
            )
        } else {
            Arc::new(
                SqliteStore::open_with_event_buffer(&self.url, event_buffer)
                    .await
                    .expect("opening the SQLite test database"),
            )
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop may run inside a runtime: use a thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&server).await {
                    let _ = conn
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(start);
    let query = rest.find('?').map_or("", |i| &rest[i..]);
    let authority = match rest.find('/') {
        Some(i) if i < rest.len() - query.len() => &rest[..i],
        _ => &rest[..rest.len() - query.len()],
    };
    format!("{head}{authority}/{database}{query}")
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
        assert_eq!(
            with_database("postgres://h?application_name=x", "t1"),
            "postgres://h/t1?application_name=x"
        );
    }
}
