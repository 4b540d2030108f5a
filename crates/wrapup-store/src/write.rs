//! Writes as data. Each write operation is one type implementing [`WriteOp`] (they are in
//! `ops.rs` and `webhooks/ops.rs`): its `run` is the operation's logic, written once for
//! every backend, in terms of [`WriteTx`], the primitives of a write transaction (read a row
//! for update, save an interaction, append an event, …), which each backend implements with
//! its SQL. Adding an operation is its type and the provided `Store` (or `WebhookStore`)
//! method that builds it and hands it to the writer (`writer.rs`), plus a primitive per
//! backend if it needs new SQL.
//!
//! An operation is re-runnable from `&self`: PostgreSQL runs each write of a failed batch
//! again, alone. The primitives are `async` because PostgreSQL's are network round trips.
//! SQLite's are direct calls that never wait; its writer thread runs each operation to its
//! end with one poll.

use std::future::Future;

use uuid::Uuid;
use wrapup_types::{Division, EventKind, WrapUp, WrapUpCode};

use crate::error::{DbFailure, StoreError};
use crate::notifications::records::ChannelRecord;
use crate::records::{
    ClientRecord, CodeRecord, InteractionRecord, QueueRecord, TokenRecord, UserRecord,
};
use crate::webhooks::records::{AttemptRecord, DeliveryRecord, NewDelivery, WebhookRecord};

/// Why a write operation did not give its output: a refusal (not found, rejected,
/// conflict), which is the write's answer and leaves the transaction usable, or a
/// [`DbFailure`], which rolls the transaction back.
#[derive(Debug)]
pub(crate) enum WriteError {
    Refused(StoreError),
    Failed(DbFailure),
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Refused(e)
    }
}

impl From<DbFailure> for WriteError {
    fn from(e: DbFailure) -> Self {
        WriteError::Failed(e)
    }
}

/// The reads a write and a read both make: rows looked up by id, as the transaction (or
/// the read's snapshot) sees them.
pub(crate) trait Lookup: Send {
    fn code(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<CodeRecord>, DbFailure>> + Send;
    fn division(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Division>, DbFailure>> + Send;
    fn queue(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<QueueRecord>, DbFailure>> + Send;
}

/// The primitives of a write transaction, in one backend's SQL. They do what they say and
/// no more: which rows to change and how is the operations' business (`ops.rs`, with the
/// rules in `rules.rs`). Every error is a [`DbFailure`]; what a write refuses is decided
/// by the operation (a uniqueness rule a row would break is reported as `false` or `None`).
/// The webhook tables' primitives are [`WebhookTx`].
pub(crate) trait WriteTx: Lookup + WebhookTx + NotificationTx {
    /// An interaction, locked against other writers until the transaction ends.
    fn interaction_for_update(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<InteractionRecord>, DbFailure>> + Send;
    /// A wrap-up code, locked against other writers until the transaction ends.
    fn code_for_update(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<CodeRecord>, DbFailure>> + Send;
    /// Whether a code other than `other_than`, not archived, has the name key `name_key`
    /// in `division`.
    fn code_name_taken(
        &mut self,
        division: Uuid,
        name_key: &str,
        other_than: Uuid,
    ) -> impl Future<Output = Result<bool, DbFailure>> + Send;
    /// Closed interactions not finalized whose deadline is at or before `now_ms`, earliest
    /// first, at most `limit`, locked (PostgreSQL skips those another node holds).
    fn due_for_finalization(
        &mut self,
        now_ms: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<InteractionRecord>, DbFailure>> + Send;

    /// Interactions whose time-boxed after-call work is due at or before `now_ms`, earliest
    /// first, at most `limit`, locked (PostgreSQL skips those another node holds).
    fn due_for_timeout(
        &mut self,
        now_ms: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<InteractionRecord>, DbFailure>> + Send;
    /// A queue, locked against other writers until the transaction ends.
    fn queue_for_update(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<QueueRecord>, DbFailure>> + Send;
    /// Whether a queue other than `other_than` has the name key `name_key`.
    fn queue_name_taken(
        &mut self,
        name_key: &str,
        other_than: Uuid,
    ) -> impl Future<Output = Result<bool, DbFailure>> + Send;
    /// Inserts a queue and returns its listing position; `None` when a uniqueness rule (id,
    /// name) refused it.
    fn insert_queue(
        &mut self,
        queue: &QueueRecord,
        name_key: &str,
    ) -> impl Future<Output = Result<Option<i64>, DbFailure>> + Send;
    /// Writes every column of a queue but its identity and creation back.
    fn save_queue(
        &mut self,
        queue: &QueueRecord,
        name_key: &str,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Deletes a queue; `false` if there was none.
    fn delete_queue(&mut self, id: Uuid) -> impl Future<Output = Result<bool, DbFailure>> + Send;
    /// Inserts a user and returns its listing position; `None` when one with its id exists.
    fn insert_user(
        &mut self,
        user: &UserRecord,
        name_key: &str,
    ) -> impl Future<Output = Result<Option<i64>, DbFailure>> + Send;

    /// Inserts a division; `false` when a uniqueness rule (id, name) refused it.
    fn insert_division(
        &mut self,
        division: &Division,
        name_key: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool, DbFailure>> + Send;
    /// Inserts a code and returns its listing position; `None` when a uniqueness rule (id,
    /// name in its division) refused it.
    fn insert_code(
        &mut self,
        code: &WrapUpCode,
        name_key: &str,
    ) -> impl Future<Output = Result<Option<i64>, DbFailure>> + Send;
    /// Renames and describes a code.
    fn update_code(
        &mut self,
        id: Uuid,
        name: &str,
        name_key: &str,
        description: Option<&str>,
        now_ms: i64,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Archives a code that is not archived yet.
    fn archive_code(
        &mut self,
        id: Uuid,
        now_ms: i64,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Inserts a new interaction (its identity, state, flags, creation time and version)
    /// and returns its listing position; `None` when one with its id exists.
    fn insert_interaction(
        &mut self,
        rec: &InteractionRecord,
    ) -> impl Future<Output = Result<Option<i64>, DbFailure>> + Send;
    /// Writes a changed interaction back (every column a change can touch), with the entry
    /// the change added to its wrap-up history, if it applied a wrap-up.
    fn save_interaction(
        &mut self,
        rec: &InteractionRecord,
        history: Option<WrapUp>,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Appends the event of a change to an interaction (published once the batch commits).
    fn append_event(
        &mut self,
        kind: EventKind,
        rec: &InteractionRecord,
        now_ms: i64,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Inserts a client, unless one with its id exists.
    fn insert_client(
        &mut self,
        client: &ClientRecord,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    fn insert_token(
        &mut self,
        token: &TokenRecord,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    fn delete_tokens_expired_before(
        &mut self,
        ms: i64,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// The sequence number of the last event created before `ms`.
    fn last_event_before(
        &mut self,
        ms: i64,
    ) -> impl Future<Output = Result<Option<i64>, DbFailure>> + Send;
    /// Deletes the events up to sequence number `seq`; returns how many.
    fn delete_events_through(
        &mut self,
        seq: i64,
    ) -> impl Future<Output = Result<u64, DbFailure>> + Send;
    /// Sets the `meta` number `key` to `value`, unless it is already higher.
    fn raise_meta_number(
        &mut self,
        key: &str,
        value: i64,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    fn set_meta(
        &mut self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Inserts interactions with these ids into `division`, closed and finalized at
    /// `now_ms`, without events; returns how many.
    fn insert_finalized(
        &mut self,
        division: Uuid,
        ids: &[Uuid],
        now_ms: i64,
    ) -> impl Future<Output = Result<u64, DbFailure>> + Send;
}

/// The primitives of a write transaction on the webhook tables. They do what they say and
/// no more; what changes and why is the operations' business.
pub(crate) trait WebhookTx: Send {
    /// Inserts an endpoint; returns its listing position.
    fn insert_webhook(
        &mut self,
        webhook: &WebhookRecord,
    ) -> impl Future<Output = Result<i64, DbFailure>> + Send;
    /// An endpoint, locked against other writers until the transaction ends.
    fn webhook_for_update(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<WebhookRecord>, DbFailure>> + Send;
    /// Writes every column of an endpoint but its identity back.
    fn save_webhook(
        &mut self,
        webhook: &WebhookRecord,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Deletes an endpoint, its deliveries and its attempts; `false` if there was none.
    fn delete_webhook(&mut self, id: Uuid) -> impl Future<Output = Result<bool, DbFailure>> + Send;
    /// Inserts a pending delivery due at `now_ms`, or puts an existing one with its message
    /// id back to pending, from its first attempt, with this body.
    fn upsert_delivery(
        &mut self,
        webhook_id: Uuid,
        delivery: &NewDelivery,
        now_ms: i64,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Pending deliveries due at `now_ms`, not leased (or whose lease expired), and first
    /// of their interaction among the pending ones; due first, at most `limit`, locked
    /// (PostgreSQL skips those another transaction holds).
    fn claimable_deliveries(
        &mut self,
        webhook_id: Uuid,
        now_ms: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<DeliveryRecord>, DbFailure>> + Send;
    /// The pending deliveries of an interaction after event `after_seq`, in event order, at
    /// most `limit`, locked.
    fn pending_after(
        &mut self,
        webhook_id: Uuid,
        interaction_id: Uuid,
        after_seq: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<DeliveryRecord>, DbFailure>> + Send;
    /// Leases deliveries to `lease` until `expires_ms`.
    fn lease_deliveries(
        &mut self,
        webhook_id: Uuid,
        message_ids: &[String],
        lease: Uuid,
        expires_ms: i64,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// A delivery, locked against other writers until the transaction ends.
    fn delivery_for_update(
        &mut self,
        webhook_id: Uuid,
        message_id: &str,
    ) -> impl Future<Output = Result<Option<DeliveryRecord>, DbFailure>> + Send;
    /// Writes a delivery's state back: status, attempts, next attempt, lease, update time.
    fn save_delivery(
        &mut self,
        delivery: &DeliveryRecord,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Appends an attempt to the log.
    fn insert_attempt(
        &mut self,
        attempt: &AttemptRecord,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Deletes attempts made before `before_ms` and deliveries done before it.
    fn prune_webhook_log(
        &mut self,
        before_ms: i64,
    ) -> impl Future<Output = Result<u64, DbFailure>> + Send;
    /// The `meta` value of `key`, inserting `value` first if there is none.
    fn meta_or_insert(
        &mut self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<String, DbFailure>> + Send;
}

/// The primitives of a write transaction on the notification channels.
pub(crate) trait NotificationTx: Send {
    /// A client's channels, locked against other writers until the transaction ends.
    fn client_channels_for_update(
        &mut self,
        client_id: Uuid,
    ) -> impl Future<Output = Result<Vec<ChannelRecord>, DbFailure>> + Send;
    /// A channel, locked against other writers until the transaction ends.
    fn channel_for_update(
        &mut self,
        id: &str,
    ) -> impl Future<Output = Result<Option<ChannelRecord>, DbFailure>> + Send;
    fn insert_channel(
        &mut self,
        channel: &ChannelRecord,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Writes every column of a channel but its identity, owner and creation back.
    fn save_channel(
        &mut self,
        channel: &ChannelRecord,
    ) -> impl Future<Output = Result<(), DbFailure>> + Send;
    fn delete_channel(&mut self, id: &str) -> impl Future<Output = Result<(), DbFailure>> + Send;
    /// Deletes the channels whose expiry is at or before `now_ms`; returns how many.
    fn delete_expired_channels(
        &mut self,
        now_ms: i64,
    ) -> impl Future<Output = Result<u64, DbFailure>> + Send;
}

/// The rows a batch's writes will read, for PostgreSQL to read (and lock) them all at once
/// before the writes run.
#[derive(Debug, Default)]
pub(crate) struct Preload {
    pub interactions: Vec<Uuid>,
    pub codes: Vec<Uuid>,
}

/// One write operation, as data: what it changes is in `run`, written once for every
/// backend. It must be re-runnable from `&self` (a failed PostgreSQL batch runs each of
/// its writes again, alone).
pub(crate) trait WriteOp: Send + Sync + 'static {
    /// What the write answers when it succeeds.
    type Output: Send + 'static;

    /// Runs the write inside the batch transaction `tx`.
    fn run<T: WriteTx>(
        &self,
        tx: &mut T,
    ) -> impl Future<Output = Result<Self::Output, WriteError>> + Send;

    /// Names the rows `run` will read, so that a batch can read them in one go.
    fn preload(&self, _rows: &mut Preload) {}

    /// What it means when a statement of this write breaks a uniqueness rule.
    fn conflict(&self) -> String {
        "the change conflicts with another one".into()
    }
}
