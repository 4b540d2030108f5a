//! The dispatcher: one task per node that keeps one worker running per enabled endpoint.
//!
//! A worker loops: it takes the events after its endpoint's cursor into the delivery queue
//! (the events the endpoint receives; the cursor moves in the same transaction), claims the
//! deliveries due (at most `concurrency` in flight), sends each in a task of its own and
//! records the attempt, then waits for whichever comes first: an attempt ending, a new
//! event, the next delivery falling due (on the server's [`Clock`], so tests drive retries
//! with the manual clock), or a poke from the API. Every node runs workers for every
//! endpoint; the store's claims (leases, `SKIP LOCKED`) make each delivery go out from one
//! node at a time, and a lease left by a dead node expires and is claimed by another.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::{JoinHandle, JoinSet};
use uuid::Uuid;
use wrapup_store::webhooks::{ClaimDeliveries, DeliveryRecord, EnqueueDeliveries, RecordAttempt};
use wrapup_store::Store;

use super::payload::event_delivery;
use super::sender::Sender;
use super::Webhooks;
use crate::clock::Clock;
use crate::metrics::Metrics;

/// Events read from the log per pass.
const LOG_PAGE: u32 = 500;
/// How often the dispatcher looks for endpoints created or changed on other nodes.
const REFRESH_EVERY: Duration = Duration::from_secs(2);
/// How long a worker waits after a store error before trying again.
const BACKOFF: Duration = Duration::from_secs(1);

/// What a worker needs.
#[derive(Clone)]
struct Shared {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    webhooks: Arc<Webhooks>,
    metrics: Arc<Metrics>,
    sender: Sender,
    /// This node's identity in leases.
    node: Uuid,
}

/// Runs the dispatcher until aborted (its workers are aborted with it).
pub async fn run(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    webhooks: Arc<Webhooks>,
    metrics: Arc<Metrics>,
) {
    let sender = Sender::new(webhooks.config.targets, webhooks.config.timeout);
    let shared = Shared {
        store,
        clock,
        webhooks: webhooks.clone(),
        metrics,
        sender,
        node: Uuid::new_v4(),
    };
    let mut workers: HashMap<Uuid, Worker> = HashMap::new();
    let mut poked = webhooks.subscribe();
    let mut refresh = tokio::time::interval(REFRESH_EVERY);
    loop {
        match endpoints(shared.store.as_ref()).await {
            Ok(enabled) => {
                workers.retain(|id, w| enabled.contains(id) && !w.task.is_finished());
                for id in enabled {
                    workers
                        .entry(id)
                        .or_insert_with(|| Worker::start(shared.clone(), id));
                }
            }
            Err(e) => tracing::warn!(error = %e, "listing webhook endpoints failed; will retry"),
        }
        tokio::select! {
            _ = poked.changed() => {}
            _ = refresh.tick() => {}
        }
    }
}

/// The ids of the enabled endpoints.
async fn endpoints(store: &dyn Store) -> wrapup_store::Result<Vec<Uuid>> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = store.webhooks().list_webhooks(after, 500).await?;
        let Some(last) = page.last() else {
            return Ok(ids);
        };
        after = Some(last.seq);
        ids.extend(page.iter().filter(|w| w.enabled).map(|w| w.id));
    }
}

/// A running worker, aborted when dropped (its endpoint was deleted or disabled).
struct Worker {
    task: JoinHandle<()>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Worker {
    fn start(shared: Shared, id: Uuid) -> Worker {
        Worker {
            task: tokio::spawn(work(shared, id)),
        }
    }
}

/// One endpoint's worker: see the module docs. Ends when the endpoint is gone or disabled.
async fn work(s: Shared, id: Uuid) {
    let mut events = s.store.subscribe();
    let mut poked = s.webhooks.subscribe();
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let capacity = s.webhooks.config.concurrency.max(1) as usize;
    loop {
        let pass = pass(&s, id, capacity - in_flight.len()).await;
        let (more_events, next_due, claimed_at) = match pass {
            Ok(Pass::Stop) => {
                in_flight.shutdown().await;
                return;
            }
            Ok(Pass::Claimed {
                deliveries,
                more_events,
                next_due,
                claimed_at,
            }) => {
                for d in deliveries {
                    in_flight.spawn(deliver(s.clone(), d));
                }
                (more_events, next_due, claimed_at)
            }
            Err(e) => {
                tracing::warn!(webhook = %id, error = %e, "a webhook delivery pass failed; retrying in 1 s");
                tokio::time::sleep(BACKOFF).await;
                continue;
            }
        };
        if more_events {
            continue;
        }
        // Something that was due when the pass claimed but could not be claimed is held by
        // another node (or the worker is full): look again shortly rather than at once.
        // Measured against the time the claim used, not the clock now: if the clock moved
        // past `next_due` during the pass, the delivery became due after the claim and is
        // claimable at once (the sleep ends immediately). Waiting for `now + 1` instead
        // would wait for the clock to move again, which the manual clock never does by
        // itself (a lost wake-up).
        let wake_at = next_due.map(|due| due.max(claimed_at + 1));
        let has_room = in_flight.len() < capacity;
        tokio::select! {
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            _ = poked.changed() => {}
            received = events.recv() => {
                if let Err(RecvError::Closed) = received {
                    std::future::pending::<()>().await;
                }
            }
            _ = async {
                match wake_at {
                    Some(at) => s.clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            }, if has_room => {}
        }
    }
}

/// What one pass of a worker found.
enum Pass {
    /// The endpoint is gone or disabled.
    Stop,
    Claimed {
        deliveries: Vec<DeliveryRecord>,
        /// A full page of events was read: more may follow at once.
        more_events: bool,
        /// When a delivery can next be claimed.
        next_due: Option<i64>,
        /// The clock's time the claim was made at: what was due then was claimed (as far
        /// as there was room and no other node held it).
        claimed_at: i64,
    },
}

/// Takes new events into the queue, then claims what is due (at most `room`).
async fn pass(s: &Shared, id: Uuid, room: usize) -> wrapup_store::Result<Pass> {
    let hooks = s.store.webhooks();
    let Some(w) = hooks.get_webhook(id).await?.filter(|w| w.enabled) else {
        return Ok(Pass::Stop);
    };
    let page = s.store.events_after(w.cursor, LOG_PAGE).await?;
    let more_events = page.len() == LOG_PAGE as usize;
    if let Some(last) = page.last() {
        let deliveries = page
            .iter()
            .filter(|e| w.receives(e.kind, e.division_id))
            .map(|e| event_delivery(id, e))
            .collect();
        // `false`: another node (or a replay) moved the cursor first; the next pass reads on
        // from where it is now.
        hooks
            .enqueue(&EnqueueDeliveries {
                webhook_id: id,
                expected_cursor: w.cursor,
                new_cursor: last.seq,
                deliveries,
                now_ms: s.clock.now_ms(),
            })
            .await?;
    }
    let claimed_at = s.clock.now_ms();
    let deliveries = if room > 0 {
        hooks
            .claim(&ClaimDeliveries {
                webhook_id: id,
                now_ms: claimed_at,
                limit: room as u32,
                lease: s.node,
                lease_ms: s.webhooks.config.lease().as_millis() as i64,
            })
            .await?
    } else {
        Vec::new()
    };
    let pending = hooks.pending_deliveries(id).await?;
    s.metrics.webhook_queue_depth(id, pending);
    Ok(Pass::Claimed {
        deliveries,
        more_events,
        next_due: hooks.next_delivery_due(id).await?,
        claimed_at,
    })
}

/// Sends one claimed delivery and records the attempt.
async fn deliver(s: Shared, d: DeliveryRecord) {
    let hooks = s.store.webhooks();
    let webhook = match hooks.get_webhook(d.webhook_id).await {
        Ok(Some(w)) => w,
        Ok(None) => return,
        Err(e) => {
            // The lease expires and the delivery is claimed again.
            tracing::warn!(error = %e, "reading a webhook endpoint failed");
            return;
        }
    };
    let attempted_ms = s.clock.now_ms();
    let keys = match s
        .webhooks
        .signing_keys(s.store.as_ref(), &webhook, attempted_ms)
        .await
    {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!(error = %e, "deriving a webhook signing key failed");
            return;
        }
    };
    let keys: Vec<_> = keys.iter().collect();
    let sent = s
        .sender
        .send(
            &webhook.url,
            &d.message_id,
            attempted_ms.div_euclid(1000),
            &d.body,
            &keys,
            attempted_ms,
        )
        .await;
    let now_ms = s.clock.now_ms();
    let attempt = d.attempts + 1;
    let outcome = s
        .webhooks
        .config
        .retry
        .outcome(attempt, sent.status, sent.retry_after, now_ms);
    s.metrics.webhook_attempt(sent.result, sent.latency);
    let recorded = hooks
        .record_attempt(&RecordAttempt {
            webhook_id: d.webhook_id,
            message_id: d.message_id.clone(),
            lease: d.lease.unwrap_or(s.node),
            attempt,
            attempted_ms,
            response_status: sent.status,
            response_body: sent.response_body,
            error: sent.error.clone(),
            latency_ms: sent.latency.as_millis() as u64,
            outcome,
            disable_after_ms: s.webhooks.config.disable_after.as_millis() as i64,
            now_ms,
        })
        .await;
    match recorded {
        Ok(r) => {
            if let Some(reason) = r.disabled {
                tracing::warn!(webhook = %d.webhook_id, reason, "webhook endpoint disabled");
                s.webhooks.poke();
            }
        }
        // Not recorded: the lease expires and the delivery is sent again (at least once).
        Err(e) => {
            tracing::warn!(webhook = %d.webhook_id, error = %e, "recording a webhook attempt failed")
        }
    }
}
