//! What the batch has done so far: the figures of the progress bar and the summary.

use std::sync::Mutex;

use serde::Serialize;

/// What the batch has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Records read from the input.
    pub read: u64,
    /// Records applied by an earlier run (left alone; earlier failures count as failed).
    pub skipped: u64,
    pub applied: u64,
    pub already_applied: u64,
    pub failed: u64,
    /// Of the failed, those whose interaction was not ready within `wait`.
    pub timed_out: u64,
    /// Rows waiting for their interaction now.
    pub waiting: u64,
    /// Requests retried (5xx, network errors, 429).
    pub retries: u64,
    /// Dry run: rows that would be applied now.
    pub would_apply: u64,
    /// Dry run: rows that would wait for their interaction.
    pub would_wait: u64,
}

impl Counts {
    /// Records finished (in this run or an earlier one).
    pub fn done(&self) -> u64 {
        self.skipped
            + self.applied
            + self.already_applied
            + self.failed
            + self.would_apply
            + self.would_wait
    }
}

/// The [`Counts`] every row task adds to while the batch runs.
#[derive(Debug, Default)]
pub(crate) struct Tally(Mutex<Counts>);

impl Tally {
    pub(crate) fn add(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }

    pub(crate) fn snapshot(&self) -> Counts {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
