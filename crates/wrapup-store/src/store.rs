//! The [`Store`] trait: the storage interface of the server, in domain operations.
//!
//! Its reads are required methods, which each backend implements with its query. Its
//! writes are provided methods: each builds its operation (`ops.rs`) and hands it to the
//! store's [`Writer`], the one required accessor. See the crate docs for what every
//! implementation guarantees.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast;
use uuid::Uuid;
use wrapup_types::{Division, DivisionGrant, ErrorDetail, InteractionState, WrapUp, WrapUpCode};

use crate::analytics::StartedScan;
use crate::error::Result;
use crate::notifications::NotificationStore;
use crate::ops::{self, ApplyWrapUp};
use crate::records::{
    ClientRecord, CodeFilter, CodeRecord, CodeSearch, EventBounds, EventRecord, Found,
    InteractionFilter, InteractionRecord, NewInteraction, PageRequest, QueueRecord, QueueSearch,
    Search, SharedInteraction, StateCount, TokenRecord, UserRecord, WrapUpApplied,
};
use crate::webhooks::WebhookStore;
use crate::writer::{StoreObserver, Writer};
use crate::{acw, queue_ops};

/// The storage interface of the server. See the crate docs for the invariants.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The writer every write of this store goes through. A store that wraps another (a
    /// test double) hands out the other's.
    fn writer(&self) -> &Writer;

    /// Answers once the store can serve requests.
    async fn health(&self) -> Result<()>;

    /// Shuts the writer down: every write queued before this call is committed (or fails)
    /// and is answered, then the writer stops; returns once it has. Writes after it answer
    /// [`StoreError::Closed`](crate::StoreError::Closed). Reads go on working. For a
    /// graceful shutdown: nothing acknowledged is lost, nothing queued is left unanswered.
    async fn close(&self) {
        self.writer().close().await
    }

    async fn create_division(&self, id: Uuid, name: &str, now_ms: i64) -> Result<Division> {
        let name = name.to_string();
        self.writer()
            .write(ops::CreateDivision { id, name, now_ms })
            .await
    }
    async fn get_division(&self, id: Uuid) -> Result<Option<Division>>;
    async fn list_divisions(
        &self,
        grant: &DivisionGrant,
        page: PageRequest,
    ) -> Result<Vec<(i64, Division)>>;

    /// The granted divisions that match `search`, in its order, one page of them, and how
    /// many match in all.
    async fn search_divisions(
        &self,
        grant: &DivisionGrant,
        search: &Search,
    ) -> Result<Found<Division>>;

    async fn create_code(&self, code: &WrapUpCode) -> Result<CodeRecord> {
        self.writer().write(ops::CreateCode(code.clone())).await
    }
    async fn get_code(&self, id: Uuid) -> Result<Option<CodeRecord>>;
    async fn list_codes(
        &self,
        grant: &DivisionGrant,
        filter: &CodeFilter,
        page: PageRequest,
    ) -> Result<Vec<CodeRecord>>;
    /// The codes of the granted divisions that match `search`, in its order, one page of
    /// them, and how many match in all.
    async fn search_codes(
        &self,
        grant: &DivisionGrant,
        search: &CodeSearch,
    ) -> Result<Found<CodeRecord>>;
    /// Renames or describes a code; `Conflict` if the name is taken in its division.
    async fn update_code(
        &self,
        id: Uuid,
        name: &str,
        description: Option<&str>,
        now_ms: i64,
    ) -> Result<CodeRecord> {
        self.writer()
            .write(ops::UpdateCode {
                id,
                name: name.to_string(),
                description: description.map(str::to_string),
                now_ms,
            })
            .await
    }
    /// Archives a code (idempotent).
    async fn archive_code(&self, id: Uuid, now_ms: i64) -> Result<CodeRecord> {
        self.writer().write(ops::ArchiveCode { id, now_ms }).await
    }

    async fn create_interaction(&self, new: &NewInteraction) -> Result<InteractionRecord> {
        self.writer()
            .write(ops::CreateInteraction(new.clone()))
            .await
    }
    async fn get_interaction(&self, id: Uuid) -> Result<Option<InteractionRecord>>;
    /// [`Store::get_interaction`], shared, with a slot for its API rendering. On SQLite it
    /// may be answered from the cache of hot interactions, which never holds an interaction
    /// older than a write this store has acknowledged (`sqlite/read_cache.rs`); PostgreSQL
    /// reads every time (other nodes' writes reach a node only after the fact).
    async fn get_interaction_shared(&self, id: Uuid) -> Result<Option<Arc<SharedInteraction>>> {
        Ok(self
            .get_interaction(id)
            .await?
            .map(SharedInteraction::shared))
    }
    /// How many interactions the cache of hot interactions holds (`None` without one, as
    /// on PostgreSQL): the `wrapup_read_cache_entries` metric.
    fn read_cache_entries(&self) -> Option<usize> {
        None
    }
    /// Fills the cache of hot interactions with the most recent interactions, rendered,
    /// until it is full, none is left or the store closes; returns how many it kept
    /// (`wrapup serve --warm-read-cache`). Exact while writes go on (`sqlite/warm.rs`).
    /// Nothing to do without a cache (PostgreSQL).
    async fn warm_read_cache(&self) -> Result<usize> {
        Ok(0)
    }
    async fn list_interactions(
        &self,
        grant: &DivisionGrant,
        filter: &InteractionFilter,
        page: PageRequest,
    ) -> Result<Vec<InteractionRecord>>;
    /// The interactions of the granted divisions created in the scan's interval, one page
    /// in creation order, and (when asked) how many there are (the analytics queries).
    async fn interactions_started(
        &self,
        grant: &DivisionGrant,
        scan: &StartedScan,
    ) -> Result<Found<InteractionRecord>>;
    /// How many interactions of the granted divisions are in each state, by division
    /// (divisions without interactions are absent).
    async fn count_interactions(&self, grant: &DivisionGrant) -> Result<Vec<StateCount>>;
    /// Moves an interaction through its lifecycle. Closing sets the finalization deadline
    /// `settle_ms` from now (finalizing at once when it is 0). `Rejected` when the
    /// lifecycle does not allow the move.
    async fn set_state(
        &self,
        id: Uuid,
        to: InteractionState,
        now_ms: i64,
        settle_ms: i64,
    ) -> Result<InteractionRecord> {
        self.set_state_by(id, to, None, now_ms, settle_ms).await
    }
    /// [`Store::set_state`], naming the agent who answered when it becomes `active`.
    async fn set_state_by(
        &self,
        id: Uuid,
        to: InteractionState,
        agent_id: Option<Uuid>,
        now_ms: i64,
        settle_ms: i64,
    ) -> Result<InteractionRecord> {
        self.writer()
            .write(ops::SetState {
                id,
                to,
                agent_id,
                now_ms,
                settle_ms,
            })
            .await
    }
    /// Skips the wrap-up (an optional prompt), after the same state checks as a wrap-up;
    /// `Rejected` when the interaction is not ready or its prompt requires a wrap-up.
    async fn skip_wrapup(
        &self,
        interaction_id: Uuid,
        divisions: &DivisionGrant,
        now_ms: i64,
    ) -> Result<WrapUpApplied> {
        self.writer()
            .write(acw::SkipWrapUp {
                interaction_id,
                divisions: divisions.clone(),
                now_ms,
            })
            .await
    }
    /// Ends the after-call work of every interaction whose timeout is at or before
    /// `now_ms` (the system's wrap-up `ININ-WRAP-UP-TIMEOUT`, or a forced timeout's end).
    /// Returns the interactions changed.
    async fn time_out_due(&self, now_ms: i64) -> Result<Vec<InteractionRecord>> {
        self.writer().write(acw::TimeOutDue { now_ms }).await
    }
    /// The earliest pending timeout of after-call work.
    async fn next_timeout_due(&self) -> Result<Option<i64>>;

    /// Stores a new queue; `Conflict` if its name is taken.
    async fn create_queue(&self, queue: &QueueRecord) -> Result<QueueRecord> {
        self.writer()
            .write(queue_ops::CreateQueue(queue.clone()))
            .await
    }
    async fn get_queue(&self, id: Uuid) -> Result<Option<QueueRecord>>;
    /// The queues of the granted divisions that match `search`, in its order, one page of
    /// them, and how many match in all.
    async fn search_queues(
        &self,
        grant: &DivisionGrant,
        search: &QueueSearch,
    ) -> Result<Found<QueueRecord>>;
    /// Changes a queue's name, description and settings; `Conflict` if the name is taken.
    async fn update_queue(
        &self,
        id: Uuid,
        name: &str,
        description: Option<&str>,
        prompt: wrapup_types::WrapupPrompt,
        timeout_ms: Option<u32>,
        now_ms: i64,
    ) -> Result<QueueRecord> {
        self.writer()
            .write(queue_ops::UpdateQueue {
                id,
                name: name.to_string(),
                description: description.map(str::to_string),
                prompt,
                timeout_ms,
                now_ms,
            })
            .await
    }
    /// Deletes a queue; `NotFound` if there is none.
    async fn delete_queue(&self, id: Uuid) -> Result<()> {
        self.writer().write(queue_ops::DeleteQueue { id }).await
    }
    /// Adds `add` to a queue's codes and removes `remove`.
    async fn change_queue_codes(
        &self,
        id: Uuid,
        add: Vec<Uuid>,
        remove: Vec<Uuid>,
        now_ms: i64,
    ) -> Result<QueueRecord> {
        self.writer()
            .write(queue_ops::ChangeQueueCodes {
                id,
                add,
                remove,
                now_ms,
            })
            .await
    }
    /// Stores a new agent.
    async fn create_user(&self, user: &UserRecord) -> Result<UserRecord> {
        self.writer()
            .write(queue_ops::CreateUser(user.clone()))
            .await
    }
    async fn get_user(&self, id: Uuid) -> Result<Option<UserRecord>>;
    /// The agents of the granted divisions that match `search`, one page of them, and how
    /// many match in all.
    async fn search_users(
        &self,
        grant: &DivisionGrant,
        search: &Search,
    ) -> Result<Found<UserRecord>>;
    /// Applies a wrap-up after the state, finalization and code checks, all inside one
    /// transaction; `Rejected` with every problem found otherwise.
    async fn apply_wrapup(&self, cmd: &ApplyWrapUp) -> Result<WrapUpApplied> {
        self.writer().write(cmd.clone()).await
    }
    /// Applies many wrap-ups in one store trip and one transaction, each exactly as
    /// [`Store::apply_wrapup`] would, in order; one answer per wrap-up, in the same order
    /// (a refusal of one does not affect the others). `Err` only when nothing was written.
    async fn apply_wrapups(&self, cmds: Vec<ApplyWrapUp>) -> Result<Vec<Result<WrapUpApplied>>> {
        self.writer().write(ops::ApplyWrapUps(cmds)).await
    }
    /// The state and code problems a wrap-up of `code_id` would meet now, without changing
    /// anything (used to report every problem of an invalid body): the checks
    /// [`Store::apply_wrapup`] makes in its transaction, made on a read.
    async fn wrapup_problems(
        &self,
        interaction: &InteractionRecord,
        code_id: Option<Uuid>,
        divisions: &DivisionGrant,
        now_ms: i64,
    ) -> Result<Vec<ErrorDetail>>;
    async fn wrapup_history(&self, interaction_id: Uuid) -> Result<Vec<WrapUp>>;

    /// Finalizes every closed interaction whose settle time is at or before `now_ms`,
    /// writing its event. Returns the interactions finalized.
    async fn finalize_due(&self, now_ms: i64) -> Result<Vec<InteractionRecord>> {
        self.writer().write(ops::FinalizeDue { now_ms }).await
    }
    /// The earliest pending finalization deadline.
    async fn next_finalize_due(&self) -> Result<Option<i64>>;

    async fn create_client(&self, client: &ClientRecord) -> Result<()> {
        self.writer().write(ops::CreateClient(client.clone())).await
    }
    async fn get_client(&self, id: Uuid) -> Result<Option<ClientRecord>>;
    async fn insert_token(&self, token: &TokenRecord) -> Result<()> {
        self.writer().write(ops::InsertToken(token.clone())).await
    }
    async fn get_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>>;

    /// Stored events after `after_seq`, oldest first, at most `limit`.
    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<EventRecord>>;
    /// Committed events, as they commit.
    fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.writer().subscribe()
    }
    /// The range of the event log: the last sequence number pruned and the last assigned.
    async fn event_bounds(&self) -> Result<EventBounds>;
    /// Deletes the events created before `before_ms`; returns how many were deleted.
    async fn prune_events(&self, before_ms: i64) -> Result<u64> {
        self.writer().write(ops::PruneEvents { before_ms }).await
    }
    /// Installs the observer told about every committed write batch (for metrics).
    fn set_observer(&self, observer: Arc<dyn StoreObserver>) {
        self.writer().set_observer(observer)
    }

    /// The bulk path for benchmarks and load tests: inserts interactions with these ids
    /// into `division`, closed and finalized at `now_ms`, in one transaction, without
    /// events (the event log describes changes made through the API; seeded data is the
    /// starting state). Returns how many were inserted.
    async fn seed_finalized(&self, division: Uuid, ids: Vec<Uuid>, now_ms: i64) -> Result<u64> {
        self.writer()
            .write(ops::SeedFinalized {
                division,
                ids,
                now_ms,
            })
            .await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.writer()
            .write(ops::SetMeta {
                key: key.to_string(),
                value: value.to_string(),
            })
            .await
    }

    /// Webhook endpoints, their delivery queues and attempt logs (docs/webhooks.md).
    fn webhooks(&self) -> &dyn WebhookStore;

    /// Notification channel storage (docs/genesys.md#notifications).
    fn notifications(&self) -> &dyn NotificationStore;
}
