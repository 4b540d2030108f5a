//! Failed authentication is bounded (docs/operations.md#failed-authentication): the token
//! endpoint's limits per client id and per source address, their answers (429,
//! `Retry-After`, the RFC 6749 body, the metric) and their recovery, on the manual clock.

use std::time::Duration;

use serde_json::Value;
use wrapup_server::testkit::{TestServer, SETTLE_MS};
use wrapup_server::Config;
use wrapup_server::FailureLimit;
use wrapup_types::DivisionGrant;

async fn server(per_client: &str, per_address: &str) -> TestServer {
    TestServer::builder()
        .config(Config {
            settle_ms: SETTLE_MS,
            auth_failures_per_client: per_client.parse::<FailureLimit>().unwrap(),
            auth_failures_per_address: per_address.parse::<FailureLimit>().unwrap(),
            // Refusals are answered at once here; `refusals_wait_a_second` tests the pause.
            refusal_delay: Duration::ZERO,
            ..Config::default()
        })
        .start()
        .await
}

/// A token request with these credentials: status, `Retry-After`, body.
async fn token(s: &TestServer, id: &str, secret: &str) -> (u16, Option<u64>, Value) {
    token_at(&s.url, id, secret).await
}

async fn token_at(url: &str, id: &str, secret: &str) -> (u16, Option<u64>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, retry_after, response.json().await.unwrap())
}

async fn metrics(s: &TestServer) -> String {
    reqwest::get(format!("{}/metrics", s.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn failures_per_client_id_are_limited_and_recover() {
    let s = server("3/min", "off").await;
    let (id, secret) = s.credentials("interaction:view", DivisionGrant::All).await;
    let id = id.to_string();
    for _ in 0..3 {
        let (status, _, body) = token(&s, &id, "wrong").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
    }
    // The fourth failure in the minute is not even checked: 429, with when to retry.
    let (status, retry_after, body) = token(&s, &id, "wrong").await;
    assert_eq!(status, 429);
    assert_eq!(retry_after, Some(20), "one failure every 20 s at 3/min");
    assert_eq!(body["error"], "temporarily_unavailable");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(
            "Too many failed authentications for this client id (the limit is 3/min failures)"
        ),
        "{description}"
    );
    assert_eq!(body.as_object().unwrap().len(), 2, "RFC 6749 §5.2: {body}");
    // The right secret, never verified on this server yet, is refused as well: the
    // limit is on checking secrets for this id.
    assert_eq!(token(&s, &id, &secret).await.0, 429);
    // Another client is not affected.
    let (other, other_secret) = s.credentials("interaction:view", DivisionGrant::All).await;
    assert_eq!(token(&s, &other.to_string(), &other_secret).await.0, 200);
    // Not a millisecond early…
    s.clock.advance(19_999);
    assert_eq!(token(&s, &id, &secret).await.0, 429);
    // …then the right secret gets its token, and successes do not count.
    s.clock.advance(1);
    for _ in 0..5 {
        assert_eq!(token(&s, &id, &secret).await.0, 200);
    }
    let m = metrics(&s).await;
    assert!(
        m.contains("wrapup_token_requests_limited_total{limit=\"client\"} 3"),
        "{m}"
    );
    assert!(
        m.contains("wrapup_token_authentication_failures_total 3"),
        "{m}"
    );
}

#[tokio::test]
async fn a_client_whose_id_is_attacked_keeps_getting_tokens() {
    let s = server("2/min", "off").await;
    let (id, secret) = s.credentials("interaction:view", DivisionGrant::All).await;
    let id = id.to_string();
    // The client authenticated before the attack: its secret is known to be right.
    assert_eq!(token(&s, &id, &secret).await.0, 200);
    for _ in 0..2 {
        assert_eq!(token(&s, &id, "guess").await.0, 401);
    }
    for _ in 0..10 {
        assert_eq!(token(&s, &id, "guess").await.0, 429);
        assert_eq!(token(&s, &id, &secret).await.0, 200);
    }
}

#[tokio::test]
async fn failures_per_address_are_limited_whatever_the_client_id() {
    let s = server("off", "2/min").await;
    for _ in 0..2 {
        let unknown = uuid::Uuid::new_v4().to_string();
        assert_eq!(token(&s, &unknown, "x").await.0, 401);
    }
    // Not a UUID: still a failed authentication from this address.
    let (status, retry_after, body) = token(&s, "not-a-client", "x").await;
    assert_eq!((status, retry_after), (429, Some(30)));
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains("for this address"), "{description}");
    s.clock.advance(30_000);
    assert_eq!(token(&s, "not-a-client", "x").await.0, 401);
    assert_eq!(token(&s, "not-a-client", "x").await.0, 429);
    let m = metrics(&s).await;
    assert!(
        m.contains("wrapup_token_requests_limited_total{limit=\"address\"} 2"),
        "{m}"
    );
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let s = server("off", "off").await;
    let (id, _) = s.credentials("interaction:view", DivisionGrant::All).await;
    for _ in 0..12 {
        assert_eq!(token(&s, &id.to_string(), "wrong").await.0, 401);
    }
}

/// A refusal made without checking the secret is answered only after the refusal delay (on
/// the server's clock): a flood retrying at once gets one answer a second per connection.
#[tokio::test]
async fn refusals_wait_a_second() {
    let s = TestServer::builder()
        .config(Config {
            settle_ms: SETTLE_MS,
            auth_failures_per_client: "1/min".parse().unwrap(),
            auth_failures_per_address: "off".parse().unwrap(),
            ..Config::default()
        })
        .start()
        .await;
    let (id, secret) = s.credentials("interaction:view", DivisionGrant::All).await;
    let id = id.to_string();
    // A failure that was checked (401) is answered at once.
    assert_eq!(token(&s, &id, "wrong").await.0, 401);
    let url = s.url.clone();
    let mut refused = tokio::spawn(async move { token_at(&url, &id, &secret).await });
    // Held while the server's clock has not moved a full second (the clock is manual: the
    // answer cannot come by itself, however long this waits).
    for advance in [0, 999] {
        s.clock.advance(advance);
        assert!(
            tokio::time::timeout(Duration::from_millis(100), &mut refused)
                .await
                .is_err(),
            "answered before the refusal delay"
        );
    }
    s.clock.advance(1);
    let (status, retry_after, _) = refused.await.unwrap();
    assert_eq!((status, retry_after), (429, Some(59)));
}
