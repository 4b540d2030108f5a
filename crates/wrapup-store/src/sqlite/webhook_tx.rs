//! The webhook primitives of a SQLite write transaction ([`WebhookTx`]), on the writer's
//! connection inside the batch's `BEGIN IMMEDIATE` transaction (which holds the database's
//! write lock, so a row read is a row locked).

use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::queries;
use super::write_tx::SqliteWriteTx;
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

impl WebhookTx for SqliteWriteTx {
    async fn insert_webhook(&mut self, w: &WebhookRecord) -> Result<i64, DbFailure> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO webhooks (id, url, description, event_types, divisions, enabled, disabled_reason, \
                 disabled_at, failing_since, secret_generation, previous_secret_expires_at, created_by, created_at, \
                 updated_at, cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            )?
            .query_row(
                params![
                    w.id,
                    w.url,
                    w.description,
                    stored_event_types(&w.event_types),
                    schema::stored_grant(&w.divisions)?,
                    w.enabled,
                    w.disabled_reason,
                    w.disabled_ms,
                    w.failing_since_ms,
                    w.secret_generation,
                    w.previous_secret_expires_ms,
                    w.created_by,
                    w.created_ms,
                    w.updated_ms,
                    w.cursor
                ],
                |r| r.get(0),
            )?)
    }

    async fn webhook_for_update(&mut self, id: Uuid) -> Result<Option<WebhookRecord>, DbFailure> {
        queries::query_one(
            &self.conn,
            concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE id = ?"),
            [id],
            |r| webhook_schema::webhook(r),
        )
    }

    async fn save_webhook(&mut self, w: &WebhookRecord) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "UPDATE webhooks SET url = ?, description = ?, event_types = ?, divisions = ?, enabled = ?, \
                 disabled_reason = ?, disabled_at = ?, failing_since = ?, secret_generation = ?, \
                 previous_secret_expires_at = ?, updated_at = ?, cursor = ? WHERE id = ?",
            )?
            .execute(params![
                w.url,
                w.description,
                stored_event_types(&w.event_types),
                schema::stored_grant(&w.divisions)?,
                w.enabled,
                w.disabled_reason,
                w.disabled_ms,
                w.failing_since_ms,
                w.secret_generation,
                w.previous_secret_expires_ms,
                w.updated_ms,
                w.cursor,
                w.id
            ])?;
        Ok(())
    }

    async fn delete_webhook(&mut self, id: Uuid) -> Result<bool, DbFailure> {
        for table in ["webhook_attempts", "webhook_deliveries"] {
            self.conn
                .prepare_cached(&format!("DELETE FROM {table} WHERE webhook_id = ?"))?
                .execute([id])?;
        }
        let deleted = self
            .conn
            .prepare_cached("DELETE FROM webhooks WHERE id = ?")?
            .execute([id])?;
        Ok(deleted > 0)
    }

    async fn upsert_delivery(
        &mut self,
        webhook_id: Uuid,
        d: &NewDelivery,
        now_ms: i64,
    ) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "INSERT INTO webhook_deliveries (webhook_id, message_id, event_seq, interaction_id, event_type, \
                 body, status, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) \
                 ON CONFLICT (webhook_id, message_id) DO UPDATE SET body = excluded.body, status = 'pending', \
                 attempts = 0, next_attempt_at = excluded.next_attempt_at, lease_id = NULL, \
                 lease_expires_at = NULL, updated_at = excluded.updated_at",
            )?
            .execute(params![
                webhook_id,
                d.message_id,
                d.event_seq,
                d.interaction_id,
                d.event_type,
                d.body,
                now_ms,
                now_ms,
                now_ms
            ])?;
        Ok(())
    }

    async fn claimable_deliveries(
        &mut self,
        webhook_id: Uuid,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, DbFailure> {
        let sql = format!(
            "SELECT {} FROM webhook_deliveries d WHERE d.webhook_id = ? AND d.status = 'pending' \
             AND d.next_attempt_at <= ? AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?) \
             AND {HEAD_OF_INTERACTION} ORDER BY d.next_attempt_at, d.event_seq LIMIT ?",
            delivery_columns!()
        );
        queries::query_all(
            &self.conn,
            &sql,
            params![webhook_id, now_ms, now_ms, i64::from(limit)],
            |r| webhook_schema::delivery(r),
        )
    }

    async fn pending_after(
        &mut self,
        webhook_id: Uuid,
        interaction_id: Uuid,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, DbFailure> {
        queries::query_all(
            &self.conn,
            concat!(
                "SELECT ",
                delivery_columns!(),
                " FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending' \
                 AND interaction_id = ? AND event_seq > ? ORDER BY event_seq LIMIT ?"
            ),
            params![webhook_id, interaction_id, after_seq, i64::from(limit)],
            |r| webhook_schema::delivery(r),
        )
    }

    async fn lease_deliveries(
        &mut self,
        webhook_id: Uuid,
        message_ids: &[String],
        lease: Uuid,
        expires_ms: i64,
    ) -> Result<(), DbFailure> {
        let mut update = self.conn.prepare_cached(
            "UPDATE webhook_deliveries SET lease_id = ?, lease_expires_at = ? \
             WHERE webhook_id = ? AND message_id = ?",
        )?;
        for id in message_ids {
            update.execute(params![lease, expires_ms, webhook_id, id])?;
        }
        Ok(())
    }

    async fn delivery_for_update(
        &mut self,
        webhook_id: Uuid,
        message_id: &str,
    ) -> Result<Option<DeliveryRecord>, DbFailure> {
        queries::query_one(
            &self.conn,
            concat!(
                "SELECT ",
                delivery_columns!(),
                " FROM webhook_deliveries WHERE webhook_id = ? AND message_id = ?"
            ),
            params![webhook_id, message_id],
            |r| webhook_schema::delivery(r),
        )
    }

    async fn save_delivery(&mut self, d: &DeliveryRecord) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, lease_id = ?, \
                 lease_expires_at = ?, updated_at = ? WHERE webhook_id = ? AND message_id = ?",
            )?
            .execute(params![
                d.status.as_str(),
                d.attempts,
                d.next_attempt_ms,
                d.lease,
                d.lease_expires_ms,
                d.updated_ms,
                d.webhook_id,
                d.message_id
            ])?;
        Ok(())
    }

    async fn insert_attempt(&mut self, a: &AttemptRecord) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "INSERT INTO webhook_attempts (webhook_id, message_id, event_seq, event_type, attempt, \
                 attempted_at, response_status, response_body, error, latency_ms, result, next_attempt_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                a.webhook_id,
                a.message_id,
                a.event_seq,
                a.event_type,
                a.attempt,
                a.attempted_ms,
                a.response_status,
                a.response_body,
                a.error,
                a.latency_ms as i64,
                a.result.as_str(),
                a.next_attempt_ms
            ])?;
        Ok(())
    }

    async fn prune_webhook_log(&mut self, before_ms: i64) -> Result<u64, DbFailure> {
        let attempts = self
            .conn
            .prepare_cached("DELETE FROM webhook_attempts WHERE attempted_at < ?")?
            .execute([before_ms])?;
        let deliveries = self
            .conn
            .prepare_cached(
                "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < ?",
            )?
            .execute([before_ms])?;
        Ok((attempts + deliveries) as u64)
    }

    async fn meta_or_insert(&mut self, key: &str, value: &str) -> Result<String, DbFailure> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            )?
            .execute(params![key, value])?;
        let stored: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        stored.ok_or_else(|| DbFailure::Other(format!("meta {key} vanished")))
    }
}
