//! An interaction seen as a Genesys Cloud conversation (`GET /api/v2/conversations/{id}`
//! and the media views `GET /api/v2/conversations/{calls|callbacks|emails|messages}/{id}`).
//! How each field is derived from the interaction is docs/genesys.md's mapping table;
//! the derivation itself is `wrapup_domain::genesys::conversation`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Channel;
pub use crate::WrapupPrompt;

/// The media segment of a Genesys conversation path, and the list of communications a
/// participant carries: one per wrapup channel (chat and message are both `messages`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Media {
    Calls,
    Callbacks,
    Emails,
    Messages,
}

impl Media {
    pub const ALL: [Media; 4] = [Self::Calls, Self::Callbacks, Self::Emails, Self::Messages];

    /// The media of an interaction's channel.
    pub const fn of(channel: Channel) -> Media {
        match channel {
            Channel::Voice => Media::Calls,
            Channel::Callback => Media::Callbacks,
            Channel::Email => Media::Emails,
            Channel::Chat | Channel::Message => Media::Messages,
        }
    }

    /// The path segment and participant key: `calls`, `callbacks`, `emails`, `messages`.
    pub const fn segment(self) -> &'static str {
        match self {
            Media::Calls => "calls",
            Media::Callbacks => "callbacks",
            Media::Emails => "emails",
            Media::Messages => "messages",
        }
    }

    /// The SDKs' name of the media in operation ids: `Call`, `Callback`, `Email`, `Message`.
    pub const fn sdk_name(self) -> &'static str {
        match self {
            Media::Calls => "Call",
            Media::Callbacks => "Callback",
            Media::Emails => "Email",
            Media::Messages => "Message",
        }
    }

    pub fn parse_segment(segment: &str) -> Option<Media> {
        Self::ALL.into_iter().find(|m| m.segment() == segment)
    }

    /// Whether the SDKs' communication model of this media has the state `terminated`:
    /// `Call` and `Callback` do; `Email` and `Message` do not (the Python SDK would read it
    /// as `"outdated_sdk_version"`), so a finished email or message stays `disconnected`.
    pub const fn can_terminate(self) -> bool {
        matches!(self, Media::Calls | Media::Callbacks)
    }
}

/// The state of a communication (and, in the media views, of a participant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommunicationState {
    /// Offered to the agent (the interaction is queued).
    Alerting,
    Connected,
    /// The interaction is closed; after-call work may be pending.
    Disconnected,
    /// Closed and wrapped up (calls and callbacks only).
    Terminated,
}

/// The state of an agent's after-call work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum AfterCallWorkState {
    /// The interaction is closed and waits for its wrap-up (or has a provisional one).
    Pending,
    /// A wrap-up is in place.
    Complete,
    /// The agent skipped the wrap-up (an optional prompt).
    Skipped,
}

/// Who a participant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Customer,
    Agent,
}

/// The direction of a communication; every wrapup interaction is routed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
}

/// A reference to a division (Genesys `StarrableDivision` / `DomainEntityRef`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DivisionRef {
    pub id: Uuid,
    pub name: String,
    /// `/api/v2/authorization/divisions/{id}`.
    pub self_uri: String,
}

impl DivisionRef {
    pub fn new(id: Uuid, name: impl Into<String>) -> DivisionRef {
        DivisionRef {
            id,
            name: name.into(),
            self_uri: format!("/api/v2/authorization/divisions/{id}"),
        }
    }
}

/// The division a conversation belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DivisionMembership {
    pub division: DivisionRef,
    /// Always empty: wrapup has no entities (users, queues) to list.
    #[schema(value_type = Vec<Object>)]
    pub entities: Vec<serde_json::Value>,
}

/// The wrap-up on a participant or communication (Genesys `Wrapup`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantWrapup {
    /// The wrap-up code's id, or `ININ-WRAP-UP-TIMEOUT` for the system's wrap-up at a
    /// timeout.
    pub code: String,
    /// The code's name when the wrap-up was applied.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Whole seconds (the stored milliseconds, rounded).
    pub duration_seconds: u32,
    /// When the wrap-up was applied.
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub end_time: OffsetDateTime,
    pub provisional: bool,
}

/// An agent's after-call work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AfterCallWork {
    pub state: AfterCallWorkState,
    /// When the interaction closed.
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub start_time: OffsetDateTime,
    /// When the (final) wrap-up was applied.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<OffsetDateTime>,
}

/// A participant's communication of the conversation's media (Genesys `Call`, `Callback`,
/// `Email`, `Message`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Communication {
    /// Stable: derived from the interaction id (docs/genesys.md#ids).
    pub id: Uuid,
    pub state: CommunicationState,
    pub direction: Direction,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_alerting_time: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub connected_time: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disconnected_time: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup: Option<ParticipantWrapup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_call_work: Option<AfterCallWork>,
}

/// A participant of a conversation (Genesys `Participant`): the customer or the agent.
/// Exactly one of `calls`, `callbacks`, `emails`, `messages` is present, with one
/// communication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationParticipant {
    /// Stable: derived from the interaction id (docs/genesys.md#ids).
    pub id: Uuid,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub start_time: OffsetDateTime,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub connected_time: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<OffsetDateTime>,
    pub purpose: Purpose,
    /// The agent's name (agent participant with an agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The agent (agent participant with an agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// The queue the interaction came through (agent participant with a queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<Uuid>,
    pub wrapup_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_prompt: Option<WrapupPrompt>,
    /// The timeout of a `timeout` or `forcedTimeout` prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_timeout_ms: Option<u32>,
    /// `true` once the agent skipped the wrap-up; left out otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wrapup_skipped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup: Option<ParticipantWrapup>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_acw_time: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_acw_time: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<Vec<Communication>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callbacks: Option<Vec<Communication>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<Communication>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Communication>>,
}

impl ConversationParticipant {
    /// The communications of `media` (empty when the participant has none).
    pub fn communications(&self, media: Media) -> &[Communication] {
        let list = match media {
            Media::Calls => &self.calls,
            Media::Callbacks => &self.callbacks,
            Media::Emails => &self.emails,
            Media::Messages => &self.messages,
        };
        list.as_deref().unwrap_or_default()
    }
}

/// `GET /api/v2/conversations/{conversationId}` (Genesys `Conversation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// The interaction's id.
    pub id: Uuid,
    /// When the interaction was created.
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub start_time: OffsetDateTime,
    /// When the interaction closed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<OffsetDateTime>,
    /// The customer, then the agent.
    pub participants: Vec<ConversationParticipant>,
    pub divisions: Vec<DivisionMembership>,
    pub self_uri: String,
}

/// A participant in a media view (Genesys `CallMediaParticipant` and its siblings): the
/// state of its communication on the participant itself, no communication list and no
/// after-call work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaParticipant {
    pub id: Uuid,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub start_time: OffsetDateTime,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_alerting_time: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub connected_time: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<OffsetDateTime>,
    pub purpose: Purpose,
    /// The agent's name (agent participant with an agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The agent (agent participant with an agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// The queue the interaction came through (agent participant with a queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<Uuid>,
    pub state: CommunicationState,
    pub direction: Direction,
    pub wrapup_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_prompt: Option<WrapupPrompt>,
    /// The timeout of a `timeout` or `forcedTimeout` prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_timeout_ms: Option<u32>,
    /// `true` once the agent skipped the wrap-up; left out otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wrapup_skipped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup: Option<ParticipantWrapup>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_acw_time: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_acw_time: Option<OffsetDateTime>,
}

/// `GET /api/v2/conversations/{calls|callbacks|emails|messages}/{conversationId}` (Genesys
/// `CallConversation`, `CallbackConversation`, `EmailConversation`, `MessageConversation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaConversation {
    pub id: Uuid,
    /// The customer, then the agent.
    pub participants: Vec<MediaParticipant>,
    pub divisions: Vec<DivisionMembership>,
    pub self_uri: String,
}
