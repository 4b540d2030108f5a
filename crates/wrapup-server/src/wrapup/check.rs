//! Checking a wrap-up body without applying it: every problem the PUT would report
//! (docs/api.md#order-of-checks, steps 3 to 6), and the body that would have been accepted.
//! `POST …/wrap-up/validate` (the dry run) and the inspector's diagnosis answer with
//! [`WrapUps::validation`], which gathers the problems as the PUT does
//! ([`WrapUps::problems`]), so all three agree.

use axum::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;
use wrapup_domain::new_wrapup::check_fields;
use wrapup_domain::wrapup_body::parse_object;
use wrapup_domain::{suggest_fix, BodyProblems, Principal};
use wrapup_store::{CodeFilter, InteractionRecord, PageRequest};
use wrapup_types::{ErrorDetail, SuggestedBody, WrapUpCode, WrapUpValidation};

use super::WrapUps;
use crate::error::ApiError;

/// The most codes of the interaction's division considered when correcting a body.
const CODES_CONSIDERED: u32 = 500;
/// The most code ids of a body looked up (a body names one code; a few candidates at most).
const CODE_LOOKUPS: usize = 4;

/// Steps 3 and 4 of wrapup's own body: the body as read by step 3 (or its problem), read as
/// one JSON object and its fields checked.
pub fn check_body(body: Result<&[u8], ApiError>) -> super::Checked {
    let fields = body
        .map_err(|problem| BodyProblems {
            problems: problem.details,
            code_id: None,
            code_name: None,
        })
        .and_then(|bytes| parse_object(bytes).map_err(BodyProblems::one))?;
    check_fields(&fields)
}

impl WrapUps {
    /// Every problem a wrap-up with this body would meet now, in the order of checks; empty
    /// when the PUT would succeed.
    pub async fn every_problem(
        &self,
        principal: &Principal,
        rec: &InteractionRecord,
        body: Result<&[u8], ApiError>,
        now_ms: i64,
    ) -> Result<Vec<ErrorDetail>, ApiError> {
        let problems = match check_body(body) {
            Ok(request) => BodyProblems {
                problems: Vec::new(),
                code_id: Some(request.code_id),
                code_name: None,
            },
            Err(problems) => problems,
        };
        self.problems(principal, rec, problems, now_ms).await
    }

    /// The body that would have been accepted for `rec`, computed by the domain's
    /// `suggest_fix` from the codes of the interaction's division and the codes the body
    /// names.
    pub async fn suggestion(
        &self,
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
        let mut codes: Vec<WrapUpCode> = self
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
            if let Some(rec) = self.store.get_code(id).await? {
                if principal.sees(rec.code.division_id) {
                    codes.push(rec.code);
                }
            }
        }
        Ok(suggest_fix(body, division, &codes))
    }

    /// What the PUT would answer now to `body` (read by step 3, or its problem), with the
    /// corrected body when it would be refused and `suggest` is set.
    pub async fn validation(
        &self,
        principal: &Principal,
        rec: &InteractionRecord,
        body: Result<&[u8], ApiError>,
        suggest: bool,
    ) -> Result<WrapUpValidation, ApiError> {
        let now_ms = self.clock.now_ms();
        let bytes = body.as_ref().ok().copied();
        let details = self.every_problem(principal, rec, body, now_ms).await?;
        if details.is_empty() {
            return Ok(WrapUpValidation {
                valid: true,
                status: StatusCode::NO_CONTENT.as_u16(),
                details,
                suggestion: None,
            });
        }
        let suggestion = match bytes {
            Some(bytes) if suggest => self.suggestion(principal, rec, bytes).await?,
            _ => None,
        };
        Ok(WrapUpValidation {
            valid: false,
            status: ApiError::new(details.clone()).status.as_u16(),
            details,
            suggestion,
        })
    }
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
