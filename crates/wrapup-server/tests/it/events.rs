//! The event stream: order, resume, division rules, many and slow subscribers, reset,
//! keep-alives. Driven by the real client over HTTP; time by the manual clock.

use std::time::Duration;

use futures::future::join_all;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;
use wrapup_client::{Client, EventQuery, EventStream, StreamEvent};
use wrapup_server::testkit::*;
use wrapup_server::Config;
use wrapup_store::NewInteraction;
use wrapup_types::{
    Channel, DivisionGrant, EventKind, Interaction, InteractionState, TargetState, WrapUpRequest,
};

/// The next event, failing the test if none comes within 10 s.
async fn next(stream: &mut EventStream) -> StreamEvent {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event arrives within 10 s")
        .expect("the stream is open")
        .expect("the event is well-formed")
}

async fn next_interaction(stream: &mut EventStream) -> (i64, EventKind, Interaction) {
    match next(stream).await {
        StreamEvent::Interaction {
            id,
            kind,
            interaction,
        } => (id, kind, interaction),
        other => panic!("expected an interaction event, got {other:?}"),
    }
}

fn only(interaction: Uuid) -> EventQuery {
    EventQuery {
        interactions: vec![interaction],
        ..EventQuery::default()
    }
}

/// Takes an interaction through its whole lifecycle: created, active, closed, finalized,
/// wrapped up (five events).
async fn full_lifecycle(server: &TestServer, admin: &Client, id: Uuid, code: Uuid) {
    admin.set_state(id, TargetState::Active).await.unwrap();
    admin.set_state(id, TargetState::Closed).await.unwrap();
    server.clock.advance(SETTLE_MS);
    server.finalize_now().await;
    admin
        .put_wrapup(
            id,
            &WrapUpRequest {
                code_id: code,
                duration_ms: 60_000,
                notes: None,
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_subscriber_sees_the_whole_lifecycle_in_order() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, code) = server.division_with_code(&admin, "Sales", "Sale").await;
    let mut stream = admin.events(&EventQuery::default()).await.unwrap();

    let id = server.interaction(&admin, division, &[]).await;
    full_lifecycle(&server, &admin, id, code).await;

    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(next_interaction(&mut stream).await);
    }
    let kinds: Vec<_> = seen.iter().map(|(_, k, i)| (*k, i.state)).collect();
    use InteractionState::*;
    assert_eq!(
        kinds,
        [
            (EventKind::Created, Queued),
            (EventKind::State, Active),
            (EventKind::State, Closed),
            (EventKind::Finalized, Closed),
            (EventKind::WrapUp, Completed),
        ]
    );
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "ids increase");
    assert!(seen.iter().all(|(_, _, i)| i.id == id));
    let versions: Vec<i64> = seen.iter().map(|(_, _, i)| i.version).collect();
    assert_eq!(
        versions,
        [1, 2, 3, 4, 5],
        "data is the interaction after each change"
    );
    let finalized = &seen[3].2;
    assert!(finalized.finalized);
    assert_eq!(
        finalized.finalized_at.unwrap() - finalized.closed_at.unwrap(),
        time::Duration::milliseconds(SETTLE_MS)
    );
    assert_eq!(seen[4].2.wrap_up.as_ref().unwrap().code_id, code);
}

/// `?type=` narrows the stream to those event types; the ids stay the global sequence.
#[tokio::test]
async fn a_subscriber_asking_for_some_types_gets_only_those() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, code) = server.division_with_code(&admin, "Sales", "Sale").await;
    let query = EventQuery {
        kinds: vec![EventKind::State, EventKind::Finalized],
        ..EventQuery::default()
    };
    let mut stream = admin.events(&query).await.unwrap();
    let mut everything = admin.events(&EventQuery::default()).await.unwrap();

    let id = server.interaction(&admin, division, &[]).await;
    full_lifecycle(&server, &admin, id, code).await;

    let mut all = Vec::new();
    for _ in 0..5 {
        all.push(next_interaction(&mut everything).await);
    }
    let mut some = Vec::new();
    for _ in 0..3 {
        some.push(next_interaction(&mut stream).await);
    }
    let kinds: Vec<EventKind> = some.iter().map(|(_, k, _)| *k).collect();
    assert_eq!(
        kinds,
        [EventKind::State, EventKind::State, EventKind::Finalized]
    );
    let ids: Vec<i64> = some.iter().map(|(id, _, _)| *id).collect();
    let same: Vec<i64> = all
        .iter()
        .filter(|(_, k, _)| matches!(k, EventKind::State | EventKind::Finalized))
        .map(|(id, _, _)| *id)
        .collect();
    assert_eq!(ids, same, "the same ids as on the whole stream");
    // The wrap-up event is not sent: the next one is the next interaction's state change.
    let other = server.interaction(&admin, division, &[]).await;
    admin.set_state(other, TargetState::Active).await.unwrap();
    let (_, kind, interaction) = next_interaction(&mut stream).await;
    assert_eq!((kind, interaction.id), (EventKind::State, other));
}

#[tokio::test]
async fn the_finalization_timer_publishes_when_the_settle_time_passes() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let id = server
        .interaction(&admin, division, &[TargetState::Active])
        .await;
    let mut stream = admin.events(&only(id)).await.unwrap();
    admin.set_state(id, TargetState::Closed).await.unwrap();
    assert_eq!(next_interaction(&mut stream).await.1, EventKind::State);
    // Nothing is finalized before the settle time; the timer (not the test) finalizes
    // once the clock reaches it.
    server.clock.advance(SETTLE_MS - 1);
    server.clock.advance(1);
    let (_, kind, interaction) = next_interaction(&mut stream).await;
    assert_eq!(kind, EventKind::Finalized);
    assert_eq!(
        interaction.finalized_at.unwrap() - interaction.closed_at.unwrap(),
        time::Duration::milliseconds(SETTLE_MS)
    );
}

#[tokio::test]
async fn reconnecting_with_last_event_id_yields_exactly_the_rest() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, code) = server.division_with_code(&admin, "Sales", "Sale").await;
    let query = EventQuery {
        divisions: vec![division],
        ..EventQuery::default()
    };
    let mut stream = admin.events(&query).await.unwrap();
    let id = server.interaction(&admin, division, &[]).await;
    full_lifecycle(&server, &admin, id, code).await;

    let first = next_interaction(&mut stream).await;
    let second = next_interaction(&mut stream).await;
    assert_eq!(stream.last_event_id(), Some(second.0.to_string().as_str()));
    drop(stream); // disconnect after the second event

    let mut resumed = admin
        .events(&EventQuery {
            last_event_id: Some(second.0.to_string()),
            ..query.clone()
        })
        .await
        .unwrap();
    let rest: Vec<_> = [
        next_interaction(&mut resumed).await,
        next_interaction(&mut resumed).await,
        next_interaction(&mut resumed).await,
    ]
    .into_iter()
    .map(|(seq, kind, _)| (seq, kind))
    .collect();
    assert_eq!(
        rest.iter().map(|r| r.1).collect::<Vec<_>>(),
        [EventKind::State, EventKind::Finalized, EventKind::WrapUp]
    );
    assert!(first.0 < second.0 && second.0 < rest[0].0);
    // Nothing more (no duplicate, nothing of the old connection): the next event is a
    // new change.
    let marker = server.interaction(&admin, division, &[]).await;
    let (_, kind, interaction) = next_interaction(&mut resumed).await;
    assert_eq!((kind, interaction.id), (EventKind::Created, marker));
}

#[tokio::test]
async fn a_token_granted_division_a_never_sees_division_b() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let a = server.division(&admin, "A").await;
    let b = server.division(&admin, "B").await;
    let viewer = server
        .client("interaction:view", DivisionGrant::Only(vec![a]))
        .await;
    let mut stream = viewer.events(&EventQuery::default()).await.unwrap();
    let code_b = server.code(&admin, b, "Sale B").await;
    let in_b = server.interaction(&admin, b, &[]).await;
    full_lifecycle(&server, &admin, in_b, code_b).await;
    // Naming B's interaction explicitly changes nothing.
    let mut targeted = viewer.events(&only(in_b)).await.unwrap();
    let in_a = server.interaction(&admin, a, &[]).await;
    let (_, _, interaction) = next_interaction(&mut stream).await;
    assert_eq!(interaction.id, in_a, "B's five events were not sent");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), targeted.next())
            .await
            .is_err(),
        "nothing of B reaches a subscriber that named it"
    );

    // Filtering on B is answered as if B did not exist.
    let err = viewer
        .events(&EventQuery {
            divisions: vec![b],
            ..EventQuery::default()
        })
        .await
        .err()
        .expect("B is refused");
    let random = viewer
        .events(&EventQuery {
            divisions: vec![Uuid::new_v4()],
            ..EventQuery::default()
        })
        .await
        .err()
        .expect("a random division is refused");
    assert_eq!(err.code(), Some(wrapup_types::ErrorCode::DivisionNotFound));
    assert_eq!(err.code(), random.code());
}

#[tokio::test]
async fn query_and_scope_errors() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for (query, field) in [
        ("?divisonId=1", "divisonId"),
        ("?interactionId=not-a-uuid", "interactionId"),
        ("?divisionId=", "divisionId"),
        ("?type=interaction.closed", "type"),
    ] {
        let raw = admin
            .raw(
                reqwest::Method::GET,
                &format!("/api/v2/interactions/events{query}"),
                &[],
                None,
            )
            .await
            .unwrap();
        assert_eq!(raw.status, 400, "{query}");
        let body = error_of(&raw);
        assert_eq!(body.code.as_str(), "request.query.invalid");
        assert_eq!(body.details[0].field_name.as_deref(), Some(field));
    }
    let too_many: String = (0..101)
        .map(|_| format!("interactionId={}&", Uuid::new_v4()))
        .collect();
    let raw = admin
        .raw(
            reqwest::Method::GET,
            &format!("/api/v2/interactions/events?{too_many}"),
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!(error_of(&raw).code.as_str(), "request.query.invalid");

    let writer = server.client("interaction:write", DivisionGrant::All).await;
    let err = writer.events(&EventQuery::default()).await.err().unwrap();
    assert_eq!(
        err.code(),
        Some(wrapup_types::ErrorCode::AuthorizationMissingScope)
    );
    let anonymous = Client::new(&server.url);
    let err = anonymous
        .events(&EventQuery::default())
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.code(),
        Some(wrapup_types::ErrorCode::AuthenticationRequired)
    );
}

#[tokio::test]
async fn a_lagging_subscriber_catches_up_from_the_log() {
    // The broadcast keeps 4 events; one finalization pass publishes 50 at once, so the
    // subscriber lags and must read the rest from the stored log.
    let server = TestServer::builder().event_buffer(4).start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(
            server
                .interaction(&admin, division, &[TargetState::Closed])
                .await,
        );
    }
    let mut stream = admin.events(&EventQuery::default()).await.unwrap();
    server.clock.advance(SETTLE_MS);
    server.finalize_now().await;
    let mut finalized = Vec::new();
    let mut last = 0;
    for _ in 0..50 {
        let (seq, kind, interaction) = next_interaction(&mut stream).await;
        assert_eq!(kind, EventKind::Finalized);
        assert!(seq > last, "in order, no duplicates");
        last = seq;
        finalized.push(interaction.id);
    }
    finalized.sort();
    ids.sort();
    assert_eq!(finalized, ids, "every event arrived");
    let marker = server.interaction(&admin, division, &[]).await;
    assert_eq!(next_interaction(&mut stream).await.2.id, marker);
}

#[tokio::test]
async fn a_pruned_or_foreign_last_event_id_gets_a_reset() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    for _ in 0..3 {
        server.interaction(&admin, division, &[]).await;
    }
    // Within the retention period nothing is pruned, and a resume works.
    let retention = Duration::from_secs(24 * 3600);
    let pruned = wrapup_server::prune_once(server.store.as_ref(), server.clock.as_ref(), retention)
        .await
        .unwrap();
    assert_eq!(pruned, 0);
    let mut resumed = admin
        .events(&EventQuery {
            last_event_id: Some("1".into()),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(next(&mut resumed).await.id(), 2);

    server.clock.advance(retention.as_millis() as i64 + 1);
    let pruned = wrapup_server::prune_once(server.store.as_ref(), server.clock.as_ref(), retention)
        .await
        .unwrap();
    assert_eq!(pruned, 3);
    let admin = server.admin().await; // the first token expired with the day that passed

    for (last, why) in [
        ("1", "pruned"),
        ("999", "ahead"),
        ("abc", "not an event id"),
        ("-5", "not an event id"),
    ] {
        let mut stream = admin
            .events(&EventQuery {
                last_event_id: Some(last.into()),
                ..EventQuery::default()
            })
            .await
            .unwrap();
        match next(&mut stream).await {
            StreamEvent::Reset(reset) => {
                assert_eq!(reset.last_event_id, last);
                assert_eq!(reset.resume_from, 3);
                assert!(reset.reason.contains(why), "{}", reset.reason);
            }
            other => panic!("expected a reset for {last}, got {other:?}"),
        }
        assert_eq!(stream.last_event_id(), Some("3"));
    }
    // After a reset the stream goes on with new events.
    let mut stream = admin
        .events(&EventQuery {
            last_event_id: Some("1".into()),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert!(matches!(next(&mut stream).await, StreamEvent::Reset(_)));
    let id = server.interaction(&admin, division, &[]).await;
    let (seq, _, interaction) = next_interaction(&mut stream).await;
    assert_eq!((seq, interaction.id), (4, id));
}

#[tokio::test]
async fn keep_alive_comments_are_sent_when_the_stream_is_idle() {
    let server = TestServer::builder()
        .config(Config {
            keep_alive: Duration::from_millis(20),
            ..Config::default()
        })
        .start()
        .await;
    let admin = server.admin().await;
    let token = admin.bearer().await.unwrap().unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/api/v2/interactions/events", server.url))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut body = response.bytes_stream();
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while !text.contains(": keep-alive\n") {
            let chunk = body.next().await.unwrap().unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("a keep-alive comment arrives");
}

/// Opens `n` subscribers, a bounded number at a time.
async fn subscribers(client: &Client, query: &EventQuery, n: usize) -> Vec<EventStream> {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n / 100 {
        let opened = join_all((0..100).map(|_| client.events(query))).await;
        streams.extend(opened.into_iter().map(Result::unwrap));
    }
    streams
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_each_get_every_event() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    admin.bearer().await.unwrap(); // one token for every stream
    let mut streams = subscribers(&admin, &EventQuery::default(), 1_000).await;
    assert_eq!(streams.len(), 1_000);
    let metrics = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("wrapup_sse_subscribers 1000"), "{metrics}");

    let id = server
        .interaction(&admin, division, &[TargetState::Active])
        .await;
    let received = tokio::time::timeout(
        Duration::from_secs(60),
        join_all(streams.iter_mut().map(|s| async move {
            let first = next_interaction(s).await;
            let second = next_interaction(s).await;
            (first.2.id, first.1, second.1)
        })),
    )
    .await
    .expect("all 1,000 subscribers receive both events");
    assert!(received
        .iter()
        .all(|r| *r == (id, EventKind::Created, EventKind::State)));
    drop(streams);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_blocks_no_one() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let division = server.division(&admin, "Sales").await;
    let token = admin.bearer().await.unwrap().unwrap();

    // A subscriber with a tiny receive window that never reads a byte.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(1024).unwrap();
    let addr = server.url.trim_start_matches("http://").parse().unwrap();
    let mut stalled = socket.connect(addr).await.unwrap();
    stalled
        .write_all(
            format!(
                "GET /api/v2/interactions/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut reader = admin.events(&EventQuery::default()).await.unwrap();

    // Enough events to fill every buffer between the server and the stalled reader many
    // times over (each event is ~400 bytes).
    const EVENTS: usize = 5_000;
    let store = server.store.clone();
    let writes = tokio::spawn(async move {
        for chunk in 0..EVENTS / 250 {
            join_all((0..250).map(|i| {
                let store = store.clone();
                async move {
                    store
                        .create_interaction(&NewInteraction {
                            id: Uuid::new_v4(),
                            division_id: division,
                            channel: Channel::Chat,
                            now_ms: START_MS + (chunk * 250 + i) as i64,
                            queue_id: None,
                            agent_id: None,
                        })
                        .await
                        .unwrap()
                }
            }))
            .await;
        }
    });
    let mut last = 0;
    for _ in 0..EVENTS {
        let (seq, kind, _) = next_interaction(&mut reader).await;
        assert_eq!(kind, EventKind::Created);
        assert!(seq > last);
        last = seq;
    }
    writes.await.unwrap();
    // The server still answers ordinary requests.
    admin.list_divisions().await.unwrap();
    drop(stalled);
}
