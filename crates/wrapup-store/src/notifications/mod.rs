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
pub mod records;

use async_trait::async_trait;
use uuid::Uuid;

use self::ops::{ChangeChannel, CreateChannel, PruneChannels};
use crate::error::{DbFailure, Result};
use crate::schema::ResultRow;
use crate::writer::Writer;

pub use self::records::{ChannelChange, ChannelRecord};

/// The columns of a channel row, in the order [`channel`] reads them.
macro_rules! channel_columns {
    () => {
        "id, client_id, token_hash, scopes, created_at, expires_at, last_used_at, socket, \
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
        socket: row.opt_text(7)?,
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
