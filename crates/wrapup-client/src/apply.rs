//! Applying a wrap-up the careful way: wait until the interaction is truly ready (closed
//! and finalized) on the event stream, send exactly the right body, and treat "not
//! finalized yet" as "wait and retry". Applying the same wrap-up twice is a no-op success.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use uuid::Uuid;
use wrapup_domain::lifecycle::is_ready;
use wrapup_types::{ErrorCode, ErrorDetail, Interaction, InteractionState};

use crate::client::Client;
use crate::error::Error;
use crate::events::{EventQuery, StreamEvent};
use crate::wrapup::ValidWrapUp;

/// Told what apply is doing, e.g. to show a spinner.
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// How [`Client::apply`] waits.
#[derive(Clone)]
pub struct ApplyOptions {
    /// The longest to wait for the interaction to be ready (default 10 minutes).
    pub wait: Duration,
    /// The longest pause between two reads when the event stream is unavailable and the
    /// client falls back to polling (default 5 s; the first pause is 100 ms).
    pub max_poll_interval: Duration,
    /// Told what apply is doing ("waiting for …"), e.g. to show a spinner.
    pub progress: Option<Progress>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            wait: Duration::from_secs(600),
            max_poll_interval: Duration::from_secs(5),
            progress: None,
        }
    }
}

impl std::fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("wait", &self.wait)
            .field("max_poll_interval", &self.max_poll_interval)
            .finish_non_exhaustive()
    }
}

/// How apply learned that the interaction was ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WaitVia {
    /// It was ready at the first read.
    NoWait,
    /// The event stream told it.
    Events,
    /// The event stream was unavailable; it polled.
    Polling,
}

/// What [`Client::apply`] did to the interaction's wrap-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ApplyEffect {
    /// The wrap-up was set.
    Applied,
    /// Another wrap-up was in place and was replaced (it stays in the history).
    Replaced,
    /// This very wrap-up was already in place; nothing was sent.
    AlreadyInPlace,
}

/// The result of a successful [`Client::apply`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    pub interaction_id: Uuid,
    pub code_id: Uuid,
    pub duration_ms: u32,
    pub outcome: ApplyEffect,
    pub via: WaitVia,
    /// How long apply waited for the interaction to be ready.
    pub waited_ms: u64,
    /// Reads made while polling (0 when the event stream was used).
    pub polls: u32,
    /// PUT requests sent (each possibly retried by the client's retry policy).
    pub puts: u32,
}

/// Why [`Client::apply`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The interaction was not ready when the wait ran out.
    #[error("timed out after {} s waiting for interaction {id} to be closed and finalized; it is {state}{}", .waited.as_secs(), if *.state == InteractionState::Closed && !*.finalized { " but not finalized" } else { "" })]
    TimedOut {
        id: Uuid,
        waited: Duration,
        state: InteractionState,
        finalized: bool,
    },
    /// The code name does not name a code that can be applied to the interaction: `detail`
    /// says why, with the error code the server would answer (see `codes.rs`).
    #[error("{}", .detail.message)]
    Code { name: String, detail: ErrorDetail },
    /// The server refused, or could not be reached.
    #[error(transparent)]
    Failed(#[from] Error),
}

fn describe(i: &Interaction) -> String {
    match (i.state, i.finalized) {
        (InteractionState::Closed, false) => "closed, not finalized yet".into(),
        (state, _) => state.to_string(),
    }
}

/// Whether the event stream is unusable here (so polling is the fallback), rather than
/// the request being refused for a reason polling would meet too.
fn stream_unavailable(e: &Error) -> bool {
    match e {
        Error::Transport(_) | Error::Unexpected { .. } => true,
        Error::Api { status, body, .. } => {
            *status >= 500
                || matches!(
                    body.code,
                    ErrorCode::RequestPathUnknown | ErrorCode::RequestMethodUnsupported
                )
        }
        _ => false,
    }
}

impl Client {
    /// Applies `wrapup` to interaction `id`: waits (up to `options.wait`) until it is
    /// closed and finalized, following the event stream (polling with backoff only if
    /// the stream is unavailable), then sends the PUT. `interaction.not.finalized` and
    /// `interaction.not.closed` answers mean "wait and retry". Succeeds without sending
    /// anything when this wrap-up is already in place.
    pub async fn apply(
        &self,
        id: Uuid,
        wrapup: &ValidWrapUp,
        options: &ApplyOptions,
    ) -> Result<ApplyReport, ApplyError> {
        let started = Instant::now();
        let deadline = started + options.wait;
        let mut report = ApplyReport {
            interaction_id: id,
            code_id: wrapup.code_id(),
            duration_ms: wrapup.duration_ms(),
            outcome: ApplyEffect::Applied,
            via: WaitVia::NoWait,
            waited_ms: 0,
            polls: 0,
            puts: 0,
        };
        loop {
            let interaction = self.wait_ready(id, deadline, options, &mut report).await?;
            report.waited_ms = started.elapsed().as_millis() as u64;
            if let Some(applied) = &interaction.wrap_up {
                if wrapup.matches(applied) {
                    report.outcome = ApplyEffect::AlreadyInPlace;
                    return Ok(report);
                }
            }
            let replacing = interaction.wrap_up.is_some();
            if let Some(progress) = &options.progress {
                progress("sending the wrap-up");
            }
            report.puts += 1;
            match self.put_wrapup(id, &wrapup.request()).await {
                Ok(()) => {
                    report.outcome = if replacing {
                        ApplyEffect::Replaced
                    } else {
                        ApplyEffect::Applied
                    };
                    return Ok(report);
                }
                Err(e)
                    if e.code().is_some_and(ErrorCode::means_not_ready)
                        && Instant::now() < deadline =>
                {
                    // The server sees it as not ready yet (e.g. another node that has not
                    // settled it): wait for it again.
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Reads the interaction and, until it is ready, follows its events.
    async fn wait_ready(
        &self,
        id: Uuid,
        deadline: Instant,
        options: &ApplyOptions,
        report: &mut ApplyReport,
    ) -> Result<Interaction, ApplyError> {
        let query = EventQuery {
            interactions: vec![id],
            ..EventQuery::default()
        };
        // Subscribe first: once the stream is open, every later change reaches it, so the
        // read below cannot miss the moment the interaction becomes ready.
        let mut stream = match self.events(&query).await {
            Ok(stream) => Some(stream),
            Err(e) if stream_unavailable(&e) => None,
            Err(e) => return Err(e.into()),
        };
        let mut current = self.get_interaction(id).await?;
        let mut backoff = Duration::from_millis(100);
        loop {
            if is_ready(current.state, current.finalized) {
                return Ok(current);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ApplyError::TimedOut {
                    id,
                    waited: options.wait,
                    state: current.state,
                    finalized: current.finalized,
                });
            }
            let left = deadline - now;
            if let Some(progress) = &options.progress {
                progress(&format!(
                    "waiting: the interaction is {}",
                    describe(&current)
                ));
            }
            match stream.as_mut() {
                Some(events) => {
                    report.via = WaitVia::Events;
                    match tokio::time::timeout(left, events.next()).await {
                        Err(_) => continue, // the deadline check above ends the wait
                        Ok(Some(Ok(StreamEvent::Interaction { interaction, .. }))) => {
                            if interaction.id == id {
                                current = interaction;
                            }
                        }
                        Ok(Some(Ok(StreamEvent::Reset(_)))) => {
                            current = self.get_interaction(id).await?;
                        }
                        Ok(None) | Ok(Some(Err(_))) => {
                            // The connection dropped: resume after the last event seen.
                            let resume = EventQuery {
                                last_event_id: events.last_event_id().map(str::to_string),
                                ..query.clone()
                            };
                            let gap = resume.last_event_id.is_none();
                            match self.events(&resume).await {
                                Ok(reopened) => {
                                    *events = reopened;
                                    if gap {
                                        current = self.get_interaction(id).await?;
                                    }
                                }
                                Err(e) if stream_unavailable(&e) => stream = None,
                                Err(e) => return Err(e.into()),
                            }
                        }
                    }
                }
                None => {
                    report.via = WaitVia::Polling;
                    tokio::time::sleep(backoff.min(left)).await;
                    backoff = (backoff * 2).min(options.max_poll_interval);
                    report.polls += 1;
                    current = self.get_interaction(id).await?;
                }
            }
        }
    }
}
