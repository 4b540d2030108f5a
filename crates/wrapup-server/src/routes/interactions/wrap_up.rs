//! `/api/v2/interactions/{id}/wrap-up`: applying a wrap-up (through `crate::wrapup`, the one
//! home of that), reading it and its history, and the dry run.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use wrapup_store::Store;
use wrapup_types::ErrorCode::*;
use wrapup_types::{ErrorCode, ErrorDetail, WrapUp, WrapUpRequest, WrapUpValidation};

use crate::auth::{Authorized, InteractionView, InteractionWrite};
use crate::error::{ApiError, OrNotFound, Resource};
use crate::extract::{path_id, read_json_body};
use crate::openapi::errors::Errors;
use crate::visible;
use crate::wrapup::check::check_body;
use crate::wrapup::{Refused, Target, WrapUps};

/// Every problem a wrap-up can meet, in the order of checks (docs/api.md#order-of-checks).
const PUT_ERRORS: Errors = &[&[
    InteractionNotFound,
    RequestMediaUnsupported,
    RequestBodyTooLarge,
    RequestBodyMalformed,
    RequestFieldUnknown,
    WrapupCodeMissing,
    WrapupCodeInvalid,
    WrapupDurationMissing,
    WrapupDurationInvalid,
    WrapupNotesInvalid,
    RequestFieldNull,
    InteractionNotClosed,
    InteractionNotFinalized,
    WrapupCodeNotFound,
    WrapupCodeDivisionMismatch,
    WrapupCodeArchived,
    WrapupCodeNotInQueue,
]];

/// Apply a wrap-up
///
/// Sets (or replaces) the interaction's wrap-up and completes it. The interaction must be
/// closed **and finalized**. The body is exactly `{"codeId", "durationMs", "notes"?}`.
///
/// Checks run in this order, and every failing check from step 4 on adds its entry to
/// `details`: (1) authentication and scope; (2) the interaction exists and is visible;
/// (3) `Content-Type`, size, well-formed JSON; (4) body fields; (5) state and finalization;
/// (6) the code. Sending the same body again succeeds and changes nothing.
#[utoipa::path(put, path = "/api/v2/interactions/{id}/wrap-up", operation_id = "putInteractionWrapUp", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    request_body = WrapUpRequest,
    responses((status = 204, description = "The wrap-up is in place (applied now, or already identical).")),
    security(("oauth2" = ["interaction:write"])),
    extensions(("x-error-codes" = json!(PUT_ERRORS))))]
pub async fn put(
    State(wrapups): State<WrapUps>,
    Authorized(principal, ..): Authorized<InteractionWrite>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let interaction_id = path_id(&id, Resource::Interaction)?;
    let read: Result<Bytes, ApiError> = read_json_body(&headers, body).await;
    let checked = check_body(read.as_deref().map_err(Clone::clone));
    let now = wrapups.clock.now_ms();
    match wrapups
        .apply(&principal, Target::Id(interaction_id), checked, now)
        .await
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(refused) => Err(answer(refused, &id)),
    }
}

/// A refused wrap-up of the interaction `id` (as sent), as wrapup's API answers it.
pub(crate) fn answer(refused: Refused, id: &str) -> ApiError {
    match refused {
        Refused::NotFound => ApiError::not_found(Resource::Interaction(id)),
        Refused::Problems(problems) => ApiError::new(problems),
        Refused::Failed(e) => e,
    }
}

const SKIP_ERRORS: Errors = &[&[
    InteractionNotFound,
    InteractionNotClosed,
    InteractionNotFinalized,
    WrapupSkipNotAllowed,
]];

/// Skip the wrap-up
///
/// For an interaction whose queue's prompt is `optional` or `agentRequested`: it is
/// completed without a code (`routing.wrapupSkipped`), with the event
/// `interaction.wrapup.skipped`. Like a wrap-up, it must be closed and finalized. Skipping
/// again changes nothing; a wrap-up may still be applied afterwards.
#[utoipa::path(post, path = "/api/v2/interactions/{id}/wrap-up/skip", operation_id = "skipInteractionWrapUp", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    responses((status = 200, description = "The interaction, completed without a wrap-up.", body = wrapup_types::Interaction)),
    security(("oauth2" = ["interaction:write"])),
    extensions(("x-error-codes" = json!(SKIP_ERRORS))))]
pub async fn skip(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn crate::clock::Clock>>,
    Authorized(principal, ..): Authorized<InteractionWrite>,
    Path(id): Path<String>,
) -> Result<Json<wrapup_types::Interaction>, ApiError> {
    let interaction_id = path_id(&id, Resource::Interaction)?;
    let applied = store
        .skip_wrapup(interaction_id, &principal.divisions, clock.now_ms())
        .await
        .or_not_found(Resource::Interaction(&id))?;
    Ok(Json(
        crate::wrapup::applied_record(&applied).interaction.clone(),
    ))
}

const GET_ERRORS: Errors = &[&[InteractionNotFound, WrapupNotFound]];

/// Get an interaction's wrap-up
#[utoipa::path(get, path = "/api/v2/interactions/{id}/wrap-up", operation_id = "getInteractionWrapUp", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    responses((status = 200, description = "The current wrap-up.", body = WrapUp)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(GET_ERRORS))))]
pub async fn get(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<InteractionView>,
    Path(id): Path<String>,
) -> Result<Json<WrapUp>, ApiError> {
    let rec = visible::interaction(store.as_ref(), &principal, &id).await?;
    rec.interaction.wrap_up.map(Json).ok_or_else(|| {
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::WrapupNotFound,
                format!("Interaction {id} has no wrap-up yet; it is {}.", rec.interaction.state),
            )
            .hint("Apply one with PUT /api/v2/interactions/{id}/wrap-up once the interaction is closed and finalized."),
        )
    })
}

const HISTORY_ERRORS: Errors = &[&[InteractionNotFound]];

/// Get an interaction's wrap-up history
///
/// Every wrap-up ever applied to the interaction, oldest first.
#[utoipa::path(get, path = "/api/v2/interactions/{id}/wrap-up/history", operation_id = "getInteractionWrapUpHistory", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    responses((status = 200, description = "The wrap-ups, oldest first.", body = Vec<WrapUp>)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(HISTORY_ERRORS))))]
pub async fn history(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<InteractionView>,
    Path(id): Path<String>,
) -> Result<Json<Vec<WrapUp>>, ApiError> {
    let rec = visible::interaction(store.as_ref(), &principal, &id).await?;
    Ok(Json(store.wrapup_history(rec.interaction.id).await?))
}

const VALIDATE_ERRORS: Errors = &[&[InteractionNotFound]];

/// Validate a wrap-up without applying it (dry run)
///
/// Runs every check of `PUT /api/v2/interactions/{id}/wrap-up` on the body, against the
/// interaction as it is now, and changes nothing. Answers `200` with the verdict: `valid`,
/// the `status` the PUT would answer, every problem in the order of checks, and, for a
/// refused body that is a JSON object, the body that would be accepted (see
/// docs/api.md#the-corrected-body). Only authentication, scope and an unknown interaction
/// are answered as errors, as the PUT would answer them.
#[utoipa::path(post, path = "/api/v2/interactions/{id}/wrap-up/validate", operation_id = "validateInteractionWrapUp", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    request_body(content = Option<serde_json::Value>, description = "Any body, or none: it is checked as the PUT would check it.",
        example = json!({"wrapUpCode": {"id": "00000000-0000-4000-8000-0000000000c1"}})),
    responses((status = 200, description = "What the PUT would answer now.", body = WrapUpValidation)),
    security(("oauth2" = ["interaction:write"])),
    extensions(("x-error-codes" = json!(VALIDATE_ERRORS))))]
pub async fn validate(
    State(wrapups): State<WrapUps>,
    Authorized(principal, ..): Authorized<InteractionWrite>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<WrapUpValidation>, ApiError> {
    let rec = visible::interaction(wrapups.store.as_ref(), &principal, &id).await?;
    let read: Result<Bytes, ApiError> = read_json_body(&headers, body).await;
    let body = read.as_ref().map(|b| b.as_ref()).map_err(Clone::clone);
    Ok(Json(
        wrapups.validation(&principal, &rec, body, true).await?,
    ))
}
