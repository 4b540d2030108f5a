//! The webhook reads on PostgreSQL, on the pool: [`WebhookStore`] for [`PgStore`] (its
//! writes are the trait's provided methods).

use async_trait::async_trait;
use uuid::Uuid;

use super::queries::events_after;
use super::webhook_tx::HEAD_OF_INTERACTION;
use super::PgStore;
use crate::error::{DbFailure, Result};
use crate::records::EventRecord;
use crate::webhooks::schema::{attempt_columns, delivery_columns, webhook_columns};
use crate::webhooks::{
    schema, AttemptQuery, AttemptRecord, DeliveryRecord, WebhookRecord, WebhookStore,
};
use crate::writer::Writer;

#[async_trait]
impl WebhookStore for PgStore {
    fn writer(&self) -> &Writer {
        &self.writer
    }

    async fn get_webhook(&self, id: Uuid) -> Result<Option<WebhookRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(schema::webhook).transpose()?)
    }

    async fn list_webhooks(&self, after: Option<i64>, limit: u32) -> Result<Vec<WebhookRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(schema::webhook)
            .collect::<Result<_, DbFailure>>()?)
    }

    async fn get_delivery(
        &self,
        webhook_id: Uuid,
        message_id: &str,
    ) -> Result<Option<DeliveryRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries WHERE webhook_id = $1 AND message_id = $2"
        ))
        .bind(webhook_id)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(schema::delivery).transpose()?)
    }

    async fn next_delivery_due(&self, webhook_id: Uuid) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT MIN(GREATEST(d.next_attempt_at, COALESCE(d.lease_expires_at, 0))) \
             FROM webhook_deliveries d WHERE d.webhook_id = $1 AND d.status = 'pending' \
             AND {HEAD_OF_INTERACTION}"
        );
        Ok(sqlx::query_scalar(&sql)
            .bind(webhook_id)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn pending_deliveries(&self, webhook_id: Uuid) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending'",
        )
        .bind(webhook_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }

    async fn list_attempts(&self, q: AttemptQuery) -> Result<Vec<AttemptRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM webhook_attempts WHERE webhook_id = $1 AND seq < $2 \
             AND ($3::bigint IS NULL OR event_seq = $3) ORDER BY seq DESC LIMIT $4"
        ))
        .bind(q.webhook_id)
        .bind(q.before.unwrap_or(i64::MAX))
        .bind(q.event_seq)
        .bind(i64::from(q.limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(schema::attempt)
            .collect::<Result<_, DbFailure>>()?)
    }

    async fn get_event(&self, seq: i64) -> Result<Option<EventRecord>> {
        if seq < 1 {
            return Ok(None);
        }
        let found = events_after(&self.pool, seq - 1, 1).await?;
        Ok(found.into_iter().find(|e| e.seq == seq))
    }

    async fn last_event_before(&self, ms: i64) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE created_at < $1")
                .bind(ms)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
