//! The webhook tables as both backends lay them out (`migrations/*/0003_webhooks.sql`):
//! column lists, how a row becomes a record, how values are stored.

use wrapup_types::{AttemptResult, EventKind};

use super::records::{AttemptRecord, DeliveryRecord, DeliveryStatus, WebhookRecord};
use crate::error::DbFailure;
use crate::schema::ResultRow;

/// The columns of a webhook row, in the order [`webhook`] reads them.
macro_rules! webhook_columns {
    () => {
        "seq, id, url, description, event_types, divisions, enabled, disabled_reason, disabled_at, \
         failing_since, secret_generation, previous_secret_expires_at, created_by, created_at, \
         updated_at, cursor"
    };
}
/// The columns of a delivery row, in the order [`delivery`] reads them.
macro_rules! delivery_columns {
    () => {
        "webhook_id, message_id, event_seq, interaction_id, event_type, body, status, attempts, \
         next_attempt_at, lease_id, lease_expires_at, created_at, updated_at"
    };
}
/// The columns of an attempt row, in the order [`attempt`] reads them.
macro_rules! attempt_columns {
    () => {
        "seq, webhook_id, message_id, event_seq, event_type, attempt, attempted_at, \
         response_status, response_body, error, latency_ms, result, next_attempt_at"
    };
}
pub(crate) use {attempt_columns, delivery_columns, webhook_columns};

/// Event kinds as stored: space-separated.
pub(crate) fn stored_event_types(kinds: &[EventKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A webhook selected as [`webhook_columns`].
pub(crate) fn webhook(row: &impl ResultRow) -> Result<WebhookRecord, DbFailure> {
    let kinds = row.text(4)?;
    let divisions = row.text(5)?;
    Ok(WebhookRecord {
        seq: row.int(0)?,
        id: row.uuid(1)?,
        url: row.text(2)?,
        description: row.opt_text(3)?,
        event_types: kinds
            .split_whitespace()
            .map(|k| EventKind::parse(k).ok_or_else(|| DbFailure::corrupt("event type", k)))
            .collect::<Result<_, _>>()?,
        divisions: serde_json::from_str(&divisions)
            .map_err(|_| DbFailure::corrupt("division grant", &divisions))?,
        enabled: row.flag(6)?,
        disabled_reason: row.opt_text(7)?,
        disabled_ms: row.opt_int(8)?,
        failing_since_ms: row.opt_int(9)?,
        secret_generation: row.int(10)?,
        previous_secret_expires_ms: row.opt_int(11)?,
        created_by: row.uuid(12)?,
        created_ms: row.int(13)?,
        updated_ms: row.int(14)?,
        cursor: row.int(15)?,
    })
}

/// A delivery selected as [`delivery_columns`].
pub(crate) fn delivery(row: &impl ResultRow) -> Result<DeliveryRecord, DbFailure> {
    let status = row.text(6)?;
    Ok(DeliveryRecord {
        webhook_id: row.uuid(0)?,
        message_id: row.text(1)?,
        event_seq: row.opt_int(2)?,
        interaction_id: row.opt_uuid(3)?,
        event_type: row.text(4)?,
        body: row.text(5)?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| DbFailure::corrupt("delivery status", &status))?,
        attempts: row.int(7)? as u32,
        next_attempt_ms: row.int(8)?,
        lease: row.opt_uuid(9)?,
        lease_expires_ms: row.opt_int(10)?,
        created_ms: row.int(11)?,
        updated_ms: row.int(12)?,
    })
}

/// An attempt selected as [`attempt_columns`].
pub(crate) fn attempt(row: &impl ResultRow) -> Result<AttemptRecord, DbFailure> {
    let result = row.text(11)?;
    Ok(AttemptRecord {
        seq: row.int(0)?,
        webhook_id: row.uuid(1)?,
        message_id: row.text(2)?,
        event_seq: row.opt_int(3)?,
        event_type: row.text(4)?,
        attempt: row.int(5)? as u32,
        attempted_ms: row.int(6)?,
        response_status: row.opt_int(7)?.map(|s| s as u16),
        response_body: row.opt_text(8)?,
        error: row.opt_text(9)?,
        latency_ms: row.int(10)?.max(0) as u64,
        result: AttemptResult::parse(&result)
            .ok_or_else(|| DbFailure::corrupt("attempt result", &result))?,
        next_attempt_ms: row.opt_int(12)?,
    })
}
