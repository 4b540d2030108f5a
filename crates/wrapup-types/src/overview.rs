//! Figures about many interactions at once, for dashboards such as the web console's
//! overview: how many interactions are in each state per division, and how many wrap-ups
//! were accepted and refused lately.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// How many interactions of one division are at each point of the lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "divisionId": "00000000-0000-4000-8000-0000000000a1", "divisionName": "Sales",
    "queued": 1, "active": 1, "closed": 0, "finalized": 1, "completed": 1, "total": 4
}))]
pub struct DivisionCounts {
    pub division_id: Uuid,
    pub division_name: String,
    pub queued: u64,
    pub active: u64,
    /// Closed and not finalized yet (settling).
    pub closed: u64,
    /// Closed and finalized: waiting for a wrap-up.
    pub finalized: u64,
    pub completed: u64,
    pub total: u64,
}

/// `GET /api/v2/interactions/counts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InteractionCounts {
    /// One entry per division the token is granted, by name (divisions without
    /// interactions included, with zeros).
    pub divisions: Vec<DivisionCounts>,
}

/// Wrap-ups answered in one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityMinute {
    /// The start of the minute.
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub start: OffsetDateTime,
    /// `PUT …/wrap-up` answered 204.
    pub accepted: u64,
    /// `PUT …/wrap-up` refused (4xx) about an interaction that exists.
    pub refused: u64,
}

/// `GET /api/v2/interactions/wrap-up-activity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "windowMinutes": 15, "accepted": 42, "refused": 3,
    "minutes": [{"start": "2026-11-24T21:27:00.000Z", "accepted": 5, "refused": 1}]
}))]
pub struct WrapUpActivity {
    /// How many minutes the figures cover, ending now.
    pub window_minutes: u32,
    /// Wrap-ups accepted (204) in the window.
    pub accepted: u64,
    /// Wrap-ups refused in the window.
    pub refused: u64,
    /// The window minute by minute, oldest first, every minute listed.
    pub minutes: Vec<ActivityMinute>,
}
