//! A full disk (docs/operations.md#a-full-disk): a write SQLite cannot store is answered
//! 503 `service.unavailable` saying the server could not write to its database and why,
//! nothing of the request is applied, reads go on, and writes succeed again once there is
//! room, without a restart. The disk is "full" the way SQLite sees it: the database may not
//! grow (`max_page_count`), which fails writes with `SQLITE_FULL`, as a full disk does.
//! And a failed fsync (docs/operations.md#a-full-disk): its writes are answered 503 saying
//! whether they were stored is unknown, and later writes are refused until a restart.

use std::sync::Arc;

use uuid::Uuid;
use wrapup_client::{Client, Error, RetryPolicy};
use wrapup_server::new_client;
use wrapup_server::{App, Clock, Config, SystemClock};
use wrapup_store::testing::TestDb;
use wrapup_store::{SqliteStore, Store};
use wrapup_types::{Channel, DivisionGrant, ErrorCode, Interaction, ScopeSet};

/// A server on its own SQLite store, and a client with every scope.
async fn server_on(db: &TestDb) -> (Arc<SqliteStore>, Client) {
    let store = Arc::new(SqliteStore::open(&db.url).await.unwrap());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = App::start(store.clone(), clock.clone(), Config::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (record, secret) = new_client(
        Uuid::new_v4(),
        "disk",
        ScopeSet::all(),
        DivisionGrant::All,
        clock.now_ms(),
        None,
    );
    store.create_client(&record).await.unwrap();
    let api = Client::new(&url)
        .with_credentials(&record.id.to_string(), &secret)
        .with_retry(RetryPolicy::none());
    (store, api)
}

/// A division "Sales" and an interaction in it, stored before the disk fails.
async fn first_interaction(api: &Client) -> (Uuid, Interaction) {
    let division = api.create_division("Sales").await.unwrap().id;
    let interaction = api
        .create_interaction(division, Channel::Voice)
        .await
        .unwrap();
    (division, interaction)
}

#[tokio::test]
async fn a_full_disk_answers_503_saying_so_and_recovers() {
    let db = TestDb::sqlite();
    let (store, api) = server_on(&db).await;
    let (division, before) = first_interaction(&api).await;

    store.cap_pages_for_tests(Some(1)).await;
    let mut refused = None;
    for _ in 0..1_000 {
        match api.create_interaction(division, Channel::Voice).await {
            Ok(_) => continue,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let error = refused.expect("the full database refuses a write");
    let Error::Api { status, body, .. } = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!((*status, body.code), (503, ErrorCode::ServiceUnavailable));
    assert!(
        body.message
            .starts_with("The server could not write to its database: the disk is full"),
        "{}",
        body.message
    );
    assert!(
        body.message.ends_with("Nothing was changed."),
        "{}",
        body.message
    );
    assert!(!body.message.contains("not answering"), "{}", body.message);
    // Reads go on.
    assert_eq!(api.get_interaction(before.id).await.unwrap().id, before.id);

    // Room again: writes succeed, no restart needed.
    store.cap_pages_for_tests(None).await;
    api.create_interaction(division, Channel::Voice)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failed_fsync_answers_503_saying_so_and_refuses_later_writes() {
    let db = TestDb::sqlite();
    let (store, api) = server_on(&db).await;
    let (division, before) = first_interaction(&api).await;

    store.fail_next_sync_for_tests();
    let error = api
        .create_interaction(division, Channel::Voice)
        .await
        .expect_err("a write whose fsync failed is not acknowledged");
    let Error::Api { status, body, .. } = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!((*status, body.code), (503, ErrorCode::ServiceUnavailable));
    assert_eq!(
        body.message,
        "The server could not make the change durable: fsync of the database's WAL failed: \
         an fsync failure injected by a test. Whether it was stored is unknown until the server \
         restarts."
    );
    // Reads go on; writes are refused until a restart.
    assert_eq!(api.get_interaction(before.id).await.unwrap().id, before.id);
    let Error::Api { status, body, .. } = api
        .create_interaction(division, Channel::Voice)
        .await
        .expect_err("writes after a failed fsync are refused")
    else {
        panic!("expected an API error");
    };
    assert_eq!((status, body.code), (503, ErrorCode::ServiceUnavailable));
    assert!(
        body.message.contains("nothing was changed"),
        "{}",
        body.message
    );
    store.close().await;

    // After the restart, the database takes writes again.
    let (_store, api) = server_on(&db).await;
    api.create_interaction(division, Channel::Voice)
        .await
        .unwrap();
}
