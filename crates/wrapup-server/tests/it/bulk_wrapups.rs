//! `POST /api/v2/interactions/wrap-ups`: each item answered exactly as the single PUT would
//! answer it, in order; one store write for the array; the body checked as a whole; the
//! scope, division isolation, the rate limit per item; idempotent resend.

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use wrapup_client::Client;
use wrapup_client::RawResponse;
use wrapup_server::testkit::*;
use wrapup_server::Config;
use wrapup_types::{
    BulkOutcome, BulkWrapUp, BulkWrapUpResponse, BulkWrapUpResult, DivisionGrant, ErrorCode,
    EventKind, InteractionState, TargetState, WrapUpRequest,
};

const PATH: &str = "/api/v2/interactions/wrap-ups";

async fn post_raw(client: &Client, content_type: &str, body: Vec<u8>) -> RawResponse {
    client
        .raw(
            Method::POST,
            PATH,
            &[("content-type", content_type)],
            Some(body),
        )
        .await
        .unwrap()
}

async fn post_items(client: &Client, items: &[Value]) -> Vec<BulkWrapUpResult> {
    let raw = post_raw(
        client,
        "application/json",
        serde_json::to_vec(items).unwrap(),
    )
    .await;
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    let answer: BulkWrapUpResponse = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(answer.results.len(), items.len());
    answer.results
}

/// An item's body as the single PUT takes it: the item without `interactionId`.
fn put_body(item: &Value) -> Vec<u8> {
    let mut item = item.as_object().unwrap().clone();
    item.remove("interactionId");
    serde_json::to_vec(&item).unwrap()
}

/// Requires a refused result to be exactly what the single PUT answers for the item now.
async fn same_as_put(client: &Client, item: &Value, result: &BulkWrapUpResult) {
    assert_eq!(result.outcome, BulkOutcome::Refused, "{item}: {result:?}");
    let id = item["interactionId"].as_str().unwrap();
    let put = put_raw(client, id, "application/json", &put_body(item)).await;
    assert_eq!(result.status, put.status.as_u16(), "{item}");
    assert_eq!(result.details, error_of(&put).details, "{item}");
    assert_eq!(result.interaction_id.as_deref(), Some(id));
}

#[tokio::test]
async fn a_mixed_array_answers_each_item_as_the_put_would() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let other = s.division(&admin, "Other").await;
    let sale = s.code(&admin, sales, "Sale").await;
    let elsewhere = s.code(&admin, other, "Elsewhere").await;
    let writer = s
        .client(
            "interaction:view interaction:write",
            DivisionGrant::Only(vec![sales]),
        )
        .await;
    let fresh = s.finalized(&admin, sales).await;
    let twice = s.finalized(&admin, sales).await;
    let in_place = s.finalized(&admin, sales).await;
    let invisible = s.finalized(&admin, other).await;
    let pending = s
        .interaction(&admin, sales, &[TargetState::Active, TargetState::Closed])
        .await;
    s.clock.advance(400);
    let already = WrapUpRequest {
        code_id: sale,
        duration_ms: 30_000,
        notes: Some("done".into()),
    };
    writer.put_wrapup(in_place, &already).await.unwrap();
    let in_place_version = admin.get_interaction(in_place).await.unwrap().version;

    let mut events = s.store.subscribe();
    let items = vec![
        json!({"interactionId": fresh, "codeId": sale, "durationMs": 120_000, "notes": "upgraded"}),
        json!({"interactionId": in_place, "codeId": sale, "durationMs": 30_000, "notes": "done"}),
        json!({"interactionId": pending, "codeId": sale, "durationMs": 1_000}),
        json!({"interactionId": twice, "codeId": Uuid::new_v4(), "durationMs": 1_000}),
        json!({"interactionId": twice, "codeId": elsewhere, "durationMs": 1_000}),
        json!({"interactionId": invisible, "codeId": sale, "durationMs": 1_000}),
        json!({"interactionId": Uuid::new_v4(), "codeId": sale, "durationMs": 1_000}),
        json!({"interactionId": twice, "durationMs": 0, "notes": 5, "wrapUpCode": {"id": sale}}),
        json!({"codeId": sale, "durationMs": 1_000}),
        json!({"interactionId": 42, "codeId": sale, "durationMs": 1_000}),
        json!({"interactionId": "not-an-id", "codeId": sale, "durationMs": 1_000}),
        json!({"interactionId": twice, "codeId": sale, "durationMs": 60_000}),
    ];
    let results = post_items(&writer, &items).await;
    let outcomes: Vec<BulkOutcome> = results.iter().map(|r| r.outcome).collect();
    use BulkOutcome::*;
    assert_eq!(
        outcomes,
        [
            Applied, Unchanged, Refused, Refused, Refused, Refused, Refused, Refused, Refused,
            Refused, Refused, Applied
        ]
    );
    for at in [0, 1, 11] {
        assert_eq!(results[at].status, 204);
        assert!(results[at].details.is_empty());
        assert_eq!(
            results[at].interaction_id.as_deref(),
            items[at]["interactionId"].as_str()
        );
    }
    // Every refusal is the single PUT's answer, detail for detail.
    for at in [2, 3, 4, 5, 6, 7, 10] {
        same_as_put(&writer, &items[at], &results[at]).await;
    }
    let codes = |at: usize| -> Vec<ErrorCode> {
        results[at].details.iter().map(|d| d.error_code).collect()
    };
    assert_eq!(codes(2), [ErrorCode::InteractionNotFinalized]);
    assert_eq!(results[2].details[0].retry_after_ms, Some(1_100));
    assert_eq!(codes(3), [ErrorCode::WrapupCodeNotFound]);
    // A code of a division the token does not see is not found, as for the PUT.
    assert_eq!(codes(4), [ErrorCode::WrapupCodeNotFound]);
    // An interaction of another division is indistinguishable from one that does not exist.
    assert_eq!(
        (results[5].status, codes(5)),
        (404, vec![ErrorCode::InteractionNotFound])
    );
    let unknown_id = items[6]["interactionId"].as_str().unwrap();
    let invisible_id = invisible.to_string();
    assert_eq!(
        serde_json::to_string(&results[5].details)
            .unwrap()
            .replace(&invisible_id, "ID"),
        serde_json::to_string(&results[6].details)
            .unwrap()
            .replace(unknown_id, "ID")
    );
    assert_eq!(
        codes(7),
        [
            ErrorCode::RequestFieldUnknown,
            ErrorCode::WrapupCodeMissing,
            ErrorCode::WrapupDurationInvalid,
            ErrorCode::WrapupNotesInvalid
        ]
    );
    assert_eq!(
        (results[8].status, codes(8)),
        (400, vec![ErrorCode::RequestFieldMissing])
    );
    assert_eq!(
        results[8].details[0].field_name.as_deref(),
        Some("interactionId")
    );
    assert_eq!(results[8].interaction_id, None);
    assert_eq!(
        (results[9].status, codes(9)),
        (400, vec![ErrorCode::RequestFieldInvalid])
    );
    assert_eq!(results[9].interaction_id, None);
    assert_eq!(
        (results[10].status, codes(10)),
        (404, vec![ErrorCode::InteractionNotFound])
    );

    // What was applied is in place, with its history entry and its event, as the PUT
    // leaves it; what was unchanged or refused wrote nothing.
    let done = admin.get_interaction(fresh).await.unwrap();
    assert_eq!(done.state, InteractionState::Completed);
    let w = done.wrap_up.unwrap();
    assert_eq!(
        (w.code_id, w.duration_ms, w.notes.as_deref()),
        (sale, 120_000, Some("upgraded"))
    );
    assert_eq!(admin.wrapup_history(fresh).await.unwrap().len(), 1);
    let history = admin.wrapup_history(twice).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].duration_ms, 60_000);
    assert_eq!(
        admin.get_interaction(in_place).await.unwrap().version,
        in_place_version
    );
    assert_eq!(admin.wrapup_history(in_place).await.unwrap().len(), 1);
    assert!(admin
        .get_interaction(pending)
        .await
        .unwrap()
        .wrap_up
        .is_none());
    assert!(admin
        .get_interaction(invisible)
        .await
        .unwrap()
        .wrap_up
        .is_none());
    TestServer::wait_for_event(&mut events, fresh, EventKind::WrapUp).await;
    TestServer::wait_for_event(&mut events, twice, EventKind::WrapUp).await;
    let wrapups: Vec<Uuid> = s
        .store
        .events_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::WrapUp)
        .map(|e| e.interaction.id)
        .collect();
    assert_eq!(wrapups, [in_place, fresh, twice]);

    // With every division granted, a code of another division is a mismatch, as for the PUT.
    let mismatch = json!({"interactionId": pending, "codeId": elsewhere, "durationMs": 1_000});
    let results = post_items(&admin, std::slice::from_ref(&mismatch)).await;
    same_as_put(&admin, &mismatch, &results[0]).await;
    assert_eq!(
        results[0]
            .details
            .iter()
            .map(|d| d.error_code)
            .collect::<Vec<_>>(),
        [
            ErrorCode::InteractionNotFinalized,
            ErrorCode::WrapupCodeDivisionMismatch
        ]
    );
}

#[tokio::test]
async fn the_client_applies_an_array_and_a_resend_changes_nothing() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (sales, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let mut items = Vec::new();
    for n in 0..5u32 {
        items.push(BulkWrapUp {
            interaction_id: s.finalized(&admin, sales).await,
            code_id: sale,
            duration_ms: 1_000 + n,
            notes: (n % 2 == 0).then(|| format!("row {n}")),
        });
    }
    let first = admin.apply_wrapups(&items).await.unwrap();
    assert!(
        first.iter().all(|r| r.outcome == BulkOutcome::Applied),
        "{first:?}"
    );
    let versions: Vec<i64> = futures_versions(&admin, &items).await;
    let again = admin.apply_wrapups(&items).await.unwrap();
    assert!(
        again
            .iter()
            .all(|r| r.outcome == BulkOutcome::Unchanged && r.status == 204),
        "{again:?}"
    );
    assert_eq!(futures_versions(&admin, &items).await, versions);
    for (item, result) in items.iter().zip(&first) {
        assert_eq!(result.interaction_id, Some(item.interaction_id.to_string()));
        let history = admin.wrapup_history(item.interaction_id).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(
            (history[0].duration_ms, history[0].notes.clone()),
            (item.duration_ms, item.notes.clone())
        );
    }
    assert!(admin.apply_wrapups(&[]).await.unwrap().is_empty());
}

async fn futures_versions(client: &Client, items: &[BulkWrapUp]) -> Vec<i64> {
    let mut out = Vec::new();
    for item in items {
        out.push(
            client
                .get_interaction(item.interaction_id)
                .await
                .unwrap()
                .version,
        );
    }
    out
}

#[tokio::test]
async fn the_body_is_refused_as_a_whole_when_it_is_not_an_array_of_objects() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (sales, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let id = s.finalized(&admin, sales).await;
    let item = json!({"interactionId": id, "codeId": sale, "durationMs": 1_000});
    for body in [
        json!(item).to_string(),
        format!("[{item}, 3]"),
        format!("[{item}, null]"),
        format!("[{item}"),
        "".into(),
        format!("[{{\"interactionId\": \"{id}\", \"interactionId\": \"{id}\"}}]"),
    ] {
        let raw = post_raw(&admin, "application/json", body.clone().into_bytes()).await;
        assert_eq!(raw.status, 400, "{body}");
        assert_eq!(codes_of(&raw), ["request.body.malformed"], "{body}");
    }
    let raw = post_raw(&admin, "text/plain", json!([item]).to_string().into_bytes()).await;
    assert_eq!(
        (raw.status.as_u16(), codes_of(&raw)),
        (415, vec!["request.media.unsupported".to_string()])
    );

    // The limit: 1,000 items pass (a body well over the PUT's 64 KiB), 1,001 do not.
    let many: Vec<Value> = (0..1000).map(|_| item.clone()).collect();
    let body = serde_json::to_vec(&many).unwrap();
    assert!(body.len() > 64 * 1024);
    let results = post_items(&admin, &many).await;
    assert_eq!(results[0].outcome, BulkOutcome::Applied);
    assert!(results[1..]
        .iter()
        .all(|r| r.outcome == BulkOutcome::Unchanged));
    let too_many: Vec<Value> = (0..1001).map(|_| item.clone()).collect();
    let raw = post_raw(
        &admin,
        "application/json",
        serde_json::to_vec(&too_many).unwrap(),
    )
    .await;
    assert_eq!(raw.status, 400);
    let e = error_of(&raw);
    assert_eq!(e.code, ErrorCode::RequestFieldInvalid);
    assert!(e.message.contains("at most 1000"), "{}", e.message);
    // Over 1 MiB: 413, before anything is parsed.
    let padded = json!([{"interactionId": id, "codeId": sale, "durationMs": 1_000, "notes": "x".repeat(1024 * 1024)}]);
    let raw = post_raw(
        &admin,
        "application/json",
        serde_json::to_vec(&padded).unwrap(),
    )
    .await;
    assert_eq!(
        (raw.status.as_u16(), codes_of(&raw)),
        (413, vec!["request.body.too.large".to_string()])
    );
    // Nothing of a refused request was applied.
    assert_eq!(admin.wrapup_history(id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_scope_is_that_of_the_put() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (sales, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let id = s.finalized(&admin, sales).await;
    let items = [BulkWrapUp {
        interaction_id: id,
        code_id: sale,
        duration_ms: 1_000,
        notes: None,
    }];
    let viewer = s.client("interaction:view", DivisionGrant::All).await;
    let e = viewer.apply_wrapups(&items).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::AuthorizationMissingScope));
    assert!(admin.get_interaction(id).await.unwrap().wrap_up.is_none());
    let writer = s.client("interaction:write", DivisionGrant::All).await;
    let results = writer.apply_wrapups(&items).await.unwrap();
    assert_eq!(results[0].outcome, BulkOutcome::Applied);
}

#[tokio::test]
async fn every_item_counts_against_the_rate_limit() {
    let s = TestServer::builder()
        .config(Config {
            settle_ms: SETTLE_MS,
            rate_limit: Some("10/min".parse().unwrap()),
            ..Config::default()
        })
        .start()
        .await;
    let admin = s.admin().await;
    let (sales, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let id = s
        .interaction(&admin, sales, &[TargetState::Active, TargetState::Closed])
        .await;
    s.clock.advance(SETTLE_MS);
    s.finalize_now().await;
    let writer = s.client("interaction:write", DivisionGrant::All).await;
    let item = json!({"interactionId": id, "codeId": sale, "durationMs": 1_000});
    let send = |n: usize| {
        let body = serde_json::to_vec(&vec![item.clone(); n]).unwrap();
        let writer = &writer;
        async move { post_raw(writer, "application/json", body).await }
    };
    let header = |raw: &RawResponse, name: &str| {
        raw.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    // Seven items spend seven of the ten.
    let raw = send(7).await;
    assert_eq!(raw.status, 200);
    assert_eq!(header(&raw, "ratelimit-remaining").as_deref(), Some("3"));
    // Four more do not fit in the three left: the whole request is refused, nothing spent
    // but the request's own unit.
    let raw = send(4).await;
    assert_eq!(raw.status, 429);
    let e = error_of(&raw);
    assert_eq!(e.code, ErrorCode::RequestRateLimited);
    assert!(e.details[0].retry_after_ms.unwrap() > 0);
    assert!(raw.headers.get("retry-after").is_some());
    // Two fit in what is left (one for the request, one more).
    let raw = send(2).await;
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    assert_eq!(header(&raw, "ratelimit-remaining").as_deref(), Some("0"));
    // More items than the bucket holds could never pass: a 400 that says so, not a 429
    // a client would retry forever.
    s.clock.advance(60_000);
    let raw = send(11).await;
    assert_eq!(raw.status, 400);
    let e = error_of(&raw);
    assert_eq!(e.code, ErrorCode::RequestFieldInvalid);
    assert!(e.message.contains("at most 10"), "{}", e.message);
    // A full bucket later, an array of its size passes.
    s.clock.advance(60_000);
    let raw = send(10).await;
    assert_eq!(raw.status, 200);
    assert_eq!(admin.wrapup_history(id).await.unwrap().len(), 1);
}

/// The console's wrap-up activity counts each item as the single PUT would count it: accepted
/// when in place, refused when about an interaction the caller sees, not at all otherwise.
#[tokio::test]
async fn each_item_counts_in_the_activity_as_a_put_would() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (sales, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let applied = s.finalized(&admin, sales).await;
    let refused = s.finalized(&admin, sales).await;
    let items = [
        json!({"interactionId": applied, "codeId": sale, "durationMs": 1_000}),
        json!({"interactionId": applied, "codeId": sale, "durationMs": 1_000}),
        json!({"interactionId": refused, "codeId": sale, "durationMs": 0}),
        json!({"interactionId": Uuid::new_v4(), "codeId": sale, "durationMs": 1_000}),
        json!({"codeId": sale, "durationMs": 1_000}),
    ];
    let before = admin.wrapup_activity().await.unwrap();
    assert_eq!((before.accepted, before.refused), (0, 0));
    post_items(&admin, &items).await;
    let after = admin.wrapup_activity().await.unwrap();
    assert_eq!((after.accepted, after.refused), (2, 1));
    // The same items as single PUTs add the same counts.
    for item in &items[..4] {
        let id = item["interactionId"].as_str().unwrap();
        put_raw(&admin, id, "application/json", &put_body(item)).await;
    }
    let puts = admin.wrapup_activity().await.unwrap();
    assert_eq!((puts.accepted, puts.refused), (4, 2));
}
