//! The notification listener against a scripted channel: the REST half from `fake`, the
//! socket from tokio-tungstenite's server side, each connection doing what its script says
//! (the real server cannot be made to drop a socket or expire a channel on demand).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::SinkExt;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use wrapup_client::{Client, ListenerItem, NotificationListener, RetryPolicy};

use crate::fake::{token, FakeServer, Reply};

/// What one connection of the scripted socket sends before it ends.
enum Step {
    Send(serde_json::Value),
    /// A close frame.
    Close,
    /// End the TCP connection without a close frame (a dropped socket).
    Drop,
}

fn event(sequence: i64) -> Step {
    topic_event(sequence, "acw")
}

/// An event of conversation c1's topic `kind` (`acw`, `user.end`, …).
fn topic_event(sequence: i64, kind: &str) -> Step {
    Step::Send(json!({
        "topicName": format!("v2.detail.events.conversation.c1.{kind}"),
        "version": "2",
        "eventBody": {"conversationId": "c1", "eventTime": 1},
        "metadata": {"CorrelationId": "x", "sequence": sequence},
    }))
}

/// A websocket server following one script per connection; returns its address and the
/// request URI (path and query) of each connection.
// tungstenite's handshake callback returns its error response by value.
#[allow(clippy::result_large_err)]
async fn scripted_socket(scripts: Vec<Vec<Step>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let uris = Arc::new(Mutex::new(Vec::new()));
    let seen = uris.clone();
    tokio::spawn(async move {
        for script in scripts {
            let (tcp, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            let mut ws =
                tokio_tungstenite::accept_hdr_async(tcp, move |req: &Request, res: Response| {
                    seen.lock().unwrap().push(req.uri().to_string());
                    Ok(res)
                })
                .await
                .unwrap();
            for step in script {
                match step {
                    Step::Send(v) => ws.send(Message::text(v.to_string())).await.unwrap(),
                    Step::Close => {
                        let _ = ws.close(None).await;
                    }
                    Step::Drop => break,
                }
            }
            // Dropping the stream ends the TCP connection; after a close, wait for the
            // client's answer first.
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(ws);
        }
    });
    (addr, uris)
}

/// The REST half: a token, channels c1, c2, … pointing at `ws_addr`, every topic permitted.
async fn rest(ws_addr: String) -> FakeServer {
    FakeServer::start(move |method, path, n| match (method, path) {
        ("POST", "/oauth/token") => token(),
        ("POST", "/api/v2/notifications/channels") => Reply::json(
            200,
            json!({"id": format!("c{}", n + 1),
                "connectUri": format!("ws://{ws_addr}/api/v2/notifications/channels/c{}/socket", n + 1),
                "expires": "2026-12-07T00:00:00Z"}),
        ),
        ("PUT", p) if p.ends_with("/subscriptions") => Reply::json(
            200,
            json!({"entities": [{"id": "v2.detail.events.conversation.c1.acw", "state": "Permitted"},
                {"id": "v2.users.u9.conversations", "state": "Rejected", "rejectionReason": "not yours"}]}),
        ),
        _ => Reply::error(404, "request.path.unknown", None),
    })
    .await
}

fn client(url: &str) -> Arc<Client> {
    Arc::new(
        Client::new(url)
            .with_credentials("id", "secret")
            .with_retry(RetryPolicy::none()),
    )
}

async fn next(listener: &mut NotificationListener) -> ListenerItem {
    tokio::time::timeout(Duration::from_secs(10), listener.next())
        .await
        .expect("an item within 10 s")
        .expect("no error")
}

fn sequence(item: &ListenerItem) -> Option<i64> {
    match item {
        ListenerItem::Event(e) => e.sequence,
        _ => None,
    }
}

/// A dropped socket is reopened with `?after=` one before the last event handed out (the
/// topics of one change share its sequence, and the drop may have cut the change short), and
/// an event the server sends again (at least once) is not handed out twice.
#[tokio::test]
async fn a_dropped_socket_reconnects_after_the_last_event_and_skips_repeats() {
    let (ws, uris) = scripted_socket(vec![
        vec![event(5), event(6), topic_event(6, "user.end"), Step::Drop],
        vec![
            event(6),
            topic_event(6, "user.end"),
            topic_event(6, "customer.end"),
            event(7),
            Step::Send(json!({"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}})),
        ],
    ])
    .await;
    let server = rest(ws).await;
    let topics = vec![
        "v2.detail.events.conversation.c1.acw".to_string(),
        "v2.users.u9.conversations".to_string(),
    ];
    let (mut listener, answers) =
        NotificationListener::start(client(&server.url), &topics, Duration::from_secs(5))
            .await
            .unwrap();
    assert_eq!(
        answers.iter().map(|a| a.permitted()).collect::<Vec<_>>(),
        [true, false]
    );
    assert_eq!(answers[1].rejection_reason.as_deref(), Some("not yours"));
    assert!(matches!(
        next(&mut listener).await,
        ListenerItem::Connected {
            after: None,
            fresh_channel: false,
            ..
        }
    ));
    assert_eq!(sequence(&next(&mut listener).await), Some(5));
    assert_eq!(sequence(&next(&mut listener).await), Some(6));
    assert_eq!(
        sequence(&next(&mut listener).await),
        Some(6),
        "#6's user.end"
    );
    assert!(matches!(
        next(&mut listener).await,
        ListenerItem::Dropped { .. }
    ));
    assert!(matches!(
        next(&mut listener).await,
        ListenerItem::Connected {
            after: Some(5),
            fresh_channel: false,
            ..
        }
    ));
    match next(&mut listener).await {
        ListenerItem::Event(e) => assert_eq!(
            (e.sequence, e.topic_name.as_str()),
            (Some(6), "v2.detail.events.conversation.c1.customer.end"),
            "#6's acw and user.end again are skipped, its customer.end is not"
        ),
        other => panic!("expected #6's customer.end, got {other:?}"),
    }
    assert_eq!(sequence(&next(&mut listener).await), Some(7));
    assert_eq!(next(&mut listener).await, ListenerItem::Heartbeat);
    let uris = uris.lock().unwrap().clone();
    assert_eq!(
        uris,
        [
            "/api/v2/notifications/channels/c1/socket",
            "/api/v2/notifications/channels/c1/socket?after=5"
        ]
    );
}

/// After `v2.system.socket_closing` and the close, the listener moves to a fresh channel
/// subscribed to the permitted topics, asking for the events from the last one's change on.
#[tokio::test]
async fn socket_closing_moves_to_a_fresh_channel_from_the_last_event() {
    let (ws, uris) = scripted_socket(vec![
        vec![
            event(3),
            Step::Send(json!({"topicName": "v2.system.socket_closing", "eventBody": {"message": "closing"}})),
            Step::Close,
        ],
        vec![event(4)],
    ])
    .await;
    let server = rest(ws).await;
    let topics = vec!["v2.detail.events.conversation.c1.acw".to_string()];
    let (mut listener, _) =
        NotificationListener::start(client(&server.url), &topics, Duration::from_secs(5))
            .await
            .unwrap();
    assert!(matches!(
        next(&mut listener).await,
        ListenerItem::Connected { .. }
    ));
    assert_eq!(sequence(&next(&mut listener).await), Some(3));
    assert_eq!(next(&mut listener).await, ListenerItem::Closing);
    assert!(matches!(
        next(&mut listener).await,
        ListenerItem::Dropped { .. }
    ));
    match next(&mut listener).await {
        ListenerItem::Connected {
            channel_id,
            after,
            fresh_channel,
        } => {
            assert_eq!(
                (channel_id.as_str(), after, fresh_channel),
                ("c2", Some(2), true)
            );
        }
        other => panic!("expected a connection to a fresh channel, got {other:?}"),
    }
    assert_eq!(sequence(&next(&mut listener).await), Some(4));
    assert_eq!(
        uris.lock().unwrap().clone(),
        [
            "/api/v2/notifications/channels/c1/socket",
            "/api/v2/notifications/channels/c2/socket?after=2"
        ]
    );
    let subscribed: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|(m, p)| m == "PUT" && p.contains("/subscriptions"))
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        subscribed,
        [
            "/api/v2/notifications/channels/c1/subscriptions?ignoreErrors=true",
            "/api/v2/notifications/channels/c2/subscriptions?ignoreErrors=true"
        ]
    );
}

/// A socket that cannot be reopened within the window ends the listener with `GaveUp`,
/// naming the last event handed out.
#[tokio::test]
async fn a_socket_that_cannot_reopen_within_the_window_gives_up() {
    let (ws, _) = scripted_socket(vec![vec![event(9), Step::Drop]]).await;
    let server = rest(ws).await;
    let topics = vec!["v2.detail.events.conversation.c1.acw".to_string()];
    let (mut listener, _) =
        NotificationListener::start(client(&server.url), &topics, Duration::from_millis(500))
            .await
            .unwrap();
    assert!(matches!(
        next(&mut listener).await,
        ListenerItem::Connected { .. }
    ));
    assert_eq!(sequence(&next(&mut listener).await), Some(9));
    assert!(matches!(
        next(&mut listener).await,
        ListenerItem::Dropped { .. }
    ));
    // The scripted server accepts no more connections: they hang until the handshake's
    // timeout or are refused; either way the window passes.
    let error = tokio::time::timeout(Duration::from_secs(15), listener.next())
        .await
        .expect("gives up")
        .unwrap_err();
    assert!(
        matches!(
            error,
            wrapup_client::ListenError::GaveUp { after: Some(9), .. }
        ),
        "{error}"
    );
}
