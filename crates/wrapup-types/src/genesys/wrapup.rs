//! The wrap-up operations of the Genesys dialect: what a client sends
//! ([`WrapupInput`], [`MediaParticipantRequest`]) and what a wrap-up read answers
//! ([`AssignedWrapupCode`]). A `WrapupInput` is checked field by field, every problem
//! reported, by `wrapup_domain::genesys::wrapup_input`; these types are its documentation
//! and what tests and clients build bodies with.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The body of `POST …/communications/{communicationId}/wrapup` and the `wrapup` of a
/// participant `PATCH` (Genesys `WrapupInput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"code": "00000000-0000-4000-8000-0000000000c1", "notes": "Upgraded to premium"}))]
pub struct WrapupInput {
    /// The wrap-up code's id.
    pub code: Uuid,
    /// The code's name, as the Genesys agent UI sends it beside `code`: accepted and not
    /// used (the wrap-up takes the name the code has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// At most 1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub notes: Option<String>,
    /// At most 50 tags of 1 to 100 characters each; stored and returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 50, value_type = Option<Vec<Tag>>)]
    pub tags: Option<Vec<String>>,
    /// Whole seconds, 1 to 86 400. When absent, the time from the start of after-call work
    /// (the interaction closing) to the wrap-up, or to `endTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 86_400)]
    pub duration_seconds: Option<u32>,
    /// ISO-8601; used only to derive the duration when `durationSeconds` is absent. A time
    /// without a zone is read as UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub end_time: Option<String>,
    /// A provisional wrap-up is stored and shown as such; after-call work stays pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisional: Option<bool>,
    /// Accepted and ignored (wrapup never moves the end time on its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_end_time_updates: Option<bool>,
}

impl WrapupInput {
    /// An input with only the code.
    pub fn code(code: Uuid) -> WrapupInput {
        WrapupInput {
            code,
            name: None,
            notes: None,
            tags: None,
            duration_seconds: None,
            end_time: None,
            provisional: None,
            disable_end_time_updates: None,
        }
    }
}

/// A tag of a wrap-up, for the OpenAPI document: 1 to 100 characters.
pub struct Tag;

impl utoipa::PartialSchema for Tag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .min_length(Some(1))
            .max_length(Some(100))
            .into()
    }
}

impl ToSchema for Tag {}

/// The body of `PATCH /api/v2/conversations/{conversationId}/participants/{participantId}`
/// (Genesys `MediaParticipantRequest`). wrapup changes only the wrap-up: any other field
/// of the Genesys model (`state`, `recording`, `muted`, `confined`, `held`,
/// `resumeTime`) is refused with `request.field.unsupported`. `{"wrapupSkipped": true}`
/// alone skips the wrap-up where the queue's prompt allows it (docs/genesys.md#queues).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"wrapup": {"code": "00000000-0000-4000-8000-0000000000c1", "notes": "Upgraded to premium"}}))]
pub struct MediaParticipantRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup: Option<WrapupInput>,
    /// `true`, sent alone: skip the wrap-up (an `optional` or `agentRequested` prompt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_skipped: Option<bool>,
}

/// A wrap-up as the wrap-up reads answer it (Genesys `AssignedWrapupCode`: no `name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignedWrapupCode {
    /// The wrap-up code's id, or `ININ-WRAP-UP-TIMEOUT` for the system's wrap-up at a
    /// timeout.
    pub code: String,
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
}
