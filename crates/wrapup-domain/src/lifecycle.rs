//! The interaction lifecycle: `queued → active → closed → completed`, `queued → closed`
//! (abandoned), and finalization: a closed interaction is ready for a wrap-up only once
//! the platform has settled it.

use wrapup_types::{ErrorCode, ErrorDetail, InteractionState};

/// The states `POST …/state` may move an interaction to from `from`. (`completed` is
/// reached only by applying a wrap-up.)
pub fn allowed_moves(from: InteractionState) -> &'static [InteractionState] {
    use InteractionState::*;
    match from {
        Queued => &[Active, Closed],
        Active => &[Closed],
        Closed | Completed => &[],
    }
}

/// Checks a lifecycle move; the 409 problem names the current state and the moves allowed.
pub fn check_move(from: InteractionState, to: InteractionState) -> Result<(), ErrorDetail> {
    let allowed = allowed_moves(from);
    if allowed.contains(&to) {
        return Ok(());
    }
    let options = if allowed.is_empty() {
        "no further state changes are allowed".to_string()
    } else {
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        format!("allowed from {from}: {}", names.join(", "))
    };
    let hint = match from {
        InteractionState::Closed => {
            "A closed interaction takes no more state changes: once it is finalized, apply a wrap-up with PUT /api/v2/interactions/{id}/wrap-up, which completes it."
        }
        InteractionState::Completed => {
            "A completed interaction has its wrap-up and takes no more state changes. To change the wrap-up, PUT a new one to /api/v2/interactions/{id}/wrap-up: it replaces the current one, and the history keeps both."
        }
        _ => "Move the interaction through queued → active → closed, one step at a time.",
    };
    Err(ErrorDetail::new(
        ErrorCode::InteractionTransitionInvalid,
        format!("The interaction is {from} and cannot move to {to}; {options}."),
    )
    .field("state")
    .hint(hint))
}

/// Whether an interaction can take a wrap-up now: closed and finalized by the platform, or
/// completed (it has one, which a new one replaces). The one definition of "ready": the
/// server refuses a wrap-up with [`check_ready`]'s reason otherwise, and the client and the
/// batch wait for exactly this before they send one.
pub fn is_ready(state: InteractionState, finalized: bool) -> bool {
    match state {
        InteractionState::Closed => finalized,
        InteractionState::Completed => true,
        InteractionState::Queued | InteractionState::Active => false,
    }
}

/// Why an interaction cannot take a wrap-up yet, or `None` when it can ([`is_ready`]).
///
/// `finalize_due_ms` is when a closed interaction will be (or was) finalized, in
/// milliseconds since the epoch; `now_ms` is the current time in the same unit.
pub fn check_ready(
    state: InteractionState,
    finalized: bool,
    finalize_due_ms: Option<i64>,
    now_ms: i64,
) -> Option<ErrorDetail> {
    if is_ready(state, finalized) {
        return None;
    }
    if state != InteractionState::Closed {
        return Some(
            ErrorDetail::new(
                ErrorCode::InteractionNotClosed,
                format!(
                    "The interaction is {state}; a wrap-up can be applied only after it is closed and finalized."
                ),
            )
            .hint(
                "Wait for the interaction to close (watch the event stream for interaction.state, then \
                 interaction.finalized) before applying the wrap-up.",
            ),
        );
    }
    let wait = finalize_due_ms.map_or(0, |due| (due - now_ms).max(0)) as u64;
    Some(
        ErrorDetail::new(
            ErrorCode::InteractionNotFinalized,
            format!(
                "The interaction is closed but not finalized yet; it will be in about {wait} ms."
            ),
        )
        .hint(
            "Retry after the Retry-After delay, or wait for the interaction.finalized event \
             on the event stream.",
        )
        .retry_after_ms(wait),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use InteractionState::*;

    #[test]
    fn moves() {
        assert!(check_move(Queued, Active).is_ok());
        assert!(check_move(Queued, Closed).is_ok());
        assert!(check_move(Active, Closed).is_ok());
        for (from, to) in [
            (Active, Active),
            (Active, Queued),
            (Closed, Active),
            (Completed, Closed),
        ] {
            let e = check_move(from, to).unwrap_err();
            assert_eq!(e.error_code, ErrorCode::InteractionTransitionInvalid);
            assert!(e.message.contains(from.as_str()));
        }
        // The hint fits the state: a closed interaction waits for its wrap-up, a completed
        // one has it (and can only have it replaced).
        let closed = check_move(Closed, Active).unwrap_err().hint.unwrap();
        assert!(
            closed.contains("once it is finalized, apply a wrap-up"),
            "{closed}"
        );
        let completed = check_move(Completed, Closed).unwrap_err().hint.unwrap();
        assert!(
            completed.contains("has its wrap-up") && completed.contains("replaces"),
            "{completed}"
        );
        assert!(!completed.contains("to complete it"), "{completed}");
        let e = check_move(Active, Active).unwrap_err();
        assert!(
            e.message.contains("allowed from active: closed"),
            "{}",
            e.message
        );
    }

    #[test]
    fn readiness() {
        assert_eq!(
            check_ready(Active, false, None, 0).unwrap().error_code,
            ErrorCode::InteractionNotClosed
        );
        let e = check_ready(Closed, false, Some(1_500), 100).unwrap();
        assert_eq!(e.error_code, ErrorCode::InteractionNotFinalized);
        assert_eq!(e.retry_after_ms, Some(1_400));
        assert!(check_ready(Closed, true, Some(1_500), 2_000).is_none());
        assert!(check_ready(Completed, true, Some(1_500), 2_000).is_none());
        // `check_ready` refuses exactly what `is_ready` says is not ready.
        for state in [Queued, Active, Closed, Completed] {
            for finalized in [false, true] {
                assert_eq!(
                    is_ready(state, finalized),
                    check_ready(state, finalized, None, 0).is_none(),
                    "{state} finalized={finalized}"
                );
            }
        }
        assert!(!is_ready(Closed, false) && is_ready(Closed, true) && is_ready(Completed, false));
    }
}
