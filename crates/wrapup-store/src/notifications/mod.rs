//! Genesys notification channels (docs/genesys.md#notifications), behind
//! [`NotificationStore`] (reached through [`Store::notifications`](crate::Store::notifications)):
//! a channel's owner, life and topics, and where its last socket stopped reading the event
//! log. Kept in the database so that every node answers for every channel: a channel
//! created through one node's REST API can be connected to on another.
//!
//! As with [`Store`](crate::Store), the writes are provided methods handing an operation
//! (`ops.rs`) to the store's writer; the reads and the primitives the operations run with
//! (`NotificationTx`, in `write.rs`) are each backend's, in its
//! `notifications.rs`.

pub(crate) mod ops;

use async_trait::async_trait;
use uuid::Uuid;

use self::ops::{ChangeChannel, CreateChannel, PruneChannels};
use crate::error::{DbFailure, Result};
use crate::schema::ResultRow;
use crate::writer::Writer;

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
    /// Whether a socket is connected to it now.
    pub connected: bool,
    /// Its topics, in the order subscribed.
    pub topics: Vec<String>,
    /// The sequence number of the last event its last socket handled (sent or not for it).
    pub cursor: Option<i64>,
    /// When its last socket closed.
    pub disconnected_ms: Option<i64>,
}

/// A change to a channel ([`NotificationStore::change_channel`]); each also makes it the
/// most recently used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelChange {
    /// Its topics are now these, and it lives until `expires_ms`.
    Topics {
        topics: Vec<String>,
        expires_ms: i64,
    },
    /// A socket connected.
    Connected,
    /// Its socket closed, having handled the events up to `cursor`.
    Disconnected { cursor: i64 },
}

/// The columns of a channel row, in the order [`channel`] reads them.
macro_rules! channel_columns {
    () => {
        "id, client_id, token_hash, scopes, created_at, expires_at, last_used_at, connected, \
         topics, cursor, disconnected_at"
    };
}
pub(crate) use channel_columns;

/// A channel selected as [`channel_columns`].
pub(crate) fn channel(row: &impl ResultRow) -> Result<ChannelRecord, DbFailure> {
    let topics = row.text(8)?;
    Ok(ChannelRecord {
        id: row.text(0)?,
        client_id: row.uuid(1)?,
        token_hash: row.text(2)?,
        scopes: row.text(3)?,
        created_ms: row.int(4)?,
        expires_ms: row.int(5)?,
        last_used_ms: row.int(6)?,
        connected: row.flag(7)?,
        topics: serde_json::from_str(&topics).map_err(|_| DbFailure::corrupt("topics", &topics))?,
        cursor: row.opt_int(9)?,
        disconnected_ms: row.opt_int(10)?,
    })
}

/// Topics as stored: a JSON array.
pub(crate) fn stored_topics(topics: &[String]) -> String {
    serde_json::to_string(topics).expect("strings serialise")
}

/// Notification channel storage.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The writer every write goes through: the store's.
    fn writer(&self) -> &Writer;

    /// Stores a new channel. When its client then has more than `limit` channels, removes
    /// the least recently used (unconnected ones first) until it has `limit`; returns the
    /// ids removed.
    async fn create_channel(&self, channel: &ChannelRecord, limit: usize) -> Result<Vec<String>> {
        self.writer()
            .write(CreateChannel {
                channel: channel.clone(),
                limit,
            })
            .await
    }
    /// Changes a channel not expired at `now_ms` (`NotFound` otherwise) and returns it.
    async fn change_channel(
        &self,
        id: &str,
        change: &ChannelChange,
        now_ms: i64,
    ) -> Result<ChannelRecord> {
        self.writer()
            .write(ChangeChannel {
                id: id.to_string(),
                change: change.clone(),
                now_ms,
            })
            .await
    }
    /// Deletes the channels expired at `now_ms`; returns how many.
    async fn prune_channels(&self, now_ms: i64) -> Result<u64> {
        self.writer().write(PruneChannels { now_ms }).await
    }
    /// A channel, expired or not.
    async fn get_channel(&self, id: &str) -> Result<Option<ChannelRecord>>;
    /// A client's channels, oldest first, expired or not.
    async fn list_channels(&self, client_id: Uuid) -> Result<Vec<ChannelRecord>>;
}
