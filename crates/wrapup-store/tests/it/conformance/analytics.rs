//! The analytics queries' read: the interactions created in an interval, by creation time,
//! paged in the database, counted, within the grant.

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;
use wrapup_types::*;

use super::{open_db, NOW};

conformance!(interactions_started_in_an_interval);

async fn created_at(store: &dyn Store, division: Uuid, at_ms: i64) -> Uuid {
    let id = Uuid::new_v4();
    store
        .create_interaction(&NewInteraction::new(id, division, Channel::Voice, at_ms))
        .await
        .unwrap();
    id
}

fn scan(from_ms: i64, to_ms: i64, offset: u64, limit: u32, newest_first: bool) -> StartedScan {
    StartedScan {
        from_ms,
        to_ms,
        newest_first,
        offset,
        limit,
        count: true,
    }
}

async fn interactions_started_in_an_interval(db: TestDb) {
    let store = open_db(&db).await;
    let a = Uuid::new_v4();
    let b = Uuid::new_v4();
    store.create_division(a, "A", NOW).await.unwrap();
    store.create_division(b, "B", NOW).await.unwrap();
    // Created out of order: the scan orders by creation time, not by insertion.
    let mut in_a = Vec::new();
    for minute in [5, 1, 3, 2, 4] {
        in_a.push((minute, created_at(&*store, a, NOW + minute * 60_000).await));
    }
    in_a.sort();
    let in_b = created_at(&*store, b, NOW + 2 * 60_000).await;
    let before = created_at(&*store, a, NOW - 1).await;
    let at_end = created_at(&*store, a, NOW + 6 * 60_000).await;
    let ids = |f: &Found<InteractionRecord>| -> Vec<Uuid> {
        f.items.iter().map(|r| r.interaction.id).collect()
    };
    let all = DivisionGrant::All;
    let (from, to) = (NOW, NOW + 6 * 60_000);

    // Start included, end excluded; every division of the grant.
    let found = store
        .interactions_started(&all, &scan(from, to, 0, 100, false))
        .await
        .unwrap();
    assert_eq!(found.total, 6);
    assert!(!ids(&found).contains(&before) && !ids(&found).contains(&at_end));
    let times: Vec<i64> = found
        .items
        .iter()
        .map(|r| wrapup_types::timestamp::to_millis(r.interaction.created_at))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    // Paged, in both orders, counted in all.
    let only_a = DivisionGrant::Only(vec![a]);
    let page = store
        .interactions_started(&only_a, &scan(from, to, 1, 2, false))
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(ids(&page), [in_a[1].1, in_a[2].1]);
    let newest = store
        .interactions_started(&only_a, &scan(from, to, 0, 2, true))
        .await
        .unwrap();
    assert_eq!(ids(&newest), [in_a[4].1, in_a[3].1]);
    let past_the_end = store
        .interactions_started(&only_a, &scan(from, to, 10, 2, false))
        .await
        .unwrap();
    assert_eq!((past_the_end.total, past_the_end.items.len()), (5, 0));

    // Another division's interactions are not there; an empty grant sees nothing.
    let only_b = store
        .interactions_started(
            &DivisionGrant::Only(vec![b]),
            &scan(from, to, 0, 100, false),
        )
        .await
        .unwrap();
    assert_eq!((only_b.total, ids(&only_b)), (1, vec![in_b]));
    let none = store
        .interactions_started(&DivisionGrant::Only(vec![]), &scan(from, to, 0, 100, false))
        .await
        .unwrap();
    assert_eq!((none.total, none.items.len()), (0, 0));
    // Without counting, total is 0.
    let uncounted = store
        .interactions_started(
            &all,
            &StartedScan {
                count: false,
                ..scan(from, to, 0, 100, false)
            },
        )
        .await
        .unwrap();
    assert_eq!((uncounted.total, uncounted.items.len()), (0, 6));
}
