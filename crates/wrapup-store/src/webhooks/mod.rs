//! Webhook storage (docs/webhooks.md): endpoints, each endpoint's delivery queue and the
//! log of delivery attempts, behind [`WebhookStore`] (reached through
//! [`Store::webhooks`](crate::Store::webhooks)).
//!
//! How delivery uses it. Each endpoint has a cursor into the event log: the server reads
//! the events after it, and [`WebhookStore::enqueue`] turns those the endpoint receives
//! into delivery rows and moves the cursor, in one transaction (and only if no other node
//! moved it first). A row is sent by whoever [`WebhookStore::claim`]s it: claiming leases
//! it until a deadline, skipping rows another node holds (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL) and rows whose interaction has an earlier event still pending, so an
//! interaction's events go out in order. [`WebhookStore::record_attempt`] logs the attempt
//! and moves the row on (delivered, retried later, failed), and the endpoint with it
//! (disabled after `410 Gone` or a day of failures). The server's workers do all three at
//! once, [`WebhookStore::pass`]: the attempts made since the last pass are recorded, the new
//! events queued and what is due claimed, in one transaction, so a burst of deliveries costs
//! a few write transactions rather than several each. A node that dies mid-delivery leaves a
//! lease that expires; another node then claims the row. Nothing is lost between the event
//! log and the receiver: an event is in the log, then in the queue, then delivered.
//!
//! The parts: `records.rs` (the values), `ops.rs` (the write operations, including the
//! commands the server builds: [`EnqueueDeliveries`], [`ClaimDeliveries`],
//! [`RecordAttempt`], and [`DeliveryPass`], the three at once), `schema.rs` (rows and
//! columns). As with [`Store`](crate::Store), the writes of [`WebhookStore`] are provided
//! methods that hand their operation to the store's writer, and its reads are implemented by
//! each backend, in its `webhooks.rs`; the primitives the operations run with are in each
//! backend's `webhook_tx.rs`.

pub(crate) mod ops;
pub mod records;
pub(crate) mod schema;

use async_trait::async_trait;
use uuid::Uuid;

pub use self::ops::{ClaimDeliveries, DeliveryPass, EnqueueDeliveries, PassDone, RecordAttempt};
use self::ops::{
    CreateWebhook, DeleteWebhook, MetaOrInsert, PruneWebhookLog, QueueDelivery, RewindWebhook,
    RotateSecret, UpdateWebhook,
};
pub use self::records::*;
use crate::error::Result;
use crate::records::EventRecord;
use crate::writer::Writer;

/// Webhook storage: endpoints, delivery queues, the attempt log. See the module docs for
/// how delivery uses it.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// The writer every write goes through: the store's (see
    /// [`Store::writer`](crate::Store::writer)).
    fn writer(&self) -> &Writer;

    /// Stores a new endpoint.
    async fn create_webhook(&self, webhook: &WebhookRecord) -> Result<WebhookRecord> {
        self.writer().write(CreateWebhook(webhook.clone())).await
    }
    async fn get_webhook(&self, id: Uuid) -> Result<Option<WebhookRecord>>;
    /// Endpoints in creation order, after listing position `after`, at most `limit`.
    async fn list_webhooks(&self, after: Option<i64>, limit: u32) -> Result<Vec<WebhookRecord>>;
    /// Changes an endpoint (`NotFound` if it does not exist). Enabling a disabled endpoint
    /// clears its disabled reason and failure streak.
    async fn update_webhook(&self, id: Uuid, changes: &WebhookChanges) -> Result<WebhookRecord> {
        self.writer()
            .write(UpdateWebhook {
                id,
                changes: changes.clone(),
            })
            .await
    }
    /// Deletes an endpoint with its queue and log (`NotFound` if it does not exist).
    async fn delete_webhook(&self, id: Uuid) -> Result<()> {
        self.writer().write(DeleteWebhook { id }).await
    }
    /// Starts signing with the next secret generation; the previous one keeps signing
    /// until `previous_expires_ms`.
    async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        previous_expires_ms: i64,
        now_ms: i64,
    ) -> Result<WebhookRecord> {
        self.writer()
            .write(RotateSecret {
                id,
                previous_expires_ms,
                now_ms,
            })
            .await
    }
    /// Queues `deliveries` and moves the endpoint's cursor from `expected_cursor` to
    /// `new_cursor`, unless the cursor is no longer `expected_cursor` (another node, or a
    /// replay, moved it): then nothing changes and the answer is `false`. A delivery of an
    /// event already queued is queued again from its first attempt.
    async fn enqueue(&self, batch: &EnqueueDeliveries) -> Result<bool> {
        self.writer().write(batch.clone()).await
    }
    /// Moves the cursor back to `to` (if it is further), so every later event the endpoint
    /// receives is queued again. Returns the endpoint as it now is.
    async fn rewind_webhook(&self, id: Uuid, to: i64, now_ms: i64) -> Result<WebhookRecord> {
        self.writer().write(RewindWebhook { id, to, now_ms }).await
    }
    /// Queues one delivery (a resend or a test) from its first attempt.
    async fn queue_delivery(
        &self,
        webhook_id: Uuid,
        delivery: &NewDelivery,
        now_ms: i64,
    ) -> Result<()> {
        self.writer()
            .write(QueueDelivery {
                webhook_id,
                delivery: delivery.clone(),
                now_ms,
            })
            .await
    }
    /// Leases the deliveries due now that no one else holds and whose interaction has no
    /// earlier event pending, at most `limit`. Nothing for a disabled endpoint.
    async fn claim(&self, claim: &ClaimDeliveries) -> Result<Vec<DeliveryRecord>> {
        self.writer().write(claim.clone()).await
    }
    /// Logs an attempt and moves its delivery (if the attempt still holds its lease) and
    /// the endpoint on.
    async fn record_attempt(&self, attempt: &RecordAttempt) -> Result<AttemptRecorded> {
        self.writer().write(attempt.clone()).await
    }
    /// Records attempts, queues events and claims what is due, in one transaction (see
    /// [`DeliveryPass`]): what the dispatcher's workers do on every pass.
    async fn pass(&self, pass: &DeliveryPass) -> Result<PassDone> {
        self.writer().write(pass.clone()).await
    }
    async fn get_delivery(
        &self,
        webhook_id: Uuid,
        message_id: &str,
    ) -> Result<Option<DeliveryRecord>>;
    /// When a delivery of the endpoint can next be claimed (due, unleased, first of its
    /// interaction), if any is pending.
    async fn next_delivery_due(&self, webhook_id: Uuid) -> Result<Option<i64>>;
    /// How many deliveries of the endpoint are pending.
    async fn pending_deliveries(&self, webhook_id: Uuid) -> Result<u64>;
    /// The attempt log, newest first.
    async fn list_attempts(&self, query: AttemptQuery) -> Result<Vec<AttemptRecord>>;
    /// The stored event with this sequence number.
    async fn get_event(&self, seq: i64) -> Result<Option<EventRecord>>;
    /// The sequence number of the last stored event that occurred before `ms`.
    async fn last_event_before(&self, ms: i64) -> Result<Option<i64>>;
    /// Deletes the attempts made before `before_ms`, and the deliveries done (delivered or
    /// failed) before it; returns how many rows were deleted.
    async fn prune_webhook_log(&self, before_ms: i64) -> Result<u64> {
        self.writer().write(PruneWebhookLog { before_ms }).await
    }
    /// The `meta` value of `key`, set to `value` first if it has none (whichever node comes
    /// first sets it; every node gets the same answer).
    async fn meta_or_insert(&self, key: &str, value: &str) -> Result<String> {
        self.writer()
            .write(MetaOrInsert {
                key: key.to_string(),
                value: value.to_string(),
            })
            .await
    }
}
