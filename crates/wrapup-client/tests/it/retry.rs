//! Retries against injected faults: 5xx, 429 with Retry-After, network errors; never
//! other 4xx, never an ambiguous POST.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::fake::{interaction_json, token, FakeServer, Reply};
use reqwest::{Method, StatusCode};
use uuid::Uuid;
use wrapup_client::{Client, Error, HttpTrace, RetryPolicy};
use wrapup_types::{Channel, ErrorCode};

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(5),
    }
}

fn client(server: &FakeServer) -> Client {
    Client::new(&server.url)
        .with_credentials("id", "secret")
        .with_retry(fast())
}

const INTERACTIONS: &str = "/api/v2/interactions";

#[tokio::test]
async fn service_unavailable_is_retried_even_for_a_post() {
    let id = Uuid::new_v4();
    let server = FakeServer::start(move |method, path, n| match (method, path) {
        ("POST", "/oauth/token") => token(),
        ("POST", INTERACTIONS) if n < 2 => Reply::error(503, "service.unavailable", None),
        ("POST", INTERACTIONS) => Reply::json(201, interaction_json(id, "queued", false)),
        _ => Reply::empty(500),
    })
    .await;
    let created = client(&server)
        .create_interaction(Uuid::nil(), Channel::Voice)
        .await
        .unwrap();
    assert_eq!(created.id, id);
    assert_eq!(server.count("POST", INTERACTIONS), 3);
}

#[tokio::test]
async fn an_ambiguous_failure_of_a_post_is_not_retried_but_of_a_get_is() {
    let id = Uuid::new_v4();
    let path = format!("{INTERACTIONS}/{id}");
    let get_path = path.clone();
    let server = FakeServer::start(move |method, p, n| match (method, p) {
        ("POST", "/oauth/token") => token(),
        ("POST", INTERACTIONS) => Reply::error(500, "internal.error", None),
        ("GET", p) if p == get_path && n < 3 => Reply::error(503, "request.timeout", None),
        ("GET", p) if p == get_path => Reply::json(200, interaction_json(id, "queued", false)),
        _ => Reply::empty(500),
    })
    .await;
    let client = client(&server);
    let err = client
        .create_interaction(Uuid::nil(), Channel::Voice)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InternalError));
    assert_eq!(
        server.count("POST", INTERACTIONS),
        1,
        "a POST may have taken effect"
    );
    assert_eq!(client.get_interaction(id).await.unwrap().id, id);
    assert_eq!(
        server.count("GET", &path),
        4,
        "three failures, then success"
    );
}

#[tokio::test]
async fn rate_limits_are_honoured_with_the_exact_retry_after() {
    let id = Uuid::new_v4();
    let server = FakeServer::start(move |method, path, n| match (method, path) {
        ("POST", "/oauth/token") => token(),
        ("GET", _) if n == 0 => {
            Reply::error(429, "request.rate.limited", Some(40)).header("retry-after", "1")
        }
        ("GET", _) => Reply::json(200, interaction_json(id, "queued", false)),
        _ => Reply::empty(500),
    })
    .await;
    let client = client(&server);
    client.bearer().await.unwrap();
    let started = Instant::now();
    client.get_interaction(id).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(40), "waited {waited:?}");
    assert!(
        waited < Duration::from_millis(1000),
        "used retryAfterMs, not the rounded header"
    );

    // Without a body, the header (seconds) counts; a wait beyond the policy's limit ends
    // the retries at once.
    let server = FakeServer::start(|method, path, _| match (method, path) {
        ("POST", "/oauth/token") => token(),
        _ => Reply::empty(429).header("retry-after", "3600"),
    })
    .await;
    let started = Instant::now();
    let err = client_of(&server).list_divisions().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(err, Error::Unexpected { status: 429, .. }),
        "{err:?}"
    );
    assert_eq!(server.count("GET", "/api/v2/authorization/divisions"), 1);
}

fn client_of(server: &FakeServer) -> Client {
    client(server)
}

#[tokio::test]
async fn other_client_errors_are_never_retried() {
    let id = Uuid::new_v4();
    let server = FakeServer::start(move |method, path, _| match (method, path) {
        ("POST", "/oauth/token") => token(),
        ("PUT", _) => Reply::error(400, "wrapup.duration.invalid", None),
        ("GET", _) => Reply::error(404, "interaction.not.found", None),
        _ => Reply::empty(500),
    })
    .await;
    let client = client(&server);
    let body = wrapup_types::WrapUpRequest {
        code_id: Uuid::new_v4(),
        duration_ms: 1,
        notes: None,
    };
    assert_eq!(
        client.put_wrapup(id, &body).await.unwrap_err().code(),
        Some(ErrorCode::WrapupDurationInvalid)
    );
    assert_eq!(
        client.get_interaction(id).await.unwrap_err().code(),
        Some(ErrorCode::InteractionNotFound)
    );
    assert_eq!(server.requests().len(), 3, "token, PUT, GET: one each");
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl HttpTrace for Recorder {
    fn request(
        &self,
        method: &Method,
        url: &str,
        headers: &reqwest::header::HeaderMap,
        _: Option<&[u8]>,
    ) {
        let auth = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push(format!("> {method} {url} [{auth}]"));
    }
    fn response(&self, status: StatusCode, _: &reqwest::header::HeaderMap, _: &[u8], _: Duration) {
        self.0
            .lock()
            .unwrap()
            .push(format!("< {}", status.as_u16()));
    }
    fn retry(&self, attempt: u32, _: Duration, reason: &str) {
        self.0
            .lock()
            .unwrap()
            .push(format!("retry {attempt}: {reason}"));
    }
}

#[tokio::test]
async fn network_errors_are_retried_then_reported() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let trace = Arc::new(Recorder::default());
    let client = Client::new(&url)
        .with_token("wu_x")
        .with_retry(fast())
        .with_trace(trace.clone());
    let err = client.get_interaction(Uuid::new_v4()).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_connectivity());
    let log = trace.0.lock().unwrap().clone();
    assert_eq!(log.iter().filter(|l| l.starts_with("> GET")).count(), 4);
    assert_eq!(log.iter().filter(|l| l.starts_with("retry")).count(), 3);
    assert!(
        log[0].ends_with("[Bearer ****]"),
        "the token is masked: {}",
        log[0]
    );
}

#[tokio::test]
async fn an_expired_token_is_renewed_once() {
    let id = Uuid::new_v4();
    let server = FakeServer::start(move |method, path, n| match (method, path) {
        ("POST", "/oauth/token") => token(),
        ("GET", _) if n == 0 => Reply::error(401, "authentication.expired", None),
        ("GET", _) => Reply::json(200, interaction_json(id, "queued", false)),
        _ => Reply::empty(500),
    })
    .await;
    let client = client(&server);
    client.get_interaction(id).await.unwrap();
    assert_eq!(
        server.count("POST", "/oauth/token"),
        2,
        "fetched again after the 401"
    );

    // An invalid token is not retried.
    let server = FakeServer::start(|method, path, _| match (method, path) {
        ("POST", "/oauth/token") => token(),
        _ => Reply::error(401, "authentication.invalid", None),
    })
    .await;
    let err = client_of(&server).list_divisions().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AuthenticationInvalid));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn the_token_endpoint_is_retried_when_unavailable() {
    let server = FakeServer::start(|method, path, n| match (method, path) {
        ("POST", "/oauth/token") if n == 0 => Reply::json(
            503,
            serde_json::json!({"error": "temporarily_unavailable", "error_description": "store down"}),
        ),
        ("POST", "/oauth/token") if n == 1 => Reply::empty(502),
        ("POST", "/oauth/token") => token(),
        _ => Reply::empty(500),
    })
    .await;
    assert_eq!(
        client(&server).bearer().await.unwrap().as_deref(),
        Some("wu_fake")
    );
    // Wrong credentials are final.
    let server = FakeServer::start(|_, _, _| {
        Reply::json(
            401,
            serde_json::json!({"error": "invalid_client", "error_description": "no"}),
        )
    })
    .await;
    let err = client(&server).bearer().await.unwrap_err();
    assert!(matches!(err, Error::OAuth { status: 401, .. }));
    assert_eq!(server.requests().len(), 1);
}
