//! What a newcomer meets in the first hour: every message says what happened and what to
//! do next. Each test runs the `wrapup` binary and checks the message, not only the exit
//! code.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};

use crate::common;

use crate::common::{wrapup_for, BIN};
use uuid::Uuid;
use wrapup_server::testkit::*;
use wrapup_types::{DivisionGrant, WrapUpRequest};

const ALL: &str = common::ALL_SCOPES;

fn run(url: &str, creds: &(Uuid, String), args: &[&str]) -> Output {
    wrapup_for(url, creds).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code and that stderr says each of `says`.
fn refused(out: &Output, code: i32, says: &[&str]) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{text}");
    for s in says {
        assert!(text.contains(s), "expected {s:?} in:\n{text}");
    }
}

/// A port nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_problems_say_which_and_what_to_try() {
    let server = TestServer::start().await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let bare = server.url.trim_start_matches("http://").to_string();
    let list = ["interactions", "list"];

    let out = run(&bare, &creds, &list);
    refused(
        &out,
        1,
        &[
            &format!("the URL needs a scheme: http://{bare}"),
            "set by WRAPUP_URL",
        ],
    );

    let port = closed_port();
    let out = run(&format!("http://127.0.0.1:{port}"), &creds, &list);
    refused(&out, 5, &["connection refused", "wrapup serve", "port"]);

    let https = server.url.replace("http://", "https://");
    let out = run(&https, &creds, &list);
    refused(&out, 5, &["TLS", &format!("use {}", server.url)]);

    let out = run(&format!("{}/api/v2", server.url), &creds, &list);
    refused(
        &out,
        1,
        &[&format!("use the server's root URL, {}", server.url)],
    );
    // The doctor says the same things in its checklist.
    let out = run(
        &format!("http://127.0.0.1:{port}"),
        &creds,
        &[
            "doctor",
            "00000000-0000-4000-8000-0000000000e2",
            "--code",
            "Sale",
            "--duration",
            "2m",
        ],
    );
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stdout(&out).contains("connection refused") && stdout(&out).contains("wrapup serve"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_and_refusals_explain_themselves() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let support = server.division(&admin, "Support").await;
    let sale = server.code(&admin, sales, "Sale").await;
    server.code(&admin, support, "Resolved").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let url = server.url.clone();
    let ready = server.finalized(&admin, sales).await.to_string();

    let out = run(
        &url,
        &creds,
        &["apply", "e3", "--code", "Sale", "--duration", "2m"],
    );
    refused(
        &out,
        2,
        &[
            "`e3` is not an interaction id: an interaction id is a UUID",
            "wrapup interactions list",
        ],
    );
    let out = run(
        &url,
        &creds,
        &["apply", &ready, "--code", "Sael", "--duration", "2m"],
    );
    refused(
        &out,
        3,
        &["wrapup.code.not.found", "did you mean \"Sale\"?"],
    );
    let out = run(
        &url,
        &creds,
        &["apply", &ready, "--code", "Resolved", "--duration", "2m"],
    );
    refused(
        &out,
        3,
        &[
            "wrapup.code.division.mismatch",
            "Wrap-up code \"Resolved\" belongs to division Support",
            "but the interaction is in division Sales",
        ],
    );
    let out = run(
        &url,
        &creds,
        &["apply", &ready, "--code", "Sale", "--duration", "90"],
    );
    refused(&out, 2, &["write 90s, 90m or 90ms"]);
    let out = run(&url, &creds, &["codes", "list", "--division", "Sales"]);
    refused(
        &out,
        2,
        &["a division id is a UUID", "wrapup divisions list"],
    );

    // A usage error lists what is missing, not the settings the environment supplies.
    let out = run(&url, &creds, &["apply", &ready, "--duration", "2m"]);
    refused(&out, 2, &["--code <CODE>"]);
    assert!(
        !stderr(&out).contains("--client-secret"),
        "{}",
        stderr(&out)
    );

    // A completed interaction's 409 says it has its wrap-up (and how to change it).
    admin
        .put_wrapup(
            ready.parse().unwrap(),
            &WrapUpRequest {
                code_id: sale,
                duration_ms: 1000,
                notes: None,
            },
        )
        .await
        .unwrap();
    let out = run(
        &url,
        &creds,
        &["interactions", "set-state", &ready, "closed"],
    );
    refused(
        &out,
        3,
        &[
            "interaction.transition.invalid",
            "has its wrap-up",
            "replaces",
        ],
    );
}

#[test]
fn config_show_flags_a_placeholder_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "default_profile = \"prod\"\n[profiles.prod]\nurl = \"https://wrapup.example.com\"\nclient_id = \"…\"\nclient_secret = \"…\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["config", "show"])
        .env("WRAPUP_CONFIG", &path)
        .env_remove("WRAPUP_URL")
        .env_remove("WRAPUP_CLIENT_ID")
        .env_remove("WRAPUP_CLIENT_SECRET")
        .env_remove("WRAPUP_PROFILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "(set, 1 character, hidden; this looks like a placeholder, not a real secret)"
        ),
        "{text}"
    );
    assert!(!text.contains("……"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn divisions_history_and_lists_newest_first() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (sales, sale) = server.division_with_code(&admin, "Sales", "Sale").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let url = server.url.clone();

    let out = run(
        &url,
        &creds,
        &["divisions", "create", "--name", "Retention"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("  Retention\n"), "{}", stdout(&out));
    let out = run(&url, &creds, &["divisions", "list"]);
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("{sales}  Sales")));

    // Codes are shown with their division's name.
    let out = run(&url, &creds, &["codes", "list"]);
    assert!(
        stdout(&out).contains(&format!("division Sales ({sales})")),
        "{}",
        stdout(&out)
    );

    // The wrap-up history of an interaction, oldest first.
    let id = server.finalized(&admin, sales).await;
    for notes in ["first", "second"] {
        admin
            .put_wrapup(
                id,
                &WrapUpRequest {
                    code_id: sale,
                    duration_ms: 60_000,
                    notes: Some(notes.into()),
                },
            )
            .await
            .unwrap();
    }
    let out = run(&url, &creds, &["interactions", "history", &id.to_string()]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("1. \"Sale\"") && lines[0].ends_with(": first"),
        "{text}"
    );
    assert!(lines[1].ends_with(": second"), "{text}");

    // Newest first by default; the cursor line goes to stderr, not into a pipe.
    let mut created = vec![id];
    for _ in 0..3 {
        created.push(server.interaction(&admin, sales, &[]).await);
    }
    let out = run(&url, &creds, &["interactions", "list", "--page-size", "2"]);
    let ids: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        [created[3].to_string(), created[2].to_string()],
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("more: --cursor "), "{}", stderr(&out));
    assert!(!stdout(&out).contains("more:"));
    let out = run(&url, &creds, &["interactions", "list", "--sort", "oldest"]);
    assert!(
        stdout(&out).starts_with(&id.to_string()),
        "{}",
        stdout(&out)
    );
}

#[test]
fn clients_create_says_which_database_and_warns_when_it_made_one() {
    let dir = tempfile::tempdir().unwrap();
    let create = || {
        Command::new(BIN)
            .args([
                "clients",
                "create",
                "--name",
                "crm",
                "--scopes",
                "interaction:view",
                "--divisions",
                "all",
            ])
            .current_dir(dir.path())
            .env_remove("WRAPUP_DB")
            .output()
            .unwrap()
    };
    let file = dir.path().join("wrapup.db");
    let out = create();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "in the database sqlite://wrapup.db ({})",
            file.display()
        )),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("did not exist, so a new, empty database was created")
            && stderr(&out).contains("--db"),
        "{}",
        stderr(&out)
    );
    // The second time the database is there: no warning.
    let out = create();
    assert_eq!(out.status.code(), Some(0));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_stops_quietly_when_its_reader_goes_away() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let mut child = wrapup_for(&server.url, &creds)
        .args([
            "simulate",
            "--division",
            &sales.to_string(),
            "--interactions",
            "1000",
            "--rate",
            "500/s",
            "--close-after",
            "0s",
            "--batch-code",
            "Sale",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as a batch that stops does.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("\"code\":\"Sale\""), "{first}");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
    assert!(
        err.contains("the reader of its output went away")
            && err.contains("of 1000 interactions created"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_failures_say_why_with_the_names_as_written() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let support = server.division(&admin, "Support").await;
    server.code(&admin, sales, "Sale").await;
    server.code(&admin, support, "Resolved").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("rows.jsonl");
    let ready = server.finalized(&admin, sales).await;
    let other = server.finalized(&admin, sales).await;
    let third = server.finalized(&admin, sales).await;
    std::fs::write(
        &rows,
        format!(
            "{{\"interactionId\": \"{ready}\", \"code\": \"Sale\", \"duration\": \"2m\"}}\n\
             {{\"interactionId\": \"{other}\", \"code\": \"Sael\", \"duration\": \"2m\"}}\n\
             {{\"interactionId\": \"{third}\", \"code\": \"RESOLVED\", \"duration\": \"2m\"}}\n"
        ),
    )
    .unwrap();

    // A dry run has no report and no journal: the summary itself gives the reasons.
    let out = wrapup_for(&server.url, &creds)
        .arg("batch")
        .arg(&rows)
        .arg("--dry-run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("failed rows, with the server's reason:"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "line 2: {other} wrapup.code.not.found: no wrap-up code named \"Sael\""
        )) && text.contains("did you mean \"Sale\"?"),
        "{text}"
    );
    assert!(
        text.contains(&format!("line 3: {third} wrapup.code.division.mismatch"))
            && text.contains("no wrap-up code named \"RESOLVED\"")
            && text.contains("belongs to division Support"),
        "{text}"
    );
    assert!(!text.contains("are in the report"), "{text}");

    // A real run says the same, and the journal and report have them too.
    let out = wrapup_for(&server.url, &creds)
        .arg("batch")
        .arg(&rows)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("no wrap-up code named \"Sael\""),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_stopped_by_rate_limits_exits_5() {
    let server = TestServer::builder()
        .config(wrapup_server::Config {
            rate_limit: Some("2/h".parse().unwrap()),
            ..wrapup_server::Config::default()
        })
        .start()
        .await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("rows.jsonl");
    let mut text = String::new();
    for _ in 0..5 {
        let id = Uuid::new_v4();
        text.push_str(&format!(
            "{{\"interactionId\": \"{id}\", \"code\": \"Sale\", \"duration\": \"2m\"}}\n"
        ));
    }
    std::fs::write(&rows, text).unwrap();
    let out = wrapup_for(&server.url, &creds)
        .arg("batch")
        .arg(&rows)
        .args(["--max-retries", "0"])
        .output()
        .unwrap();
    refused(
        &out,
        5,
        &[
            "the batch stopped",
            "request.rate.limited",
            "Run the same command again to resume",
        ],
    );
}

/// `wrapup serve` logs without colour codes when its stderr is not a terminal, with
/// latencies in whole microseconds; the demo banner points to what exists.
#[test]
fn serve_logs_plainly_and_the_banner_points_the_way() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--db", &db])
        .env("WRAPUP_LOG", "info")
        .env_remove("WRAPUP_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = log.next().expect("the server starts").unwrap();
        if let Some(rest) = line.strip_prefix("wrapup listening on http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    // One request, by hand.
    let mut socket = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(
        &mut socket,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let line = log
        .by_ref()
        .map(|l| l.unwrap())
        .find(|l| l.contains("route=/healthz"))
        .expect("a request line");
    assert!(
        !line.contains('\u{1b}'),
        "no colour codes in a file: {line:?}"
    );
    let latency = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("latency_ms="))
        .unwrap();
    let decimals = latency.split_once('.').map_or(0, |(_, d)| d.len());
    assert!(decimals <= 3, "latency_ms={latency}");

    let mut banner = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    while !banner.contains("/api/v2") {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "{banner}");
        banner.push_str(&line);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for expected in [
        "Try:",
        "The five-minute walkthrough",
        &format!("export WRAPUP_URL=http://{addr} WRAPUP_CLIENT_ID=00000000-0000-4000-8000-00000000d001 WRAPUP_CLIENT_SECRET=demo-secret-not-for-production"),
        "wrapup doctor 00000000-0000-4000-8000-0000000000e2 --code Sale --duration 2m",
        &format!("curl http://{addr}/api/v2"),
        &format!("http://{addr}/    the web console"),
    ] {
        assert!(banner.contains(expected), "{expected:?} in:\n{banner}");
    }
}
