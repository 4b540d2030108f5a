//! What a change does to a stored interaction, written once for every backend, as pure
//! functions. An operation (`ops.rs`) reads the rows through its transaction (which locks
//! them as its database requires), calls these functions, and writes back what they
//! changed, with the event they name.

use std::collections::HashMap;

use uuid::Uuid;
use wrapup_domain::lifecycle;
use wrapup_domain::wrapup_body::check_code;
use wrapup_domain::NewWrapUp;
use wrapup_types::timestamp::{from_millis, to_millis};
use wrapup_types::{DivisionGrant, ErrorDetail, Interaction, InteractionState, WrapUp, WrapUpCode};

use crate::error::StoreError;
use crate::records::{InteractionRecord, NewInteraction};

/// The record of a new interaction, stored at listing position `seq`.
pub(crate) fn new_interaction(new: &NewInteraction, seq: i64) -> InteractionRecord {
    InteractionRecord {
        seq,
        finalize_due_ms: None,
        interaction: Interaction {
            id: new.id,
            division_id: new.division_id,
            channel: new.channel,
            state: InteractionState::Queued,
            finalized: false,
            created_at: from_millis(new.now_ms),
            active_at: None,
            closed_at: None,
            finalizes_at: None,
            finalized_at: None,
            wrap_up: None,
            version: 1,
        },
    }
}

/// Moves `rec` to `to` (closing sets the settle deadline); `Rejected` when the lifecycle
/// does not allow it. The caller then finalizes at once if [`is_due`] (settle time 0).
pub(crate) fn move_state(
    rec: &mut InteractionRecord,
    to: InteractionState,
    now_ms: i64,
    settle_ms: i64,
) -> Result<(), StoreError> {
    lifecycle::check_move(rec.interaction.state, to).map_err(|p| StoreError::Rejected(vec![p]))?;
    let i = &mut rec.interaction;
    i.state = to;
    i.version += 1;
    match to {
        InteractionState::Active => i.active_at = Some(from_millis(now_ms)),
        InteractionState::Closed => {
            i.closed_at = Some(from_millis(now_ms));
            let due = now_ms + settle_ms.max(0);
            i.finalizes_at = Some(from_millis(due));
            rec.finalize_due_ms = Some(due);
        }
        _ => {}
    }
    Ok(())
}

/// A closed interaction whose settle time has passed but which is not finalized yet.
pub(crate) fn is_due(rec: &InteractionRecord, now_ms: i64) -> bool {
    let i = &rec.interaction;
    i.state == InteractionState::Closed
        && !i.finalized
        && rec.finalize_due_ms.is_some_and(|due| due <= now_ms)
}

/// Marks a closed interaction finalized (the caller saves it and writes the event).
pub(crate) fn mark_finalized(rec: &mut InteractionRecord, now_ms: i64) {
    rec.interaction.finalized = true;
    rec.interaction.finalized_at = Some(from_millis(now_ms));
    rec.interaction.version += 1;
}

/// The divisions whose names the messages about `code` need: both, when a visible code
/// is in another division than the interaction.
pub(crate) fn divisions_to_name(
    rec: &InteractionRecord,
    code: Option<&WrapUpCode>,
    grant: &DivisionGrant,
) -> Vec<Uuid> {
    match code {
        Some(c) if grant.allows(c.division_id) && c.division_id != rec.interaction.division_id => {
            vec![c.division_id, rec.interaction.division_id]
        }
        _ => Vec::new(),
    }
}

/// The state and code problems (docs/api.md#order-of-checks, steps 5 and 6) of a wrap-up of
/// `code_id` (looked up as `code`), and the code when it can be applied: the rule alone, on
/// rows already read (`ops::load_and_check_wrapup` reads them). `names` names the divisions
/// [`divisions_to_name`] asked for.
pub(crate) fn check_wrapup(
    rec: &InteractionRecord,
    code_id: Option<Uuid>,
    code: Option<WrapUpCode>,
    grant: &DivisionGrant,
    names: &HashMap<Uuid, String>,
    now_ms: i64,
) -> (Vec<ErrorDetail>, Option<WrapUpCode>) {
    let i = &rec.interaction;
    let mut problems = Vec::new();
    problems.extend(lifecycle::check_ready(
        i.state,
        i.finalized,
        rec.finalize_due_ms,
        now_ms,
    ));
    let Some(code_id) = code_id else {
        return (problems, None);
    };
    let visible = code.as_ref().is_some_and(|c| grant.allows(c.division_id));
    let name_of = |id: Uuid| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "(unnamed)".into())
    };
    match check_code(code_id, code.as_ref(), visible, i.division_id, name_of) {
        Some(p) => {
            problems.push(p);
            (problems, None)
        }
        None => (problems, code),
    }
}

/// Decides a wrap-up `req` by `applied_by` that passed [`check_wrapup`] with `code` (with
/// `NewWrapUp::decide`): `None` when the same wrap-up is already in place, otherwise the new
/// wrap-up, already set on `rec` (which is now completed). The caller saves `rec`, appends
/// the history row and writes the event.
pub(crate) fn set_wrapup(
    rec: &mut InteractionRecord,
    req: &NewWrapUp,
    applied_by: Uuid,
    now_ms: i64,
    code: WrapUpCode,
) -> Option<WrapUp> {
    let closed_ms = rec.interaction.closed_at.map(to_millis);
    let duration_ms = req.decide(rec.interaction.wrap_up.as_ref(), closed_ms, now_ms)?;
    let wrap_up = WrapUp {
        code_id: code.id,
        code_name: code.name,
        duration_ms,
        notes: req.notes.clone(),
        applied_at: from_millis(now_ms),
        applied_by,
        tags: req.tags.clone(),
        provisional: req.provisional,
    };
    rec.interaction.wrap_up = Some(wrap_up.clone());
    rec.interaction.state = InteractionState::Completed;
    rec.interaction.version += 1;
    Some(wrap_up)
}
