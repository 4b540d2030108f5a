//! The tailer: publishes committed events to this node's subscribers in strict number
//! order, with no gap and no repeat: its own commits directly (the writer hands them
//! over), and the other nodes' by reading the log when the listener says there is more (or
//! when a periodic look at the event counter does: the log is the source of truth, and a
//! lost notification only delays an event by at most [`CHECK_EVERY`]).

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPool;
use tokio::sync::{broadcast, mpsc};

use super::listener::ListenerSignal;
use super::queries::events_after;
use crate::error::Result;
use crate::records::EventRecord;

/// How often the tailer looks at the event counter, in case a notification was lost.
const CHECK_EVERY: Duration = Duration::from_millis(250);

/// Publishes committed events to this node's subscribers in number order, each once.
pub(super) struct Tailer {
    pub(super) pool: PgPool,
    pub(super) events: broadcast::Sender<Arc<EventRecord>>,
    /// The last event number published.
    pub(super) published: i64,
}

impl Tailer {
    pub(super) async fn run(
        mut self,
        mut committed: mpsc::UnboundedReceiver<Vec<EventRecord>>,
        mut signals: mpsc::UnboundedReceiver<ListenerSignal>,
    ) {
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let target = tokio::select! {
                batch = committed.recv() => match batch {
                    Some(batch) => self.publish_local(batch),
                    None => return,
                },
                signal = signals.recv() => match signal {
                    Some(ListenerSignal::Committed(last)) => Some(last),
                    Some(ListenerSignal::Listening) | None => self.latest().await,
                },
                _ = check.tick() => self.latest().await,
            };
            if let Some(target) = target.filter(|t| *t > self.published) {
                if let Err(e) = self.catch_up(target).await {
                    tracing::warn!(error = %e, "reading committed events failed; will retry");
                }
            }
        }
    }

    /// Publishes this node's own commit when it follows what was published; otherwise
    /// says how far the log must be read.
    fn publish_local(&mut self, batch: Vec<EventRecord>) -> Option<i64> {
        let (first, last) = (batch.first()?.seq, batch.last()?.seq);
        if last <= self.published {
            return None;
        }
        if first != self.published + 1 {
            return Some(last);
        }
        for event in batch {
            self.publish(event);
        }
        None
    }

    fn publish(&mut self, event: EventRecord) {
        self.published = event.seq;
        let _ = self.events.send(Arc::new(event));
    }

    async fn latest(&self) -> Option<i64> {
        match sqlx::query_scalar("SELECT last FROM event_counter")
            .fetch_one(&self.pool)
            .await
        {
            Ok(last) => Some(last),
            Err(e) => {
                tracing::warn!(error = %e, "reading the event counter failed");
                None
            }
        }
    }

    /// Reads and publishes the log after what was published, up to `target`.
    async fn catch_up(&mut self, target: i64) -> Result<()> {
        while self.published < target {
            let page = events_after(&self.pool, self.published, 1_000).await?;
            if page.is_empty() {
                // Pruned already (numbers are taken under the counter's lock and committed
                // with their events, so nothing else leaves a hole).
                self.published = target;
                return Ok(());
            }
            for event in page {
                self.publish(event);
            }
        }
        Ok(())
    }
}
