//! Reading through a memory map (`wrapup serve --mmap-mib`, SQLite only).

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;
use wrapup_types::*;

use super::conformance::NOW;

/// With `--mmap-mib`, the readers read the database file through a memory map: every read
/// still sees every acknowledged write, while the file grows past what was mapped when the
/// connections opened and checkpoints move the WAL's pages into it.
#[tokio::test]
async fn sqlite_reads_through_a_memory_map_see_every_write() {
    let db = TestDb::sqlite();
    let reads = SqliteReads {
        cache_entries: 0,
        mmap_bytes: 64 << 20,
    };
    let store = SqliteStore::open_with(&db.url, EVENT_BUFFER, reads)
        .await
        .unwrap();
    let division = Uuid::new_v4();
    store.create_division(division, "D", NOW).await.unwrap();
    let file = db.sqlite_path().unwrap();
    let size_at_open = std::fs::metadata(&file).unwrap().len();
    let ids: Vec<Uuid> = (0..20_000).map(|_| Uuid::new_v4()).collect();
    for chunk in ids.chunks(5_000) {
        let seeded = store
            .seed_finalized(division, chunk.to_vec(), NOW)
            .await
            .unwrap();
        assert_eq!(seeded, chunk.len() as u64);
        // The last of each chunk, and the first ever, read back at once.
        for id in [ids[0], *chunk.last().unwrap()] {
            let rec = store.get_interaction(id).await.unwrap().unwrap();
            assert_eq!(rec.interaction.division_id, division);
        }
    }
    // The writer's commits past its WAL bound checkpoint: the pages reach the file.
    let grown = std::fs::metadata(&file).unwrap().len();
    assert!(
        grown > 4 * size_at_open,
        "checkpoints grew the file from {size_at_open} to only {grown} bytes"
    );
    for id in ids.iter().step_by(997) {
        assert!(store.get_interaction(*id).await.unwrap().is_some());
    }
    // A change is read back changed.
    let new = NewInteraction::new(Uuid::new_v4(), division, Channel::Voice, NOW);
    store.create_interaction(&new).await.unwrap();
    store
        .set_state(new.id, InteractionState::Active, NOW + 1, 0)
        .await
        .unwrap();
    let rec = store.get_interaction(new.id).await.unwrap().unwrap();
    assert_eq!(rec.interaction.state, InteractionState::Active);
    store.close().await;
}
