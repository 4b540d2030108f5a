//! `GET /api/v2/inspector/requests/{requestId}/diagnosis`: a recent request explained in
//! words and, for a refused wrap-up, the body that would have been accepted (the domain's
//! `suggest_fix`) with what the PUT would answer to it now (the dry run of
//! `crate::wrapup::check`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use uuid::Uuid;
use wrapup_domain::Principal;
use wrapup_types::ErrorCode::*;
use wrapup_types::{
    ErrorBody, ErrorCode, ErrorDetail, InspectedRequest, RequestDiagnosis, SuggestedBody,
    WrapUpValidation,
};

use crate::auth::{Admin, Authorized};
use crate::error::ApiError;
use crate::openapi::errors::codes;
use crate::state::Observability;
use crate::wrapup::WrapUps;

/// The interaction a `PUT /api/v2/interactions/{id}/wrap-up` was about.
fn wrapup_target(entry: &InspectedRequest) -> Option<Uuid> {
    if entry.method != "PUT" {
        return None;
    }
    let path = entry.path.split('?').next().unwrap_or("");
    let id = path
        .strip_prefix("/api/v2/interactions/")?
        .strip_suffix("/wrap-up")?;
    Uuid::parse_str(id).ok()
}

/// The problems of the error body the request was answered with.
fn recorded_problems(entry: &InspectedRequest) -> Vec<ErrorDetail> {
    entry
        .response_body
        .clone()
        .and_then(|b| serde_json::from_value::<ErrorBody>(b).ok())
        .map(|b| b.details)
        .unwrap_or_default()
}

/// The corrected body of a refused wrap-up and the dry run of it, when the interaction is
/// one the caller can see.
async fn corrected(
    wrapups: &WrapUps,
    principal: &Principal,
    entry: &InspectedRequest,
) -> Result<Option<(SuggestedBody, WrapUpValidation)>, ApiError> {
    let (Some(id), Some(body)) = (wrapup_target(entry), entry.request_body.as_deref()) else {
        return Ok(None);
    };
    if entry.status < 400 || entry.request_body_truncated {
        return Ok(None);
    }
    let Some(rec) = wrapups
        .store
        .get_interaction(id)
        .await?
        .filter(|r| principal.sees(r.interaction.division_id))
    else {
        return Ok(None);
    };
    let Some(fix) = wrapups.suggestion(principal, &rec, body.as_bytes()).await? else {
        return Ok(None);
    };
    let bytes = serde_json::to_vec(&fix.body).expect("a JSON value serialises");
    let check = wrapups
        .validation(principal, &rec, Ok(&bytes), false)
        .await?;
    Ok(Some((fix, check)))
}

/// The diagnosis in words.
fn summary(
    entry: &InspectedRequest,
    problems: &[ErrorDetail],
    fix: Option<&(SuggestedBody, WrapUpValidation)>,
) -> String {
    let status = entry.status;
    if status < 400 {
        return format!("The request succeeded ({status}).");
    }
    let mut out = match problems.first() {
        None => format!("The request failed with status {status}, without an error body."),
        Some(first) if problems.len() == 1 => format!(
            "The server refused the request with {status} {}: {}",
            first.error_code, first.message
        ),
        Some(first) => format!(
            "The server refused the request with {status} {} and found {} problems: {}",
            first.error_code,
            problems.len(),
            problems
                .iter()
                .map(|p| p.message.trim_end_matches('.'))
                .collect::<Vec<_>>()
                .join("; ")
                + "."
        ),
    };
    let Some((fix, check)) = fix else {
        if let Some(hint) = problems.first().and_then(|p| p.hint.as_deref()) {
            out.push_str(&format!(" What to do: {hint}"));
        }
        return out;
    };
    out.push(' ');
    out.push_str(&match (fix.changes.len(), fix.unresolved.is_empty()) {
        (0, true) => "The body itself was right.".to_string(),
        (1, true) => "The corrected body below makes 1 change.".to_string(),
        (n, true) => format!("The corrected body below makes {n} changes."),
        (_, false) => format!(
            "The corrected body below fixes what it can, but not this: {}",
            fix.unresolved.join(" ")
        ),
    });
    out.push(' ');
    if check.valid {
        out.push_str("Sent now, it would be accepted (204).");
    } else if let Some(first) = check.details.first() {
        out.push_str(&format!(
            "Sent now, it would still be refused with {} {}: {}",
            check.status, first.error_code, first.message
        ));
        if first.error_code == ErrorCode::InteractionNotFinalized {
            out.push_str(" Retry when the interaction is finalized.");
        }
    }
    out
}

/// Explain a recent request
///
/// The diagnosis of a request the inspector still keeps: what happened, in words, and the
/// problems of its error body. For a refused `PUT /api/v2/interactions/{id}/wrap-up` whose
/// body is a JSON object, also the body that would have been accepted (see
/// docs/api.md#the-corrected-body), with what the PUT would answer to it now, against the
/// interaction as it is now (a dry run: nothing changes).
#[utoipa::path(get, path = "/api/v2/inspector/requests/{requestId}/diagnosis", operation_id = "diagnoseInspectedRequest", tag = "operations",
    params(("requestId" = String, Path, description = "The request's `X-Request-Id` (its error body's `contextId`).")),
    responses((status = 200, description = "The diagnosis.", body = RequestDiagnosis)),
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[InspectorRequestNotFound]])))))]
pub async fn diagnose(
    State(state): State<Arc<Observability>>,
    State(wrapups): State<WrapUps>,
    Authorized(principal, ..): Authorized<Admin>,
    Path(request_id): Path<String>,
) -> Result<Json<RequestDiagnosis>, ApiError> {
    let entry = state.inspector.find(&request_id).ok_or_else(|| {
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::InspectorRequestNotFound,
                format!("The request inspector keeps no request with id {request_id}."),
            )
            .hint("The inspector keeps the most recent requests only (wrapup serve --inspector-capacity); list them with GET /api/v2/inspector/requests."),
        )
    })?;
    let problems = recorded_problems(&entry);
    let fix = corrected(&wrapups, &principal, &entry).await?;
    Ok(Json(RequestDiagnosis {
        summary: summary(&entry, &problems, fix.as_ref()),
        problems,
        suggestion: fix.as_ref().map(|(f, _)| f.clone()),
        suggestion_check: fix.map(|(_, c)| c),
        request: entry,
    }))
}
