//! The read cache's warm-up (`wrapup serve --warm-read-cache`, SQLite only): the most recent
//! interactions, as many as the cache holds, and never one older than a write acknowledged
//! while it ran.

use std::sync::Arc;

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;

use super::conformance::{apply, code, NOW};

/// The cache's parts (`sqlite/read_cache.rs`), chosen by an id's last byte.
const SHARDS: u8 = 16;

async fn open(db: &TestDb, cache_entries: usize) -> SqliteStore {
    let reads = SqliteReads {
        cache_entries,
        mmap_bytes: 0,
    };
    SqliteStore::open_with(&db.url, EVENT_BUFFER, reads)
        .await
        .unwrap()
}

/// `n` ids spread evenly over the cache's parts, in the order they are seeded.
fn ids(n: usize) -> Vec<Uuid> {
    (0..n)
        .map(|i| {
            let mut bytes = *Uuid::new_v4().as_bytes();
            bytes[15] = i as u8 % SHARDS;
            Uuid::from_bytes(bytes)
        })
        .collect()
}

/// Whether the store answers `id` from its cache: two reads then share one entry.
async fn cached(store: &SqliteStore, id: Uuid) -> bool {
    let first = store.get_interaction_shared(id).await.unwrap().unwrap();
    let second = store.get_interaction_shared(id).await.unwrap().unwrap();
    Arc::ptr_eq(&first, &second)
}

#[tokio::test]
async fn the_warm_up_keeps_the_latest_interactions_the_cache_has_room_for() {
    let db = TestDb::sqlite();
    // Ten per part of the cache, a thousand interactions in the table.
    let store = open(&db, 10 * usize::from(SHARDS)).await;
    let division = Uuid::new_v4();
    store.create_division(division, "D", NOW).await.unwrap();
    let ids = ids(1_000);
    store
        .seed_finalized(division, ids.clone(), NOW)
        .await
        .unwrap();
    assert_eq!(store.read_cache_entries(), Some(0));

    let kept = store.warm_read_cache().await.unwrap();
    assert_eq!(kept, 160);
    assert_eq!(store.read_cache_entries(), Some(160));
    for id in &ids[1_000 - 160..] {
        assert!(cached(&store, *id).await, "{id}, among the latest");
    }
    // What the warm-up kept is what a read finds, rendered the same.
    let latest = store
        .get_interaction_shared(ids[999])
        .await
        .unwrap()
        .unwrap();
    let read = store.get_interaction(ids[999]).await.unwrap().unwrap();
    assert_eq!(latest.record.interaction, read.interaction);
    assert_eq!(
        latest.json(),
        serde_json::to_vec(&read.interaction).unwrap()
    );
    // Once full, another warm-up adds nothing and throws nothing away.
    assert_eq!(store.warm_read_cache().await.unwrap(), 0);
    assert_eq!(store.read_cache_entries(), Some(160));
    store.close().await;

    // A cache with room for all keeps all; one turned off keeps none.
    let store = open(&db, 5_000).await;
    assert_eq!(store.warm_read_cache().await.unwrap(), 1_000);
    assert!(cached(&store, ids[0]).await);
    store.close().await;
    let store = open(&db, 0).await;
    assert_eq!(store.warm_read_cache().await.unwrap(), 0);
    assert_eq!(store.read_cache_entries(), Some(0));
    store.close().await;
}

/// Wrap-ups committed while the warm-up reads: whatever it kept, every cached interaction
/// is the one in the database once both are done.
#[tokio::test]
async fn a_warm_up_racing_writes_keeps_nothing_older_than_them() {
    let db = TestDb::sqlite();
    let store = Arc::new(open(&db, 100_000).await);
    let division = Uuid::new_v4();
    store.create_division(division, "D", NOW).await.unwrap();
    let sale = code(store.as_ref(), division, "Sale").await;
    let ids = ids(20_000);
    store
        .seed_finalized(division, ids.clone(), NOW)
        .await
        .unwrap();

    let writes = {
        let store = store.clone();
        let ids = ids.clone();
        tokio::spawn(async move {
            // Batches of wrap-ups over the whole table, newest first as the warm-up reads.
            for (round, chunk) in ids.rchunks(100).enumerate() {
                let cmds = chunk
                    .iter()
                    .map(|id| apply(*id, sale, 1_000 + round as u32))
                    .collect();
                for result in store.apply_wrapups(cmds).await.unwrap() {
                    result.unwrap();
                }
            }
        })
    };
    let kept = store.warm_read_cache().await.unwrap();
    writes.await.unwrap();
    assert!(kept <= ids.len());

    let mut hits = 0;
    for id in &ids {
        let shared = store.get_interaction_shared(*id).await.unwrap().unwrap();
        let read = store.get_interaction(*id).await.unwrap().unwrap();
        assert_eq!(shared.record.interaction, read.interaction, "{id}");
        assert!(read.interaction.wrap_up.is_some());
        hits += usize::from(cached(&store, *id).await);
    }
    assert_eq!(hits, ids.len(), "every interaction is cached by now");
    Arc::into_inner(store).unwrap().close().await;
}
