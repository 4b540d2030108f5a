//! The cache of hot interactions (SQLite; on PostgreSQL every GET reads) never answers older
//! than a write the server has acknowledged, whichever path wrote it: the API's PUT, the bulk
//! apply, a state change, the finalizer, or the store directly; and it shows an interaction
//! only to a caller who may see it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::Method;
use uuid::Uuid;
use wrapup_client::{Client, RawResponse};
use wrapup_server::testkit::*;
use wrapup_server::Clock as _;
use wrapup_types::{BulkWrapUp, DivisionGrant, InteractionState, TargetState, WrapUpRequest};

async fn get_raw(client: &Client, id: Uuid) -> RawResponse {
    let path = format!("/api/v2/interactions/{id}");
    client.raw(Method::GET, &path, &[], None).await.unwrap()
}

/// The duration of the wrap-up a GET shows.
async fn applied_ms(client: &Client, id: Uuid) -> u32 {
    let interaction = client.get_interaction(id).await.unwrap();
    interaction.wrap_up.expect("a wrap-up").duration_ms
}

#[tokio::test]
async fn every_write_path_is_seen_by_the_next_get() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (div, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let id = s.interaction(&admin, div, &[TargetState::Active]).await;

    // The same bytes and ETag from the store and from the cache.
    let first = get_raw(&admin, id).await;
    let second = get_raw(&admin, id).await;
    assert_eq!(first.body, second.body);
    assert_eq!(first.headers["etag"], second.headers["etag"]);
    assert_eq!(second.headers["content-type"], "application/json");

    // A state change through the API.
    admin.set_state(id, TargetState::Closed).await.unwrap();
    let got = admin.get_interaction(id).await.unwrap();
    assert_eq!(
        (got.state, got.finalized),
        (InteractionState::Closed, false)
    );
    // The finalizer (a write of many interactions at once).
    s.clock.advance(SETTLE_MS);
    s.finalize_now().await;
    assert!(admin.get_interaction(id).await.unwrap().finalized);
    // The single PUT.
    let mut wrapup = WrapUpRequest {
        code_id: sale,
        duration_ms: 1_000,
        notes: None,
    };
    admin.put_wrapup(id, &wrapup).await.unwrap();
    assert_eq!(applied_ms(&admin, id).await, 1_000);
    // The bulk apply.
    let item = BulkWrapUp {
        interaction_id: id,
        code_id: sale,
        duration_ms: 2_000,
        notes: None,
    };
    admin.apply_wrapups(&[item]).await.unwrap();
    assert_eq!(applied_ms(&admin, id).await, 2_000);
    // The store directly (the path of the finalizer's timer and of retention).
    let other = s.interaction(&admin, div, &[TargetState::Active]).await;
    admin.get_interaction(other).await.unwrap();
    s.store
        .set_state(other, InteractionState::Closed, s.clock.now_ms(), SETTLE_MS)
        .await
        .unwrap();
    assert_eq!(
        admin.get_interaction(other).await.unwrap().state,
        InteractionState::Closed
    );
    // A wrap-up refused changes nothing, and the next GET still answers the last one.
    wrapup.duration_ms = 0;
    admin.put_wrapup(id, &wrapup).await.unwrap_err();
    assert_eq!(applied_ms(&admin, id).await, 2_000);
}

#[tokio::test]
async fn a_cached_interaction_is_no_more_visible_than_a_read_one() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let support = s.division(&admin, "Support").await;
    let id = s.interaction(&admin, sales, &[TargetState::Active]).await;
    admin.get_interaction(id).await.unwrap(); // now cached
    let outsider = s
        .client("interaction:view", DivisionGrant::Only(vec![support]))
        .await;
    let hidden = get_raw(&outsider, id).await;
    let random = Uuid::new_v4();
    let missing = get_raw(&outsider, random).await;
    assert_eq!(hidden.status, 404);
    assert_eq!(missing.status, 404);
    // The same body but for the id and the request's own context id.
    let body = |raw: Vec<u8>, id: Uuid| {
        let text = String::from_utf8(raw)
            .unwrap()
            .replace(&id.to_string(), "ID");
        let mut body: serde_json::Value = serde_json::from_str(&text).unwrap();
        body.as_object_mut().unwrap().remove("contextId");
        body
    };
    assert_eq!(body(hidden.body, id), body(missing.body, random));
}

/// Reads hammer one interaction (so the cache is filled again and again, and reads race the
/// writes) while wrap-ups are applied one after the other: the GET that follows each
/// acknowledged PUT shows that PUT's duration, never an older one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_racing_writes_never_see_an_acknowledged_write_undone() {
    let s = TestServer::start().await;
    let admin = Arc::new(s.admin().await);
    let (div, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let id = s.finalized(&admin, div).await;
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (admin, done) = (admin.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    admin.get_interaction(id).await.unwrap();
                }
            })
        })
        .collect();
    for duration_ms in 1..=150 {
        let wrapup = WrapUpRequest {
            code_id: sale,
            duration_ms,
            notes: None,
        };
        admin.put_wrapup(id, &wrapup).await.unwrap();
        assert_eq!(applied_ms(&admin, id).await, duration_ms);
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
}
