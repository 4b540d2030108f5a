//! Why a batch stops, and the error codes the batch itself gives rows.

use tokio::task::JoinError;
use wrapup_client::Error;

use crate::journal::JournalError;

/// The error code of a row whose interaction was not ready in time.
pub const WAIT_TIMEOUT: &str = "batch.wait.timeout";

/// Why a batch stopped before the end. Unfinished rows stay in the journal.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("reading the input: {0}")]
    Input(#[from] std::io::Error),
    #[error("line {line} differs from the one recorded in the journal {journal}: the input changed since the earlier run; use a new --journal for a new input")]
    InputChanged { line: u64, journal: String },
    #[error("the server kept failing ({0}); the batch stopped after its retries; run the same command again to resume")]
    Unreachable(Error),
    #[error("the server refused the credentials ({0}); the batch stopped")]
    Unauthorized(Error),
    /// A row's task panicked or was cancelled: a bug in the batch, not a problem of the
    /// input or the server. The journal holds what every other row reached.
    #[error("internal error: a row's task crashed ({0}); this is a bug in wrapup; the journal is intact: run the same command again to resume")]
    TaskCrashed(String),
}

impl From<JoinError> for BatchError {
    fn from(e: JoinError) -> Self {
        BatchError::TaskCrashed(e.to_string())
    }
}
