//! The work of a task: a chunk of rows, or the re-read of a waiting row.
//!
//! A chunk is handled in three steps: its rows' journal entries are read at once (rows an
//! earlier run finished are skipped); each row's code is resolved (an id as is; a name as
//! the one current code of that name the client sees, when there is one, a guess the server
//! checks; otherwise in its interaction's division, which takes a GET of the interaction);
//! then every row to apply goes out in one bulk request, optimistically: nothing is read
//! first, because the server answers an identical wrap-up as `unchanged` and changes
//! nothing, so a row whose outcome was lost (a crash, a reset connection) is simply sent
//! again. Rows whose guessed code the server refused are then read, resolved and sent
//! again. The chunk's outcomes are committed to the journal in one transaction, before any
//! of its rows counts as done (and before an interaction's next row may start).

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use uuid::Uuid;
use wrapup_client::{CodeRef, Error, ValidWrapUp};
use wrapup_domain::lifecycle::is_ready;
use wrapup_types::{BulkOutcome, Interaction, InteractionState};

use crate::api::{BatchApi, CodeLookup, ItemAnswer, RequestFailure};
use crate::counts::Tally;
use crate::error::{BatchError, WAIT_TIMEOUT};
use crate::journal::{Journal, JournalEntry, RowStatus};
use crate::options::Options;
use crate::row::{ChunkItem, Row, RowError, RowOutcome, RowTask, WaitingRow};

/// Runs the tasks of a batch; one per batch, shared by every task.
pub(crate) struct RowHandler {
    pub(crate) api: Arc<BatchApi>,
    pub(crate) journal: Journal,
    pub(crate) options: Options,
    pub(crate) tally: Arc<Tally>,
}

/// Where each row of a task ended, by interaction (none for an invalid record).
pub(crate) type Outcomes = Vec<(Option<Uuid>, RowOutcome)>;

/// What a task decided, before it is committed: the journal entries to write (all in one
/// transaction) and each row's outcome.
#[derive(Default)]
struct Settled {
    entries: Vec<JournalEntry>,
    outcomes: Outcomes,
}

impl Settled {
    fn record(
        &mut self,
        row: &Row,
        status: RowStatus,
        code_id: Option<Uuid>,
        error: Option<(&str, &str)>,
    ) {
        self.entries.push(JournalEntry {
            line: row.line,
            interaction_id: Some(row.interaction_id),
            status,
            spec: row.spec(),
            code_id,
            error_code: error.map(|e| e.0.to_string()),
            message: error.map(|e| e.1.to_string()),
        });
    }

    fn done(&mut self, row: &Row) {
        self.outcomes
            .push((Some(row.interaction_id), RowOutcome::Done));
    }
}

/// A row ready to go out in the chunk's bulk request.
struct ToSend {
    row: Row,
    wrapup: ValidWrapUp,
    /// An earlier run recorded it `sending` (a journal written before chunks): an
    /// `unchanged` answer is then that run's request, which took effect.
    was_sending: bool,
    /// When it started waiting and when it times out, if it has waited already.
    waited: Option<(Instant, Instant)>,
    /// It names its code, sent with the id [`BatchApi::guess_code`] guessed without reading
    /// its interaction: refused, it is read and resolved then sent again.
    guessed: bool,
}

impl RowHandler {
    /// Runs one task; returns where each of its rows stands, once that is committed.
    pub(crate) async fn run(&self, task: RowTask) -> Result<Outcomes, BatchError> {
        let mut settled = Settled::default();
        tracing::debug!(task = %task, "task started");
        match task {
            RowTask::Chunk(items) => self.chunk(items, &mut settled).await?,
            RowTask::Reconcile(w) => self.reconcile(w, &mut settled).await?,
        }
        self.journal.put_all(settled.entries).await?;
        tracing::debug!(rows = settled.outcomes.len(), "task committed");
        Ok(settled.outcomes)
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

    fn fail(
        &self,
        settled: &mut Settled,
        row: &Row,
        code_id: Option<Uuid>,
        code: &str,
        message: &str,
    ) {
        settled.record(row, RowStatus::Failed, code_id, Some((code, message)));
        settled.done(row);
        self.tally.add(|c| c.failed += 1);
    }

    /// Fails the row with the server's diagnosis of a refused request.
    fn refused(&self, settled: &mut Settled, row: &Row, code_id: Option<Uuid>, e: &Error) {
        let (code, message) = match e {
            Error::Api { body, .. } => (body.code.as_str().to_string(), body.message.clone()),
            other => ("request.failed".to_string(), other.to_string()),
        };
        self.fail(settled, row, code_id, &code, &message);
    }

    /// A row applied (by this batch, or found in place already).
    fn applied(&self, settled: &mut Settled, row: &Row, code_id: Uuid, ours: bool) {
        let status = if ours {
            RowStatus::Applied
        } else {
            RowStatus::AlreadyApplied
        };
        settled.record(row, status, Some(code_id), None);
        settled.done(row);
        self.tally.add(|c| {
            if ours {
                c.applied += 1
            } else {
                c.already_applied += 1
            }
        });
    }

    /// Records that a row waits for its interaction (read at `read_at`), and hands it to
    /// the scheduler; a row that waited already keeps its start and its deadline.
    fn wait(&self, settled: &mut Settled, send: ToSend, read_at: Instant) {
        settled.record(
            &send.row,
            RowStatus::Waiting,
            Some(send.wrapup.code_id()),
            None,
        );
        let (since, deadline) = send
            .waited
            .unwrap_or((read_at, read_at + self.options.wait));
        settled.outcomes.push((
            Some(send.row.interaction_id),
            RowOutcome::Waiting(WaitingRow {
                row: send.row,
                wrapup: send.wrapup,
                since,
                deadline,
                checked: read_at,
            }),
        ));
    }

    /// Records a record that is not a valid row as failed (unless an earlier run did).
    fn invalid(&self, settled: &mut Settled, e: RowError, earlier: Option<&JournalEntry>) {
        let spec = format!("invalid record: {}", e.message);
        settled.outcomes.push((None, RowOutcome::Done));
        if let Some(entry) = earlier.filter(|x| x.status.is_done() && x.spec == spec) {
            self.count_earlier(entry);
            return;
        }
        settled.entries.push(JournalEntry {
            line: e.line,
            interaction_id: e.interaction_id,
            status: RowStatus::Failed,
            spec,
            code_id: None,
            error_code: Some(e.code),
            message: Some(e.message),
        });
        self.tally.add(|c| c.failed += 1);
    }

    /// The three steps of a chunk (see the module documentation).
    async fn chunk(&self, items: Vec<ChunkItem>, settled: &mut Settled) -> Result<(), BatchError> {
        let lines: Vec<u64> = items
            .iter()
            .filter_map(|item| match item {
                ChunkItem::Fresh(row) => Some(row.line),
                ChunkItem::Invalid(e) => Some(e.line),
                ChunkItem::Ready(_) => None,
            })
            .collect();
        let earlier = self.journal.get_many(&lines).await?;
        let mut send = Vec::with_capacity(items.len());
        let mut named = Vec::new();
        for item in items {
            match item {
                ChunkItem::Invalid(e) => {
                    let entry = earlier.get(&e.line);
                    self.invalid(settled, e, entry);
                }
                ChunkItem::Ready(w) => send.push(ToSend {
                    row: w.row,
                    wrapup: w.wrapup,
                    was_sending: false,
                    waited: Some((w.since, w.deadline)),
                    guessed: false,
                }),
                ChunkItem::Fresh(row) => {
                    let entry = earlier.get(&row.line);
                    if let Some(entry) = entry {
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
                            settled.done(&row);
                            continue;
                        }
                    }
                    let was_sending = entry.is_some_and(|e| e.status == RowStatus::Sending);
                    match row.code {
                        CodeRef::Id(code_id) => {
                            if let Some(s) = self.prepare(settled, row, code_id, was_sending) {
                                send.push(s);
                            }
                        }
                        CodeRef::Name(ref name) => match self.api.guess_code(name).await? {
                            // A record invalid otherwise is read first, as without a guess,
                            // so that its failure is the same (a wrong code comes first).
                            Some(code_id) if row.wrapup(code_id).is_ok() => {
                                if let Some(mut s) =
                                    self.prepare(settled, row, code_id, was_sending)
                                {
                                    s.guessed = true;
                                    send.push(s);
                                }
                            }
                            _ => named.push((row, was_sending)),
                        },
                    }
                }
            }
        }
        self.resolve_named(named, settled, &mut send).await?;
        let refused_guesses = self.send(send, settled).await?;
        if !refused_guesses.is_empty() {
            // Rows whose guessed code was refused: read, resolved and sent as without one.
            let mut again = Vec::new();
            self.resolve_named(refused_guesses, settled, &mut again)
                .await?;
            let guessed = self.send(again, settled).await?;
            debug_assert!(guessed.is_empty(), "the second round guesses nothing");
        }
        Ok(())
    }

    /// The row's wrap-up with its code known, or the row failed (recorded) if invalid.
    fn prepare(
        &self,
        settled: &mut Settled,
        row: Row,
        code_id: Uuid,
        was_sending: bool,
    ) -> Option<ToSend> {
        match row.wrapup(code_id) {
            Ok(wrapup) => Some(ToSend {
                row,
                wrapup,
                was_sending,
                waited: None,
                guessed: false,
            }),
            Err(e) => {
                self.fail(settled, &row, Some(code_id), &e.code, &e.message);
                None
            }
        }
    }

    /// Rows naming their code: each interaction is read (its division says which code the
    /// name means) and the name resolved, `concurrency` rows at a time. A row whose wrap-up
    /// is in place already is done; one whose interaction is not ready waits without being
    /// sent.
    ///
    /// All the awaiting happens inside the buffered futures; the loop body only records.
    /// A body that awaited a request would stop polling the reads in flight, and one of them
    /// may hold what that request needs (the client's token lock): a deadlock.
    async fn resolve_named(
        &self,
        named: Vec<(Row, bool)>,
        settled: &mut Settled,
        send: &mut Vec<ToSend>,
    ) -> Result<(), BatchError> {
        let mut reads = futures::stream::iter(named)
            .map(|(row, was_sending)| async move {
                let read = self.read_named(&row).await;
                (row, was_sending, read)
            })
            .buffered(self.options.concurrency.max(1));
        while let Some((row, was_sending, read)) = reads.next().await {
            let (interaction, read_at, code_id) = match read {
                Ok((interaction, read_at, Ok(code_id))) => (interaction, read_at, code_id),
                Ok((_, _, Err(why))) => {
                    self.fail(settled, &row, None, why.error_code.as_str(), &why.message);
                    continue;
                }
                Err(RequestFailure::Refused(e)) => {
                    self.refused(settled, &row, None, &e);
                    continue;
                }
                Err(RequestFailure::Stop(e)) => return Err(e),
            };
            let Some(ready) = self.prepare(settled, row, code_id, was_sending) else {
                continue;
            };
            if let Some(applied) = &interaction.wrap_up {
                if ready.wrapup.matches(applied) {
                    self.applied(settled, &ready.row, code_id, was_sending);
                    continue;
                }
            }
            if is_ready(interaction.state, interaction.finalized) {
                send.push(ready);
            } else {
                self.wait(settled, ready, read_at);
            }
        }
        Ok(())
    }

    /// A named row's interaction (and when it was read), and the code its name means there.
    async fn read_named(
        &self,
        row: &Row,
    ) -> Result<(Interaction, Instant, CodeLookup), RequestFailure> {
        let id = row.interaction_id;
        let interaction = self
            .api
            .retrying(|| self.api.client.get_interaction(id))
            .await?;
        let read_at = Instant::now();
        let code = self
            .api
            .resolve_code(interaction.division_id, &row.code)
            .await
            .map_err(RequestFailure::Stop)?;
        Ok((interaction, read_at, code))
    }

    /// Sends the rows in one bulk request (split if the server says it is too large) and
    /// settles each by its answer; returns the rows sent with a guessed code that the
    /// server refused, unsettled (they are to be read and resolved).
    async fn send(
        &self,
        send: Vec<ToSend>,
        settled: &mut Settled,
    ) -> Result<Vec<(Row, bool)>, BatchError> {
        let mut refused_guesses = Vec::new();
        if send.is_empty() {
            return Ok(refused_guesses);
        }
        let items: Vec<_> = send
            .iter()
            .map(|s| s.wrapup.bulk_item(s.row.interaction_id))
            .collect();
        let sent_at = Instant::now();
        let answers = self.api.apply(&items).await?;
        for (s, ItemAnswer { result, resent }) in send.into_iter().zip(answers) {
            let code_id = s.wrapup.code_id();
            match result.outcome {
                BulkOutcome::Applied => self.applied(settled, &s.row, code_id, true),
                BulkOutcome::Unchanged => {
                    self.applied(settled, &s.row, code_id, s.was_sending || resent)
                }
                BulkOutcome::Refused if s.guessed => {
                    refused_guesses.push((s.row, s.was_sending));
                }
                BulkOutcome::Refused => {
                    let first = result.details.first();
                    let not_ready = first.is_some_and(|d| d.error_code.means_not_ready());
                    if not_ready {
                        self.wait(settled, s, sent_at);
                    } else {
                        let (code, message) = first
                            .map_or(("request.failed", "refused without details"), |d| {
                                (d.error_code.as_str(), d.message.as_str())
                            });
                        self.fail(settled, &s.row, Some(code_id), code, message);
                    }
                }
            }
        }
        Ok(refused_guesses)
    }

    /// Re-reads a waiting row's interaction: hands it back ready, fails it if its time is
    /// up, or leaves it waiting.
    async fn reconcile(
        &self,
        mut waiting: WaitingRow,
        settled: &mut Settled,
    ) -> Result<(), BatchError> {
        let id = waiting.row.interaction_id;
        let interaction = match self
            .api
            .retrying(|| self.api.client.get_interaction(id))
            .await
        {
            Ok(i) => i,
            Err(RequestFailure::Refused(e)) => {
                self.refused(settled, &waiting.row, Some(waiting.wrapup.code_id()), &e);
                return Ok(());
            }
            Err(RequestFailure::Stop(e)) => return Err(e),
        };
        if is_ready(interaction.state, interaction.finalized) {
            settled
                .outcomes
                .push((Some(id), RowOutcome::Ready(waiting)));
            return Ok(());
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
            let code_id = Some(waiting.wrapup.code_id());
            self.fail(settled, &waiting.row, code_id, WAIT_TIMEOUT, &message);
            return Ok(());
        }
        waiting.checked = Instant::now();
        settled
            .outcomes
            .push((Some(id), RowOutcome::Waiting(waiting)));
        Ok(())
    }
}
