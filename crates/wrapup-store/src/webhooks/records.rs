//! The values webhook storage speaks in.

use uuid::Uuid;
use wrapup_types::{AttemptResult, DivisionGrant, EventKind};

/// A webhook endpoint as stored. It holds no secret: the server derives the endpoint's
/// signing secret from its master key, `id` and `secret_generation`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    pub id: Uuid,
    /// Position in listing order (for cursors); set by the store.
    pub seq: i64,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<EventKind>,
    pub divisions: DivisionGrant,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_ms: Option<i64>,
    /// Since when every attempt has failed; `None` once one succeeds.
    pub failing_since_ms: Option<i64>,
    pub secret_generation: i64,
    /// While the previous generation still signs: until when.
    pub previous_secret_expires_ms: Option<i64>,
    pub created_by: Uuid,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// The last event sequence number taken into the delivery queue.
    pub cursor: i64,
}

impl WebhookRecord {
    /// Whether the endpoint receives an event of this kind and division.
    pub fn receives(&self, kind: EventKind, division: Uuid) -> bool {
        self.event_types.contains(&kind) && self.divisions.allows(division)
    }
}

/// What `PATCH /api/v2/webhooks/{id}` changes; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventKind>>,
    pub divisions: Option<DivisionGrant>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub now_ms: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet: due at `next_attempt_ms`.
    Pending,
    Delivered,
    /// Every attempt failed (or the endpoint answered 410 Gone).
    Failed,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A delivery to queue: an event for one endpoint (or a test).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// The `webhook-id`: the same for every attempt, unique per endpoint.
    pub message_id: String,
    /// The event's sequence number (`None` for a test).
    pub event_seq: Option<i64>,
    /// The event's interaction: its events are delivered in order.
    pub interaction_id: Option<Uuid>,
    pub event_type: String,
    /// The exact body to send.
    pub body: String,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub webhook_id: Uuid,
    pub message_id: String,
    pub event_seq: Option<i64>,
    pub interaction_id: Option<Uuid>,
    pub event_type: String,
    pub body: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    pub next_attempt_ms: i64,
    /// Who holds it now, and until when.
    pub lease: Option<Uuid>,
    pub lease_expires_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// What an attempt's answer means for its delivery (decided by the server's retry rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// 2xx.
    Delivered,
    /// Failed; try again at `at_ms`.
    Retry { at_ms: i64 },
    /// Failed, and that was the last attempt.
    Failed,
    /// 410 Gone: the delivery fails and the endpoint is disabled.
    Gone,
}

/// What recording an attempt did.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecorded {
    pub result: AttemptResult,
    /// Set when this attempt disabled the endpoint: why.
    pub disabled: Option<String>,
}

/// A logged attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// Position in the log.
    pub seq: i64,
    pub webhook_id: Uuid,
    pub message_id: String,
    pub event_seq: Option<i64>,
    pub event_type: String,
    pub attempt: u32,
    pub attempted_ms: i64,
    pub response_status: Option<u16>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub latency_ms: u64,
    pub result: AttemptResult,
    pub next_attempt_ms: Option<i64>,
}

/// A page of an endpoint's attempt log: newest first, before position `before`, only of
/// the event `event_seq` if given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptQuery {
    pub webhook_id: Uuid,
    pub event_seq: Option<i64>,
    pub before: Option<i64>,
    pub limit: u32,
}
