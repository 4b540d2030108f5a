//! What can go wrong. [`StoreError`] is what a caller of the store is told. [`DbFailure`]
//! is the store's own: the database failed (or holds a value that is not valid) in the
//! middle of a write, which ends the write's transaction, and with it the writer's batch.

/// What can go wrong in storage.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated (e.g. a code name in its division).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The domain rules refused the change; the problems say why.
    #[error("rejected: {0:?}")]
    Rejected(Vec<wrapup_types::ErrorDetail>),
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(String),
    /// The database refused to store a write (its disk is full, its file system is
    /// read-only, an I/O error): nothing of the write was committed. The text says why.
    #[error("the database could not write: {0}")]
    NotWritten(String),
    /// The write was committed but could not be made durable (SQLite's fsync after the
    /// commit failed): whether it survives a restart is unknown. The text says why.
    #[error("the write could not be made durable: {0}")]
    NotDurable(String),
    /// The store has shut down.
    #[error("the store is closed")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        DbFailure::from(e).into()
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        DbFailure::from(e).into()
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A failure of the database, or a stored value that is not valid. A write that meets one
/// cannot go on: its transaction is rolled back, with every write of its batch. Unlike a
/// refusal (not found, rejected, conflict: a [`StoreError`] the write answers with), which
/// leaves the transaction usable for the rest of the batch.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbFailure {
    /// A statement broke a uniqueness rule: on PostgreSQL, a race with another node's write
    /// that the write's own checks could not see.
    #[error("{0}")]
    UniqueViolation(String),
    /// A statement named a row that does not exist (a foreign key).
    #[error("{0}")]
    ForeignKeyViolation(String),
    /// The database could not store what it was given: its disk is full, its file system
    /// read-only, or an I/O error. The text says which, in words an operator acts on.
    #[error("{0}")]
    Storage(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl DbFailure {
    /// A stored value that is not valid.
    pub(crate) fn corrupt(what: &str, value: &str) -> DbFailure {
        DbFailure::Other(format!("stored {what} \"{value}\" is not valid"))
    }

    fn into_message(self) -> String {
        match self {
            DbFailure::UniqueViolation(m)
            | DbFailure::ForeignKeyViolation(m)
            | DbFailure::Storage(m)
            | DbFailure::Other(m) => m,
        }
    }
}

impl From<DbFailure> for StoreError {
    fn from(e: DbFailure) -> Self {
        match e {
            DbFailure::Storage(m) => StoreError::NotWritten(m),
            e => StoreError::Database(e.into_message()),
        }
    }
}

/// What a storage failure means for the operator, from the database's own words.
fn storage_failure(what: &str, message: &str) -> DbFailure {
    DbFailure::Storage(format!("{what} ({message})"))
}

impl From<sqlx::Error> for DbFailure {
    fn from(e: sqlx::Error) -> Self {
        let message = e.to_string();
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                DbFailure::UniqueViolation(message)
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                DbFailure::ForeignKeyViolation(message)
            }
            // PostgreSQL's SQLSTATE classes: 53 insufficient resources (53100 disk full),
            // 58 system errors (58030 I/O), 25006 a read-only transaction (a standby).
            sqlx::Error::Database(db) => match db.code().as_deref() {
                Some("53100") => storage_failure("the disk is full", &message),
                Some(c) if c.starts_with("58") => storage_failure("an I/O error", &message),
                Some("25006") => storage_failure("the database is read-only", &message),
                _ => DbFailure::Other(message),
            },
            _ => DbFailure::Other(message),
        }
    }
}

impl From<rusqlite::Error> for DbFailure {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        let message = e.to_string();
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                DbFailure::UniqueViolation(message)
            }
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
            {
                DbFailure::ForeignKeyViolation(message)
            }
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ffi::ErrorCode::DiskFull => storage_failure("the disk is full", &message),
                ffi::ErrorCode::SystemIoFailure => storage_failure("an I/O error", &message),
                ffi::ErrorCode::ReadOnly => storage_failure("the database is read-only", &message),
                ffi::ErrorCode::CannotOpen => {
                    storage_failure("the database file cannot be opened", &message)
                }
                _ => DbFailure::Other(message),
            },
            _ => DbFailure::Other(message),
        }
    }
}

impl From<serde_json::Error> for DbFailure {
    fn from(e: serde_json::Error) -> Self {
        DbFailure::Other(e.to_string())
    }
}
