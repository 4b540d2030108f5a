//! `wrapup batch --dry-run`: every record checked, nothing applied, no journal written.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use uuid::Uuid;
use wrapup_client::{CodeRef, Error};
use wrapup_domain::lifecycle::is_ready;
use wrapup_types::ErrorCode;

use crate::api::{BatchApi, RequestFailure};
use crate::counts::{Counts, Tally};
use crate::error::BatchError;
use crate::input::InputItem;
use crate::row::Row;

/// One line of a dry run's report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunLine {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interaction_id: Option<Uuid>,
    /// `would-apply`, `would-wait`, `already-applied` or `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Checks every record of `input`, `concurrency` at a time (see [`crate::Batch::dry_run`]).
pub(crate) async fn dry_run(
    api: Arc<BatchApi>,
    tally: &Tally,
    concurrency: usize,
    mut input: mpsc::Receiver<InputItem>,
    offline: bool,
    mut report: impl FnMut(&DryRunLine),
    progress: impl Fn(&Counts),
) -> Result<(), BatchError> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    // Dropped on an error, and with it every check in flight.
    let mut tasks: JoinSet<Result<DryRunLine, BatchError>> = JoinSet::new();
    let mut input_done = false;
    loop {
        progress(&tally.snapshot());
        if input_done && tasks.is_empty() {
            return Ok(());
        }
        tokio::select! {
            item = input.recv(), if !input_done && permits.available_permits() > 0 => {
                let Some(item) = item else { input_done = true; continue };
                tally.add(|c| c.read += 1);
                let row = match item? {
                    Ok(row) => row,
                    Err(e) => {
                        tally.add(|c| c.failed += 1);
                        report(&DryRunLine { line: e.line, interaction_id: e.interaction_id, status: "failed", code_id: None, error_code: Some(e.code), message: Some(e.message) });
                        continue;
                    }
                };
                if offline {
                    // Nothing to wait for: checked here, without a task.
                    let line = check(&api, row, true).await?;
                    count(tally, &line);
                    report(&line);
                    continue;
                }
                let permit = permits.clone().acquire_owned().await.expect("the semaphore is never closed");
                let api = api.clone();
                tasks.spawn(async move {
                    let _permit = permit;
                    check(&api, row, offline).await
                });
            }
            done = tasks.join_next(), if !tasks.is_empty() => {
                let line = done.expect("guarded by is_empty")??;
                count(tally, &line);
                report(&line);
            }
        }
    }
}

fn count(tally: &Tally, line: &DryRunLine) {
    tally.add(|c| match line.status {
        "would-apply" => c.would_apply += 1,
        "would-wait" => c.would_wait += 1,
        "already-applied" => c.already_applied += 1,
        _ => c.failed += 1,
    });
}

/// The dry-run verdict on one row.
async fn check(api: &BatchApi, row: Row, offline: bool) -> Result<DryRunLine, BatchError> {
    let line = |status, code_id, error: Option<(String, String)>| DryRunLine {
        line: row.line,
        interaction_id: Some(row.interaction_id),
        status,
        code_id,
        error_code: error.as_ref().map(|e| e.0.clone()),
        message: error.map(|e| e.1),
    };
    if offline {
        let code_id = match &row.code {
            CodeRef::Id(id) => *id,
            CodeRef::Name(_) => Uuid::nil(),
        };
        return Ok(match row.wrapup(code_id) {
            Ok(_) => line("would-apply", None, None),
            Err(e) => line("failed", None, Some((e.code, e.message))),
        });
    }
    let id = row.interaction_id;
    let interaction = match api.retrying(|| api.client.get_interaction(id)).await {
        Ok(i) => i,
        Err(RequestFailure::Refused(e)) => {
            let error = match &e {
                Error::Api { body, .. } => (body.code.as_str().to_string(), body.message.clone()),
                other => ("request.failed".into(), other.to_string()),
            };
            return Ok(line("failed", None, Some(error)));
        }
        Err(RequestFailure::Stop(e)) => return Err(e),
    };
    let code_id = match api.resolve_code(interaction.division_id, &row.code).await? {
        Ok(c) => c,
        Err(why) => {
            return Ok(line(
                "failed",
                None,
                Some((why.error_code.as_str().into(), why.message)),
            ))
        }
    };
    if let CodeRef::Id(_) = row.code {
        let code = api
            .retrying(|| {
                api.client
                    .get_code_even_archived(code_id, Some(interaction.division_id))
            })
            .await;
        match code {
            Ok(c) if c.archived => {
                return Ok(line(
                    "failed",
                    Some(code_id),
                    Some((
                        ErrorCode::WrapupCodeArchived.as_str().into(),
                        format!("\"{}\" is archived", c.name),
                    )),
                ))
            }
            Ok(c) if c.division_id != interaction.division_id => {
                return Ok(line(
                    "failed",
                    Some(code_id),
                    Some((
                        ErrorCode::WrapupCodeDivisionMismatch.as_str().into(),
                        format!(
                            "the code is in division {}, the interaction in {}",
                            c.division_id, interaction.division_id
                        ),
                    )),
                ))
            }
            Ok(_) => {}
            Err(RequestFailure::Refused(e)) => {
                return Ok(line(
                    "failed",
                    Some(code_id),
                    Some((
                        e.code()
                            .map_or("request.failed".into(), |c| c.as_str().to_string()),
                        e.to_string(),
                    )),
                ))
            }
            Err(RequestFailure::Stop(e)) => return Err(e),
        }
    }
    let wrapup = match row.wrapup(code_id) {
        Ok(w) => w,
        Err(e) => return Ok(line("failed", Some(code_id), Some((e.code, e.message)))),
    };
    if interaction
        .wrap_up
        .as_ref()
        .is_some_and(|a| wrapup.matches(a))
    {
        return Ok(line("already-applied", Some(code_id), None));
    }
    Ok(if is_ready(interaction.state, interaction.finalized) {
        line("would-apply", Some(code_id), None)
    } else {
        line(
            "would-wait",
            Some(code_id),
            Some((
                "interaction.not.ready".into(),
                format!("the interaction is {}", interaction.state),
            )),
        )
    })
}
