//! Checking a wrap-up body without applying it: every problem the PUT would report
//! (docs/api.md#order-of-checks, steps 3 to 6), and the body that would have been accepted.
//! The PUT reports its problems with [`problems_of`]; `POST …/wrap-up/validate` (the dry
//! run, in `routes::interactions`) and the inspector's diagnosis answer with
//! [`validation`], so all three agree.

use axum::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;
use wrapup_domain::wrapup_body::{parse_object, valid_code_id, validate_fields};
use wrapup_domain::{suggest_fix, Principal};
use wrapup_store::{CodeFilter, InteractionRecord, PageRequest};
use wrapup_types::{ErrorDetail, SuggestedBody, WrapUpCode, WrapUpRequest, WrapUpValidation};

use crate::error::ApiError;
use crate::state::AppState;

/// The most codes of the interaction's division considered when correcting a body.
const CODES_CONSIDERED: u32 = 500;
/// The most code ids of a body looked up (a body names one code; a few candidates at most).
const CODE_LOOKUPS: usize = 4;

/// Every problem a wrap-up with this body (as read by step 3, or its problem) would meet
/// now, in the order of checks; empty when the PUT would succeed.
pub(crate) async fn problems_of(
    state: &AppState,
    principal: &Principal,
    rec: &InteractionRecord,
    body: Result<&[u8], ApiError>,
    now_ms: i64,
) -> Result<Vec<ErrorDetail>, ApiError> {
    let body = match body {
        Ok(body) => body,
        Err(problem) => return Ok(problem.details),
    };
    let fields = match parse_object(body) {
        Ok(fields) => fields,
        Err(problem) => return Ok(vec![problem]),
    };
    problems_of_fields(state, principal, rec, &fields, now_ms).await
}

/// [`problems_of`] for a body already read as one JSON object's `fields` (in order): steps
/// 4 to 6. `POST /api/v2/interactions/wrap-ups` checks each item with it.
pub(crate) async fn problems_of_fields(
    state: &AppState,
    principal: &Principal,
    rec: &InteractionRecord,
    fields: &[(String, Value)],
    now_ms: i64,
) -> Result<Vec<ErrorDetail>, ApiError> {
    let (mut problems, code_id) = match validate_fields(fields) {
        Ok(WrapUpRequest { code_id, .. }) => (Vec::new(), Some(code_id)),
        // The code is looked up only if step 4 accepted its id.
        Err(problems) => (problems, valid_code_id(fields)),
    };
    problems.extend(
        state
            .store
            .wrapup_problems(rec, code_id, &principal.divisions, now_ms)
            .await?,
    );
    Ok(problems)
}

/// The body that would have been accepted for `rec`, computed by the domain's
/// `suggest_fix` from the codes of the interaction's division and the codes the body names.
pub(crate) async fn suggestion(
    state: &AppState,
    principal: &Principal,
    rec: &InteractionRecord,
    body: &[u8],
) -> Result<Option<SuggestedBody>, ApiError> {
    let division = rec.interaction.division_id;
    let filter = CodeFilter {
        division: Some(division),
        name: None,
        include_archived: true,
    };
    let page = PageRequest {
        after: None,
        limit: CODES_CONSIDERED,
    };
    let mut codes: Vec<WrapUpCode> = state
        .store
        .list_codes(&principal.divisions, &filter, page)
        .await?
        .into_iter()
        .map(|r| r.code)
        .collect();
    for id in named_ids(body) {
        if codes.iter().any(|c| c.id == id) {
            continue;
        }
        if let Some(rec) = state.store.get_code(id).await? {
            if principal.sees(rec.code.division_id) {
                codes.push(rec.code);
            }
        }
    }
    Ok(suggest_fix(body, division, &codes))
}

/// The UUIDs a body's fields hold, directly or as an object's `id`: the codes it may name.
fn named_ids(body: &[u8]) -> Vec<Uuid> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    fields
        .values()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("id").and_then(Value::as_str),
            _ => None,
        })
        .filter_map(|s| Uuid::parse_str(s.trim()).ok())
        .take(CODE_LOOKUPS)
        .collect()
}

/// What the PUT would answer now to `body` (read by step 3, or its problem), with the
/// corrected body when it would be refused and `suggest` is set.
pub(crate) async fn validation(
    state: &AppState,
    principal: &Principal,
    rec: &InteractionRecord,
    body: Result<&[u8], ApiError>,
    suggest: bool,
) -> Result<WrapUpValidation, ApiError> {
    let now_ms = state.clock.now_ms();
    let bytes = body.as_ref().ok().copied();
    let details = problems_of(state, principal, rec, body, now_ms).await?;
    if details.is_empty() {
        return Ok(WrapUpValidation {
            valid: true,
            status: StatusCode::NO_CONTENT.as_u16(),
            details,
            suggestion: None,
        });
    }
    let suggestion = match bytes {
        Some(bytes) if suggest => suggestion(state, principal, rec, bytes).await?,
        _ => None,
    };
    Ok(WrapUpValidation {
        valid: false,
        status: ApiError::new(details.clone()).status.as_u16(),
        details,
        suggestion,
    })
}
