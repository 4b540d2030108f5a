//! Webhook storage, on both backends: endpoints round-trip; the cursor moves once per
//! batch of events, and a replay moves it back; deliveries are claimed in order per
//! interaction, retried when due, and leased, so a node that dies leaves its deliveries to
//! another once the lease expires; 410 and a day of failures disable an endpoint; the log
//! is pruned; a worker's pass records its attempts, queues events and claims in one
//! transaction, an interaction's next event claimable as its previous one is recorded. And on
//! PostgreSQL: two nodes claiming at once never claim the same delivery.

use std::collections::HashSet;
use std::sync::Arc;

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::webhooks::*;
use wrapup_store::*;
use wrapup_types::*;

use super::NOW;

conformance!(
    endpoints_round_trip,
    the_cursor_moves_once_and_a_replay_moves_it_back,
    deliveries_go_out_in_order_per_interaction,
    a_pass_records_queues_and_claims_in_one_transaction,
    a_pass_claims_the_events_following_each_claimed_one,
    leases_expire_and_pass_to_another_node,
    gone_and_a_day_of_failures_disable_the_endpoint,
    the_log_is_pruned_and_pending_deliveries_kept,
    meta_keeps_the_first_value,
);

const DAY: i64 = 86_400_000;

fn endpoint(divisions: DivisionGrant) -> WebhookRecord {
    WebhookRecord {
        id: Uuid::new_v4(),
        seq: 0,
        url: "https://hooks.example.com/wrapup".into(),
        description: Some("CRM".into()),
        event_types: EventKind::ALL.to_vec(),
        divisions,
        enabled: true,
        disabled_reason: None,
        disabled_ms: None,
        failing_since_ms: None,
        secret_generation: 1,
        previous_secret_expires_ms: None,
        created_by: Uuid::new_v4(),
        created_ms: NOW,
        updated_ms: NOW,
        cursor: 0,
    }
}

async fn created(store: &dyn Store) -> WebhookRecord {
    store
        .webhooks()
        .create_webhook(&endpoint(DivisionGrant::All))
        .await
        .unwrap()
}

fn event(seq: i64, interaction: Uuid) -> NewDelivery {
    NewDelivery {
        message_id: format!("msg_{seq}"),
        event_seq: Some(seq),
        interaction_id: Some(interaction),
        event_type: "interaction.state".into(),
        body: format!("{{\"sequence\":{seq}}}"),
    }
}

async fn enqueue(
    store: &dyn Store,
    w: &WebhookRecord,
    from: i64,
    deliveries: Vec<NewDelivery>,
) -> bool {
    let new_cursor = deliveries
        .iter()
        .filter_map(|d| d.event_seq)
        .max()
        .unwrap_or(from);
    store
        .webhooks()
        .enqueue(&EnqueueDeliveries {
            webhook_id: w.id,
            expected_cursor: from,
            new_cursor,
            deliveries,
            now_ms: NOW,
        })
        .await
        .unwrap()
}

fn claim_at(w: &WebhookRecord, now_ms: i64, lease: Uuid) -> ClaimDeliveries {
    ClaimDeliveries {
        webhook_id: w.id,
        now_ms,
        limit: 10,
        lease,
        lease_ms: 30_000,
    }
}

async fn claimed(store: &dyn Store, w: &WebhookRecord, now_ms: i64) -> Vec<String> {
    let mut ids: Vec<String> = store
        .webhooks()
        .claim(&claim_at(w, now_ms, Uuid::new_v4()))
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.message_id)
        .collect();
    ids.sort();
    ids
}

fn attempt(d: &DeliveryRecord, outcome: AttemptOutcome, at_ms: i64) -> RecordAttempt {
    RecordAttempt {
        webhook_id: d.webhook_id,
        message_id: d.message_id.clone(),
        lease: d.lease.unwrap(),
        attempt: d.attempts + 1,
        attempted_ms: at_ms,
        response_status: Some(500),
        response_body: Some("oops".into()),
        error: Some("the endpoint answered 500".into()),
        latency_ms: 12,
        outcome,
        disable_after_ms: DAY,
        now_ms: at_ms,
    }
}

/// Claims the next delivery due at `now_ms`, which must be `message_id`, and records
/// `outcome` for it.
async fn attempt_one(
    store: &dyn Store,
    w: &WebhookRecord,
    message_id: &str,
    outcome: AttemptOutcome,
    now_ms: i64,
) -> AttemptRecorded {
    let one = ClaimDeliveries {
        limit: 1,
        ..claim_at(w, now_ms, Uuid::new_v4())
    };
    let claimed = store.webhooks().claim(&one).await.unwrap();
    let d = claimed
        .iter()
        .find(|d| d.message_id == message_id)
        .unwrap_or_else(|| panic!("{message_id} is claimable at {now_ms}: {claimed:?}"));
    store
        .webhooks()
        .record_attempt(&attempt(d, outcome, now_ms))
        .await
        .unwrap()
}

async fn endpoints_round_trip(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    let hooks = store.webhooks();
    let division = Uuid::new_v4();
    let w = hooks
        .create_webhook(&endpoint(DivisionGrant::Only(vec![division])))
        .await
        .unwrap();
    assert!(w.seq > 0);
    assert_eq!(hooks.get_webhook(w.id).await.unwrap().as_ref(), Some(&w));
    let other = created(store.as_ref()).await;
    let listed: Vec<Uuid> = hooks
        .list_webhooks(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(listed, [w.id, other.id]);
    assert_eq!(
        hooks.list_webhooks(Some(w.seq), 10).await.unwrap()[0].id,
        other.id
    );

    let off = hooks
        .update_webhook(
            w.id,
            &WebhookChanges {
                enabled: Some(false),
                now_ms: NOW + 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!off.enabled && off.disabled_reason.is_some());
    let changed = hooks
        .update_webhook(
            w.id,
            &WebhookChanges {
                url: Some("https://elsewhere.example.com/".into()),
                event_types: Some(vec![EventKind::WrapUp]),
                description: Some(None),
                enabled: Some(true),
                now_ms: NOW + 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            changed.enabled,
            changed.disabled_reason.as_deref(),
            changed.description.as_deref()
        ),
        (true, None, None)
    );
    assert_eq!(changed.event_types, [EventKind::WrapUp]);
    assert_eq!(changed.divisions, DivisionGrant::Only(vec![division]));
    assert_eq!(hooks.get_webhook(w.id).await.unwrap(), Some(changed));

    let rotated = hooks
        .rotate_webhook_secret(w.id, NOW + DAY, NOW)
        .await
        .unwrap();
    assert_eq!(
        (
            rotated.secret_generation,
            rotated.previous_secret_expires_ms
        ),
        (2, Some(NOW + DAY))
    );
    let at_once = hooks.rotate_webhook_secret(w.id, NOW, NOW).await.unwrap();
    assert_eq!(
        (
            at_once.secret_generation,
            at_once.previous_secret_expires_ms
        ),
        (3, None)
    );

    hooks.delete_webhook(w.id).await.unwrap();
    assert!(hooks.get_webhook(w.id).await.unwrap().is_none());
    assert!(matches!(
        hooks.delete_webhook(w.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        hooks.update_webhook(w.id, &WebhookChanges::default()).await,
        Err(StoreError::NotFound)
    ));

    // Acknowledged changes survive reopening.
    drop(store);
    let store = open(&db.url).await.unwrap();
    assert_eq!(
        store.webhooks().get_webhook(other.id).await.unwrap(),
        Some(other)
    );
}

async fn the_cursor_moves_once_and_a_replay_moves_it_back(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    let w = created(store.as_ref()).await;
    let i = Uuid::new_v4();
    assert!(enqueue(store.as_ref(), &w, 0, vec![event(1, i), event(2, i)]).await);
    // Another node read the same events: its enqueue finds the cursor moved and does nothing.
    assert!(!enqueue(store.as_ref(), &w, 0, vec![event(1, i), event(2, i)]).await);
    assert_eq!(
        store
            .webhooks()
            .get_webhook(w.id)
            .await
            .unwrap()
            .unwrap()
            .cursor,
        2
    );
    assert_eq!(store.webhooks().pending_deliveries(w.id).await.unwrap(), 2);

    attempt_one(store.as_ref(), &w, "msg_1", AttemptOutcome::Delivered, NOW).await;
    let delivered = store
        .webhooks()
        .get_delivery(w.id, "msg_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (delivered.status, delivered.attempts),
        (DeliveryStatus::Delivered, 1)
    );

    // A replay from the start: the cursor goes back, and enqueueing again puts the
    // delivered event back in the queue, from its first attempt.
    let rewound = store.webhooks().rewind_webhook(w.id, 0, NOW).await.unwrap();
    assert_eq!(rewound.cursor, 0);
    assert_eq!(
        store
            .webhooks()
            .rewind_webhook(w.id, 5, NOW)
            .await
            .unwrap()
            .cursor,
        0
    );
    assert!(enqueue(store.as_ref(), &w, 0, vec![event(1, i), event(2, i)]).await);
    let again = store
        .webhooks()
        .get_delivery(w.id, "msg_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.status, again.attempts), (DeliveryStatus::Pending, 0));
    assert_eq!(store.webhooks().pending_deliveries(w.id).await.unwrap(), 2);

    // A resend of one delivery, and a test delivery, are queued the same way.
    store
        .webhooks()
        .queue_delivery(
            w.id,
            &NewDelivery {
                message_id: "msg_test".into(),
                event_seq: None,
                interaction_id: None,
                event_type: "webhook.test".into(),
                body: "{}".into(),
            },
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(store.webhooks().pending_deliveries(w.id).await.unwrap(), 3);
    assert!(matches!(
        store
            .webhooks()
            .queue_delivery(Uuid::new_v4(), &event(9, i), NOW)
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn deliveries_go_out_in_order_per_interaction(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    let w = created(store.as_ref()).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    enqueue(
        store.as_ref(),
        &w,
        0,
        vec![event(1, a), event(2, a), event(3, b), event(4, a)],
    )
    .await;
    // One at a time per interaction: a's first event and b's.
    assert_eq!(claimed(store.as_ref(), &w, NOW).await, ["msg_1", "msg_3"]);
    assert_eq!(
        store.webhooks().next_delivery_due(w.id).await.unwrap(),
        Some(NOW + 30_000),
        "both leased"
    );

    let s = store.as_ref();
    // Leases of that claim are held: claim again once they expired, then record.
    assert_eq!(
        attempt_one(s, &w, "msg_1", AttemptOutcome::Delivered, NOW + 30_000)
            .await
            .result,
        AttemptResult::Delivered
    );
    // a's second event is next; it fails and is retried in 5 s: a's third waits for it.
    let retry_at = NOW + 35_000;
    assert_eq!(
        attempt_one(
            s,
            &w,
            "msg_2",
            AttemptOutcome::Retry { at_ms: retry_at },
            NOW + 30_000
        )
        .await
        .result,
        AttemptResult::Retrying
    );
    let waiting = claimed(s, &w, NOW + 30_001).await;
    assert!(
        !waiting.iter().any(|m| m == "msg_2" || m == "msg_4"),
        "{waiting:?}"
    );
    assert_eq!(
        store.webhooks().next_delivery_due(w.id).await.unwrap(),
        Some(NOW + 30_001 + 30_000).min(Some(retry_at))
    );
    // Failed for good after its retry: a's third event goes.
    attempt_one(s, &w, "msg_2", AttemptOutcome::Failed, retry_at).await;
    assert_eq!(claimed(s, &w, retry_at).await, ["msg_4"]);

    let d2 = store
        .webhooks()
        .get_delivery(w.id, "msg_2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d2.status, d2.attempts), (DeliveryStatus::Failed, 2));
    let log = store
        .webhooks()
        .list_attempts(AttemptQuery {
            webhook_id: w.id,
            event_seq: Some(2),
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    let results: Vec<(u32, AttemptResult, Option<i64>)> = log
        .iter()
        .map(|a| (a.attempt, a.result, a.next_attempt_ms))
        .collect();
    assert_eq!(
        results,
        [
            (2, AttemptResult::Failed, None),
            (1, AttemptResult::Retrying, Some(retry_at))
        ]
    );
    assert_eq!(log[0].response_status, Some(500));
    assert_eq!(log[0].response_body.as_deref(), Some("oops"));
    let all = store
        .webhooks()
        .list_attempts(AttemptQuery {
            webhook_id: w.id,
            event_seq: None,
            before: None,
            limit: 2,
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let older = store
        .webhooks()
        .list_attempts(AttemptQuery {
            webhook_id: w.id,
            event_seq: None,
            before: Some(all[1].seq),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(older.len(), 1, "three attempts in all");
}

fn pass_at(
    w: &WebhookRecord,
    now_ms: i64,
    attempts: Vec<RecordAttempt>,
    enqueue: Option<(i64, Vec<NewDelivery>)>,
) -> DeliveryPass {
    DeliveryPass {
        attempts,
        unsent: vec![],
        follow: false,
        enqueue: enqueue.map(|(from, deliveries)| EnqueueDeliveries {
            webhook_id: w.id,
            expected_cursor: from,
            new_cursor: deliveries
                .iter()
                .filter_map(|d| d.event_seq)
                .max()
                .unwrap_or(from),
            deliveries,
            now_ms,
        }),
        claim: claim_at(w, now_ms, w.id),
    }
}

fn ids(claimed: &[DeliveryRecord]) -> Vec<&str> {
    let mut ids: Vec<&str> = claimed.iter().map(|d| d.message_id.as_str()).collect();
    ids.sort();
    ids
}

async fn a_pass_records_queues_and_claims_in_one_transaction(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    let hooks = store.webhooks();
    let w = created(store.as_ref()).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    // Queues and claims: one per interaction, as `claim` does.
    let first = hooks
        .pass(&pass_at(
            &w,
            NOW,
            vec![],
            Some((0, vec![event(1, a), event(2, a), event(3, b)])),
        ))
        .await
        .unwrap();
    assert!(first.enqueued);
    assert!(first.recorded.is_empty());
    assert_eq!(ids(&first.claimed), ["msg_1", "msg_3"]);
    assert_eq!(first.webhook.as_ref().map(|w| w.cursor), Some(3));

    // Records both answers, queues b's next event, and claims a's next one in the same
    // transaction; b's next waits for its retried head. An attempt of a delivery that does
    // not exist is not recorded, and the rest goes on.
    let msg = |m: &str| first.claimed.iter().find(|d| d.message_id == m).unwrap();
    let mut missing = attempt(msg("msg_1"), AttemptOutcome::Delivered, NOW + 10);
    missing.message_id = "msg_nope".into();
    let retry_at = NOW + 5_000;
    let second = hooks
        .pass(&pass_at(
            &w,
            NOW + 10,
            vec![
                attempt(msg("msg_1"), AttemptOutcome::Delivered, NOW + 10),
                missing,
                attempt(
                    msg("msg_3"),
                    AttemptOutcome::Retry { at_ms: retry_at },
                    NOW + 10,
                ),
            ],
            Some((3, vec![event(4, b)])),
        ))
        .await
        .unwrap();
    let results: Vec<Option<AttemptResult>> = second
        .recorded
        .iter()
        .map(|r| r.as_ref().map(|r| r.result))
        .collect();
    assert_eq!(
        results,
        [
            Some(AttemptResult::Delivered),
            None,
            Some(AttemptResult::Retrying)
        ]
    );
    assert!(second.enqueued);
    assert_eq!(ids(&second.claimed), ["msg_2"]);
    assert_eq!(second.webhook.as_ref().map(|w| w.cursor), Some(4));
    let d1 = hooks.get_delivery(w.id, "msg_1").await.unwrap().unwrap();
    assert_eq!((d1.status, d1.attempts), (DeliveryStatus::Delivered, 1));
    let d3 = hooks.get_delivery(w.id, "msg_3").await.unwrap().unwrap();
    assert_eq!(
        (d3.status, d3.next_attempt_ms, d3.lease),
        (DeliveryStatus::Pending, retry_at, None)
    );
    assert!(hooks.get_delivery(w.id, "msg_4").await.unwrap().is_some());
    let log = hooks
        .list_attempts(AttemptQuery {
            webhook_id: w.id,
            event_seq: None,
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2, "the two attempts of existing deliveries");

    // A pass with events read from a cursor another node has moved queues nothing.
    let stale = hooks
        .pass(&pass_at(&w, NOW + 20, vec![], Some((0, vec![event(9, a)]))))
        .await
        .unwrap();
    assert!(!stale.enqueued);
    assert!(hooks.get_delivery(w.id, "msg_9").await.unwrap().is_none());
    assert_eq!(stale.webhook.as_ref().map(|w| w.cursor), Some(4));

    // 410 Gone disables the endpoint in the pass that records it: nothing more is claimed,
    // though b's head is due again.
    let d2 = &second.claimed[0];
    let gone = hooks
        .pass(&pass_at(
            &w,
            retry_at,
            vec![attempt(d2, AttemptOutcome::Gone, retry_at)],
            None,
        ))
        .await
        .unwrap();
    assert!(gone.recorded[0].as_ref().unwrap().disabled.is_some());
    assert!(gone.claimed.is_empty());
    assert!(!gone.webhook.unwrap().enabled);

    // A deleted endpoint: nothing recorded or claimed, no endpoint.
    hooks.delete_webhook(w.id).await.unwrap();
    let deleted = hooks
        .pass(&pass_at(
            &w,
            retry_at,
            vec![attempt(d2, AttemptOutcome::Delivered, retry_at)],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(deleted.recorded, [None]);
    assert!(deleted.claimed.is_empty() && deleted.webhook.is_none());
}

async fn a_pass_claims_the_events_following_each_claimed_one(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    let hooks = store.webhooks();
    let w = created(store.as_ref()).await;
    let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let events = vec![
        event(1, a),
        event(2, b),
        event(3, a),
        event(4, a),
        event(5, b),
        event(6, c),
    ];
    // c's event is already held by another node (a dead one's lease, not expired).
    let mut claim = pass_at(&w, NOW, vec![], Some((0, events)));
    claim.claim.limit = 0;
    hooks.pass(&claim).await.unwrap();
    let other = hooks
        .claim(&ClaimDeliveries {
            limit: 10,
            ..claim_at(&w, NOW, Uuid::new_v4())
        })
        .await
        .unwrap();
    assert_eq!(ids(&other), ["msg_1", "msg_2", "msg_6"]);
    // Once the other node's leases expired: the first of each interaction is claimed, then
    // each is followed by its interaction's next events, in order, within the limit (a's
    // second only).
    let later = NOW + 30_000;
    let mut follow = pass_at(&w, later, vec![], None);
    follow.follow = true;
    follow.claim.limit = 4;
    let chained = hooks.pass(&follow).await.unwrap().claimed;
    let got: Vec<&str> = chained.iter().map(|d| d.message_id.as_str()).collect();
    assert_eq!(got, ["msg_1", "msg_3", "msg_2", "msg_6"]);
    assert!(chained
        .iter()
        .all(|d| d.lease == Some(w.id) && d.lease_expires_ms == Some(later + 30_000)));
    // With room, every event that can follow does.
    follow.claim.limit = 10;
    follow.claim.lease = Uuid::new_v4();
    follow.claim.now_ms = later + 30_000;
    let all = hooks.pass(&follow).await.unwrap().claimed;
    let got: Vec<&str> = all.iter().map(|d| d.message_id.as_str()).collect();
    assert_eq!(got, ["msg_1", "msg_3", "msg_4", "msg_2", "msg_5", "msg_6"]);

    // a's first is delivered and its second retried: the third is handed back unsent and is
    // claimable again at once (behind the second, which waits for its retry).
    let lease = follow.claim.lease;
    let at = later + 30_001;
    let by_id = |m: &str| all.iter().find(|d| d.message_id == m).unwrap().clone();
    let mut back = pass_at(
        &w,
        at,
        vec![
            attempt(&by_id("msg_1"), AttemptOutcome::Delivered, at),
            attempt(
                &by_id("msg_3"),
                AttemptOutcome::Retry { at_ms: at + 5_000 },
                at,
            ),
        ],
        None,
    );
    back.unsent = vec![by_id("msg_4")];
    back.claim.limit = 0;
    hooks.pass(&back).await.unwrap();
    let d4 = hooks.get_delivery(w.id, "msg_4").await.unwrap().unwrap();
    assert_eq!((d4.status, d4.lease), (DeliveryStatus::Pending, None));
    let d3 = hooks.get_delivery(w.id, "msg_3").await.unwrap().unwrap();
    assert_eq!(d3.lease, None);
    assert_eq!(lease, by_id("msg_4").lease.unwrap());
    // Due again: a's second, then its third after it.
    follow.claim.now_ms = at + 5_000;
    follow.claim.lease = Uuid::new_v4();
    let again = hooks.pass(&follow).await.unwrap().claimed;
    let got: Vec<&str> = again.iter().map(|d| d.message_id.as_str()).collect();
    assert_eq!(got, ["msg_3", "msg_4"]);
}

async fn leases_expire_and_pass_to_another_node(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    let w = created(store.as_ref()).await;
    enqueue(store.as_ref(), &w, 0, vec![event(1, Uuid::new_v4())]).await;
    let (dead, alive) = (Uuid::new_v4(), Uuid::new_v4());
    let first = store
        .webhooks()
        .claim(&claim_at(&w, NOW, dead))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    // The node holding it dies: nobody else gets it before the lease expires...
    assert!(store
        .webhooks()
        .claim(&claim_at(&w, NOW + 29_999, alive))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.webhooks().next_delivery_due(w.id).await.unwrap(),
        Some(NOW + 30_000)
    );
    // ...and another node does once it has.
    let second = store
        .webhooks()
        .claim(&claim_at(&w, NOW + 30_000, alive))
        .await
        .unwrap();
    assert_eq!(second[0].lease, Some(alive));
    // The dead node's late answer is logged but changes nothing; the live one's counts.
    let late = store
        .webhooks()
        .record_attempt(&attempt(&first[0], AttemptOutcome::Failed, NOW + 30_001))
        .await
        .unwrap();
    assert_eq!(late.result, AttemptResult::Failed);
    let d = store
        .webhooks()
        .get_delivery(w.id, "msg_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d.status, d.lease), (DeliveryStatus::Pending, Some(alive)));
    store
        .webhooks()
        .record_attempt(&attempt(
            &second[0],
            AttemptOutcome::Delivered,
            NOW + 30_002,
        ))
        .await
        .unwrap();
    let d = store
        .webhooks()
        .get_delivery(w.id, "msg_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d.status, d.lease), (DeliveryStatus::Delivered, None));
    assert_eq!(
        store.webhooks().next_delivery_due(w.id).await.unwrap(),
        None
    );
}

async fn gone_and_a_day_of_failures_disable_the_endpoint(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    let s = store.as_ref();
    let gone = created(s).await;
    enqueue(
        s,
        &gone,
        0,
        vec![event(1, Uuid::new_v4()), event(2, Uuid::new_v4())],
    )
    .await;
    let recorded = attempt_one(s, &gone, "msg_1", AttemptOutcome::Gone, NOW).await;
    assert_eq!(recorded.result, AttemptResult::Failed);
    assert!(
        recorded.disabled.as_deref().unwrap().contains("410 Gone"),
        "{recorded:?}"
    );
    let w = store
        .webhooks()
        .get_webhook(gone.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!w.enabled && w.disabled_reason.as_deref().unwrap().contains("410"));
    assert!(
        claimed(s, &gone, NOW).await.is_empty(),
        "nothing is claimed for a disabled endpoint"
    );

    let failing = created(s).await;
    enqueue(
        s,
        &failing,
        0,
        (1..=3).map(|n| event(n, Uuid::new_v4())).collect(),
    )
    .await;
    let retry = AttemptOutcome::Retry {
        at_ms: NOW + 2 * DAY,
    };
    assert!(attempt_one(s, &failing, "msg_1", retry, NOW)
        .await
        .disabled
        .is_none());
    assert_eq!(
        store
            .webhooks()
            .get_webhook(failing.id)
            .await
            .unwrap()
            .unwrap()
            .failing_since_ms,
        Some(NOW)
    );
    // A success ends the streak...
    attempt_one(s, &failing, "msg_2", AttemptOutcome::Delivered, NOW + 1000).await;
    assert_eq!(
        store
            .webhooks()
            .get_webhook(failing.id)
            .await
            .unwrap()
            .unwrap()
            .failing_since_ms,
        None
    );
    // ...and a day of nothing but failures disables the endpoint.
    assert!(attempt_one(s, &failing, "msg_3", retry, NOW + 2000)
        .await
        .disabled
        .is_none());
    // The next attempt, a day after the streak began, fails too.
    let claim = store
        .webhooks()
        .claim(&claim_at(&failing, NOW + 2 * DAY, Uuid::new_v4()))
        .await
        .unwrap();
    assert_eq!(claim.len(), 2, "msg_1 and msg_3 are due");
    let recorded = store
        .webhooks()
        .record_attempt(&attempt(&claim[0], retry, NOW + 2000 + DAY))
        .await
        .unwrap();
    let reason = recorded.disabled.expect("disabled after a day");
    assert!(
        reason.contains("every delivery attempt has failed since"),
        "{reason}"
    );
    let w = store
        .webhooks()
        .get_webhook(failing.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.disabled_reason.as_deref(), Some(reason.as_str()));
    // Re-enabling clears the reason and the streak; pending deliveries stay queued.
    let on = store
        .webhooks()
        .update_webhook(
            failing.id,
            &WebhookChanges {
                enabled: Some(true),
                now_ms: NOW + 3 * DAY,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (on.enabled, on.disabled_reason, on.failing_since_ms),
        (true, None, None)
    );
    assert_eq!(
        store
            .webhooks()
            .pending_deliveries(failing.id)
            .await
            .unwrap(),
        2
    );
}

async fn the_log_is_pruned_and_pending_deliveries_kept(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    let s = store.as_ref();
    let w = created(s).await;
    enqueue(
        s,
        &w,
        0,
        vec![event(1, Uuid::new_v4()), event(2, Uuid::new_v4())],
    )
    .await;
    attempt_one(s, &w, "msg_1", AttemptOutcome::Delivered, NOW).await;
    attempt_one(
        s,
        &w,
        "msg_2",
        AttemptOutcome::Retry {
            at_ms: NOW + 10 * DAY,
        },
        NOW,
    )
    .await;
    // One attempt and one delivery done, both older than the horizon.
    assert_eq!(
        store.webhooks().prune_webhook_log(NOW + 1).await.unwrap(),
        3
    );
    assert!(store
        .webhooks()
        .get_delivery(w.id, "msg_1")
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .webhooks()
            .get_delivery(w.id, "msg_2")
            .await
            .unwrap()
            .is_some(),
        "pending deliveries are kept"
    );
    let log = store
        .webhooks()
        .list_attempts(AttemptQuery {
            webhook_id: w.id,
            event_seq: None,
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert!(log.is_empty());
}

async fn meta_keeps_the_first_value(db: TestDb) {
    let store = open(&db.url).await.unwrap();
    assert_eq!(
        store.webhooks().meta_or_insert("k", "first").await.unwrap(),
        "first"
    );
    assert_eq!(
        store
            .webhooks()
            .meta_or_insert("k", "second")
            .await
            .unwrap(),
        "first"
    );
    assert_eq!(store.get_meta("k").await.unwrap().as_deref(), Some("first"));
}

/// Two nodes claiming one endpoint's deliveries at once never claim the same one, and
/// between them claim all of them.
#[tokio::test]
async fn postgres_nodes_claim_each_delivery_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let a: Arc<dyn Store> = open(&db.url).await.unwrap();
    let b: Arc<dyn Store> = open(&db.url).await.unwrap();
    let w = created(a.as_ref()).await;
    enqueue(
        a.as_ref(),
        &w,
        0,
        (1..=200).map(|n| event(n, Uuid::new_v4())).collect(),
    )
    .await;
    let claims = (0..40).map(|n| {
        let node = if n % 2 == 0 { a.clone() } else { b.clone() };
        let claim = ClaimDeliveries {
            limit: 7,
            ..claim_at(&w, NOW, Uuid::new_v4())
        };
        async move { node.webhooks().claim(&claim).await.unwrap() }
    });
    let mut seen = HashSet::new();
    for batch in futures::future::join_all(claims).await {
        for d in batch {
            assert!(
                seen.insert(d.message_id.clone()),
                "{} claimed twice",
                d.message_id
            );
        }
    }
    assert_eq!(seen.len(), 200);
}
