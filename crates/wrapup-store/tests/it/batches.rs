//! What a write reads inside a batch of others (SQLite, whose writer can be held while a
//! batch queues): the writes before it in the batch, though the batch keeps what it read.

use std::sync::Arc;

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;
use wrapup_types::*;

use super::conformance::{apply, closed_interaction, code, NOW};
use super::shutdown::queued;

/// The writer keeps the codes a batch read for the rest of the batch (a batch of wrap-ups
/// names the same few codes); a write of a code makes it forget that one. Here a batch of
/// three (a wrap-up with a code, the code archived, a wrap-up with it) is formed by holding
/// the writer while they queue: the first wrap-up applies, the last is refused because the
/// code is archived.
#[tokio::test]
async fn sqlite_a_batch_reads_the_codes_it_changed() {
    let db = TestDb::sqlite();
    let store = Arc::new(SqliteStore::open(&db.url).await.unwrap());
    let division = Uuid::new_v4();
    store.create_division(division, "D", NOW).await.unwrap();
    let sale = code(store.as_ref(), division, "Sale").await;
    let first = closed_interaction(store.as_ref(), division, 0).await;
    let second = closed_interaction(store.as_ref(), division, 0).await;

    let hold = store.hold_writer_for_tests().await;
    let wrap_up = |id: Uuid| {
        let store = store.clone();
        tokio::spawn(async move { store.apply_wrapup(&apply(id, sale, 5)).await })
    };
    let before = wrap_up(first);
    queued(&store, 1).await;
    let archive = {
        let store = store.clone();
        tokio::spawn(async move { store.archive_code(sale, NOW + 1).await })
    };
    queued(&store, 2).await;
    let after = wrap_up(second);
    queued(&store, 3).await;
    drop(hold);

    let before = before.await.unwrap();
    assert!(
        matches!(before, Ok(WrapUpApplied::Applied(_))),
        "{before:?}"
    );
    assert!(archive.await.unwrap().unwrap().code.archived);
    match after.await.unwrap() {
        Err(StoreError::Rejected(details)) => assert!(
            details
                .iter()
                .any(|d| d.error_code == ErrorCode::WrapupCodeArchived),
            "{details:?}"
        ),
        other => panic!("the wrap-up with the archived code was not refused: {other:?}"),
    }
}
