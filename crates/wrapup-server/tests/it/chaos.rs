//! Fault injection: each fault does what it says, before the request is handled (nothing
//! changes) except after-commit-reset (the change is made, the answer is lost).

use reqwest::Method;
use wrapup_server::testkit::*;
use wrapup_server::ChaosSpec;
use wrapup_server::Config;
use wrapup_types::{DivisionGrant, ErrorCode, WrapUpRequest};

async fn set(client: &wrapup_client::Client, spec: &str) -> wrapup_client::RawResponse {
    client
        .raw(
            Method::PUT,
            "/api/v2/admin/chaos",
            &[("content-type", "application/json")],
            Some(serde_json::json!({ "spec": spec }).to_string().into_bytes()),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn each_fault_does_what_it_says() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, code) = server.division_with_code(&admin, "Sales", "Sale").await;
    let id = server.finalized(&admin, division).await;
    let body = WrapUpRequest {
        code_id: code,
        duration_ms: 1000,
        notes: None,
    };

    // 503: refused before anything happens.
    assert_eq!(set(&admin, "503=100%").await.status, 200);
    let err = admin.put_wrapup(id, &body).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ServiceUnavailable));
    assert!(err.to_string().contains("fault injection"), "{err}");

    // 429, with Retry-After.
    set(&admin, "429=100%").await;
    let raw = admin
        .raw(
            Method::GET,
            &format!("/api/v2/interactions/{id}"),
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!(raw.status, 429);
    assert_eq!(raw.headers["retry-after"], "1");
    assert_eq!(error_of(&raw).code, ErrorCode::RequestRateLimited);

    // reset: no answer at all.
    set(&admin, "reset=100%").await;
    let err = admin.put_wrapup(id, &body).await.unwrap_err();
    assert!(matches!(err, wrapup_client::Error::Transport(_)), "{err:?}");

    // None of those changed anything.
    set(&admin, "off").await;
    assert_eq!(admin.get_interaction(id).await.unwrap().wrap_up, None);

    // after-commit-reset: the answer is lost, the change is made.
    set(&admin, "after-commit-reset=100%").await;
    let err = admin.put_wrapup(id, &body).await.unwrap_err();
    assert!(matches!(err, wrapup_client::Error::Transport(_)), "{err:?}");
    set(&admin, "off").await;
    let interaction = admin.get_interaction(id).await.unwrap();
    assert_eq!(interaction.wrap_up.unwrap().code_id, code);
    // Sending the same wrap-up again is the safe recovery: a no-op success.
    admin.put_wrapup(id, &body).await.unwrap();
    assert_eq!(admin.wrapup_history(id).await.unwrap().len(), 1);

    let metrics = admin.metrics().await.unwrap();
    for fault in ["503", "429", "reset", "after-commit-reset"] {
        assert!(
            metrics.contains(&format!(
                "wrapup_chaos_injected_total{{fault=\"{fault}\"}} 1"
            )),
            "{fault}: {metrics}"
        );
    }
}

#[tokio::test]
async fn the_switch_itself_is_never_faulty_and_needs_admin() {
    let server = TestServer::builder()
        .config(Config {
            chaos: "503=100%".parse::<ChaosSpec>().unwrap(),
            ..Config::default()
        })
        .start()
        .await;
    let admin = server.admin().await;
    let raw = admin
        .raw(Method::GET, "/api/v2/admin/chaos", &[], None)
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&raw.body).unwrap()["spec"],
        "503=100%"
    );
    assert_eq!(
        admin.list_divisions().await.unwrap_err().code(),
        Some(ErrorCode::ServiceUnavailable)
    );
    let bad = set(&admin, "teapot=5%").await;
    assert_eq!(bad.status, 400);
    let body = error_of(&bad);
    assert_eq!(body.code, ErrorCode::RequestFieldInvalid);
    assert_eq!(body.details[0].field_name.as_deref(), Some("spec"));
    assert_eq!(set(&admin, "off").await.status, 200);
    admin.list_divisions().await.unwrap();

    let viewer = server.client("interaction:view", DivisionGrant::All).await;
    assert_eq!(set(&viewer, "off").await.status, 403);
}

#[tokio::test]
async fn delays_are_injected_before_handling() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    set(&admin, "delay=30ms..40ms").await;
    let started = std::time::Instant::now();
    admin.list_divisions().await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(30));
}
