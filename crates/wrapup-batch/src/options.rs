//! How a batch runs: the knobs `wrapup batch` exposes as flags.

use std::time::Duration;

/// How a batch runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Requests in flight at once: bulk requests of up to `chunk_size` rows, and the reads
    /// of rows that name their code or have waited long.
    pub concurrency: usize,
    /// The most rows sent in one bulk request (1 to 1000). Chunks are smaller when rows
    /// come slower than the server answers: a chunk leaves as soon as a request may start.
    pub chunk_size: usize,
    /// The longest a row may wait for its interaction to be ready before it fails as
    /// `timed out`.
    pub wait: Duration,
    /// Retries of a request after a 5xx or network error before the batch stops (the rows
    /// stay unfinished in the journal; a re-run picks them up).
    pub max_retries: u32,
    /// A waiting row is re-read after waiting this long (in case an event was missed).
    pub reconcile_after: Duration,
    /// How often waiting rows are looked over.
    pub reconcile_every: Duration,
    /// The most rows waiting at once; reading the input pauses beyond it.
    pub max_waiting: usize,
    /// Try rows that failed in an earlier run again.
    pub retry_failed: bool,
    /// The first backoff after a 5xx or network error (it doubles, with full jitter).
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 8,
            chunk_size: 500,
            wait: Duration::from_secs(600),
            max_retries: 8,
            reconcile_after: Duration::from_secs(60),
            reconcile_every: Duration::from_secs(5),
            max_waiting: 10_000,
            retry_failed: false,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}
