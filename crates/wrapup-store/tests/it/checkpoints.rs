//! The WAL's checkpoints (SQLite only): commits are copied back into the database file by
//! the background checkpointer, not only by the commit that crosses the writer's bound.

use std::time::{Duration, Instant};

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;

use super::conformance::NOW;

/// A few writes, far below the WAL size at which a commit checkpoints itself, still reach
/// the database file: the syncer tells the checkpointer of each durable commit, and the
/// checkpointer copies the WAL back shortly after. (How soon is a figure of
/// docs/benchmarks.md, not of this test, which only waits for it.)
#[tokio::test]
async fn sqlite_commits_below_the_writers_bound_reach_the_file() {
    let db = TestDb::sqlite();
    let store = SqliteStore::open(&db.url).await.unwrap();
    let division = Uuid::new_v4();
    store.create_division(division, "D", NOW).await.unwrap();
    let file = db.sqlite_path().unwrap();
    let wal = file.with_extension("db-wal");
    let size = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
    let before = size(&file);
    // About 200 pages: a fifth of the writer's bound (1,000 pages).
    let ids: Vec<Uuid> = (0..2_000).map(|_| Uuid::new_v4()).collect();
    let seeded = store.seed_finalized(division, ids, NOW).await.unwrap();
    assert_eq!(seeded, 2_000);
    assert!(size(&wal) > 0, "the writes are in the WAL");
    let deadline = Instant::now() + Duration::from_secs(30);
    // The seeded rows alone are about 380 KB; the division's own pages, whenever they are
    // copied, a few KB.
    while size(&file) < before + 200_000 {
        assert!(
            Instant::now() < deadline,
            "the committed pages never reached the database file ({before} bytes, then {})",
            size(&file)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
