//! Notification channels on SQLite: the reads of [`NotificationStore`] and the primitives
//! of [`NotificationTx`] (inside the writer's `BEGIN IMMEDIATE`, so a row read is locked).

use async_trait::async_trait;
use rusqlite::params;
use uuid::Uuid;

use super::queries::{query_all, query_one};
use super::write_tx::SqliteWriteTx;
use super::SqliteStore;
use crate::error::{DbFailure, Result};
use crate::notifications::{
    channel, channel_columns, stored_topics, ChannelRecord, NotificationStore,
};
use crate::write::NotificationTx;
use crate::writer::Writer;

#[async_trait]
impl NotificationStore for SqliteStore {
    fn writer(&self) -> &Writer {
        &self.writer
    }

    async fn get_channel(&self, id: &str) -> Result<Option<ChannelRecord>> {
        let id = id.to_string();
        self.read_now(move |conn| {
            Ok(query_one(
                conn,
                concat!(
                    "SELECT ",
                    channel_columns!(),
                    " FROM notification_channels WHERE id = ?"
                ),
                [id],
                |r| channel(r),
            )?)
        })
        .await
    }

    async fn list_channels(&self, client_id: Uuid) -> Result<Vec<ChannelRecord>> {
        self.read_now(move |conn| {
            Ok(query_all(
                conn,
                concat!(
                    "SELECT ",
                    channel_columns!(),
                    " FROM notification_channels WHERE client_id = ? ORDER BY created_at, id"
                ),
                [client_id],
                |r| channel(r),
            )?)
        })
        .await
    }
}

impl NotificationTx for SqliteWriteTx {
    async fn client_channels_for_update(
        &mut self,
        client_id: Uuid,
    ) -> Result<Vec<ChannelRecord>, DbFailure> {
        query_all(
            &self.conn,
            concat!(
                "SELECT ",
                channel_columns!(),
                " FROM notification_channels WHERE client_id = ?"
            ),
            [client_id],
            |r| channel(r),
        )
    }

    async fn channel_for_update(&mut self, id: &str) -> Result<Option<ChannelRecord>, DbFailure> {
        query_one(
            &self.conn,
            concat!(
                "SELECT ",
                channel_columns!(),
                " FROM notification_channels WHERE id = ?"
            ),
            [id],
            |r| channel(r),
        )
    }

    async fn insert_channel(&mut self, c: &ChannelRecord) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(concat!(
                "INSERT INTO notification_channels (",
                channel_columns!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))?
            .execute(params![
                c.id,
                c.client_id,
                c.token_hash,
                c.scopes,
                c.created_ms,
                c.expires_ms,
                c.last_used_ms,
                c.socket,
                stored_topics(&c.topics),
                c.cursor,
                c.disconnected_ms
            ])?;
        Ok(())
    }

    async fn save_channel(&mut self, c: &ChannelRecord) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "UPDATE notification_channels SET expires_at = ?, last_used_at = ?, socket = ?, \
                 topics = ?, cursor = ?, disconnected_at = ? WHERE id = ?",
            )?
            .execute(params![
                c.expires_ms,
                c.last_used_ms,
                c.socket,
                stored_topics(&c.topics),
                c.cursor,
                c.disconnected_ms,
                c.id
            ])?;
        Ok(())
    }

    async fn delete_channel(&mut self, id: &str) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached("DELETE FROM notification_channels WHERE id = ?")?
            .execute([id])?;
        Ok(())
    }

    async fn delete_expired_channels(&mut self, now_ms: i64) -> Result<u64, DbFailure> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM notification_channels WHERE expires_at <= ?")?
            .execute([now_ms])? as u64)
    }
}
