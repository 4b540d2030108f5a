//! The test clock as the API exposes it (`GET /api/v2/admin/clock`,
//! `POST /api/v2/admin/clock/advance`, docs/testing.md): an advance finalizes what fell due
//! before it answers, expires tokens, refuses what is not a forward move of at most a year,
//! and needs the admin scope. (A server on the real clock refusing it is pinned in
//! `error_bodies::clock_not_manual`.)

use reqwest::Method;
use serde_json::{json, Value};
use wrapup_client::{Client, RawResponse};
use wrapup_server::testkit::*;
use wrapup_server::Clock;
use wrapup_types::{DivisionGrant, ErrorCode, TargetState};

async fn advance(client: &Client, body: Value) -> RawResponse {
    client
        .raw(
            Method::POST,
            "/api/v2/admin/clock/advance",
            &[("content-type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
        .await
        .unwrap()
}

fn json_of(raw: &RawResponse) -> Value {
    serde_json::from_slice(&raw.body).unwrap()
}

#[tokio::test]
async fn reading_the_clock() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let raw = admin
        .raw(Method::GET, "/api/v2/admin/clock", &[], None)
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    assert_eq!(
        json_of(&raw),
        json!({"now": "2026-11-18T11:06:40.000Z", "nowMs": START_MS, "manual": true})
    );
}

#[tokio::test]
async fn an_advance_finalizes_what_fell_due_before_it_answers() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, _) = server.division_with_code(&admin, "Sales", "Sale").await;
    let id = server
        .interaction(
            &admin,
            division,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;
    let raw = advance(&admin, json!({"ms": SETTLE_MS - 1})).await;
    assert_eq!(raw.status, 200);
    assert_eq!(json_of(&raw)["nowMs"], START_MS + SETTLE_MS - 1);
    assert!(!admin.get_interaction(id).await.unwrap().finalized);
    // Written with a fraction of zero, as JSON Schema allows an integer to be.
    let raw = advance(&admin, json!({"ms": 1.0})).await;
    assert_eq!(json_of(&raw)["nowMs"], START_MS + SETTLE_MS);
    // No waiting: finalized by the time the advance answered.
    assert!(admin.get_interaction(id).await.unwrap().finalized);
    assert_eq!(server.clock.now_ms(), START_MS + SETTLE_MS);
}

#[tokio::test]
async fn tokens_expire_when_the_clock_passes_their_lifetime() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let holder =
        Client::new(&server.url).with_token(&admin.fetch_token().await.unwrap().access_token);
    let list = || holder.raw(Method::GET, "/api/v2/authorization/divisions", &[], None);
    assert_eq!(list().await.unwrap().status, 200);
    let advancer = server.admin().await;
    assert_eq!(
        advance(&advancer, json!({"ms": 86_400_000})).await.status,
        200
    );
    let raw = list().await.unwrap();
    assert_eq!(raw.status, 401);
    assert_eq!(
        json_of(&raw)["code"],
        ErrorCode::AuthenticationExpired.as_str()
    );
}

#[tokio::test]
async fn only_forward_at_most_a_year_and_only_for_admins() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for (body, code, field) in [
        (json!({"ms": -1}), ErrorCode::RequestFieldInvalid, "ms"),
        (json!({"ms": 1.5}), ErrorCode::RequestFieldInvalid, "ms"),
        (
            json!({"ms": 31_622_400_001_u64}),
            ErrorCode::RequestFieldInvalid,
            "ms",
        ),
        (json!({}), ErrorCode::RequestFieldMissing, "ms"),
        (
            json!({"ms": 1, "to": 2}),
            ErrorCode::RequestFieldUnknown,
            "to",
        ),
    ] {
        let raw = advance(&admin, body.clone()).await;
        assert_eq!(raw.status, 400, "{body}");
        let answer = json_of(&raw);
        assert_eq!(answer["code"], code.as_str(), "{body}: {answer}");
        assert_eq!(answer["details"][0]["fieldName"], field, "{body}: {answer}");
    }
    let viewer = server.client("interaction:view", DivisionGrant::All).await;
    for raw in [
        advance(&viewer, json!({"ms": 1})).await,
        viewer
            .raw(Method::GET, "/api/v2/admin/clock", &[], None)
            .await
            .unwrap(),
    ] {
        assert_eq!(raw.status, 403);
    }
    // None of that moved the clock.
    assert_eq!(server.clock.now_ms(), START_MS);
}
