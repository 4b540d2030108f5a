//! Event retention: events older than the retention period are pruned in the background,
//! and so is the webhook delivery log (attempts, and deliveries done). A `Last-Event-ID`
//! from before the pruned range gets `event: reset` on the stream.

use std::sync::Arc;
use std::time::Duration;

use wrapup_store::Store;

use crate::clock::Clock;

/// How long events are kept by default: the minimum docs/events.md#retention promises.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// How often the pruning pass runs.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Prunes the events older than `retention` at `clock`'s now, and the webhook log of
/// that age; returns how many events were pruned.
pub async fn prune_once(
    store: &dyn Store,
    clock: &dyn Clock,
    retention: Duration,
) -> wrapup_store::Result<u64> {
    let cutoff = clock.now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let events = store.prune_events(cutoff).await?;
    let log = store.webhooks().prune_webhook_log(cutoff).await?;
    let channels = store.notifications().prune_channels(clock.now_ms()).await?;
    if channels > 0 {
        tracing::info!(pruned = channels, "removed expired notification channels");
    }
    if log > 0 {
        tracing::info!(pruned = log, "pruned old webhook attempts and deliveries");
    }
    Ok(events)
}

/// Runs a pruning pass now and then every [`PRUNE_EVERY`], until aborted.
pub async fn run(store: Arc<dyn Store>, clock: Arc<dyn Clock>, retention: Duration) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    loop {
        every.tick().await;
        match prune_once(store.as_ref(), clock.as_ref(), retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "pruned old events"),
            Err(e) => tracing::warn!(error = %e, "pruning old events failed; will retry"),
        }
    }
}
