//! The operations the web console needs, usable by every client (docs/api.md): counts by
//! state, recent wrap-up activity, the wrap-up dry run, a request's diagnosis with the
//! body that would have been accepted, the inspector's request stream; and the console
//! itself, served at `/` with its security headers and its configuration (the demo clients).

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use wrapup_client::{Client, InteractionQuery, RetryPolicy};
use wrapup_server::testkit::*;
use wrapup_server::{console, demo, Clock, Config};
use wrapup_types::*;

#[tokio::test]
async fn counts_are_per_granted_division_and_state() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let support = s.division(&admin, "Support").await;
    s.division(&admin, "Empty").await;
    s.interaction(&admin, sales, &[]).await;
    s.interaction(&admin, sales, &[TargetState::Active]).await;
    let done = s.finalized(&admin, support).await;
    let code = s.code(&admin, support, "Resolved").await;
    admin
        .put_wrapup(
            done,
            &WrapUpRequest {
                code_id: code,
                duration_ms: 1_000,
                notes: None,
            },
        )
        .await
        .unwrap();
    s.finalized(&admin, support).await;
    // Closed last, so that it is still settling.
    s.interaction(&admin, sales, &[TargetState::Active, TargetState::Closed])
        .await;

    let counts = admin.interaction_counts().await.unwrap();
    let names: Vec<&str> = counts
        .divisions
        .iter()
        .map(|d| d.division_name.as_str())
        .collect();
    assert_eq!(names, ["Empty", "Sales", "Support"], "sorted by name");
    let of = |name: &str| {
        let d = counts
            .divisions
            .iter()
            .find(|d| d.division_name == name)
            .unwrap();
        (
            d.queued,
            d.active,
            d.closed,
            d.finalized,
            d.completed,
            d.total,
        )
    };
    assert_eq!(of("Empty"), (0, 0, 0, 0, 0, 0));
    assert_eq!(of("Sales"), (1, 1, 1, 0, 0, 3));
    assert_eq!(of("Support"), (0, 0, 0, 1, 1, 2));

    let sales_only = s
        .client("interaction:view", DivisionGrant::Only(vec![sales]))
        .await;
    let counts = sales_only.interaction_counts().await.unwrap();
    assert_eq!(counts.divisions.len(), 1);
    assert_eq!(counts.divisions[0].division_id, sales);
    let no_view = s.client("wrapup-code:view", DivisionGrant::All).await;
    let e = no_view.interaction_counts().await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::AuthorizationMissingScope));
}

#[tokio::test]
async fn wrapup_activity_counts_answers_about_visible_interactions_by_minute() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let support = s.division(&admin, "Support").await;
    let sale = s.code(&admin, sales, "Sale").await;
    let ready = s.finalized(&admin, sales).await;
    let active = s.interaction(&admin, sales, &[TargetState::Active]).await;
    let elsewhere = s.finalized(&admin, support).await;
    let body = |code| WrapUpRequest {
        code_id: code,
        duration_ms: 5_000,
        notes: None,
    };
    admin.put_wrapup(ready, &body(sale)).await.unwrap();
    admin.put_wrapup(ready, &body(sale)).await.unwrap(); // the same again: 204 too
    admin.put_wrapup(active, &body(sale)).await.unwrap_err(); // not closed
    admin.put_wrapup(elsewhere, &body(sale)).await.unwrap_err(); // a Sales code
    put_raw(
        &admin,
        &ready.to_string(),
        "application/json",
        b"{\"codeId\": 1}",
    )
    .await;
    // About no interaction (or one the caller cannot see): not counted.
    put_raw(
        &admin,
        &Uuid::new_v4().to_string(),
        "application/json",
        b"{}",
    )
    .await;

    let all = admin.wrapup_activity().await.unwrap();
    assert_eq!((all.accepted, all.refused), (2, 3));
    assert_eq!(all.window_minutes, 15);
    assert_eq!(all.minutes.len(), 15);
    let last = all.minutes.last().unwrap();
    assert_eq!((last.accepted, last.refused), (2, 3));
    let support_only = s
        .client("interaction:view", DivisionGrant::Only(vec![support]))
        .await;
    let theirs = support_only.wrapup_activity().await.unwrap();
    assert_eq!((theirs.accepted, theirs.refused), (0, 1));

    s.clock.advance(15 * 60_000);
    let later = admin.wrapup_activity().await.unwrap();
    assert_eq!((later.accepted, later.refused), (0, 0), "out of the window");
}

/// The bodies the dry run and the PUT are compared on.
fn bodies(sale: Uuid, other_division_code: Uuid) -> Vec<Value> {
    vec![
        json!({"codeId": sale, "durationMs": 120000}),
        json!({"wrapUpCode": {"id": sale}, "durationMs": 120000}),
        json!({"codeId": sale}),
        json!({"codeId": sale, "durationMs": 0, "notes": null}),
        json!({"codeId": other_division_code, "durationMs": 1}),
        json!({"codeId": Uuid::new_v4(), "durationMs": 1}),
        json!({"codeId": "Sale", "durationMs": "12"}),
        json!([1, 2]),
    ]
}

#[tokio::test]
async fn the_dry_run_answers_what_the_put_would_and_changes_nothing() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let support = s.division(&admin, "Support").await;
    let sale = s.code(&admin, sales, "Sale").await;
    let support_sale = s.code(&admin, support, "Sale").await;
    let closing = s
        .interaction(&admin, sales, &[TargetState::Active, TargetState::Closed])
        .await;
    let ready = s.finalized(&admin, sales).await;
    for id in [closing, ready] {
        for body in bodies(sale, support_sale) {
            let before = admin.get_interaction(id).await.unwrap();
            let verdict = admin.validate_wrapup(id, &body).await.unwrap();
            assert_eq!(
                admin.get_interaction(id).await.unwrap(),
                before,
                "the dry run changed nothing"
            );
            let put = put_raw(
                &admin,
                &id.to_string(),
                "application/json",
                body.to_string().as_bytes(),
            )
            .await;
            assert_eq!(verdict.status, put.status.as_u16(), "{body}");
            assert_eq!(verdict.valid, put.status.as_u16() == 204, "{body}");
            if put.status.as_u16() == 204 {
                assert!(verdict.details.is_empty() && verdict.suggestion.is_none());
                continue;
            }
            assert_eq!(
                verdict.details,
                error_of(&put).details,
                "the same problems, in the same order: {body}"
            );
            assert_eq!(verdict.suggestion.is_some(), body.is_object(), "{body}");
        }
    }
    // Only an unknown interaction and the scope are errors, as on the PUT.
    let e = admin
        .validate_wrapup(Uuid::new_v4(), &json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::InteractionNotFound));
    let viewer = s.client("interaction:view", DivisionGrant::All).await;
    let e = viewer.validate_wrapup(ready, &json!({})).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::AuthorizationMissingScope));
    let raw = admin
        .raw(
            Method::POST,
            &format!("/api/v2/interactions/{ready}/wrap-up/validate"),
            &[("content-type", "text/plain")],
            Some(b"{}".to_vec()),
        )
        .await
        .unwrap();
    let verdict: WrapUpValidation = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!((raw.status.as_u16(), verdict.status), (200, 415));
    assert_eq!(
        verdict.details[0].error_code,
        ErrorCode::RequestMediaUnsupported
    );
}

#[tokio::test]
async fn the_dry_run_suggests_the_body_that_would_be_accepted() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let support = s.division(&admin, "Support").await;
    let sale = s.code(&admin, sales, "Sale").await;
    let support_sale = s.code(&admin, support, "sale").await;
    let ready = s.finalized(&admin, sales).await;
    for body in [
        json!({"wrapUpCode": {"id": sale}, "durationMs": 120000}),
        json!({"codeId": support_sale, "durationMs": 120000}),
        json!({"code": "SALE", "durationSeconds": 120, "notes": null}),
    ] {
        let verdict = admin.validate_wrapup(ready, &body).await.unwrap();
        assert!(!verdict.valid);
        let fix = verdict.suggestion.expect("a suggestion");
        assert!(fix.unresolved.is_empty(), "{body}: {:?}", fix.unresolved);
        assert_eq!(
            fix.body,
            json!({"codeId": sale, "durationMs": 120000}),
            "{body}"
        );
        assert!(!fix.changes.is_empty());
        let again = admin.validate_wrapup(ready, &fix.body).await.unwrap();
        assert!(
            again.valid,
            "the suggestion is accepted: {:?}",
            again.details
        );
    }
}

/// The `X-Request-Id` of a response.
fn request_id(raw: &wrapup_client::RawResponse) -> String {
    raw.headers["x-request-id"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_refused_wrapup_is_diagnosed_with_a_body_that_is_then_accepted() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (sales, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let id = s
        .interaction(&admin, sales, &[TargetState::Active, TargetState::Closed])
        .await;
    let nested = json!({"wrapUpCode": {"id": sale}, "durationMs": 120000}).to_string();
    let early = put_raw(
        &admin,
        &id.to_string(),
        "application/json",
        nested.as_bytes(),
    )
    .await;
    let diagnosis = admin.diagnose_request(&request_id(&early)).await.unwrap();
    assert_eq!(diagnosis.request.status, 400);
    assert_eq!(diagnosis.problems, error_of(&early).details);
    let check = diagnosis.suggestion_check.as_ref().unwrap();
    assert!(!check.valid);
    assert_eq!(
        check.details[0].error_code,
        ErrorCode::InteractionNotFinalized
    );
    assert!(
        diagnosis.summary.contains("would still be refused"),
        "{}",
        diagnosis.summary
    );

    s.clock.advance(SETTLE_MS);
    s.finalize_now().await;
    let refused = put_raw(
        &admin,
        &id.to_string(),
        "application/json",
        nested.as_bytes(),
    )
    .await;
    assert_eq!(refused.status, 400);
    let diagnosis = admin.diagnose_request(&request_id(&refused)).await.unwrap();
    assert!(
        diagnosis.summary.starts_with(
            "The server refused the request with 400 request.field.unknown and found 2 problems"
        ),
        "{}",
        diagnosis.summary
    );
    assert!(
        diagnosis
            .summary
            .ends_with("Sent now, it would be accepted (204)."),
        "{}",
        diagnosis.summary
    );
    assert_eq!(diagnosis.request.request_body.as_deref(), Some(&*nested));
    let fix = diagnosis.suggestion.unwrap();
    assert_eq!(fix.body, json!({"codeId": sale, "durationMs": 120000}));
    assert!(diagnosis.suggestion_check.unwrap().valid);
    let accepted = put_raw(
        &admin,
        &id.to_string(),
        "application/json",
        fix.body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(accepted.status, 204);

    // A success, and a refusal that is not a wrap-up: words, no corrected body.
    let ok = admin
        .diagnose_request(&request_id(&accepted))
        .await
        .unwrap();
    assert_eq!(ok.summary, "The request succeeded (204).");
    assert!(ok.suggestion.is_none() && ok.problems.is_empty());
    let missing = admin
        .raw(Method::GET, "/api/v2/nothing", &[], None)
        .await
        .unwrap();
    let words = admin.diagnose_request(&request_id(&missing)).await.unwrap();
    assert!(words.summary.contains("request.path.unknown"));
    assert!(words.summary.contains("What to do:"), "{}", words.summary);
    assert!(words.suggestion.is_none());

    let e = admin.diagnose_request("not-a-request").await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::InspectorRequestNotFound));
    let viewer = s.client("interaction:view", DivisionGrant::All).await;
    let e = viewer
        .diagnose_request(&request_id(&refused))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::AuthorizationMissingScope));
}

#[tokio::test]
async fn the_request_stream_follows_the_inspector_and_resumes() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    admin.list_divisions().await.unwrap(); // fetches the token before the stream opens
    let mut stream = admin.inspector_stream(None).await.unwrap();
    for path in ["/api/v2/one", "/api/v2/two", "/api/v2/three"] {
        admin.raw(Method::GET, path, &[], None).await.unwrap();
    }
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let entry = stream.next().await.unwrap().unwrap();
        seen.push((entry.sequence, entry.path));
    }
    let paths: Vec<&str> = seen.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(paths, ["/api/v2/one", "/api/v2/two", "/api/v2/three"]);
    assert!(seen.windows(2).all(|w| w[1].0 == w[0].0 + 1));
    // Resuming after the first one sends the two after it first.
    let mut resumed = admin.inspector_stream(Some(seen[0].0)).await.unwrap();
    for expected in ["/api/v2/two", "/api/v2/three"] {
        assert_eq!(resumed.next().await.unwrap().unwrap().path, expected);
    }
    // The list shows the same numbers, newest first, and filters by client.
    let listed = admin.inspected_requests(Some(3), None, None).await.unwrap();
    assert_eq!(listed[0].sequence, seen[2].0);
    let (their_id, secret) = s.credentials("interaction:view", DivisionGrant::All).await;
    let other = Client::new(&s.url)
        .with_credentials(&their_id.to_string(), &secret)
        .with_retry(RetryPolicy::none());
    other.list_divisions().await.unwrap();
    let raw = admin
        .raw(
            Method::GET,
            &format!("/api/v2/inspector/requests?clientId={their_id}"),
            &[],
            None,
        )
        .await
        .unwrap();
    let page: Page<InspectedRequest> = serde_json::from_slice(&raw.body).unwrap();
    let paths: Vec<&str> = page.entities.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/api/v2/authorization/divisions?pageSize=500"]);
    assert_eq!(page.entities[0].client_id, Some(their_id));
    let viewer = s.client("interaction:view", DivisionGrant::All).await;
    let e = viewer.inspector_stream(None).await.err().unwrap();
    assert_eq!(e.code(), Some(ErrorCode::AuthorizationMissingScope));
}

#[tokio::test]
async fn the_console_configuration_lists_the_demo_clients_only_on_a_demo_server() {
    let http = reqwest::Client::new();
    let s = TestServer::start().await;
    let config: Value = http
        .get(format!("{}/console/config.json", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config, json!({"demo": false, "demoClients": []}));

    let s = TestServer::builder()
        .config(Config {
            demo: true,
            settle_ms: SETTLE_MS,
            ..Config::default()
        })
        .start()
        .await;
    demo::seed(s.store.as_ref(), s.clock.now_ms())
        .await
        .unwrap();
    let response = http
        .get(format!("{}/console/config.json", s.url))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("content-security-policy"));
    let config: Value = response.json().await.unwrap();
    assert_eq!(config["demo"], true);
    let clients = config["demoClients"].as_array().unwrap();
    let names: Vec<&str> = clients
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["demo", "demo-viewer"]);
    for c in clients {
        let client = Client::new(&s.url)
            .with_credentials(
                c["clientId"].as_str().unwrap(),
                c["clientSecret"].as_str().unwrap(),
            )
            .with_retry(RetryPolicy::none());
        let granted = client.fetch_token().await.unwrap();
        let scopes: Vec<&str> = c["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(granted.scope, scopes.join(" "), "{c}");
    }
}

#[tokio::test]
async fn interactions_carry_their_finalization_deadline_and_filter_by_channel() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let chat = admin
        .create_interaction(sales, Channel::Chat)
        .await
        .unwrap();
    assert_eq!(chat.finalizes_at, None);
    admin.set_state(chat.id, TargetState::Active).await.unwrap();
    let closed = admin.set_state(chat.id, TargetState::Closed).await.unwrap();
    let due = closed.closed_at.unwrap() + time::Duration::milliseconds(SETTLE_MS);
    assert_eq!(closed.finalizes_at, Some(due));
    s.clock.advance(SETTLE_MS);
    s.finalize_now().await;
    let settled = admin.get_interaction(chat.id).await.unwrap();
    assert_eq!((settled.finalized, settled.finalizes_at), (true, Some(due)));
    s.interaction(&admin, sales, &[]).await; // voice
    let chats = admin
        .list_interactions(&InteractionQuery {
            channel: Some(Channel::Chat),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<Uuid> = chats.entities.iter().map(|i| i.id).collect();
    assert_eq!(ids, [chat.id]);
}

#[tokio::test]
async fn the_console_is_served_with_its_security_headers_and_apart_from_the_api() {
    let s = TestServer::start().await;
    let http = reqwest::Client::new();
    let page = http.get(format!("{}/", s.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self';",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    let prefix = format!("/console/{}", console::version());
    assert!(html.contains(&format!("{prefix}/js/app.js")), "{html}");
    assert!(!html.contains("{{ASSETS}}"));
    assert!(
        !html.contains("<script>") && !html.contains(" onclick="),
        "no inline script"
    );

    let asset = http
        .get(format!("{}{prefix}/js/app.js", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(asset.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(asset.headers().contains_key("content-security-policy"));
    for missing in [
        format!("/console/{}/js/app.js", "0".repeat(12)),
        format!("{prefix}/nothing.js"),
        format!("{prefix}/README.md"),
    ] {
        let r = http
            .get(format!("{}{missing}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{missing}");
        let body: ErrorBody = r.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::RequestPathUnknown);
    }

    // The console's own files are not in the request log, and faults never reach them.
    let admin = s.admin().await;
    admin
        .raw(
            Method::PUT,
            "/api/v2/admin/chaos",
            &[("content-type", "application/json")],
            Some(br#"{"spec": "503=100%"}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(
        http.get(format!("{}/", s.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let logged = s.inspected();
    assert!(logged
        .iter()
        .all(|e| e.path != "/" && !e.path.starts_with("/console/")));
}

#[test]
fn every_file_of_the_console_folder_is_embedded() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
    let mut found = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            // Documentation and the vendored package's licence files are not served.
            if relative == "README.md"
                || relative.ends_with("/LICENSE")
                || relative.ends_with("/NOTICE")
            {
                continue;
            }
            found.push(relative);
        }
    }
    found.sort();
    let mut embedded: Vec<String> = console::ASSETS.iter().map(|a| a.path.to_string()).collect();
    embedded.sort();
    assert_eq!(found, embedded, "list new console files in console::ASSETS");
    for asset in console::ASSETS {
        assert_ne!(
            asset.content_type, "application/octet-stream",
            "{}",
            asset.path
        );
    }
}

/// The console sends `X-Wrapup-Console` with each of its own requests (console/js/session.js)
/// and its request log hides, by default, the requests that carry it: the inspector keeps
/// the header as sent, and only on the requests that sent it.
#[tokio::test]
async fn the_inspector_keeps_the_header_that_marks_the_consoles_own_requests() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let path = "/api/v2/interactions/counts";
    admin
        .raw(Method::GET, path, &[("X-Wrapup-Console", "1")], None)
        .await
        .unwrap();
    admin.raw(Method::GET, path, &[], None).await.unwrap();
    let marked: Vec<Option<String>> = s
        .inspected()
        .iter()
        .filter(|e| e.path == path)
        .map(|e| {
            e.request_headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("x-wrapup-console"))
                .map(|h| h.value.clone())
        })
        .collect();
    // Newest first: the plain request, then the console's.
    assert_eq!(marked, [None, Some("1".to_string())]);
}

/// The live feed's notification topics: an event as the console got it, mapped by the
/// server's one mapping (no token needed: nothing is read); a body that is not such an event
/// is refused in the API's envelope.
#[tokio::test]
async fn the_notification_topics_of_a_feed_event_come_from_the_server() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let id = s
        .interaction(&admin, sales, &[TargetState::Active, TargetState::Closed])
        .await;
    let interaction = admin.get_interaction(id).await.unwrap();
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/console/notification-topics", s.url))
        .json(&json!({"kind": "interaction.state", "interaction": interaction}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("content-security-policy"));
    let body: Value = response.json().await.unwrap();
    let names: Vec<&str> = body["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["topicName"].as_str().unwrap())
        .collect();
    let topic = |kind: &str| format!("v2.detail.events.conversation.{id}.{kind}");
    assert_eq!(
        names,
        [topic("acw"), topic("customer.end"), topic("user.end")]
    );
    assert_eq!(
        body["topics"][0]["eventBody"]["conversationId"],
        id.to_string()
    );
    let refused = http
        .post(format!("{}/console/notification-topics", s.url))
        .json(&json!({"kind": "interaction.nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert!(error["code"].as_str().is_some(), "{error}");
}
