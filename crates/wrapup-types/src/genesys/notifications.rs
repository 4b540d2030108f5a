//! The Notifications API's shapes (docs/genesys.md#notifications): channels, their topics,
//! the available topics, and the flat bodies of the detail-event topics
//! (`AcwDetailEventTopicAfterCallWorkEvent`, `WrapupDetailEventTopicWrapupEvent`, …).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A notification channel (Genesys `Channel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "streaming-0-6a0f1c2e-4b1d-4c3a-9e8f-0d1c2b3a4f5e",
    "connectUri": "ws://localhost:8080/api/v2/notifications/channels/streaming-0-6a0f1c2e-4b1d-4c3a-9e8f-0d1c2b3a4f5e/socket",
    "expires": "2026-11-25T21:20:00.000Z"
}))]
pub struct NotificationChannel {
    /// Opaque; the secret of its socket's URI.
    pub id: String,
    /// Where to open the websocket, as given (`ws://`, or `wss://` behind TLS).
    pub connect_uri: String,
    /// When the channel expires: 24 hours after its creation or its last subscription.
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub expires: OffsetDateTime,
}

/// `{"entities": [...]}`, the Notifications API's listings (not paged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotificationEntities<T> {
    pub entities: Vec<T>,
}

/// One topic of a subscription request (Genesys `ChannelTopic`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "v2.detail.events.conversation.3d5e7f90-1a2b-4c3d-8e4f-5a6b7c8d9e0f.acw"}))]
pub struct ChannelTopicRequest {
    /// The topic, e.g. `v2.detail.events.conversation.{conversationId}.acw`.
    pub id: String,
}

/// Whether a channel receives a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum TopicState {
    Permitted,
    Rejected,
}

/// A topic of a channel, with whether it is delivered (Genesys `ChannelTopicEntity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "v2.users.00000000-0000-4000-8000-0000000000f1.conversations", "state": "Permitted"}))]
pub struct ChannelTopic {
    pub id: String,
    pub state: TopicState,
    /// Why a `Rejected` topic is not delivered; left out when permitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// The Genesys permissions the token lacks for it (docs/genesys.md#permissions); left
    /// out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<String>,
}

/// A topic a channel may subscribe to (Genesys `AvailableTopic`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailableTopic {
    /// The topic with its parameters in braces, e.g. `v2.users.{id}.conversations`.
    pub id: String,
    pub description: String,
    /// The Genesys permissions it needs (any of them).
    pub requires_permissions: Vec<String>,
    /// Whether the objects it names are checked against the client's divisions.
    pub requires_division_permissions: bool,
    /// `["Websocket"]`.
    pub transports: Vec<String>,
    /// The names of its parameters, e.g. `["id"]`.
    pub topic_parameters: Vec<String>,
    /// `Public`.
    pub visibility: String,
    /// The JSON schema of its event body, with `expand=schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub schema: Option<serde_json::Value>,
}

/// The flat body of a detail-event topic (`…acw`, `…wrapup`, `…customer.end`,
/// `…user.end`), as the SDKs' `*DetailEventTopic*Event` models read it. Fields a topic does
/// not carry are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetailEvent {
    /// When it happened, in epoch milliseconds.
    pub event_time: i64,
    pub conversation_id: String,
    pub participant_id: String,
    /// The participant's communication.
    pub session_id: String,
    /// `VOICE`, `CALLBACK`, `EMAIL`, `CHAT` or `MESSAGE`.
    pub media_type: String,
    /// `wrapup`.
    pub provider: String,
    /// `INBOUND`.
    pub direction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    /// The conversation's division (`.customer.end`, `.user.end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division_id: Option<String>,
    /// `.customer.end`, `.user.end`: `PEER` for the customer, `CLIENT` for the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnect_type: Option<String>,
    /// `.customer.end`, `.user.end`: from the answer to the close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interacting_duration_ms: Option<i64>,
    /// `.wrapup`: the code's id, or `ININ-WRAP-UP-TIMEOUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_duration_ms: Option<i64>,
}
