//! Queues, agents and after-call work (docs/api.md#queues-and-agents): a queue's wrap-up
//! codes and its after-call-work settings (`acwSettings`, Genesys Cloud's shape, which both
//! dialects share), the agents (Genesys `User`), and what an interaction routed through a
//! queue shows of them ([`Routing`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::genesys::DivisionRef;
use crate::DivisionIdRef;

/// The code of the wrap-up the system applies when a time-boxed prompt's timeout passes
/// without one (Genesys Cloud's system code; not a UUID).
pub const TIMEOUT_CODE: &str = "ININ-WRAP-UP-TIMEOUT";

/// How an agent is prompted for a wrap-up after an interaction of a queue, in the words of
/// a conversation's participant (`wrapupPrompt`) and of wrapup's interactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum WrapupPrompt {
    /// A wrap-up is required; after-call work lasts until one is applied.
    Mandatory,
    /// A wrap-up is not required: the agent may skip it.
    Optional,
    /// Required, time-boxed: when the timeout passes without one, the system applies
    /// `ININ-WRAP-UP-TIMEOUT`.
    Timeout,
    /// As `timeout`, and after-call work lasts until the timeout even once a code is set.
    ForcedTimeout,
    /// Not required: after-call work happens when the agent asks for it (wrapup: as
    /// `optional`).
    AgentRequested,
}

impl WrapupPrompt {
    pub const ALL: [WrapupPrompt; 5] = [
        Self::Mandatory,
        Self::Optional,
        Self::Timeout,
        Self::ForcedTimeout,
        Self::AgentRequested,
    ];

    /// As stored and as written by wrapup: `mandatory`, `optional`, `timeout`,
    /// `forcedTimeout`, `agentRequested`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mandatory => "mandatory",
            Self::Optional => "optional",
            Self::Timeout => "timeout",
            Self::ForcedTimeout => "forcedTimeout",
            Self::AgentRequested => "agentRequested",
        }
    }

    pub fn parse(s: &str) -> Option<WrapupPrompt> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The queue setting of this prompt (`acwSettings.wrapupPrompt`).
    pub const fn setting(self) -> AcwPrompt {
        match self {
            Self::Mandatory => AcwPrompt::Mandatory,
            Self::Optional => AcwPrompt::Optional,
            Self::Timeout => AcwPrompt::MandatoryTimeout,
            Self::ForcedTimeout => AcwPrompt::MandatoryForcedTimeout,
            Self::AgentRequested => AcwPrompt::AgentRequested,
        }
    }

    /// Whether a timeout applies (`timeout`, `forcedTimeout`).
    pub const fn is_timed(self) -> bool {
        matches!(self, Self::Timeout | Self::ForcedTimeout)
    }

    /// Whether the agent must wrap up (`wrapupRequired` once the interaction closed).
    pub const fn requires_wrapup(self) -> bool {
        matches!(self, Self::Mandatory | Self::Timeout | Self::ForcedTimeout)
    }
}

impl std::fmt::Display for WrapupPrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A queue's `acwSettings.wrapupPrompt`, in Genesys Cloud's capitals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AcwPrompt {
    Mandatory,
    Optional,
    MandatoryTimeout,
    MandatoryForcedTimeout,
    AgentRequested,
}

impl AcwPrompt {
    /// The participant's prompt of this setting.
    pub const fn prompt(self) -> WrapupPrompt {
        match self {
            Self::Mandatory => WrapupPrompt::Mandatory,
            Self::Optional => WrapupPrompt::Optional,
            Self::MandatoryTimeout => WrapupPrompt::Timeout,
            Self::MandatoryForcedTimeout => WrapupPrompt::ForcedTimeout,
            Self::AgentRequested => WrapupPrompt::AgentRequested,
        }
    }
}

/// A queue's after-call-work settings (Genesys `AcwSettings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000}))]
pub struct AcwSettings {
    pub wrapup_prompt: AcwPrompt,
    /// The timeout of `MANDATORY_TIMEOUT` and `MANDATORY_FORCED_TIMEOUT`, 1 000 to
    /// 86 400 000 ms (required with them, refused with the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1000, maximum = 86_400_000)]
    pub timeout_ms: Option<u32>,
}

/// A queue (Genesys `Queue`): agents answer for it, and its settings decide their
/// after-call work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "00000000-0000-4000-8000-0000000000b3", "name": "Sales timeout",
    "division": {"id": "00000000-0000-4000-8000-0000000000a1", "name": "Sales", "selfUri": "/api/v2/authorization/divisions/00000000-0000-4000-8000-0000000000a1"},
    "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000},
    "dateCreated": "2026-11-24T09:00:00.000Z", "dateModified": "2026-11-24T09:00:00.000Z",
    "selfUri": "/api/v2/routing/queues/00000000-0000-4000-8000-0000000000b3"
}))]
pub struct Queue {
    pub id: Uuid,
    pub name: String,
    pub division: DivisionRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub acw_settings: AcwSettings,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub date_created: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub date_modified: OffsetDateTime,
    /// `/api/v2/routing/queues/{id}`.
    pub self_uri: String,
}

/// `POST /api/v2/routing/queues` and `PUT /api/v2/routing/queues/{queueId}` (Genesys
/// `CreateQueueRequest`, `QueueRequest`). Fields of the Genesys model wrapup does not keep
/// (media settings, routing rules, flows, …) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"name": "Sales timeout", "division": {"id": "00000000-0000-4000-8000-0000000000a1"}, "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000}}))]
pub struct QueueRequest {
    /// 1 to 100 characters, unique ignoring case.
    pub name: String,
    /// The division (wrapup's spelling); on create, this or `division` is required. A
    /// queue does not move between divisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division_id: Option<Uuid>,
    /// The division (Genesys's spelling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<DivisionIdRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default `{"wrapupPrompt": "MANDATORY"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acw_settings: Option<AcwSettings>,
}

/// One item of the body of `POST /api/v2/routing/queues/{queueId}/wrapupcodes` (Genesys
/// `WrapUpCodeReference`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WrapUpCodeReference {
    /// A code of the queue's division.
    pub id: Uuid,
}

/// Whether an agent may be routed interactions (Genesys `User.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    Active,
    Inactive,
}

/// An agent (Genesys `User`: the fields the SDKs' model needs, no more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "00000000-0000-4000-8000-0000000000f1", "name": "Ada Agent", "email": "ada@example.com",
    "division": {"id": "00000000-0000-4000-8000-0000000000a1", "name": "Sales", "selfUri": "/api/v2/authorization/divisions/00000000-0000-4000-8000-0000000000a1"},
    "state": "active", "selfUri": "/api/v2/users/00000000-0000-4000-8000-0000000000f1"
}))]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub division: DivisionRef,
    pub state: UserState,
    /// `/api/v2/users/{id}`.
    pub self_uri: String,
}

/// `POST /api/v2/users`: a new agent (wrapup's own operation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "Ada Agent", "email": "ada@example.com", "divisionId": "00000000-0000-4000-8000-0000000000a1"}))]
pub struct CreateUser {
    /// 1 to 100 characters.
    pub name: String,
    /// An address with an `@`, at most 254 characters.
    pub email: String,
    pub division_id: Uuid,
}

/// The queue, agent and after-call work of an interaction that has a queue or an agent
/// (left out of interactions that have neither). Stored with the interaction; the prompt and
/// timeout are the queue's settings when the interaction was created.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "queueId": "00000000-0000-4000-8000-0000000000b3", "agentId": "00000000-0000-4000-8000-0000000000f1",
    "wrapupPrompt": "timeout", "wrapupTimeoutMs": 30000, "wrapupDueAt": "2026-11-24T21:28:10.000Z"
}))]
pub struct Routing {
    /// The queue the interaction came through; its codes are the ones the wrap-up may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<Uuid>,
    /// The agent who answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    /// The queue's prompt (left out without a queue: `mandatory`, as every interaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_prompt: Option<WrapupPrompt>,
    /// The timeout of a `timeout` or `forcedTimeout` prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_timeout_ms: Option<u32>,
    /// When the timeout falls due: set when the interaction closes, to the close plus the
    /// timeout (or the finalization, if later).
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub wrapup_due_at: Option<OffsetDateTime>,
    /// `true` once the agent skipped the wrap-up (an `optional` or `agentRequested`
    /// prompt); left out otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wrapup_skipped: bool,
    /// When after-call work ended: the wrap-up (the system's at a timeout), the skip, or a
    /// forced timeout's deadline.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub after_call_work_ended_at: Option<OffsetDateTime>,
}

impl Routing {
    /// The prompt in force: the queue's, `mandatory` without one.
    pub fn prompt(&self) -> WrapupPrompt {
        self.wrapup_prompt.unwrap_or(WrapupPrompt::Mandatory)
    }
}
