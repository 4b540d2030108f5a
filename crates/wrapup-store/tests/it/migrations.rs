//! Migrations of databases written by earlier versions: a database at an older schema, with
//! data in it, is migrated when a store opens it, and reads and writes as a new one does.

use std::collections::HashMap;

use sqlx::ConnectOptions;
use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;
use wrapup_types::*;

const NOW: i64 = 1_764_000_000_000;

/// A SQLite database migrated up to `version` (included), as that version left it.
async fn sqlite_at(db: &TestDb, version: i64) -> sqlx::SqliteConnection {
    let mut conn = sqlite_connect_options(&db.url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    migrator.run(&mut conn).await.unwrap();
    conn
}

/// Migration 0007 chains each interaction's wrap-up history (and drops the index by
/// interaction): the histories written before it read back whole and in order, and new
/// wrap-ups go on at their end.
#[tokio::test]
async fn sqlite_0007_chains_the_histories_written_before_it() {
    let db = TestDb::sqlite();
    let mut conn = sqlite_at(&db, 6).await;
    let division = Uuid::new_v4();
    let code = Uuid::new_v4();
    sqlx::query("INSERT INTO divisions (id, name, name_key, created_at) VALUES (?, 'D', 'd', ?)")
        .bind(division)
        .bind(NOW)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO wrapup_codes (id, division_id, name, name_key, date_created, date_modified) \
         VALUES (?, ?, 'Sale', 'sale', ?, ?)",
    )
    .bind(code)
    .bind(division)
    .bind(NOW)
    .bind(NOW)
    .execute(&mut conn)
    .await
    .unwrap();
    // Three interactions: `a` with three wrap-ups, `b` with one, `none` with none; the
    // history rows interleaved, as concurrent wrap-ups write them.
    let (a, b, none) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for id in [a, b, none] {
        sqlx::query(
            "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, active_at, \
             closed_at, finalize_due_at, finalized_at, version) \
             VALUES (?, ?, 'voice', 'closed', 1, ?, ?, ?, ?, ?, 4)",
        )
        .bind(id)
        .bind(division)
        .bind(NOW)
        .bind(NOW)
        .bind(NOW)
        .bind(NOW)
        .bind(NOW)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let written = [(a, 1), (b, 2), (a, 3), (a, 4)];
    for (id, duration) in written {
        sqlx::query(
            "INSERT INTO wrapup_history (interaction_id, code_id, code_name, duration_ms, applied_at, applied_by) \
             VALUES (?, ?, 'Sale', ?, ?, ?)",
        )
        .bind(id)
        .bind(code)
        .bind(duration)
        .bind(NOW + duration)
        .bind(Uuid::nil())
        .execute(&mut conn)
        .await
        .unwrap();
    }
    drop(conn);

    let store = SqliteStore::open(&db.url).await.unwrap();
    let durations = |h: Vec<WrapUp>| h.iter().map(|w| w.duration_ms).collect::<Vec<_>>();
    let mut expected: HashMap<Uuid, Vec<u32>> = HashMap::new();
    for (id, duration) in written {
        expected.entry(id).or_default().push(duration as u32);
    }
    assert_eq!(
        durations(store.wrapup_history(a).await.unwrap()),
        expected[&a]
    );
    assert_eq!(
        durations(store.wrapup_history(b).await.unwrap()),
        expected[&b]
    );
    assert!(store.wrapup_history(none).await.unwrap().is_empty());

    // A new wrap-up goes on at the end of its interaction's chain.
    let applied = store
        .apply_wrapup(&ApplyWrapUp {
            interaction_id: b,
            request: WrapUpRequest {
                code_id: code,
                duration_ms: 9,
                notes: None,
            }
            .into(),
            client_id: Uuid::nil(),
            divisions: DivisionGrant::All,
            now_ms: NOW + 10_000,
        })
        .await
        .unwrap();
    assert!(matches!(applied, WrapUpApplied::Applied(_)));
    assert_eq!(durations(store.wrapup_history(b).await.unwrap()), [2, 9]);
    assert_eq!(durations(store.wrapup_history(a).await.unwrap()), [1, 3, 4]);
}

/// Migration 0008 drops the index of events by time: the events written before it are
/// still found by time (bisected by sequence number) and pruned by it.
#[tokio::test]
async fn sqlite_0008_finds_the_events_written_before_it_by_time() {
    let db = TestDb::sqlite();
    let mut conn = sqlite_at(&db, 7).await;
    for at in [0, 10, 10, 20, 30] {
        sqlx::query(
            "INSERT INTO events (kind, interaction_id, division_id, data, created_at) \
             VALUES ('interaction.created', ?, ?, '{}', ?)",
        )
        .bind(Uuid::new_v4())
        .bind(Uuid::new_v4())
        .bind(NOW + at)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    drop(conn);

    let store = SqliteStore::open(&db.url).await.unwrap();
    let index: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'events_created_at'",
    )
    .fetch_optional(&mut sqlite_at(&db, 8).await)
    .await
    .unwrap();
    assert_eq!(index, None, "the index is dropped");
    let before = |ms| store.webhooks().last_event_before(ms);
    assert_eq!(before(NOW).await.unwrap(), None);
    assert_eq!(before(NOW + 10).await.unwrap(), Some(1));
    assert_eq!(before(NOW + 11).await.unwrap(), Some(3));
    assert_eq!(before(NOW + 31).await.unwrap(), Some(5));
    assert_eq!(store.prune_events(NOW + 20).await.unwrap(), 3);
    assert_eq!(before(NOW + 25).await.unwrap(), Some(4));
}
