//! The storage conformance suite: behaviour every `Store` implementation must have. It runs on
//! SQLite here; a PostgreSQL implementation runs the same `suite` functions.

use std::sync::Arc;

use uuid::Uuid;
use wrapup_store::*;
use wrapup_types::*;

const NOW: i64 = 1_795_000_000_000;

async fn sqlite() -> (tempfile::TempDir, String, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = open(&url).await.unwrap();
    (dir, url, store)
}

async fn closed_interaction(store: &dyn Store, division: Uuid, settle: i64) -> Uuid {
    let id = Uuid::new_v4();
    store
        .create_interaction(&NewInteraction {
            id,
            division_id: division,
            channel: Channel::Voice,
            now_ms: NOW,
        })
        .await
        .unwrap();
    store
        .set_state(id, InteractionState::Active, NOW, settle)
        .await
        .unwrap();
    store
        .set_state(id, InteractionState::Closed, NOW, settle)
        .await
        .unwrap();
    id
}

async fn code(store: &dyn Store, division: Uuid, name: &str) -> Uuid {
    let t = timestamp::from_millis(NOW);
    let c = WrapUpCode {
        id: Uuid::new_v4(),
        name: name.into(),
        division_id: division,
        description: None,
        archived: false,
        date_created: t,
        date_modified: t,
    };
    store.create_code(&c).await.unwrap().code.id
}

fn apply(id: Uuid, code_id: Uuid, ms: u32) -> ApplyWrapUp {
    ApplyWrapUp {
        interaction_id: id,
        request: WrapUpRequest {
            code_id,
            duration_ms: ms,
            notes: None,
        },
        client_id: Uuid::nil(),
        divisions: DivisionGrant::All,
        now_ms: NOW + 10_000,
    }
}

/// Acknowledged changes survive closing and reopening the database.
#[tokio::test]
async fn acknowledged_writes_survive_reopening() {
    let (_dir, url, store) = sqlite().await;
    let div = Uuid::new_v4();
    store.create_division(div, "D", NOW).await.unwrap();
    let c = code(store.as_ref(), div, "Sale").await;
    let id = closed_interaction(store.as_ref(), div, 0).await;
    assert!(matches!(
        store.apply_wrapup(&apply(id, c, 5)).await.unwrap(),
        ApplyOutcome::Applied(_)
    ));
    drop(store);
    let store = open(&url).await.unwrap();
    let rec = store.get_interaction(id).await.unwrap().unwrap();
    assert_eq!(rec.interaction.state, InteractionState::Completed);
    assert_eq!(store.wrapup_history(id).await.unwrap().len(), 1);
    assert!(matches!(
        store.apply_wrapup(&apply(id, c, 5)).await.unwrap(),
        ApplyOutcome::Unchanged(_)
    ));
}

/// SQLite runs in WAL mode with synchronous=FULL (durable at commit).
#[tokio::test]
async fn sqlite_is_durable_at_commit() {
    use sqlx::ConnectOptions;
    let (_dir, url, _store) = sqlite().await;
    let mut conn = sqlite_connect_options(&url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(synchronous, 2, "FULL");
}

#[tokio::test]
async fn rules_run_inside_the_write() {
    let (_dir, _url, store) = sqlite().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    store.create_division(a, "A", NOW).await.unwrap();
    store.create_division(b, "B", NOW).await.unwrap();
    let code_b = code(store.as_ref(), b, "Other").await;
    let code_a = code(store.as_ref(), a, "Sale").await;
    let pending = closed_interaction(store.as_ref(), a, 60_000).await;
    let rejected = |r: Result<ApplyOutcome>| match r {
        Err(StoreError::Rejected(p)) => p.into_iter().map(|d| d.error_code).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        rejected(store.apply_wrapup(&apply(pending, code_a, 5)).await),
        [ErrorCode::InteractionNotFinalized]
    );
    assert_eq!(
        rejected(store.apply_wrapup(&apply(pending, code_b, 5)).await),
        [
            ErrorCode::InteractionNotFinalized,
            ErrorCode::WrapupCodeDivisionMismatch
        ]
    );
    let only_a = ApplyWrapUp {
        divisions: DivisionGrant::Only(vec![a]),
        ..apply(pending, code_b, 5)
    };
    assert_eq!(
        rejected(store.apply_wrapup(&only_a).await),
        [
            ErrorCode::InteractionNotFinalized,
            ErrorCode::WrapupCodeNotFound
        ]
    );
    // Due but not yet finalized by the timer: finalized in the same write, then applied.
    let due = ApplyWrapUp {
        now_ms: NOW + 60_000,
        ..apply(pending, code_a, 5)
    };
    assert!(matches!(
        store.apply_wrapup(&due).await.unwrap(),
        ApplyOutcome::Applied(_)
    ));
    let kinds: Vec<EventKind> = store
        .events_after(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.interaction.id == pending)
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::State,
            EventKind::State,
            EventKind::Finalized,
            EventKind::WrapUp
        ]
    );
}

#[tokio::test]
async fn finalization_is_driven_by_stored_deadlines() {
    let (_dir, _url, store) = sqlite().await;
    let div = Uuid::new_v4();
    store.create_division(div, "D", NOW).await.unwrap();
    let early = closed_interaction(store.as_ref(), div, 100).await;
    let late = closed_interaction(store.as_ref(), div, 500).await;
    assert_eq!(store.next_finalize_due().await.unwrap(), Some(NOW + 100));
    let done = store.finalize_due(NOW + 100).await.unwrap();
    assert_eq!(
        done.iter().map(|r| r.interaction.id).collect::<Vec<_>>(),
        [early]
    );
    assert_eq!(store.next_finalize_due().await.unwrap(), Some(NOW + 500));
    assert!(
        store.finalize_due(NOW + 100).await.unwrap().is_empty(),
        "finalizing is idempotent"
    );
    store.finalize_due(NOW + 500).await.unwrap();
    assert!(
        store
            .get_interaction(late)
            .await
            .unwrap()
            .unwrap()
            .interaction
            .finalized
    );
    assert_eq!(store.next_finalize_due().await.unwrap(), None);
}

#[tokio::test]
async fn committed_events_are_published_in_order() {
    let (_dir, _url, store) = sqlite().await;
    let mut rx = store.subscribe();
    let div = Uuid::new_v4();
    store.create_division(div, "D", NOW).await.unwrap();
    let id = closed_interaction(store.as_ref(), div, 0).await;
    let mut seqs = Vec::new();
    for _ in 0..4 {
        let e = rx.recv().await.unwrap();
        assert_eq!(e.interaction.id, id);
        seqs.push(e.seq);
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let stored: Vec<i64> = store
        .events_after(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(stored, seqs);
}

#[tokio::test]
async fn in_memory_databases_are_refused_with_a_reason() {
    let e = open("sqlite::memory:").await.err().unwrap();
    assert!(e.to_string().contains("in-memory"), "{e}");
}

#[tokio::test]
async fn pruning_keeps_recent_events_and_records_its_horizon() {
    let (_dir, url, store) = sqlite().await;
    assert_eq!(store.event_bounds().await.unwrap(), EventBounds::default());
    let division = store
        .create_division(Uuid::new_v4(), "D", NOW)
        .await
        .unwrap();
    closed_interaction(store.as_ref(), division.id, 1_000).await; // events 1..=3 at NOW
    let later = Uuid::new_v4();
    store
        .create_interaction(&NewInteraction {
            id: later,
            division_id: division.id,
            channel: Channel::Chat,
            now_ms: NOW + 10,
        })
        .await
        .unwrap(); // event 4 at NOW + 10
    assert_eq!(store.prune_events(NOW).await.unwrap(), 0, "nothing older");
    assert_eq!(store.prune_events(NOW + 5).await.unwrap(), 3);
    assert_eq!(store.prune_events(NOW + 5).await.unwrap(), 0, "idempotent");
    let bounds = store.event_bounds().await.unwrap();
    assert_eq!(
        bounds,
        EventBounds {
            pruned_through: 3,
            latest: 4
        }
    );
    let left = store.events_after(0, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].seq, left[0].interaction.id), (4, later));

    // Pruning everything keeps the sequence: the next event is 5, not 1, even after a
    // restart.
    assert_eq!(store.prune_events(NOW + 1_000).await.unwrap(), 1);
    drop(store);
    let store = open(&url).await.unwrap();
    assert_eq!(
        store.event_bounds().await.unwrap(),
        EventBounds {
            pruned_through: 4,
            latest: 4
        }
    );
    store
        .set_state(later, InteractionState::Active, NOW + 2_000, 1_000)
        .await
        .unwrap();
    assert_eq!(store.events_after(0, 10).await.unwrap()[0].seq, 5);
}

#[tokio::test]
async fn the_observer_hears_every_commit() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct Count(AtomicUsize, AtomicUsize);
    impl StoreObserver for Count {
        fn batch_committed(&self, jobs: usize, _: std::time::Duration, ok: bool) {
            assert!(ok);
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.fetch_add(jobs, Ordering::SeqCst);
        }
    }
    let (_dir, _url, store) = sqlite().await;
    let count = Arc::new(Count(AtomicUsize::new(0), AtomicUsize::new(0)));
    store.set_observer(count.clone());
    for i in 0..3 {
        store
            .create_division(Uuid::new_v4(), &format!("D{i}"), NOW)
            .await
            .unwrap();
    }
    assert_eq!(count.1.load(Ordering::SeqCst), 3, "three jobs");
    assert!(count.0.load(Ordering::SeqCst) >= 1);
}
