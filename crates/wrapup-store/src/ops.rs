//! Every write operation of the store, each one type, defined once for both backends: its
//! data, what it does inside the write transaction (with the rules of `rules.rs`), what it
//! answers, and which rows it reads (for PostgreSQL's batch preload). The provided methods
//! of [`Store`](crate::Store) build them and hand them to the writer (`writer.rs`); the
//! backends only run them. [`ApplyWrapUp`] is public: the server builds it.

use std::collections::HashMap;

use uuid::Uuid;
use wrapup_domain::names::name_key;
use wrapup_domain::routing::QueueCodes;
use wrapup_domain::NewWrapUp;
use wrapup_types::{Division, DivisionGrant, ErrorDetail, EventKind, InteractionState, WrapUpCode};

use crate::acw::{finalize, visible_and_current};
use crate::error::{DbFailure, StoreError};
use crate::records::{
    ClientRecord, CodeRecord, InteractionRecord, NewInteraction, TokenRecord, WrapUpApplied,
};
use crate::rules;
use crate::schema::{EXPIRED_TOKENS_KEPT_MS, FINALIZE_BATCH, PRUNED_THROUGH};
use crate::write::{Lookup, Preload, WriteError, WriteOp, WriteTx};

/// The state and code problems a wrap-up of `code_id` would meet, and the code when it can
/// be applied: looks up the code and the names of the divisions the messages need in
/// `rows`, and the interaction's queue with its codes, then [`rules::check_wrapup`]. Used
/// inside a wrap-up's transaction
/// ([`ApplyWrapUp`]) and by the read-only
/// [`Store::wrapup_problems`](crate::Store::wrapup_problems).
pub(crate) async fn load_and_check_wrapup(
    rows: &mut impl Lookup,
    rec: &InteractionRecord,
    code_id: Option<Uuid>,
    grant: &DivisionGrant,
    now_ms: i64,
) -> Result<(Vec<ErrorDetail>, Option<WrapUpCode>), DbFailure> {
    let code = match code_id {
        Some(id) => rows.code(id).await?.map(|c| c.code),
        None => None,
    };
    let mut names = HashMap::new();
    for id in rules::divisions_to_name(rec, code.as_ref(), grant) {
        if let Some(d) = rows.division(id).await? {
            names.insert(id, d.name);
        }
    }
    let queue_id = rec.interaction.routing.as_ref().and_then(|r| r.queue_id);
    let queue = match queue_id {
        Some(id) if code.is_some() => rows.queue(id).await?,
        _ => None,
    };
    let queue = match queue {
        Some(q) => {
            let mut codes = Vec::with_capacity(q.code_ids.len());
            for id in &q.code_ids {
                if let Some(c) = rows.code(*id).await?.filter(|c| !c.code.archived) {
                    codes.push((c.code.id, c.code.name));
                }
            }
            Some(QueueCodes {
                queue_id: q.id,
                queue_name: q.name,
                codes,
            })
        }
        None => None,
    };
    Ok(rules::check_wrapup(
        rec,
        code_id,
        code,
        grant,
        &names,
        queue.as_ref(),
        now_ms,
    ))
}

fn code_name_conflict(name: &str) -> String {
    format!("a wrap-up code named \"{name}\" already exists in the division")
}

pub(crate) struct CreateDivision {
    pub id: Uuid,
    pub name: String,
    pub now_ms: i64,
}

impl WriteOp for CreateDivision {
    type Output = Division;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<Division, WriteError> {
        let division = Division {
            id: self.id,
            name: self.name.clone(),
        };
        if !tx
            .insert_division(&division, &name_key(&self.name), self.now_ms)
            .await?
        {
            return Err(StoreError::Conflict(self.conflict()).into());
        }
        Ok(division)
    }

    fn conflict(&self) -> String {
        format!("a division named \"{}\" already exists", self.name)
    }
}

pub(crate) struct CreateCode(pub WrapUpCode);

impl WriteOp for CreateCode {
    type Output = CodeRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<CodeRecord, WriteError> {
        let code = &self.0;
        if tx.division(code.division_id).await?.is_none() {
            return Err(StoreError::NotFound.into());
        }
        match tx.insert_code(code, &name_key(&code.name)).await? {
            Some(seq) => Ok(CodeRecord {
                code: code.clone(),
                seq,
            }),
            None => Err(StoreError::Conflict(self.conflict()).into()),
        }
    }

    fn conflict(&self) -> String {
        code_name_conflict(&self.0.name)
    }
}

/// Renames or describes a code; `Conflict` if the name is taken in its division by a code
/// that is not archived (an archived code may share it).
pub(crate) struct UpdateCode {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub now_ms: i64,
}

impl WriteOp for UpdateCode {
    type Output = CodeRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<CodeRecord, WriteError> {
        let current = tx
            .code_for_update(self.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let key = name_key(&self.name);
        if !current.code.archived
            && tx
                .code_name_taken(current.code.division_id, &key, self.id)
                .await?
        {
            return Err(StoreError::Conflict(self.conflict()).into());
        }
        tx.update_code(
            self.id,
            &self.name,
            &key,
            self.description.as_deref(),
            self.now_ms,
        )
        .await?;
        Ok(tx.code(self.id).await?.ok_or(StoreError::NotFound)?)
    }

    fn conflict(&self) -> String {
        code_name_conflict(&self.name)
    }
}

/// Archives a code (idempotent).
pub(crate) struct ArchiveCode {
    pub id: Uuid,
    pub now_ms: i64,
}

impl WriteOp for ArchiveCode {
    type Output = CodeRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<CodeRecord, WriteError> {
        tx.archive_code(self.id, self.now_ms).await?;
        Ok(tx.code(self.id).await?.ok_or(StoreError::NotFound)?)
    }
}

pub(crate) struct CreateInteraction(pub NewInteraction);

impl WriteOp for CreateInteraction {
    type Output = InteractionRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<InteractionRecord, WriteError> {
        let queue = match self.0.queue_id {
            Some(id) => tx.queue(id).await?,
            None => None,
        };
        let mut rec = rules::new_interaction(&self.0, 0, queue.as_ref());
        rec.seq = tx
            .insert_interaction(&rec)
            .await?
            .ok_or_else(|| StoreError::Conflict(self.conflict()))?;
        if rec.interaction.routing.is_some() {
            // The insert writes the identity and state; the routing is a change's column.
            tx.save_interaction(&rec, None).await?;
        }
        tx.append_event(EventKind::Created, &rec, self.0.now_ms)
            .await?;
        Ok(rec)
    }

    fn conflict(&self) -> String {
        format!("interaction {} already exists", self.0.id)
    }
}

/// Moves an interaction through its lifecycle; closing with a settle time of 0 finalizes
/// it at once.
pub(crate) struct SetState {
    pub id: Uuid,
    pub to: InteractionState,
    /// With `active`: the agent who answered.
    pub agent_id: Option<Uuid>,
    pub now_ms: i64,
    pub settle_ms: i64,
}

impl WriteOp for SetState {
    type Output = InteractionRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<InteractionRecord, WriteError> {
        let mut rec = tx
            .interaction_for_update(self.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        rules::move_state(
            &mut rec,
            self.to,
            self.agent_id,
            self.now_ms,
            self.settle_ms,
        )?;
        tx.save_interaction(&rec, None).await?;
        tx.append_event(EventKind::State, &rec, self.now_ms).await?;
        if rules::is_due(&rec, self.now_ms) {
            finalize(tx, &mut rec, self.now_ms).await?;
        }
        Ok(rec)
    }

    fn preload(&self, rows: &mut Preload) {
        rows.interactions.push(self.id);
    }
}

/// A wrap-up to apply, with who applies it and what they may see. `request` comes from
/// either dialect (`NewWrapUp::from` a `WrapUpRequest`, or a Genesys `WrapupInput`).
///
/// The interaction and the code are read inside the transaction, so concurrent wrap-ups of
/// one interaction serialise.
#[derive(Debug, Clone)]
pub struct ApplyWrapUp {
    pub interaction_id: Uuid,
    pub request: NewWrapUp,
    pub client_id: Uuid,
    pub divisions: DivisionGrant,
    pub now_ms: i64,
}

impl WriteOp for ApplyWrapUp {
    type Output = WrapUpApplied;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<WrapUpApplied, WriteError> {
        let mut rec =
            visible_and_current(tx, self.interaction_id, &self.divisions, self.now_ms).await?;
        let (problems, code) = load_and_check_wrapup(
            tx,
            &rec,
            Some(self.request.code_id),
            &self.divisions,
            self.now_ms,
        )
        .await?;
        let code = match code {
            Some(code) if problems.is_empty() => code,
            _ => return Err(StoreError::Rejected(problems).into()),
        };
        let Some(wrap_up) =
            rules::set_wrapup(&mut rec, &self.request, self.client_id, self.now_ms, code)
        else {
            return Ok(WrapUpApplied::Unchanged(rec));
        };
        tx.save_interaction(&rec, Some(wrap_up)).await?;
        tx.append_event(EventKind::WrapUp, &rec, self.now_ms)
            .await?;
        Ok(WrapUpApplied::Applied(rec))
    }

    fn preload(&self, rows: &mut Preload) {
        rows.interactions.push(self.interaction_id);
        rows.codes.push(self.request.code_id);
    }
}

/// Many wrap-ups in one transaction (`POST /api/v2/interactions/wrap-ups`): each runs
/// exactly as [`ApplyWrapUp`] runs alone, in the order given (so two wrap-ups of one
/// interaction apply in order), and each answers on its own: a refusal is that wrap-up's
/// answer and leaves the transaction usable for its neighbours. Only a database failure
/// fails them all (and rolls the batch back).
pub(crate) struct ApplyWrapUps(pub Vec<ApplyWrapUp>);

impl WriteOp for ApplyWrapUps {
    type Output = Vec<Result<WrapUpApplied, StoreError>>;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<Self::Output, WriteError> {
        let mut outcomes = Vec::with_capacity(self.0.len());
        for cmd in &self.0 {
            match cmd.run(tx).await {
                Ok(applied) => outcomes.push(Ok(applied)),
                Err(WriteError::Refused(refusal)) => outcomes.push(Err(refusal)),
                Err(failure @ WriteError::Failed(_)) => return Err(failure),
            }
        }
        Ok(outcomes)
    }

    fn preload(&self, rows: &mut Preload) {
        for cmd in &self.0 {
            cmd.preload(rows);
        }
    }
}

/// Finalizes the closed interactions whose settle time is at or before `now_ms` (at most
/// [`FINALIZE_BATCH`] at a time).
pub(crate) struct FinalizeDue {
    pub now_ms: i64,
}

impl WriteOp for FinalizeDue {
    type Output = Vec<InteractionRecord>;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<Vec<InteractionRecord>, WriteError> {
        let due = tx.due_for_finalization(self.now_ms, FINALIZE_BATCH).await?;
        let mut done = Vec::with_capacity(due.len());
        for mut rec in due {
            finalize(tx, &mut rec, self.now_ms).await?;
            done.push(rec);
        }
        Ok(done)
    }
}

/// Stores an OAuth client (idempotent: a client with its id is kept as it is).
pub(crate) struct CreateClient(pub ClientRecord);

impl WriteOp for CreateClient {
    type Output = ();

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<(), WriteError> {
        Ok(tx.insert_client(&self.0).await?)
    }
}

/// Stores an access token, and deletes the tokens long expired.
pub(crate) struct InsertToken(pub TokenRecord);

impl WriteOp for InsertToken {
    type Output = ();

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<(), WriteError> {
        tx.insert_token(&self.0).await?;
        tx.delete_tokens_expired_before(self.0.expires_ms - EXPIRED_TOKENS_KEPT_MS)
            .await?;
        Ok(())
    }
}

/// Deletes the events created before `before_ms` and records the pruned horizon; answers
/// how many were deleted.
pub(crate) struct PruneEvents {
    pub before_ms: i64,
}

impl WriteOp for PruneEvents {
    type Output = u64;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<u64, WriteError> {
        let Some(last) = tx.last_event_before(self.before_ms).await? else {
            return Ok(0);
        };
        let deleted = tx.delete_events_through(last).await?;
        tx.raise_meta_number(PRUNED_THROUGH, last).await?;
        Ok(deleted)
    }
}

pub(crate) struct SetMeta {
    pub key: String,
    pub value: String,
}

impl WriteOp for SetMeta {
    type Output = ();

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<(), WriteError> {
        Ok(tx.set_meta(&self.key, &self.value).await?)
    }
}

/// The bulk path for load tests: interactions inserted closed and finalized, without
/// events; answers how many.
pub(crate) struct SeedFinalized {
    pub division: Uuid,
    pub ids: Vec<Uuid>,
    pub now_ms: i64,
}

impl WriteOp for SeedFinalized {
    type Output = u64;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<u64, WriteError> {
        Ok(tx
            .insert_finalized(self.division, &self.ids, self.now_ms)
            .await?)
    }
}
