//! Why a wrap-up is (or was) refused, and the body that would have been accepted: the
//! answers of the dry run (`POST /api/v2/interactions/{id}/wrap-up/validate`) and of the
//! inspector's diagnosis (`GET /api/v2/inspector/requests/{requestId}/diagnosis`). See
//! docs/api.md#the-corrected-body for how a body is corrected.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ErrorDetail;
use crate::model::InspectedRequest;

/// The body that would have been accepted, computed from the body as sent
/// (`wrapup_domain::wrapup_fix::suggest_fix`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "body": {"codeId": "00000000-0000-4000-8000-0000000000c1", "durationMs": 120000},
    "changes": ["codeId was nested as wrapUpCode.id; sent as the top-level string codeId."],
    "unresolved": []
}))]
pub struct SuggestedBody {
    /// The corrected wrap-up body: `codeId`, `durationMs` and, when there were usable
    /// notes, `notes`, in that order.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    /// Each change made to the body as sent, in words (empty when the body was right).
    pub changes: Vec<String>,
    /// What the correction could not fix, in words: while this is not empty the corrected
    /// body would still be refused for these reasons.
    pub unresolved: Vec<String>,
}

/// What `PUT /api/v2/interactions/{id}/wrap-up` would answer now to a body, without
/// applying it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "valid": false,
    "status": 400,
    "details": [{
        "errorCode": "wrapup.duration.missing", "fieldName": "durationMs",
        "message": "durationMs is required and was not sent.",
        "hint": "Send the time the agent spent in wrap-up as a JSON number of milliseconds, e.g. 120000 for two minutes."
    }],
    "suggestion": {
        "body": {"codeId": "00000000-0000-4000-8000-0000000000c1", "durationMs": 1000},
        "changes": ["durationMs was missing; filled with 1000 (one second), a placeholder: send the time the agent really spent."],
        "unresolved": []
    }
}))]
pub struct WrapUpValidation {
    /// `true` when the PUT would be accepted now (204).
    pub valid: bool,
    /// The status the PUT would answer now: `204`, or the status of its error.
    pub status: u16,
    /// Every problem the PUT would report, in the order of checks (empty when valid).
    pub details: Vec<ErrorDetail>,
    /// When the body is refused and is a JSON object: the body that would be accepted.
    pub suggestion: Option<SuggestedBody>,
}

/// A recent request explained: what went wrong in words and, for a refused wrap-up, the
/// body that would have been accepted and whether it would be accepted now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestDiagnosis {
    /// The request as the inspector keeps it (headers redacted).
    pub request: InspectedRequest,
    /// What happened, in a few sentences.
    pub summary: String,
    /// The problems of the error answer, each with its message and hint (empty for a
    /// success).
    pub problems: Vec<ErrorDetail>,
    /// For a refused `PUT …/wrap-up` whose body is a JSON object: the body that would have
    /// been accepted.
    pub suggestion: Option<SuggestedBody>,
    /// With a suggestion: what the PUT would answer now to the suggested body (a dry run
    /// against the interaction as it is now).
    pub suggestion_check: Option<WrapUpValidation>,
}
