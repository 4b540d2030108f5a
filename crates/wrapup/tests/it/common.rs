//! What the `wrapup` binary's tests share.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uuid::Uuid;
use wrapup_server::testkit::{describe, eventually};

pub const BIN: &str = env!("CARGO_BIN_EXE_wrapup");

/// The client library pointed at `url` with the client credentials `creds`, retrying
/// nothing (a test says what it expects of each request).
pub fn api_client(url: &str, creds: &(Uuid, String)) -> wrapup_client::Client {
    wrapup_client::Client::new(url)
        .with_credentials(&creds.0.to_string(), &creds.1)
        .with_retry(wrapup_client::RetryPolicy::none())
}

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

/// A `wrapup serve` process, killed (SIGKILL) when dropped.
pub struct Server {
    pub process: Child,
    /// Where it listens, as the server printed it.
    pub addr: SocketAddr,
    /// `http://` and `addr`.
    pub url: String,
    /// What it printed on stderr so far.
    log: Arc<Mutex<String>>,
}

impl Server {
    /// `wrapup serve` on the database `db_url`, on a port the system picks (`127.0.0.1:0`).
    /// `extra` adds options (e.g. `--settle-ms`). Returns once the server listens.
    pub fn start(db_url: &str, extra: &[&str]) -> Server {
        Server::start_at(db_url, "127.0.0.1:0", extra)
    }

    /// `wrapup serve` listening on `listen` (e.g. the address of a server that was killed,
    /// to restart it where its clients expect it).
    pub fn start_at(db_url: &str, listen: &str, extra: &[&str]) -> Server {
        let mut process = Command::new(BIN)
            .args(["serve", "--listen", listen, "--db", db_url])
            .args(extra)
            .env("WRAPUP_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The server prints "wrapup listening on http://ADDR (…)" once it is bound; the
        // socket accepts connections from then on.
        let mut lines = BufReader::new(process.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let addr = loop {
            let Some(line) = lines.next() else {
                let status = process.wait().unwrap();
                panic!("`wrapup serve --listen {listen}` exited ({status}) before listening");
            };
            let line = line.unwrap();
            log.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(rest) = line.strip_prefix("wrapup listening on http://") {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        // Keep reading its stderr, so the server never blocks on a full pipe.
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Server {
            process,
            addr,
            url: format!("http://{addr}"),
            log,
        }
    }

    /// What the server printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the server has printed `text` on stderr (at most 10 s).
    pub async fn wait_for_stderr(&self, text: &str) {
        let waited_for = describe(|| {
            format!(
                "the server to print {text:?}; it printed:\n{}",
                self.stderr()
            )
        });
        eventually(waited_for, Duration::from_secs(10), || async {
            self.stderr().contains(text)
        })
        .await;
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill(&mut self) {
        self.process.kill().unwrap();
        self.process.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Runs `cmd` and returns its output, failing the test with its stderr unless it succeeded.
pub fn succeeded(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Creates an OAuth client with every scope and division with `wrapup clients create`.
pub fn create_client(db_url: &str) -> (Uuid, String) {
    let out = succeeded(Command::new(BIN).args([
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
    ]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        json["clientId"].as_str().unwrap().parse().unwrap(),
        json["clientSecret"].as_str().unwrap().to_string(),
    )
}
