//! `wrapup notifications listen` against a real `wrapup serve --demo`: it prints a closed
//! conversation's `.acw` and its wrap-up's `.wrapup` (`--json`, in sequence order), exits 3
//! when no topic is permitted, and follows a server restart (graceful: `socket_closing`, then
//! a fresh channel) without missing what was committed meanwhile.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;
use wrapup_store::testing::TestDb;

use crate::common::{self, Server};

const SALES: &str = "00000000-0000-4000-8000-0000000000a1";
const SUPPORT: &str = "00000000-0000-4000-8000-0000000000a2";
const QUEUE: &str = "00000000-0000-4000-8000-0000000001b1";
const ADA: &str = "00000000-0000-4000-8000-0000000001a1";
const CODE_SALE: &str = "00000000-0000-4000-8000-0000000000c1";

/// A plain HTTP call with the client library's token.
async fn call(
    client: &wrapup_client::Client,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Value {
    let raw = client
        .raw(
            method,
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
        .await
        .unwrap();
    assert!(
        raw.status.is_success(),
        "{path}: {} {}",
        raw.status,
        String::from_utf8_lossy(&raw.body)
    );
    serde_json::from_slice(&raw.body).unwrap_or(Value::Null)
}

/// An answered Sales call of the demo's MANDATORY queue (an agent, so after-call work).
async fn answered_call(client: &wrapup_client::Client) -> String {
    let created = call(
        client,
        reqwest::Method::POST,
        "/api/v2/interactions",
        json!({"divisionId": SALES, "channel": "voice", "queueId": QUEUE}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    call(
        client,
        reqwest::Method::POST,
        &format!("/api/v2/interactions/{id}/state"),
        json!({"state": "active", "agentId": ADA}),
    )
    .await;
    id
}

async fn close_and_wrap_up(client: &wrapup_client::Client, id: &str) {
    call(
        client,
        reqwest::Method::POST,
        &format!("/api/v2/interactions/{id}/state"),
        json!({"state": "closed"}),
    )
    .await;
    // --settle-ms 0: finalized at once.
    call(
        client,
        reqwest::Method::PUT,
        &format!("/api/v2/interactions/{id}/wrap-up"),
        json!({"codeId": CODE_SALE, "durationMs": 30000}),
    )
    .await;
}

/// `wrapup notifications listen ARGS`, with its stderr lines sent to the returned channel.
fn listen(url: &str, creds: &(Uuid, String), args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = common::wrapup_for(url, creds)
        .args(["notifications", "listen"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits for a stderr line containing `text` (10 s at most), returning the lines before it.
fn until_line(rx: &mpsc::Receiver<String>, text: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if line.contains(text) => return seen,
            Ok(line) => seen.push(line),
            Err(_) => panic!("no line with {text:?} on stderr within 10 s; saw {seen:?}"),
        }
    }
}

async fn output(child: Child) -> std::process::Output {
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_prints_the_acw_and_the_wrapup_of_a_conversation() {
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    let server = Server::start(&db.url, &["--demo", "--settle-ms", "0"]);
    let client = common::api_client(&server.url, &creds);
    let id = answered_call(&client).await;
    let (child, stderr) = listen(
        &server.url,
        &creds,
        &[
            "--topic",
            &format!("v2.detail.events.conversation.{id}.acw"),
            "--topic",
            &format!("v2.detail.events.conversation.{id}.wrapup"),
            "--topic",
            &format!("v2.detail.events.conversation.{id}.acw"),
            "--json",
            "--count",
            "2",
        ],
    );
    // Subscribed (2 topics: the repeated .acw is asked once) and connected.
    let before = until_line(&stderr, "2 topics permitted");
    assert!(before.is_empty(), "{before:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    close_and_wrap_up(&client, &id).await;
    let out = output(child).await;
    assert!(out.status.success(), "{out:?}");
    let printed: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let detail: Vec<&Value> = printed
        .iter()
        .filter(|m| {
            m["topicName"].as_str().unwrap().ends_with(".acw")
                || m["topicName"].as_str().unwrap().ends_with(".wrapup")
        })
        .collect();
    assert_eq!(
        detail
            .iter()
            .map(|m| m["topicName"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            format!("v2.detail.events.conversation.{id}.acw"),
            format!("v2.detail.events.conversation.{id}.wrapup")
        ],
        "{printed:?}"
    );
    let sequences: Vec<i64> = printed
        .iter()
        .map(|m| m["metadata"]["sequence"].as_i64().unwrap())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    assert_eq!(detail[1]["eventBody"]["wrapupCode"], CODE_SALE);
    assert_eq!(detail[0]["eventBody"]["mediaType"], "VOICE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_exits_3_when_no_topic_is_permitted() {
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    let server = Server::start(&db.url, &["--demo", "--settle-ms", "0"]);
    let client = common::api_client(&server.url, &creds);
    let id = answered_call(&client).await;
    let support = call(
        &client,
        reqwest::Method::POST,
        "/api/v2/oauth/clients",
        json!({"name": "support only", "scopes": ["interaction:view"], "divisions": [SUPPORT]}),
    )
    .await;
    let support = (
        support["clientId"].as_str().unwrap().parse().unwrap(),
        support["clientSecret"].as_str().unwrap().to_string(),
    );
    let (child, lines) = listen(&server.url, &support, &["--conversation", &id]);
    let out = output(child).await;
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    // Its stderr, as the reader thread got it (the pipe is closed: every line is there).
    let stderr = lines.iter().collect::<Vec<_>>().join("\n");
    assert_eq!(
        stderr
            .matches("rejected v2.detail.events.conversation.")
            .count(),
        4,
        "{stderr}"
    );
    assert!(stderr.contains("no topic was permitted"), "{stderr}");
}

/// A graceful restart: the server sends `socket_closing` and closes; the listener moves to
/// a fresh channel once the server is back, asking for the events after the last it printed,
/// and prints what was committed while it was away, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_follows_a_restart_without_missing_events() {
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    let mut server = Server::start(&db.url, &["--demo", "--settle-ms", "0"]);
    let addr = server.addr.to_string();
    let client = common::api_client(&server.url, &creds);
    let first = answered_call(&client).await;
    let second = answered_call(&client).await;
    let (child, stderr) = listen(
        &server.url,
        &creds,
        &[
            "--topic",
            &format!("v2.detail.events.conversation.{first}.acw"),
            "--topic",
            &format!("v2.detail.events.conversation.{first}.wrapup"),
            "--topic",
            &format!("v2.detail.events.conversation.{second}.acw"),
            "--topic",
            &format!("v2.detail.events.conversation.{second}.wrapup"),
            "--json",
            "--count",
            "4",
        ],
    );
    until_line(&stderr, "topics permitted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    close_and_wrap_up(&client, &first).await;
    // SIGTERM: a graceful shutdown, which sends socket_closing to every socket.
    let pid = server.process.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    until_line(&stderr, "socket_closing");
    let _ = server.process.wait();
    server = Server::start_at(&db.url, &addr, &["--demo", "--settle-ms", "0"]);
    // Committed before the listener is back on its fresh channel.
    close_and_wrap_up(&common::api_client(&server.url, &creds), &second).await;
    until_line(&stderr, "moved to a fresh channel");
    let out = output(child).await;
    assert!(out.status.success(), "{out:?}");
    let printed: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let topics: Vec<String> = printed
        .iter()
        .map(|m| m["topicName"].as_str().unwrap().to_string())
        .collect();
    for id in [&first, &second] {
        for kind in ["acw", "wrapup"] {
            let topic = format!("v2.detail.events.conversation.{id}.{kind}");
            assert_eq!(
                topics.iter().filter(|t| **t == topic).count(),
                1,
                "{topic} once in {topics:?}"
            );
        }
    }
    drop(server);
}
