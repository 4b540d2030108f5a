//! Apply wrap-ups by the thousand: nothing lost, nothing applied twice.
//!
//! [`Batch::run`] reads records as a stream and sends them in chunks through the bulk apply
//! operation (`POST /api/v2/interactions/wrap-ups`), recording each chunk's outcomes in a
//! durable [`Journal`] in one commit; rows whose interaction is not ready wait on one shared
//! event stream (with a reconciliation read for rows that wait long) and join a later chunk.
//! It pauses the whole batch on 429, retries 5xx and network errors with backoff and
//! jitter, and fails a row only for a permanent refusal, with the server's diagnosis. A
//! re-run with the same journal skips what is done and sends everything else again: sending
//! the same wrap-up twice is a no-op on the server (`unchanged`), so nothing is read first.
//!
//! The parts: [`input`] reads records into [`Row`]s (the row model is in `row.rs`);
//! `scheduler.rs` decides which row runs when and fills the chunks; `handler.rs` runs a
//! chunk (or a waiting row's re-read); `api.rs` is the client with the batch's retries and
//! the chunk splitting; [`journal`] is the durable record; `dry_run.rs` checks rows without
//! applying them.

mod api;
mod counts;
mod dry_run;
mod error;
mod handler;
pub mod input;
pub mod journal;
mod options;
mod row;
mod scheduler;

use std::io::Write;
use std::sync::Arc;

use tokio::sync::mpsc;
use wrapup_client::Client;

pub use counts::Counts;
pub use dry_run::DryRunLine;
pub use error::{BatchError, WAIT_TIMEOUT};
pub use input::{feed, Format, InputItem, Records};
pub use journal::{Journal, JournalEntry, JournalError, RowStatus};
pub use options::Options;
pub use row::{Row, RowError};

use crate::api::BatchApi;
use crate::counts::Tally;
use crate::handler::RowHandler;
use crate::scheduler::Scheduler;

/// How a batch run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Every record of the input is done.
    Complete,
    /// Asked to stop: the rows in flight finished; the rest are for a re-run.
    Interrupted,
}

/// A batch run.
pub struct Batch {
    handler: Arc<RowHandler>,
}

impl Batch {
    /// A batch applying through `client` (whose own retries should be off: the batch
    /// retries itself, pausing everything on 429) and recording in `journal`.
    pub fn new(client: Client, journal: Journal, options: Options) -> Batch {
        let tally = Arc::new(Tally::default());
        Batch {
            handler: Arc::new(RowHandler {
                api: Arc::new(BatchApi::new(client, &options, tally.clone())),
                journal,
                options,
                tally,
            }),
        }
    }

    /// What the batch has done so far.
    pub fn counts(&self) -> Counts {
        self.handler.tally.snapshot()
    }

    /// Runs the batch over `input` until every record is done, calling `progress` as it
    /// goes. Returns the counts; an error stops the batch (a re-run resumes it).
    pub async fn run(
        &self,
        input: mpsc::Receiver<InputItem>,
        progress: impl Fn(&Counts),
    ) -> Result<Counts, BatchError> {
        let (counts, _) = self
            .run_until(input, progress, std::future::pending())
            .await?;
        Ok(counts)
    }

    /// [`Batch::run`], which also ends when `stop` completes (SIGINT, SIGTERM): no more rows
    /// are read and no new request is started; the rows in flight finish, so the journal
    /// records each as done, or as `waiting`/`pending` for a re-run to resume. Returns the
    /// counts and how the run ended.
    pub async fn run_until(
        &self,
        input: mpsc::Receiver<InputItem>,
        progress: impl Fn(&Counts),
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<(Counts, RunEnd), BatchError> {
        let stopped = Scheduler::start(self.handler.clone())
            .await
            .run(input, progress, stop)
            .await?;
        let end = if stopped {
            RunEnd::Interrupted
        } else {
            RunEnd::Complete
        };
        Ok((self.counts(), end))
    }

    /// Checks every record without applying anything or writing the journal: the record
    /// is valid, and (unless `offline`) its interaction is visible, its code resolves in
    /// the interaction's division, and whether it would be applied now or wait. Report
    /// lines go to `report` as rows finish (not in input order).
    pub async fn dry_run(
        &self,
        input: mpsc::Receiver<InputItem>,
        offline: bool,
        report: impl FnMut(&DryRunLine),
        progress: impl Fn(&Counts),
    ) -> Result<Counts, BatchError> {
        dry_run::dry_run(
            self.handler.api.clone(),
            &self.handler.tally,
            self.handler.options.concurrency,
            input,
            offline,
            report,
            progress,
        )
        .await?;
        Ok(self.counts())
    }

    /// Writes one JSON line per journal entry, in input order.
    pub async fn write_report(&self, out: &mut impl Write) -> Result<u64, BatchError> {
        Ok(self.handler.journal.write_report(out).await?)
    }
}
