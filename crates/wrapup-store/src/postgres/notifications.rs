//! Notification channels on PostgreSQL: the reads of [`NotificationStore`] (on the pool) and
//! the primitives of [`NotificationTx`] (rows locked `FOR UPDATE`).

use async_trait::async_trait;
use uuid::Uuid;

use super::write_tx::PgWriteTx;
use super::PgStore;
use crate::error::{DbFailure, Result};
use crate::notifications::{
    channel, channel_columns, stored_topics, ChannelRecord, NotificationStore,
};
use crate::write::NotificationTx;
use crate::writer::Writer;

#[async_trait]
impl NotificationStore for PgStore {
    fn writer(&self) -> &Writer {
        &self.writer
    }

    async fn get_channel(&self, id: &str) -> Result<Option<ChannelRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM notification_channels WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(channel).transpose()?)
    }

    async fn list_channels(&self, client_id: Uuid) -> Result<Vec<ChannelRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM notification_channels WHERE client_id = $1 ORDER BY created_at, id"
        ))
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(channel).collect::<Result<_, DbFailure>>()?)
    }
}

impl NotificationTx for PgWriteTx {
    async fn client_channels_for_update(
        &mut self,
        client_id: Uuid,
    ) -> Result<Vec<ChannelRecord>, DbFailure> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM notification_channels WHERE client_id = $1 ORDER BY id FOR UPDATE"
        ))
        .bind(client_id)
        .fetch_all(&mut *self.db)
        .await?;
        rows.iter().map(channel).collect()
    }

    async fn channel_for_update(&mut self, id: &str) -> Result<Option<ChannelRecord>, DbFailure> {
        let row = sqlx::query(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM notification_channels WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *self.db)
        .await?;
        row.as_ref().map(channel).transpose()
    }

    async fn insert_channel(&mut self, c: &ChannelRecord) -> Result<(), DbFailure> {
        sqlx::query(concat!(
            "INSERT INTO notification_channels (",
            channel_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&c.id)
        .bind(c.client_id)
        .bind(&c.token_hash)
        .bind(&c.scopes)
        .bind(c.created_ms)
        .bind(c.expires_ms)
        .bind(c.last_used_ms)
        .bind(c.socket.as_deref())
        .bind(stored_topics(&c.topics))
        .bind(c.cursor)
        .bind(c.disconnected_ms)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn save_channel(&mut self, c: &ChannelRecord) -> Result<(), DbFailure> {
        sqlx::query(
            "UPDATE notification_channels SET expires_at = $1, last_used_at = $2, socket = $3, \
             topics = $4, cursor = $5, disconnected_at = $6 WHERE id = $7",
        )
        .bind(c.expires_ms)
        .bind(c.last_used_ms)
        .bind(c.socket.as_deref())
        .bind(stored_topics(&c.topics))
        .bind(c.cursor)
        .bind(c.disconnected_ms)
        .bind(&c.id)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn delete_channel(&mut self, id: &str) -> Result<(), DbFailure> {
        sqlx::query("DELETE FROM notification_channels WHERE id = $1")
            .bind(id)
            .execute(&mut *self.db)
            .await?;
        Ok(())
    }

    async fn delete_expired_channels(&mut self, now_ms: i64) -> Result<u64, DbFailure> {
        Ok(
            sqlx::query("DELETE FROM notification_channels WHERE expires_at <= $1")
                .bind(now_ms)
                .execute(&mut *self.db)
                .await?
                .rows_affected(),
        )
    }
}
