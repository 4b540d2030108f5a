//! Webhooks end to end (docs/webhooks.md): a real server, a scriptable receiver on
//! 127.0.0.1, and the manual clock driving retries (no sleeps). Deliveries are signed per
//! Standard Webhooks; an interaction's events arrive in order, a failed one holding back the
//! next; 500s, timeouts and refused connections are retried; `Retry-After` is honoured;
//! `410 Gone` and the last failed attempt are final; divisions filter; private targets are
//! refused; rotation signs with both secrets; resend, replay and test deliveries go through
//! the same queue; the inspector shows no secret.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;
use wrapup_client::{Client, DeliveryQuery, Error};
use wrapup_server::testkit::receiver::{Received, Reply, WebhookReceiver};
use wrapup_server::testkit::*;
use wrapup_server::{Clock, Config};
use wrapup_server::{RetrySchedule, TargetPolicy, WebhookConfig};
use wrapup_store::webhooks::WebhookRecord;
use wrapup_types::*;

fn config(targets: TargetPolicy, retry: &str) -> Config {
    Config {
        settle_ms: SETTLE_MS,
        webhooks: WebhookConfig {
            targets,
            retry: retry.parse::<RetrySchedule>().unwrap(),
            timeout: Duration::from_millis(500),
            ..WebhookConfig::default()
        },
        ..Config::default()
    }
}

async fn server(retry: &str) -> TestServer {
    TestServer::builder()
        .config(config(TargetPolicy::AllowPrivate, retry))
        .start()
        .await
}

/// Waits until the endpoint's log holds `n` attempts; returns them, oldest first.
async fn attempts(admin: &Client, id: Uuid, n: usize) -> Vec<WebhookAttempt> {
    let query = DeliveryQuery {
        page_size: Some(500),
        ..Default::default()
    };
    attempts_listed(admin, id, &query, n).await
}

/// Waits until `query` lists `n` attempts of the endpoint (an attempt is recorded by the
/// worker's pass after it was sent, so a receiver can hold a delivery whose record is not in
/// the log yet); returns them, oldest first.
async fn attempts_listed(
    admin: &Client,
    id: Uuid,
    query: &DeliveryQuery,
    n: usize,
) -> Vec<WebhookAttempt> {
    eventually(
        &format!("{n} attempts in the log"),
        Duration::from_secs(10),
        || async {
            let page = admin.webhook_deliveries(id, query).await.unwrap();
            (page.entities.len() >= n).then(|| page.entities.into_iter().rev().collect())
        },
    )
    .await
}

async fn create(admin: &Client, url: &str) -> CreatedWebhook {
    admin
        .create_webhook(&CreateWebhook {
            url: url.into(),
            event_types: None,
            divisions: None,
            description: Some("tests".into()),
            enabled: None,
        })
        .await
        .unwrap()
}

fn now_s(server: &TestServer) -> i64 {
    server.clock.now_ms() / 1000
}

#[tokio::test]
async fn deliveries_are_signed_per_standard_webhooks() {
    let server = server("5s").await;
    let receiver = WebhookReceiver::start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let hook = create(&admin, &receiver.url).await;
    assert!(hook.secret.starts_with("whsec_"));
    assert_eq!(hook.webhook.event_types, EventKind::ALL.to_vec());
    assert_eq!(hook.webhook.divisions, DivisionGrant::All);
    let id = server
        .interaction(&admin, division, &[TargetState::Active])
        .await;
    let got = receiver.wait_for(2).await;
    for r in &got {
        assert!(r.verifies_with(&hook.secret, now_s(&server)), "{r:?}");
        assert_eq!(
            r.id,
            format!("msg_{}_{}", hook.webhook.id.simple(), r.sequence().unwrap())
        );
        assert_eq!(r.timestamp, now_s(&server).to_string());
        assert!(r.signature.starts_with("v1,") && !r.signature.contains(' '));
        assert_eq!(r.payload["data"]["id"], id.to_string());
    }
    assert_eq!(
        got.iter().map(Received::event_type).collect::<Vec<_>>(),
        ["interaction.created", "interaction.state"]
    );
    let log = attempts(&admin, hook.webhook.id, 2).await;
    assert!(log
        .iter()
        .all(|a| a.result == AttemptResult::Delivered && a.response_status == Some(200)));
    assert_eq!(
        log[0].response_body.as_deref(),
        Some("answered by the test receiver")
    );
    // Another secret does not verify it; the endpoint as read shows no secret.
    let other = wrapup_domain::webhook_signature::SigningKey::from_bytes(vec![1; 32]).to_secret();
    assert!(!got[0].verifies_with(&other, now_s(&server)));
    let read = serde_json::to_string(&admin.get_webhook(hook.webhook.id).await.unwrap()).unwrap();
    assert!(
        !read.contains(&hook.secret) && !read.contains("whsec_"),
        "{read}"
    );
    let metrics = admin.metrics().await.unwrap();
    assert!(
        metrics.contains("wrapup_webhook_deliveries_total{result=\"delivered\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("wrapup_webhook_queue_depth{"), "{metrics}");
}

#[tokio::test]
async fn an_interactions_later_events_wait_for_its_earlier_ones() {
    let server = server("5s").await;
    let receiver = WebhookReceiver::start().await;
    // The first attempt at every `interaction.created` fails.
    receiver.script(|r| {
        if r.event_type() == "interaction.created" && r.repeat == 0 {
            Reply::Status(500)
        } else {
            Reply::Status(200)
        }
    });
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let hook = create(&admin, &receiver.url).await;
    let id = server
        .interaction(
            &admin,
            division,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;
    // Only the failed first event went: the state changes wait for its retry.
    let log = attempts(&admin, hook.webhook.id, 1).await;
    assert_eq!(
        (log[0].result, log[0].response_status),
        (AttemptResult::Retrying, Some(500))
    );
    assert_eq!(receiver.received().len(), 1);
    let retry_at = log[0].next_attempt_at.unwrap();
    let wait_ms = timestamp::to_millis(retry_at) - server.clock.now_ms();
    assert!(
        (5_000..=5_500).contains(&wait_ms),
        "5 s and jitter: {wait_ms}"
    );
    server.clock.advance(wait_ms);
    let got = receiver.wait_for(4).await;
    let kinds: Vec<(&str, usize)> = got.iter().map(|r| (r.event_type(), r.repeat)).collect();
    assert_eq!(
        kinds,
        [
            ("interaction.created", 0),
            ("interaction.created", 1),
            ("interaction.state", 0),
            ("interaction.state", 0)
        ]
    );
    assert!(got
        .iter()
        .all(|r| r.payload["data"]["id"] == id.to_string()));
    let versions: Vec<i64> = got[1..]
        .iter()
        .map(|r| r.payload["data"]["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3], "in order");
}

#[tokio::test]
async fn failures_are_retried_and_the_last_one_fails_the_event() {
    let server = server("5s,1m").await;
    let receiver = WebhookReceiver::start().await;
    receiver.script(|r| match r.repeat {
        0 => Reply::Status(500),
        1 => Reply::Hang,
        _ => Reply::Status(503),
    });
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let hook = create(&admin, &receiver.url).await;
    server.interaction(&admin, division, &[]).await;
    let first = attempts(&admin, hook.webhook.id, 1).await;
    assert_eq!(first[0].error.as_deref(), Some("the endpoint answered 500"));
    server.clock.advance(5_500);
    let second = attempts(&admin, hook.webhook.id, 2).await;
    assert_eq!((second[1].attempt, second[1].response_status), (2, None));
    assert!(
        second[1]
            .error
            .as_deref()
            .unwrap()
            .contains("no answer within"),
        "{:?}",
        second[1]
    );
    assert_eq!(second[1].result, AttemptResult::Retrying);
    server.clock.advance(66_000);
    let third = attempts(&admin, hook.webhook.id, 3).await;
    assert_eq!(
        (third[2].attempt, third[2].result, third[2].next_attempt_at),
        (3, AttemptResult::Failed, None)
    );
    // The endpoint itself stays enabled (it has not failed for a day).
    let w = admin.get_webhook(hook.webhook.id).await.unwrap();
    assert!(w.enabled && w.failing_since.is_some());
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    let server = server("5s").await;
    // A port nothing listens on (bound, then closed).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let hook = create(&admin, &format!("http://{closed}/hooks")).await;
    server.interaction(&admin, division, &[]).await;
    let log = attempts(&admin, hook.webhook.id, 1).await;
    assert_eq!(
        (log[0].result, log[0].response_status),
        (AttemptResult::Retrying, None)
    );
    assert!(
        log[0]
            .error
            .as_deref()
            .unwrap()
            .to_lowercase()
            .contains("refused"),
        "{:?}",
        log[0]
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = server("5s").await;
    let receiver = WebhookReceiver::start().await;
    receiver.script(|r| {
        if r.repeat == 0 {
            Reply::RetryAfter(429, 120)
        } else {
            Reply::Status(200)
        }
    });
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let hook = create(&admin, &receiver.url).await;
    server.interaction(&admin, division, &[]).await;
    let log = attempts(&admin, hook.webhook.id, 1).await;
    let wait = timestamp::to_millis(log[0].next_attempt_at.unwrap()) - server.clock.now_ms();
    assert_eq!(wait, 120_000, "Retry-After, not the schedule's 5 s");
    server.clock.advance(120_000);
    assert_eq!(receiver.wait_for(2).await[1].repeat, 1);
}

#[tokio::test]
async fn gone_disables_the_endpoint_with_the_reason() {
    let server = server("5s").await;
    let receiver = WebhookReceiver::start().await;
    receiver.script(|_| Reply::Status(410));
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let hook = create(&admin, &receiver.url).await;
    server
        .interaction(&admin, division, &[TargetState::Active])
        .await;
    let log = attempts(&admin, hook.webhook.id, 1).await;
    assert_eq!(log[0].result, AttemptResult::Failed);
    let w = admin.get_webhook(hook.webhook.id).await.unwrap();
    assert!(!w.enabled);
    assert!(
        w.disabled_reason.as_deref().unwrap().contains("410 Gone"),
        "{w:?}"
    );
    assert!(w.disabled_at.is_some());
    // Re-enabled: the second event, still pending, goes.
    receiver.script(|_| Reply::Status(200));
    let on = admin
        .update_webhook(
            hook.webhook.id,
            &UpdateWebhook {
                enabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(on.enabled && on.disabled_reason.is_none());
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].event_type(), "interaction.state");
}

#[tokio::test]
async fn a_day_of_failures_disables_the_endpoint() {
    let server = server(&["2h"; 20].join(",")).await;
    let receiver = WebhookReceiver::start().await;
    receiver.script(|_| Reply::Status(500));
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let hook = create(&admin, &receiver.url).await;
    server.interaction(&admin, division, &[]).await;
    for n in 1..=25 {
        let log = attempts(&admin, hook.webhook.id, n).await;
        if !admin.get_webhook(hook.webhook.id).await.unwrap().enabled {
            // Disabled by the first attempt a day or more after the first failure.
            let since_first = |a: &WebhookAttempt| {
                timestamp::to_millis(a.attempted_at) - timestamp::to_millis(log[0].attempted_at)
            };
            assert!(since_first(&log[n - 1]) >= 86_400_000, "{:?}", log[n - 1]);
            assert!(since_first(&log[n - 2]) < 86_400_000, "{:?}", log[n - 2]);
            break;
        }
        let next = timestamp::to_millis(log[n - 1].next_attempt_at.expect("retrying"));
        server.clock.advance(next - server.clock.now_ms());
    }
    let w = admin.get_webhook(hook.webhook.id).await.unwrap();
    assert!(!w.enabled);
    assert!(w
        .disabled_reason
        .unwrap()
        .contains("every delivery attempt has failed since"));
}

#[tokio::test]
async fn endpoints_receive_only_their_divisions_and_types() {
    let server = server("5s").await;
    let receiver = WebhookReceiver::start().await;
    let admin = server.admin().await;
    let (sales, support) = (
        server.division(&admin, "Sales").await,
        server.division(&admin, "Support").await,
    );
    let sales_only = server
        .client(
            "webhook:manage interaction:manage",
            DivisionGrant::Only(vec![sales]),
        )
        .await;
    // Without divisions, the endpoint gets the creator's grant; others are refused.
    let hook = sales_only
        .create_webhook(&CreateWebhook {
            url: receiver.url.clone(),
            event_types: Some(vec![EventKind::State, EventKind::Created]),
            divisions: None,
            description: None,
            enabled: None,
        })
        .await
        .unwrap();
    assert_eq!(hook.webhook.divisions, DivisionGrant::Only(vec![sales]));
    assert_eq!(
        hook.webhook.event_types,
        [EventKind::Created, EventKind::State]
    );
    for divisions in [DivisionGrant::Only(vec![support]), DivisionGrant::All] {
        let refused = sales_only
            .create_webhook(&CreateWebhook {
                url: receiver.url.clone(),
                event_types: None,
                divisions: Some(divisions),
                description: None,
                enabled: None,
            })
            .await
            .unwrap_err();
        let Error::Api { body, .. } = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(
            body.details[0].field_name.as_deref(),
            Some("divisions"),
            "{body:?}"
        );
    }
    // An endpoint of all divisions is not visible to the Sales-only token.
    let all = create(&admin, &receiver.url).await;
    let Error::Api { status, body, .. } = sales_only.get_webhook(all.webhook.id).await.unwrap_err()
    else {
        panic!()
    };
    assert_eq!((status, body.code), (404, ErrorCode::WebhookNotFound));
    let listed = sales_only.list_webhooks(None, None).await.unwrap();
    assert_eq!(
        listed.entities.iter().map(|w| w.id).collect::<Vec<_>>(),
        [hook.webhook.id]
    );
    admin.delete_webhook(all.webhook.id).await.unwrap();

    let in_support = server
        .interaction(&admin, support, &[TargetState::Active])
        .await;
    let in_sales = server
        .interaction(&admin, sales, &[TargetState::Active, TargetState::Closed])
        .await;
    server.clock.advance(SETTLE_MS);
    server.finalize_now().await;
    let got = receiver.wait_for(3).await;
    assert!(
        got.iter()
            .all(|r| r.payload["data"]["id"] == in_sales.to_string()),
        "never {in_support}"
    );
    let kinds: Vec<&str> = got.iter().map(Received::event_type).collect();
    assert_eq!(
        kinds,
        [
            "interaction.created",
            "interaction.state",
            "interaction.state"
        ],
        "no finalized"
    );
}

#[tokio::test]
async fn private_targets_are_refused_when_stored_and_when_sent() {
    let server = TestServer::builder()
        .config(config(TargetPolicy::PublicOnly, "5s"))
        .start()
        .await;
    let receiver = WebhookReceiver::start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    for url in [
        receiver.url.clone(),
        "http://localhost:1/".into(),
        "http://[::1]/".into(),
        "http://169.254.169.254/".into(),
    ] {
        let refused = admin
            .create_webhook(&CreateWebhook {
                url: url.clone(),
                event_types: None,
                divisions: None,
                description: None,
                enabled: None,
            })
            .await
            .unwrap_err();
        let Error::Api { body, .. } = refused else {
            panic!()
        };
        assert_eq!(body.code, ErrorCode::WebhookUrlRefused, "{url}: {body:?}");
    }
    // Stored while allowed (or when a name resolved elsewhere), refused at send time: the
    // address is checked as resolved, then connected to.
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut ids = Vec::new();
    for url in [
        receiver.url.clone(),
        format!("http://localhost:{port}/hooks"),
    ] {
        let record = WebhookRecord {
            id: Uuid::new_v4(),
            seq: 0,
            url,
            description: None,
            event_types: EventKind::ALL.to_vec(),
            divisions: DivisionGrant::All,
            enabled: true,
            disabled_reason: None,
            disabled_ms: None,
            failing_since_ms: None,
            secret_generation: 1,
            previous_secret_expires_ms: None,
            created_by: Uuid::nil(),
            created_ms: server.clock.now_ms(),
            updated_ms: server.clock.now_ms(),
            cursor: server.store.event_bounds().await.unwrap().latest,
        };
        ids.push(
            server
                .store
                .webhooks()
                .create_webhook(&record)
                .await
                .unwrap()
                .id,
        );
    }
    server.interaction(&admin, division, &[]).await;
    for id in ids {
        let log = attempts(&admin, id, 1).await;
        let error = log[0].error.as_deref().unwrap();
        assert!(
            error.contains("refused") && error.contains("loopback"),
            "{error}"
        );
        assert_eq!(log[0].result, AttemptResult::Retrying);
    }
    assert!(
        receiver.received().is_empty(),
        "nothing reached the loopback receiver"
    );
    let metrics = admin.metrics().await.unwrap();
    assert!(
        metrics.contains("wrapup_webhook_deliveries_total{result=\"refused\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_previous_one_until_it_expires() {
    let server = server("5s").await;
    let receiver = WebhookReceiver::start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let hook = create(&admin, &receiver.url).await;
    let rotated = admin
        .rotate_webhook_secret(hook.webhook.id, Some(3600))
        .await
        .unwrap();
    assert_ne!(rotated.secret, hook.secret);
    let expires = rotated.previous_secret_expires_at.unwrap();
    assert_eq!(
        timestamp::to_millis(expires),
        server.clock.now_ms() + 3_600_000
    );
    server.interaction(&admin, division, &[]).await;
    let during = receiver.wait_for(1).await.remove(0);
    assert_eq!(during.signature.split(' ').count(), 2);
    assert!(during.verifies_with(&hook.secret, now_s(&server)));
    assert!(during.verifies_with(&rotated.secret, now_s(&server)));
    server.clock.advance(3_600_000);
    server.interaction(&admin, division, &[]).await;
    let after = receiver.wait_for(2).await.remove(1);
    assert_eq!(after.signature.split(' ').count(), 1);
    assert!(after.verifies_with(&rotated.secret, now_s(&server)));
    assert!(!after.verifies_with(&hook.secret, now_s(&server)));
    let Error::Api { body, .. } = admin
        .rotate_webhook_secret(hook.webhook.id, Some(8 * 86_400))
        .await
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(body.code, ErrorCode::RequestQueryInvalid);
}

#[tokio::test]
async fn resend_replay_and_test_deliveries() {
    let server = server("5s").await;
    let receiver = WebhookReceiver::start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let hook = create(&admin, &receiver.url).await;
    let id = hook.webhook.id;
    server
        .interaction(
            &admin,
            division,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;
    let first = receiver.wait_for(3).await;
    let seqs: Vec<i64> = first.iter().map(|r| r.sequence().unwrap()).collect();

    let resent = admin.resend_webhook_event(id, seqs[1]).await.unwrap();
    assert_eq!(resent.message_id, first[1].id);
    let again = receiver.wait_for(4).await.remove(3);
    assert_eq!(
        (again.id.as_str(), again.repeat, again.body.as_slice()),
        (first[1].id.as_str(), 1, first[1].body.as_slice())
    );

    let replay = admin
        .replay_webhook(
            id,
            &ReplayWebhook {
                from_sequence: Some(seqs[1]),
                since: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (replay.from_sequence, replay.through_sequence),
        (seqs[1], seqs[2])
    );
    let replayed = receiver.wait_for(6).await;
    assert_eq!(
        replayed[4..]
            .iter()
            .map(|r| r.sequence().unwrap())
            .collect::<Vec<_>>(),
        [seqs[1], seqs[2]]
    );
    let by_time = admin
        .replay_webhook(
            id,
            &ReplayWebhook {
                from_sequence: None,
                since: Some(timestamp::from_millis(server.clock.now_ms())),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        by_time.from_sequence, seqs[0],
        "every event occurred at the test's start"
    );
    receiver.wait_for(9).await;

    let test = admin.test_webhook(id).await.unwrap();
    let got = receiver.wait_for(10).await.remove(9);
    assert_eq!(
        (got.id.as_str(), got.event_type(), got.sequence()),
        (test.message_id.as_str(), "webhook.test", None)
    );
    assert!(got.verifies_with(&hook.secret, now_s(&server)));
    assert_eq!(got.payload["data"]["webhookId"], id.to_string());

    let second_event = DeliveryQuery {
        sequence: Some(seqs[1]),
        ..Default::default()
    };
    let one = attempts_listed(&admin, id, &second_event, 4).await;
    assert_eq!(one.len(), 4, "first, resent, replayed twice");
    let Error::Api { body, .. } = admin.resend_webhook_event(id, 999_999).await.unwrap_err() else {
        panic!()
    };
    assert_eq!(body.code, ErrorCode::WebhookEventNotFound);
    let Error::Api { body, .. } = admin
        .replay_webhook(
            id,
            &ReplayWebhook {
                from_sequence: Some(1),
                since: Some(timestamp::from_millis(0)),
            },
        )
        .await
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(body.code, ErrorCode::RequestFieldInvalid);
}

#[tokio::test]
async fn endpoints_are_managed_with_webhook_manage_or_admin_and_the_inspector_shows_no_secret() {
    let server = server("5s").await;
    let receiver = WebhookReceiver::start().await;
    let manager = server.client("webhook:manage", DivisionGrant::All).await;
    let viewer = server.client("interaction:view", DivisionGrant::All).await;
    let hook = create(&manager, &receiver.url).await;
    let Error::Api { status, body, .. } = viewer.get_webhook(hook.webhook.id).await.unwrap_err()
    else {
        panic!()
    };
    assert_eq!(
        (status, body.code),
        (403, ErrorCode::AuthorizationMissingScope)
    );
    assert!(body.message.contains("webhook:manage"), "{}", body.message);

    let updated = manager
        .update_webhook(
            hook.webhook.id,
            &UpdateWebhook {
                description: Some(String::new()),
                event_types: Some(vec![EventKind::WrapUp]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.description, updated.event_types),
        (None, vec![EventKind::WrapUp])
    );
    let Error::Api { body, .. } = manager
        .update_webhook(
            hook.webhook.id,
            &UpdateWebhook {
                url: Some("ftp://example.com".into()),
                event_types: Some(vec![]),
                ..Default::default()
            },
        )
        .await
        .unwrap_err()
    else {
        panic!()
    };
    let codes: Vec<ErrorCode> = body.details.iter().map(|d| d.error_code).collect();
    assert_eq!(
        codes,
        [ErrorCode::WebhookUrlInvalid, ErrorCode::RequestFieldInvalid]
    );
    let rotated = manager
        .rotate_webhook_secret(hook.webhook.id, None)
        .await
        .unwrap();

    let admin = server.admin().await;
    let inspected = serde_json::to_string(
        &admin
            .inspected_requests(Some(100), None, Some("/api/v2/webhooks"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(inspected.contains("Bearer [redacted]"), "{inspected}");
    for secret in [&hook.secret, &rotated.secret] {
        assert!(!inspected.contains(secret.as_str()));
    }
    assert!(!inspected.contains("whsec_"), "{inspected}");

    manager.delete_webhook(hook.webhook.id).await.unwrap();
    let Error::Api { status, .. } = manager.delete_webhook(hook.webhook.id).await.unwrap_err()
    else {
        panic!()
    };
    assert_eq!(status, 404);
    let raw = manager
        .raw(Method::GET, "/api/v2/webhooks/not-a-uuid", &[], None)
        .await
        .unwrap();
    assert_eq!(error_of(&raw).code, ErrorCode::WebhookNotFound);
    let raw = manager
        .raw(
            Method::POST,
            "/api/v2/webhooks",
            &[("content-type", "application/json")],
            Some(
                json!({"url": "https://x.example.com", "secret": "mine"})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(error_of(&raw).code, ErrorCode::RequestFieldUnknown);
}
