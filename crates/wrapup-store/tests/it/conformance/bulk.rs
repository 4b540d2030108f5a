//! Many wrap-ups in one write (`Store::apply_wrapups`), on both backends: each item answers
//! as `apply_wrapup` would alone, in order, a refusal leaves its neighbours applied, the
//! whole array commits once, and sending it again changes nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;
use wrapup_types::*;

use super::{apply, closed_interaction, code, open_db, NOW};

conformance!(bulk_wrapups_answer_each_item_in_one_commit);

/// Counts committed batches and the writes in them.
#[derive(Default)]
struct Commits {
    batches: AtomicUsize,
    writes: AtomicUsize,
}

impl StoreObserver for Commits {
    fn batch_committed(&self, jobs: usize, _elapsed: std::time::Duration, ok: bool) {
        if ok {
            self.batches.fetch_add(1, Ordering::SeqCst);
            self.writes.fetch_add(jobs, Ordering::SeqCst);
        }
    }
}

/// What each answer was: applied, unchanged, or the refusal's codes.
fn outcomes(answers: &[Result<WrapUpApplied>]) -> Vec<String> {
    answers
        .iter()
        .map(|a| match a {
            Ok(WrapUpApplied::Applied(_)) => "applied".to_string(),
            Ok(WrapUpApplied::Unchanged(_)) => "unchanged".to_string(),
            Err(StoreError::NotFound) => "not found".to_string(),
            Err(StoreError::Rejected(details)) => details
                .iter()
                .map(|d| d.error_code.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            Err(other) => format!("{other:?}"),
        })
        .collect()
}

async fn bulk_wrapups_answer_each_item_in_one_commit(db: TestDb) {
    let store = open_db(&db).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    store.create_division(a, "A", NOW).await.unwrap();
    store.create_division(b, "B", NOW).await.unwrap();
    let code_a = code(store.as_ref(), a, "Sale").await;
    let code_b = code(store.as_ref(), b, "Other").await;
    let first = closed_interaction(store.as_ref(), a, 0).await;
    let second = closed_interaction(store.as_ref(), a, 0).await;
    let pending = closed_interaction(store.as_ref(), a, 60_000).await;
    let in_b = closed_interaction(store.as_ref(), b, 0).await;
    let only_a = |cmd: ApplyWrapUp| ApplyWrapUp {
        divisions: DivisionGrant::Only(vec![a]),
        ..cmd
    };
    let items = vec![
        apply(first, code_a, 5),
        // The same wrap-up again in the same array: it sees the first one in place.
        apply(first, code_a, 5),
        apply(pending, code_a, 5),
        apply(second, code_b, 5),
        only_a(apply(second, code_b, 5)),
        // Invisible to the caller: the same answer as an id that names nothing.
        only_a(apply(in_b, code_b, 5)),
        apply(Uuid::new_v4(), code_a, 5),
        apply(second, code_a, 7),
    ];
    let commits = Arc::new(Commits::default());
    store.set_observer(commits.clone());
    let answers = store.apply_wrapups(items.clone()).await.unwrap();
    assert_eq!(
        outcomes(&answers),
        [
            "applied",
            "unchanged",
            "interaction.not.finalized",
            "wrapup.code.division.mismatch",
            "wrapup.code.not.found",
            "not found",
            "not found",
            "applied",
        ]
    );
    assert_eq!(commits.batches.load(Ordering::SeqCst), 1, "one commit");
    assert_eq!(commits.writes.load(Ordering::SeqCst), 1, "one write");
    // The refusal carries what the single write gives: how long to wait.
    let Err(StoreError::Rejected(details)) = &answers[2] else {
        panic!("{:?}", answers[2]);
    };
    match store.apply_wrapup(&items[2]).await {
        Err(StoreError::Rejected(alone)) => assert_eq!(&alone, details),
        other => panic!("{other:?}"),
    }
    assert!(details[0].retry_after_ms.is_some(), "{details:?}");

    // Each applied item has its history entry and its event, as a single write gives.
    for (id, ms) in [(first, 5), (second, 7)] {
        let history = store.wrapup_history(id).await.unwrap();
        assert_eq!(history.len(), 1, "{id}");
        assert_eq!(history[0].duration_ms, ms);
        let wrapped = store.get_interaction(id).await.unwrap().unwrap();
        assert_eq!(wrapped.interaction.state, InteractionState::Completed);
    }
    let wrapup_events = || async {
        store
            .events_after(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == EventKind::WrapUp)
            .map(|e| e.interaction.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(wrapup_events().await, [first, second]);

    // Sent again: what is in place is unchanged, nothing new is written.
    let again = store.apply_wrapups(items).await.unwrap();
    let expected: Vec<String> = outcomes(&answers)
        .into_iter()
        .map(|o| {
            if o == "applied" {
                "unchanged".into()
            } else {
                o
            }
        })
        .collect();
    assert_eq!(outcomes(&again), expected);
    assert_eq!(wrapup_events().await, [first, second]);
    assert_eq!(store.wrapup_history(second).await.unwrap().len(), 1);
    assert!(store.apply_wrapups(Vec::new()).await.unwrap().is_empty());
}
