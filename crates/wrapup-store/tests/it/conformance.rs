//! The storage conformance suite: behaviour every `Store` implementation must have. Every
//! test in `conformance!` runs on SQLite, and on PostgreSQL when `WRAPUP_TEST_POSTGRES_URL`
//! names a server (each test gets a database of its own). A few tests are about one backend
//! only, and say so in their names.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;
use wrapup_types::*;

pub(crate) const NOW: i64 = 1_795_000_000_000;

/// Runs each listed test on both backends: `sqlite::name` and `postgres::name`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::TestDb::sqlite()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(db) = super::TestDb::postgres().await {
                        super::$name(db).await
                    }
                }
            )*
        }
    };
}

conformance!(
    acknowledged_writes_survive_reopening,
    rules_run_inside_the_write,
    finalization_is_driven_by_stored_deadlines,
    committed_events_are_published_in_order,
    pruning_keeps_recent_events_and_records_its_horizon,
    the_observer_hears_every_commit,
    names_are_unique_where_the_rules_say,
    listings_page_and_respect_grants,
    counts_are_by_division_and_state_and_respect_grants,
    interactions_list_newest_first,
    clients_tokens_and_meta_round_trip,
    lifecycle_moves_are_checked,
    concurrent_wrapups_serialise,
    one_failing_write_does_not_fail_its_batch,
);

/// Many wrap-ups in one write.
mod bulk;

/// Webhook storage: endpoints, delivery queues, leases, the attempt log.
mod webhooks;

/// What the Genesys dialect relies on: searches, tags, provisional flags, creators.
mod genesys;

/// Queues, agents, prompts and timeouts.
mod routing;

/// Genesys notification channels: limits, eviction, topics, expiry.
mod notifications;

/// The analytics queries' read.
mod analytics;

/// The last event before a time.
mod event_times;

async fn open_db(db: &TestDb) -> Arc<dyn Store> {
    open(&db.url).await.unwrap()
}

pub(crate) async fn closed_interaction(store: &dyn Store, division: Uuid, settle: i64) -> Uuid {
    let id = Uuid::new_v4();
    store
        .create_interaction(&NewInteraction {
            id,
            division_id: division,
            channel: Channel::Voice,
            now_ms: NOW,
            queue_id: None,
            agent_id: None,
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

pub(crate) async fn code(store: &dyn Store, division: Uuid, name: &str) -> Uuid {
    code_by(store, division, name, None).await
}

/// A new active code named `name` in `division`, created by the client `by`.
async fn code_by(store: &dyn Store, division: Uuid, name: &str, by: Option<Uuid>) -> Uuid {
    let t = timestamp::from_millis(NOW);
    let c = WrapUpCode {
        id: Uuid::new_v4(),
        name: name.into(),
        division_id: division,
        description: None,
        archived: false,
        date_created: t,
        date_modified: t,
        created_by: by,
    };
    store.create_code(&c).await.unwrap().code.id
}

pub(crate) fn apply(id: Uuid, code_id: Uuid, ms: u32) -> ApplyWrapUp {
    ApplyWrapUp {
        interaction_id: id,
        request: WrapUpRequest {
            code_id,
            duration_ms: ms,
            notes: None,
        }
        .into(),
        client_id: Uuid::nil(),
        divisions: DivisionGrant::All,
        now_ms: NOW + 10_000,
    }
}

/// Acknowledged changes survive closing and reopening the database.
async fn acknowledged_writes_survive_reopening(db: TestDb) {
    let store = open_db(&db).await;
    let div = Uuid::new_v4();
    store.create_division(div, "D", NOW).await.unwrap();
    let c = code(store.as_ref(), div, "Sale").await;
    let id = closed_interaction(store.as_ref(), div, 0).await;
    assert!(matches!(
        store.apply_wrapup(&apply(id, c, 5)).await.unwrap(),
        WrapUpApplied::Applied(_)
    ));
    drop(store);
    let store = open_db(&db).await;
    let rec = store.get_interaction(id).await.unwrap().unwrap();
    assert_eq!(rec.interaction.state, InteractionState::Completed);
    assert_eq!(store.wrapup_history(id).await.unwrap().len(), 1);
    assert!(matches!(
        store.apply_wrapup(&apply(id, c, 5)).await.unwrap(),
        WrapUpApplied::Unchanged(_)
    ));
}

/// A SQLite write is answered, and its event published, only once the syncer made its
/// commit durable (`sqlite/syncer.rs`): while the syncer is held before its fsync, the
/// write waits and subscribers hear nothing; once it goes on, both arrive.
#[tokio::test]
async fn sqlite_answers_a_write_only_once_it_is_durable() {
    let db = TestDb::sqlite();
    let store = Arc::new(SqliteStore::open(&db.url).await.unwrap());
    let div = Uuid::new_v4();
    store.create_division(div, "D", NOW).await.unwrap();
    let c = code(store.as_ref(), div, "Sale").await;
    let id = closed_interaction(store.as_ref(), div, 0).await;
    let mut events = store.subscribe();
    let mut hold = store.hold_syncs_for_tests();
    let applying = tokio::spawn({
        let store = store.clone();
        async move { store.apply_wrapup(&apply(id, c, 5)).await }
    });
    hold.reached().await;
    // The batch is committed to the WAL, and the syncer is stopped before its fsync.
    assert!(!applying.is_finished(), "answered before its fsync");
    assert!(
        matches!(
            events.try_recv(),
            Err(tokio::sync::broadcast::error::TryRecvError::Empty)
        ),
        "published before its fsync"
    );
    drop(hold);
    assert!(matches!(
        applying.await.unwrap().unwrap(),
        WrapUpApplied::Applied(_)
    ));
    let event = events.recv().await.unwrap();
    assert_eq!((event.kind, event.interaction.id), (EventKind::WrapUp, id));
}

/// SQLite runs in WAL mode; connections are synchronous=FULL (the writer's is NORMAL, and
/// its syncer fsyncs each commit before it is answered: the test above).
#[tokio::test]
async fn sqlite_is_durable_at_commit() {
    use sqlx::ConnectOptions;
    let db = TestDb::sqlite();
    let _store = open_db(&db).await;
    let mut conn = sqlite_connect_options(&db.url)
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

async fn rules_run_inside_the_write(db: TestDb) {
    let store = open_db(&db).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    store.create_division(a, "A", NOW).await.unwrap();
    store.create_division(b, "B", NOW).await.unwrap();
    let code_b = code(store.as_ref(), b, "Other").await;
    let code_a = code(store.as_ref(), a, "Sale").await;
    let pending = closed_interaction(store.as_ref(), a, 60_000).await;
    let rejected = |r: Result<WrapUpApplied>| match r {
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
        WrapUpApplied::Applied(_)
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

async fn finalization_is_driven_by_stored_deadlines(db: TestDb) {
    let store = open_db(&db).await;
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

async fn committed_events_are_published_in_order(db: TestDb) {
    let store = open_db(&db).await;
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

async fn pruning_keeps_recent_events_and_records_its_horizon(db: TestDb) {
    let store = open_db(&db).await;
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
            queue_id: None,
            agent_id: None,
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
    let store = open_db(&db).await;
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

async fn the_observer_hears_every_commit(db: TestDb) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct Count(AtomicUsize, AtomicUsize);
    impl StoreObserver for Count {
        fn batch_committed(&self, jobs: usize, _: std::time::Duration, ok: bool) {
            assert!(ok);
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.fetch_add(jobs, Ordering::SeqCst);
        }
    }
    let store = open_db(&db).await;
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

fn conflict<T: std::fmt::Debug>(r: Result<T>) -> String {
    match r {
        Err(StoreError::Conflict(m)) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn page(after: Option<i64>, limit: u32) -> PageRequest {
    PageRequest { after, limit }
}

async fn interaction(store: &dyn Store, division: Uuid) -> Uuid {
    let id = Uuid::new_v4();
    store
        .create_interaction(&NewInteraction {
            id,
            division_id: division,
            channel: Channel::Email,
            now_ms: NOW,
            queue_id: None,
            agent_id: None,
        })
        .await
        .unwrap();
    id
}

/// Division names are unique ignoring case; code names within a division, among codes
/// that are not archived; interaction ids everywhere.
async fn names_are_unique_where_the_rules_say(db: TestDb) {
    let store = open_db(&db).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    store.create_division(a, "Sales", NOW).await.unwrap();
    store.create_division(b, "Support", NOW).await.unwrap();
    let m = conflict(store.create_division(Uuid::new_v4(), "SALES", NOW).await);
    assert!(m.contains("SALES"), "{m}");

    let sale = code(store.as_ref(), a, "Sale").await;
    let t = timestamp::from_millis(NOW);
    let new_code = |division, name: &str| WrapUpCode {
        id: Uuid::new_v4(),
        name: name.into(),
        division_id: division,
        description: None,
        archived: false,
        date_created: t,
        date_modified: t,
        created_by: None,
    };
    let m = conflict(store.create_code(&new_code(a, "sale")).await);
    assert!(m.contains("already exists"), "{m}");
    store.create_code(&new_code(b, "Sale")).await.unwrap();
    assert!(matches!(
        store.create_code(&new_code(Uuid::new_v4(), "Orphan")).await,
        Err(StoreError::NotFound)
    ));

    // Renaming onto a taken name conflicts; archiving frees the name.
    let callback = code(store.as_ref(), a, "Callback").await;
    conflict(store.update_code(callback, "SALE", None, NOW + 1).await);
    let archived = store.archive_code(sale, NOW + 2).await.unwrap();
    assert!(archived.code.archived);
    assert_eq!(
        store.archive_code(sale, NOW + 3).await.unwrap().code,
        archived.code,
        "archiving again changes nothing"
    );
    let renamed = store
        .update_code(callback, "Sale", Some("was Callback"), NOW + 4)
        .await
        .unwrap();
    assert_eq!(
        (
            renamed.code.name.as_str(),
            renamed.code.description.as_deref()
        ),
        ("Sale", Some("was Callback"))
    );
    assert!(matches!(
        store.update_code(Uuid::new_v4(), "X", None, NOW).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.archive_code(Uuid::new_v4(), NOW).await,
        Err(StoreError::NotFound)
    ));

    let id = interaction(store.as_ref(), a).await;
    let again = store
        .create_interaction(&NewInteraction {
            id,
            division_id: b,
            channel: Channel::Voice,
            now_ms: NOW,
            queue_id: None,
            agent_id: None,
        })
        .await;
    assert!(conflict(again).contains(&id.to_string()));
    assert_eq!(
        store
            .get_interaction(id)
            .await
            .unwrap()
            .unwrap()
            .interaction
            .division_id,
        a,
        "the first interaction is untouched"
    );
}

/// Interactions listed newest first come in reverse creation order, and a page's last
/// position continues the listing with the older ones, with filters and grants as ever.
async fn interactions_list_newest_first(db: TestDb) {
    let store = open_db(&db).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    store.create_division(a, "A", NOW).await.unwrap();
    store.create_division(b, "B", NOW).await.unwrap();
    let mut in_a = Vec::new();
    for _ in 0..5 {
        in_a.push(interaction(store.as_ref(), a).await);
        interaction(store.as_ref(), b).await;
    }
    let newest = InteractionFilter {
        newest_first: true,
        ..Default::default()
    };
    let only_a = DivisionGrant::Only(vec![a]);
    let first = store
        .list_interactions(&only_a, &newest, page(None, 2))
        .await
        .unwrap();
    let rest = store
        .list_interactions(&only_a, &newest, page(Some(first[1].seq), 10))
        .await
        .unwrap();
    let ids: Vec<Uuid> = first
        .iter()
        .chain(&rest)
        .map(|r| r.interaction.id)
        .collect();
    let mut expected = in_a.clone();
    expected.reverse();
    assert_eq!(ids, expected);
    let all_b = InteractionFilter {
        division: Some(b),
        ..newest
    };
    let seqs: Vec<i64> = store
        .list_interactions(&DivisionGrant::All, &all_b, page(None, 100))
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs.len(), 5);
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    assert!(store
        .list_interactions(&only_a, &all_b, page(None, 100))
        .await
        .unwrap()
        .is_empty());
}

/// Listings return pages in creation order after a cursor, with filters, and only what
/// the grant allows.
async fn listings_page_and_respect_grants(db: TestDb) {
    let store = open_db(&db).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    store.create_division(a, "A", NOW).await.unwrap();
    store.create_division(b, "B", NOW).await.unwrap();
    let mut in_a = Vec::new();
    for n in 0..5 {
        in_a.push(interaction(store.as_ref(), a).await);
        if n % 2 == 0 {
            interaction(store.as_ref(), b).await;
        }
    }
    let only_a = DivisionGrant::Only(vec![a]);
    let all = InteractionFilter::default();
    let first = store
        .list_interactions(&only_a, &all, page(None, 2))
        .await
        .unwrap();
    let second = store
        .list_interactions(&only_a, &all, page(Some(first[1].seq), 10))
        .await
        .unwrap();
    let ids: Vec<Uuid> = first
        .iter()
        .chain(&second)
        .map(|r| r.interaction.id)
        .collect();
    assert_eq!(ids, in_a);
    assert_eq!(
        store
            .list_interactions(&DivisionGrant::All, &all, page(None, 100))
            .await
            .unwrap()
            .len(),
        8
    );
    assert!(store
        .list_interactions(&DivisionGrant::Only(vec![]), &all, page(None, 100))
        .await
        .unwrap()
        .is_empty());

    store
        .set_state(in_a[0], InteractionState::Active, NOW, 0)
        .await
        .unwrap();
    let active = InteractionFilter {
        state: Some(InteractionState::Active),
        ..Default::default()
    };
    let found = store
        .list_interactions(&DivisionGrant::All, &active, page(None, 100))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].interaction.id, in_a[0]);
    let in_b = InteractionFilter {
        division: Some(b),
        wrapped_up: Some(false),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_interactions(&DivisionGrant::All, &in_b, page(None, 100))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(store
        .list_interactions(&only_a, &in_b, page(None, 100))
        .await
        .unwrap()
        .is_empty());

    let sale = code(store.as_ref(), a, "Sale").await;
    code(store.as_ref(), b, "Sale").await;
    store.archive_code(sale, NOW).await.unwrap();
    let by_name = CodeFilter {
        name: Some("SALE".into()),
        ..Default::default()
    };
    let codes = store
        .list_codes(&DivisionGrant::All, &by_name, page(None, 10))
        .await
        .unwrap();
    assert_eq!(codes.len(), 1, "archived codes are left out by default");
    assert_eq!(codes[0].code.division_id, b);
    let archived_too = CodeFilter {
        include_archived: true,
        ..by_name
    };
    assert_eq!(
        store
            .list_codes(&only_a, &archived_too, page(None, 10))
            .await
            .unwrap()[0]
            .code
            .id,
        sale
    );
    let divisions = store.list_divisions(&only_a, page(None, 10)).await.unwrap();
    assert_eq!(divisions.len(), 1);
    assert_eq!(divisions[0].1.name, "A");
    assert_eq!(store.get_division(b).await.unwrap().unwrap().name, "B");
    assert!(store.get_division(Uuid::new_v4()).await.unwrap().is_none());
}

/// Interactions are counted by division, state and finalization, in the granted divisions
/// only; a closed interaction carries its finalization deadline.
async fn counts_are_by_division_and_state_and_respect_grants(db: TestDb) {
    let store = open_db(&db).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    store.create_division(a, "A", NOW).await.unwrap();
    store.create_division(b, "B", NOW).await.unwrap();
    interaction(store.as_ref(), a).await;
    interaction(store.as_ref(), a).await;
    let settling = closed_interaction(store.as_ref(), a, 1_000).await;
    let settled = closed_interaction(store.as_ref(), b, 0).await;
    store.finalize_due(NOW).await.unwrap();
    let rec = store.get_interaction(settling).await.unwrap().unwrap();
    assert_eq!(
        rec.interaction.finalizes_at,
        Some(timestamp::from_millis(NOW + 1_000))
    );
    let rec = store.get_interaction(settled).await.unwrap().unwrap();
    assert!(rec.interaction.finalized);
    assert_eq!(
        rec.interaction.finalizes_at,
        Some(timestamp::from_millis(NOW))
    );

    let mut all = store.count_interactions(&DivisionGrant::All).await.unwrap();
    all.sort_by_key(|c| (c.division_id == b, c.state.as_str(), c.finalized));
    let expected = |division, state, finalized, count| StateCount {
        division_id: division,
        state,
        finalized,
        count,
    };
    assert_eq!(
        all,
        [
            expected(a, InteractionState::Closed, false, 1),
            expected(a, InteractionState::Queued, false, 2),
            expected(b, InteractionState::Closed, true, 1),
        ]
    );
    let only_b = store
        .count_interactions(&DivisionGrant::Only(vec![b]))
        .await
        .unwrap();
    assert_eq!(only_b, [expected(b, InteractionState::Closed, true, 1)]);
    assert!(store
        .count_interactions(&DivisionGrant::Only(vec![]))
        .await
        .unwrap()
        .is_empty());
    // The listing filters by channel too (the closed ones are voice, the others email).
    let voice = InteractionFilter {
        channel: Some(Channel::Voice),
        ..Default::default()
    };
    let found = store
        .list_interactions(&DivisionGrant::All, &voice, page(None, 100))
        .await
        .unwrap();
    let mut ids: Vec<Uuid> = found.iter().map(|r| r.interaction.id).collect();
    ids.sort();
    let mut expected = vec![settling, settled];
    expected.sort();
    assert_eq!(ids, expected);
}

async fn clients_tokens_and_meta_round_trip(db: TestDb) {
    let store = open_db(&db).await;
    let client = ClientRecord {
        id: Uuid::new_v4(),
        name: "batch".into(),
        secret_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        scopes: ScopeSet::parse("interaction:view interaction:write").unwrap(),
        divisions: DivisionGrant::Only(vec![Uuid::new_v4()]),
        created_ms: NOW,
    };
    store.create_client(&client).await.unwrap();
    store.create_client(&client).await.unwrap(); // idempotent
    assert_eq!(
        store.get_client(client.id).await.unwrap(),
        Some(client.clone())
    );
    assert!(store.get_client(Uuid::new_v4()).await.unwrap().is_none());

    let token = TokenRecord {
        hash: [7; 32],
        client_id: client.id,
        scopes: client.scopes,
        expires_ms: NOW + 3_600_000,
    };
    store.insert_token(&token).await.unwrap();
    assert_eq!(store.get_token(&[7; 32]).await.unwrap(), Some(token));
    assert!(store.get_token(&[8; 32]).await.unwrap().is_none());
    // A token long expired is forgotten when a newer one is issued.
    let old = TokenRecord {
        hash: [1; 32],
        client_id: client.id,
        scopes: client.scopes,
        expires_ms: NOW - 30 * 86_400_000,
    };
    store.insert_token(&old).await.unwrap();
    store
        .insert_token(&TokenRecord {
            hash: [2; 32],
            ..old.clone()
        })
        .await
        .unwrap();
    store
        .insert_token(&TokenRecord {
            hash: [3; 32],
            expires_ms: NOW,
            ..old
        })
        .await
        .unwrap();
    assert!(store.get_token(&[1; 32]).await.unwrap().is_none());

    assert_eq!(store.get_meta("k").await.unwrap(), None);
    store.set_meta("k", "1").await.unwrap();
    store.set_meta("k", "2").await.unwrap();
    assert_eq!(store.get_meta("k").await.unwrap().as_deref(), Some("2"));
    store.health().await.unwrap();
}

async fn lifecycle_moves_are_checked(db: TestDb) {
    let store = open_db(&db).await;
    let div = Uuid::new_v4();
    store.create_division(div, "D", NOW).await.unwrap();
    let id = interaction(store.as_ref(), div).await;
    match store
        .set_state(id, InteractionState::Completed, NOW, 0)
        .await
    {
        Err(StoreError::Rejected(p)) => {
            assert_eq!(p[0].error_code, ErrorCode::InteractionTransitionInvalid)
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store
            .set_state(Uuid::new_v4(), InteractionState::Active, NOW, 0)
            .await,
        Err(StoreError::NotFound)
    ));
    let active = store
        .set_state(id, InteractionState::Active, NOW + 1, 0)
        .await
        .unwrap();
    assert_eq!(active.interaction.version, 2);
    // A settle time of 0 finalizes in the same write.
    let closed = store
        .set_state(id, InteractionState::Closed, NOW + 2, 0)
        .await
        .unwrap();
    assert!(closed.interaction.finalized);
    assert_eq!(closed.interaction.version, 4);
    assert!(matches!(
        store
            .set_state(id, InteractionState::Active, NOW + 3, 0)
            .await,
        Err(StoreError::Rejected(_))
    ));
    assert_eq!(closed.finalize_due_ms, Some(NOW + 2));
    assert_eq!(
        store.get_interaction(id).await.unwrap().unwrap(),
        closed,
        "what the write returned is what is stored"
    );
}

/// Concurrent wrap-ups of one interaction each apply in turn: none is lost, the history
/// and the events tell the same story, and versions never repeat.
async fn concurrent_wrapups_serialise(db: TestDb) {
    let store = open_db(&db).await;
    let div = Uuid::new_v4();
    store.create_division(div, "D", NOW).await.unwrap();
    let c = code(store.as_ref(), div, "Sale").await;
    let id = closed_interaction(store.as_ref(), div, 0).await;
    let writes = (1..=40).map(|ms| {
        let store = store.clone();
        async move { store.apply_wrapup(&apply(id, c, ms)).await.unwrap() }
    });
    let outcomes = futures::future::join_all(writes).await;
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, WrapUpApplied::Applied(_))));
    let history = store.wrapup_history(id).await.unwrap();
    assert_eq!(history.len(), 40);
    let rec = store.get_interaction(id).await.unwrap().unwrap();
    assert_eq!(
        rec.interaction.wrap_up.as_ref().unwrap().duration_ms,
        history.last().unwrap().duration_ms,
        "the wrap-up in place is the last one applied"
    );
    let versions: Vec<i64> = store
        .events_after(0, 1_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::WrapUp)
        .map(|e| e.interaction.version)
        .collect();
    assert_eq!(versions.len(), 40);
    assert!(
        versions.windows(2).all(|w| w[1] == w[0] + 1),
        "{versions:?}"
    );
    assert_eq!(rec.interaction.version, *versions.last().unwrap());
}

/// A write that conflicts fails alone: the writes committed with it in the same batch
/// are applied and acknowledged.
async fn one_failing_write_does_not_fail_its_batch(db: TestDb) {
    let store = open_db(&db).await;
    store
        .create_division(Uuid::new_v4(), "Taken", NOW)
        .await
        .unwrap();
    let writes = (0..30).map(|n| {
        let store = store.clone();
        async move {
            let name = if n % 3 == 0 {
                "taken".to_string()
            } else {
                format!("D{n}")
            };
            store.create_division(Uuid::new_v4(), &name, NOW).await
        }
    });
    let results = futures::future::join_all(writes).await;
    for (n, r) in results.iter().enumerate() {
        if n % 3 == 0 {
            assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
        } else {
            assert!(r.is_ok(), "{r:?}");
        }
    }
    assert_eq!(
        store
            .list_divisions(&DivisionGrant::All, page(None, 100))
            .await
            .unwrap()
            .len(),
        21
    );
}

// ---- several nodes on one PostgreSQL database ------------------------------------------

/// Waits for the next event on `rx` for at most 5 s.
async fn next_event(
    rx: &mut tokio::sync::broadcast::Receiver<Arc<EventRecord>>,
) -> Arc<EventRecord> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an event within 5 s")
        .expect("the stream is open")
}

/// Two stores on one database behave as one: what one writes the other reads, and the
/// other's subscribers get its events, in order, each once.
#[tokio::test]
async fn postgres_nodes_share_changes_and_events() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let a = open_db(&db).await;
    let b = open_db(&db).await;
    // Subscribed before anything is written: a node hands its own commits to its
    // subscribers just after acknowledging them, so a subscription taken later could still
    // receive an earlier event.
    let mut on_a = a.subscribe();
    let mut on_b = b.subscribe();
    let div = Uuid::new_v4();
    a.create_division(div, "D", NOW).await.unwrap();
    let id = closed_interaction(a.as_ref(), div, 0).await;
    assert!(
        b.get_interaction(id)
            .await
            .unwrap()
            .unwrap()
            .interaction
            .finalized
    );
    for on in [&mut on_b, &mut on_a] {
        let mut seen = Vec::new();
        for _ in 0..4 {
            let e = next_event(on).await;
            assert_eq!(e.interaction.id, id);
            seen.push((e.seq, e.kind));
        }
        assert_eq!(
            seen,
            [
                (1, EventKind::Created),
                (2, EventKind::State),
                (3, EventKind::State),
                (4, EventKind::Finalized)
            ]
        );
    }

    // Writes through both nodes at once: every event reaches both, in one order.
    let writes = (0..20).map(|n| {
        let node = if n % 2 == 0 { a.clone() } else { b.clone() };
        async move { interaction(node.as_ref(), div).await }
    });
    futures::future::join_all(writes).await;
    let (mut seqs_a, mut seqs_b) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        seqs_a.push(next_event(&mut on_a).await.seq);
        seqs_b.push(next_event(&mut on_b).await.seq);
    }
    assert_eq!(seqs_a, (5..25).collect::<Vec<i64>>());
    assert_eq!(seqs_a, seqs_b);
    assert_eq!(b.event_bounds().await.unwrap().latest, 24);
}

/// The finalization timer may run on every node: each interaction is finalized once, and
/// wrap-ups through both nodes on one interaction serialise.
#[tokio::test]
async fn postgres_nodes_finalize_once_and_serialise_wrapups() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let a = open_db(&db).await;
    let b = open_db(&db).await;
    let div = Uuid::new_v4();
    a.create_division(div, "D", NOW).await.unwrap();
    let c = code(a.as_ref(), div, "Sale").await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(closed_interaction(a.as_ref(), div, 1_000).await);
    }
    let due = NOW + 1_000;
    let passes = (0..8).map(|n| {
        let node = if n % 2 == 0 { a.clone() } else { b.clone() };
        async move { node.finalize_due(due).await.unwrap().len() }
    });
    let finalized: usize = futures::future::join_all(passes).await.into_iter().sum();
    assert_eq!(
        finalized, 50,
        "each interaction finalized by exactly one pass"
    );
    let events = a.events_after(0, 10_000).await.unwrap();
    for id in &ids {
        let n = events
            .iter()
            .filter(|e| e.kind == EventKind::Finalized && e.interaction.id == *id)
            .count();
        assert_eq!(n, 1, "one finalized event for {id}");
    }

    let id = ids[0];
    let writes = (1..=30).map(|ms| {
        let node = if ms % 2 == 0 { a.clone() } else { b.clone() };
        async move {
            let cmd = ApplyWrapUp {
                now_ms: due,
                ..apply(id, c, ms)
            };
            node.apply_wrapup(&cmd).await.unwrap()
        }
    });
    futures::future::join_all(writes).await;
    assert_eq!(b.wrapup_history(id).await.unwrap().len(), 30);
    let versions: Vec<i64> = b
        .events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::WrapUp)
        .map(|e| e.interaction.version)
        .collect();
    assert!(
        versions.windows(2).all(|w| w[1] == w[0] + 1),
        "{versions:?}"
    );
}

/// Readers keep their snapshot between reads while this store commits nothing; a client
/// created by another process (`wrapup clients create` beside a running server) is still
/// found at once, and a read after a write sees the write.
#[tokio::test]
async fn sqlite_readers_see_other_processes_clients_and_their_own_writes() {
    let db = TestDb::sqlite();
    let server = open_db(&db).await;
    let other = open_db(&db).await;
    let division = Uuid::new_v4();
    // Give every reader connection a snapshot first.
    let reads = (0..16).map(|_| server.get_division(division));
    futures::future::join_all(reads).await;
    let client = ClientRecord {
        id: Uuid::new_v4(),
        name: "cli".into(),
        secret_hash: "x".into(),
        scopes: ScopeSet::parse("interaction:view").unwrap(),
        divisions: DivisionGrant::All,
        created_ms: NOW,
    };
    other.create_client(&client).await.unwrap();
    assert_eq!(server.get_client(client.id).await.unwrap(), Some(client));
    server.create_division(division, "D", NOW).await.unwrap();
    for _ in 0..16 {
        assert!(server.get_division(division).await.unwrap().is_some());
    }
}
