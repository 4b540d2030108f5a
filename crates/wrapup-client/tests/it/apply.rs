//! `Client::apply` against the real server (in-process, manual clock) and, for the
//! fallbacks, against scripted faults.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::fake::{interaction_json, token, FakeServer, Reply};
use uuid::Uuid;
use wrapup_client::{
    ApplyEffect, ApplyError, ApplyOptions, Client, CodeRef, RetryPolicy, ValidWrapUp, WaitVia,
};
use wrapup_server::testkit::*;
use wrapup_types::{CreateWrapUpCode, DivisionGrant, EventKind, InteractionState, TargetState};

fn wrapup(code: Uuid, ms: u64) -> ValidWrapUp {
    ValidWrapUp::new(code, Duration::from_millis(ms)).unwrap()
}

/// Waits (bounded) until the server has `n` event-stream subscribers.
async fn subscribers(server: &TestServer, n: i64) {
    eventually(
        &format!("{n} event-stream subscribers (the subscriber connects)"),
        Duration::from_secs(10),
        || async { server.app.load().event_streams() == n },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_waits_on_the_event_stream_and_applies_right_after_finalization() {
    let server = TestServer::start().await;
    let admin = Arc::new(server.admin().await);
    let (division, code) = server.division_with_code(&admin, "Sales", "Sale").await;
    let id = server
        .interaction(&admin, division, &[TargetState::Active])
        .await;
    let mut events = server.store.subscribe();

    let applier = admin.clone();
    // apply says when it has read the interaction and starts waiting on the stream.
    let waiting = Arc::new(tokio::sync::Notify::new());
    let told = waiting.clone();
    let options = ApplyOptions {
        progress: Some(Arc::new(move |message: &str| {
            if message.starts_with("waiting") {
                told.notify_one();
            }
        })),
        ..ApplyOptions::default()
    };
    let task = tokio::spawn(async move {
        let report = applier.apply(id, &wrapup(code, 120_000), &options).await;
        (report, Instant::now())
    });
    tokio::time::timeout(Duration::from_secs(10), waiting.notified())
        .await
        .expect("apply starts waiting");
    subscribers(&server, 1).await; // on the event stream

    // Another party closes the interaction; the platform settles it.
    admin.set_state(id, TargetState::Closed).await.unwrap();
    server.clock.advance(SETTLE_MS);
    TestServer::wait_for_event(&mut events, id, EventKind::Finalized).await;
    let finalized_seen = Instant::now();
    let (report, done) = task.await.unwrap();
    let report = report.unwrap();

    assert_eq!(report.outcome, ApplyEffect::Applied);
    assert_eq!(report.via, WaitVia::Events);
    assert_eq!(report.polls, 0);
    assert_eq!(report.puts, 1);
    let latency = done.saturating_duration_since(finalized_seen);
    assert!(
        latency < Duration::from_secs(2),
        "applied {latency:?} after finalization"
    );
    let interaction = admin.get_interaction(id).await.unwrap();
    assert_eq!(interaction.state, InteractionState::Completed);
    assert_eq!(interaction.wrap_up.unwrap().duration_ms, 120_000);

    // No polling: the interaction was read exactly once (before waiting); the rest came
    // from the stream.
    let reads = admin
        .inspected_requests(
            Some(1000),
            None,
            Some(&format!("/api/v2/interactions/{id}")),
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == format!("/api/v2/interactions/{id}"))
        .count();
    assert_eq!(reads, 2, "one read by apply, one by this test");
}

#[tokio::test]
async fn a_second_apply_is_a_no_op_and_a_different_one_replaces() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, sale) = server.division_with_code(&admin, "Sales", "Sale").await;
    let callback = server.code(&admin, division, "Callback").await;
    let id = server.finalized(&admin, division).await;
    let options = ApplyOptions::default();

    let first = admin
        .apply(id, &wrapup(sale, 60_000), &options)
        .await
        .unwrap();
    assert_eq!(
        (first.outcome, first.via, first.puts),
        (ApplyEffect::Applied, WaitVia::NoWait, 1)
    );
    let again = admin
        .apply(id, &wrapup(sale, 60_000), &options)
        .await
        .unwrap();
    assert_eq!(
        (again.outcome, again.puts),
        (ApplyEffect::AlreadyInPlace, 0)
    );
    let other = admin
        .apply(
            id,
            &wrapup(callback, 60_000)
                .with_notes("call back at 5")
                .unwrap(),
            &options,
        )
        .await
        .unwrap();
    assert_eq!(other.outcome, ApplyEffect::Replaced);
    assert_eq!(admin.wrapup_history(id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn apply_gives_up_when_the_wait_runs_out_and_says_where_it_stands() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, code) = server.division_with_code(&admin, "Sales", "Sale").await;
    let id = server
        .interaction(
            &admin,
            division,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;
    let options = ApplyOptions {
        wait: Duration::from_millis(50),
        ..ApplyOptions::default()
    };
    let err = admin
        .apply(id, &wrapup(code, 1000), &options)
        .await
        .unwrap_err();
    match &err {
        ApplyError::TimedOut {
            state, finalized, ..
        } => assert_eq!((*state, *finalized), (InteractionState::Closed, false)),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("closed but not finalized"),
        "{err}"
    );
}

#[tokio::test]
async fn refusals_are_reported_not_retried() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let (_support, other) = server
        .division_with_code(&admin, "Support", "Resolved")
        .await;
    let id = server.finalized(&admin, sales).await;
    let err = admin
        .apply(id, &wrapup(other, 1000), &ApplyOptions::default())
        .await
        .unwrap_err();
    match err {
        ApplyError::Failed(e) => {
            assert_eq!(
                e.code(),
                Some(wrapup_types::ErrorCode::WrapupCodeDivisionMismatch)
            );
            assert!(!e.is_connectivity());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn code_names_resolve_within_the_interactions_division() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let support = server.division(&admin, "Support").await;
    let sale = server.code(&admin, sales, "Sale").await;
    server.code(&admin, support, "Resolved").await;
    let old = admin
        .create_code(&CreateWrapUpCode {
            name: "Legacy".into(),
            division_id: sales,
            description: None,
        })
        .await
        .unwrap();
    admin.archive_code(old.id).await.unwrap();
    let id = server.finalized(&admin, sales).await;
    let interaction = admin.get_interaction(id).await.unwrap();

    let by_name = |n: &str| CodeRef::Name(n.into());
    assert_eq!(
        admin
            .resolve_code(&interaction, &by_name("sale"))
            .await
            .unwrap(),
        sale
    );
    let missing = admin
        .resolve_code(&interaction, &by_name("Resolved"))
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("no wrap-up code named \"Resolved\""),
        "{missing}"
    );
    let archived = admin
        .resolve_code(&interaction, &by_name("Legacy"))
        .await
        .unwrap_err();
    assert!(archived.to_string().contains("archived"), "{archived}");
    let any = Uuid::new_v4();
    assert_eq!(
        admin
            .resolve_code(&interaction, &CodeRef::Id(any))
            .await
            .unwrap(),
        any
    );
}

/// A name that is not in the interaction's division gets the reason the server would give
/// for the code meant (another division, archived), or the name probably meant.
#[tokio::test]
async fn code_names_that_miss_say_why() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let support = server.division(&admin, "Support").await;
    server.code(&admin, sales, "Sale").await;
    server.code(&admin, sales, "Callback").await;
    server.code(&admin, support, "Resolved").await;
    let id = server.finalized(&admin, sales).await;
    let interaction = admin.get_interaction(id).await.unwrap();
    let miss = |e: ApplyError| match e {
        ApplyError::Code { detail, .. } => detail,
        other => panic!("{other:?}"),
    };

    let typo = miss(
        admin
            .resolve_code(&interaction, &CodeRef::Name("Sael".into()))
            .await
            .unwrap_err(),
    );
    assert_eq!(typo.error_code, wrapup_types::ErrorCode::WrapupCodeNotFound);
    assert!(
        typo.message.contains("did you mean \"Sale\"?"),
        "{}",
        typo.message
    );
    assert!(
        typo.message.contains(&format!("division Sales ({sales})")),
        "{}",
        typo.message
    );

    let unrelated = miss(
        admin
            .resolve_code(&interaction, &CodeRef::Name("Zebra".into()))
            .await
            .unwrap_err(),
    );
    assert!(
        unrelated
            .message
            .contains("its codes are \"Callback\", \"Sale\""),
        "{}",
        unrelated.message
    );

    // What the server answers for that code, in its words: the divisions by name.
    let other = miss(
        admin
            .resolve_code(&interaction, &CodeRef::Name("resolved".into()))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        other.error_code,
        wrapup_types::ErrorCode::WrapupCodeDivisionMismatch
    );
    assert!(
        other.message.contains(&format!(
            "Wrap-up code \"Resolved\" belongs to division Support ({support}), but the interaction is in division Sales ({sales})."
        )),
        "{}",
        other.message
    );
}

#[tokio::test]
async fn without_an_event_stream_apply_polls_with_backoff() {
    let id = Uuid::new_v4();
    let path = format!("/api/v2/interactions/{id}");
    let get = path.clone();
    let server = FakeServer::start(move |method, p, n| match (method, p) {
        ("POST", "/oauth/token") => token(),
        ("GET", "/api/v2/interactions/events") => Reply::error(404, "request.path.unknown", None),
        ("GET", p) if p == get && n < 3 => Reply::json(200, interaction_json(id, "closed", false)),
        ("GET", p) if p == get => Reply::json(200, interaction_json(id, "closed", true)),
        ("PUT", _) => Reply::empty(204),
        _ => Reply::empty(500),
    })
    .await;
    let client = Client::new(&server.url).with_credentials("id", "secret");
    let report = client
        .apply(id, &wrapup(Uuid::new_v4(), 1000), &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(report.via, WaitVia::Polling);
    assert_eq!(report.polls, 3);
    assert_eq!(server.count("GET", &path), 4);
    assert_eq!(server.count("PUT", &format!("{path}/wrap-up")), 1);
}

#[tokio::test]
async fn not_finalized_from_the_server_means_wait_and_retry() {
    let id = Uuid::new_v4();
    let server = FakeServer::start(move |method, p, n| match (method, p) {
        ("POST", "/oauth/token") => token(),
        ("GET", "/api/v2/interactions/events") => Reply::error(503, "service.unavailable", None),
        ("GET", _) => Reply::json(200, interaction_json(id, "closed", true)),
        ("PUT", _) if n == 0 => {
            Reply::error(400, "interaction.not.finalized", Some(5)).header("retry-after", "1")
        }
        ("PUT", _) => Reply::empty(204),
        _ => Reply::empty(500),
    })
    .await;
    let client = Client::new(&server.url)
        .with_credentials("id", "secret")
        .with_retry(RetryPolicy::none());
    let report = client
        .apply(id, &wrapup(Uuid::new_v4(), 1000), &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!((report.outcome, report.puts), (ApplyEffect::Applied, 2));
}

#[tokio::test]
async fn apply_follows_the_real_stream_even_when_the_grant_is_narrow() {
    // A client granted only the interaction's division, with just the scopes apply needs.
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, code) = server.division_with_code(&admin, "Sales", "Sale").await;
    let id = server.finalized(&admin, division).await;
    let narrow = server
        .client(
            "interaction:view interaction:write",
            DivisionGrant::Only(vec![division]),
        )
        .await;
    let report = narrow
        .apply(id, &wrapup(code, 1000), &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(report.outcome, ApplyEffect::Applied);
}
