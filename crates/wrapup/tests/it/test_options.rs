//! The options of `wrapup serve` for servers started by tests (docs/testing.md):
//! `--ready-file` says where a server on port 0 listens, `--exit-on-stdin-eof` stops it when
//! the pipe its starter holds closes, `--clock manual` runs it on a test clock that
//! `POST /api/v2/admin/clock/advance` moves, and is refused on PostgreSQL.

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use wrapup_server::testkit::eventually;
use wrapup_store::testing::TestDb;

use crate::common::{self, BIN};

#[tokio::test]
async fn ready_file_manual_clock_and_exit_on_stdin_eof() {
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let mut server = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--db", &db.url])
        .args([
            "--clock",
            "manual",
            "--exit-on-stdin-eof",
            "--settle-ms",
            "60000",
        ])
        .arg("--ready-file")
        .arg(&ready)
        .env("WRAPUP_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = eventually("the ready file", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&ready).ok();
        async move { text }
    })
    .await;
    let url = url.trim_end().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
    let api = common::api_client(&url, &creds);
    let clock = |raw: wrapup_client::RawResponse| {
        assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
        serde_json::from_slice::<serde_json::Value>(&raw.body).unwrap()
    };
    let before = clock(
        api.raw(Method::GET, "/api/v2/admin/clock", &[], None)
            .await
            .unwrap(),
    );
    assert_eq!(before["manual"], true);
    // A settle time of a minute passes at once.
    let division = api.create_division("Sales").await.unwrap().id;
    let id = api
        .create_interaction(division, wrapup_types::Channel::Voice)
        .await
        .unwrap()
        .id;
    for state in [
        wrapup_types::TargetState::Active,
        wrapup_types::TargetState::Closed,
    ] {
        api.set_state(id, state).await.unwrap();
    }
    assert!(!api.get_interaction(id).await.unwrap().finalized);
    let after = clock(
        api.raw(
            Method::POST,
            "/api/v2/admin/clock/advance",
            &[("content-type", "application/json")],
            Some(br#"{"ms": 60000}"#.to_vec()),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        after["nowMs"].as_i64().unwrap(),
        before["nowMs"].as_i64().unwrap() + 60_000
    );
    assert!(api.get_interaction(id).await.unwrap().finalized);
    // Closing its stdin stops it, gracefully (exit 0).
    drop(server.stdin.take());
    let status = eventually(
        "wrapup serve to exit once its stdin closed",
        Duration::from_secs(15),
        || {
            let exited = server.try_wait().unwrap();
            async move { exited }
        },
    )
    .await;
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_manual_clock_is_refused_on_postgres() {
    // Refused before connecting: nothing listens on port 1.
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--clock", "manual"])
        .args(["--db", "postgres://wrapup@127.0.0.1:1/wrapup"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--clock manual needs a SQLite database"),
        "{stderr}"
    );
}
