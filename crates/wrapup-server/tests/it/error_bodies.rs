//! Error bodies are part of the product: the full body of every error code, message and hint
//! included, is pinned by a snapshot (`tests/it/snapshots/it__error_bodies__<code>.snap`). Only the
//! `contextId` is replaced (after checking it is the request's `X-Request-Id`); time is the
//! test's `ManualClock` and every id is fixed (the demo organisation), so nothing else varies.
//!
//! A changed message or hint fails here: review the new snapshot (`cargo insta review`, or
//! `INSTA_UPDATE=always` and `git diff`) before accepting it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::{uuid, Uuid};
use wrapup_client::{Client, RawResponse, RetryPolicy};
use wrapup_server::demo::{self, *};
use wrapup_server::testkit::*;
use wrapup_server::{App, Clock, Config, ManualClock, SystemClock};
use wrapup_store::*;
use wrapup_types::*;

/// An id nothing has.
const UNKNOWN: Uuid = uuid!("00000000-0000-4000-8000-00000000dead");
/// A Sales interaction closed at the start of the test, not finalized yet.
const CLOSING: Uuid = uuid!("00000000-0000-4000-8000-0000000000e9");
/// Reading this interaction panics (in the failing store).
const PANICS: Uuid = uuid!("00000000-0000-4000-8000-00000000bad0");
/// A webhook endpoint (disabled, so nothing is sent to it).
const WEBHOOK: Uuid = uuid!("00000000-0000-4000-8000-0000000000f1");

/// Who sends a request.
#[derive(Clone, Copy, Debug)]
enum Caller {
    /// No `Authorization` header.
    Anonymous,
    /// A bearer token the server never issued.
    UnknownToken,
    /// The demo client: every scope, every division.
    Demo,
    /// The demo viewer: `interaction:view wrapup-code:view`, Sales only.
    Viewer,
    /// This `Authorization` header, as a script may send it by mistake.
    Header(&'static str),
}

/// What a script's `sed` leaves in `$TOKEN` when the token request failed (a mistyped
/// secret): the body of `POST /oauth/token`'s error answer.
const OAUTH_ERROR_AS_TOKEN: &str =
    r#"Bearer {"error":"invalid_client","error_description":"Unknown client or wrong secret."}"#;

/// One request that answers with `code`.
struct Case {
    /// The snapshot's name: the code, plus a qualifier when a code has two renderings.
    name: String,
    code: ErrorCode,
    status: u16,
    caller: Caller,
    method: Method,
    path: String,
    content_type: &'static str,
    body: Option<Vec<u8>>,
}

fn case(code: ErrorCode, caller: Caller, method: Method, path: impl Into<String>) -> Case {
    Case {
        name: code.as_str().to_string(),
        code,
        status: code.status(),
        caller,
        method,
        path: path.into(),
        content_type: "application/json",
        body: None,
    }
}

impl Case {
    fn json(mut self, body: Value) -> Case {
        self.body = Some(body.to_string().into_bytes());
        self
    }

    fn raw_body(mut self, content_type: &'static str, body: impl Into<Vec<u8>>) -> Case {
        self.content_type = content_type;
        self.body = Some(body.into());
        self
    }

    fn named(mut self, qualifier: &str, status: u16) -> Case {
        self.name = format!("{}-{qualifier}", self.code);
        self.status = status;
        self
    }
}

fn wrapup_path(id: Uuid) -> String {
    format!("/api/v2/interactions/{id}/wrap-up")
}

/// Every code the demo organisation can be made to answer on one server.
fn cases() -> Vec<Case> {
    use Caller::*;
    use ErrorCode::*;
    let put = |code, interaction: Uuid| case(code, Demo, Method::PUT, wrapup_path(interaction));
    let valid = |code: Uuid| json!({"codeId": code, "durationMs": 120_000});
    let closed = wrapup_domain::genesys::ConversationIds::of(INTERACTION_CLOSED);
    let genesys_wrapup = format!(
        "/api/v2/conversations/messages/{INTERACTION_CLOSED}/participants/{}/communications/{}/wrapup",
        closed.agent, closed.agent_communication
    );
    vec![
        case(
            AuthenticationRequired,
            Anonymous,
            Method::GET,
            "/api/v2/interactions",
        ),
        case(
            AuthenticationInvalid,
            UnknownToken,
            Method::GET,
            "/api/v2/interactions",
        ),
        // Not a token this server issues: what the token request answered instead, a token
        // of another kind, an empty variable.
        case(
            AuthenticationInvalid,
            Header(OAUTH_ERROR_AS_TOKEN),
            Method::GET,
            "/api/v2/interactions",
        )
        .named("an-oauth-error-answer", 401),
        case(
            AuthenticationInvalid,
            Header("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl"),
            Method::GET,
            "/api/v2/interactions",
        )
        .named("not-a-wrapup-token", 401),
        case(
            AuthenticationInvalid,
            Header("Bearer null"),
            Method::GET,
            "/api/v2/interactions",
        )
        .named("null", 401),
        case(
            AuthenticationRequired,
            Header("Bearer "),
            Method::GET,
            "/api/v2/interactions",
        )
        .named("empty-token", 401),
        case(
            AuthorizationMissingScope,
            Viewer,
            Method::PUT,
            wrapup_path(INTERACTION_CLOSED),
        )
        .json(valid(CODE_SALE)),
        case(
            InteractionNotFound,
            Demo,
            Method::GET,
            format!("/api/v2/interactions/{UNKNOWN}"),
        ),
        put(RequestMediaUnsupported, INTERACTION_CLOSED).raw_body("text/plain", "codeId=x"),
        put(RequestBodyTooLarge, INTERACTION_CLOSED).json(json!({
            "codeId": CODE_SALE, "durationMs": 1000, "notes": "x".repeat(70_000)
        })),
        put(RequestBodyMalformed, INTERACTION_CLOSED)
            .raw_body("application/json", "{\n  \"codeId\": \n}"),
        put(RequestFieldUnknown, INTERACTION_CLOSED)
            .json(json!({"wrapUpCode": {"id": CODE_SALE}, "durationMs": 120_000})),
        put(WrapupCodeMissing, INTERACTION_CLOSED).json(json!({"durationMs": 120_000})),
        put(WrapupCodeInvalid, INTERACTION_CLOSED).json(json!({"codeId": "7", "durationMs": 1000})),
        // A code's name where its id goes: the hint gives the id of that code of the
        // interaction's division.
        put(WrapupCodeInvalid, INTERACTION_CLOSED)
            .json(json!({"codeId": "sale", "durationMs": 1000}))
            .named("a-code-name", 400),
        // Without hyphens: invalid, and not also looked up (it names a Support code).
        put(WrapupCodeInvalid, INTERACTION_CLOSED)
            .json(json!({"codeId": CODE_RESOLVED.simple().to_string(), "durationMs": 1000}))
            .named("without-hyphens", 400),
        put(WrapupDurationMissing, INTERACTION_CLOSED).json(json!({"codeId": CODE_SALE})),
        put(WrapupDurationInvalid, INTERACTION_CLOSED)
            .json(json!({"codeId": CODE_SALE, "durationMs": 0})),
        put(WrapupNotesInvalid, INTERACTION_CLOSED).json(json!({
            "codeId": CODE_SALE, "durationMs": 1000, "notes": "n".repeat(1025)
        })),
        put(RequestFieldNull, INTERACTION_CLOSED)
            .json(json!({"codeId": CODE_SALE, "durationMs": 1000, "notes": null})),
        put(InteractionNotClosed, INTERACTION_ACTIVE).json(valid(CODE_SALE)),
        put(InteractionNotFinalized, CLOSING).json(valid(CODE_SALE)),
        put(WrapupCodeNotFound, INTERACTION_CLOSED).json(valid(UNKNOWN)),
        case(
            WrapupCodeNotFound,
            Demo,
            Method::GET,
            format!("/api/v2/routing/wrapupcodes/{UNKNOWN}"),
        )
        .named("on-its-path", 404),
        put(WrapupCodeDivisionMismatch, INTERACTION_CLOSED).json(valid(CODE_RESOLVED)),
        put(WrapupCodeArchived, INTERACTION_CLOSED).json(valid(CODE_LEGACY)),
        case(
            WrapupCodeNameConflict,
            Demo,
            Method::POST,
            "/api/v2/routing/wrapupcodes",
        )
        .json(json!({"name": " SALE ", "divisionId": SALES})),
        case(
            WrapupNotFound,
            Demo,
            Method::GET,
            wrapup_path(INTERACTION_CLOSED),
        ),
        case(
            InteractionTransitionInvalid,
            Demo,
            Method::POST,
            format!("/api/v2/interactions/{INTERACTION_ACTIVE}/state"),
        )
        .json(json!({"state": "active"})),
        case(
            InteractionTransitionInvalid,
            Demo,
            Method::POST,
            format!("/api/v2/interactions/{INTERACTION_CLOSED}/state"),
        )
        .json(json!({"state": "active"}))
        .named("from-closed", 409),
        case(
            InteractionTransitionInvalid,
            Demo,
            Method::POST,
            format!("/api/v2/interactions/{INTERACTION_COMPLETED}/state"),
        )
        .json(json!({"state": "closed"}))
        .named("from-completed", 409),
        case(
            RequestFieldMissing,
            Demo,
            Method::POST,
            "/api/v2/interactions",
        )
        .json(json!({"channel": "voice"})),
        case(
            RequestFieldInvalid,
            Demo,
            Method::POST,
            format!("/api/v2/interactions/{INTERACTION_QUEUED}/state"),
        )
        .json(json!({"state": "done"})),
        case(
            RequestQueryInvalid,
            Demo,
            Method::GET,
            "/api/v2/interactions?pageSize=0",
        ),
        case(DivisionNotFound, Demo, Method::POST, "/api/v2/interactions")
            .json(json!({"divisionId": UNKNOWN, "channel": "voice"})),
        case(
            DivisionNameConflict,
            Demo,
            Method::POST,
            "/api/v2/authorization/divisions",
        )
        .json(json!({"name": "sales"})),
        case(
            RequestMethodUnsupported,
            Demo,
            Method::DELETE,
            "/api/v2/interactions",
        ),
        case(
            RequestPathUnknown,
            Demo,
            Method::GET,
            "/api/v2/nothing/here",
        ),
        case(
            WebhookNotFound,
            Demo,
            Method::GET,
            format!("/api/v2/webhooks/{UNKNOWN}"),
        ),
        case(WebhookUrlInvalid, Demo, Method::POST, "/api/v2/webhooks")
            .json(json!({"url": "ftp://crm.example.com/hooks"})),
        case(WebhookUrlRefused, Demo, Method::POST, "/api/v2/webhooks")
            .json(json!({"url": "http://127.0.0.1:8000/hooks"})),
        case(
            WebhookEventNotFound,
            Demo,
            Method::POST,
            format!("/api/v2/webhooks/{WEBHOOK}/events/999999/resend"),
        ),
        case(
            InspectorRequestNotFound,
            Demo,
            Method::GET,
            "/api/v2/inspector/requests/not-a-recent-request/diagnosis",
        ),
        // A client whose base URL ended with /api/v2; a typo. (The root is the console.)
        case(
            RequestPathUnknown,
            Demo,
            Method::GET,
            format!("/api/v2/api/v2/interactions/{INTERACTION_CLOSED}"),
        )
        .named("prefix-twice", 404),
        case(RequestPathUnknown, Demo, Method::GET, "/api/v2/interaction").named("near-miss", 404),
        // The Genesys dialect (docs/genesys.md#errors): its own codes, and a few shared ones
        // as it renders them.
        case(
            ParticipantNotFound,
            Demo,
            Method::GET,
            format!("/api/v2/conversations/{INTERACTION_CLOSED}/participants/{UNKNOWN}/wrapup"),
        ),
        case(
            CommunicationNotFound,
            Demo,
            Method::GET,
            format!(
                "/api/v2/conversations/messages/{INTERACTION_CLOSED}/participants/{}/communications/{UNKNOWN}/wrapup",
                closed.agent
            ),
        ),
        case(
            ParticipantNotAgent,
            Demo,
            Method::POST,
            format!(
                "/api/v2/conversations/messages/{INTERACTION_CLOSED}/participants/{}/communications/{}/wrapup",
                closed.customer, closed.customer_communication
            ),
        )
        .json(json!({"code": CODE_SALE})),
        case(
            ConversationMediaMismatch,
            Demo,
            Method::GET,
            format!("/api/v2/conversations/calls/{INTERACTION_CLOSED}"),
        ),
        case(
            RequestFieldUnsupported,
            Demo,
            Method::PATCH,
            format!("/api/v2/conversations/{INTERACTION_CLOSED}/participants/{}", closed.agent),
        )
        .json(json!({"wrapup": {"code": CODE_SALE}, "wrapupSkipped": true})),
        case(WrapupCodeDivisionMismatch, Demo, Method::POST, genesys_wrapup.clone())
            .json(json!({"code": CODE_RESOLVED}))
            .named("genesys", 400),
        case(AuthorizationMissingScope, Viewer, Method::POST, genesys_wrapup.clone())
            .json(json!({"code": CODE_SALE}))
            .named("genesys", 403),
        case(WrapupCodeInvalid, Demo, Method::POST, genesys_wrapup.clone())
            .json(json!({"code": "Sale"}))
            .named("genesys-a-code-name", 400),
        case(RequestBodyMalformed, Demo, Method::POST, genesys_wrapup)
            .raw_body("application/json", "")
            .named("genesys-empty-body", 400),
        case(
            QueueNotFound,
            Demo,
            Method::GET,
            format!("/api/v2/routing/queues/{UNKNOWN}"),
        ),
        case(QueueNameConflict, Demo, Method::POST, "/api/v2/routing/queues")
            .json(json!({"name": "sales TIMEOUT", "division": {"id": SALES}})),
        case(UserNotFound, Demo, Method::GET, format!("/api/v2/users/{UNKNOWN}")),
        put(WrapupCodeNotInQueue, INTERACTION_QUEUE_MANDATORY).json(valid(CODE_CALLBACK)),
        case(
            WrapupSkipNotAllowed,
            Demo,
            Method::POST,
            format!("/api/v2/interactions/{INTERACTION_QUEUE_MANDATORY}/wrap-up/skip"),
        ),
        case(
            NotificationChannelNotFound,
            Demo,
            Method::GET,
            "/api/v2/notifications/channels/streaming-0-nope/subscriptions",
        ),
        case(
            NotificationSocketUpgradeRequired,
            Anonymous,
            Method::GET,
            "/api/v2/notifications/channels/streaming-0-nope/socket",
        ),
    ]
}

/// The codes that need a server of their own (another clock, configuration or store),
/// each pinned by its own test below.
const OWN_SERVER: &[ErrorCode] = &[
    ErrorCode::AuthenticationExpired,
    ErrorCode::RequestRateLimited,
    ErrorCode::RequestTimeout,
    ErrorCode::InternalError,
    ErrorCode::ServiceUnavailable,
    ErrorCode::ClockNotManual,
    ErrorCode::NotificationTopicRejected,
    ErrorCode::NotificationTopicsTooMany,
];

fn demo_client(url: &str, id: Uuid, secret: &str) -> Client {
    Client::new(url)
        .with_credentials(&id.to_string(), secret)
        .with_retry(RetryPolicy::none())
}

/// A server with the demo organisation (ids and secrets fixed), plus [`CLOSING`].
async fn demo_server(config: Config) -> TestServer {
    let server = TestServer::builder()
        .config(Config {
            settle_ms: SETTLE_MS,
            ..config
        })
        .start()
        .await;
    let now = server.clock.now_ms();
    demo::seed(server.store.as_ref(), now).await.unwrap();
    server
        .store
        .create_interaction(&NewInteraction {
            id: CLOSING,
            division_id: SALES,
            channel: Channel::Voice,
            now_ms: now,
            queue_id: None,
            agent_id: None,
        })
        .await
        .unwrap();
    for state in [InteractionState::Active, InteractionState::Closed] {
        server
            .store
            .set_state(CLOSING, state, now, SETTLE_MS)
            .await
            .unwrap();
    }
    let webhook = wrapup_store::webhooks::WebhookRecord {
        id: WEBHOOK,
        seq: 0,
        url: "https://crm.example.com/hooks".into(),
        description: None,
        event_types: EventKind::ALL.to_vec(),
        divisions: DivisionGrant::All,
        enabled: false,
        disabled_reason: Some("created disabled".into()),
        disabled_ms: Some(now),
        failing_since_ms: None,
        secret_generation: 1,
        previous_secret_expires_ms: None,
        created_by: DEMO_CLIENT_ID,
        created_ms: now,
        updated_ms: now,
        cursor: 0,
    };
    server
        .store
        .webhooks()
        .create_webhook(&webhook)
        .await
        .unwrap();
    server
}

/// The error body of `raw`, checked against what the case expects, with its `contextId`
/// (checked to be the request's id) replaced by a placeholder.
fn pinned_body(raw: &RawResponse, code: ErrorCode, status: u16) -> Value {
    assert_eq!(
        raw.status.as_u16(),
        status,
        "{code}: {}",
        String::from_utf8_lossy(&raw.body)
    );
    let mut body: Value = serde_json::from_slice(&raw.body).expect("a JSON body");
    assert_eq!(body["code"], code.as_str(), "{body}");
    assert_eq!(body["status"], status, "{body}");
    let request_id = raw.headers["x-request-id"].to_str().unwrap();
    assert_eq!(body["contextId"], request_id, "contextId is the request id");
    body["contextId"] = json!("[contextId]");
    body
}

async fn send(client: &Client, case: &Case) -> RawResponse {
    let mut headers = vec![("content-type", case.content_type)];
    if let Caller::Header(authorization) = case.caller {
        headers.push(("authorization", authorization));
    }
    client
        .raw(case.method.clone(), &case.path, &headers, case.body.clone())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_error_body() {
    let server = demo_server(Config::default()).await;
    let demo = demo_client(&server.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    let viewer = demo_client(&server.url, VIEWER_CLIENT_ID, VIEWER_CLIENT_SECRET);
    let anonymous = Client::new(&server.url).with_retry(RetryPolicy::none());
    let unknown_token = Client::new(&server.url)
        .with_retry(RetryPolicy::none())
        .with_token("wu_not-a-token-of-this-server");
    for case in cases() {
        let client = match case.caller {
            Caller::Anonymous | Caller::Header(_) => &anonymous,
            Caller::UnknownToken => &unknown_token,
            Caller::Demo => &demo,
            Caller::Viewer => &viewer,
        };
        let raw = send(client, &case).await;
        let body = pinned_body(&raw, case.code, case.status);
        insta::assert_json_snapshot!(case.name.clone(), body);
    }
    // None of those changed anything: the demo interaction still waits for its wrap-up.
    let closed = demo.get_interaction(INTERACTION_CLOSED).await.unwrap();
    assert_eq!((closed.version, closed.wrap_up), (4, None));
}

#[tokio::test]
async fn authentication_expired() {
    let server = demo_server(Config::default()).await;
    let demo = demo_client(&server.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    let token = demo.fetch_token().await.unwrap().access_token;
    server.clock.advance(86_400_000);
    let holder = Client::new(&server.url).with_token(&token);
    let raw = holder
        .raw(Method::GET, "/api/v2/interactions", &[], None)
        .await
        .unwrap();
    let code = ErrorCode::AuthenticationExpired;
    insta::assert_json_snapshot!(code.as_str(), pinned_body(&raw, code, 401));
}

#[tokio::test]
async fn request_rate_limited() {
    let server = demo_server(Config {
        rate_limit: Some("3/s".parse().unwrap()),
        ..Config::default()
    })
    .await;
    let demo = demo_client(&server.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    let list = || demo.raw(Method::GET, "/api/v2/authorization/divisions", &[], None);
    for _ in 0..3 {
        assert_eq!(list().await.unwrap().status, 200);
    }
    let raw = list().await.unwrap();
    assert_eq!(raw.headers["retry-after"], "1");
    let code = ErrorCode::RequestRateLimited;
    insta::assert_json_snapshot!(code.as_str(), pinned_body(&raw, code, 429));
}

#[tokio::test]
async fn request_timeout() {
    // A delay injected before the request is handled outlasts the time limit.
    let server = demo_server(Config {
        request_timeout: Duration::from_secs(1),
        chaos: "delay=10s".parse().unwrap(),
        ..Config::default()
    })
    .await;
    let demo = demo_client(&server.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    let raw = demo
        .raw(Method::GET, "/api/v2/interactions", &[], None)
        .await
        .unwrap();
    let code = ErrorCode::RequestTimeout;
    insta::assert_json_snapshot!(code.as_str(), pinned_body(&raw, code, 503));
}

#[tokio::test]
async fn faults_injected_by_chaos() {
    for (spec, code, status) in [
        ("503=100%", ErrorCode::ServiceUnavailable, 503),
        ("429=100%", ErrorCode::RequestRateLimited, 429),
    ] {
        let server = demo_server(Config {
            chaos: spec.parse().unwrap(),
            ..Config::default()
        })
        .await;
        let demo = demo_client(&server.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
        let raw = demo
            .raw(Method::GET, "/api/v2/interactions", &[], None)
            .await
            .unwrap();
        let name = format!("{code}-injected-by-chaos");
        insta::assert_json_snapshot!(name, pinned_body(&raw, code, status));
    }
}

#[tokio::test]
async fn store_failures() {
    let server = demo_server(Config::default()).await;
    let failing: Arc<dyn Store> = Arc::new(FailingStore(server.store.clone()));
    let app = App::start(
        failing,
        Arc::new(ManualClock::new(START_MS)),
        Config::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let demo = demo_client(&url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    for (path, code, status) in [
        (
            format!("/api/v2/interactions/{PANICS}"),
            ErrorCode::InternalError,
            500,
        ),
        (
            "/api/v2/interactions".to_string(),
            ErrorCode::ServiceUnavailable,
            503,
        ),
    ] {
        let raw = demo.raw(Method::GET, &path, &[], None).await.unwrap();
        insta::assert_json_snapshot!(code.as_str(), pinned_body(&raw, code, status));
    }
}

/// A subscription to a channel (whose id is random, so made here): a rejected topic, and
/// more topics than a channel may have.
#[tokio::test]
async fn notification_subscription_errors() {
    let server = demo_server(Config {
        notifications: wrapup_server::NotificationConfig {
            max_topics: 1,
            ..Default::default()
        },
        ..Config::default()
    })
    .await;
    let viewer = demo_client(&server.url, VIEWER_CLIENT_ID, VIEWER_CLIENT_SECRET);
    let headers = [("content-type", "application/json")];
    let raw = viewer
        .raw(
            Method::POST,
            "/api/v2/notifications/channels",
            &headers,
            None,
        )
        .await
        .unwrap();
    let channel: Value = serde_json::from_slice(&raw.body).unwrap();
    let path = format!(
        "/api/v2/notifications/channels/{}/subscriptions",
        channel["id"].as_str().unwrap()
    );
    let topics = |ids: &[Uuid]| {
        let topics: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": format!("v2.detail.events.conversation.{id}.acw")}))
            .collect();
        Some(Value::Array(topics).to_string().into_bytes())
    };
    let raw = viewer
        .raw(Method::POST, &path, &headers, topics(&[UNKNOWN]))
        .await
        .unwrap();
    let code = ErrorCode::NotificationTopicRejected;
    insta::assert_json_snapshot!(code.as_str(), pinned_body(&raw, code, 400));
    let raw = viewer
        .raw(
            Method::POST,
            &path,
            &headers,
            topics(&[INTERACTION_CLOSED, CLOSING]),
        )
        .await
        .unwrap();
    let code = ErrorCode::NotificationTopicsTooMany;
    insta::assert_json_snapshot!(code.as_str(), pinned_body(&raw, code, 400));
}

/// Advancing the clock of a server on the real clock (the test server's is manual).
#[tokio::test]
async fn clock_not_manual() {
    let server = demo_server(Config::default()).await;
    let app = App::start(
        server.store.clone(),
        Arc::new(SystemClock),
        Config::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let demo = demo_client(&url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    let before = SystemClock.now_ms();
    let raw = demo
        .raw(
            Method::POST,
            "/api/v2/admin/clock/advance",
            &[("content-type", "application/json")],
            Some(br#"{"ms": 3600000}"#.to_vec()),
        )
        .await
        .unwrap();
    let code = ErrorCode::ClockNotManual;
    insta::assert_json_snapshot!(code.as_str(), pinned_body(&raw, code, 409));
    // The real clock did not move: the time read now is the real time, not an hour on.
    let read = demo
        .raw(Method::GET, "/api/v2/admin/clock", &[], None)
        .await
        .unwrap();
    let reading: Value = serde_json::from_slice(&read.body).unwrap();
    assert_eq!(reading["manual"], false, "{reading}");
    let now = reading["nowMs"].as_i64().unwrap();
    assert!(
        now >= before && now < before + 600_000,
        "{now} is not the real time (~{before})"
    );
}

/// `POST /oauth/token` answers in RFC 6749's format: its bodies are pinned too, in one
/// snapshot.
#[tokio::test]
async fn token_endpoint_error_bodies() {
    let server = demo_server(Config::default()).await;
    let url = format!("{}/oauth/token", server.url);
    let http = reqwest::Client::new();
    let form = "application/x-www-form-urlencoded";
    let demo_id = DEMO_CLIENT_ID.to_string();
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "wrong secret",
            http.post(&url)
                .basic_auth(&demo_id, Some("wrong"))
                .form(&[("grant_type", "client_credentials")]),
        ),
        (
            "no credentials",
            http.post(&url)
                .form(&[("grant_type", "client_credentials")]),
        ),
        (
            "not a form",
            http.post(&url)
                .header("content-type", "application/json")
                .body("{}"),
        ),
        (
            "no grant type",
            http.post(&url)
                .basic_auth(&demo_id, Some(DEMO_CLIENT_SECRET))
                .header("content-type", form)
                .body("scope=admin"),
        ),
        (
            "another grant type",
            http.post(&url)
                .basic_auth(&demo_id, Some(DEMO_CLIENT_SECRET))
                .form(&[("grant_type", "password")]),
        ),
        (
            "a scope the client lacks",
            http.post(&url)
                .basic_auth(VIEWER_CLIENT_ID.to_string(), Some(VIEWER_CLIENT_SECRET))
                .form(&[("grant_type", "client_credentials"), ("scope", "admin")]),
        ),
        (
            "an unknown scope",
            http.post(&url)
                .basic_auth(&demo_id, Some(DEMO_CLIENT_SECRET))
                .form(&[("grant_type", "client_credentials"), ("scope", "root")]),
        ),
    ];
    let mut answers = Vec::new();
    for (what, request) in cases {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let cache_control = response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_string();
        let body: Value = response.json().await.unwrap();
        answers.push(
            json!({"case": what, "status": status, "cacheControl": cache_control, "body": body}),
        );
    }
    insta::assert_json_snapshot!("oauth-token-errors", answers);
}

/// Every code has a snapshot, made by one of the tests above: a new code without one fails
/// here (and `OWN_SERVER` or `cases()` says which test makes it).
#[test]
fn every_error_code_has_a_snapshot() {
    let covered: Vec<ErrorCode> = cases()
        .iter()
        .map(|c| c.code)
        .chain(OWN_SERVER.iter().copied())
        .collect();
    let snapshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    for code in ErrorCode::ALL {
        assert!(covered.contains(code), "no case answers {code}");
        let file = snapshots.join(format!("it__error_bodies__{code}.snap"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{code} has no snapshot ({}): {e}", file.display()));
        assert!(
            text.contains(&format!("\"code\": \"{code}\"")),
            "{} is not the body of {code}",
            file.display()
        );
    }
}

/// A store whose `list_interactions` fails like a lost database, and whose
/// `get_interaction` panics for [`PANICS`]; everything else is the real store.
struct FailingStore(Arc<dyn Store>);

#[async_trait]
impl Store for FailingStore {
    fn writer(&self) -> &wrapup_store::Writer {
        self.0.writer()
    }
    async fn health(&self) -> wrapup_store::Result<()> {
        self.0.health().await
    }
    async fn create_division(&self, id: Uuid, n: &str, t: i64) -> wrapup_store::Result<Division> {
        self.0.create_division(id, n, t).await
    }
    async fn get_division(&self, id: Uuid) -> wrapup_store::Result<Option<Division>> {
        self.0.get_division(id).await
    }
    async fn list_divisions(
        &self,
        g: &DivisionGrant,
        p: PageRequest,
    ) -> wrapup_store::Result<Vec<(i64, Division)>> {
        self.0.list_divisions(g, p).await
    }
    async fn create_code(&self, c: &WrapUpCode) -> wrapup_store::Result<CodeRecord> {
        self.0.create_code(c).await
    }
    async fn get_code(&self, id: Uuid) -> wrapup_store::Result<Option<CodeRecord>> {
        self.0.get_code(id).await
    }
    async fn list_codes(
        &self,
        g: &DivisionGrant,
        f: &CodeFilter,
        p: PageRequest,
    ) -> wrapup_store::Result<Vec<CodeRecord>> {
        self.0.list_codes(g, f, p).await
    }
    async fn search_divisions(
        &self,
        g: &DivisionGrant,
        s: &Search,
    ) -> wrapup_store::Result<Found<Division>> {
        self.0.search_divisions(g, s).await
    }
    async fn search_codes(
        &self,
        g: &DivisionGrant,
        s: &CodeSearch,
    ) -> wrapup_store::Result<Found<CodeRecord>> {
        self.0.search_codes(g, s).await
    }
    async fn update_code(
        &self,
        id: Uuid,
        n: &str,
        d: Option<&str>,
        t: i64,
    ) -> wrapup_store::Result<CodeRecord> {
        self.0.update_code(id, n, d, t).await
    }
    async fn archive_code(&self, id: Uuid, t: i64) -> wrapup_store::Result<CodeRecord> {
        self.0.archive_code(id, t).await
    }
    async fn create_interaction(
        &self,
        n: &NewInteraction,
    ) -> wrapup_store::Result<InteractionRecord> {
        self.0.create_interaction(n).await
    }
    async fn get_interaction(&self, id: Uuid) -> wrapup_store::Result<Option<InteractionRecord>> {
        assert_ne!(id, PANICS, "a bug");
        self.0.get_interaction(id).await
    }
    async fn list_interactions(
        &self,
        _: &DivisionGrant,
        _: &InteractionFilter,
        _: PageRequest,
    ) -> wrapup_store::Result<Vec<InteractionRecord>> {
        Err(StoreError::Database("disk I/O error".into()))
    }
    async fn count_interactions(&self, g: &DivisionGrant) -> wrapup_store::Result<Vec<StateCount>> {
        self.0.count_interactions(g).await
    }
    async fn set_state(
        &self,
        id: Uuid,
        s: InteractionState,
        t: i64,
        settle: i64,
    ) -> wrapup_store::Result<InteractionRecord> {
        self.0.set_state(id, s, t, settle).await
    }
    async fn apply_wrapup(&self, c: &ApplyWrapUp) -> wrapup_store::Result<WrapUpApplied> {
        self.0.apply_wrapup(c).await
    }
    async fn apply_wrapups(
        &self,
        c: Vec<ApplyWrapUp>,
    ) -> wrapup_store::Result<Vec<wrapup_store::Result<WrapUpApplied>>> {
        self.0.apply_wrapups(c).await
    }
    async fn wrapup_problems(
        &self,
        i: &InteractionRecord,
        c: Option<Uuid>,
        g: &DivisionGrant,
        t: i64,
    ) -> wrapup_store::Result<Vec<ErrorDetail>> {
        self.0.wrapup_problems(i, c, g, t).await
    }
    async fn wrapup_history(&self, id: Uuid) -> wrapup_store::Result<Vec<WrapUp>> {
        self.0.wrapup_history(id).await
    }
    async fn finalize_due(&self, t: i64) -> wrapup_store::Result<Vec<InteractionRecord>> {
        self.0.finalize_due(t).await
    }
    async fn next_finalize_due(&self) -> wrapup_store::Result<Option<i64>> {
        self.0.next_finalize_due().await
    }
    async fn next_timeout_due(&self) -> wrapup_store::Result<Option<i64>> {
        self.0.next_timeout_due().await
    }
    async fn get_queue(&self, id: Uuid) -> wrapup_store::Result<Option<QueueRecord>> {
        self.0.get_queue(id).await
    }
    async fn search_queues(
        &self,
        grant: &DivisionGrant,
        search: &QueueSearch,
    ) -> wrapup_store::Result<Found<QueueRecord>> {
        self.0.search_queues(grant, search).await
    }
    async fn get_user(&self, id: Uuid) -> wrapup_store::Result<Option<UserRecord>> {
        self.0.get_user(id).await
    }
    async fn search_users(
        &self,
        grant: &DivisionGrant,
        search: &Search,
    ) -> wrapup_store::Result<Found<UserRecord>> {
        self.0.search_users(grant, search).await
    }
    async fn create_client(&self, c: &ClientRecord) -> wrapup_store::Result<()> {
        self.0.create_client(c).await
    }
    async fn get_client(&self, id: Uuid) -> wrapup_store::Result<Option<ClientRecord>> {
        self.0.get_client(id).await
    }
    async fn insert_token(&self, t: &TokenRecord) -> wrapup_store::Result<()> {
        self.0.insert_token(t).await
    }
    async fn get_token(&self, h: &[u8; 32]) -> wrapup_store::Result<Option<TokenRecord>> {
        self.0.get_token(h).await
    }
    async fn events_after(&self, s: i64, l: u32) -> wrapup_store::Result<Vec<EventRecord>> {
        self.0.events_after(s, l).await
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<EventRecord>> {
        self.0.subscribe()
    }
    async fn event_bounds(&self) -> wrapup_store::Result<EventBounds> {
        self.0.event_bounds().await
    }
    async fn prune_events(&self, t: i64) -> wrapup_store::Result<u64> {
        self.0.prune_events(t).await
    }
    fn set_observer(&self, _: Arc<dyn StoreObserver>) {}
    async fn seed_finalized(&self, d: Uuid, ids: Vec<Uuid>, t: i64) -> wrapup_store::Result<u64> {
        self.0.seed_finalized(d, ids, t).await
    }
    async fn get_meta(&self, k: &str) -> wrapup_store::Result<Option<String>> {
        self.0.get_meta(k).await
    }
    async fn set_meta(&self, k: &str, v: &str) -> wrapup_store::Result<()> {
        self.0.set_meta(k, v).await
    }
    fn webhooks(&self) -> &dyn WebhookStore {
        self.0.webhooks()
    }
    fn notifications(&self) -> &dyn wrapup_store::NotificationStore {
        self.0.notifications()
    }
}
