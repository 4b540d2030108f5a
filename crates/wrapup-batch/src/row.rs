//! The row model: one wrap-up to apply as read from the input, a record that cannot be
//! one, and where a row stands while the batch works on it.

use std::time::{Duration, Instant};

use uuid::Uuid;
use wrapup_client::{CodeRef, InvalidWrapUp, ValidWrapUp};

/// One wrap-up to apply, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The record's line in the input (1-based): its key in the journal.
    pub line: u64,
    pub interaction_id: Uuid,
    pub code: CodeRef,
    pub duration: Duration,
    pub notes: Option<String>,
}

impl Row {
    /// The record in a canonical form, stored in the journal to notice a changed input.
    pub fn spec(&self) -> String {
        // The field order and `"notes":null` are part of the format: journals written
        // earlier are compared against it.
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Spec<'a> {
            interaction_id: Uuid,
            code: std::borrow::Cow<'a, str>,
            duration_ms: u64,
            notes: Option<&'a str>,
        }
        serde_json::to_string(&Spec {
            interaction_id: self.interaction_id,
            code: match &self.code {
                CodeRef::Id(id) => id.to_string().into(),
                CodeRef::Name(n) => n.as_str().into(),
            },
            duration_ms: self.duration.as_millis() as u64,
            notes: self.notes.as_deref(),
        })
        .expect("a spec serializes")
    }

    /// The wrap-up, once the code is known; refused with the server's own code.
    pub fn wrapup(&self, code_id: Uuid) -> Result<ValidWrapUp, RowError> {
        let invalid = |e: InvalidWrapUp| RowError {
            line: self.line,
            interaction_id: Some(self.interaction_id),
            code: e.code.as_str().to_string(),
            message: e.message,
        };
        let wrapup = ValidWrapUp::new(code_id, self.duration).map_err(invalid)?;
        match &self.notes {
            Some(notes) => wrapup.with_notes(notes.clone()).map_err(invalid),
            None => Ok(wrapup),
        }
    }
}

/// A record that cannot be a wrap-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {code}: {message}")]
pub struct RowError {
    pub line: u64,
    /// The interaction, when the record named a valid one.
    pub interaction_id: Option<Uuid>,
    /// An API error code when one fits (e.g. `wrapup.duration.invalid`), else `row.invalid`.
    pub code: String,
    pub message: String,
}

/// A row whose interaction is not ready yet.
#[derive(Debug, Clone)]
pub(crate) struct WaitingRow {
    pub(crate) row: Row,
    pub(crate) wrapup: ValidWrapUp,
    /// When it started waiting.
    pub(crate) since: Instant,
    /// When it fails as timed out.
    pub(crate) deadline: Instant,
    /// When its interaction was last read.
    pub(crate) checked: Instant,
}

/// Where a row stands after a step.
pub(crate) enum RowOutcome {
    /// Finished: applied, already applied, skipped or failed (and recorded so).
    Done,
    /// Its interaction is not ready: the scheduler keeps it until it is.
    Waiting(WaitingRow),
    /// Its interaction is ready: the scheduler puts it in the next chunk.
    Ready(WaitingRow),
}

/// One item of a chunk: what the chunk's task does with it depends on where it stands.
pub(crate) enum ChunkItem {
    /// A row just read (or an interaction's next row): looked up in the journal, its code
    /// resolved, then sent.
    Fresh(Row),
    /// A record that is not a valid row: recorded as failed.
    Invalid(RowError),
    /// A waiting row whose interaction became ready: sent again.
    Ready(WaitingRow),
}

/// The work of one task.
pub(crate) enum RowTask {
    /// Rows to send together, in one bulk request (with the journal read and written once
    /// for them all).
    Chunk(Vec<ChunkItem>),
    /// A waiting row without news for a while: read its interaction again.
    Reconcile(WaitingRow),
}

impl std::fmt::Display for RowTask {
    /// For the debug log: which rows a task holds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowTask::Chunk(items) => write!(f, "a chunk of {} rows", items.len()),
            RowTask::Reconcile(w) => write!(f, "a re-read of line {}", w.row.line),
        }
    }
}
