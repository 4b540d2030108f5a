//! The client commands of the `wrapup` binary against an in-process server: exit codes,
//! output, and `lint` agreeing with the server on a shared table of bodies.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::common::{wrapup_for, BIN};
use uuid::Uuid;
use wrapup_server::testkit::*;
use wrapup_types::{DivisionGrant, TargetState};

/// Runs `wrapup` with the server's URL and the given credentials, and `stdin`.
fn wrapup(url: &str, creds: &(Uuid, String), args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = wrapup_for(url, creds)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const ALL: &str = "interaction:view interaction:write interaction:manage wrapup-code:view wrapup-code:manage admin";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_and_the_server_agree_on_every_body_of_the_table() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, code_id) = server.division_with_code(&admin, "Sales", "Sale").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let table: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("wrapup-bodies.json")).unwrap();
    assert!(table.len() >= 30);
    for case in table {
        let name = case["name"].as_str().unwrap();
        let body = case["body"]
            .as_str()
            .unwrap()
            .replace("$CODE", &code_id.to_string())
            .replace("$UPPER", &code_id.to_string().to_uppercase())
            .replace("$LONG", &"n".repeat(1025));
        // A fresh finalized interaction for each case, so a valid body is applied once.
        let interaction = server.finalized(&admin, division).await;
        let raw = put_raw(
            &admin,
            &interaction.to_string(),
            "application/json",
            body.as_bytes(),
        )
        .await;
        let server_codes: Vec<String> = if raw.status.is_success() {
            Vec::new()
        } else {
            codes_of(&raw)
        };

        let out = wrapup(
            &server.url,
            &creds,
            &["lint", "--json"],
            Some(body.as_bytes()),
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{name}: lint printed JSON: {}", stdout(&out)));
        let lint_codes: Vec<String> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["errorCode"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            lint_codes, server_codes,
            "{name}: lint and the server disagree"
        );
        assert_eq!(
            code(&out),
            if server_codes.is_empty() { 0 } else { 3 },
            "{name}"
        );
        // The human output names every code too.
        let human = wrapup(&server.url, &creds, &["lint"], Some(body.as_bytes()));
        for c in &server_codes {
            assert!(
                stdout(&human).contains(c.as_str()),
                "{name}: {c} in {}",
                stdout(&human)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_exit_codes_and_output() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let support = server.division(&admin, "Support").await;
    server.code(&admin, sales, "Sale").await;
    let resolved = server.code(&admin, support, "Resolved").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let ready = server.finalized(&admin, sales).await.to_string();
    let url = server.url.clone();

    // 0: applied by name, then a no-op.
    let out = wrapup(
        &url,
        &creds,
        &["apply", &ready, "--code", "sale", "--duration", "2m"],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("Applied"), "{}", stdout(&out));
    let out = wrapup(
        &url,
        &creds,
        &[
            "apply",
            &ready,
            "--code",
            "Sale",
            "--duration",
            "120000",
            "--json",
        ],
        None,
    );
    assert_eq!(code(&out), 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "alreadyInPlace");
    assert_eq!(report["puts"], 0);

    // 3: refused (a code of another division), with the server's explanation.
    let out = wrapup(
        &url,
        &creds,
        &[
            "apply",
            &ready,
            "--code",
            &resolved.to_string(),
            "--duration",
            "2m",
        ],
        None,
    );
    assert_eq!(code(&out), 3);
    assert!(
        stderr(&out).contains("wrapup.code.division.mismatch"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("hint:"));
    // 3: an unknown code name, and an invalid duration (refused before sending).
    let out = wrapup(
        &url,
        &creds,
        &["apply", &ready, "--code", "Nope", "--duration", "2m"],
        None,
    );
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("no wrap-up code named \"Nope\""));
    let out = wrapup(
        &url,
        &creds,
        &["apply", &ready, "--code", "Sale", "--duration", "25h"],
        None,
    );
    assert_eq!(code(&out), 3);
    assert!(
        stderr(&out).contains("wrapup.duration.invalid"),
        "{}",
        stderr(&out)
    );

    // 4: the interaction never becomes ready within --wait.
    let active = server
        .interaction(&admin, sales, &[TargetState::Active])
        .await
        .to_string();
    let out = wrapup(
        &url,
        &creds,
        &[
            "apply",
            &active,
            "--code",
            "Sale",
            "--duration",
            "2m",
            "--wait",
            "200ms",
        ],
        None,
    );
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("it is active"), "{}", stderr(&out));

    // 5: wrong secret; nobody listening.
    let wrong = (creds.0, "wrong".to_string());
    let out = wrapup(
        &url,
        &wrong,
        &["apply", &ready, "--code", "Sale", "--duration", "2m"],
        None,
    );
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid_client"));

    // 2: usage.
    let out = wrapup(
        &url,
        &creds,
        &["apply", "not-a-uuid", "--code", "Sale", "--duration", "2m"],
        None,
    );
    assert_eq!(code(&out), 2);
    let out = wrapup(
        &url,
        &creds,
        &["apply", &ready, "--code", "Sale", "--duration", "2 minutes"],
        None,
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not a duration"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_and_verbose_never_show_the_token_unless_asked() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (sales, sale) = server.division_with_code(&admin, "Sales", "Sale").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let ready = server.finalized(&admin, sales).await.to_string();
    let url = server.url.clone();

    let out = wrapup(
        &url,
        &creds,
        &[
            "apply",
            &ready,
            "--code",
            "Sale",
            "--duration",
            "2m",
            "--notes",
            "it's done",
            "--curl",
        ],
        None,
    );
    assert_eq!(code(&out), 0);
    let curl = stdout(&out);
    assert!(curl.contains(&format!("{url}/api/v2/interactions/{ready}/wrap-up")));
    assert!(curl.contains("Bearer $(wrapup token)"));
    assert!(
        curl.contains(&format!(
            r#"'{{"codeId":"{sale}","durationMs":120000,"notes":"it'\''s done"}}'"#
        )),
        "{curl}"
    );
    assert_eq!(
        admin
            .get_interaction(ready.parse().unwrap())
            .await
            .unwrap()
            .wrap_up,
        None,
        "--curl sends nothing"
    );
    let out = wrapup(
        &url,
        &creds,
        &[
            "apply",
            &ready,
            "--code",
            "Sale",
            "--duration",
            "2m",
            "--curl",
            "--show-secrets",
        ],
        None,
    );
    assert!(stdout(&out).contains("Bearer wu_"), "{}", stdout(&out));

    let out = wrapup(
        &url,
        &creds,
        &["-v", "apply", &ready, "--code", "Sale", "--duration", "2m"],
        None,
    );
    assert_eq!(code(&out), 0);
    let trace = stderr(&out);
    assert!(
        trace.contains(&format!("> PUT {url}/api/v2/interactions/{ready}/wrap-up")),
        "{trace}"
    );
    assert!(trace.contains("< 204"), "{trace}");
    assert!(
        trace.contains("Bearer ****") && trace.contains("Basic ****"),
        "{trace}"
    );
    assert!(!trace.contains(&creds.1), "the secret is never printed");
    assert!(!trace.contains("wu_"), "the token is never printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_exit_codes() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (sales, _) = server.division_with_code(&admin, "Sales", "Sale").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let ready = server.finalized(&admin, sales).await.to_string();
    let closed = server
        .interaction(&admin, sales, &[TargetState::Closed])
        .await
        .to_string();
    let url = server.url.clone();

    let out = wrapup(
        &url,
        &creds,
        &["doctor", &ready, "--code", "Sale", "--duration", "2m"],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(stdout(&out).matches('✓').count(), 10, "{}", stdout(&out));

    let out = wrapup(
        &url,
        &creds,
        &["doctor", &closed, "--code", "Sale", "--duration", "2m"],
        None,
    );
    assert_eq!(code(&out), 3);
    let text = stdout(&out);
    assert!(
        text.contains("✗ interaction finalized") && text.contains("[interaction.not.finalized]"),
        "{text}"
    );
    assert!(text.contains("fix: "));

    let out = wrapup(
        &url,
        &creds,
        &[
            "doctor",
            &closed,
            "--code",
            "Sale",
            "--duration",
            "2m",
            "--json",
        ],
        None,
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ready"], false);
    assert_eq!(report["checks"].as_array().unwrap().len(), 10);

    let out = wrapup(
        "http://127.0.0.1:9",
        &creds,
        &["doctor", &ready, "--code", "Sale", "--duration", "2m"],
        None,
    );
    assert_eq!(code(&out), 5);
    assert!(stdout(&out).contains("✗ server reachable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyday_commands() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let url = server.url.clone();
    let division = sales.to_string();

    let out = wrapup(
        &url,
        &creds,
        &[
            "codes",
            "create",
            "--division",
            &division,
            "--name",
            "Upsell",
        ],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let code_id = stdout(&out).split_whitespace().next().unwrap().to_string();
    let out = wrapup(
        &url,
        &creds,
        &["codes", "list", "--division", &division, "--json"],
        None,
    );
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["entities"][0]["name"], "Upsell");

    let out = wrapup(
        &url,
        &creds,
        &[
            "interactions",
            "create",
            "--division",
            &division,
            "--channel",
            "chat",
        ],
        None,
    );
    let id = stdout(&out).trim().to_string();
    assert!(Uuid::parse_str(&id).is_ok(), "{}", stdout(&out));
    for state in ["active", "closed"] {
        let out = wrapup(
            &url,
            &creds,
            &["interactions", "set-state", &id, state],
            None,
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let out = wrapup(
        &url,
        &creds,
        &["interactions", "set-state", &id, "active"],
        None,
    );
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("interaction.transition.invalid"));
    let out = wrapup(
        &url,
        &creds,
        &["interactions", "list", "--state", "closed", "--json"],
        None,
    );
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["entities"].as_array().unwrap().len(), 1);
    let out = wrapup(&url, &creds, &["interactions", "get", &id], None);
    assert!(
        stdout(&out).contains("closed (not finalized)"),
        "{}",
        stdout(&out)
    );

    let out = wrapup(&url, &creds, &["codes", "archive", &code_id], None);
    assert!(stdout(&out).contains("(archived)"));

    let out = wrapup(&url, &creds, &["token"], None);
    let token = stdout(&out).trim().to_string();
    assert!(token.starts_with("wu_"));
    let out = Command::new(BIN)
        .args(["interactions", "get", &id, "--json"])
        .env("WRAPUP_URL", &url)
        .env("WRAPUP_TOKEN", &token)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("WRAPUP_CONFIG")
        .env_remove("WRAPUP_CLIENT_ID")
        .env_remove("WRAPUP_CLIENT_SECRET")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn config_profiles_and_masking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "default_profile = \"sandbox\"\n[profiles.sandbox]\nurl = \"http://127.0.0.1:8080\"\nclient_id = \"abc\"\nclient_secret = \"super-secret-value\"\n[profiles.prod]\nurl = \"https://wrapup.example.com\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("WRAPUP_CONFIG", &path)
            .env_remove("WRAPUP_URL")
            .env_remove("WRAPUP_CLIENT_ID")
            .env_remove("WRAPUP_CLIENT_SECRET")
            .env_remove("WRAPUP_PROFILE")
            .output()
            .unwrap()
    };
    let out = run(&["config", "show"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("profile:        sandbox"), "{text}");
    assert!(text.contains("(profile sandbox)"));
    assert!(!text.contains("super-secret-value"), "the secret is masked");
    assert!(text.contains("supe… (18 characters, hidden)"));
    #[cfg(unix)]
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));

    let out = run(&[
        "--profile",
        "prod",
        "--url",
        "http://flag",
        "config",
        "show",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["url"]["value"], "http://flag");
    assert_eq!(json["url"]["source"], "flag");
    assert_eq!(json["profile"], "prod");
    assert_eq!(json["clientSecret"]["source"], "unset");

    let out = run(&["--profile", "nope", "config", "show"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("no profile \"nope\""));
}
