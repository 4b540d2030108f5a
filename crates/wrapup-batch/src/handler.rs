//! The life of one row, step by step: read its interaction, resolve its code, apply it if
//! ready, or wait; every step recorded in the journal. A row's PUT is sent only after its
//! journal entry says `sending`, and a row not recorded as done is read with a GET before it
//! is sent, so a PUT that took effect just before a crash is recognised instead of sent
//! twice.

use std::sync::Arc;
use std::time::Instant;

use uuid::Uuid;
use wrapup_client::{Error, ValidWrapUp};
use wrapup_domain::lifecycle::is_ready;
use wrapup_types::{ErrorCode, InteractionState};

use crate::api::{BatchApi, RequestFailure};
use crate::counts::Tally;
use crate::error::{BatchError, WAIT_TIMEOUT};
use crate::journal::{Journal, JournalEntry, RowStatus};
use crate::options::Options;
use crate::row::{Row, RowError, RowOutcome, RowTask, WaitingRow};

/// Runs the steps of rows; one per batch, shared by every row's task.
pub(crate) struct RowHandler {
    pub(crate) api: Arc<BatchApi>,
    pub(crate) journal: Journal,
    pub(crate) options: Options,
    pub(crate) tally: Arc<Tally>,
}

impl RowHandler {
    /// Runs one task to its row's next resting point.
    pub(crate) async fn run(&self, task: RowTask) -> Result<RowOutcome, BatchError> {
        match task {
            RowTask::Process(row) => self.process(row).await,
            RowTask::Invalid(e) => self.invalid(e).await,
            RowTask::Send(w) => self.send(w.row, w.wrapup).await,
            RowTask::Reconcile(w) => self.reconcile(w).await,
        }
    }

    /// Counts a row an earlier run finished: failures still count as failures (so the
    /// exit code says the batch is not all applied), the rest as skipped.
    fn count_earlier(&self, entry: &JournalEntry) {
        self.tally.add(|c| match entry.status {
            RowStatus::Failed => {
                c.failed += 1;
                if entry.error_code.as_deref() == Some(WAIT_TIMEOUT) {
                    c.timed_out += 1;
                }
            }
            _ => c.skipped += 1,
        });
    }

    async fn record(
        &self,
        row: &Row,
        status: RowStatus,
        code_id: Option<Uuid>,
        error: Option<(&str, &str)>,
    ) -> Result<(), BatchError> {
        self.journal
            .put(JournalEntry {
                line: row.line,
                interaction_id: Some(row.interaction_id),
                status,
                spec: row.spec(),
                code_id,
                error_code: error.map(|e| e.0.to_string()),
                message: error.map(|e| e.1.to_string()),
            })
            .await?;
        Ok(())
    }

    async fn fail(
        &self,
        row: &Row,
        code_id: Option<Uuid>,
        code: &str,
        message: &str,
    ) -> Result<RowOutcome, BatchError> {
        self.record(row, RowStatus::Failed, code_id, Some((code, message)))
            .await?;
        self.tally.add(|c| c.failed += 1);
        Ok(RowOutcome::Done)
    }

    /// Fails the row with the server's diagnosis of a refused request.
    async fn refused(
        &self,
        row: &Row,
        code_id: Option<Uuid>,
        e: &Error,
    ) -> Result<RowOutcome, BatchError> {
        let (code, message) = match e {
            Error::Api { body, .. } => (body.code.as_str().to_string(), body.message.clone()),
            other => ("request.failed".to_string(), other.to_string()),
        };
        self.fail(row, code_id, &code, &message).await
    }

    /// Records a record that is not a valid row as failed (unless an earlier run did).
    async fn invalid(&self, e: RowError) -> Result<RowOutcome, BatchError> {
        let spec = format!("invalid record: {}", e.message);
        if let Some(entry) = self.journal.get(e.line).await? {
            if entry.status.is_done() && entry.spec == spec {
                self.count_earlier(&entry);
                return Ok(RowOutcome::Done);
            }
        }
        self.journal
            .put(JournalEntry {
                line: e.line,
                interaction_id: e.interaction_id,
                status: RowStatus::Failed,
                spec,
                code_id: None,
                error_code: Some(e.code.clone()),
                message: Some(e.message.clone()),
            })
            .await?;
        self.tally.add(|c| c.failed += 1);
        Ok(RowOutcome::Done)
    }

    /// Looks a row over: skips it if done, fails it if invalid, applies it if ready.
    async fn process(&self, row: Row) -> Result<RowOutcome, BatchError> {
        let earlier = self.journal.get(row.line).await?;
        if let Some(entry) = &earlier {
            if entry.spec != row.spec() {
                return Err(BatchError::InputChanged {
                    line: row.line,
                    journal: self.journal.path().to_string(),
                });
            }
            if entry.status.is_done()
                && !(self.options.retry_failed && entry.status == RowStatus::Failed)
            {
                self.count_earlier(entry);
                return Ok(RowOutcome::Done);
            }
        }
        let id = row.interaction_id;
        let interaction = match self
            .api
            .retrying(|| self.api.client.get_interaction(id))
            .await
        {
            Ok(i) => i,
            Err(RequestFailure::Refused(e)) => return self.refused(&row, None, &e).await,
            Err(RequestFailure::Stop(e)) => return Err(e),
        };
        let code_id = match self
            .api
            .resolve_code(interaction.division_id, &row.code)
            .await?
        {
            Ok(id) => id,
            Err(why) => {
                return self
                    .fail(&row, None, why.error_code.as_str(), &why.message)
                    .await
            }
        };
        let wrapup = match row.wrapup(code_id) {
            Ok(w) => w,
            Err(e) => return self.fail(&row, Some(code_id), &e.code, &e.message).await,
        };
        if let Some(applied) = &interaction.wrap_up {
            if wrapup.matches(applied) {
                // In flight when an earlier run died: that run's PUT took effect.
                let ours = earlier.is_some_and(|e| e.status == RowStatus::Sending);
                let status = if ours {
                    RowStatus::Applied
                } else {
                    RowStatus::AlreadyApplied
                };
                self.record(&row, status, Some(code_id), None).await?;
                self.tally.add(|c| {
                    if ours {
                        c.applied += 1
                    } else {
                        c.already_applied += 1
                    }
                });
                return Ok(RowOutcome::Done);
            }
        }
        if is_ready(interaction.state, interaction.finalized) {
            return self.send(row, wrapup).await;
        }
        self.wait(row, wrapup).await
    }

    /// Records that a row waits for its interaction, and hands it to the scheduler.
    async fn wait(&self, row: Row, wrapup: ValidWrapUp) -> Result<RowOutcome, BatchError> {
        self.record(&row, RowStatus::Waiting, Some(wrapup.code_id()), None)
            .await?;
        let now = Instant::now();
        Ok(RowOutcome::Waiting(WaitingRow {
            row,
            wrapup,
            since: now,
            deadline: now + self.options.wait,
            checked: now,
        }))
    }

    /// Sends the PUT, with the journal written before and after it.
    async fn send(&self, row: Row, wrapup: ValidWrapUp) -> Result<RowOutcome, BatchError> {
        let code_id = Some(wrapup.code_id());
        self.record(&row, RowStatus::Sending, code_id, None).await?;
        let body = wrapup.request();
        let id = row.interaction_id;
        match self
            .api
            .retrying(|| self.api.client.put_wrapup(id, &body))
            .await
        {
            Ok(()) => {
                self.record(&row, RowStatus::Applied, code_id, None).await?;
                self.tally.add(|c| c.applied += 1);
                Ok(RowOutcome::Done)
            }
            Err(RequestFailure::Refused(e))
                if matches!(
                    e.code(),
                    Some(ErrorCode::InteractionNotFinalized | ErrorCode::InteractionNotClosed)
                ) =>
            {
                self.wait(row, wrapup).await
            }
            Err(RequestFailure::Refused(e)) => self.refused(&row, code_id, &e).await,
            Err(RequestFailure::Stop(e)) => Err(e),
        }
    }

    /// Re-reads a waiting row's interaction: applies it if ready, fails it if its time is
    /// up, or leaves it waiting.
    async fn reconcile(&self, mut waiting: WaitingRow) -> Result<RowOutcome, BatchError> {
        let id = waiting.row.interaction_id;
        let interaction = match self
            .api
            .retrying(|| self.api.client.get_interaction(id))
            .await
        {
            Ok(i) => i,
            Err(RequestFailure::Refused(e)) => {
                return self
                    .refused(&waiting.row, Some(waiting.wrapup.code_id()), &e)
                    .await
            }
            Err(RequestFailure::Stop(e)) => return Err(e),
        };
        if is_ready(interaction.state, interaction.finalized) {
            return self.send(waiting.row, waiting.wrapup).await;
        }
        if Instant::now() >= waiting.deadline {
            self.tally.add(|c| c.timed_out += 1);
            let message = format!(
                "timed out: the interaction was still {} after waiting {} s",
                if interaction.state == InteractionState::Closed {
                    "closed but not finalized".to_string()
                } else {
                    interaction.state.to_string()
                },
                waiting.since.elapsed().as_secs()
            );
            return self
                .fail(
                    &waiting.row,
                    Some(waiting.wrapup.code_id()),
                    WAIT_TIMEOUT,
                    &message,
                )
                .await;
        }
        waiting.checked = Instant::now();
        Ok(RowOutcome::Waiting(waiting))
    }
}
