//! Genesys notifications (docs/genesys.md#notifications): channels and their limits,
//! subscriptions and their checks, and the websocket: `.acw` at the close and `.wrapup` at
//! a wrap-up (either dialect), ping, subscribing over the socket, division isolation,
//! replay after a reconnection, `?after=`, two nodes, and shutdown.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;
use wrapup_client::{Client, RawResponse};
use wrapup_domain::genesys::ConversationIds;
use wrapup_server::testkit::*;
use wrapup_server::{Config, NotificationConfig};
use wrapup_types::{DivisionGrant, TargetState, WrapUpRequest};

use crate::genesys_support::{call, genesys_error};

const WAIT: Duration = Duration::from_secs(10);

fn config(notifications: NotificationConfig) -> Config {
    Config {
        settle_ms: SETTLE_MS,
        notifications,
        ..Config::default()
    }
}

/// Two nodes on one new PostgreSQL database with one manual clock, each with `config`; `None`
/// (the test is skipped) without `WRAPUP_TEST_POSTGRES_URL`.
async fn two_nodes(config: Config) -> Option<(TestServer, TestServer)> {
    let db = Arc::new(wrapup_store::testing::TestDb::postgres().await?);
    let clock = Arc::new(wrapup_server::ManualClock::new(START_MS));
    let a = TestServer::builder()
        .database(db.clone())
        .clock(clock.clone())
        .config(config.clone())
        .start()
        .await;
    let b = TestServer::builder()
        .database(db)
        .clock(clock)
        .config(config)
        .start()
        .await;
    Some((a, b))
}

/// The socket address of channel `c`, created on node `from`, on node `to` instead.
fn connect_uri_on(c: &Value, from: &TestServer, to: &TestServer) -> String {
    c["connectUri"].as_str().unwrap().replace(
        &from.url.replace("http://", ""),
        &to.url.replace("http://", ""),
    )
}

async fn json_of(raw: &RawResponse) -> Value {
    serde_json::from_slice(&raw.body)
        .unwrap_or_else(|_| panic!("JSON: {}", String::from_utf8_lossy(&raw.body)))
}

/// `POST /api/v2/notifications/channels` as the Python SDK sends it (the body `null`).
async fn channel(client: &Client) -> Value {
    let raw = call(
        client,
        Method::POST,
        "/api/v2/notifications/channels",
        Some("null"),
    )
    .await;
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    json_of(&raw).await
}

fn subscriptions(channel: &Value) -> String {
    format!(
        "/api/v2/notifications/channels/{}/subscriptions",
        channel["id"].as_str().unwrap()
    )
}

async fn subscribe(
    client: &Client,
    channel: &Value,
    method: Method,
    topics: &[String],
    query: &str,
) -> RawResponse {
    let body = Value::Array(topics.iter().map(|t| json!({"id": t})).collect()).to_string();
    call(
        client,
        method,
        &format!("{}{query}", subscriptions(channel)),
        Some(&body),
    )
    .await
}

fn acw(id: Uuid) -> String {
    format!("v2.detail.events.conversation.{id}.acw")
}
fn wrapup(id: Uuid) -> String {
    format!("v2.detail.events.conversation.{id}.wrapup")
}

/// A websocket client (not the server's code).
struct Socket(WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Socket {
    async fn connect(uri: &str) -> Socket {
        let (stream, _) = tokio_tungstenite::connect_async(uri)
            .await
            .expect("the socket connects");
        Socket(stream)
    }

    async fn open(channel: &Value) -> Socket {
        Socket::connect(channel["connectUri"].as_str().unwrap()).await
    }

    /// The next JSON message (heartbeats included); `None` once the server closed.
    async fn next_any(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(WAIT, self.0.next())
                .await
                .expect("a message within the wait");
            match message {
                Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next message that is not a heartbeat.
    async fn next(&mut self) -> Value {
        loop {
            let message = self.next_any().await.expect("the socket is open");
            if message["eventBody"]["message"] != "WebSocket Heartbeat" {
                return message;
            }
        }
    }

    async fn send(&mut self, message: Value) {
        self.0
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// Pings and returns what arrived before the pong: what the server had queued.
    async fn before_pong(&mut self) -> Vec<Value> {
        self.send(json!({"message": "ping"})).await;
        let mut before = Vec::new();
        loop {
            let message = self.next().await;
            if message["topicName"] == "channel.metadata"
                && message["eventBody"]["message"] == "pong"
            {
                return before;
            }
            before.push(message);
        }
    }

    async fn close(mut self) {
        self.0.close(None).await.unwrap();
        while let Some(Ok(_)) = self.0.next().await {}
    }
}

/// Waits until the store says the channel has no socket (its last one's close recorded).
async fn disconnected(s: &TestServer, channel: &Value) {
    let id = channel["id"].as_str().unwrap().to_string();
    eventually("the socket's close is recorded", WAIT, || {
        let store = s.store.clone();
        let id = id.clone();
        async move {
            let c = store
                .notifications()
                .get_channel(&id)
                .await
                .unwrap()
                .unwrap();
            (c.socket.is_none() && c.disconnected_ms.is_some()).then_some(())
        }
    })
    .await;
}

async fn close(admin: &Client, id: Uuid) {
    admin.set_state(id, TargetState::Closed).await.unwrap();
}

async fn head(c: &Client, id: &str) -> u16 {
    let path = format!("/api/v2/notifications/channels/{id}");
    c.raw(Method::HEAD, &path, &[], None)
        .await
        .unwrap()
        .status
        .as_u16()
}

async fn listed(c: &Client, query: &str) -> Vec<String> {
    let raw = call(
        c,
        Method::GET,
        &format!("/api/v2/notifications/channels{query}"),
        None,
    )
    .await;
    assert_eq!(raw.status, 200);
    let body: Value = serde_json::from_slice(&raw.body).unwrap();
    body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn channels_are_created_listed_checked_and_limited() {
    let s = TestServer::builder()
        .config(config(NotificationConfig {
            max_channels: 3,
            ..NotificationConfig::default()
        }))
        .start()
        .await;
    let (me, secret) = s.credentials("interaction:view", DivisionGrant::All).await;
    // A new token of the same OAuth client (the manual clock outlives tokens).
    let as_me = || Client::new(&s.url).with_credentials(&me.to_string(), &secret);
    let client = as_me();
    let other = s.client("interaction:view", DivisionGrant::All).await;
    let first = channel(&client).await;
    s.clock.advance(1);
    let id = first["id"].as_str().unwrap();
    assert!(id.starts_with("streaming-0-"), "{first}");
    assert_eq!(
        first["connectUri"],
        format!(
            "{}/api/v2/notifications/channels/{id}/socket",
            s.url.replace("http://", "ws://")
        )
    );
    assert_eq!(
        first["expires"],
        wrapup_types::timestamp::format(wrapup_types::timestamp::from_millis(
            START_MS + 86_400_000
        )),
        "24 hours after its creation"
    );
    // An empty body too (the JavaScript SDK).
    let raw = client
        .raw(Method::POST, "/api/v2/notifications/channels", &[], None)
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    let second = json_of(&raw).await;

    assert_eq!(head(&client, id).await, 200);
    assert_eq!(
        head(&other, id).await,
        404,
        "another client's channel does not exist"
    );
    assert_eq!(head(&client, "streaming-0-nope").await, 404);
    let raw = call(&other, Method::GET, &subscriptions(&first), None).await;
    genesys_error(&raw, 404, "notification.channel.not.found");

    assert_eq!(
        listed(&client, "").await,
        [id, second["id"].as_str().unwrap()]
    );
    assert_eq!(
        listed(&client, "?includechannels=oauthclient").await.len(),
        2
    );
    assert!(listed(&other, "?includechannels=token").await.is_empty());
    let raw = call(
        &client,
        Method::GET,
        "/api/v2/notifications/channels?includechannels=all",
        None,
    )
    .await;
    genesys_error(&raw, 400, "request.query.invalid");

    // The limit: the least recently used goes. The first is used (subscribed) last.
    s.clock.advance(1_000);
    let raw = subscribe(&client, &first, Method::PUT, &[], "").await;
    assert_eq!(raw.status, 200);
    let third = channel(&client).await;
    let fourth = channel(&client).await;
    assert_eq!(
        head(&client, second["id"].as_str().unwrap()).await,
        404,
        "the least recently used was removed"
    );
    for c in [&first, &third, &fourth] {
        assert_eq!(head(&client, c["id"].as_str().unwrap()).await, 200);
    }

    // Subscribing extends a channel's life: half a day later the third is subscribed, and
    // half a day after that, the others are gone (404 at once; the retention pass then
    // removes them) while the third lives on.
    let day = 86_400_000;
    s.clock.advance(day / 2);
    let client = as_me();
    assert_eq!(
        subscribe(&client, &third, Method::PUT, &[], "")
            .await
            .status,
        200
    );
    s.clock.advance(day / 2);
    let client = as_me();
    assert_eq!(head(&client, id).await, 404);
    assert_eq!(head(&client, third["id"].as_str().unwrap()).await, 200);
    assert_eq!(
        listed(&client, "?includechannels=oauthclient").await.len(),
        1
    );
    let stored = |id: &str| {
        let store = s.store.clone();
        let id = id.to_string();
        async move { store.notifications().get_channel(&id).await.unwrap() }
    };
    assert!(stored(id).await.is_some());
    wrapup_server::prune_once(
        s.store.as_ref(),
        s.clock.as_ref(),
        Duration::from_secs(86_400),
    )
    .await
    .unwrap();
    assert!(stored(id).await.is_none(), "expired: removed");
    assert!(stored(third["id"].as_str().unwrap()).await.is_some());
}

#[tokio::test]
async fn subscriptions_are_checked_and_rejections_do_not_tell_what_exists() {
    let s = TestServer::builder()
        .config(config(NotificationConfig {
            max_topics: 3,
            ..NotificationConfig::default()
        }))
        .start()
        .await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let support = s.division(&admin, "Support").await;
    let mine = s.interaction(&admin, sales, &[TargetState::Active]).await;
    let theirs = s.interaction(&admin, support, &[TargetState::Active]).await;
    let client = s
        .client(
            "conversation:communication:view",
            DivisionGrant::Only(vec![sales]),
        )
        .await;
    let c = channel(&client).await;

    let raw = subscribe(&client, &c, Method::POST, &[acw(mine)], "").await;
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    assert_eq!(
        json_of(&raw).await,
        json!({"entities": [{"id": acw(mine), "state": "Permitted"}]})
    );

    // Another division's conversation is refused as one that does not exist.
    let raw = subscribe(&client, &c, Method::POST, &[acw(theirs)], "").await;
    let body = genesys_error(&raw, 400, "notification.topic.rejected");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&theirs.to_string()),
        "{body}"
    );
    let nowhere = Uuid::new_v4();
    let raw = subscribe(
        &client,
        &c,
        Method::POST,
        &[acw(theirs), acw(nowhere), "v2.users.x.presence".into()],
        "?ignoreErrors=true",
    )
    .await;
    assert_eq!(raw.status, 200);
    let body = json_of(&raw).await;
    let entities = body["entities"].as_array().unwrap();
    assert_eq!(entities.len(), 4, "{body}");
    assert_eq!(entities[0], json!({"id": acw(mine), "state": "Permitted"}));
    let reason = |e: &Value| e["rejectionReason"].as_str().unwrap().to_string();
    assert_eq!(entities[1]["state"], "Rejected");
    assert_eq!(
        reason(&entities[1]).replace(&theirs.to_string(), "ID"),
        reason(&entities[2]).replace(&nowhere.to_string(), "ID"),
        "invisible and missing read the same"
    );
    assert!(entities[1].get("missingPermissions").is_none());
    assert_eq!(entities[3]["state"], "Rejected");

    // Without the permission: the missing permission is named.
    let blind = s.client("interaction:write", DivisionGrant::All).await;
    let bc = channel(&blind).await;
    let raw = subscribe(
        &blind,
        &bc,
        Method::POST,
        &[acw(mine)],
        "?ignoreErrors=true",
    )
    .await;
    let body = json_of(&raw).await;
    assert_eq!(
        body["entities"][0]["missingPermissions"],
        json!(["conversation:communication:view"])
    );

    // PUT replaces; the limit; DELETE removes all.
    let other = s.interaction(&admin, sales, &[TargetState::Active]).await;
    let raw = subscribe(&client, &c, Method::PUT, &[acw(other), wrapup(other)], "").await;
    assert_eq!(raw.status, 200);
    let listed = json_of(&call(&client, Method::GET, &subscriptions(&c), None).await).await;
    assert_eq!(
        listed,
        json!({"entities": [{"id": acw(other), "state": "Permitted"}, {"id": wrapup(other), "state": "Permitted"}]})
    );
    let raw = subscribe(&client, &c, Method::POST, &[acw(mine), wrapup(mine)], "").await;
    genesys_error(&raw, 400, "notification.topics.too.many");
    let raw = call(&client, Method::DELETE, &subscriptions(&c), None).await;
    assert_eq!(raw.status, 204);
    let listed = json_of(&call(&client, Method::GET, &subscriptions(&c), None).await).await;
    assert_eq!(listed, json!({"entities": []}));
    let raw = call(
        &client,
        Method::POST,
        &subscriptions(&c),
        Some("{\"id\": 1}"),
    )
    .await;
    genesys_error(&raw, 400, "request.body.malformed");
}

#[tokio::test]
async fn available_topics_are_listed() {
    let s = TestServer::start().await;
    let client = s.client("interaction:view", DivisionGrant::All).await;
    let raw = call(&client, Method::GET, "/api/v2/notifications/availabletopics?expand=description,requiresPermissions,schema&includePreview=true", None).await;
    assert_eq!(raw.status, 200);
    let body = json_of(&raw).await;
    let ids: Vec<&str> = body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "v2.detail.events.conversation.{id}.acw",
            "v2.detail.events.conversation.{id}.wrapup",
            "v2.detail.events.conversation.{id}.customer.end",
            "v2.detail.events.conversation.{id}.user.end",
            "v2.users.{id}.conversations",
            "v2.routing.queues.{id}.conversations",
        ]
    );
    assert_eq!(
        body["entities"][0]["schema"]["title"],
        "AcwDetailEventTopicAfterCallWorkEvent"
    );
}

#[tokio::test]
async fn a_socket_receives_acw_at_the_close_and_wrapup_at_a_wrapup() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (sales, code) = s.division_with_code(&admin, "Sales", "Sale").await;
    let own = s.interaction(&admin, sales, &[TargetState::Active]).await;
    let genesys = s.interaction(&admin, sales, &[TargetState::Active]).await;
    let client = s
        .client(
            "interaction:view interaction:write",
            DivisionGrant::Only(vec![sales]),
        )
        .await;
    let c = channel(&client).await;
    let ends = |id: Uuid| {
        [
            format!("v2.detail.events.conversation.{id}.customer.end"),
            format!("v2.detail.events.conversation.{id}.user.end"),
        ]
    };
    let mut topics = vec![acw(own), wrapup(own), acw(genesys), wrapup(genesys)];
    topics.extend(ends(own));
    assert_eq!(
        subscribe(&client, &c, Method::POST, &topics, "")
            .await
            .status,
        200
    );
    let mut socket = Socket::open(&c).await;
    // The socket is registered once it answers.
    assert!(socket.before_pong().await.is_empty());

    close(&admin, own).await;
    let first = socket.next().await;
    assert_eq!(first["topicName"], acw(own), "{first}");
    assert_eq!(first["version"], "2");
    let body = &first["eventBody"];
    let ids = ConversationIds::of(own);
    assert_eq!(body["conversationId"], own.to_string());
    assert_eq!(body["participantId"], ids.agent.to_string());
    assert_eq!(body["mediaType"], "VOICE");
    assert!(body["eventTime"].is_i64());
    assert!(first["metadata"]["CorrelationId"].is_string());
    let seq = first["metadata"]["sequence"].as_i64().unwrap();
    let customer_end = socket.next().await;
    assert_eq!(customer_end["topicName"], ends(own)[0]);
    assert_eq!(
        customer_end["eventBody"]["participantId"],
        ids.customer.to_string()
    );
    let user_end = socket.next().await;
    assert_eq!(user_end["topicName"], ends(own)[1]);
    assert_eq!(
        user_end["metadata"]["sequence"], seq,
        "one change, one sequence number"
    );

    s.clock.advance(SETTLE_MS);
    s.finalize_now().await;
    admin
        .put_wrapup(
            own,
            &WrapUpRequest {
                code_id: code,
                duration_ms: 1_000,
                notes: Some("n".into()),
            },
        )
        .await
        .unwrap();
    let w = socket.next().await;
    assert_eq!(w["topicName"], wrapup(own), "{w}");
    assert_eq!(w["eventBody"]["wrapupCode"], code.to_string());
    assert_eq!(w["eventBody"]["wrapupDurationMs"], 1_000);
    assert_eq!(w["eventBody"]["wrapupNotes"], "n");
    assert!(w["metadata"]["sequence"].as_i64().unwrap() > seq);

    // The Genesys dialect's PATCH.
    close(&admin, genesys).await;
    assert_eq!(socket.next().await["topicName"], acw(genesys));
    s.clock.advance(SETTLE_MS);
    s.finalize_now().await;
    let path = format!(
        "/api/v2/conversations/{genesys}/participants/{}",
        ConversationIds::of(genesys).agent
    );
    let raw = call(
        &client,
        Method::PATCH,
        &path,
        Some(&json!({"wrapup": {"code": code}}).to_string()),
    )
    .await;
    assert!(
        raw.status.is_success(),
        "{}",
        String::from_utf8_lossy(&raw.body)
    );
    let w = socket.next().await;
    assert_eq!(w["topicName"], wrapup(genesys));
    assert_eq!(w["eventBody"]["wrapupCode"], code.to_string());
    socket.close().await;
}

#[tokio::test]
async fn ping_heartbeat_and_subscribing_over_the_socket() {
    let s = TestServer::builder()
        .config(config(NotificationConfig {
            heartbeat: Duration::from_millis(100),
            ..NotificationConfig::default()
        }))
        .start()
        .await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let support = s.division(&admin, "Support").await;
    let id = s.interaction(&admin, sales, &[TargetState::Active]).await;
    let theirs = s.interaction(&admin, support, &[TargetState::Active]).await;
    let client = s
        .client("interaction:view", DivisionGrant::Only(vec![sales]))
        .await;
    let c = channel(&client).await;
    let mut socket = Socket::open(&c).await;
    // Single quotes too.
    socket
        .0
        .send(Message::Text("{'message': 'ping'}".into()))
        .await
        .unwrap();
    assert_eq!(
        socket.next().await,
        json!({"topicName": "channel.metadata", "eventBody": {"message": "pong"}})
    );
    // A heartbeat comes on its own.
    loop {
        let m = socket.next_any().await.unwrap();
        if m == json!({"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}})
        {
            break;
        }
    }
    socket
        .send(json!({"message": "subscribe", "topics": [acw(theirs)], "correlationId": "c1"}))
        .await;
    let refused = socket.next().await;
    assert_eq!(
        (
            &refused["result"],
            &refused["status"],
            &refused["correlationId"]
        ),
        (&json!("400"), &json!("error"), &json!("c1")),
        "{refused}"
    );
    socket
        .send(json!({"message": "subscribe", "topics": [acw(id)], "correlationId": "c2"}))
        .await;
    assert_eq!(
        socket.next().await,
        json!({"result": "200", "status": "subscribed", "correlationId": "c2"})
    );
    let listed = json_of(&call(&client, Method::GET, &subscriptions(&c), None).await).await;
    assert_eq!(listed["entities"][0]["id"], acw(id));
    close(&admin, id).await;
    assert_eq!(socket.next().await["topicName"], acw(id));
    socket.send(json!({"message": "dance"})).await;
    assert_eq!(socket.next().await["result"], "400");
}

/// An interaction of `division` answered by `agent`.
async fn answered(admin: &Client, agent: &str, division: Uuid) -> Uuid {
    let id = admin
        .create_interaction(division, wrapup_types::Channel::Voice)
        .await
        .unwrap()
        .id;
    let raw = call(
        admin,
        Method::POST,
        &format!("/api/v2/interactions/{id}/state"),
        Some(&json!({"state": "active", "agentId": agent}).to_string()),
    )
    .await;
    assert!(
        raw.status.is_success(),
        "{}",
        String::from_utf8_lossy(&raw.body)
    );
    id
}

#[tokio::test]
async fn another_division_gets_nothing() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let support = s.division(&admin, "Support").await;
    // An agent of Support, who answers a Sales interaction and a Support one.
    let raw = call(
        &admin,
        Method::POST,
        "/api/v2/users",
        Some(&json!({"name": "Bo", "email": "bo@example.com", "divisionId": support}).to_string()),
    )
    .await;
    let agent = json_of(&raw).await["id"].as_str().unwrap().to_string();
    let sale = answered(&admin, &agent, sales).await;
    let ticket = answered(&admin, &agent, support).await;
    let seller = s
        .client("interaction:view", DivisionGrant::Only(vec![sales]))
        .await;
    let supporter = s
        .client("interaction:view", DivisionGrant::Only(vec![support]))
        .await;
    let (sc, tc) = (channel(&seller).await, channel(&supporter).await);
    subscribe(&seller, &sc, Method::POST, &[acw(sale)], "").await;
    // Support may follow its agent, but not the Sales conversation.
    let users = format!("v2.users.{agent}.conversations");
    let raw = subscribe(
        &supporter,
        &tc,
        Method::POST,
        &[acw(sale), users.clone()],
        "?ignoreErrors=true",
    )
    .await;
    let entities = json_of(&raw).await["entities"].clone();
    assert_eq!(entities[0], json!({"id": users, "state": "Permitted"}));
    assert_eq!(entities[1]["state"], "Rejected");
    let (mut seen, mut unseen) = (Socket::open(&sc).await, Socket::open(&tc).await);
    seen.before_pong().await;
    unseen.before_pong().await;
    close(&admin, sale).await;
    assert_eq!(seen.next().await["topicName"], acw(sale));
    // Dispatched to every socket before the first got it: nothing of Sales reached the
    // other, although its agent answered it (checked at delivery).
    assert!(unseen.before_pong().await.is_empty());
    close(&admin, ticket).await;
    let m = unseen.next().await;
    assert_eq!(
        (&m["topicName"], &m["eventBody"]["id"]),
        (&json!(users), &json!(ticket))
    );
    // Nor on a replay.
    unseen.close().await;
    disconnected(&s, &tc).await;
    let uri = format!("{}?after=0", tc["connectUri"].as_str().unwrap());
    let mut again = Socket::connect(&uri).await;
    let replayed = again.before_pong().await;
    assert!(!replayed.is_empty());
    assert!(
        replayed
            .iter()
            .all(|m| m["eventBody"]["id"] == json!(ticket)),
        "{replayed:?}"
    );
}

#[tokio::test]
async fn a_reconnection_within_the_window_gets_what_it_missed_in_order() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let ids: Vec<Uuid> = {
        let mut v = Vec::new();
        for _ in 0..6 {
            v.push(s.interaction(&admin, sales, &[TargetState::Active]).await);
        }
        v
    };
    let client = s
        .client("interaction:view", DivisionGrant::Only(vec![sales]))
        .await;
    let c = channel(&client).await;
    let topics: Vec<String> = ids.iter().map(|i| acw(*i)).collect();
    subscribe(&client, &c, Method::POST, &topics, "").await;
    let mut socket = Socket::open(&c).await;
    socket.before_pong().await;
    close(&admin, ids[0]).await;
    let first = socket.next().await;
    assert_eq!(first["topicName"], acw(ids[0]));
    let first_seq = first["metadata"]["sequence"].as_i64().unwrap();
    socket.close().await;
    disconnected(&s, &c).await;

    // Missed while away, then replayed in order on reconnecting.
    close(&admin, ids[1]).await;
    close(&admin, ids[2]).await;
    s.clock.advance(30_000);
    let mut socket = Socket::open(&c).await;
    let a = socket.next().await;
    let b = socket.next().await;
    assert_eq!(
        (&a["topicName"], &b["topicName"]),
        (&json!(acw(ids[1])), &json!(acw(ids[2])))
    );
    assert!(a["metadata"]["sequence"].as_i64() < b["metadata"]["sequence"].as_i64());
    close(&admin, ids[3]).await;
    assert_eq!(
        socket.next().await["topicName"],
        acw(ids[3]),
        "then live, nothing twice"
    );
    socket.close().await;
    disconnected(&s, &c).await;

    // After the window: nothing of the past.
    close(&admin, ids[4]).await;
    s.clock.advance(61_000);
    let mut socket = Socket::open(&c).await;
    assert!(socket.before_pong().await.is_empty());
    close(&admin, ids[5]).await;
    assert_eq!(socket.next().await["topicName"], acw(ids[5]));
    socket.close().await;
    disconnected(&s, &c).await;

    // ?after= chooses exactly.
    let uri = format!("{}?after={first_seq}", c["connectUri"].as_str().unwrap());
    let mut socket = Socket::connect(&uri).await;
    for i in &ids[1..] {
        assert_eq!(socket.next().await["topicName"], acw(*i));
    }
    socket.close().await;
}

#[tokio::test]
async fn the_socket_uri_refuses_what_is_not_a_socket() {
    let s = TestServer::start().await;
    let client = s.client("interaction:view", DivisionGrant::All).await;
    let c = channel(&client).await;
    let http = c["connectUri"]
        .as_str()
        .unwrap()
        .replace("ws://", "http://");
    let raw = reqwest::get(&http).await.unwrap();
    assert_eq!(raw.status(), 426);
    let unknown = format!(
        "{}/api/v2/notifications/channels/streaming-0-x/socket",
        s.url.replace("http://", "ws://")
    );
    match tokio_tungstenite::connect_async(&unknown).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404)
        }
        other => panic!("an unknown channel's socket: {:?}", other.map(|_| ())),
    }
    let bad_after = format!("{}?after=-1", c["connectUri"].as_str().unwrap());
    match tokio_tungstenite::connect_async(&bad_after).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 400)
        }
        other => panic!("?after=-1: {:?}", other.map(|_| ())),
    }
}

/// A second socket on the same channel replaces the first, which is told.
#[tokio::test]
async fn a_second_socket_replaces_the_first() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let one = s.interaction(&admin, sales, &[TargetState::Active]).await;
    let two = s.interaction(&admin, sales, &[TargetState::Active]).await;
    let client = s.client("interaction:view", DivisionGrant::All).await;
    let c = channel(&client).await;
    subscribe(&client, &c, Method::POST, &[acw(one), acw(two)], "").await;
    let mut first = Socket::open(&c).await;
    first.before_pong().await;
    close(&admin, one).await;
    assert_eq!(first.next().await["topicName"], acw(one));
    // A client reconnecting before the server noticed its old connection died.
    let mut second = Socket::open(&c).await;
    let closing = first.next().await;
    assert_eq!(closing["topicName"], "v2.system.socket_closing");
    assert!(first.next_any().await.is_none(), "then closed");
    // The new socket goes on after what the old one was sent: nothing twice.
    assert!(second.before_pong().await.is_empty());
    close(&admin, two).await;
    assert_eq!(second.next().await["topicName"], acw(two));
    // The channel is still connected (the old socket's close did not say otherwise).
    let id = c["id"].as_str().unwrap();
    let stored = s
        .store
        .notifications()
        .get_channel(id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.socket.is_some());
}

#[tokio::test]
async fn a_socket_is_told_before_its_channel_expires() {
    let s = TestServer::builder()
        .config(config(NotificationConfig {
            heartbeat: Duration::from_millis(50),
            ..NotificationConfig::default()
        }))
        .start()
        .await;
    let client = s.client("interaction:view", DivisionGrant::All).await;
    let c = channel(&client).await;
    let mut socket = Socket::open(&c).await;
    socket.before_pong().await;
    s.clock.advance(86_400_000 - 59_000);
    assert_eq!(socket.next().await["topicName"], "v2.system.socket_closing");
    s.clock.advance(60_000);
    while let Some(m) = socket.next_any().await {
        assert_eq!(
            m["eventBody"]["message"], "WebSocket Heartbeat",
            "then closed at expiry"
        );
    }
}

#[tokio::test]
async fn shutdown_sends_socket_closing_and_exits_within_its_timeout() {
    let db = wrapup_store::testing::TestDb::from_env().await;
    let store = db.open(wrapup_store::EVENT_BUFFER).await;
    let (record, secret) = wrapup_server::new_client(
        Uuid::new_v4(),
        "t",
        wrapup_types::ScopeSet::parse("interaction:view").unwrap(),
        DivisionGrant::All,
        START_MS,
        None,
    );
    store.create_client(&record).await.unwrap();
    let id = record.id;
    let app = wrapup_server::App::start(
        store.clone(),
        Arc::new(wrapup_server::ManualClock::new(START_MS)),
        Config {
            shutdown_timeout: Duration::from_secs(2),
            ..Config::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        let drained = app
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        app.close().await;
        drained
    });
    let client = Client::new(&url).with_credentials(&id.to_string(), &secret);
    let c = channel(&client).await;
    let mut socket = Socket::open(&c).await;
    socket.before_pong().await;
    let begun = std::time::Instant::now();
    stop.send(()).unwrap();
    assert_eq!(socket.next().await["topicName"], "v2.system.socket_closing");
    assert!(socket.next_any().await.is_none(), "then closed");
    let drained = tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("shutdown ends")
        .unwrap();
    assert!(drained.cut_short.is_empty());
    assert!(
        begun.elapsed() < Duration::from_secs(3),
        "within the shutdown timeout"
    );
}

/// Two nodes on one PostgreSQL database: a channel made and subscribed through node B, its
/// socket on node A, the interactions closed through node B: the socket gets every `.acw`, in
/// order. (Skipped without `WRAPUP_TEST_POSTGRES_URL`.)
#[tokio::test]
async fn a_socket_on_one_node_gets_what_another_node_commits_in_order() {
    let Some((a, b)) = two_nodes(config(NotificationConfig::default())).await else {
        return;
    };
    let admin = b.admin().await;
    let sales = b.division(&admin, "Sales").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(b.interaction(&admin, sales, &[TargetState::Active]).await);
    }
    let (id, secret) = b
        .credentials("interaction:view", DivisionGrant::Only(vec![sales]))
        .await;
    let on_b = Client::new(&b.url).with_credentials(&id.to_string(), &secret);
    let c = channel(&on_b).await;
    let topics: Vec<String> = ids.iter().map(|i| acw(*i)).collect();
    assert_eq!(
        subscribe(&on_b, &c, Method::POST, &topics, "").await.status,
        200
    );
    let on_a = connect_uri_on(&c, &b, &a);
    let mut socket = Socket::connect(&on_a).await;
    socket.before_pong().await;
    for id in &ids {
        admin.set_state(*id, TargetState::Closed).await.unwrap();
    }
    let mut last = 0;
    for id in &ids {
        let m = socket.next().await;
        assert_eq!(m["topicName"], acw(*id), "{m}");
        let seq = m["metadata"]["sequence"].as_i64().unwrap();
        assert!(seq > last, "in order");
        last = seq;
    }
    socket.close().await;
}

/// One socket per channel across nodes: a socket on node B replaces the channel's socket on
/// node A, which is told and closed at its next heartbeat (a socket on the same node is
/// replaced at once), and whose close leaves the channel to the new socket. (Skipped without
/// `WRAPUP_TEST_POSTGRES_URL`.)
#[tokio::test]
async fn a_socket_on_another_node_replaces_the_first() {
    let fast = config(NotificationConfig {
        heartbeat: Duration::from_millis(100),
        ..NotificationConfig::default()
    });
    let Some((a, b)) = two_nodes(fast).await else {
        return;
    };
    let admin = b.admin().await;
    let sales = b.division(&admin, "Sales").await;
    let one = b.interaction(&admin, sales, &[TargetState::Active]).await;
    let client = b.client("interaction:view", DivisionGrant::All).await;
    let c = channel(&client).await;
    subscribe(&client, &c, Method::POST, &[acw(one)], "").await;
    let on_a = connect_uri_on(&c, &b, &a);
    let mut first = Socket::connect(&on_a).await;
    first.before_pong().await;
    let mut second = Socket::open(&c).await;
    second.before_pong().await;
    let closing = first.next().await;
    assert_eq!(
        closing["topicName"], "v2.system.socket_closing",
        "{closing}"
    );
    assert!(first.next_any().await.is_none(), "then closed");
    // The channel is the second socket's: it gets the events, and the first one's close
    // did not mark the channel unconnected.
    close(&admin, one).await;
    assert_eq!(second.next().await["topicName"], acw(one));
    let id = c["id"].as_str().unwrap();
    let stored = b
        .store
        .notifications()
        .get_channel(id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.socket.is_some());
    second.close().await;
}

/// The agent's and the queue's conversation topics on every change, and the system's
/// `ININ-WRAP-UP-TIMEOUT` as a `.wrapup` event.
#[tokio::test]
async fn users_and_queues_topics_and_the_timeout_wrapup() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (sales, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let json_ok = |raw: RawResponse| {
        assert!(
            raw.status.is_success(),
            "{}",
            String::from_utf8_lossy(&raw.body)
        );
        serde_json::from_slice::<Value>(&raw.body).unwrap()
    };
    let agent = json_ok(
        call(
            &admin,
            Method::POST,
            "/api/v2/users",
            Some(
                &json!({"name": "Ada", "email": "ada@example.com", "divisionId": sales})
                    .to_string(),
            ),
        )
        .await,
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let queue = json_ok(
        call(
            &admin,
            Method::POST,
            "/api/v2/routing/queues",
            Some(
                &json!({"name": "Timed", "division": {"id": sales},
                    "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 5_000}})
                .to_string(),
            ),
        )
        .await,
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    json_ok(
        call(
            &admin,
            Method::POST,
            &format!("/api/v2/routing/queues/{queue}/wrapupcodes"),
            Some(&json!([{"id": sale}]).to_string()),
        )
        .await,
    );
    let created = json_ok(
        call(
            &admin,
            Method::POST,
            "/api/v2/interactions",
            Some(&json!({"divisionId": sales, "channel": "voice", "queueId": queue}).to_string()),
        )
        .await,
    );
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    json_ok(
        call(
            &admin,
            Method::POST,
            &format!("/api/v2/interactions/{id}/state"),
            Some(&json!({"state": "active", "agentId": agent}).to_string()),
        )
        .await,
    );
    let client = s
        .client("interaction:view", DivisionGrant::Only(vec![sales]))
        .await;
    let c = channel(&client).await;
    let users = format!("v2.users.{agent}.conversations");
    let queues = format!("v2.routing.queues.{queue}.conversations");
    let raw = subscribe(
        &client,
        &c,
        Method::PUT,
        &[users.clone(), queues.clone(), wrapup(id)],
        "",
    )
    .await;
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    let mut socket = Socket::open(&c).await;
    socket.before_pong().await;

    close(&admin, id).await;
    let on_user = socket.next().await;
    assert_eq!(on_user["topicName"], users, "{on_user}");
    let body = &on_user["eventBody"];
    assert_eq!(body["id"], id.to_string());
    let participant = &body["participants"][1];
    assert_eq!(participant["userId"], agent);
    assert_eq!(participant["queueId"], queue);
    assert_eq!(participant["wrapupRequired"], true);
    assert_eq!(participant["wrapupPrompt"], "timeout");
    assert_eq!(participant["calls"][0]["afterCallWork"]["state"], "pending");
    let on_queue = socket.next().await;
    assert_eq!(on_queue["topicName"], queues);
    assert_eq!(on_queue["eventBody"], on_user["eventBody"]);

    // The timeout passes with no wrap-up: the system's, as `.wrapup`, then the
    // conversation topics.
    s.clock.advance(SETTLE_MS);
    s.finalize_now().await;
    s.clock.advance(5_000);
    let w = loop {
        let m = socket.next().await;
        if m["topicName"] == wrapup(id) {
            break m;
        }
        assert!(m["topicName"] == users || m["topicName"] == queues, "{m}");
    };
    assert_eq!(w["eventBody"]["wrapupCode"], "ININ-WRAP-UP-TIMEOUT");
    let after = socket.next().await;
    assert_eq!(after["topicName"], users);
    assert_eq!(
        after["eventBody"]["participants"][1]["calls"][0]["afterCallWork"]["state"],
        "complete"
    );
}

/// What a client sends is limited in size: a larger message closes the socket.
#[tokio::test]
async fn a_client_message_over_the_limit_closes_the_socket() {
    let s = TestServer::builder()
        .config(config(NotificationConfig {
            max_client_message: 1_024,
            ..NotificationConfig::default()
        }))
        .start()
        .await;
    let client = s.client("interaction:view", DivisionGrant::All).await;
    let c = channel(&client).await;
    let mut socket = Socket::open(&c).await;
    let padding = "x".repeat(900);
    socket
        .send(json!({"message": "ping", "padding": padding}))
        .await;
    assert_eq!(
        socket.next().await["eventBody"]["message"],
        "pong",
        "under the limit"
    );
    let padding = "x".repeat(2_000);
    let _ = socket
        .0
        .send(Message::Text(
            json!({"message": "ping", "padding": padding})
                .to_string()
                .into(),
        ))
        .await;
    assert!(socket.next_any().await.is_none(), "over the limit: closed");
    disconnected(&s, &c).await;
}
