//! Webhook deliveries survive a crash: `wrapup serve` is SIGKILLed while deliveries are
//! pending (some of them in flight, their receiver not answering), then restarted on the
//! same database; every event committed before the kill reaches the receiver, verified, in
//! order per interaction. And `wrapup webhooks listen` registers itself, verifies and
//! prints a delivery.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common;

use crate::common::Server;
use wrapup_server::testkit::receiver::{Received, Reply, WebhookReceiver};
use wrapup_server::testkit::{describe, eventually};
use wrapup_store::testing::TestDb;
use wrapup_types::{Channel, CreateWebhook, TargetState};

/// Retries every 500 ms, 20 times: deliveries stay pending across the restart.
const FLAGS: &[&str] = &[
    "--settle-ms",
    "0",
    "--webhooks-allow-private",
    "--webhooks-timeout",
    "1s",
    "--webhooks-retry-schedule",
    "500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms",
];

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Waits (at most `limit`) until `done` holds for what the receiver got.
async fn until(
    receiver: &WebhookReceiver,
    limit: Duration,
    what: &str,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    let waited_for = describe(|| format!("{what}; got {} deliveries", receiver.received().len()));
    eventually(waited_for, limit, || async {
        let got = receiver.received();
        done(&got).then_some(got)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_pending_at_a_crash_are_all_made_after_a_restart() {
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    let receiver = WebhookReceiver::start().await;
    receiver.script(|_| Reply::Hang);
    let mut server = Server::start(&db.url, FLAGS);
    let client = common::api_client(&server.url, &creds);
    let division = client.create_division("Sales").await.unwrap().id;
    let hook = client
        .create_webhook(&CreateWebhook {
            url: receiver.url.clone(),
            event_types: None,
            divisions: None,
            description: None,
            enabled: None,
        })
        .await
        .unwrap();
    for _ in 0..10 {
        let id = client
            .create_interaction(division, Channel::Voice)
            .await
            .unwrap()
            .id;
        client.set_state(id, TargetState::Active).await.unwrap();
        client.set_state(id, TargetState::Closed).await.unwrap();
    }
    // Deliveries are under way (and hanging) when the server dies.
    until(
        &receiver,
        Duration::from_secs(20),
        "a first delivery",
        |got| !got.is_empty(),
    )
    .await;
    server.kill();
    let before_restart = receiver.received().len();
    receiver.script(|_| Reply::Status(200));

    // Every event committed before the kill, from the log itself.
    let store = wrapup_store::open(&db.url).await.unwrap();
    let events = store.events_after(0, 10_000).await.unwrap();
    assert_eq!(
        events.len(),
        40,
        "10 interactions: created, active, closed, finalized"
    );
    let expected: HashSet<String> = events
        .iter()
        .map(|e| format!("msg_{}_{}", hook.webhook.id.simple(), e.seq))
        .collect();

    let _restarted = Server::start_at(&db.url, &server.addr.to_string(), FLAGS);
    let got = until(
        &receiver,
        Duration::from_secs(60),
        "every event after the restart",
        |got| {
            let delivered: HashSet<&String> = got[before_restart..].iter().map(|r| &r.id).collect();
            expected.iter().all(|id| delivered.contains(id))
        },
    )
    .await;
    let after = &got[before_restart..];
    for r in after {
        assert!(r.verifies_with(&hook.secret, now_s()), "{r:?}");
    }
    // In order per interaction: each interaction's events first arrive in sequence order.
    let mut first_seen: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for r in after {
        if seen.insert(r.id.clone()) {
            let interaction = r.payload["data"]["id"].as_str().unwrap().to_string();
            first_seen
                .entry(interaction)
                .or_default()
                .push(r.sequence().unwrap());
        }
    }
    assert_eq!(first_seen.len(), 10);
    for (interaction, seqs) in first_seen {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{interaction}: {seqs:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_registers_itself_and_prints_verified_deliveries() {
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    let server = Server::start(&db.url, &["--demo", "--settle-ms", "0"]);
    let mut listen = common::wrapup_for(&server.url, &creds)
        .args([
            "webhooks",
            "listen",
            "--count",
            "1",
            "--json",
            "--events",
            "interaction.created",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The endpoint is registered once listen says so on stderr.
    let mut stderr =
        std::io::BufRead::lines(std::io::BufReader::new(listen.stderr.take().unwrap()));
    let line = stderr.next().unwrap().unwrap();
    assert!(line.starts_with("registered endpoint "), "{line}");
    std::thread::spawn(move || stderr.for_each(drop));
    let client = common::api_client(&server.url, &creds);
    let division = client.create_division("Listen").await.unwrap().id;
    let id = client
        .create_interaction(division, Channel::Voice)
        .await
        .unwrap()
        .id;
    let out = tokio::task::spawn_blocking(move || listen.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["verified"], true, "{printed}");
    assert_eq!(printed["payload"]["type"], "interaction.created");
    assert_eq!(printed["payload"]["data"]["id"], id.to_string());
    // It deleted its temporary endpoint when it stopped.
    assert!(client
        .list_webhooks(None, None)
        .await
        .unwrap()
        .entities
        .is_empty());
}
