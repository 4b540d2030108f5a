//! The writer at its limits: `Store::close` (a graceful shutdown) answers every write queued
//! before it and keeps every acknowledged one, on both backends; a write the database cannot
//! store (a full disk) is answered with why, and writes work again once space returns.

use std::sync::Arc;

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;
use wrapup_types::*;

const NOW: i64 = 1_795_000_000_000;

fn new_interaction(division: Uuid) -> NewInteraction {
    NewInteraction {
        id: Uuid::new_v4(),
        division_id: division,
        channel: Channel::Voice,
        now_ms: NOW,
        queue_id: None,
        agent_id: None,
    }
}

/// Writes racing a `close`: each is either acknowledged (and then still there after the
/// store is reopened) or refused as closed (and then absent); none is left unanswered, and
/// writes after the close are refused.
async fn close_answers_every_queued_write(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    let division = Uuid::new_v4();
    store.create_division(division, "D", NOW).await.unwrap();
    let writes: Vec<_> = (0..64)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let new = new_interaction(division);
                (new.id, store.create_interaction(&new).await)
            })
        })
        .collect();
    store.close().await;
    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    for write in writes {
        let (id, outcome) = write.await.unwrap();
        match outcome {
            Ok(_) => acknowledged.push(id),
            Err(StoreError::Closed) => refused.push(id),
            Err(e) => panic!("a write racing close failed otherwise: {e}"),
        }
    }
    let after = store.create_interaction(&new_interaction(division)).await;
    assert!(matches!(after, Err(StoreError::Closed)), "{after:?}");
    assert!(matches!(store.health().await, Err(StoreError::Closed)));
    // Reads go on working after the close.
    assert!(store.get_division(division).await.unwrap().is_some());
    drop(store);

    let reopened = open(&db.url).await.unwrap();
    for id in &acknowledged {
        assert!(
            reopened.get_interaction(*id).await.unwrap().is_some(),
            "an acknowledged write was lost"
        );
    }
    for id in &refused {
        assert!(reopened.get_interaction(*id).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn sqlite_close_answers_every_queued_write() {
    close_answers_every_queued_write(TestDb::sqlite()).await;
}

#[tokio::test]
async fn postgres_close_answers_every_queued_write() {
    if let Some(db) = TestDb::postgres().await {
        close_answers_every_queued_write(db).await;
    }
}

/// A batch stops at its first failed write. After some errors (a full disk) SQLite rolls
/// the transaction back by itself: a write run after that would commit on its own, outside
/// the batch's transaction, while its caller hears that it failed. Here a batch of three
/// (a write, one that fails that way, a write) is formed by holding the writer while they
/// queue: all three are answered as failed and neither write is stored.
#[tokio::test]
async fn sqlite_a_batch_stops_at_a_write_sqlite_rolled_back() {
    let db = TestDb::sqlite();
    let store = Arc::new(SqliteStore::open(&db.url).await.unwrap());
    let division = Uuid::new_v4();
    store.create_division(division, "D", NOW).await.unwrap();

    let hold = store.hold_writer_for_tests().await;
    let create = |new: NewInteraction| {
        let store = store.clone();
        tokio::spawn(async move { store.create_interaction(&new).await })
    };
    let (before, after) = (new_interaction(division), new_interaction(division));
    let first = create(before.clone());
    queued(&store, 1).await;
    let failing = store.queue_rolled_back_write_for_tests().await;
    let last = create(after.clone());
    queued(&store, 3).await;
    drop(hold);

    let first = first.await.unwrap();
    assert!(matches!(first, Err(StoreError::NotWritten(_))), "{first:?}");
    assert!(
        !failing.await.unwrap(),
        "the failing write was acknowledged"
    );
    let last = last.await.unwrap();
    assert!(matches!(last, Err(StoreError::NotWritten(_))), "{last:?}");
    for new in [&before, &after] {
        assert!(store.get_interaction(new.id).await.unwrap().is_none());
    }
    // Nothing of it reached the log either, and the writer goes on.
    let later = new_interaction(division);
    store.create_interaction(&later).await.unwrap();
    let events = store.events_after(0, 100).await.unwrap();
    assert!(
        events.iter().all(|e| e.interaction.id == later.id),
        "{events:?}"
    );
}

/// Waits until `n` jobs wait in the writer's queue (its thread held).
pub(crate) async fn queued(store: &SqliteStore, n: usize) {
    for _ in 0..1_000_000 {
        if store.queued_writes_for_tests() >= n {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("{n} writes were not queued");
}

/// A write SQLite cannot store because the database cannot grow (SQLite's own disk-full
/// path, `SQLITE_FULL`, reached through `max_page_count`) is answered `NotWritten` naming
/// the full disk, changes nothing, and writes succeed again once the database may grow.
#[tokio::test]
async fn sqlite_a_full_disk_is_reported_and_recovered_from() {
    let db = TestDb::sqlite();
    let store = Arc::new(SqliteStore::open(&db.url).await.unwrap());
    let division = Uuid::new_v4();
    store.create_division(division, "D", NOW).await.unwrap();
    store.cap_pages_for_tests(Some(1)).await;
    let mut failed = None;
    // Each interaction adds a row and an event: a new page is needed within a few dozen.
    for _ in 0..1_000 {
        let new = new_interaction(division);
        match store.create_interaction(&new).await {
            Ok(_) => continue,
            Err(e) => {
                failed = Some((new.id, e));
                break;
            }
        }
    }
    let (id, error) = failed.expect("the capped database refuses a write");
    let StoreError::NotWritten(why) = &error else {
        panic!("expected NotWritten, got {error:?}");
    };
    assert!(why.starts_with("the disk is full"), "{why}");
    assert!(
        error
            .to_string()
            .starts_with("the database could not write"),
        "{error}"
    );
    assert!(store.get_interaction(id).await.unwrap().is_none());
    store.cap_pages_for_tests(None).await;
    let new = new_interaction(division);
    store.create_interaction(&new).await.unwrap();
    assert!(store.get_interaction(new.id).await.unwrap().is_some());
}
