//! Finding events by time, on both backends: the last event created before a time (what
//! retention prunes through and a webhook replay starts after) is the one a scan of the log
//! would find, for every cutoff: before the first event, on a time several events share,
//! between two, after the last, and once the log's oldest events are pruned. SQLite
//! bisects the log by sequence number (migration 0008 dropped its index by time),
//! PostgreSQL reads its index.

use uuid::Uuid;
use wrapup_store::*;
use wrapup_types::*;

use super::{open_db, TestDb, NOW};

conformance!(the_last_event_before_a_time_is_the_one_a_scan_finds);

/// Creation times (after `NOW`) of the events written, one interaction created for each:
/// runs of equal times, gaps of several lengths.
const TIMES: [i64; 23] = [
    0, 0, 1, 5, 5, 5, 6, 10, 11, 11, 12, 40, 41, 41, 41, 41, 42, 90, 91, 100, 100, 101, 250,
];

/// Checks the search for every cutoff around `TIMES` against a scan of `events` (sequence
/// number, time): the highest sequence number of an event before the cutoff.
async fn agrees_with_a_scan(store: &dyn Store, events: &[(i64, i64)], label: &str) {
    for cutoff in -2..=TIMES[TIMES.len() - 1] + 2 {
        let ms = NOW + cutoff;
        let scanned = events
            .iter()
            .filter(|(_, at)| *at < ms)
            .map(|(seq, _)| *seq)
            .max();
        assert_eq!(
            store.webhooks().last_event_before(ms).await.unwrap(),
            scanned,
            "{label}: the last event before NOW + {cutoff}"
        );
    }
}

async fn the_last_event_before_a_time_is_the_one_a_scan_finds(db: TestDb) {
    let store = open_db(&db).await;
    let division = store
        .create_division(Uuid::new_v4(), "D", NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .webhooks()
            .last_event_before(NOW + 1_000)
            .await
            .unwrap(),
        None,
        "no events"
    );
    for at in TIMES {
        store
            .create_interaction(&NewInteraction {
                id: Uuid::new_v4(),
                division_id: division.id,
                channel: Channel::Voice,
                now_ms: NOW + at,
                queue_id: None,
                agent_id: None,
            })
            .await
            .unwrap();
    }
    let mut events: Vec<(i64, i64)> = store
        .events_after(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.seq, e.created_ms))
        .collect();
    assert_eq!(events.len(), TIMES.len());
    agrees_with_a_scan(store.as_ref(), &events, "the whole log").await;

    // Pruned through the events before NOW + 11: the search starts at the first one left.
    assert_eq!(store.prune_events(NOW + 11).await.unwrap(), 8);
    events.drain(..8);
    agrees_with_a_scan(store.as_ref(), &events, "after pruning").await;
}
