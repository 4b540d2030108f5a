//! `POST /api/v2/interactions/wrap-ups` (docs/api.md#post-apiv2interactionswrap-ups): many wrap-ups in
//! one request, one result per item.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ErrorDetail;

/// One item of the array: the interaction, then exactly the body of
/// `PUT /api/v2/interactions/{id}/wrap-up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"interactionId": "3f2b8c1d-4e5f-4a6b-9c7d-8e9f0a1b2c3d", "codeId": "7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11", "durationMs": 120000, "notes": "Customer upgraded."}))]
pub struct BulkWrapUp {
    /// The interaction to wrap up.
    pub interaction_id: Uuid,
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

/// What became of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BulkOutcome {
    /// The wrap-up was set or replaced (history entry and event written).
    Applied,
    /// The same wrap-up was already in place; nothing changed.
    Unchanged,
    /// Refused: `details` holds what the single PUT would have answered.
    Refused,
}

/// The result of one item, at the item's position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "interactionId": "3f2b8c1d-4e5f-4a6b-9c7d-8e9f0a1b2c3d",
    "outcome": "refused",
    "status": 400,
    "details": [{
        "errorCode": "interaction.not.finalized",
        "message": "Interaction 3f2b8c1d-4e5f-4a6b-9c7d-8e9f0a1b2c3d is closed but not finalized yet; it will be in about 2 s.",
        "retryAfterMs": 1400
    }]
}))]
pub struct BulkWrapUpResult {
    /// The item's `interactionId` as sent; left out when the item had none (or not a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub interaction_id: Option<String>,
    pub outcome: BulkOutcome,
    /// The status the single PUT would have answered for this item: 204, or the refusal's.
    pub status: u16,
    /// When refused, every problem, exactly as the single PUT's error body lists them
    /// (including `retryAfterMs` for an interaction not finalized yet); empty otherwise.
    pub details: Vec<ErrorDetail>,
}

/// The answer of `POST /api/v2/interactions/wrap-ups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkWrapUpResponse {
    /// One result per item, in the order of the request.
    pub results: Vec<BulkWrapUpResult>,
}
