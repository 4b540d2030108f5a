//! What the `wrapup` binary's tests share.

#![allow(dead_code)]

use std::process::Command;

use uuid::Uuid;

pub const BIN: &str = env!("CARGO_BIN_EXE_wrapup");

/// `wrapup` pointed at `url` with the client credentials `creds`, and nothing from the
/// environment or config file of whoever runs the tests.
pub fn wrapup_for(url: &str, creds: &(Uuid, String)) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("WRAPUP_URL", url)
        .env("WRAPUP_CLIENT_ID", creds.0.to_string())
        .env("WRAPUP_CLIENT_SECRET", &creds.1)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("WRAPUP_CONFIG")
        .env_remove("WRAPUP_PROFILE")
        .env_remove("WRAPUP_TOKEN");
    cmd
}

/// Every scope.
pub const ALL_SCOPES: &str = "interaction:view interaction:write interaction:manage wrapup-code:view wrapup-code:manage admin";

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A `wrapup serve` process on the database `db_url`, listening on `port`, started once it
/// accepts connections. `extra` adds options (e.g. `--settle-ms`).
pub fn serve(db_url: &str, port: u16, extra: &[&str]) -> std::process::Child {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--db",
            db_url,
        ])
        .args(extra)
        .env("WRAPUP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server starts"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Creates an OAuth client with every scope and division with `wrapup clients create`.
pub fn create_client(db_url: &str) -> (Uuid, String) {
    let out = Command::new(BIN)
        .args([
            "clients",
            "create",
            "--name",
            "tests",
            "--scopes",
            ALL_SCOPES,
            "--divisions",
            "all",
            "--json",
            "--db",
            db_url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        json["clientId"].as_str().unwrap().parse().unwrap(),
        json["clientSecret"].as_str().unwrap().to_string(),
    )
}
