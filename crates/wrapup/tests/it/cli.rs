//! The `wrapup` binary: `serve`, `serve --demo` (idempotent), `serve --mmap-mib`, `serve
//! --warm-read-cache`, `serve --http-workers`, `clients create` on the database of a running
//! server, usage errors.

use std::process::Command;

use wrapup_store::{InteractionFilter, PageRequest};
use wrapup_types::DivisionGrant;

use crate::common::{api_client, create_client, succeeded, Server, BIN};

#[tokio::test]
async fn clients_create_works_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    let server = Server::start(&db, &[]);
    let out = succeeded(Command::new(BIN).args([
        "clients",
        "create",
        "--db",
        &db,
        "--name",
        "crm",
        "--scopes",
        "interaction:view interaction:write",
        "--divisions",
        "all",
        "--json",
    ]));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        created["scopes"],
        serde_json::json!(["interaction:view", "interaction:write"])
    );
    assert_eq!(created["divisions"], "all");
    let client = wrapup_client::Client::new(&server.url).with_credentials(
        created["clientId"].as_str().unwrap(),
        created["clientSecret"].as_str().unwrap(),
    );
    let token = client.fetch_token().await.unwrap();
    assert_eq!(token.scope, "interaction:view interaction:write");
    client.list_interactions(&Default::default()).await.unwrap();
}

#[tokio::test]
async fn demo_seeding_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    for _ in 0..2 {
        let server = Server::start(&db, &["--demo"]);
        let demo = wrapup_client::Client::new(&server.url).with_credentials(
            &wrapup_server::demo::DEMO_CLIENT_ID.to_string(),
            wrapup_server::demo::DEMO_CLIENT_SECRET,
        );
        assert_eq!(demo.list_divisions().await.unwrap().entities.len(), 2);
    }
    let store = wrapup_store::open(&db).await.unwrap();
    let all = store
        .list_interactions(
            &DivisionGrant::All,
            &InteractionFilter::default(),
            PageRequest {
                after: None,
                limit: 100,
            },
        )
        .await
        .unwrap();
    // Five interactions, three more in the Genesys states, and one under each of the five
    // queues (docs/genesys.md).
    assert_eq!(all.len(), 13, "a second start does not duplicate the demo");
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    let out = Command::new(BIN)
        .args(["serve", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    for args in [
        &["serve", "--help"][..],
        &["clients", "create", "--help"],
        &["migrate", "--help"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Example"),
            "{args:?}"
        );
    }
    let out = Command::new(BIN)
        .args([
            "clients",
            "create",
            "--db",
            "sqlite::memory:",
            "--name",
            "x",
            "--scopes",
            "root",
            "--divisions",
            "all",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("root is not a scope"));
}

/// The first page of interactions is not empty, and a GET of each answers what it shows.
async fn gets_answer_what_the_list_shows(client: &wrapup_client::Client) {
    let listed = client.list_interactions(&Default::default()).await.unwrap();
    assert!(!listed.entities.is_empty());
    for interaction in &listed.entities {
        assert_eq!(
            &client.get_interaction(interaction.id).await.unwrap(),
            interaction
        );
    }
}

/// `--http-workers N`: N threads serve the connections (named `wrapup-http-<i>`, as a
/// profiler or `top -H` shows them), and the API answers on one as on several; 0 is a usage
/// error.
#[tokio::test]
async fn serve_serves_its_connections_on_the_workers_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("workers.db").display());
    for workers in [1, 3] {
        let server = Server::start(&db, &["--demo", "--http-workers", &workers.to_string()]);
        let demo = wrapup_client::Client::new(&server.url).with_credentials(
            &wrapup_server::demo::DEMO_CLIENT_ID.to_string(),
            wrapup_server::demo::DEMO_CLIENT_SECRET,
        );
        gets_answer_what_the_list_shows(&demo).await;
        let tasks = format!("/proc/{}/task", server.process.id());
        let mut names: Vec<String> = std::fs::read_dir(&tasks)
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_string())
            .filter(|name| name.starts_with("wrapup-http-"))
            .collect();
        names.sort();
        let expected: Vec<String> = (0..workers).map(|i| format!("wrapup-http-{i}")).collect();
        assert_eq!(names, expected);
    }
    let out = Command::new(BIN)
        .args(["serve", "--http-workers", "0", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--http-workers"));
}

/// `--mmap-mib` (SQLite's readers through a memory map): the server reads what it wrote,
/// with the read cache off so that every GET reads the database; more than SQLite can map is
/// a usage error.
#[tokio::test]
async fn serve_reads_through_a_memory_map_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("mmap.db").display());
    let server = Server::start(&db, &["--demo", "--mmap-mib", "16", "--read-cache", "0"]);
    let demo = wrapup_client::Client::new(&server.url).with_credentials(
        &wrapup_server::demo::DEMO_CLIENT_ID.to_string(),
        wrapup_server::demo::DEMO_CLIENT_SECRET,
    );
    gets_answer_what_the_list_shows(&demo).await;
    assert!(
        !server.stderr().contains("maps less"),
        "{}",
        server.stderr()
    );

    let out = Command::new(BIN)
        .args(["serve", "--mmap-mib", "65537", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--mmap-mib"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--warm-read-cache`: the server fills its read cache with the seeded interactions in the
/// background (the `wrapup_read_cache_entries` metric counts them), and answers from it
/// what the database holds.
#[tokio::test]
async fn serve_warms_its_read_cache_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("warm.db").display());
    succeeded(Command::new(BIN).args(["seed", "--json", "--interactions", "300", "--db", &db]));
    let creds = create_client(&db);
    let server = Server::start(&db, &["--warm-read-cache", "--read-cache", "1000"]);
    let metrics = format!("{}/metrics", server.url);
    let cached = || async {
        let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("wrapup_read_cache_entries "))
            .map(str::to_string)
    };
    wrapup_server::testkit::eventually(
        "the 300 interactions cached",
        std::time::Duration::from_secs(10),
        || async { cached().await.as_deref() == Some("300") },
    )
    .await;
    let client = api_client(&server.url, &creds);
    gets_answer_what_the_list_shows(&client).await;
    assert_eq!(cached().await.as_deref(), Some("300"), "hits add nothing");
}
