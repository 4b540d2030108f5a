//! Genesys notifications (docs/genesys.md#notifications): channels and their subscriptions
//! (REST, `routes`, kept in the store so every node answers for every channel), the
//! availability of each topic to a token (`access`), the websocket of a channel (`socket`),
//! and this node's dispatch of the event log to its sockets (`hub`): one task follows the
//! store's feed of committed events (the one the SSE stream and webhooks read, cross-node
//! on PostgreSQL), maps each event to its topics with `wrapup_domain::genesys::notifications`,
//! renders each topic's message once, and hands it to the sockets subscribed to it, through
//! an index of topic → sockets, each socket with a bounded queue.

pub mod access;
pub mod hub;
pub mod routes;
pub mod socket;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

pub use self::hub::Hub;

/// The notification settings (`wrapup serve --notification-*`).
#[derive(Debug, Clone)]
pub struct NotificationConfig {
    /// How often an idle socket gets a `channel.metadata` heartbeat (Genesys: 30 s); also
    /// how often a socket re-reads its channel and its client's divisions.
    pub heartbeat: Duration,
    /// How long before its channel's expiry a socket gets `v2.system.socket_closing`.
    pub closing_notice: Duration,
    /// How long after a socket closes a reconnection to its channel still receives what it
    /// missed.
    pub replay_window: Duration,
    /// How long a channel lives after its creation or last subscription.
    pub channel_life: Duration,
    /// The most channels an OAuth client has; the next one removes the least recently used.
    pub max_channels: usize,
    /// The most topics a channel has.
    pub max_topics: usize,
    /// The messages a socket's queue holds; a socket whose reader falls this far behind is
    /// closed.
    pub send_queue: usize,
    /// The largest message a client may send on a socket, in bytes.
    pub max_client_message: usize,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        NotificationConfig {
            heartbeat: Duration::from_secs(30),
            closing_notice: Duration::from_secs(60),
            replay_window: Duration::from_secs(60),
            channel_life: Duration::from_secs(24 * 3600),
            max_channels: 20,
            max_topics: 1_000,
            send_queue: 1_024,
            max_client_message: 16 * 1024,
        }
    }
}

/// The server's notification part (a substate): its settings and this node's hub.
pub struct Notifications {
    pub config: NotificationConfig,
    pub hub: Arc<Hub>,
}

impl Notifications {
    pub fn new(config: NotificationConfig) -> Notifications {
        Notifications {
            config,
            hub: Arc::new(Hub::default()),
        }
    }
}

/// A `channel.metadata` message (`WebSocket Heartbeat`, `pong`).
pub(crate) fn metadata(message: &str) -> String {
    json!({"topicName": "channel.metadata", "eventBody": {"message": message}}).to_string()
}

/// `v2.system.socket_closing`: the server is about to close the socket.
pub(crate) fn socket_closing(reason: &str) -> String {
    json!({"topicName": "v2.system.socket_closing", "version": "2", "eventBody": {"message": reason}})
        .to_string()
}
