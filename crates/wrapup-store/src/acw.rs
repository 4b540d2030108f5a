//! The end of an interaction's after-call work, written once for every backend: its
//! finalization (shared with `ops.rs`), the timeout of a time-boxed prompt, which applies the
//! system's wrap-up `ININ-WRAP-UP-TIMEOUT` exactly once whichever node's timer gets there
//! (the rows are locked, `FOR UPDATE SKIP LOCKED` on PostgreSQL, and the deadline is cleared
//! in the transaction that acts on it), and the agent's skip of an optional wrap-up.

use uuid::Uuid;
use wrapup_types::{DivisionGrant, EventKind};

use crate::error::{DbFailure, StoreError};
use crate::records::{InteractionRecord, WrapUpApplied};
use crate::rules;
use crate::schema::FINALIZE_BATCH;
use crate::write::{Preload, WriteError, WriteOp, WriteTx};

/// Marks a closed interaction finalized, saves it and appends its event.
pub(crate) async fn finalize(
    tx: &mut impl WriteTx,
    rec: &mut InteractionRecord,
    now_ms: i64,
) -> Result<(), DbFailure> {
    rules::mark_finalized(rec, now_ms);
    tx.save_interaction(rec, None).await?;
    tx.append_event(EventKind::Finalized, rec, now_ms).await
}

/// Ends the after-call work of an interaction whose timeout is due ([`rules::time_out`]):
/// saves it, with the history row of the system's wrap-up if one was applied, and appends
/// its event.
pub(crate) async fn time_out(
    tx: &mut impl WriteTx,
    rec: &mut InteractionRecord,
    now_ms: i64,
) -> Result<(), DbFailure> {
    let (kind, wrap_up) = rules::time_out(rec, now_ms);
    tx.save_interaction(rec, wrap_up).await?;
    tx.append_event(kind, rec, now_ms).await
}

/// The interaction `id` locked for this transaction, if `divisions` lets the caller see it,
/// brought up to `now_ms`: the timers may not have fired yet for an interaction that is due,
/// so it is finalized here, and its after-call work timed out if the timeout has passed
/// (a wrap-up or skip that follows then replaces the system's).
pub(crate) async fn visible_and_current(
    tx: &mut impl WriteTx,
    id: Uuid,
    divisions: &DivisionGrant,
    now_ms: i64,
) -> Result<InteractionRecord, WriteError> {
    let mut rec = tx
        .interaction_for_update(id)
        .await?
        .filter(|r| divisions.allows(r.interaction.division_id))
        .ok_or(StoreError::NotFound)?;
    if rules::is_due(&rec, now_ms) {
        finalize(tx, &mut rec, now_ms).await?;
    }
    if rules::timeout_is_due(&rec, now_ms) {
        time_out(tx, &mut rec, now_ms).await?;
    }
    Ok(rec)
}

/// Ends the after-call work of every interaction whose timeout is at or before `now_ms` (at
/// most [`FINALIZE_BATCH`] at a time), finalizing it first if it is not yet.
pub(crate) struct TimeOutDue {
    pub now_ms: i64,
}

impl WriteOp for TimeOutDue {
    type Output = Vec<InteractionRecord>;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<Vec<InteractionRecord>, WriteError> {
        let due = tx.due_for_timeout(self.now_ms, FINALIZE_BATCH).await?;
        let mut done = Vec::with_capacity(due.len());
        for mut rec in due {
            if rules::is_due(&rec, self.now_ms) {
                finalize(tx, &mut rec, self.now_ms).await?;
            }
            if rules::timeout_is_due(&rec, self.now_ms) {
                time_out(tx, &mut rec, self.now_ms).await?;
                done.push(rec);
            }
        }
        Ok(done)
    }
}

/// The agent skips the wrap-up of an interaction (an optional prompt): completed without a
/// code, with the event `interaction.wrapup.skipped`.
pub(crate) struct SkipWrapUp {
    pub interaction_id: Uuid,
    pub divisions: DivisionGrant,
    pub now_ms: i64,
}

impl WriteOp for SkipWrapUp {
    type Output = WrapUpApplied;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<WrapUpApplied, WriteError> {
        let mut rec =
            visible_and_current(tx, self.interaction_id, &self.divisions, self.now_ms).await?;
        if !rules::skip(&mut rec, self.now_ms)? {
            return Ok(WrapUpApplied::Unchanged(rec));
        }
        tx.save_interaction(&rec, None).await?;
        tx.append_event(EventKind::WrapUpSkipped, &rec, self.now_ms)
            .await?;
        Ok(WrapUpApplied::Applied(rec))
    }

    fn preload(&self, rows: &mut Preload) {
        rows.interactions.push(self.interaction_id);
    }
}
