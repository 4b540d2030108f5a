//! The finalization timer: finalizes closed interactions when their settle time passes.
//!
//! Deadlines live in the store, so the timer survives restarts: on start-up it finalizes
//! every interaction whose settle time passed while the server was down, then sleeps until
//! the next deadline, or until a close wakes it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use wrapup_store::Store;

use crate::clock::Clock;

/// Runs until the task is dropped or aborted.
pub async fn run(store: Arc<dyn Store>, clock: Arc<dyn Clock>, wake: Arc<Notify>) {
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
        let next = match store.next_finalize_due().await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(error = %e, "reading the next finalization deadline failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        match next {
            Some(due) => {
                tokio::select! {
                    _ = clock.sleep_until(due) => {}
                    _ = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}
