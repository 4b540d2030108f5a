//! Authentication, scopes and divisions, for every endpoint.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;
use wrapup_client::Client;
use wrapup_server::testkit::*;
use wrapup_types::{DivisionGrant, ErrorCode, TargetState};

/// Every operation under /api/v2 with the scope it needs (None: any valid token).
fn operations(
    interaction: Uuid,
    code: Uuid,
) -> Vec<(
    Method,
    String,
    Option<&'static str>,
    Option<serde_json::Value>,
)> {
    vec![
        (
            Method::GET,
            "/api/v2/authorization/divisions".into(),
            None,
            None,
        ),
        (
            Method::POST,
            "/api/v2/authorization/divisions".into(),
            Some("admin"),
            Some(json!({"name": "X"})),
        ),
        (
            Method::POST,
            "/api/v2/oauth/clients".into(),
            Some("admin"),
            Some(json!({"name": "c", "scopes": [], "divisions": "all"})),
        ),
        (
            Method::GET,
            "/api/v2/routing/wrapupcodes".into(),
            Some("wrapup-code:view"),
            None,
        ),
        (
            Method::POST,
            "/api/v2/routing/wrapupcodes".into(),
            Some("wrapup-code:manage"),
            Some(json!({"name": "n", "divisionId": Uuid::nil()})),
        ),
        (
            Method::GET,
            format!("/api/v2/routing/wrapupcodes/{code}"),
            Some("wrapup-code:view"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v2/routing/wrapupcodes/{code}"),
            Some("wrapup-code:manage"),
            Some(json!({"name": "n"})),
        ),
        (
            Method::DELETE,
            format!("/api/v2/routing/wrapupcodes/{code}"),
            Some("wrapup-code:manage"),
            None,
        ),
        (
            Method::POST,
            "/api/v2/interactions".into(),
            Some("interaction:manage"),
            Some(json!({"divisionId": Uuid::nil(), "channel": "voice"})),
        ),
        (
            Method::GET,
            "/api/v2/interactions".into(),
            Some("interaction:view"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v2/interactions/{interaction}"),
            Some("interaction:view"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v2/interactions/{interaction}/state"),
            Some("interaction:manage"),
            Some(json!({"state": "active"})),
        ),
        (
            Method::PUT,
            format!("/api/v2/interactions/{interaction}/wrap-up"),
            Some("interaction:write"),
            Some(json!({"codeId": code, "durationMs": 1})),
        ),
        (
            Method::GET,
            format!("/api/v2/interactions/{interaction}/wrap-up"),
            Some("interaction:view"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v2/interactions/{interaction}/wrap-up/history"),
            Some("interaction:view"),
            None,
        ),
    ]
}

async fn send(
    client: &Client,
    method: &Method,
    path: &str,
    body: &Option<serde_json::Value>,
) -> wrapup_client::RawResponse {
    let bytes = body.as_ref().map(|b| b.to_string().into_bytes());
    client
        .raw(
            method.clone(),
            path,
            &[("content-type", "application/json")],
            bytes,
        )
        .await
        .unwrap()
}

const ALL_SCOPES: [&str; 6] = [
    "interaction:view",
    "interaction:write",
    "interaction:manage",
    "wrapup-code:view",
    "wrapup-code:manage",
    "admin",
];

#[tokio::test]
async fn every_endpoint_needs_its_scope() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (div, code) = s.division_with_code(&admin, "Sales", "Sale").await;
    let id = s.interaction(&admin, div, &[]).await;
    for (method, path, scope, body) in operations(id, code) {
        let Some(scope) = scope else { continue };
        let others: Vec<&str> = ALL_SCOPES.iter().copied().filter(|s| *s != scope).collect();
        let client = s.client(&others.join(" "), DivisionGrant::All).await;
        let r = send(&client, &method, &path, &body).await;
        assert_eq!(r.status, 403, "{method} {path}");
        let e = error_of(&r);
        assert_eq!(
            e.code,
            ErrorCode::AuthorizationMissingScope,
            "{method} {path}"
        );
        assert!(
            e.message.contains(&format!("\"{scope}\"")),
            "{method} {path}: {}",
            e.message
        );
        // A token narrowed to other scopes is refused the same way.
        let narrowed = s.admin().await.with_scope("interaction:view");
        if scope != "interaction:view" {
            assert_eq!(
                send(&narrowed, &method, &path, &body).await.status,
                403,
                "{method} {path}"
            );
        }
    }
}

/// Read from the OpenAPI document rather than listed: every method of every path that has
/// an operation needing a token, sent without one. A documented operation (and HEAD, where
/// the path has GET) answers 401; any other method 405 without looking at the token
/// (docs/api.md). The authenticating step tells them apart by the document's methods
/// (`TokenPaths`), so this also holds the document to the methods the router serves: a
/// method served but not documented would reach its handler here instead of answering 405.
#[tokio::test]
async fn every_documented_operation_needs_a_token_and_a_missing_method_does_not() {
    let s = TestServer::start().await;
    let anonymous = Client::new(&s.url);
    let doc = serde_json::to_value(wrapup_server::openapi_document()).unwrap();
    let parameter = regex::Regex::new(r"\{[^}]+\}").unwrap();
    let id = Uuid::new_v4().to_string();
    // `[{}]` (or a `{}` among them) is "no token needed".
    let needs_token = |op: &serde_json::Value| {
        op["security"].as_array().is_some_and(|requirements| {
            !requirements.is_empty()
                && requirements
                    .iter()
                    .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        })
    };
    let methods = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PURGE",
    ];
    let (mut refused, mut unsupported) = (0, 0);
    for (pattern, item) in doc["paths"].as_object().unwrap() {
        let item = item.as_object().unwrap();
        if !item.values().any(needs_token) {
            continue;
        }
        let path = parameter.replace_all(pattern, id.as_str()).into_owned();
        for name in methods {
            let key = name.to_lowercase();
            let documented = match item.get(&key) {
                Some(op) if needs_token(op) => true,
                Some(_) => continue, // an operation anyone may call
                None => name == "HEAD" && item.get("get").is_some_and(needs_token),
            };
            let method = Method::from_bytes(name.as_bytes()).unwrap();
            let r = send(&anonymous, &method, &path, &None).await;
            let (status, code) = if documented {
                refused += 1;
                (401, "authentication.required")
            } else {
                unsupported += 1;
                (405, "request.method.unsupported")
            };
            // A HEAD answer has no body to read the code from.
            let codes = if name == "HEAD" {
                vec![code.to_string()]
            } else {
                codes_of(&r)
            };
            assert_eq!(
                (r.status.as_u16(), codes),
                (status, vec![code.to_string()]),
                "{name} {pattern}"
            );
        }
    }
    assert!(
        refused > 80 && unsupported > 200,
        "{refused} refused, {unsupported} unsupported"
    );
}

#[tokio::test]
async fn authentication_errors() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let anonymous = Client::new(&s.url);
    for (method, path, _, body) in operations(Uuid::new_v4(), Uuid::new_v4()) {
        let r = send(&anonymous, &method, &path, &body).await;
        assert_eq!(
            (r.status.as_u16(), codes_of(&r)),
            (401, vec!["authentication.required".to_string()]),
            "{method} {path}"
        );
    }
    let r = anonymous
        .raw(
            Method::GET,
            "/api/v2/interactions",
            &[("authorization", "Basic abc")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(codes_of(&r), ["authentication.required"]);
    let r = anonymous
        .raw(
            Method::GET,
            "/api/v2/interactions",
            &[("authorization", "Bearer")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(codes_of(&r), ["authentication.required"]);
    // Not a token at all: what the token request answered, or an empty variable. The
    // answer says what was sent instead of blaming another server's token.
    let oauth_error = r#"Bearer {"error":"invalid_client","error_description":"Unknown client or wrong secret."}"#;
    let r = anonymous
        .raw(
            Method::GET,
            "/api/v2/interactions",
            &[("authorization", oauth_error)],
            None,
        )
        .await
        .unwrap();
    let e = error_of(&r);
    assert_eq!(
        (r.status.as_u16(), e.code),
        (401, ErrorCode::AuthenticationInvalid)
    );
    let said = format!(
        "{} {}",
        e.message,
        e.details[0].hint.clone().unwrap_or_default()
    );
    assert!(
        said.contains("invalid_client") && said.contains("wu_"),
        "{said}"
    );
    assert!(!said.contains("another server"), "{said}");
    let r = anonymous
        .raw(
            Method::GET,
            "/api/v2/interactions",
            &[("authorization", "Bearer ")],
            None,
        )
        .await
        .unwrap();
    let e = error_of(&r);
    assert_eq!(e.code, ErrorCode::AuthenticationRequired);
    assert!(e.message.contains("empty"), "{}", e.message);
    let bogus = Client::new(&s.url).with_token("wu_not-a-real-token");
    let r = bogus
        .raw(Method::GET, "/api/v2/interactions", &[], None)
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (401, vec!["authentication.invalid".to_string()])
    );
    let token = admin.fetch_token().await.unwrap().access_token;
    let holder = Client::new(&s.url).with_token(&token);
    assert_eq!(
        holder
            .raw(Method::GET, "/api/v2/interactions", &[], None)
            .await
            .unwrap()
            .status,
        200
    );
    s.clock.advance(86_400_000);
    let r = holder
        .raw(Method::GET, "/api/v2/interactions", &[], None)
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (401, vec!["authentication.expired".to_string()])
    );
    // The OpenAPI document needs no token.
    assert_eq!(
        anonymous
            .raw(Method::GET, "/api/v2/openapi.json", &[], None)
            .await
            .unwrap()
            .status,
        200
    );
}

/// Strips what differs between two answers to the same question (the request id).
fn comparable(r: &wrapup_client::RawResponse, id: &str, random: &str) -> (u16, String) {
    let mut e = error_of(r);
    e.context_id.clear();
    (
        r.status.as_u16(),
        serde_json::to_string(&e)
            .unwrap()
            .replace(id, "ID")
            .replace(random, "ID"),
    )
}

#[tokio::test]
async fn other_divisions_are_invisible() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let a = s.division(&admin, "A").await;
    let b = s.division(&admin, "B").await;
    let code_a = s.code(&admin, a, "Sale").await;
    let code_b = s.code(&admin, b, "Sale").await;
    let in_b = s.finalized(&admin, b).await;
    let in_a = s.finalized(&admin, a).await;
    let only_a = s
        .client(&ALL_SCOPES.join(" "), DivisionGrant::Only(vec![a]))
        .await;

    // Every operation on B's interaction and code answers exactly like one on random ids.
    let (random_i, random_c) = (Uuid::new_v4(), Uuid::new_v4());
    let real = operations(in_b, code_b);
    let fake = operations(random_i, random_c);
    for ((method, path, _, body), (_, fake_path, _, fake_body)) in real.iter().zip(fake.iter()) {
        if !path.contains(&in_b.to_string()) && !path.contains(&code_b.to_string()) {
            continue;
        }
        let seen = send(&only_a, method, path, body).await;
        let unseen = send(&only_a, method, fake_path, fake_body).await;
        assert!(
            seen.status.is_client_error(),
            "{method} {path}: {}",
            seen.status
        );
        let (x, y) = (
            comparable(&seen, &in_b.to_string(), &code_b.to_string()),
            comparable(&unseen, &random_i.to_string(), &random_c.to_string()),
        );
        assert_eq!(x, y, "{method} {path}");
    }
    // Lists show only A.
    let page = only_a.list_interactions(&Default::default()).await.unwrap();
    assert!(
        page.entities.iter().all(|i| i.division_id == a)
            && page.entities.iter().any(|i| i.id == in_a)
    );
    let codes = only_a.list_codes(&Default::default()).await.unwrap();
    assert_eq!(
        codes.entities.iter().map(|c| c.id).collect::<Vec<_>>(),
        [code_a]
    );
    let divisions = only_a.list_divisions().await.unwrap();
    assert_eq!(
        divisions.entities.iter().map(|d| d.id).collect::<Vec<_>>(),
        [a]
    );
    // A code of B applied to an interaction of A: same answer as a random code id.
    let with_b = put_raw(
        &only_a,
        &in_a.to_string(),
        "application/json",
        json!({"codeId": code_b, "durationMs": 5})
            .to_string()
            .as_bytes(),
    )
    .await;
    let with_random = put_raw(
        &only_a,
        &in_a.to_string(),
        "application/json",
        json!({"codeId": random_c, "durationMs": 5})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_eq!(
        comparable(&with_b, &code_b.to_string(), ""),
        comparable(&with_random, &random_c.to_string(), "")
    );
    assert_eq!(codes_of(&with_b), ["wrapup.code.not.found"]);
    // Creating in B is refused like creating in a division that does not exist.
    let e = only_a
        .create_interaction(b, wrapup_types::Channel::Voice)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::DivisionNotFound));
    // And B's interaction is untouched.
    assert_eq!(admin.get_interaction(in_b).await.unwrap().version, 4);
    let _ = TargetState::Active;
}

#[tokio::test]
async fn token_endpoint() {
    let s = TestServer::start().await;
    let (id, secret) = s
        .credentials("interaction:view interaction:write", DivisionGrant::All)
        .await;
    let http = reqwest::Client::new();
    let url = format!("{}/oauth/token", s.url);
    // HTTP Basic.
    let r = http
        .post(&url)
        .basic_auth(id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (t["token_type"].as_str(), t["expires_in"].as_u64()),
        (Some("bearer"), Some(86_400))
    );
    assert_eq!(t["scope"], "interaction:view interaction:write");
    // Form fields, with a narrower scope.
    let r = http
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id.to_string()),
            ("client_secret", &secret),
            ("scope", "interaction:view"),
        ])
        .send()
        .await
        .unwrap();
    let t: serde_json::Value = r.json().await.unwrap();
    assert_eq!(t["scope"], "interaction:view");
    let narrowed = Client::new(&s.url).with_token(t["access_token"].as_str().unwrap());
    let r = narrowed
        .raw(
            Method::PUT,
            &format!("/api/v2/interactions/{}/wrap-up", Uuid::new_v4()),
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!(codes_of(&r), ["authorization.missing.scope"]);

    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            http.post(&url)
                .basic_auth(id, Some("wrong"))
                .form(&[("grant_type", "client_credentials")]),
            401,
            "invalid_client",
        ),
        (
            http.post(&url)
                .basic_auth(Uuid::new_v4(), Some(&secret))
                .form(&[("grant_type", "client_credentials")]),
            401,
            "invalid_client",
        ),
        (
            http.post(&url)
                .form(&[("grant_type", "client_credentials")]),
            401,
            "invalid_client",
        ),
        (
            http.post(&url)
                .basic_auth(id, Some(&secret))
                .form(&[("grant_type", "password")]),
            400,
            "unsupported_grant_type",
        ),
        (
            http.post(&url)
                .basic_auth(id, Some(&secret))
                .form(&[("scope", "admin")]),
            400,
            "invalid_request",
        ),
        (
            http.post(&url)
                .basic_auth(id, Some(&secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "admin")]),
            400,
            "invalid_scope",
        ),
        (
            http.post(&url)
                .basic_auth(id, Some(&secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "bogus")]),
            400,
            "invalid_scope",
        ),
        (
            http.post(&url)
                .basic_auth(id, Some(&secret))
                .json(&json!({"grant_type": "client_credentials"})),
            400,
            "invalid_request",
        ),
    ];
    for (request, status, error) in cases {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{error}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], error);
        assert!(!body["error_description"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn secrets_and_tokens_are_stored_only_as_hashes() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let token = admin.fetch_token().await.unwrap().access_token;
    let created = admin
        .create_client(&wrapup_types::CreateClient {
            name: "crm".into(),
            scopes: vec!["interaction:view".into()],
            divisions: DivisionGrant::All,
        })
        .await
        .unwrap();
    drop(admin);
    let stored = match s.db.sqlite_path() {
        Some(path) => {
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
            bytes
        }
        None => postgres_dump(&s.db.url).await.into_bytes(),
    };
    let contains = |needle: &str| stored.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!contains(&token), "the token is stored in clear");
    assert!(
        !contains(&created.client_secret),
        "the secret is stored in clear"
    );
}

/// Every row of every table of a PostgreSQL database, as text.
async fn postgres_dump(url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let mut all = String::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT (t.*)::text FROM {table} AS t"))
                .fetch_all(&mut conn)
                .await
                .unwrap();
        all.push_str(&rows.join("\n"));
    }
    all
}
