//! The finalization timer: finalizes closed interactions when their settle time passes,
//! and ends time-boxed after-call work when its timeout passes (the system's wrap-up
//! `ININ-WRAP-UP-TIMEOUT`, or a forced timeout's end), the same way.
//!
//! Deadlines live in the store, so the timer survives restarts: on start-up it finalizes
//! every interaction whose settle time passed while the server was down, then sleeps until
//! the next deadline, or until a close wakes it: it follows the store's event feed, which
//! carries the closes of this node and of every other node sharing the database. Every node runs
//! the timer; the store finalizes each interaction once, whichever node gets there first,
//! so a node that dies leaves its deadlines to the others.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use wrapup_store::{EventRecord, Store};
use wrapup_types::{EventKind, InteractionState};

use crate::clock::Clock;

/// Runs until the task is dropped or aborted.
pub async fn run(store: Arc<dyn Store>, clock: Arc<dyn Clock>) {
    let mut events = store.subscribe();
    loop {
        match store.finalize_due(clock.now_ms()).await {
            Ok(done) if !done.is_empty() => {
                tracing::debug!(count = done.len(), "finalized interactions");
                continue; // there may be more due than one pass takes
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "finalization pass failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        match store.time_out_due(clock.now_ms()).await {
            Ok(done) if !done.is_empty() => {
                tracing::debug!(count = done.len(), "timed out after-call work");
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "after-call work timeout pass failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        let next = match next_deadline(store.as_ref()).await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(error = %e, "reading the next finalization deadline failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        tokio::select! {
            _ = async {
                match next {
                    Some(due) => clock.sleep_until(due).await,
                    None => std::future::pending().await,
                }
            } => {}
            _ = a_close(&mut events) => {}
        }
    }
}

/// The earliest pending deadline: a finalization or an after-call-work timeout.
async fn next_deadline(store: &dyn Store) -> wrapup_store::Result<Option<i64>> {
    let finalize = store.next_finalize_due().await?;
    let timeout = store.next_timeout_due().await?;
    Ok(match (finalize, timeout) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Returns when an interaction closed (or events were missed, which may hide a close).
async fn a_close(events: &mut broadcast::Receiver<Arc<EventRecord>>) {
    loop {
        match events.recv().await {
            Ok(e)
                if e.kind == EventKind::State
                    && e.interaction.state == InteractionState::Closed =>
            {
                return
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => std::future::pending().await,
        }
    }
}
