//! What a change does to a stored interaction, written once for every backend, as pure
//! functions. An operation (`ops.rs`) reads the rows through its transaction (which locks
//! them as its database requires), calls these functions, and writes back what they
//! changed, with the event they name.

use std::collections::HashMap;

use uuid::Uuid;
use wrapup_domain::lifecycle;
use wrapup_domain::routing::{check_queue_code, check_skip, QueueCodes};
use wrapup_domain::wrapup_body::check_code;
use wrapup_domain::NewWrapUp;
use wrapup_types::timestamp::{from_millis, to_millis};
use wrapup_types::{
    DivisionGrant, ErrorDetail, EventKind, Interaction, InteractionState, Routing, WrapUp,
    WrapUpCode, WrapupPrompt, TIMEOUT_CODE,
};

use crate::error::StoreError;
use crate::records::{InteractionRecord, NewInteraction, QueueRecord};

/// The record of a new interaction, stored at listing position `seq`; `queue` is the queue
/// `new` names (its prompt and timeout are taken now).
pub(crate) fn new_interaction(
    new: &NewInteraction,
    seq: i64,
    queue: Option<&QueueRecord>,
) -> InteractionRecord {
    let routing = (new.queue_id.is_some() || new.agent_id.is_some()).then(|| Routing {
        queue_id: new.queue_id,
        agent_id: new.agent_id,
        wrapup_prompt: queue.map(|q| q.prompt),
        wrapup_timeout_ms: queue
            .filter(|q| q.prompt.is_timed())
            .and_then(|q| q.timeout_ms),
        ..Routing::default()
    });
    InteractionRecord {
        seq,
        finalize_due_ms: None,
        acw_due_ms: None,
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
            routing,
            version: 1,
        },
    }
}

/// Moves `rec` to `to` (closing sets the settle deadline, and the timeout of a time-boxed
/// prompt: the close plus the timeout, or the finalization if later); `Rejected` when the
/// lifecycle does not allow it. `agent_id`, with `active`, is the agent who answered. The
/// caller then finalizes at once if [`is_due`] (settle time 0).
pub(crate) fn move_state(
    rec: &mut InteractionRecord,
    to: InteractionState,
    agent_id: Option<Uuid>,
    now_ms: i64,
    settle_ms: i64,
) -> Result<(), StoreError> {
    lifecycle::check_move(rec.interaction.state, to).map_err(|p| StoreError::Rejected(vec![p]))?;
    let i = &mut rec.interaction;
    i.state = to;
    i.version += 1;
    match to {
        InteractionState::Active => {
            i.active_at = Some(from_millis(now_ms));
            if let Some(agent) = agent_id {
                i.routing.get_or_insert_with(Routing::default).agent_id = Some(agent);
            }
        }
        InteractionState::Closed => {
            i.closed_at = Some(from_millis(now_ms));
            let due = now_ms + settle_ms.max(0);
            i.finalizes_at = Some(from_millis(due));
            rec.finalize_due_ms = Some(due);
            if let Some(r) = i.routing.as_mut().filter(|r| r.prompt().is_timed()) {
                let timeout = i64::from(r.wrapup_timeout_ms.unwrap_or(0));
                let acw_due = now_ms + timeout.max(settle_ms.max(0));
                r.wrapup_due_at = Some(from_millis(acw_due));
                rec.acw_due_ms = Some(acw_due);
            }
        }
        _ => {}
    }
    Ok(())
}

/// An interaction whose time-boxed after-call work has reached its timeout.
pub(crate) fn timeout_is_due(rec: &InteractionRecord, now_ms: i64) -> bool {
    rec.acw_due_ms.is_some_and(|due| due <= now_ms)
}

/// Ends the after-call work of an interaction whose timeout is due ([`timeout_is_due`]), as
/// of its deadline: with the agent's final wrap-up in place (a forced timeout), it only ends
/// (`interaction.acw.ended`); otherwise the system's wrap-up `ININ-WRAP-UP-TIMEOUT` is
/// applied (replacing a provisional one), returned for the history (`interaction.wrapup`).
/// The caller finalizes first if due, saves `rec` and writes the event named.
pub(crate) fn time_out(rec: &mut InteractionRecord, now_ms: i64) -> (EventKind, Option<WrapUp>) {
    let due = rec.acw_due_ms.take().unwrap_or(now_ms);
    let i = &mut rec.interaction;
    i.version += 1;
    i.routing
        .get_or_insert_with(Routing::default)
        .after_call_work_ended_at = Some(from_millis(due));
    if i.wrap_up.as_ref().is_some_and(|w| !w.provisional) {
        return (EventKind::AcwEnded, None);
    }
    let closed = i.closed_at.map_or(due, to_millis);
    let wrap_up = WrapUp {
        code_id: Uuid::nil(),
        code_name: TIMEOUT_CODE.to_string(),
        duration_ms: (due - closed).clamp(1, i64::from(u32::MAX)) as u32,
        notes: None,
        applied_at: from_millis(now_ms),
        applied_by: Uuid::nil(),
        tags: Vec::new(),
        provisional: false,
        system: true,
    };
    i.wrap_up = Some(wrap_up.clone());
    i.state = InteractionState::Completed;
    (EventKind::WrapUp, Some(wrap_up))
}

/// Skips the wrap-up (an `optional` or `agentRequested` prompt): the interaction is
/// completed without a code (a provisional wrap-up is dropped). `Ok(false)` when it is
/// already skipped; `Rejected` when it is not ready, its prompt requires a wrap-up, or it
/// has a final one. The caller saves `rec` and writes `interaction.wrapup.skipped`.
pub(crate) fn skip(rec: &mut InteractionRecord, now_ms: i64) -> Result<bool, StoreError> {
    let i = &rec.interaction;
    let refused = |p| StoreError::Rejected(vec![p]);
    if let Some(p) = lifecycle::check_ready(i.state, i.finalized, rec.finalize_due_ms, now_ms) {
        return Err(refused(p));
    }
    let routing = i.routing.clone().unwrap_or_default();
    if routing.wrapup_skipped && i.wrap_up.is_none() {
        return Ok(false);
    }
    let wrapped_up = i.wrap_up.as_ref().is_some_and(|w| !w.provisional);
    if let Some(p) = check_skip(routing.prompt(), wrapped_up) {
        return Err(refused(p));
    }
    let i = &mut rec.interaction;
    let r = i.routing.get_or_insert_with(Routing::default);
    r.wrapup_skipped = true;
    r.after_call_work_ended_at = Some(from_millis(now_ms));
    i.wrap_up = None;
    i.state = InteractionState::Completed;
    i.version += 1;
    rec.acw_due_ms = None;
    Ok(true)
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
/// [`divisions_to_name`] asked for; `queue` is the interaction's queue, whose codes are the
/// only ones it may use.
pub(crate) fn check_wrapup(
    rec: &InteractionRecord,
    code_id: Option<Uuid>,
    code: Option<WrapUpCode>,
    grant: &DivisionGrant,
    names: &HashMap<Uuid, String>,
    queue: Option<&QueueCodes>,
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
    let problem =
        check_code(code_id, code.as_ref(), visible, i.division_id, name_of).or_else(|| {
            let (code, queue) = (code.as_ref()?, queue?);
            check_queue_code(code.id, &code.name, queue)
        });
    match problem {
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
        system: false,
    };
    rec.interaction.wrap_up = Some(wrap_up.clone());
    rec.interaction.state = InteractionState::Completed;
    rec.interaction.version += 1;
    // After-call work ends with a final wrap-up, except a forced timeout's (at its deadline).
    if let Some(r) = rec.interaction.routing.as_mut() {
        r.wrapup_skipped = false;
        if r.after_call_work_ended_at.is_none()
            && !req.provisional
            && r.prompt() != WrapupPrompt::ForcedTimeout
        {
            r.after_call_work_ended_at = Some(from_millis(now_ms));
            rec.acw_due_ms = None;
        }
    }
    Some(wrap_up)
}
