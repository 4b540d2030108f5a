//! The [`Store`] implementation, written once over [`Backend`]: what a backend provides
//! (its writer queue, its reads, its event channel). Every write method of the store is a
//! write operation of `ops.rs` handed to the backend's writer, so a new operation is added
//! here and in `ops.rs`, and a backend only gives it its SQL (`WriteTx`).

use std::future::Future;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use tokio::sync::broadcast;
use uuid::Uuid;
use wrapup_types::{Division, DivisionGrant, ErrorDetail, InteractionState, WrapUp, WrapUpCode};

use crate::error::Result;
use crate::ops;
use crate::records::{
    ApplyWrapUp, ClientRecord, CodeFilter, CodeRecord, CodeSearch, EventBounds, EventRecord, Found,
    InteractionFilter, InteractionRecord, NewInteraction, PageRequest, Search, SharedInteraction,
    StateCount, TokenRecord, WrapUpApplied,
};
use crate::store::{Store, StoreObserver};
use crate::webhooks::ops::{
    CreateWebhook, DeleteWebhook, MetaOrInsert, PruneWebhookLog, QueueDelivery, RewindWebhook,
    RotateSecret, UpdateWebhook,
};
use crate::webhooks::{
    AttemptQuery, AttemptRecord, AttemptRecorded, ClaimDeliveries, DeliveryRecord,
    EnqueueDeliveries, NewDelivery, RecordAttempt, WebhookChanges, WebhookRecord, WebhookStore,
};
use crate::write::WriteOp;

/// A storage backend: its writer, its reads (each as [`Store`] documents it) and where it
/// publishes committed events.
pub(crate) trait Backend: WebhookBackend + Send + Sync + 'static {
    /// Runs `op` in the writer's next batch; answers once the batch committed.
    fn write<Op: WriteOp>(&self, op: Op) -> impl Future<Output = Result<Op::Output>> + Send;
    /// The channel committed events are published on.
    fn events(&self) -> &broadcast::Sender<Arc<EventRecord>>;
    /// The observer told about every write batch, once installed.
    fn observer(&self) -> &OnceLock<Arc<dyn StoreObserver>>;
    /// Stops the writer after the writes queued now (see [`Store::close`]).
    fn close(&self) -> impl Future<Output = ()> + Send;

    fn health(&self) -> impl Future<Output = Result<()>> + Send;
    fn get_division(&self, id: Uuid) -> impl Future<Output = Result<Option<Division>>> + Send;
    fn list_divisions(
        &self,
        grant: &DivisionGrant,
        page: PageRequest,
    ) -> impl Future<Output = Result<Vec<(i64, Division)>>> + Send;
    fn search_divisions(
        &self,
        grant: &DivisionGrant,
        search: &Search,
    ) -> impl Future<Output = Result<Found<Division>>> + Send;
    fn get_code(&self, id: Uuid) -> impl Future<Output = Result<Option<CodeRecord>>> + Send;
    fn search_codes(
        &self,
        grant: &DivisionGrant,
        search: &CodeSearch,
    ) -> impl Future<Output = Result<Found<CodeRecord>>> + Send;
    fn list_codes(
        &self,
        grant: &DivisionGrant,
        filter: &CodeFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Vec<CodeRecord>>> + Send;
    fn get_interaction(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<InteractionRecord>>> + Send;
    /// See [`Store::get_interaction_shared`]; a backend without a cache reads.
    fn get_interaction_shared(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Arc<SharedInteraction>>>> + Send {
        async move {
            Ok(self
                .get_interaction(id)
                .await?
                .map(SharedInteraction::shared))
        }
    }
    fn list_interactions(
        &self,
        grant: &DivisionGrant,
        filter: &InteractionFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Vec<InteractionRecord>>> + Send;
    fn count_interactions(
        &self,
        grant: &DivisionGrant,
    ) -> impl Future<Output = Result<Vec<StateCount>>> + Send;
    fn assess_wrapup(
        &self,
        interaction: &InteractionRecord,
        code_id: Option<Uuid>,
        divisions: &DivisionGrant,
        now_ms: i64,
    ) -> impl Future<Output = Result<Vec<ErrorDetail>>> + Send;
    fn wrapup_history(
        &self,
        interaction_id: Uuid,
    ) -> impl Future<Output = Result<Vec<WrapUp>>> + Send;
    fn next_finalize_due(&self) -> impl Future<Output = Result<Option<i64>>> + Send;
    fn get_client(&self, id: Uuid) -> impl Future<Output = Result<Option<ClientRecord>>> + Send;
    fn get_token(
        &self,
        hash: &[u8; 32],
    ) -> impl Future<Output = Result<Option<TokenRecord>>> + Send;
    fn events_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<EventRecord>>> + Send;
    fn event_bounds(&self) -> impl Future<Output = Result<EventBounds>> + Send;
    fn get_meta(&self, key: &str) -> impl Future<Output = Result<Option<String>>> + Send;
}

// The reads are called as `Backend::name(self, …)`: `Store` has methods of the same names.
#[async_trait]
impl<B: Backend> Store for B {
    async fn health(&self) -> Result<()> {
        Backend::health(self).await
    }

    async fn close(&self) {
        Backend::close(self).await
    }

    async fn create_division(&self, id: Uuid, name: &str, now_ms: i64) -> Result<Division> {
        let name = name.to_string();
        self.write(ops::CreateDivision { id, name, now_ms }).await
    }

    async fn get_division(&self, id: Uuid) -> Result<Option<Division>> {
        Backend::get_division(self, id).await
    }

    async fn list_divisions(
        &self,
        grant: &DivisionGrant,
        page: PageRequest,
    ) -> Result<Vec<(i64, Division)>> {
        Backend::list_divisions(self, grant, page).await
    }

    async fn search_divisions(
        &self,
        grant: &DivisionGrant,
        search: &Search,
    ) -> Result<Found<Division>> {
        Backend::search_divisions(self, grant, search).await
    }

    async fn search_codes(
        &self,
        grant: &DivisionGrant,
        search: &CodeSearch,
    ) -> Result<Found<CodeRecord>> {
        Backend::search_codes(self, grant, search).await
    }

    async fn create_code(&self, code: &WrapUpCode) -> Result<CodeRecord> {
        self.write(ops::CreateCode(code.clone())).await
    }

    async fn get_code(&self, id: Uuid) -> Result<Option<CodeRecord>> {
        Backend::get_code(self, id).await
    }

    async fn list_codes(
        &self,
        grant: &DivisionGrant,
        filter: &CodeFilter,
        page: PageRequest,
    ) -> Result<Vec<CodeRecord>> {
        Backend::list_codes(self, grant, filter, page).await
    }

    async fn update_code(
        &self,
        id: Uuid,
        name: &str,
        description: Option<&str>,
        now_ms: i64,
    ) -> Result<CodeRecord> {
        self.write(ops::UpdateCode {
            id,
            name: name.to_string(),
            description: description.map(str::to_string),
            now_ms,
        })
        .await
    }

    async fn archive_code(&self, id: Uuid, now_ms: i64) -> Result<CodeRecord> {
        self.write(ops::ArchiveCode { id, now_ms }).await
    }

    async fn create_interaction(&self, new: &NewInteraction) -> Result<InteractionRecord> {
        self.write(ops::CreateInteraction(new.clone())).await
    }

    async fn get_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>> {
        Backend::get_interaction(self, id).await
    }

    async fn get_interaction_shared(&self, id: Uuid) -> Result<Option<Arc<SharedInteraction>>> {
        Backend::get_interaction_shared(self, id).await
    }

    async fn list_interactions(
        &self,
        grant: &DivisionGrant,
        filter: &InteractionFilter,
        page: PageRequest,
    ) -> Result<Vec<InteractionRecord>> {
        Backend::list_interactions(self, grant, filter, page).await
    }

    async fn count_interactions(&self, grant: &DivisionGrant) -> Result<Vec<StateCount>> {
        Backend::count_interactions(self, grant).await
    }

    async fn set_state(
        &self,
        id: Uuid,
        to: InteractionState,
        now_ms: i64,
        settle_ms: i64,
    ) -> Result<InteractionRecord> {
        self.write(ops::SetState {
            id,
            to,
            now_ms,
            settle_ms,
        })
        .await
    }

    async fn apply_wrapup(&self, cmd: &ApplyWrapUp) -> Result<WrapUpApplied> {
        self.write(cmd.clone()).await
    }

    async fn apply_wrapups(&self, cmds: Vec<ApplyWrapUp>) -> Result<Vec<Result<WrapUpApplied>>> {
        self.write(ops::ApplyWrapUps(cmds)).await
    }

    async fn assess_wrapup(
        &self,
        interaction: &InteractionRecord,
        code_id: Option<Uuid>,
        divisions: &DivisionGrant,
        now_ms: i64,
    ) -> Result<Vec<ErrorDetail>> {
        Backend::assess_wrapup(self, interaction, code_id, divisions, now_ms).await
    }

    async fn wrapup_history(&self, interaction_id: Uuid) -> Result<Vec<WrapUp>> {
        Backend::wrapup_history(self, interaction_id).await
    }

    async fn finalize_due(&self, now_ms: i64) -> Result<Vec<InteractionRecord>> {
        self.write(ops::FinalizeDue { now_ms }).await
    }

    async fn next_finalize_due(&self) -> Result<Option<i64>> {
        Backend::next_finalize_due(self).await
    }

    async fn create_client(&self, client: &ClientRecord) -> Result<()> {
        self.write(ops::CreateClient(client.clone())).await
    }

    async fn get_client(&self, id: Uuid) -> Result<Option<ClientRecord>> {
        Backend::get_client(self, id).await
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<()> {
        self.write(ops::InsertToken(token.clone())).await
    }

    async fn get_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        Backend::get_token(self, hash).await
    }

    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<EventRecord>> {
        Backend::events_after(self, after_seq, limit).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.events().subscribe()
    }

    async fn event_bounds(&self) -> Result<EventBounds> {
        Backend::event_bounds(self).await
    }

    async fn prune_events(&self, before_ms: i64) -> Result<u64> {
        self.write(ops::PruneEvents { before_ms }).await
    }

    fn set_observer(&self, observer: Arc<dyn StoreObserver>) {
        if self.observer().set(observer).is_err() {
            tracing::warn!("the store observer was already set; keeping the first");
        }
    }

    async fn seed_finalized(&self, division: Uuid, ids: Vec<Uuid>, now_ms: i64) -> Result<u64> {
        self.write(ops::SeedFinalized {
            division,
            ids,
            now_ms,
        })
        .await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        Backend::get_meta(self, key).await
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.write(ops::SetMeta {
            key: key.to_string(),
            value: value.to_string(),
        })
        .await
    }

    fn webhooks(&self) -> &dyn WebhookStore {
        self
    }
}

/// The reads of webhook storage a backend provides (each as [`WebhookStore`] documents it).
pub(crate) trait WebhookBackend: Send + Sync + 'static {
    fn get_webhook(
        &self,
        id: Uuid,
    ) -> impl std::future::Future<Output = Result<Option<WebhookRecord>>> + Send;
    fn list_webhooks(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> impl std::future::Future<Output = Result<Vec<WebhookRecord>>> + Send;
    fn get_delivery(
        &self,
        webhook_id: Uuid,
        message_id: &str,
    ) -> impl std::future::Future<Output = Result<Option<DeliveryRecord>>> + Send;
    fn next_delivery_due(
        &self,
        webhook_id: Uuid,
    ) -> impl std::future::Future<Output = Result<Option<i64>>> + Send;
    fn pending_deliveries(
        &self,
        webhook_id: Uuid,
    ) -> impl std::future::Future<Output = Result<u64>> + Send;
    fn list_attempts(
        &self,
        query: AttemptQuery,
    ) -> impl std::future::Future<Output = Result<Vec<AttemptRecord>>> + Send;
    fn last_event_before(
        &self,
        ms: i64,
    ) -> impl std::future::Future<Output = Result<Option<i64>>> + Send;
}

#[async_trait]
impl<B: Backend> WebhookStore for B {
    async fn create_webhook(&self, webhook: &WebhookRecord) -> Result<WebhookRecord> {
        self.write(CreateWebhook(webhook.clone())).await
    }

    async fn get_webhook(&self, id: Uuid) -> Result<Option<WebhookRecord>> {
        WebhookBackend::get_webhook(self, id).await
    }

    async fn list_webhooks(&self, after: Option<i64>, limit: u32) -> Result<Vec<WebhookRecord>> {
        WebhookBackend::list_webhooks(self, after, limit).await
    }

    async fn update_webhook(&self, id: Uuid, changes: &WebhookChanges) -> Result<WebhookRecord> {
        self.write(UpdateWebhook {
            id,
            changes: changes.clone(),
        })
        .await
    }

    async fn delete_webhook(&self, id: Uuid) -> Result<()> {
        self.write(DeleteWebhook { id }).await
    }

    async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        previous_expires_ms: i64,
        now_ms: i64,
    ) -> Result<WebhookRecord> {
        self.write(RotateSecret {
            id,
            previous_expires_ms,
            now_ms,
        })
        .await
    }

    async fn enqueue(&self, batch: &EnqueueDeliveries) -> Result<bool> {
        self.write(batch.clone()).await
    }

    async fn rewind_webhook(&self, id: Uuid, to: i64, now_ms: i64) -> Result<WebhookRecord> {
        self.write(RewindWebhook { id, to, now_ms }).await
    }

    async fn queue_delivery(
        &self,
        webhook_id: Uuid,
        delivery: &NewDelivery,
        now_ms: i64,
    ) -> Result<()> {
        self.write(QueueDelivery {
            webhook_id,
            delivery: delivery.clone(),
            now_ms,
        })
        .await
    }

    async fn claim(&self, claim: &ClaimDeliveries) -> Result<Vec<DeliveryRecord>> {
        self.write(claim.clone()).await
    }

    async fn record_attempt(&self, attempt: &RecordAttempt) -> Result<AttemptRecorded> {
        self.write(attempt.clone()).await
    }

    async fn get_delivery(
        &self,
        webhook_id: Uuid,
        message_id: &str,
    ) -> Result<Option<DeliveryRecord>> {
        WebhookBackend::get_delivery(self, webhook_id, message_id).await
    }

    async fn next_delivery_due(&self, webhook_id: Uuid) -> Result<Option<i64>> {
        WebhookBackend::next_delivery_due(self, webhook_id).await
    }

    async fn pending_deliveries(&self, webhook_id: Uuid) -> Result<u64> {
        WebhookBackend::pending_deliveries(self, webhook_id).await
    }

    async fn list_attempts(&self, query: AttemptQuery) -> Result<Vec<AttemptRecord>> {
        WebhookBackend::list_attempts(self, query).await
    }

    async fn get_event(&self, seq: i64) -> Result<Option<EventRecord>> {
        if seq < 1 {
            return Ok(None);
        }
        let found = Backend::events_after(self, seq - 1, 1).await?;
        Ok(found.into_iter().find(|e| e.seq == seq))
    }

    async fn last_event_before(&self, ms: i64) -> Result<Option<i64>> {
        WebhookBackend::last_event_before(self, ms).await
    }

    async fn prune_webhook_log(&self, before_ms: i64) -> Result<u64> {
        self.write(PruneWebhookLog { before_ms }).await
    }

    async fn meta_or_insert(&self, key: &str, value: &str) -> Result<String> {
        self.write(MetaOrInsert {
            key: key.to_string(),
            value: value.to_string(),
        })
        .await
    }
}
