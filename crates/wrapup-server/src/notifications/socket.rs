//! `GET /api/v2/notifications/channels/{channelId}/socket`: a channel's websocket.
//!
//! The URI is the credential (as Genesys's `connectUri`): no token is sent, the socket acts
//! for the OAuth client that created the channel, with that token's scopes and the
//! client's divisions as they are now (read again on every heartbeat, and checked on every
//! message sent, so a grant taken away stops delivery). One socket per channel: a new
//! connection replaces the one open on this node, which is closed.
//!
//! Where a socket starts: after `?after=<sequence>` when given; else, when the channel's
//! previous socket closed less than the replay window ago, after the last event that socket
//! handled (an event whose messages it had not all written is sent again whole: clients
//! dedupe by sequence and topic); else with the next event. Replaying reads the event log while the socket is
//! already registered with the hub, then skips what the hub queued that was replayed, so
//! nothing is lost or repeated between the two.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::sync::watch;
use wrapup_domain::Principal;
use wrapup_store::{ChannelChange, ChannelRecord, Store};
use wrapup_types::ErrorCode::*;
use wrapup_types::{ErrorDetail, ScopeSet};

use super::hub::{deliveries, Registration};
use super::routes::{subscribe, Subscriber};
use super::{metadata, socket_closing, Notifications};
use crate::clock::Clock;
use crate::error::{ApiError, Resource};
use crate::openapi::errors::codes;
use crate::shutdown::Shutdown;

/// Events read from the log per query while replaying.
const LOG_PAGE: u32 = 500;

/// Connect a channel's websocket
///
/// Upgrades to the channel's websocket (`101 Switching Protocols`); open `connectUri` as
/// given, with no token. Every message is a JSON text frame. From the server: events
/// `{"topicName", "version": "2", "eventBody", "metadata": {"CorrelationId", "sequence"}}`
/// (`sequence`: the event log's number, strictly increasing); a heartbeat
/// `{"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}`
/// every 30 s; `{"topicName": "v2.system.socket_closing", …}` before the server closes the
/// socket (a minute before the channel expires, at once on shutdown). From the client:
/// `{"message": "ping"}` (answered `{"topicName": "channel.metadata", "eventBody":
/// {"message": "pong"}}`) and `{"message": "subscribe", "topics": [...], "correlationId"}`
/// (answered `{"result": "200", "status": "subscribed", "correlationId"}` or `{"result":
/// "400", "status": "error", "message", "correlationId"}`). A reconnection within 60 s of
/// the previous socket's close first receives, in order, what it missed; `?after=<sequence>`
/// chooses where to start instead. A new connection replaces the channel's open socket.
#[utoipa::path(get, path = "/api/v2/notifications/channels/{channelId}/socket", operation_id = "getNotificationsChannelSocket", tag = "notifications",
    params(("channelId" = String, Path, description = "The channel's id."),
        ("after" = Option<i64>, Query, minimum = 0, description = "Start after this event sequence number (at-least-once: dedupe by `metadata.sequence`).")),
    responses((status = 101, description = "Switching to the websocket protocol.")),
    security(()),
    extensions(("x-error-codes" = json!(codes(&[&[NotificationChannelNotFound, RequestQueryInvalid, NotificationSocketUpgradeRequired]])))))]
pub async fn connect(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    State(notifications): State<Arc<Notifications>>,
    State(shutdown): State<Arc<Shutdown>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let after = match form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "after")
    {
        None => None,
        Some((_, v)) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::one(
                ErrorDetail::new(
                    RequestQueryInvalid,
                    format!("after must be an event sequence number (a whole number, 0 or more); got \"{v}\"."),
                )
                .field("after")
                .hint("Pass the metadata.sequence of the last event you processed."),
            )
        })?),
    };
    let upgrade = upgrade.map_err(|_| {
        ApiError::one(
            ErrorDetail::new(
                NotificationSocketUpgradeRequired,
                "This is a channel's websocket: connect with a websocket client (GET with Upgrade: websocket).",
            )
            .hint("Open connectUri with a websocket library, e.g. Python's websockets or JavaScript's ws."),
        )
    })?;
    let now = clock.now_ms();
    let channel = store
        .notifications()
        .get_channel(&id)
        .await?
        .filter(|c| c.expires_ms > now)
        .ok_or_else(|| ApiError::not_found(Resource::NotificationChannel(&id)))?;
    let limit = notifications.config.max_client_message;
    Ok(upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            let session = Session {
                store,
                clock,
                notifications,
                shutdown: shutdown.watch(),
                channel,
                id: uuid::Uuid::new_v4().to_string(),
            };
            session.run(socket, after).await;
        })
        .into_response())
}

/// Why a socket ends.
enum End {
    /// The client closed it, or the connection broke.
    Client,
    /// With a close frame: the code and the reason.
    Server(u16, &'static str),
}

struct Session {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    notifications: Arc<Notifications>,
    shutdown: watch::Receiver<bool>,
    channel: ChannelRecord,
    /// This socket's id, unique across nodes: the channel records the socket connected to
    /// it, and a socket that finds another one recorded was replaced (through another node).
    id: String,
}

/// The socket's connection and its position in the log.
struct Conn {
    socket: WebSocket,
    /// The last event sequence number handled (sent, or not for this socket).
    last: i64,
    /// How long a write may wait for the client before the socket is dropped.
    write_timeout: Duration,
    /// `last`, shared with the hub (read by a socket that replaces this one).
    position: Arc<std::sync::atomic::AtomicI64>,
    /// Whether the replay (if any) is done: from then on, every event the hub dispatched
    /// for this socket is on its queue or written.
    caught_up: bool,
    /// An event some of whose messages were taken from the queue (and perhaps not all
    /// written) while others may still come: not handled until its last one is written.
    partial: Option<i64>,
}

impl Conn {
    fn handled(&mut self, seq: i64) {
        self.last = self.last.max(seq);
        self.position
            .store(self.last, std::sync::atomic::Ordering::Release);
    }

    async fn send(&mut self, text: impl Into<Utf8Bytes>) -> Result<(), End> {
        match tokio::time::timeout(
            self.write_timeout,
            self.socket.send(Message::Text(text.into())),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Client),
            Err(_) => Err(End::Server(1008, "the client does not read")),
        }
    }
}

impl Session {
    async fn principal(&self) -> Option<Principal> {
        let client = self.store.get_client(self.channel.client_id).await.ok()??;
        Some(Principal {
            client_id: client.id,
            scopes: ScopeSet::parse(&self.channel.scopes).unwrap_or_default(),
            divisions: client.divisions,
        })
    }

    async fn run(mut self, socket: WebSocket, after: Option<i64>) {
        let now = self.clock.now_ms();
        let window = self.notifications.config.replay_window.as_millis() as i64;
        let hub = self.notifications.hub.clone();
        let processed = hub.processed();
        let mut reg = hub.register(
            &self.channel.id,
            &self.channel.topics,
            self.notifications.config.send_queue,
        );
        // Where to start: as asked; after the socket this one replaces (a client that
        // reconnects before the server noticed its old connection died); after the
        // channel's last socket, if it closed within the replay window; else live.
        let start =
            after
                .or(reg.replaced)
                .or(match (self.channel.cursor, self.channel.disconnected_ms) {
                    (Some(cursor), Some(at)) if now - at <= window => Some(cursor),
                    _ => None,
                });
        // A live start begins after the last event committed now, read once registered (so
        // every later one reaches the queue): on PostgreSQL the hub may still dispatch
        // earlier ones, which are skipped.
        let floor = match start {
            Some(after) => after,
            None => match self.store.event_bounds().await {
                Ok(bounds) => bounds.latest.max(processed),
                Err(_) => processed,
            },
        };
        if let Ok(c) = self
            .store
            .notifications()
            .change_channel(
                &self.channel.id,
                &ChannelChange::Connected {
                    socket: self.id.clone(),
                },
                now,
            )
            .await
        {
            self.channel = c;
        }
        reg.position
            .store(floor, std::sync::atomic::Ordering::Release);
        let mut conn = Conn {
            position: reg.position.clone(),
            socket,
            last: floor,
            write_timeout: self.notifications.config.heartbeat,
            caught_up: start.is_none(),
            partial: None,
        };
        let end = self.serve(&mut conn, &mut reg, start).await;
        // Where the next socket of this channel resumes: before an event whose messages
        // were not all written (the next socket sends them all again: clients dedupe by
        // sequence and topic), else after the last event handled, or every event the hub
        // dispatched when nothing is left on the queue.
        let dispatched = hub.processed();
        let cursor = match conn.partial {
            Some(seq) => seq - 1,
            None if conn.caught_up && reg.queue.is_empty() => conn.last.max(dispatched),
            None => conn.last,
        };
        // A socket that replaced this one owns the channel's state now.
        let replaced = hub
            .socket_of(&self.channel.id)
            .is_some_and(|id| id != reg.id);
        drop(reg);
        if let End::Server(code, reason) = end {
            let _ = conn
                .socket
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
        }
        if replaced {
            return;
        }
        let _ = self
            .store
            .notifications()
            .change_channel(
                &self.channel.id,
                &ChannelChange::Disconnected {
                    socket: self.id.clone(),
                    cursor,
                },
                self.clock.now_ms(),
            )
            .await;
    }

    async fn serve(&mut self, conn: &mut Conn, reg: &mut Registration, start: Option<i64>) -> End {
        let Some(mut principal) = self.principal().await else {
            return End::Server(1008, "the channel's OAuth client no longer exists");
        };
        if let Some(after) = start {
            if let Err(end) = self.replay(conn, &principal, after).await {
                return end;
            }
        }
        let skip_through = conn.last;
        let config = self.notifications.config.clone();
        let every = config.heartbeat.max(Duration::from_millis(10));
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let mut warned = false;
        let mut shutdown = self.shutdown.clone();
        loop {
            // In this order: a client's ping is answered after what was already queued for
            // the socket.
            tokio::select! {
                biased;
                () = async { let _ = shutdown.wait_for(|begun| *begun).await; } => {
                    let _ = conn.send(socket_closing("The server is shutting down; reconnect (to another node, or to this one once it is back) within the replay window to receive what you missed.")).await;
                    return End::Server(1001, "server shutting down");
                }
                _ = reg.kick.notified() => {
                    let _ = conn.send(socket_closing("This socket is closed: another socket connected to its channel, or it fell too far behind; reconnect to receive what it missed.")).await;
                    return End::Server(4000, "replaced or too slow");
                }
                delivery = reg.queue.recv() => {
                    let Some(d) = delivery else { return End::Server(1011, "dispatch stopped") };
                    // Already replayed, or committed before a live start. (The messages of
                    // one event share its number: compare with where the queue takes over,
                    // not with the last message sent.)
                    if d.seq <= skip_through {
                        continue;
                    }
                    // The queue is in order: a later event's message completes the one
                    // before.
                    if let Some(before) = conn.partial.filter(|&p| p < d.seq) {
                        conn.handled(before);
                    }
                    conn.partial = Some(d.seq);
                    if principal.sees(d.division) {
                        if let Err(end) = conn.send(d.frame).await {
                            return end;
                        }
                    }
                    // Every message of this event was queued (the hub dispatched it whole)
                    // and none is left: it is handled.
                    self.notifications.hub.dispatched(d.seq).await;
                    if reg.queue.is_empty() {
                        conn.partial = None;
                        conn.handled(d.seq);
                    }
                }
                received = conn.socket.recv() => {
                    let text = match received {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return End::Client,
                        Some(Ok(_)) => continue,
                    };
                    let answer = self.answer(&principal, &text).await;
                    if let Err(end) = conn.send(answer).await {
                        return end;
                    }
                }
                _ = heartbeat.tick() => {
                    if let Err(end) = conn.send(metadata("WebSocket Heartbeat")).await {
                        return end;
                    }
                    if let Some(seq) = conn.partial {
                        if self.notifications.hub.processed() >= seq && reg.queue.is_empty() {
                            conn.partial = None;
                            conn.handled(seq);
                        }
                    }
                    // The channel as stored (a subscription through another node), and the
                    // client's grant as it is now.
                    match self.store.notifications().get_channel(&self.channel.id).await {
                        // Another socket connected to the channel through another node
                        // (one on this node kicks this one at once).
                        Ok(Some(c)) if c.socket.is_some() && c.socket.as_deref() != Some(&self.id) => {
                            let _ = conn.send(socket_closing("This socket is closed: another socket connected to its channel; reconnect to receive what it missed.")).await;
                            return End::Server(4000, "replaced");
                        }
                        Ok(Some(c)) => {
                            if c.topics != self.channel.topics {
                                self.notifications.hub.set_topics(&c.id, &c.topics);
                            }
                            self.channel = c;
                        }
                        Ok(None) => return End::Server(1000, "the channel was removed"),
                        Err(_) => {}
                    }
                    match self.principal().await {
                        Some(p) => principal = p,
                        None => return End::Server(1008, "the channel's OAuth client no longer exists"),
                    }
                    let now = self.clock.now_ms();
                    if now >= self.channel.expires_ms {
                        return End::Server(1000, "the channel expired");
                    }
                    let notice = config.closing_notice.as_millis() as i64;
                    if !warned && now >= self.channel.expires_ms - notice {
                        warned = true;
                        if let Err(end) = conn.send(socket_closing("The channel expires soon: subscribe again to extend it, or create a new channel.")).await {
                            return end;
                        }
                    }
                }
            }
        }
    }

    /// Sends the events of the channel's topics after `after`, from the log.
    async fn replay(&self, conn: &mut Conn, principal: &Principal, after: i64) -> Result<(), End> {
        let topics = self.channel.topics.iter().cloned().collect();
        conn.last = after;
        loop {
            let page = match self.store.events_after(conn.last, LOG_PAGE).await {
                Ok(page) => page,
                Err(_) => return Err(End::Server(1011, "reading the event log failed")),
            };
            if page.is_empty() {
                conn.caught_up = true;
                return Ok(());
            }
            for event in page {
                if principal.sees(event.division_id) {
                    for d in deliveries(&event, &topics) {
                        conn.send(d.frame).await?;
                    }
                }
                conn.handled(event.seq);
            }
        }
    }

    /// The answer to a client's message.
    async fn answer(&mut self, principal: &Principal, text: &str) -> String {
        // Some clients send single quotes ({'message': 'ping'}).
        let parsed: Option<Value> = serde_json::from_str(text)
            .ok()
            .or_else(|| serde_json::from_str(&text.replace('\'', "\"")).ok());
        let Some(message) = parsed else {
            return json!({"result": "400", "status": "error", "message": "The message is not JSON; send {\"message\": \"ping\"} or {\"message\": \"subscribe\", \"topics\": [...]}."}).to_string();
        };
        let correlation = message.get("correlationId").cloned().unwrap_or(Value::Null);
        match message.get("message").and_then(Value::as_str) {
            Some("ping") => metadata("pong"),
            Some("subscribe") => {
                let topics: Option<Vec<String>> = message
                    .get("topics")
                    .and_then(Value::as_array)
                    .and_then(|a| a.iter().map(|t| t.as_str().map(str::to_string)).collect());
                let Some(topics) = topics else {
                    return json!({"result": "400", "status": "error", "message": "topics must be an array of topic names.", "correlationId": correlation}).to_string();
                };
                let now = self.clock.now_ms();
                let channel = match self.store.notifications().get_channel(&self.channel.id).await {
                    Ok(Some(c)) if c.expires_ms > now => c,
                    _ => {
                        return json!({"result": "404", "status": "error", "message": "The channel no longer exists.", "correlationId": correlation}).to_string()
                    }
                };
                let who = Subscriber {
                    store: self.store.as_ref(),
                    clock: self.clock.as_ref(),
                    notifications: &self.notifications,
                    principal,
                };
                let answer = subscribe(&who, &channel, &topics, false, false).await;
                match answer {
                    Ok(_) => {
                        if let Ok(Some(c)) = self.store.notifications().get_channel(&self.channel.id).await {
                            self.channel = c;
                        }
                        json!({"result": "200", "status": "subscribed", "correlationId": correlation}).to_string()
                    }
                    Err(e) => {
                        let message = e.details.first().map(|d| d.message.clone()).unwrap_or_else(|| "The subscription failed.".into());
                        json!({"result": "400", "status": "error", "message": message, "correlationId": correlation}).to_string()
                    }
                }
            }
            _ => json!({"result": "400", "status": "error", "message": "Unknown message: send {\"message\": \"ping\"} or {\"message\": \"subscribe\", \"topics\": [...], \"correlationId\": \"…\"}.", "correlationId": correlation}).to_string(),
        }
    }
}
