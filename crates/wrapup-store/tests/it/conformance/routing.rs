//! Queues, agents and after-call work on every backend (docs/api.md#queues-and-agents): the
//! queue's codes are the only ones its interactions may use, each prompt behaves as Genesys
//! Cloud documents it, and the timeout's system wrap-up is applied exactly once, by one of
//! two stores sharing the database, and after a reopening that spans its deadline.

use std::sync::Arc;

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;
use wrapup_types::*;

use super::{apply, code, open_db, NOW};

conformance!(
    queues_and_agents_are_stored_searched_and_changed,
    a_queue_interaction_may_use_only_the_queue_codes,
    each_prompt_ends_after_call_work_as_documented,
    the_timeout_is_applied_once_by_two_stores,
    the_timeout_survives_a_reopening_past_its_deadline,
);

const TIMEOUT: u32 = 30_000;

fn queue(division: Uuid, name: &str, prompt: WrapupPrompt, codes: Vec<Uuid>) -> QueueRecord {
    QueueRecord {
        seq: 0,
        id: Uuid::new_v4(),
        name: name.into(),
        division_id: division,
        description: None,
        prompt,
        timeout_ms: prompt.is_timed().then_some(TIMEOUT),
        code_ids: codes,
        created_ms: NOW,
        modified_ms: NOW,
    }
}

/// A closed (and, with settle 0, finalized) interaction of `queue`, answered by `agent`.
async fn closed_in(store: &dyn Store, q: &QueueRecord, agent: Option<Uuid>) -> Uuid {
    let id = Uuid::new_v4();
    store
        .create_interaction(&NewInteraction {
            queue_id: Some(q.id),
            ..NewInteraction::new(id, q.division_id, Channel::Voice, NOW)
        })
        .await
        .unwrap();
    store
        .set_state_by(id, InteractionState::Active, agent, NOW, 0)
        .await
        .unwrap();
    store
        .set_state(id, InteractionState::Closed, NOW, 0)
        .await
        .unwrap();
    id
}

fn at(mut cmd: ApplyWrapUp, now_ms: i64) -> ApplyWrapUp {
    cmd.now_ms = now_ms;
    cmd
}

fn refused_codes(e: StoreError) -> Vec<ErrorCode> {
    match e {
        StoreError::Rejected(problems) => problems.iter().map(|p| p.error_code).collect(),
        e => panic!("expected a refusal, got {e:?}"),
    }
}

async fn routing(store: &dyn Store, id: Uuid) -> (InteractionRecord, Routing) {
    let rec = store.get_interaction(id).await.unwrap().unwrap();
    let r = rec.interaction.routing.clone().unwrap();
    (rec, r)
}

async fn queues_and_agents_are_stored_searched_and_changed(db: TestDb) {
    let store = open_db(&db).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    store.create_division(a, "Sales", NOW).await.unwrap();
    store.create_division(b, "Support", NOW).await.unwrap();
    let sale = code(store.as_ref(), a, "Sale").await;
    let q = store
        .create_queue(&queue(
            a,
            "Sales timeout",
            WrapupPrompt::Timeout,
            vec![sale],
        ))
        .await
        .unwrap();
    assert_eq!(store.get_queue(q.id).await.unwrap(), Some(q.clone()));
    let dup = queue(b, "sales TIMEOUT", WrapupPrompt::Mandatory, vec![]);
    assert!(matches!(
        store.create_queue(&dup).await,
        Err(StoreError::Conflict(_))
    ));
    let other = store
        .create_queue(&queue(b, "Support", WrapupPrompt::Optional, vec![]))
        .await
        .unwrap();
    let search = |divisions: Vec<Uuid>| QueueSearch {
        search: Search {
            limit: 10,
            ..Search::default()
        },
        divisions,
    };
    let found = store
        .search_queues(&DivisionGrant::All, &search(vec![]))
        .await
        .unwrap();
    assert_eq!(found.total, 2);
    assert_eq!(found.items[0].name, "Sales timeout");
    let only_b = store
        .search_queues(&DivisionGrant::Only(vec![b]), &search(vec![]))
        .await
        .unwrap();
    assert_eq!(only_b.items, vec![other.clone()]);

    let second = code(store.as_ref(), a, "No sale").await;
    let changed = store
        .change_queue_codes(q.id, vec![second, sale], vec![], NOW + 1)
        .await
        .unwrap();
    assert_eq!(
        changed.code_ids,
        [sale, second],
        "kept in the order added, once"
    );
    let changed = store
        .change_queue_codes(q.id, vec![], vec![sale], NOW + 2)
        .await
        .unwrap();
    assert_eq!(changed.code_ids, [second]);
    let updated = store
        .update_queue(q.id, "Sales", None, WrapupPrompt::Optional, None, NOW + 3)
        .await
        .unwrap();
    assert_eq!(
        (updated.prompt, updated.timeout_ms, updated.code_ids.clone()),
        (WrapupPrompt::Optional, None, vec![second])
    );
    assert!(matches!(
        store
            .update_queue(q.id, "support", None, WrapupPrompt::Mandatory, None, NOW)
            .await,
        Err(StoreError::Conflict(_))
    ));
    store.delete_queue(other.id).await.unwrap();
    assert!(matches!(
        store.delete_queue(other.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_queue(other.id).await.unwrap(), None);

    let user = UserRecord {
        seq: 0,
        id: Uuid::new_v4(),
        name: "Ada Agent".into(),
        email: "ada@example.com".into(),
        division_id: a,
        state: UserState::Active,
        created_ms: NOW,
    };
    let stored = store.create_user(&user).await.unwrap();
    assert_eq!(store.get_user(user.id).await.unwrap(), Some(stored));
    let users = store
        .search_users(
            &DivisionGrant::Only(vec![b]),
            &Search {
                limit: 10,
                ..Search::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(users.total, 0, "an agent of another division is not listed");
}

async fn a_queue_interaction_may_use_only_the_queue_codes(db: TestDb) {
    let store = open_db(&db).await;
    let a = Uuid::new_v4();
    store.create_division(a, "Sales", NOW).await.unwrap();
    let (sale, no_sale) = (
        code(store.as_ref(), a, "Sale").await,
        code(store.as_ref(), a, "No sale").await,
    );
    let q = store
        .create_queue(&queue(a, "Sales", WrapupPrompt::Mandatory, vec![sale]))
        .await
        .unwrap();
    let agent = Uuid::new_v4();
    let id = closed_in(store.as_ref(), &q, Some(agent)).await;
    let (rec, r) = routing(store.as_ref(), id).await;
    assert_eq!(
        (r.queue_id, r.agent_id, r.wrapup_prompt),
        (Some(q.id), Some(agent), Some(WrapupPrompt::Mandatory))
    );
    assert_eq!(rec.acw_due_ms, None, "a mandatory prompt has no timeout");

    let e = store
        .apply_wrapup(&apply(id, no_sale, 1000))
        .await
        .unwrap_err();
    let StoreError::Rejected(problems) = e else {
        panic!("refused")
    };
    assert_eq!(problems[0].error_code, ErrorCode::WrapupCodeNotInQueue);
    assert!(
        problems[0].message.contains("\"Sales\""),
        "{}",
        problems[0].message
    );
    // The read-only check says the same.
    let rec = store.get_interaction(id).await.unwrap().unwrap();
    let dry = store
        .wrapup_problems(&rec, Some(no_sale), &DivisionGrant::All, NOW + 10_000)
        .await
        .unwrap();
    assert_eq!(dry[0].error_code, ErrorCode::WrapupCodeNotInQueue);

    store.apply_wrapup(&apply(id, sale, 1000)).await.unwrap();
    let (rec, r) = routing(store.as_ref(), id).await;
    assert_eq!(rec.interaction.state, InteractionState::Completed);
    assert_eq!(
        r.after_call_work_ended_at,
        Some(timestamp::from_millis(NOW + 10_000))
    );

    // Without a queue, the division's codes, as ever.
    let plain = super::closed_interaction(store.as_ref(), a, 0).await;
    store
        .apply_wrapup(&apply(plain, no_sale, 1000))
        .await
        .unwrap();
    let plain = store.get_interaction(plain).await.unwrap().unwrap();
    assert_eq!(plain.interaction.routing, None);
}

async fn each_prompt_ends_after_call_work_as_documented(db: TestDb) {
    let store = open_db(&db).await;
    let a = Uuid::new_v4();
    store.create_division(a, "Sales", NOW).await.unwrap();
    let sale = code(store.as_ref(), a, "Sale").await;
    let mut queues = Vec::new();
    for (n, p) in WrapupPrompt::ALL.into_iter().enumerate() {
        let q = queue(a, &format!("Q{n}"), p, vec![sale]);
        queues.push(store.create_queue(&q).await.unwrap());
    }
    let [mandatory, optional, timeout, forced, requested] = &queues[..] else {
        unreachable!()
    };
    let grant = DivisionGrant::All;

    // optional and agentRequested: the agent may skip, once; a skip is not a wrap-up.
    for q in [optional, requested] {
        let id = closed_in(store.as_ref(), q, None).await;
        let skipped = store.skip_wrapup(id, &grant, NOW + 5).await.unwrap();
        let WrapUpApplied::Applied(rec) = skipped else {
            panic!("skipped")
        };
        let r = rec.interaction.routing.clone().unwrap();
        assert!(r.wrapup_skipped && rec.interaction.wrap_up.is_none());
        assert_eq!(rec.interaction.state, InteractionState::Completed);
        assert!(matches!(
            store.skip_wrapup(id, &grant, NOW + 6).await.unwrap(),
            WrapUpApplied::Unchanged(_)
        ));
        assert!(store.wrapup_history(id).await.unwrap().is_empty());
    }
    // mandatory and the time-boxed ones: no skip.
    for q in [mandatory, timeout, forced] {
        let id = closed_in(store.as_ref(), q, None).await;
        let e = store.skip_wrapup(id, &grant, NOW + 5).await.unwrap_err();
        assert_eq!(refused_codes(e), [ErrorCode::WrapupSkipNotAllowed]);
    }
    // Not before it is closed, as a wrap-up.
    let open = Uuid::new_v4();
    store
        .create_interaction(&NewInteraction {
            queue_id: Some(optional.id),
            ..NewInteraction::new(open, a, Channel::Voice, NOW)
        })
        .await
        .unwrap();
    let e = store.skip_wrapup(open, &grant, NOW).await.unwrap_err();
    assert_eq!(refused_codes(e), [ErrorCode::InteractionNotClosed]);

    // timeout: due at the close plus the timeout; the system's wrap-up when it passes.
    let late = closed_in(store.as_ref(), timeout, None).await;
    let on_time = closed_in(store.as_ref(), timeout, None).await;
    let due = NOW + i64::from(TIMEOUT);
    let (rec, r) = routing(store.as_ref(), late).await;
    assert_eq!(rec.acw_due_ms, Some(due));
    assert_eq!(r.wrapup_due_at, Some(timestamp::from_millis(due)));
    assert_eq!(r.wrapup_timeout_ms, Some(TIMEOUT));
    store
        .apply_wrapup(&at(apply(on_time, sale, 1000), due - 1))
        .await
        .unwrap();
    assert!(store.time_out_due(due - 1).await.unwrap().is_empty());
    assert!(store.next_timeout_due().await.unwrap().is_some());
    let done = store.time_out_due(due).await.unwrap();
    let ids: Vec<Uuid> = done.iter().map(|r| r.interaction.id).collect();
    assert!(ids.contains(&late) && !ids.contains(&on_time), "{ids:?}");
    let (rec, r) = routing(store.as_ref(), late).await;
    let w = rec.interaction.wrap_up.clone().unwrap();
    assert!(w.system && w.code_id.is_nil() && w.applied_by.is_nil());
    assert_eq!(w.code_name, TIMEOUT_CODE);
    assert_eq!(w.duration_ms, TIMEOUT);
    assert_eq!(
        r.after_call_work_ended_at,
        Some(timestamp::from_millis(due))
    );
    assert_eq!(rec.interaction.state, InteractionState::Completed);
    let history = store.wrapup_history(late).await.unwrap();
    assert_eq!(history.len(), 1);
    assert!(history[0].system && history[0].code_name == TIMEOUT_CODE);
    assert!(
        store.time_out_due(due + 1).await.unwrap().is_empty(),
        "once"
    );
    // The agent may replace the timeout's code later (docs/genesys.md#queues).
    store
        .apply_wrapup(&at(apply(late, sale, 1000), due + 5))
        .await
        .unwrap();
    let history = store.wrapup_history(late).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(!history[1].system);

    // forcedTimeout: a code before the deadline keeps after-call work open until it.
    let forced_id = closed_in(store.as_ref(), forced, None).await;
    store
        .apply_wrapup(&at(apply(forced_id, sale, 1000), NOW + 10))
        .await
        .unwrap();
    let (rec, r) = routing(store.as_ref(), forced_id).await;
    assert_eq!(rec.acw_due_ms, Some(due));
    assert_eq!(r.after_call_work_ended_at, None);
    // Read from the event log, not the live feed: on PostgreSQL the feed may still be
    // delivering the wrap-up's own event when a subscriber joins.
    let before = store.event_bounds().await.unwrap().latest;
    store.time_out_due(due).await.unwrap();
    let (rec, r) = routing(store.as_ref(), forced_id).await;
    assert_eq!(rec.acw_due_ms, None);
    assert_eq!(
        r.after_call_work_ended_at,
        Some(timestamp::from_millis(due))
    );
    let w = rec.interaction.wrap_up.unwrap();
    assert!(!w.system && w.code_id == sale, "the agent's code stays");
    let events: Vec<_> = store
        .events_after(before, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.interaction.id == forced_id)
        .map(|e| e.kind)
        .collect();
    assert_eq!(events, vec![EventKind::AcwEnded]);
    assert_eq!(store.next_timeout_due().await.unwrap(), None);
}

async fn the_timeout_is_applied_once_by_two_stores(db: TestDb) {
    let one = open_db(&db).await;
    let two: Arc<dyn Store> = open(&db.url).await.unwrap();
    let a = Uuid::new_v4();
    one.create_division(a, "Sales", NOW).await.unwrap();
    let sale = code(one.as_ref(), a, "Sale").await;
    let q = one
        .create_queue(&queue(
            a,
            "Sales timeout",
            WrapupPrompt::Timeout,
            vec![sale],
        ))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(closed_in(one.as_ref(), &q, None).await);
    }
    let after = one
        .events_after(0, 10_000)
        .await
        .unwrap()
        .last()
        .unwrap()
        .seq;
    let due = NOW + i64::from(TIMEOUT);
    let (x, y) = tokio::join!(
        async {
            let mut all = Vec::new();
            for _ in 0..3 {
                all.extend(one.time_out_due(due).await.unwrap());
            }
            all
        },
        async {
            let mut all = Vec::new();
            for _ in 0..3 {
                all.extend(two.time_out_due(due).await.unwrap());
            }
            all
        },
    );
    let mut done: Vec<Uuid> = x.iter().chain(&y).map(|r| r.interaction.id).collect();
    done.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(
        done, expected,
        "each interaction timed out by exactly one store"
    );
    for id in &ids {
        assert_eq!(one.wrapup_history(*id).await.unwrap().len(), 1);
    }
    let events = one.events_after(after, 10_000).await.unwrap();
    let wrapups = events
        .iter()
        .filter(|e| e.kind == EventKind::WrapUp)
        .count();
    assert_eq!(wrapups, ids.len());
}

async fn the_timeout_survives_a_reopening_past_its_deadline(db: TestDb) {
    let due = NOW + i64::from(TIMEOUT);
    let id = {
        let store = open_db(&db).await;
        let a = Uuid::new_v4();
        store.create_division(a, "Sales", NOW).await.unwrap();
        let sale = code(store.as_ref(), a, "Sale").await;
        let q = store
            .create_queue(&queue(a, "Sales", WrapupPrompt::Timeout, vec![sale]))
            .await
            .unwrap();
        let id = closed_in(store.as_ref(), &q, None).await;
        store.close().await;
        id
    };
    let store = open_db(&db).await;
    assert_eq!(store.next_timeout_due().await.unwrap(), Some(due));
    let done = store.time_out_due(due + 60_000).await.unwrap();
    assert_eq!(done.len(), 1);
    let rec = store.get_interaction(id).await.unwrap().unwrap();
    let w = rec.interaction.wrap_up.unwrap();
    assert!(w.system);
    assert_eq!(
        rec.interaction.routing.unwrap().after_call_work_ended_at,
        Some(timestamp::from_millis(due)),
        "after-call work ended at the deadline, not at the restart"
    );
    assert_eq!(w.applied_at, timestamp::from_millis(due + 60_000));
}
