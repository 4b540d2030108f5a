//! The webhook write operations, each one type, declared here with what it does, once for
//! both backends (see `write.rs`), over the webhook tables' primitives
//! ([`WebhookTx`](crate::write::WebhookTx)), which each backend implements in its
//! `webhook_tx.rs`. The four the server builds itself ([`EnqueueDeliveries`],
//! [`ClaimDeliveries`], [`RecordAttempt`], and [`DeliveryPass`], which runs the other three
//! in one transaction) are public, exported by `webhooks`; the others are built by the provided methods of [`WebhookStore`](super::WebhookStore).

use uuid::Uuid;
use wrapup_types::timestamp::{format, from_millis};
use wrapup_types::AttemptResult;

use super::records::*;
use crate::error::StoreError;
use crate::write::{WriteError, WriteOp, WriteTx};

/// The endpoint `id`, locked for the rest of the write (`NotFound` if there is none).
async fn locked_webhook<T: WriteTx>(tx: &mut T, id: Uuid) -> Result<WebhookRecord, WriteError> {
    Ok(tx
        .webhook_for_update(id)
        .await?
        .ok_or(StoreError::NotFound)?)
}

/// Locks the endpoint `id`, applies `change` to it and saves it.
async fn modify_webhook<T: WriteTx>(
    tx: &mut T,
    id: Uuid,
    change: impl FnOnce(&mut WebhookRecord),
) -> Result<WebhookRecord, WriteError> {
    let mut webhook = locked_webhook(tx, id).await?;
    change(&mut webhook);
    tx.save_webhook(&webhook).await?;
    Ok(webhook)
}

pub(crate) struct CreateWebhook(pub WebhookRecord);

impl WriteOp for CreateWebhook {
    type Output = WebhookRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<WebhookRecord, WriteError> {
        let mut webhook = self.0.clone();
        webhook.seq = tx.insert_webhook(&webhook).await?;
        Ok(webhook)
    }

    fn conflict(&self) -> String {
        format!("webhook {} already exists", self.0.id)
    }
}

pub(crate) struct UpdateWebhook {
    pub id: Uuid,
    pub changes: WebhookChanges,
}

impl WriteOp for UpdateWebhook {
    type Output = WebhookRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<WebhookRecord, WriteError> {
        let c = &self.changes;
        modify_webhook(tx, self.id, |w| {
            if let Some(url) = &c.url {
                w.url = url.clone();
            }
            if let Some(kinds) = &c.event_types {
                w.event_types = kinds.clone();
            }
            if let Some(divisions) = &c.divisions {
                w.divisions = divisions.clone();
            }
            if let Some(description) = &c.description {
                w.description = description.clone();
            }
            match c.enabled {
                Some(true) if !w.enabled => {
                    w.enabled = true;
                    w.disabled_reason = None;
                    w.disabled_ms = None;
                    w.failing_since_ms = None;
                }
                Some(false) if w.enabled => {
                    w.enabled = false;
                    w.disabled_reason = Some(format!(
                        "disabled through the API at {}",
                        format(from_millis(c.now_ms))
                    ));
                    w.disabled_ms = Some(c.now_ms);
                }
                _ => {}
            }
            w.updated_ms = c.now_ms;
        })
        .await
    }
}

pub(crate) struct DeleteWebhook {
    pub id: Uuid,
}

impl WriteOp for DeleteWebhook {
    type Output = ();

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<(), WriteError> {
        if tx.delete_webhook(self.id).await? {
            Ok(())
        } else {
            Err(StoreError::NotFound.into())
        }
    }
}

pub(crate) struct RotateSecret {
    pub id: Uuid,
    pub previous_expires_ms: i64,
    pub now_ms: i64,
}

impl WriteOp for RotateSecret {
    type Output = WebhookRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<WebhookRecord, WriteError> {
        modify_webhook(tx, self.id, |w| {
            w.secret_generation += 1;
            w.previous_secret_expires_ms =
                Some(self.previous_expires_ms).filter(|expires| *expires > self.now_ms);
            w.updated_ms = self.now_ms;
        })
        .await
    }
}

/// The events read after an endpoint's cursor: the deliveries they make, and where the
/// cursor moves.
#[derive(Debug, Clone, PartialEq)]
pub struct EnqueueDeliveries {
    pub webhook_id: Uuid,
    pub expected_cursor: i64,
    pub new_cursor: i64,
    pub deliveries: Vec<NewDelivery>,
    pub now_ms: i64,
}

impl WriteOp for EnqueueDeliveries {
    type Output = bool;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<bool, WriteError> {
        let Some(mut w) = tx.webhook_for_update(self.webhook_id).await? else {
            return Ok(false);
        };
        if w.cursor != self.expected_cursor {
            return Ok(false);
        }
        for delivery in &self.deliveries {
            tx.upsert_delivery(self.webhook_id, delivery, self.now_ms)
                .await?;
        }
        w.cursor = self.new_cursor;
        tx.save_webhook(&w).await?;
        Ok(true)
    }
}

pub(crate) struct RewindWebhook {
    pub id: Uuid,
    pub to: i64,
    pub now_ms: i64,
}

impl WriteOp for RewindWebhook {
    type Output = WebhookRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<WebhookRecord, WriteError> {
        let mut w = locked_webhook(tx, self.id).await?;
        if self.to < w.cursor {
            w.cursor = self.to.max(0);
            w.updated_ms = self.now_ms;
            tx.save_webhook(&w).await?;
        }
        Ok(w)
    }
}

pub(crate) struct QueueDelivery {
    pub webhook_id: Uuid,
    pub delivery: NewDelivery,
    pub now_ms: i64,
}

impl WriteOp for QueueDelivery {
    type Output = ();

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<(), WriteError> {
        // Locks the endpoint, so a delivery is never queued for one deleted meanwhile.
        locked_webhook(tx, self.webhook_id).await?;
        tx.upsert_delivery(self.webhook_id, &self.delivery, self.now_ms)
            .await?;
        Ok(())
    }
}

/// A node's claim on due deliveries: leased to `lease` until `now_ms + lease_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimDeliveries {
    pub webhook_id: Uuid,
    pub now_ms: i64,
    pub limit: u32,
    pub lease: Uuid,
    pub lease_ms: i64,
}

impl WriteOp for ClaimDeliveries {
    type Output = Vec<DeliveryRecord>;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<Vec<DeliveryRecord>, WriteError> {
        // Locks the endpoint (before its deliveries, as every operation does): claims of one
        // endpoint on several nodes take turns, and never meet a half-recorded attempt.
        let enabled = match tx.webhook_for_update(self.webhook_id).await? {
            Some(w) => w.enabled,
            None => false,
        };
        if !enabled || self.limit == 0 {
            return Ok(Vec::new());
        }
        let mut due = tx
            .claimable_deliveries(self.webhook_id, self.now_ms, self.limit)
            .await?;
        if due.is_empty() {
            return Ok(due);
        }
        let expires = self.now_ms + self.lease_ms;
        let ids: Vec<String> = due.iter().map(|d| d.message_id.clone()).collect();
        tx.lease_deliveries(self.webhook_id, &ids, self.lease, expires)
            .await?;
        for d in &mut due {
            d.lease = Some(self.lease);
            d.lease_expires_ms = Some(expires);
        }
        Ok(due)
    }
}

/// One attempt, to log and act on.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordAttempt {
    pub webhook_id: Uuid,
    pub message_id: String,
    /// The lease the attempt was made under: a delivery whose lease has passed to another
    /// node only gets the attempt logged.
    pub lease: Uuid,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub attempted_ms: i64,
    pub response_status: Option<u16>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub latency_ms: u64,
    pub outcome: AttemptOutcome,
    /// An endpoint whose attempts have all failed for this long is disabled.
    pub disable_after_ms: i64,
    pub now_ms: i64,
}

impl WriteOp for RecordAttempt {
    type Output = AttemptRecorded;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<AttemptRecorded, WriteError> {
        // The endpoint first, then the delivery: every operation locks in that order, so
        // two nodes' transactions never wait for each other in a cycle.
        let mut webhook = locked_webhook(tx, self.webhook_id).await?;
        let recorded = self.record(tx, &mut webhook).await?;
        tx.save_webhook(&webhook).await?;
        Ok(recorded)
    }
}

impl RecordAttempt {
    /// Records the attempt on its endpoint `webhook`, locked by the caller, which saves it.
    async fn record<T: WriteTx>(
        &self,
        tx: &mut T,
        webhook: &mut WebhookRecord,
    ) -> Result<AttemptRecorded, WriteError> {
        let mut delivery = tx
            .delivery_for_update(self.webhook_id, &self.message_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let (result, next_attempt_ms) = match self.outcome {
            AttemptOutcome::Delivered => (AttemptResult::Delivered, None),
            AttemptOutcome::Retry { at_ms } => (AttemptResult::Retrying, Some(at_ms)),
            AttemptOutcome::Failed | AttemptOutcome::Gone => (AttemptResult::Failed, None),
        };
        let holds_lease =
            delivery.status == DeliveryStatus::Pending && delivery.lease == Some(self.lease);
        if holds_lease {
            delivery.status = match result {
                AttemptResult::Delivered => DeliveryStatus::Delivered,
                AttemptResult::Retrying => DeliveryStatus::Pending,
                AttemptResult::Failed => DeliveryStatus::Failed,
            };
            delivery.attempts = self.attempt;
            delivery.next_attempt_ms = next_attempt_ms.unwrap_or(delivery.next_attempt_ms);
            delivery.lease = None;
            delivery.lease_expires_ms = None;
            delivery.updated_ms = self.now_ms;
            tx.save_delivery(&delivery).await?;
        }
        tx.insert_attempt(&AttemptRecord {
            seq: 0,
            webhook_id: self.webhook_id,
            message_id: self.message_id.clone(),
            event_seq: delivery.event_seq,
            event_type: delivery.event_type.clone(),
            attempt: self.attempt,
            attempted_ms: self.attempted_ms,
            response_status: self.response_status,
            response_body: self.response_body.clone(),
            error: self.error.clone(),
            latency_ms: self.latency_ms,
            result,
            next_attempt_ms,
        })
        .await?;
        let disabled = self.follow_up(webhook);
        Ok(AttemptRecorded { result, disabled })
    }

    /// What the attempt means for its endpoint: a success ends its failure streak; a 410,
    /// or a streak as long as `disable_after_ms`, disables it. Returns why it was disabled,
    /// when this attempt did it.
    fn follow_up(&self, w: &mut WebhookRecord) -> Option<String> {
        let since = match self.outcome {
            AttemptOutcome::Delivered => {
                w.failing_since_ms = None;
                return None;
            }
            _ => *w.failing_since_ms.get_or_insert(self.attempted_ms),
        };
        if !w.enabled {
            return None;
        }
        let what = self
            .error
            .clone()
            .unwrap_or_else(|| "the delivery failed".into());
        let reason = if self.outcome == AttemptOutcome::Gone {
            format!(
                "the endpoint answered 410 Gone at {}",
                format(from_millis(self.attempted_ms))
            )
        } else if self.now_ms - since >= self.disable_after_ms {
            format!(
                "every delivery attempt has failed since {} (the last: {what})",
                format(from_millis(since))
            )
        } else {
            return None;
        };
        w.enabled = false;
        w.disabled_reason = Some(reason.clone());
        w.disabled_ms = Some(self.now_ms);
        w.updated_ms = self.now_ms;
        Some(reason)
    }
}

/// One pass of an endpoint's worker, in one write transaction: the attempts it made since
/// its last pass are recorded (each as [`RecordAttempt`] does it), the events it read are
/// queued (as [`EnqueueDeliveries`], if any), and what is due is claimed (as
/// [`ClaimDeliveries`]), in that order: an interaction's next event is claimable in the
/// transaction that recorded its previous one answered. With `follow`, each delivery
/// claimed also brings the events after it of its interaction that are pending, due and not
/// leased (within the claim's limit), for the worker to send one after the other, each once
/// the one before it was answered; those it did not send are handed back in `unsent`. So a
/// burst costs one write transaction per pass, however many deliveries it records and
/// claims, and an interaction's events need not wait for a pass each.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryPass {
    /// Attempts to record (of any endpoint; the worker's own).
    pub attempts: Vec<RecordAttempt>,
    /// Deliveries claimed and not attempted (an earlier event of their interaction was not
    /// delivered): their leases, if still theirs, are given up, so they can be claimed
    /// again at once.
    pub unsent: Vec<DeliveryRecord>,
    pub enqueue: Option<EnqueueDeliveries>,
    pub claim: ClaimDeliveries,
    /// Claim each claimed delivery's followers too (see above).
    pub follow: bool,
}

/// What a [`DeliveryPass`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct PassDone {
    /// Per attempt, in order: what recording it did; `None` when its endpoint or its
    /// delivery no longer exists (nothing was recorded).
    pub recorded: Vec<Option<AttemptRecorded>>,
    /// Whether the events were queued and the cursor moved (`false` also without events).
    pub enqueued: bool,
    /// Each claimed delivery followed by its followers (with `follow`), in event order.
    pub claimed: Vec<DeliveryRecord>,
    /// The claiming endpoint as the transaction left it (`None`: it was deleted).
    pub webhook: Option<WebhookRecord>,
}

impl WriteOp for DeliveryPass {
    type Output = PassDone;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<PassDone, WriteError> {
        let id = self.claim.webhook_id;
        // The endpoint is locked and saved once for all of its attempts.
        let mut own = match self.attempts.iter().any(|a| a.webhook_id == id) {
            true => tx.webhook_for_update(id).await?,
            false => None,
        };
        let mut recorded = Vec::with_capacity(self.attempts.len());
        for attempt in &self.attempts {
            let done = match own.as_mut() {
                Some(webhook) if attempt.webhook_id == id => attempt.record(tx, webhook).await,
                None if attempt.webhook_id == id => Err(StoreError::NotFound.into()),
                _ => attempt.run(tx).await,
            };
            recorded.push(match done {
                Ok(done) => Some(done),
                // Checked before it writes anything: the transaction goes on.
                Err(WriteError::Refused(_)) => None,
                Err(failed) => return Err(failed),
            });
        }
        if let Some(webhook) = own.filter(|_| recorded.iter().any(Option::is_some)) {
            tx.save_webhook(&webhook).await?;
        }
        for d in &self.unsent {
            let Some(mut now) = tx.delivery_for_update(d.webhook_id, &d.message_id).await? else {
                continue;
            };
            if now.status == DeliveryStatus::Pending && now.lease.is_some() && now.lease == d.lease
            {
                now.lease = None;
                now.lease_expires_ms = None;
                tx.save_delivery(&now).await?;
            }
        }
        let enqueued = match &self.enqueue {
            Some(batch) => batch.run(tx).await?,
            None => false,
        };
        let mut claimed = self.claim.run(tx).await?;
        if self.follow && !claimed.is_empty() {
            claimed = self.followed(tx, claimed).await?;
        }
        let webhook = tx.webhook_for_update(self.claim.webhook_id).await?;
        Ok(PassDone {
            recorded,
            enqueued,
            claimed,
            webhook,
        })
    }
}

impl DeliveryPass {
    /// Each of `heads` (claimed) followed by the pending events after it of its interaction
    /// that are due and not leased, up to the first that is not, leased like them: at most
    /// the claim's limit in all.
    async fn followed<T: WriteTx>(
        &self,
        tx: &mut T,
        heads: Vec<DeliveryRecord>,
    ) -> Result<Vec<DeliveryRecord>, WriteError> {
        let c = &self.claim;
        let expires = c.now_ms + c.lease_ms;
        let mut room = (c.limit as usize).saturating_sub(heads.len());
        let mut chained = Vec::with_capacity(heads.len());
        let mut leased = Vec::new();
        for head in heads {
            let after = head.interaction_id.zip(head.event_seq);
            chained.push(head);
            let Some((interaction, seq)) = after.filter(|_| room > 0) else {
                continue;
            };
            for mut next in tx
                .pending_after(c.webhook_id, interaction, seq, room as u32)
                .await?
            {
                let held = matches!(next.lease_expires_ms, Some(e) if e > c.now_ms);
                if held || next.next_attempt_ms > c.now_ms {
                    break;
                }
                next.lease = Some(c.lease);
                next.lease_expires_ms = Some(expires);
                leased.push(next.message_id.clone());
                chained.push(next);
                room -= 1;
            }
        }
        if !leased.is_empty() {
            tx.lease_deliveries(c.webhook_id, &leased, c.lease, expires)
                .await?;
        }
        Ok(chained)
    }
}

pub(crate) struct PruneWebhookLog {
    pub before_ms: i64,
}

impl WriteOp for PruneWebhookLog {
    type Output = u64;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<u64, WriteError> {
        Ok(tx.prune_webhook_log(self.before_ms).await?)
    }
}

pub(crate) struct MetaOrInsert {
    pub key: String,
    pub value: String,
}

impl WriteOp for MetaOrInsert {
    type Output = String;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<String, WriteError> {
        Ok(tx.meta_or_insert(&self.key, &self.value).await?)
    }
}
