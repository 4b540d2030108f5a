//! Resources and request bodies of the API.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Where an interaction is in its lifecycle:
/// `queued → active → closed → completed`, or `queued → closed` (abandoned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InteractionState {
    Queued,
    Active,
    Closed,
    /// A wrap-up has been applied.
    Completed,
}

impl InteractionState {
    pub const ALL: [InteractionState; 4] =
        [Self::Queued, Self::Active, Self::Closed, Self::Completed];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Active => "active",
            Self::Closed => "closed",
            Self::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for InteractionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The medium of an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Voice,
    Chat,
    Email,
    Message,
    /// A call back to the customer (Genesys Cloud's `callbacks` media).
    Callback,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Self::Voice,
        Self::Chat,
        Self::Email,
        Self::Message,
        Self::Callback,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Voice => "voice",
            Self::Chat => "chat",
            Self::Email => "email",
            Self::Message => "message",
            Self::Callback => "callback",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The wrap-up applied to an interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "codeId": "7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11", "codeName": "Sale", "durationMs": 120000,
    "notes": "Customer upgraded to the annual plan.", "appliedAt": "2026-11-24T21:27:42.123Z",
    "appliedBy": "0b7e2c1d-3f4a-4e5b-8c6d-7e8f9a0b1c2d"
}))]
pub struct WrapUp {
    pub code_id: Uuid,
    /// The code's name when the wrap-up was applied.
    pub code_name: String,
    pub duration_ms: u32,
    /// Left out when none were sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub applied_at: OffsetDateTime,
    /// The OAuth client id that applied it.
    pub applied_by: Uuid,
    /// Tags given in the Genesys dialect (docs/genesys.md); left out when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `true` for a provisional wrap-up given in the Genesys dialect; left out when `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
    /// `true` for the wrap-up the system applied when a time-boxed prompt's timeout passed
    /// (`codeName` `ININ-WRAP-UP-TIMEOUT`; `codeId` and `appliedBy` are then the nil UUID);
    /// left out when `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub system: bool,
}

/// A contact-center interaction (a call, chat, email or message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "3d5e7f90-1a2b-4c3d-8e4f-5a6b7c8d9e0f", "divisionId": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "channel": "voice", "state": "closed", "finalized": false,
    "createdAt": "2026-11-24T21:20:00.000Z", "activeAt": "2026-11-24T21:20:05.000Z",
    "closedAt": "2026-11-24T21:27:40.000Z", "finalizesAt": "2026-11-24T21:27:41.500Z",
    "version": 3
}))]
pub struct Interaction {
    pub id: Uuid,
    pub division_id: Uuid,
    pub channel: Channel,
    pub state: InteractionState,
    /// `true` once the platform has settled the closed interaction; only then can a
    /// wrap-up be applied.
    pub finalized: bool,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub active_at: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub closed_at: Option<OffsetDateTime>,
    /// When the closed interaction is (or was) due to be finalized: its close time plus the
    /// server's settle time, so a client can count down without asking again. Left out until
    /// it closes (and from events stored before this field existed, hence the default).
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub finalizes_at: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub finalized_at: Option<OffsetDateTime>,
    /// The current wrap-up; left out until one is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub wrap_up: Option<WrapUp>,
    /// Its queue, agent and after-call work; left out when it has neither queue nor agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub routing: Option<crate::Routing>,
    /// Grows by one on every change; `GET` returns it as a strong `ETag`.
    pub version: i64,
}

/// The body of `PUT /api/v2/interactions/{id}/wrap-up`: these three fields and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"codeId": "7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11", "durationMs": 120000, "notes": "Customer upgraded."}))]
pub struct WrapUpRequest {
    /// The wrap-up code's id, a top-level UUID string (not an object).
    pub code_id: Uuid,
    /// Time the agent spent in wrap-up, in whole milliseconds, 1 to 86 400 000.
    #[schema(minimum = 1, maximum = 86_400_000)]
    pub duration_ms: u32,
    /// Free text, at most 1024 characters. Leave the field out rather than sending `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024, nullable = false)]
    pub notes: Option<String>,
}

/// A disposition that can be applied to interactions of its division.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11", "name": "Sale", "divisionId": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "description": "The customer bought something.", "archived": false,
    "dateCreated": "2026-11-24T09:00:00.000Z", "dateModified": "2026-11-24T09:00:00.000Z"
}))]
pub struct WrapUpCode {
    pub id: Uuid,
    pub name: String,
    pub division_id: Uuid,
    /// Left out when the code has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    /// A deleted code is archived: it stays in wrap-up history and in listings with
    /// `includeArchived=true`, but can no longer be read by id or applied.
    pub archived: bool,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub date_created: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub date_modified: OffsetDateTime,
    /// The OAuth client id that created the code; left out for codes created before
    /// wrapup recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Uuid>,
}

/// A division: a partition of interactions and codes that OAuth clients are granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "name": "Sales"}))]
pub struct Division {
    pub id: Uuid,
    pub name: String,
}

/// One page of a list. Pass `nextCursor` as `cursor` to get the next page; it is left
/// out on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub entities: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next_cursor: Option<String>,
}

/// The order of `GET /api/v2/interactions` (`sortOrder`): creation order, oldest first
/// (`asc`, the default), or newest first (`desc`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

/// Pagination query parameters shared by every list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Entities per page, 1 to 500 (default 25).
    #[param(minimum = 1, maximum = 500)]
    pub page_size: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /api/v2/interactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"divisionId": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "channel": "voice"}))]
pub struct CreateInteraction {
    pub division_id: Uuid,
    pub channel: Channel,
    /// The queue it comes through, of the same division: its codes and after-call-work
    /// settings then apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<Uuid>,
    /// The agent who answers (may also be given when it becomes `active`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
}

/// A state an interaction can be moved to by `POST /api/v2/interactions/{id}/state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    Active,
    Closed,
}

impl From<TargetState> for InteractionState {
    fn from(t: TargetState) -> Self {
        match t {
            TargetState::Active => InteractionState::Active,
            TargetState::Closed => InteractionState::Closed,
        }
    }
}

/// `POST /api/v2/interactions/{id}/state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"state": "closed"}))]
pub struct SetState {
    pub state: TargetState,
    /// With `active`: the agent who answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
}

/// `POST /api/v2/routing/wrapupcodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "Sale", "divisionId": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "description": "The customer bought something."}))]
pub struct CreateWrapUpCode {
    /// 1 to 100 characters, unique within the division ignoring case.
    pub name: String,
    pub division_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PUT /api/v2/routing/wrapupcodes/{codeId}`: rename or describe a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "Sale (new customer)", "description": "First purchase."}))]
pub struct UpdateWrapUpCode {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /api/v2/authorization/divisions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "Support"}))]
pub struct CreateDivision {
    pub name: String,
}

/// The divisions granted to an OAuth client: `"all"` or a list of division ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DivisionGrant {
    All,
    Only(Vec<Uuid>),
}

impl DivisionGrant {
    /// Whether objects of this division are visible.
    pub fn allows(&self, division: Uuid) -> bool {
        match self {
            DivisionGrant::All => true,
            DivisionGrant::Only(ids) => ids.contains(&division),
        }
    }
}

impl utoipa::PartialSchema for DivisionGrant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, SchemaType, Type,
        };
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .enum_values(Some(["all"]))
                    .description(Some("Every division, including ones created later.")),
            )
            .item(
                ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .schema_type(SchemaType::Type(Type::String))
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                    )
                    .description(Some("Only these divisions.")),
            )
            .description(Some(
                "The divisions granted: \"all\" or a list of division ids.",
            ))
            .examples([serde_json::json!("all")])
            .into()
    }
}

impl utoipa::ToSchema for DivisionGrant {}

impl Serialize for DivisionGrant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DivisionGrant::All => s.serialize_str("all"),
            DivisionGrant::Only(ids) => ids.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for DivisionGrant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Ids(Vec<Uuid>),
        }
        match Raw::deserialize(d)? {
            Raw::Word(w) if w == "all" => Ok(DivisionGrant::All),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "expected \"all\" or a list of division ids, got \"{w}\""
            ))),
            Raw::Ids(ids) => Ok(DivisionGrant::Only(ids)),
        }
    }
}

/// `POST /api/v2/oauth/clients`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "crm-sync", "scopes": ["interaction:view", "interaction:write"], "divisions": "all"}))]
pub struct CreateClient {
    pub name: String,
    pub scopes: Vec<String>,
    pub divisions: DivisionGrant,
}

/// A new OAuth client with its secret, which is shown only this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientCredentials {
    pub client_id: Uuid,
    pub client_secret: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub divisions: DivisionGrant,
}

/// `POST /oauth/token` success (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"access_token": "wut_3q2+7w…", "token_type": "bearer", "expires_in": 86400, "scope": "interaction:view interaction:write"}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` with status 503.
    pub status: String,
}

/// `GET /api/v2`: where to start. Every operation of the API with its summary, and where
/// the full description is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "service": "wrapup", "version": "0.1.0", "openapi": "/api/v2/openapi.json",
    "documentation": "docs/api.md in the wrapup repository",
    "operations": [{"method": "POST", "path": "/oauth/token", "summary": "Get an access token"}]
}))]
pub struct ApiIndex {
    /// Always `wrapup`.
    pub service: String,
    /// The server's version.
    pub version: String,
    /// The OpenAPI document: every operation, parameter, schema and error code.
    pub openapi: String,
    /// Where the reference documentation is.
    pub documentation: String,
    /// Every operation, in the order of the OpenAPI document.
    pub operations: Vec<EntryPoint>,
}

/// One operation of [`ApiIndex`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryPoint {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: String,
    /// The path, with `{parameters}`.
    pub path: String,
    /// What it does, in a few words.
    pub summary: String,
}

/// What an event on the stream reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventKind {
    #[serde(rename = "interaction.created")]
    Created,
    #[serde(rename = "interaction.state")]
    State,
    #[serde(rename = "interaction.finalized")]
    Finalized,
    #[serde(rename = "interaction.wrapup")]
    WrapUp,
    /// The agent skipped the wrap-up (an optional prompt): completed without a code.
    #[serde(rename = "interaction.wrapup.skipped")]
    WrapUpSkipped,
    /// A forced timeout's after-call work ended at its deadline, with the agent's wrap-up.
    #[serde(rename = "interaction.acw.ended")]
    AcwEnded,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        Self::Created,
        Self::State,
        Self::Finalized,
        Self::WrapUp,
        Self::WrapUpSkipped,
        Self::AcwEnded,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "interaction.created",
            Self::State => "interaction.state",
            Self::Finalized => "interaction.finalized",
            Self::WrapUp => "interaction.wrapup",
            Self::WrapUpSkipped => "interaction.wrapup.skipped",
            Self::AcwEnded => "interaction.acw.ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The data of an `event: reset` on the event stream: the `Last-Event-ID` the client sent
/// can no longer be resumed from (its events were pruned, or it is not an id this server
/// issued). The client must re-read the state it cares about; the stream goes on from
/// `resumeFrom`, which is also this event's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventReset {
    /// Why the stream could not resume.
    pub reason: String,
    /// The `Last-Event-ID` the client sent, as received.
    pub last_event_id: String,
    /// The id the stream resumes after.
    pub resume_from: i64,
}

/// One HTTP header of an inspected request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InspectedHeader {
    pub name: String,
    /// The value; credentials (`Authorization`, `Cookie`, …) are replaced by `[redacted]`.
    pub value: String,
}

/// A request the server received recently, as `GET /api/v2/inspector/requests` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectedRequest {
    /// The entry's number in this server's inspector (1, 2, 3, …, in the order requests
    /// finished): the event id on `GET /api/v2/inspector/requests/stream`.
    #[serde(default)]
    pub sequence: u64,
    /// When the request arrived.
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub time: OffsetDateTime,
    /// The `X-Request-Id` of the request (the `contextId` of its error body).
    pub request_id: String,
    pub method: String,
    /// The path and query string.
    pub path: String,
    pub status: u16,
    pub latency_ms: f64,
    /// The OAuth client whose token authenticated the request; left out if none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub client_id: Option<Uuid>,
    /// Request headers, in the order received, with credentials redacted.
    pub request_headers: Vec<InspectedHeader>,
    /// The request body as text (lossy UTF-8), cut at 16 KiB; left out when there was
    /// none. Client secrets in `/oauth/token` forms are redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub request_body: Option<String>,
    /// The size of the request body the handler read, in bytes.
    pub request_body_bytes: u64,
    /// Whether `requestBody` was cut.
    pub request_body_truncated: bool,
    /// The error body sent back, for responses with status 400 or above (left out for
    /// others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, nullable = false)]
    pub response_body: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_null(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Null => true,
            serde_json::Value::Array(items) => items.iter().any(has_null),
            serde_json::Value::Object(map) => map.values().any(has_null),
            _ => false,
        }
    }

    fn queued() -> Interaction {
        Interaction {
            id: Uuid::nil(),
            division_id: Uuid::nil(),
            channel: Channel::Voice,
            state: InteractionState::Queued,
            finalized: false,
            created_at: crate::timestamp::from_millis(0),
            active_at: None,
            closed_at: None,
            finalizes_at: None,
            finalized_at: None,
            wrap_up: None,
            routing: None,
            version: 1,
        }
    }

    /// docs/api.md#conventions: an absent optional field is left out, never `null`.
    #[test]
    fn absent_fields_are_left_out() {
        let mut interaction = queued();
        let json = serde_json::to_value(&interaction).unwrap();
        assert!(!has_null(&json), "{json}");
        assert!(json.get("activeAt").is_none() && json.get("wrapUp").is_none());
        interaction.wrap_up = Some(WrapUp {
            code_id: Uuid::nil(),
            code_name: "Sale".into(),
            duration_ms: 1,
            notes: None,
            applied_at: crate::timestamp::from_millis(0),
            applied_by: Uuid::nil(),
            tags: Vec::new(),
            provisional: false,
            system: false,
        });
        let json = serde_json::to_value(&interaction).unwrap();
        assert!(!has_null(&json), "{json}");
        assert!(json["wrapUp"].get("notes").is_none());
        let page = Page::<Division> {
            entities: vec![],
            next_cursor: None,
        };
        assert_eq!(serde_json::to_string(&page).unwrap(), r#"{"entities":[]}"#);
    }

    /// What older servers sent (`null` for absent values) still reads, and so does the
    /// omitted form.
    #[test]
    fn null_and_omitted_read_the_same() {
        let omitted = serde_json::to_string(&queued()).unwrap();
        let with_nulls = omitted.replace(
            r#","version""#,
            r#","activeAt":null,"closedAt":null,"finalizedAt":null,"wrapUp":null,"version""#,
        );
        assert_ne!(omitted, with_nulls);
        for text in [&omitted, &with_nulls] {
            let read: Interaction = serde_json::from_str(text).unwrap();
            assert_eq!(read, queued());
        }
        let code: WrapUpCode = serde_json::from_str(
            r#"{"id":"00000000-0000-0000-0000-000000000000","name":"Sale","divisionId":"00000000-0000-0000-0000-000000000000","description":null,"archived":false,"dateCreated":"2026-11-24T09:00:00.000Z","dateModified":"2026-11-24T09:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(code.description, None);
        let page: Page<Division> =
            serde_json::from_str(r#"{"entities":[],"nextCursor":null}"#).unwrap();
        assert_eq!(page.next_cursor, None);
    }
}
