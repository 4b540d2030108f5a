//! The webhook primitives of a PostgreSQL write transaction ([`WebhookTx`]): statements run
//! at once on the batch's transaction (the webhook operations touch no interaction, so
//! nothing waits for the batch's write-back). Rows are locked `FOR UPDATE`; claims skip
//! the deliveries another node's transaction holds (`SKIP LOCKED`).

use sqlx::Row;
use uuid::Uuid;

use super::write_tx::PgWriteTx;
use crate::error::DbFailure;
use crate::schema;
use crate::webhooks::schema::{delivery_columns, stored_event_types, webhook_columns};
use crate::webhooks::{
    schema as webhook_schema, AttemptRecord, DeliveryRecord, NewDelivery, WebhookRecord,
};
use crate::write::WebhookTx;

/// The pending deliveries of an endpoint that could be sent now: first of their
/// interaction among the pending ones (shared with the reads in `webhooks.rs`).
pub(super) const HEAD_OF_INTERACTION: &str = "NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
     WHERE e.webhook_id = d.webhook_id AND e.status = 'pending' \
     AND e.interaction_id = d.interaction_id AND e.event_seq < d.event_seq)";

impl WebhookTx for PgWriteTx {
    async fn insert_webhook(&mut self, w: &WebhookRecord) -> Result<i64, DbFailure> {
        Ok(sqlx::query_scalar(
            "INSERT INTO webhooks (id, url, description, event_types, divisions, enabled, disabled_reason, \
             disabled_at, failing_since, secret_generation, previous_secret_expires_at, created_by, created_at, \
             updated_at, cursor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             RETURNING seq",
        )
        .bind(w.id)
        .bind(&w.url)
        .bind(&w.description)
        .bind(stored_event_types(&w.event_types))
        .bind(schema::stored_grant(&w.divisions)?)
        .bind(w.enabled)
        .bind(&w.disabled_reason)
        .bind(w.disabled_ms)
        .bind(w.failing_since_ms)
        .bind(w.secret_generation)
        .bind(w.previous_secret_expires_ms)
        .bind(w.created_by)
        .bind(w.created_ms)
        .bind(w.updated_ms)
        .bind(w.cursor)
        .fetch_one(&mut *self.db)
        .await?)
    }

    async fn webhook_for_update(&mut self, id: Uuid) -> Result<Option<WebhookRecord>, DbFailure> {
        let row = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *self.db)
        .await?;
        row.as_ref().map(webhook_schema::webhook).transpose()
    }

    async fn save_webhook(&mut self, w: &WebhookRecord) -> Result<(), DbFailure> {
        sqlx::query(
            "UPDATE webhooks SET url = $1, description = $2, event_types = $3, divisions = $4, enabled = $5, \
             disabled_reason = $6, disabled_at = $7, failing_since = $8, secret_generation = $9, \
             previous_secret_expires_at = $10, updated_at = $11, cursor = $12 WHERE id = $13",
        )
        .bind(&w.url)
        .bind(&w.description)
        .bind(stored_event_types(&w.event_types))
        .bind(schema::stored_grant(&w.divisions)?)
        .bind(w.enabled)
        .bind(&w.disabled_reason)
        .bind(w.disabled_ms)
        .bind(w.failing_since_ms)
        .bind(w.secret_generation)
        .bind(w.previous_secret_expires_ms)
        .bind(w.updated_ms)
        .bind(w.cursor)
        .bind(w.id)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn delete_webhook(&mut self, id: Uuid) -> Result<bool, DbFailure> {
        // The endpoint first: whoever deletes it locks it before its deliveries.
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&mut *self.db)
            .await?
            .rows_affected();
        for table in ["webhook_deliveries", "webhook_attempts"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE webhook_id = $1"))
                .bind(id)
                .execute(&mut *self.db)
                .await?;
        }
        Ok(deleted > 0)
    }

    async fn upsert_delivery(
        &mut self,
        webhook_id: Uuid,
        d: &NewDelivery,
        now_ms: i64,
    ) -> Result<(), DbFailure> {
        sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, message_id, event_seq, interaction_id, event_type, \
             body, status, attempts, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7) \
             ON CONFLICT (webhook_id, message_id) DO UPDATE SET body = excluded.body, status = 'pending', \
             attempts = 0, next_attempt_at = excluded.next_attempt_at, lease_id = NULL, \
             lease_expires_at = NULL, updated_at = excluded.updated_at",
        )
        .bind(webhook_id)
        .bind(&d.message_id)
        .bind(d.event_seq)
        .bind(d.interaction_id)
        .bind(&d.event_type)
        .bind(&d.body)
        .bind(now_ms)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn claimable_deliveries(
        &mut self,
        webhook_id: Uuid,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, DbFailure> {
        let sql = format!(
            "SELECT {} FROM webhook_deliveries d WHERE d.webhook_id = $1 AND d.status = 'pending' \
             AND d.next_attempt_at <= $2 AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $2) \
             AND {HEAD_OF_INTERACTION} ORDER BY d.next_attempt_at, d.event_seq LIMIT $3 \
             FOR UPDATE OF d SKIP LOCKED",
            delivery_columns!()
        );
        let rows = sqlx::query(&sql)
            .bind(webhook_id)
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.db)
            .await?;
        rows.iter().map(webhook_schema::delivery).collect()
    }

    async fn pending_after(
        &mut self,
        webhook_id: Uuid,
        interaction_id: Uuid,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, DbFailure> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending' \
             AND interaction_id = $2 AND event_seq > $3 ORDER BY event_seq LIMIT $4 FOR UPDATE"
        ))
        .bind(webhook_id)
        .bind(interaction_id)
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.db)
        .await?;
        rows.iter().map(webhook_schema::delivery).collect()
    }

    async fn lease_deliveries(
        &mut self,
        webhook_id: Uuid,
        message_ids: &[String],
        lease: Uuid,
        expires_ms: i64,
    ) -> Result<(), DbFailure> {
        sqlx::query(
            "UPDATE webhook_deliveries SET lease_id = $1, lease_expires_at = $2 \
             WHERE webhook_id = $3 AND message_id = ANY($4)",
        )
        .bind(lease)
        .bind(expires_ms)
        .bind(webhook_id)
        .bind(message_ids)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn delivery_for_update(
        &mut self,
        webhook_id: Uuid,
        message_id: &str,
    ) -> Result<Option<DeliveryRecord>, DbFailure> {
        let row = sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries WHERE webhook_id = $1 AND message_id = $2 FOR UPDATE"
        ))
        .bind(webhook_id)
        .bind(message_id)
        .fetch_optional(&mut *self.db)
        .await?;
        row.as_ref().map(webhook_schema::delivery).transpose()
    }

    async fn save_delivery(&mut self, d: &DeliveryRecord) -> Result<(), DbFailure> {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, lease_id = $4, \
             lease_expires_at = $5, updated_at = $6 WHERE webhook_id = $7 AND message_id = $8",
        )
        .bind(d.status.as_str())
        .bind(i64::from(d.attempts))
        .bind(d.next_attempt_ms)
        .bind(d.lease)
        .bind(d.lease_expires_ms)
        .bind(d.updated_ms)
        .bind(d.webhook_id)
        .bind(&d.message_id)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn insert_attempt(&mut self, a: &AttemptRecord) -> Result<(), DbFailure> {
        sqlx::query(
            "INSERT INTO webhook_attempts (webhook_id, message_id, event_seq, event_type, attempt, \
             attempted_at, response_status, response_body, error, latency_ms, result, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(a.webhook_id)
        .bind(&a.message_id)
        .bind(a.event_seq)
        .bind(&a.event_type)
        .bind(i64::from(a.attempt))
        .bind(a.attempted_ms)
        .bind(a.response_status.map(i64::from))
        .bind(&a.response_body)
        .bind(&a.error)
        .bind(a.latency_ms as i64)
        .bind(a.result.as_str())
        .bind(a.next_attempt_ms)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn prune_webhook_log(&mut self, before_ms: i64) -> Result<u64, DbFailure> {
        let attempts = sqlx::query("DELETE FROM webhook_attempts WHERE attempted_at < $1")
            .bind(before_ms)
            .execute(&mut *self.db)
            .await?
            .rows_affected();
        let deliveries = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $1",
        )
        .bind(before_ms)
        .execute(&mut *self.db)
        .await?
        .rows_affected();
        Ok(attempts + deliveries)
    }

    async fn meta_or_insert(&mut self, key: &str, value: &str) -> Result<String, DbFailure> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&mut *self.db)
            .await?;
        // A statement of its own: its snapshot sees another node's insert that the one
        // above waited for.
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_one(&mut *self.db)
            .await?;
        Ok(row.try_get(0)?)
    }
}
