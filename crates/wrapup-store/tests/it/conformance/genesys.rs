//! The storage behaviour the Genesys dialect relies on (docs/genesys.md), on every backend:
//! searches (the listings wrapup shares with Genesys: filters, order, position, count), a
//! wrap-up's tags and provisional flag and a code's creator kept through every write and
//! read, and a wrap-up whose duration is measured from the close. Each test runs on SQLite,
//! and on PostgreSQL when `WRAPUP_TEST_POSTGRES_URL` names a server.

use uuid::Uuid;
use wrapup_domain::{NewWrapUp, WrapUpDuration};
use wrapup_store::testing::TestDb;
use wrapup_store::*;
use wrapup_types::*;

use super::{code_by as code, open_db, NOW};

conformance!(
    searches_filter_order_page_and_count,
    tags_provisional_and_creators_are_kept,
    a_duration_not_sent_is_measured_from_the_close_once,
);

async fn finalized(store: &dyn Store, division: Uuid) -> Uuid {
    let id = super::interaction(store, division).await;
    for state in [InteractionState::Active, InteractionState::Closed] {
        store.set_state(id, state, NOW, 0).await.unwrap();
    }
    id
}

fn names(found: &Found<CodeRecord>) -> Vec<&str> {
    found.items.iter().map(|c| c.code.name.as_str()).collect()
}

async fn searches_filter_order_page_and_count(db: TestDb) {
    let store = open_db(&db).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    store.create_division(a, "Sales", NOW).await.unwrap();
    store.create_division(b, "back office", NOW).await.unwrap();
    for name in ["bravo", "Alpha", "100%_off", "a_b", "axb", "Émile"] {
        code(store.as_ref(), a, name, None).await;
    }
    let other = code(store.as_ref(), b, "Alpha", None).await;
    let gone = code(store.as_ref(), a, "Zulu", None).await;
    store.archive_code(gone, NOW).await.unwrap();
    let all = DivisionGrant::All;
    let search = |f: &dyn Fn(&mut CodeSearch)| {
        let mut s = CodeSearch {
            search: Search {
                limit: 100,
                ..Search::default()
            },
            ..CodeSearch::default()
        };
        f(&mut s);
        s
    };

    // By name ignoring case, then id; in code point order (not the database's locale).
    let found = store.search_codes(&all, &search(&|_| {})).await.unwrap();
    assert_eq!(found.total, 7);
    assert_eq!(
        names(&found),
        ["100%_off", "a_b", "Alpha", "Alpha", "axb", "bravo", "Émile"]
    );
    let found = store
        .search_codes(&all, &search(&|s| s.search.descending = true))
        .await
        .unwrap();
    assert_eq!(names(&found)[0], "Émile");
    let found = store
        .search_codes(&all, &search(&|s| s.search.sort = SortKey::Id))
        .await
        .unwrap();
    let ids: Vec<Uuid> = found.items.iter().map(|c| c.code.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ids in byte order, as their text sorts");

    // A page by position, with the count of every match.
    let found = store
        .search_codes(
            &all,
            &search(&|s| {
                s.search.offset = 2;
                s.search.limit = 3;
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        (found.total, names(&found)),
        (7, vec!["Alpha", "Alpha", "axb"])
    );

    // Names: `*` is the only wildcard; `%` and `_` are themselves.
    for (pattern, expected) in [
        ("a_b", vec!["a_b"]),
        ("A*B", vec!["a_b", "axb"]),
        ("*%*", vec!["100%_off"]),
        ("*_*", vec!["100%_off", "a_b"]),
        (" ALPHA ", vec!["Alpha", "Alpha"]),
        ("é*", vec!["Émile"]),
    ] {
        let found = store
            .search_codes(&all, &search(&|s| s.search.name = Some(pattern.into())))
            .await
            .unwrap();
        assert_eq!(names(&found), expected, "{pattern}");
        assert_eq!(found.total, expected.len() as u64);
    }

    // Ids and divisions, within the grant; archived codes only when asked.
    let only_a = DivisionGrant::Only(vec![a]);
    let found = store
        .search_codes(&only_a, &search(&|s| s.search.ids = vec![other, gone]))
        .await
        .unwrap();
    assert_eq!(found.total, 0, "one is not granted, the other archived");
    let found = store
        .search_codes(
            &only_a,
            &search(&|s| {
                s.search.ids = vec![other, gone];
                s.include_archived = true;
            }),
        )
        .await
        .unwrap();
    assert_eq!(names(&found), ["Zulu"]);
    let found = store
        .search_codes(&all, &search(&|s| s.divisions = vec![b]))
        .await
        .unwrap();
    assert_eq!((found.total, found.items[0].code.id), (1, other));
    let none = store
        .search_codes(&DivisionGrant::Only(vec![]), &search(&|_| {}))
        .await
        .unwrap();
    assert_eq!(none.total, 0);

    // Divisions search the same way.
    let search = Search {
        limit: 1,
        ..Search::default()
    };
    let found = store.search_divisions(&all, &search).await.unwrap();
    assert_eq!(
        (found.total, found.items[0].name.as_str()),
        (2, "back office")
    );
    let found = store
        .search_divisions(
            &only_a,
            &Search {
                name: Some("s*".into()),
                limit: 10,
                ..Search::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((found.total, found.items[0].id), (1, a));
}

async fn tags_provisional_and_creators_are_kept(db: TestDb) {
    let store = open_db(&db).await;
    let division = Uuid::new_v4();
    store.create_division(division, "Sales", NOW).await.unwrap();
    let creator = Uuid::new_v4();
    let sale = code(store.as_ref(), division, "Sale", Some(creator)).await;
    let id = finalized(store.as_ref(), division).await;
    let mut events = store.subscribe();
    let cmd = ApplyWrapUp {
        interaction_id: id,
        request: NewWrapUp {
            code_id: sale,
            duration: WrapUpDuration::Given(60_000),
            notes: None,
            tags: vec!["vip".into(), "100% \"happy\"".into()],
            provisional: true,
        },
        client_id: creator,
        divisions: DivisionGrant::All,
        now_ms: NOW + 10,
    };
    store.apply_wrapup(&cmd).await.unwrap();
    let check = |w: &WrapUp| {
        assert_eq!(w.tags, ["vip", "100% \"happy\""]);
        assert!(w.provisional);
    };
    let event = loop {
        let e = events.recv().await.unwrap();
        if e.kind == EventKind::WrapUp {
            break e;
        }
    };
    check(event.interaction.wrap_up.as_ref().unwrap());
    drop(store);

    // Everything survives reopening: the interaction, its history, the event log, the code.
    let store = open_db(&db).await;
    let rec = store.get_interaction(id).await.unwrap().unwrap();
    check(rec.interaction.wrap_up.as_ref().unwrap());
    check(&store.wrapup_history(id).await.unwrap()[0]);
    let stored = store.events_after(0, 100).await.unwrap();
    check(stored.last().unwrap().interaction.wrap_up.as_ref().unwrap());
    assert_eq!(
        store.get_code(sale).await.unwrap().unwrap().code.created_by,
        Some(creator)
    );

    // A final wrap-up with no tags replaces it, and is stored without them.
    let mut final_one = cmd.clone();
    final_one.request.tags.clear();
    final_one.request.provisional = false;
    assert!(matches!(
        store.apply_wrapup(&final_one).await.unwrap(),
        WrapUpApplied::Applied(_)
    ));
    let history = store.wrapup_history(id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[1].tags.is_empty() && !history[1].provisional);
    let rec = store.get_interaction(id).await.unwrap().unwrap();
    assert_eq!(rec.interaction.wrap_up.as_ref(), Some(&history[1]));
}

async fn a_duration_not_sent_is_measured_from_the_close_once(db: TestDb) {
    let store = open_db(&db).await;
    let division = Uuid::new_v4();
    store.create_division(division, "Sales", NOW).await.unwrap();
    let sale = code(store.as_ref(), division, "Sale", None).await;
    let id = finalized(store.as_ref(), division).await;
    let cmd = |now_ms| ApplyWrapUp {
        interaction_id: id,
        request: NewWrapUp {
            code_id: sale,
            duration: WrapUpDuration::SinceClose { until_ms: None },
            notes: Some("n".into()),
            tags: vec![],
            provisional: false,
        },
        client_id: Uuid::nil(),
        divisions: DivisionGrant::All,
        now_ms,
    };
    let WrapUpApplied::Applied(rec) = store.apply_wrapup(&cmd(NOW + 42_000)).await.unwrap() else {
        panic!("applied");
    };
    assert_eq!(rec.interaction.wrap_up.unwrap().duration_ms, 42_000);
    assert!(matches!(
        store.apply_wrapup(&cmd(NOW + 99_000)).await.unwrap(),
        WrapUpApplied::Unchanged(_)
    ));
    assert_eq!(store.wrapup_history(id).await.unwrap().len(), 1);
}
