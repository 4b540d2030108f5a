use uuid::Uuid;
use wrapup_types::genesys::ConversationQuery;
use wrapup_types::timestamp::from_millis;
use wrapup_types::{Channel, Interaction, InteractionState, Routing, WrapUp, TIMEOUT_CODE};

use super::*;
use crate::analytics::{conversation, metric, DetailsQuery};

const T0: i64 = 1_796_083_200_000; // 2026-12-01T00:00:00Z

fn code(n: u8) -> Uuid {
    Uuid::from_bytes([n; 16])
}

/// Created at `T0 + start_s`, answered 10 s later, closed 60 s after that, wrapped up with
/// `code` (or the timeout code when `None`) `acw_s` after the close.
fn interaction(
    start_s: i64,
    code_id: Option<Uuid>,
    acw_s: i64,
    queue: Option<Uuid>,
) -> Interaction {
    let created = T0 + start_s * 1000;
    let closed = created + 70_000;
    let applied = closed + acw_s * 1000;
    Interaction {
        id: Uuid::new_v4(),
        division_id: Uuid::nil(),
        channel: Channel::Voice,
        state: InteractionState::Completed,
        finalized: true,
        created_at: from_millis(created),
        active_at: Some(from_millis(created + 10_000)),
        closed_at: Some(from_millis(closed)),
        finalizes_at: Some(from_millis(closed)),
        finalized_at: Some(from_millis(closed)),
        wrap_up: Some(WrapUp {
            code_id: code_id.unwrap_or(Uuid::nil()),
            code_name: code_id.map_or(TIMEOUT_CODE.to_string(), |_| "Sale".into()),
            duration_ms: 1000,
            notes: Some("note".into()),
            applied_at: from_millis(applied),
            applied_by: Uuid::nil(),
            tags: vec!["vip".into()],
            provisional: false,
            system: code_id.is_none(),
        }),
        routing: queue.map(|q| Routing {
            queue_id: Some(q),
            agent_id: Some(code(9)),
            after_call_work_ended_at: Some(from_millis(applied)),
            ..Routing::default()
        }),
        version: 3,
    }
}

#[test]
fn segments_and_metrics_of_a_wrapped_up_call() {
    let queue = code(7);
    let i = interaction(0, Some(code(1)), 30, Some(queue));
    let c = conversation(&i, Some("Ada"));
    assert_eq!(c.participants.len(), 2);
    let agent = &c.participants[1];
    assert_eq!(
        (agent.purpose.as_str(), agent.user_id),
        ("agent", Some(code(9)))
    );
    let session = &agent.sessions[0];
    assert_eq!(session.media_type, "voice");
    let kinds: Vec<_> = session
        .segments
        .iter()
        .map(|s| s.segment_type.as_str())
        .collect();
    assert_eq!(kinds, ["alert", "interact", "wrapup"]);
    let wrap = &session.segments[2];
    assert_eq!(
        wrap.wrap_up_code.as_deref(),
        Some(code(1).to_string().as_str())
    );
    assert_eq!(wrap.wrap_up_note.as_deref(), Some("note"));
    assert_eq!(wrap.queue_id, Some(queue));
    assert_eq!(wrap.segment_end, i.wrap_up.as_ref().map(|w| w.applied_at));
    assert_eq!(metric(&i, Metric::TAcw).unwrap().0, 30_000);
    assert_eq!(metric(&i, Metric::TTalk).unwrap().0, 60_000);
    assert_eq!(metric(&i, Metric::THandle).unwrap().0, 90_000);
    assert_eq!(metric(&i, Metric::NConnected).unwrap().0, 1);
    assert_eq!(metric(&i, Metric::NOffered).unwrap().0, 1);
    // Without a queue or agent, after-call work ends with the final wrap-up.
    let plain = interaction(0, Some(code(1)), 12, None);
    assert_eq!(metric(&plain, Metric::TAcw).unwrap().0, 12_000);
    // Nothing absent is written as null.
    let json = serde_json::to_string(&c).unwrap();
    assert!(!json.contains("null"), "{json}");
    // Still queued: only offered, one open alert segment.
    let mut queued = interaction(0, None, 0, None);
    queued.state = InteractionState::Queued;
    queued.active_at = None;
    queued.closed_at = None;
    queued.wrap_up = None;
    let c = conversation(&queued, None);
    assert_eq!(c.participants[1].sessions[0].segments.len(), 1);
    assert_eq!(c.participants[1].sessions[0].segments[0].segment_end, None);
    assert!(
        metric(&queued, Metric::TAcw).is_none() && metric(&queued, Metric::NConnected).is_none()
    );
}

#[test]
fn filters_test_segments() {
    let i = interaction(0, Some(code(1)), 30, Some(code(7)));
    let c = conversation(&i, None);
    let check = |json: serde_json::Value| {
        let q: ConversationQuery = serde_json::from_value(serde_json::json!({
            "interval": "2026-12-01T00:00:00Z/P1D", "segmentFilters": [json]}))
        .unwrap();
        DetailsQuery::check(&q).unwrap().filters[0].matches(&c)
    };
    let code1 = code(1).to_string().to_uppercase();
    assert!(check(
        serde_json::json!({"type": "and", "predicates": [{"dimension": "wrapUpCode", "value": code1}]})
    ));
    assert!(!check(
        serde_json::json!({"type": "and", "predicates": [{"dimension": "wrapUpCode", "value": code(2).to_string()}]})
    ));
    // One segment must have both: the customer's interact segment has no wrap-up code.
    assert!(!check(serde_json::json!({"type": "and", "predicates": [
        {"dimension": "purpose", "value": "customer"}, {"dimension": "wrapUpCode", "operator": "exists"}]})));
    assert!(check(serde_json::json!({"type": "and", "predicates": [
        {"dimension": "purpose", "value": "agent"}, {"dimension": "segmentType", "value": "wrapup"},
        {"dimension": "mediaType", "value": "voice"}]})));
    assert!(check(serde_json::json!({"type": "or", "predicates": [
        {"dimension": "mediaType", "value": "email"}, {"dimension": "queueId", "value": code(7).to_string()}]})));
    assert!(check(serde_json::json!({"type": "and", "clauses": [
        {"type": "or", "predicates": [{"dimension": "userId", "value": code(9).to_string()}, {"dimension": "userId", "value": "x"}]}]})));
    assert!(check(
        serde_json::json!({"type": "and", "predicates": [{"dimension": "userId", "operator": "notExists"}]})
    ));
}

#[test]
fn aggregates_by_code_and_bucket() {
    let q: wrapup_types::genesys::ConversationAggregationQuery =
        serde_json::from_value(serde_json::json!({
        "interval": "2026-12-01T00:00:00Z/P1D", "granularity": "PT12H", "groupBy": ["wrapUpCode"],
        "metrics": ["tAcw", "nConnected"]}))
        .unwrap();
    let q = AggregateQuery::check(&q).unwrap();
    let mut a = Aggregation::new(&q);
    for i in [
        interaction(0, Some(code(1)), 10, None),
        interaction(60, Some(code(1)), 30, None),
        interaction(13 * 3600, Some(code(1)), 5, None),
        interaction(100, Some(code(2)), 20, Some(code(7))),
        interaction(200, None, 40, Some(code(7))),
        interaction(86_400, Some(code(1)), 1, None), // the next day: outside
    ] {
        a.add(&i, None);
    }
    let r = a.finish();
    let find = |code: &str| {
        r.results
            .iter()
            .find(|g| g.group["wrapUpCode"] == code)
            .unwrap()
    };
    let one = find(&code(1).to_string());
    assert_eq!(one.data.len(), 2);
    assert_eq!(
        one.data[0].interval,
        "2026-12-01T00:00:00.000Z/2026-12-01T12:00:00.000Z"
    );
    let acw = &one.data[0].metrics[0];
    assert_eq!(
        (
            acw.metric.as_str(),
            acw.stats.count,
            acw.stats.sum,
            acw.stats.min,
            acw.stats.max
        ),
        ("tAcw", 2, 40_000.0, 10_000.0, 30_000.0)
    );
    assert_eq!(one.data[0].metrics[1].stats.count, 1 + 1);
    assert_eq!(one.data[1].metrics[0].stats.sum, 5_000.0);
    assert_eq!(find(TIMEOUT_CODE).data[0].metrics[0].stats.sum, 40_000.0);
    assert_eq!(r.results.len(), 3);
}
