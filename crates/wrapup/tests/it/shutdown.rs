//! A deploy does not hang and loses nothing (docs/operations.md#shutdown): `wrapup serve`
//! gets SIGTERM with five event-stream subscribers connected and wrap-ups in flight; it
//! ends every stream, exits 0 within 5 s, every wrap-up it acknowledged is there after a
//! restart, and a subscriber resuming with `Last-Event-ID` continues exactly where its
//! stream stopped. Connections that never sent a request do not hold it up. A second signal
//! stops it at once; `--shutdown-timeout` bounds a request that will not finish.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common;

use crate::common::Server;
use uuid::Uuid;
use wrapup_client::{Client, EventQuery, StreamEvent};
use wrapup_server::testkit::eventually;
use wrapup_store::testing::TestDb;
use wrapup_types::{Channel, CreateWrapUpCode, TargetState, WrapUpRequest};

fn client(server: &Server, creds: &(Uuid, String)) -> Client {
    common::api_client(&server.url, creds)
}

fn signal(server: &Server, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &server.process.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits (at most `limit`) for the process to exit; its exit code and how long it took.
async fn wait_exit(server: &mut Server, limit: Duration) -> (Option<i32>, Duration) {
    let started = Instant::now();
    let status = eventually("wrapup serve to exit after the signal", limit, || {
        let exited = server.process.try_wait().unwrap();
        async move { exited }
    })
    .await;
    (status.code(), started.elapsed())
}

/// The ids of the interaction events of a stream until it ends (bounded).
async fn drain(mut stream: wrapup_client::EventStream) -> Vec<i64> {
    let mut ids = Vec::new();
    let read = async {
        while let Some(event) = stream.next().await {
            match event {
                Ok(StreamEvent::Interaction { id, .. }) => ids.push(id),
                Ok(StreamEvent::Reset(r)) => panic!("unexpected reset {r:?}"),
                Err(_) => break, // the connection closed mid-event: the stream ended
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the stream ends when the server shuts down");
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_ends_streams_keeps_acknowledged_writes_and_exits_promptly() {
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    let mut server = Server::start(&db.url, &["--settle-ms", "0"]);
    let api = std::sync::Arc::new(client(&server, &creds));
    let division = api.create_division("Sales").await.unwrap().id;
    let code = api
        .create_code(&CreateWrapUpCode {
            name: "Sale".into(),
            division_id: division,
            description: None,
        })
        .await
        .unwrap()
        .id;
    // Closed and (settle time 0) finalized: ready for a wrap-up.
    let mut ready = Vec::new();
    for _ in 0..60 {
        let id = api
            .create_interaction(division, Channel::Voice)
            .await
            .unwrap()
            .id;
        api.set_state(id, TargetState::Closed).await.unwrap();
        ready.push(id);
    }

    // Five subscribers, each reading until its stream ends.
    let mut subscribers = Vec::new();
    for _ in 0..5 {
        let stream = api.events(&EventQuery::default()).await.unwrap();
        subscribers.push(tokio::spawn(drain(stream)));
    }
    // Wrap-ups: ten acknowledged before the signal (the streams carry them), the rest in
    // flight when it comes.
    let body = |n: u32| WrapUpRequest {
        code_id: code,
        duration_ms: 1_000 + n,
        notes: None,
    };
    for (n, id) in ready[..10].iter().enumerate() {
        api.put_wrapup(*id, &body(n as u32)).await.unwrap();
    }
    // Each request answered adds a permit.
    let answered = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let in_flight: Vec<_> = ready[10..]
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let (api, id, body, answered) = (api.clone(), *id, body(n as u32), answered.clone());
            tokio::spawn(async move {
                let ok = api.put_wrapup(id, &body).await.is_ok();
                answered.add_permits(1);
                (id, ok)
            })
        })
        .collect();
    // The signal comes once the first few are answered: the others are on their way.
    tokio::time::timeout(Duration::from_secs(10), answered.acquire_many(3))
        .await
        .expect("the first few requests are answered within 10 s")
        .unwrap()
        .forget();
    signal(&server, "TERM");
    let (code_exit, took) = wait_exit(&mut server, Duration::from_secs(5)).await;
    assert_eq!(code_exit, Some(0), "a graceful shutdown exits 0");
    eprintln!("wrapup serve exited {took:?} after SIGTERM");

    let mut acknowledged: Vec<Uuid> = ready[..10].to_vec();
    for put in in_flight {
        let (id, ok) = put.await.unwrap();
        if ok {
            acknowledged.push(id);
        }
    }
    let mut seen = Vec::new();
    for subscriber in subscribers {
        let ids = subscriber.await.unwrap();
        assert!(
            ids.len() >= 10,
            "each stream sent the events committed before it ended: {ids:?}"
        );
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        seen.push(*ids.last().unwrap());
    }

    // Restart on the same database: every acknowledged wrap-up is there.
    let server = Server::start(&db.url, &["--settle-ms", "0"]);
    let api = client(&server, &creds);
    for id in &acknowledged {
        let applied = api.get_wrapup(*id).await.unwrap();
        assert_eq!(applied.code_id, code);
    }
    eprintln!(
        "{} of {} wrap-ups acknowledged, all present after the restart",
        acknowledged.len(),
        ready.len()
    );

    // A subscriber resumes after the last event its stream sent, without a gap: the next
    // event is the one after it, and the wrap-ups committed after the stream ended follow.
    let last = *seen.iter().min().unwrap();
    let mut resumed = api
        .events(&EventQuery {
            last_event_id: Some(last.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let bounds = wrapup_store::open(&db.url)
        .await
        .unwrap()
        .event_bounds()
        .await
        .unwrap();
    assert!(bounds.latest >= last);
    if bounds.latest > last {
        let first = tokio::time::timeout(Duration::from_secs(5), resumed.next())
            .await
            .expect("the resumed stream sends what it missed");
        match first {
            Some(Ok(StreamEvent::Interaction { id, .. })) => assert_eq!(id, last + 1),
            other => panic!("expected the event after {last}, got {other:?}"),
        }
    }
}

/// Waits (at most 10 s) until `n` requests besides the asking one are in flight.
async fn in_flight(api: &Client, n: u32) {
    let want = format!("wrapup_http_requests_in_flight {}\n", n + 1);
    let what = format!("{n} request(s) in flight");
    eventually(what, Duration::from_secs(10), || async {
        let metrics = api
            .raw(reqwest::Method::GET, "/metrics", &[], None)
            .await
            .unwrap();
        String::from_utf8_lossy(&metrics.body).contains(&want)
    })
    .await;
}

/// Connections that never sent a byte (a browser's spare ones) are closed at once: the
/// shutdown does not wait for their first request, however long its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_sent_a_request_do_not_hold_up_the_shutdown() {
    use tokio::io::AsyncReadExt;
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    let mut server = Server::start(&db.url, &["--shutdown-timeout", "1h"]);
    let mut spare = Vec::new();
    for _ in 0..4 {
        spare.push(tokio::net::TcpStream::connect(server.addr).await.unwrap());
    }
    // Answered on a connection accepted after the spare ones: they were accepted too.
    let api = client(&server, &creds);
    api.list_divisions().await.unwrap();
    signal(&server, "TERM");
    let (code, _) = wait_exit(&mut server, Duration::from_secs(20)).await;
    assert_eq!(code, Some(0), "{}", server.stderr());
    for mut socket in spare {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut byte)).await;
        assert!(
            matches!(read, Ok(Ok(0) | Err(_))),
            "a spare connection is closed: {read:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    // A long shutdown timeout, and a stream that keeps the server busy: only the second
    // signal can make it exit quickly.
    let mut server = Server::start(&db.url, &["--shutdown-timeout", "1h"]);
    let api = client(&server, &creds);
    let _stream = api.events(&EventQuery::default()).await.unwrap();
    // A request that stays in flight: the body is never finished.
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    use tokio::io::AsyncWriteExt;
    slow.write_all(
        format!(
            "POST /api/v2/authorization/divisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
            api.fetch_token().await.unwrap().access_token
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    slow.flush().await.unwrap();
    in_flight(&api, 1).await;
    signal(&server, "INT");
    server.wait_for_stderr("shutting down:").await;
    assert!(
        server.process.try_wait().unwrap().is_none(),
        "still waiting for the request in flight"
    );
    signal(&server, "INT");
    let (code, _) = wait_exit(&mut server, Duration::from_secs(5)).await;
    assert_eq!(code, Some(130));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_timeout_cuts_short_what_does_not_finish() {
    let db = TestDb::sqlite();
    let creds = common::create_client(&db.url);
    let mut server = Server::start(&db.url, &["--shutdown-timeout", "300ms"]);
    let api = client(&server, &creds);
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    use tokio::io::AsyncWriteExt;
    slow.write_all(
        format!(
            "POST /api/v2/authorization/divisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
            api.fetch_token().await.unwrap().access_token
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    slow.flush().await.unwrap();
    in_flight(&api, 1).await;
    signal(&server, "TERM");
    let (code, took) = wait_exit(&mut server, Duration::from_secs(5)).await;
    assert_eq!(code, Some(0));
    assert!(
        took >= Duration::from_millis(300),
        "waited the timeout: {took:?}"
    );
    let log = server.stderr();
    assert!(
        log.contains("cutting short 1 request(s)")
            && log.contains("POST /api/v2/authorization/divisions"),
        "{log}"
    );
}
