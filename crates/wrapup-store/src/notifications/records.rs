//! A notification channel and its changes, as the store keeps them: plain records, which
//! the write primitives (`write.rs`) and the backends share without importing the store's
//! writer.

use uuid::Uuid;

/// A notification channel as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRecord {
    /// `streaming-0-<uuid>`: opaque to clients, and the secret of its socket's URI.
    pub id: String,
    /// The OAuth client whose token created it.
    pub client_id: Uuid,
    /// The hex SHA-256 of that token (`includechannels=token`).
    pub token_hash: String,
    /// That token's scopes, space-separated: what its socket's subscriptions are checked
    /// against.
    pub scopes: String,
    pub created_ms: i64,
    /// When it expires: 24 hours after its creation or its last subscription.
    pub expires_ms: i64,
    /// Its last creation, subscription, connection or disconnection: the least recently
    /// used of a client's channels is the one a new channel over the limit removes.
    pub last_used_ms: i64,
    /// The id of the socket connected to it now, on whichever node: a socket that finds
    /// another id here was replaced, and closes.
    pub socket: Option<String>,
    /// Its topics, in the order subscribed.
    pub topics: Vec<String>,
    /// The sequence number of the last event its last socket handled (sent or not for it).
    pub cursor: Option<i64>,
    /// When its last socket closed.
    pub disconnected_ms: Option<i64>,
}

/// A change to a channel ([`NotificationStore::change_channel`](super::NotificationStore::change_channel)); each also makes it the
/// most recently used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelChange {
    /// Its topics are now these, and it lives until `expires_ms`.
    Topics {
        topics: Vec<String>,
        expires_ms: i64,
    },
    /// A socket connected: it replaces any other (one socket per channel).
    Connected { socket: String },
    /// Its socket `socket` closed, having handled the events up to `cursor`; nothing
    /// changes when another socket has replaced it since (that one owns the channel now).
    Disconnected { socket: String, cursor: i64 },
}
