//! Webhooks on the wire (docs/webhooks.md): endpoints, what creating one and rotating its
//! secret answer, the delivery log, replays, and the payload every delivery carries.
//!
//! Absent optional values are left out of responses rather than written as `null`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::{DivisionGrant, EventKind};

/// The event type of a test delivery (`POST /api/v2/webhooks/{webhookId}/test`).
pub const TEST_EVENT_TYPE: &str = "webhook.test";

/// A webhook endpoint: where events are POSTed, which ones, and how delivery goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10", "url": "https://crm.example.com/hooks/wrapup",
    "eventTypes": ["interaction.finalized", "interaction.wrapup"], "divisions": "all",
    "description": "CRM sync", "enabled": true,
    "createdAt": "2026-11-24T09:00:00.000Z", "updatedAt": "2026-11-24T09:00:00.000Z",
    "createdBy": "00000000-0000-4000-8000-00000000d001", "scheduledThrough": 1830
}))]
pub struct Webhook {
    pub id: Uuid,
    /// Where deliveries are POSTed: an absolute `http` or `https` URL.
    pub url: String,
    /// The event types delivered.
    pub event_types: Vec<EventKind>,
    /// Only events of these divisions are delivered (always within the creator's grant).
    pub divisions: DivisionGrant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `false` when disabled, by a caller or by the server (`disabledReason` says why).
    pub enabled: bool,
    /// Why the endpoint is disabled, e.g. after `410 Gone` or a day of failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<OffsetDateTime>,
    /// Since when every delivery attempt has failed (absent when the last one succeeded).
    /// An endpoint failing for a day is disabled.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failing_since: Option<OffsetDateTime>,
    /// During a secret rotation's grace period: when the previous secret stops signing.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_expires_at: Option<OffsetDateTime>,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// The OAuth client that created the endpoint.
    pub created_by: Uuid,
    /// The last event sequence number taken into the endpoint's delivery queue: every
    /// event up to it is delivered, being delivered, or not one the endpoint receives.
    pub scheduled_through: i64,
}

/// A new webhook endpoint with its signing secret, which is shown only this once (and
/// again only by rotating it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret, `whsec_` and base64: verify deliveries with it.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+1bOc8C1EHs=")]
    pub secret: String,
}

/// `POST /api/v2/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"url": "https://crm.example.com/hooks/wrapup", "eventTypes": ["interaction.finalized"], "description": "CRM sync"}))]
pub struct CreateWebhook {
    /// An absolute `http` or `https` URL, at most 2048 characters, without credentials.
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    /// The event types to deliver (default: all of them); at least one when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1)]
    pub event_types: Option<Vec<EventKind>>,
    /// The divisions whose events to deliver, each granted to the token (default: the
    /// token's own grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divisions: Option<DivisionGrant>,
    /// What the endpoint is for, at most 1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// Default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `PATCH /api/v2/webhooks/{webhookId}`: the fields sent are changed, the others kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct UpdateWebhook {
    /// A new URL: absolute `http` or `https`, at most 2048 characters, without credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// The event types to deliver from now on; at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1)]
    pub event_types: Option<Vec<EventKind>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divisions: Option<DivisionGrant>,
    /// At most 1024 characters; an empty string removes the description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    /// `true` re-enables a disabled endpoint: delivery resumes where it stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A new signing secret. Until `previousSecretExpiresAt`, deliveries carry a signature
/// with each secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedSecret {
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+1bOc8C1EHs=")]
    pub secret: String,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_expires_at: Option<OffsetDateTime>,
}

/// What one delivery attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttemptResult {
    /// The endpoint answered 2xx: the event is delivered.
    Delivered,
    /// It failed; another attempt is scheduled (`nextAttemptAt`).
    Retrying,
    /// It failed and was the last attempt (or the endpoint answered 410 Gone): the event
    /// is marked failed. Resend it with `POST …/events/{sequence}/resend`.
    Failed,
}

impl AttemptResult {
    pub const ALL: [AttemptResult; 3] = [Self::Delivered, Self::Retrying, Self::Failed];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One attempt to deliver an event to an endpoint, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAttempt {
    /// The `webhook-id` header sent: the same for every attempt at one event.
    pub message_id: String,
    /// The event's sequence number (absent for test deliveries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    pub event_type: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub attempted_at: OffsetDateTime,
    /// The HTTP status the endpoint answered (absent when there was no answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<u16>,
    /// The first KiB of the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// What went wrong: a timeout, a refused connection, a refused address, a status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: u64,
    pub result: AttemptResult,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// `POST /api/v2/webhooks/{webhookId}/replay`: exactly one of the two fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"fromSequence": 1200}))]
pub struct ReplayWebhook {
    /// Deliver again every event from this sequence number on.
    #[serde(
        default,
        deserialize_with = "crate::whole_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub from_sequence: Option<i64>,
    /// Deliver again every event that occurred at or after this time.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub since: Option<OffsetDateTime>,
}

/// What a replay queued: the events from `fromSequence` through `throughSequence` that the
/// endpoint receives (and any committed later, as usual).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayQueued {
    pub from_sequence: i64,
    pub through_sequence: i64,
}

/// A delivery queued by a resend or a test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryQueued {
    /// The `webhook-id` the delivery carries.
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
}

/// The body of every delivery: the event as the event stream carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "interaction.finalized", "sequence": 42, "timestamp": "2026-11-24T21:27:41.500Z",
    "data": {"id": "3d5e7f90-1a2b-4c3d-8e4f-5a6b7c8d9e0f", "divisionId": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
             "channel": "voice", "state": "closed", "finalized": true, "version": 4}
}))]
pub struct WebhookPayload {
    /// `interaction.created`, `interaction.state`, `interaction.finalized`,
    /// `interaction.wrapup`, or `webhook.test`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's sequence number: the event id of the event stream (absent for tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    /// When the event occurred (not when it was delivered).
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: OffsetDateTime,
    /// The interaction after the change (for `webhook.test`: the endpoint's id and a note).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}
