//! Following a notification channel's websocket without losing an event.
//!
//! The listener remembers the `metadata.sequence` of the last event it handed out, and which
//! topics of that sequence it handed out (the topics one change produces share its sequence:
//! a close gives `.acw`, `.customer.end` and `.user.end`). When the socket drops, it connects
//! again to the channel's `connectUri` with `?after=<that sequence − 1>`, so the server
//! replays what was committed meanwhile (within its replay window) including the rest of the
//! last change, and it skips any (sequence, topic) it has already handed out (delivery is at
//! least once). After
//! `v2.system.socket_closing` (the channel is about to expire, or the server is shutting
//! down) it moves to a fresh channel with the same topics, again from that sequence. It
//! answers nothing but sends a `ping` after 35 s of silence, and treats a second silence as
//! a dead socket. It gives up when it could not connect for `reconnect_for` (use the
//! server's replay window: later, events could be missing).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{Channel, TopicSubscription};
use crate::client::Client;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a socket may stay silent before the listener pings (the server's heartbeat is
/// every 30 s by default), and then before it counts the socket as dead.
const SILENCE: Duration = Duration::from_secs(35);

/// An event of a topic, as the server sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationEvent {
    pub topic_name: String,
    /// The envelope's `version` (a string, `"2"`).
    pub version: Option<String>,
    pub event_body: Value,
    /// `metadata.sequence`: the event log's number of the change (wrapup's addition).
    pub sequence: Option<i64>,
    /// `metadata.CorrelationId`.
    pub correlation_id: Option<String>,
    /// The whole message, as received.
    pub raw: Value,
}

/// What [`NotificationListener::next`] hands out.
#[derive(Debug, Clone, PartialEq)]
pub enum ListenerItem {
    /// An event of a subscribed topic, never one already handed out.
    Event(NotificationEvent),
    /// A socket is open: the first, or a reconnection (on a fresh channel when
    /// `fresh_channel`), asking for the events after `after` (one before the last event
    /// handed out: the rest of its change may be missing).
    Connected {
        channel_id: String,
        after: Option<i64>,
        fresh_channel: bool,
    },
    /// The socket dropped; the listener reconnects on the next call.
    Dropped { reason: String },
    /// `v2.system.socket_closing`: the server will close this socket soon; the listener
    /// then moves to a fresh channel.
    Closing,
    /// The `channel.metadata` heartbeat.
    Heartbeat,
    /// Anything else: a pong, the answer to a subscribe message, another system topic.
    Other(Value),
}

/// Why a listener stopped.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// A REST call (a fresh channel, its subscriptions) was refused or failed.
    #[error(transparent)]
    Api(#[from] crate::Error),
    /// The server refused the socket for good (e.g. 401 or 403).
    #[error("the server refused the websocket with HTTP {status}: {message}")]
    Refused { status: u16, message: String },
    /// No socket could be opened for the whole reconnection window.
    #[error("could not reconnect within {:?} (last error: {last_error}); events after #{} may be missed", .waited, .after.map_or("-".to_string(), |s| s.to_string()))]
    GaveUp {
        waited: Duration,
        after: Option<i64>,
        last_error: String,
    },
}

/// A notification channel's websocket, followed across drops (see the module's docs).
pub struct NotificationListener {
    client: Arc<Client>,
    channel: Channel,
    topics: Vec<String>,
    reconnect_for: Duration,
    socket: Option<Socket>,
    last_sequence: Option<i64>,
    /// The topics handed out at `last_sequence`.
    last_topics: Vec<String>,
    /// `?after=` for the first connection, before any event was handed out.
    first_after: Option<i64>,
    /// `socket_closing` was received on the current socket.
    closing: bool,
    pinged: bool,
    pending: VecDeque<ListenerItem>,
}

impl NotificationListener {
    /// A listener of `channel`, already subscribed to `topics` (which a fresh channel gets
    /// too); it connects on the first [`NotificationListener::next`].
    pub fn new(
        client: Arc<Client>,
        channel: Channel,
        topics: Vec<String>,
        reconnect_for: Duration,
    ) -> NotificationListener {
        NotificationListener {
            client,
            channel,
            topics,
            reconnect_for,
            socket: None,
            last_sequence: None,
            last_topics: Vec::new(),
            first_after: None,
            closing: false,
            pinged: false,
            pending: VecDeque::new(),
        }
    }

    /// Creates a channel, subscribes it to `topics` through REST, and returns a listener
    /// that has not connected yet, with the server's answer for each topic. Only the
    /// permitted topics are followed; the caller decides what to do when some, or all, are
    /// rejected.
    pub async fn start(
        client: Arc<Client>,
        topics: &[String],
        reconnect_for: Duration,
    ) -> crate::Result<(NotificationListener, Vec<TopicSubscription>)> {
        let channel = client.create_notification_channel().await?;
        let answers = client
            .subscribe_notification_topics(&channel.id, topics, true)
            .await?;
        let permitted = answers
            .iter()
            .filter(|a| a.permitted())
            .map(|a| a.id.clone())
            .collect();
        Ok((
            NotificationListener::new(client, channel, permitted, reconnect_for),
            answers,
        ))
    }

    /// Asks the first connection for the events after `sequence` (replayed from the log).
    pub fn with_after(mut self, sequence: Option<i64>) -> NotificationListener {
        self.first_after = sequence;
        self
    }

    /// The `?after=` of the next connection: before the last change handed out, whose other
    /// topics may not all have arrived (those that did are skipped).
    fn after(&self) -> Option<i64> {
        self.last_sequence.map(|s| s - 1).or(self.first_after)
    }

    /// The channel in use (it changes after `socket_closing`).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The sequence of the last event handed out.
    pub fn last_sequence(&self) -> Option<i64> {
        self.last_sequence
    }

    /// The next thing that happened: connecting when there is no socket, reading it when
    /// there is.
    pub async fn next(&mut self) -> Result<ListenerItem, ListenError> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(item);
            }
            let Some(socket) = self.socket.as_mut() else {
                self.connect().await?;
                continue;
            };
            let message = match tokio::time::timeout(SILENCE, socket.next()).await {
                Err(_) if self.pinged => {
                    return Ok(self.dropped(format!(
                        "no message for {} s, not even an answer to a ping",
                        2 * SILENCE.as_secs()
                    )));
                }
                Err(_) => {
                    self.pinged = true;
                    if let Err(e) = socket.send(Message::text(r#"{"message":"ping"}"#)).await {
                        return Ok(self.dropped(format!("sending a ping: {e}")));
                    }
                    continue;
                }
                Ok(None) => return Ok(self.dropped("the connection ended".into())),
                Ok(Some(Err(e))) => return Ok(self.dropped(e.to_string())),
                Ok(Some(Ok(message))) => message,
            };
            self.pinged = false;
            match message {
                Message::Text(text) => {
                    if let Some(item) = self.classify(text.as_str()) {
                        return Ok(item);
                    }
                }
                Message::Close(frame) => {
                    let reason = match frame {
                        Some(f) if !f.reason.is_empty() => {
                            format!("closed by the server ({}: {})", f.code, f.reason)
                        }
                        Some(f) => format!("closed by the server ({})", f.code),
                        None => "closed by the server".into(),
                    };
                    return Ok(self.dropped(reason));
                }
                // Pings are answered by tungstenite; nothing else is expected.
                _ => {}
            }
        }
    }

    /// Sends a message of the socket protocol (e.g. `{"message":"ping"}`, or a
    /// `subscribe`), connecting first if needed.
    pub async fn send(&mut self, message: &Value) -> Result<(), ListenError> {
        if self.socket.is_none() {
            self.connect().await?;
        }
        let socket = self.socket.as_mut().expect("connected");
        if let Err(e) = socket.send(Message::text(message.to_string())).await {
            let dropped = self.dropped(format!("sending: {e}"));
            self.pending.push_back(dropped);
        }
        Ok(())
    }

    /// Closes the socket (a normal close), e.g. on Ctrl-C.
    pub async fn close(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
        }
    }

    fn dropped(&mut self, reason: String) -> ListenerItem {
        self.socket = None;
        self.pinged = false;
        ListenerItem::Dropped { reason }
    }

    /// What a text message is; `None` for an event already handed out.
    fn classify(&mut self, text: &str) -> Option<ListenerItem> {
        let Ok(raw) = serde_json::from_str::<Value>(text) else {
            return Some(ListenerItem::Other(Value::String(text.to_string())));
        };
        let topic = raw["topicName"].as_str().unwrap_or_default().to_string();
        if topic.is_empty() {
            return Some(ListenerItem::Other(raw));
        }
        if topic == "channel.metadata" {
            return Some(match raw["eventBody"]["message"].as_str() {
                Some("WebSocket Heartbeat") => ListenerItem::Heartbeat,
                _ => ListenerItem::Other(raw),
            });
        }
        if topic == "v2.system.socket_closing" {
            self.closing = true;
            return Some(ListenerItem::Closing);
        }
        if topic.starts_with("v2.system.") {
            return Some(ListenerItem::Other(raw));
        }
        let sequence = raw["metadata"]["sequence"].as_i64();
        if let (Some(seq), Some(last)) = (sequence, self.last_sequence) {
            if seq < last || (seq == last && self.last_topics.contains(&topic)) {
                return None;
            }
        }
        if let Some(seq) = sequence {
            if self.last_sequence != Some(seq) {
                self.last_sequence = Some(seq);
                self.last_topics.clear();
            }
            self.last_topics.push(topic.clone());
        }
        Some(ListenerItem::Event(NotificationEvent {
            topic_name: topic,
            version: raw["version"].as_str().map(str::to_string),
            event_body: raw["eventBody"].clone(),
            sequence,
            correlation_id: raw["metadata"]["CorrelationId"]
                .as_str()
                .map(str::to_string),
            raw,
        }))
    }

    /// Opens a socket: on the channel as it is, or on a fresh channel with the same topics
    /// after `socket_closing` or when the channel is gone; retrying with a growing pause
    /// until `reconnect_for` has passed.
    async fn connect(&mut self) -> Result<(), ListenError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(100);
        let mut fresh = std::mem::take(&mut self.closing);
        let mut moved = false;
        loop {
            let attempt = if fresh {
                self.move_to_fresh_channel().await.map(|()| {
                    fresh = false;
                    moved = true;
                })
            } else {
                Ok(())
            };
            let last_error = match attempt {
                Err(ListenError::Api(e)) if e.is_connectivity() => e.to_string(),
                Err(e) => return Err(e),
                Ok(()) => match self.open().await {
                    Ok(socket) => {
                        self.socket = Some(socket);
                        self.pinged = false;
                        self.pending.push_back(ListenerItem::Connected {
                            channel_id: self.channel.id.clone(),
                            after: self.after(),
                            fresh_channel: moved,
                        });
                        return Ok(());
                    }
                    Err(tungstenite::Error::Http(response)) => {
                        let status = response.status();
                        let message = response
                            .body()
                            .as_deref()
                            .map(|b| String::from_utf8_lossy(b).into_owned())
                            .unwrap_or_default();
                        match status {
                            // The channel expired or was removed: a fresh one, at once.
                            StatusCode::NOT_FOUND | StatusCode::GONE => {
                                fresh = true;
                                continue;
                            }
                            // Refused for good.
                            StatusCode::UNAUTHORIZED
                            | StatusCode::FORBIDDEN
                            | StatusCode::BAD_REQUEST => {
                                return Err(ListenError::Refused {
                                    status: status.as_u16(),
                                    message,
                                });
                            }
                            // 409: the server has not yet seen the previous socket go;
                            // 5xx: try again.
                            _ => format!("HTTP {status}: {message}"),
                        }
                    }
                    Err(e) => e.to_string(),
                },
            };
            if started.elapsed() + pause > self.reconnect_for {
                return Err(ListenError::GaveUp {
                    waited: started.elapsed(),
                    after: self.last_sequence,
                    last_error,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    async fn move_to_fresh_channel(&mut self) -> Result<(), ListenError> {
        let channel = self.client.create_notification_channel().await?;
        let answers = self
            .client
            .subscribe_notification_topics(&channel.id, &self.topics, true)
            .await?;
        self.topics = answers
            .into_iter()
            .filter(TopicSubscription::permitted)
            .map(|a| a.id)
            .collect();
        self.channel = channel;
        Ok(())
    }

    async fn open(&self) -> Result<Socket, tungstenite::Error> {
        let mut uri = self.channel.connect_uri.clone();
        if let Some(after) = self.after() {
            let sep = if uri.contains('?') { '&' } else { '?' };
            uri.push_str(&format!("{sep}after={after}"));
        }
        let mut request = uri.into_client_request()?;
        if let Ok(Some(token)) = self.client.bearer().await {
            if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
                request.headers_mut().insert("authorization", value);
            }
        }
        let (socket, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(request),
        )
        .await
        .map_err(|_| {
            tungstenite::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the websocket handshake took over 10 s",
            ))
        })??;
        Ok(socket)
    }
}
