//! Rate limits, metrics and the request inspector.

use reqwest::Method;
use wrapup_client::EventQuery;
use wrapup_server::testkit::*;
use wrapup_server::Config;
use wrapup_types::{DivisionGrant, ErrorCode, InspectedRequest, Page, TargetState};

fn header(raw: &wrapup_client::RawResponse, name: &str) -> Option<String> {
    raw.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

async fn get(c: &wrapup_client::Client) -> wrapup_client::RawResponse {
    c.raw(Method::GET, "/api/v2/authorization/divisions", &[], None)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_rate_limiter_answers_429_with_retry_after_then_recovers() {
    let server = TestServer::builder()
        .config(Config {
            rate_limit: Some("3/s".parse().unwrap()),
            ..Config::default()
        })
        .start()
        .await;
    let client = server.client("interaction:view", DivisionGrant::All).await;
    let other = server.client("interaction:view", DivisionGrant::All).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let raw = get(&client).await;
        assert_eq!(raw.status, 200);
        assert_eq!(header(&raw, "ratelimit-limit").as_deref(), Some("3"));
        remaining.push(header(&raw, "ratelimit-remaining").unwrap());
    }
    assert_eq!(remaining, ["2", "1", "0"]);

    let refused = get(&client).await;
    assert_eq!(refused.status, 429);
    assert_eq!(header(&refused, "retry-after").as_deref(), Some("1"));
    assert_eq!(
        header(&refused, "ratelimit-remaining").as_deref(),
        Some("0")
    );
    let body = error_of(&refused);
    assert_eq!(body.code, ErrorCode::RequestRateLimited);
    assert_eq!(body.status, 429);
    assert_eq!(body.details[0].retry_after_ms, Some(334));
    assert!(body.message.contains("3/s"), "{}", body.message);
    assert!(body.message.contains("retry in 1 s"), "{}", body.message);
    // The typed client sees the same.
    let err = client.list_divisions().await.unwrap_err();
    match err {
        wrapup_client::Error::Api {
            status,
            retry_after,
            ..
        } => {
            assert_eq!(status, 429);
            // The exact wait from the body's retryAfterMs (the header is whole seconds).
            assert_eq!(retry_after, Some(std::time::Duration::from_millis(334)));
        }
        other => panic!("{other:?}"),
    }

    // Another client has its own budget.
    assert_eq!(get(&other).await.status, 200);

    // Just before the next token, still refused; at it, allowed again.
    server.clock.advance(333);
    assert_eq!(get(&client).await.status, 429);
    server.clock.advance(1);
    assert_eq!(get(&client).await.status, 200);
    assert_eq!(get(&client).await.status, 429);
    // A full second refills the whole burst.
    server.clock.advance(1_000);
    for _ in 0..3 {
        assert_eq!(get(&client).await.status, 200);
    }

    let metrics = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("wrapup_rate_limited_requests_total 4"),
        "{metrics}"
    );
}

#[tokio::test]
async fn without_a_limit_no_rate_headers_are_sent() {
    let server = TestServer::start().await;
    let client = server.client("interaction:view", DivisionGrant::All).await;
    for _ in 0..20 {
        let raw = client
            .raw(Method::GET, "/api/v2/authorization/divisions", &[], None)
            .await
            .unwrap();
        assert_eq!(raw.status, 200);
        assert!(header(&raw, "ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn metrics_cover_requests_store_events_and_subscribers() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let id = server
        .interaction(&admin, division, &[TargetState::Active])
        .await;
    admin.get_interaction(id).await.unwrap();
    admin
        .get_interaction(uuid::Uuid::new_v4())
        .await
        .unwrap_err();
    let _stream = admin.events(&EventQuery::default()).await.unwrap();
    admin
        .raw(Method::GET, "/no/such/path", &[], None)
        .await
        .unwrap();

    let response = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    for expected in [
        r#"wrapup_http_requests_total{method="GET",route="/api/v2/interactions/{id}",status="200"} 1"#,
        r#"wrapup_http_requests_total{method="GET",route="/api/v2/interactions/{id}",status="404"} 1"#,
        r#"wrapup_http_requests_total{method="POST",route="/api/v2/interactions",status="201"} 1"#,
        r#"wrapup_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"wrapup_http_request_duration_seconds_count{method="GET",route="/api/v2/interactions/{id}"} 2"#,
        r#"wrapup_events_published_total{kind="interaction.created"} 1"#,
        r#"wrapup_events_published_total{kind="interaction.state"} 1"#,
        "wrapup_sse_subscribers 1",
        "# TYPE wrapup_store_commit_duration_seconds histogram",
        "# TYPE wrapup_store_commit_batch_jobs histogram",
        "# EOF",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    let commits: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("wrapup_store_commit_batch_jobs_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        commits >= 4.0,
        "division, client, interaction, state: {commits}"
    );
    drop(_stream);
}

async fn inspected(
    admin: &wrapup_client::Client,
    query: &str,
) -> (reqwest::StatusCode, Vec<InspectedRequest>) {
    let raw = admin
        .raw(
            Method::GET,
            &format!("/api/v2/inspector/requests{query}"),
            &[],
            None,
        )
        .await
        .unwrap();
    if !raw.status.is_success() {
        return (raw.status, Vec::new());
    }
    let page: Page<InspectedRequest> = serde_json::from_slice(&raw.body).unwrap();
    (raw.status, page.entities)
}

#[tokio::test]
async fn the_inspector_shows_raw_requests_with_secrets_redacted() {
    let server = TestServer::start().await;
    let (id, secret) = server
        .credentials(
            "interaction:view interaction:write interaction:manage admin",
            DivisionGrant::All,
        )
        .await;
    let admin = wrapup_client::Client::new(&server.url).with_credentials(&id.to_string(), &secret);
    let division = server.division(&server.admin().await, "Sales").await;
    let interaction = server.finalized(&admin, division).await;
    let body =
        br#"{"wrapUpCode": {"id": "7c1f9a2e-0000-4000-8000-000000000000"}, "durationMs": 1000}"#;
    let bad = admin
        .raw(
            Method::PUT,
            &format!("/api/v2/interactions/{interaction}/wrap-up"),
            &[
                ("content-type", "application/json"),
                ("x-request-id", "debug-me-1"),
            ],
            Some(body.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(bad.status, 400);

    let (status, entries) = inspected(&admin, "?status=4xx").await;
    assert_eq!(status, 200);
    let entry = entries
        .iter()
        .find(|e| e.request_id == "debug-me-1")
        .expect("the bad PUT is recorded");
    assert_eq!(entry.method, "PUT");
    assert_eq!(
        entry.path,
        format!("/api/v2/interactions/{interaction}/wrap-up")
    );
    assert_eq!(entry.status, 400);
    assert_eq!(entry.client_id, Some(id));
    assert_eq!(
        entry.request_body.as_deref().map(str::as_bytes),
        Some(&body[..])
    );
    assert_eq!(entry.request_body_bytes, body.len() as u64);
    assert!(!entry.request_body_truncated);
    let response = entry.response_body.as_ref().unwrap();
    assert_eq!(response["code"], "request.field.unknown");
    assert_eq!(response["contextId"], "debug-me-1");
    let auth = entry
        .request_headers
        .iter()
        .find(|h| h.name == "authorization")
        .unwrap();
    assert_eq!(auth.value, "Bearer [redacted]");

    // The token request is recorded with the secret redacted, in headers and form.
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let raw = wrapup_client::Client::new(&server.url)
        .raw(
            Method::POST,
            "/oauth/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(form.into_bytes()),
        )
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    let (_, entries) = inspected(&admin, "?path=/oauth/token").await;
    let token_request = &entries[0];
    let recorded = token_request.request_body.as_deref().unwrap();
    assert!(
        recorded.contains("client_secret=%5Bredacted%5D"),
        "{recorded}"
    );
    let everything = serde_json::to_string(&inspected(&admin, "?limit=1000").await.1).unwrap();
    assert!(!everything.contains(&secret), "the secret never appears");
    let token = admin.bearer().await.unwrap().unwrap();
    assert!(!everything.contains(&token), "the token never appears");

    // Filters: status class, exact status, path prefix, limit; newest first.
    let (_, ok) = inspected(&admin, "?status=2xx").await;
    assert!(!ok.is_empty() && ok.iter().all(|e| e.status / 100 == 2));
    let (_, exact) = inspected(&admin, "?status=400").await;
    assert!(exact.iter().all(|e| e.status == 400) && !exact.is_empty());
    let (_, one) = inspected(&admin, "?limit=1").await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].path, "/oauth/token", "newest first");
    let (_, interactions) = inspected(&admin, "?path=/api/v2/interactions").await;
    assert!(interactions
        .iter()
        .all(|e| e.path.starts_with("/api/v2/interactions")));
    assert!(
        inspected(&admin, "?limit=1000")
            .await
            .1
            .iter()
            .all(|e| !e.path.starts_with("/api/v2/inspector")),
        "the inspector does not record itself"
    );
    for bad in [
        "?limit=0",
        "?limit=1001",
        "?status=6xx",
        "?status=abc",
        "?foo=1",
    ] {
        let raw = admin
            .raw(
                Method::GET,
                &format!("/api/v2/inspector/requests{bad}"),
                &[],
                None,
            )
            .await
            .unwrap();
        assert_eq!(raw.status, 400, "{bad}");
        assert_eq!(error_of(&raw).code, ErrorCode::RequestQueryInvalid);
    }
    // Only admins may look.
    let viewer = server.client("interaction:view", DivisionGrant::All).await;
    let raw = viewer
        .raw(Method::GET, "/api/v2/inspector/requests", &[], None)
        .await
        .unwrap();
    assert_eq!(raw.status, 403);
    assert!(error_of(&raw).message.contains("admin"));
}

#[tokio::test]
async fn the_inspector_is_a_bounded_ring_and_cuts_large_bodies() {
    let server = TestServer::builder()
        .config(Config {
            inspector_capacity: 3,
            ..Config::default()
        })
        .start()
        .await;
    let admin = server.admin().await;
    let big = vec![b'x'; 40 * 1024];
    for i in 0..5 {
        admin
            .raw(
                Method::POST,
                "/api/v2/authorization/divisions",
                &[
                    ("content-type", "application/json"),
                    ("x-request-id", &format!("r{i}")),
                ],
                Some(big.clone()),
            )
            .await
            .unwrap();
    }
    let (_, entries) = inspected(&admin, "").await;
    let ids: Vec<_> = entries.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(ids, ["r4", "r3", "r2"]);
    let entry = &entries[0];
    assert_eq!(entry.status, 400);
    assert!(entry.request_body_truncated);
    assert_eq!(entry.request_body.as_ref().unwrap().len(), 16 * 1024);
    assert_eq!(entry.request_body_bytes, 40 * 1024);
}

/// `GET /api/v2` needs no token and lists every operation of the OpenAPI document.
#[tokio::test]
async fn the_index_lists_every_operation() {
    let server = TestServer::start().await;
    let anonymous = wrapup_client::Client::new(&server.url);
    let raw = anonymous
        .raw(Method::GET, "/api/v2", &[], None)
        .await
        .unwrap();
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    let index: wrapup_types::ApiIndex = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(index.openapi, "/api/v2/openapi.json");
    let doc = anonymous.openapi().await.unwrap();
    let mut served = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            served += 1;
            let method = method.to_uppercase();
            assert!(
                index
                    .operations
                    .iter()
                    .any(|o| o.method == method && &o.path == path && !o.summary.is_empty()),
                "{method} {path} is not in the index"
            );
        }
    }
    assert_eq!(index.operations.len(), served);
    assert!(index
        .operations
        .iter()
        .any(|o| o.method == "PUT" && o.path == "/api/v2/interactions/{id}/wrap-up"));
}
