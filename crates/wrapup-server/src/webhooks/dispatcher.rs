//! The dispatcher: one task per node that keeps one worker running per enabled endpoint.
//!
//! A worker loops. Each pass is one write transaction ([`DeliveryPass`]): it records the
//! attempts that ended since the last pass (and gives up the leases of deliveries claimed
//! and not sent), takes the events after its endpoint's cursor into the delivery queue (the
//! events the endpoint receives; the cursor moves in the same transaction), and claims the
//! deliveries due, each with the pending events after it of its interaction. It sends each
//! interaction's claimed events in a task of its own, one after the other, each once the one
//! before it was delivered or failed for good; a task stops at an attempt to be retried and
//! hands the rest back unsent. At most `concurrency` attempts are in flight to the endpoint
//! (a semaphore); the worker holds claims on up to [`CLAIM_AHEAD`] times that, so sending
//! never waits for a transaction. The worker then waits for whichever comes first: a task
//! ending, a new event, the next delivery falling due (on the server's [`Clock`], so tests
//! drive retries with the manual clock), or a poke from the API. So a burst costs a write
//! transaction per pass, not several per delivery, and an interaction's events need not wait
//! for a pass each. An attempt is recorded only after it ended: a node that dies before
//! recording it leaves its lease to expire, and the delivery is sent again (at least once).
//! Every node runs workers for every endpoint; the store's claims (leases, `SKIP LOCKED`)
//! make each delivery go out from one node at a time, and a lease left by a dead node
//! expires and is claimed by another.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::Semaphore;
use tokio::task::{JoinError, JoinHandle, JoinSet};
use uuid::Uuid;
use wrapup_store::webhooks::{
    AttemptOutcome, ClaimDeliveries, DeliveryPass, DeliveryRecord, EnqueueDeliveries,
    RecordAttempt, WebhookRecord,
};
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
/// A worker holds claims on up to this many times its endpoint's concurrency: the
/// deliveries sending and those waiting for a permit to, so a pass claims as many as the
/// endpoint answered since the last one and sending never waits for a transaction.
const CLAIM_AHEAD: usize = 4;
/// A delivery still waiting to be sent is sent only if its lease outlasts the attempt's
/// time limit by this much.
const LEASE_MARGIN_MS: i64 = 1000;

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
    // Each task is one interaction's claimed deliveries, sent one after the other.
    let mut in_flight: JoinSet<Chain> = JoinSet::new();
    let capacity = s.webhooks.config.concurrency.max(1) as usize;
    let sending = Arc::new(Semaphore::new(capacity));
    let claimed_most = capacity * CLAIM_AHEAD;
    // How many claimed deliveries each task holds.
    let mut held = Held::default();
    // What the tasks that ended did, for the next pass to record.
    let mut ended = Chain::default();
    loop {
        while let Some(done) = in_flight.try_join_next_with_id() {
            ended.absorb(done, &mut held);
        }
        let done = std::mem::take(&mut ended);
        let pass = pass(&s, id, done, claimed_most.saturating_sub(held.total)).await;
        let (more_events, next_due, claimed_at) = match pass {
            Ok(Pass::Stop) => {
                in_flight.shutdown().await;
                return;
            }
            Ok(Pass::Full) => (false, None, 0),
            Ok(Pass::Claimed {
                webhook,
                deliveries,
                more_events,
                next_due,
                claimed_at,
            }) => {
                for chain in chains(deliveries) {
                    let n = chain.len();
                    let task = in_flight.spawn(send_chain(
                        s.clone(),
                        sending.clone(),
                        webhook.clone(),
                        chain,
                    ));
                    held.by_task.insert(task.id(), n);
                    held.total += n;
                }
                (more_events, next_due, claimed_at)
            }
            Err(e) => {
                // The attempts it carried are not recorded: their leases expire and they
                // are sent again (at least once).
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
        let has_room = held.total < claimed_most;
        tokio::select! {
            Some(done) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                ended.absorb(done, &mut held);
            }
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
    /// Nothing to record and no room to claim: nothing done.
    Full,
    Claimed {
        /// The endpoint as the pass left it: where its deliveries go.
        webhook: Arc<WebhookRecord>,
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

/// Records what the ended tasks did (`done`), takes new events into the queue and claims
/// what is due with the events following it (at most `room`), all in one write transaction
/// ([`DeliveryPass`]); nothing when there is nothing to record and no room.
async fn pass(s: &Shared, id: Uuid, done: Chain, room: usize) -> wrapup_store::Result<Pass> {
    let Chain {
        attempts, unsent, ..
    } = done;
    let hooks = s.store.webhooks();
    if attempts.is_empty() && unsent.is_empty() && room == 0 {
        // Full: the events are taken into the queue with the next claim, once an attempt
        // ends (the cursor says where they start).
        return Ok(Pass::Full);
    }
    let w = match hooks.get_webhook(id).await? {
        Some(w) if w.enabled || !attempts.is_empty() || !unsent.is_empty() => w,
        _ => return Ok(Pass::Stop),
    };
    // A disabled endpoint (disabled since the attempts were made) only has them recorded.
    let (page, room) = if w.enabled {
        (s.store.events_after(w.cursor, LOG_PAGE).await?, room)
    } else {
        (Vec::new(), 0)
    };
    let more_events = page.len() == LOG_PAGE as usize;
    let enqueue = page.last().map(|last| EnqueueDeliveries {
        webhook_id: id,
        expected_cursor: w.cursor,
        new_cursor: last.seq,
        deliveries: page
            .iter()
            .filter(|e| w.receives(e.kind, e.division_id))
            .map(|e| event_delivery(id, e))
            .collect(),
        now_ms: s.clock.now_ms(),
    });
    let claimed_at = s.clock.now_ms();
    let done = hooks
        .pass(&DeliveryPass {
            attempts,
            unsent,
            enqueue,
            follow: true,
            claim: ClaimDeliveries {
                webhook_id: id,
                now_ms: claimed_at,
                limit: room as u32,
                lease: s.node,
                lease_ms: s.webhooks.config.lease().as_millis() as i64,
            },
        })
        .await?;
    for reason in done
        .recorded
        .iter()
        .flatten()
        .filter_map(|r| r.disabled.as_ref())
    {
        tracing::warn!(webhook = %id, reason, "webhook endpoint disabled");
        s.webhooks.poke();
    }
    let Some(w) = done.webhook.filter(|w| w.enabled) else {
        return Ok(Pass::Stop);
    };
    let webhook = Arc::new(w);
    if done.claimed.len() == room || more_events {
        // The worker is full, or more events wait: it goes on without sleeping, so the
        // queue's depth and the next due time are read on a quieter pass.
        return Ok(Pass::Claimed {
            webhook,
            deliveries: done.claimed,
            more_events,
            next_due: None,
            claimed_at,
        });
    }
    let pending = hooks.pending_deliveries(id).await?;
    s.metrics.webhook_queue_depth(id, pending);
    Ok(Pass::Claimed {
        webhook,
        deliveries: done.claimed,
        more_events,
        next_due: hooks.next_delivery_due(id).await?,
        claimed_at,
    })
}

/// What a task did with its deliveries: the attempts it made, the deliveries it did not
/// send.
#[derive(Default)]
struct Chain {
    attempts: Vec<RecordAttempt>,
    unsent: Vec<DeliveryRecord>,
}

/// The claimed deliveries a worker's tasks hold, per task and in all.
#[derive(Default)]
struct Held {
    by_task: HashMap<tokio::task::Id, usize>,
    total: usize,
}

impl Chain {
    /// Adds what a task did (a task that panicked hands nothing back: its deliveries'
    /// leases expire), and counts its deliveries as no longer held.
    fn absorb(&mut self, task: Result<(tokio::task::Id, Chain), JoinError>, held: &mut Held) {
        let id = match &task {
            Ok((id, _)) => *id,
            Err(e) => e.id(),
        };
        held.total -= held.by_task.remove(&id).unwrap_or(0);
        if let Ok((_, done)) = task {
            self.attempts.extend(done.attempts);
            self.unsent.extend(done.unsent);
        }
    }
}

/// Claimed deliveries as the pass gives them (each first of its interaction, followed by the
/// events after it), cut into one run per interaction.
fn chains(deliveries: Vec<DeliveryRecord>) -> Vec<Vec<DeliveryRecord>> {
    let mut chains: Vec<Vec<DeliveryRecord>> = Vec::new();
    for d in deliveries {
        match chains.last_mut() {
            Some(last)
                if d.interaction_id.is_some()
                    && last.last().map(|l| l.interaction_id) == Some(d.interaction_id) =>
            {
                last.push(d)
            }
            _ => chains.push(vec![d]),
        }
    }
    chains
}

/// Sends an interaction's claimed deliveries in order, each once the one before it was
/// delivered or failed for good; the rest, after one that is retried later or was not
/// attempted, is handed back unsent.
async fn send_chain(
    s: Shared,
    sending: Arc<Semaphore>,
    webhook: Arc<WebhookRecord>,
    chain: Vec<DeliveryRecord>,
) -> Chain {
    let mut done = Chain::default();
    let mut deliveries = chain.into_iter();
    for d in deliveries.by_ref() {
        let Some(attempt) = deliver(&s, &sending, &webhook, &d).await else {
            done.unsent.push(d);
            break;
        };
        let go_on = matches!(
            attempt.outcome,
            AttemptOutcome::Delivered | AttemptOutcome::Failed
        );
        done.attempts.push(attempt);
        if !go_on {
            break;
        }
    }
    done.unsent.extend(deliveries);
    done
}

/// Sends one claimed delivery to `webhook` (as the pass that claimed it left it), once one of
/// the endpoint's `sending` permits is free; returns the attempt, for the next pass to record
/// (`None`: not attempted; the next pass gives its lease up and it is claimed again).
async fn deliver(
    s: &Shared,
    sending: &Semaphore,
    webhook: &WebhookRecord,
    d: &DeliveryRecord,
) -> Option<RecordAttempt> {
    let _permit = sending.acquire().await.ok()?;
    let attempted_ms = s.clock.now_ms();
    // Claimed ahead and kept waiting (a slow endpoint): sent only while its lease outlasts
    // the attempt, so that no other node can claim it meanwhile.
    let lease_left = d
        .lease_expires_ms
        .unwrap_or(i64::MAX)
        .saturating_sub(attempted_ms);
    if lease_left < s.webhooks.config.timeout.as_millis() as i64 + LEASE_MARGIN_MS {
        return None;
    }
    let keys = match s
        .webhooks
        .signing_keys(s.store.as_ref(), webhook, attempted_ms)
        .await
    {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!(error = %e, "deriving a webhook signing key failed");
            return None;
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
    Some(RecordAttempt {
        webhook_id: d.webhook_id,
        message_id: d.message_id.clone(),
        lease: d.lease.unwrap_or(s.node),
        attempt,
        attempted_ms,
        response_status: sent.status,
        response_body: sent.response_body,
        error: sent.error,
        latency_ms: sent.latency.as_millis() as u64,
        outcome,
        disable_after_ms: s.webhooks.config.disable_after.as_millis() as i64,
        now_ms,
    })
}
