//! The second hour: every documented command works as written (issue 30). Webhook endpoints
//! created and changed from the command line with every flag, answers that are not the
//! API's explained, credentials missing said before anything is sent, retries announced in
//! a readable unit, the code applied named as it is, and commands people guess pointed to.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use uuid::Uuid;
use wrapup_server::testkit::*;
use wrapup_server::{Config, TargetPolicy, WebhookConfig};
use wrapup_types::{DivisionGrant, EventKind};

use crate::common::{self, wrapup_for, BIN};

const ALL: &str = common::ALL_SCOPES;
const ID: &str = "00000000-0000-4000-8000-0000000000e3";

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `wrapup` with nothing from the environment or config file of whoever runs the tests.
fn bare_wrapup() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("XDG_CONFIG_HOME", "/nonexistent");
    for var in [
        "WRAPUP_URL",
        "WRAPUP_CLIENT_ID",
        "WRAPUP_CLIENT_SECRET",
        "WRAPUP_TOKEN",
        "WRAPUP_SCOPE",
        "WRAPUP_PROFILE",
        "WRAPUP_CONFIG",
        "WRAPUP_LOG_FORMAT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A server that is not a wrapup server: it answers every request with `response` (a whole
/// HTTP/1.1 response) and counts the connections it got.
fn fake_server(response: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counted.fetch_add(1, Ordering::SeqCst);
            // Read the whole request (closing with some of it unread would reset the
            // connection before the answer is read), then answer and close.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let length = String::from_utf8_lossy(&head)
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            let mut body = vec![0u8; length];
            let _ = stream.read_exact(&mut body);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, connections)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_create_and_update_take_every_flag_as_documented() {
    let server = TestServer::builder()
        .config(Config {
            webhooks: WebhookConfig {
                targets: TargetPolicy::AllowLoopback,
                ..WebhookConfig::default()
            },
            ..Config::default()
        })
        .start()
        .await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await.to_string();
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let run = |args: &[&str]| wrapup_for(&server.url, &creds).args(args).output().unwrap();

    let out = run(&[
        "webhooks",
        "create",
        "--endpoint",
        "http://127.0.0.1:8000/hooks/wrapup/",
        "--events",
        "interaction.finalized,interaction.wrapup",
        "--division",
        &sales,
        "--description",
        "CRM sync",
        "--disabled",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let hook = admin.get_webhook(id).await.unwrap();
    assert_eq!(hook.url, "http://127.0.0.1:8000/hooks/wrapup/");
    assert_eq!(hook.event_types, [EventKind::Finalized, EventKind::WrapUp]);
    assert_eq!(hook.description.as_deref(), Some("CRM sync"));
    assert!(!hook.enabled);

    let out = run(&[
        "webhooks",
        "update",
        &id.to_string(),
        "--endpoint",
        "http://127.0.0.1:8000/v2/hooks",
        "--events",
        "interaction.wrapup",
        "--description",
        "",
        "--enable",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let hook = admin.get_webhook(id).await.unwrap();
    assert_eq!(hook.url, "http://127.0.0.1:8000/v2/hooks");
    assert_eq!(hook.event_types, [EventKind::WrapUp]);
    assert_eq!(hook.description, None);
    assert!(hook.enabled);

    // Every flag of both has its help text.
    for command in ["create", "update"] {
        let out = bare_wrapup()
            .args(["webhooks", command, "--help"])
            .output()
            .unwrap();
        let help = stdout(&out);
        for line in help.lines().filter(|l| l.trim_start().starts_with("--")) {
            assert!(
                line.trim().contains("  "),
                "`webhooks {command} --help`: a flag without help text:\n{line}\n{help}"
            );
        }
    }
}

#[test]
fn an_answer_that_is_not_the_apis_says_what_it_was() {
    let (url, _) =
        fake_server("HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let out = bare_wrapup()
        .args(["webhooks", "get", ID])
        .env("WRAPUP_URL", &url)
        .env("WRAPUP_TOKEN", "wu_x")
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(!text.contains("(401): \n"), "{text}");
    assert!(
        text.contains("401") && text.contains("empty body"),
        "{text}"
    );
    assert!(text.contains(&url) && text.contains("WRAPUP_URL"), "{text}");
}

#[test]
fn a_command_without_credentials_says_so_before_sending_anything() {
    let (url, connections) = fake_server(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    );
    let out = bare_wrapup()
        .args(["apply", ID, "--code", "Sale", "--duration", "2m"])
        .env("WRAPUP_URL", &url)
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{text}");
    for says in [
        "no credentials",
        "WRAPUP_CLIENT_ID",
        "WRAPUP_CLIENT_SECRET",
        "--client-id",
        "--client-secret",
        "wrapup config show",
    ] {
        assert!(text.contains(says), "expected {says:?} in:\n{text}");
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "nothing was sent");
}

#[test]
fn retries_are_announced_in_a_readable_unit() {
    let (url, connections) = fake_server(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    );
    let out = bare_wrapup()
        .args(["token"])
        .env("WRAPUP_URL", &url)
        .env("WRAPUP_CLIENT_ID", "id")
        .env("WRAPUP_CLIENT_SECRET", "secret")
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert_eq!(connections.load(Ordering::SeqCst), 5, "{text}");
    let delays: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("retrying in ").nth(1))
        .map(|rest| rest.split(" (").next().unwrap())
        .collect();
    assert_eq!(delays.len(), 4, "{text}");
    for delay in delays {
        // Under a second in milliseconds (the first retry's backoff is under 200 ms), else
        // in seconds with a decimal.
        let readable = match delay.split_once(' ') {
            Some((n, "ms")) => n.parse::<u32>().is_ok_and(|ms| ms < 1000),
            Some((n, "s")) => n.parse::<f64>().is_ok_and(|s| s >= 1.0),
            _ => false,
        };
        assert!(readable, "`retrying in {delay}` in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_names_the_code_as_it_is_called() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (sales, sale) = server.division_with_code(&admin, "Sales", "Sale").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    for (code, first) in [("sale", true), (&*sale.to_string(), false)] {
        let ready = server.finalized(&admin, sales).await.to_string();
        let out = wrapup_for(&server.url, &creds)
            .args(["apply", &ready, "--code", code, "--duration", "2m"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains(&format!("code \"Sale\" ({sale})")),
            "--code {code} (first: {first}): {text}"
        );
    }
}

#[test]
fn commands_people_guess_point_to_the_real_ones() {
    let usage = |out: &Output| {
        assert_eq!(out.status.code(), Some(2));
        stderr(out)
    };
    let out = bare_wrapup().arg("list").output().unwrap();
    assert_eq!(
        usage(&out),
        "error: unrecognized subcommand 'list'\n\n  \
         tip: did you mean one of 'wrapup interactions list', 'wrapup codes list', 'wrapup divisions list', 'wrapup queues list', 'wrapup users list', 'wrapup webhooks list'?\n\n\
         Usage: wrapup [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n"
    );
    for guessed in ["wrap-up", "wrapup", "apply-wrapup"] {
        let out = bare_wrapup()
            .args([guessed, ID, "--code", "Sale"])
            .output()
            .unwrap();
        assert_eq!(
            usage(&out),
            format!(
                "error: unrecognized subcommand '{guessed}'\n\n  \
                 tip: a wrap-up is applied with 'wrapup apply', e.g. wrapup apply ID --code Sale --duration 2m\n\n\
                 Usage: wrapup [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n"
            )
        );
    }
    // clap's own suggestions still come through for near misses.
    let out = bare_wrapup().arg("aply").output().unwrap();
    assert!(usage(&out).contains("tip: a similar subcommand exists: 'apply'"));
}

#[test]
fn log_format_is_an_option_of_serve_only() {
    let help = |args: &[&str]| stdout(&bare_wrapup().args(args).output().unwrap());
    for command in [
        &["apply", "--help"][..],
        &["interactions", "list", "--help"],
        &["--help"],
    ] {
        let text = help(command);
        assert!(!text.contains("--log-format"), "{command:?}:\n{text}");
    }
    let serve = help(&["serve", "--help"]);
    assert!(serve.contains("--log-format"), "{serve}");
    assert!(serve.contains("[env: WRAPUP_LOG_FORMAT]"), "{serve}");
    assert!(!serve.contains("=]"), "{serve}");
}
