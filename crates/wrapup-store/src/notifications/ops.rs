//! The notification channel write operations, once for both backends, over the
//! primitives of `NotificationTx` (`write.rs`).

use super::{ChannelChange, ChannelRecord};
use crate::error::StoreError;
use crate::write::{WriteError, WriteOp, WriteTx};

pub(crate) struct CreateChannel {
    pub channel: ChannelRecord,
    pub limit: usize,
}

/// Which of `channels` a new one removes to keep `limit` (with itself): the least recently
/// used, unconnected ones first.
pub(crate) fn evicted(mut channels: Vec<ChannelRecord>, limit: usize) -> Vec<String> {
    let keep = limit.saturating_sub(1);
    if channels.len() <= keep {
        return Vec::new();
    }
    channels.sort_by(|a, b| {
        (a.socket.is_some(), a.last_used_ms, &a.id).cmp(&(
            b.socket.is_some(),
            b.last_used_ms,
            &b.id,
        ))
    });
    let remove = channels.len() - keep;
    channels.into_iter().take(remove).map(|c| c.id).collect()
}

impl WriteOp for CreateChannel {
    type Output = Vec<String>;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<Vec<String>, WriteError> {
        let existing = tx
            .client_channels_for_update(self.channel.client_id)
            .await?;
        let removed = evicted(existing, self.limit);
        for id in &removed {
            tx.delete_channel(id).await?;
        }
        tx.insert_channel(&self.channel).await?;
        Ok(removed)
    }

    fn conflict(&self) -> String {
        format!("channel {} already exists", self.channel.id)
    }
}

pub(crate) struct ChangeChannel {
    pub id: String,
    pub change: ChannelChange,
    pub now_ms: i64,
}

impl WriteOp for ChangeChannel {
    type Output = ChannelRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<ChannelRecord, WriteError> {
        let mut channel = tx
            .channel_for_update(&self.id)
            .await?
            .filter(|c| c.expires_ms > self.now_ms)
            .ok_or(StoreError::NotFound)?;
        match &self.change {
            ChannelChange::Topics { topics, expires_ms } => {
                channel.topics = topics.clone();
                channel.expires_ms = *expires_ms;
            }
            ChannelChange::Connected { socket } => channel.socket = Some(socket.clone()),
            ChannelChange::Disconnected { socket, .. }
                if channel.socket.as_ref() != Some(socket) =>
            {
                return Ok(channel);
            }
            ChannelChange::Disconnected { cursor, .. } => {
                channel.socket = None;
                channel.cursor = Some(*cursor);
                channel.disconnected_ms = Some(self.now_ms);
            }
        }
        channel.last_used_ms = self.now_ms;
        tx.save_channel(&channel).await?;
        Ok(channel)
    }
}

pub(crate) struct PruneChannels {
    pub now_ms: i64,
}

impl WriteOp for PruneChannels {
    type Output = u64;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<u64, WriteError> {
        Ok(tx.delete_expired_channels(self.now_ms).await?)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn channel(id: &str, connected: bool, last_used_ms: i64) -> ChannelRecord {
        ChannelRecord {
            id: id.into(),
            client_id: Uuid::nil(),
            token_hash: String::new(),
            scopes: String::new(),
            created_ms: 0,
            expires_ms: 1,
            last_used_ms,
            socket: connected.then(|| "s".to_string()),
            topics: vec![],
            cursor: None,
            disconnected_ms: None,
        }
    }

    #[test]
    fn the_least_recently_used_unconnected_channels_go_first() {
        let all = vec![
            channel("a", true, 1),
            channel("b", false, 5),
            channel("c", false, 3),
            channel("d", true, 0),
        ];
        assert!(evicted(all.clone(), 5).is_empty());
        assert_eq!(evicted(all.clone(), 4), ["c"]);
        assert_eq!(evicted(all.clone(), 3), ["c", "b"]);
        assert_eq!(evicted(all, 2), ["c", "b", "d"]);
    }
}
