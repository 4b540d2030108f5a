//! The webhook reads on SQLite: [`WebhookStore`] for [`SqliteStore`] (its writes are the
//! trait's provided methods).

use async_trait::async_trait;
use rusqlite::params;
use uuid::Uuid;

use super::queries::{self, query_all, query_one};
use super::webhook_tx::HEAD_OF_INTERACTION;
use super::SqliteStore;
use crate::error::Result;
use crate::records::EventRecord;
use crate::webhooks::schema::{attempt_columns, delivery_columns, webhook_columns};
use crate::webhooks::{
    schema, AttemptQuery, AttemptRecord, DeliveryRecord, WebhookRecord, WebhookStore,
};
use crate::writer::Writer;

#[async_trait]
impl WebhookStore for SqliteStore {
    fn writer(&self) -> &Writer {
        &self.writer
    }

    async fn get_webhook(&self, id: Uuid) -> Result<Option<WebhookRecord>> {
        self.read_now(move |conn| {
            Ok(query_one(
                conn,
                concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE id = ?"),
                [id],
                |r| schema::webhook(r),
            )?)
        })
        .await
    }

    async fn list_webhooks(&self, after: Option<i64>, limit: u32) -> Result<Vec<WebhookRecord>> {
        self.readers
            .read(move |conn| {
                Ok(query_all(
                    conn,
                    concat!(
                        "SELECT ",
                        webhook_columns!(),
                        " FROM webhooks WHERE seq > ? ORDER BY seq LIMIT ?"
                    ),
                    params![after.unwrap_or(0), i64::from(limit)],
                    |r| schema::webhook(r),
                )?)
            })
            .await
    }

    async fn get_delivery(
        &self,
        webhook_id: Uuid,
        message_id: &str,
    ) -> Result<Option<DeliveryRecord>> {
        let message_id = message_id.to_string();
        self.read_now(move |conn| {
            Ok(query_one(
                conn,
                concat!(
                    "SELECT ",
                    delivery_columns!(),
                    " FROM webhook_deliveries WHERE webhook_id = ? AND message_id = ?"
                ),
                params![webhook_id, message_id],
                |r| schema::delivery(r),
            )?)
        })
        .await
    }

    async fn next_delivery_due(&self, webhook_id: Uuid) -> Result<Option<i64>> {
        self.read_now(move |conn| {
            let sql = format!(
                "SELECT MIN(MAX(d.next_attempt_at, COALESCE(d.lease_expires_at, 0))) \
                 FROM webhook_deliveries d WHERE d.webhook_id = ? AND d.status = 'pending' \
                 AND {HEAD_OF_INTERACTION}"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([webhook_id], |r| r.get(0))?)
        })
        .await
    }

    async fn pending_deliveries(&self, webhook_id: Uuid) -> Result<u64> {
        self.read_now(move |conn| {
            let n: i64 = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending'",
                )?
                .query_row([webhook_id], |r| r.get(0))?;
            Ok(n as u64)
        })
        .await
    }

    async fn list_attempts(&self, q: AttemptQuery) -> Result<Vec<AttemptRecord>> {
        self.readers
            .read(move |conn| {
                Ok(query_all(
                    conn,
                    concat!(
                        "SELECT ",
                        attempt_columns!(),
                        " FROM webhook_attempts WHERE webhook_id = ? AND seq < ? \
                         AND (? IS NULL OR event_seq = ?) ORDER BY seq DESC LIMIT ?"
                    ),
                    params![
                        q.webhook_id,
                        q.before.unwrap_or(i64::MAX),
                        q.event_seq,
                        q.event_seq,
                        i64::from(q.limit)
                    ],
                    |r| schema::attempt(r),
                )?)
            })
            .await
    }

    async fn get_event(&self, seq: i64) -> Result<Option<EventRecord>> {
        if seq < 1 {
            return Ok(None);
        }
        let found = self
            .readers
            .read(move |conn| Ok(queries::events_after(conn, seq - 1, 1)?))
            .await?;
        Ok(found.into_iter().find(|e| e.seq == seq))
    }

    async fn last_event_before(&self, ms: i64) -> Result<Option<i64>> {
        self.read_now(move |conn| Ok(queries::last_event_before(conn, ms)?))
            .await
    }
}
