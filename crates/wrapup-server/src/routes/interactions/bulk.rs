//! `POST /api/v2/interactions/wrap-ups`: many wrap-ups in one request
//! (docs/api.md#post-apiv2interactionswrap-ups). Each item goes through the very checks of
//! `PUT /api/v2/interactions/{id}/wrap-up` (`crate::wrapup`, then the write's own checks);
//! the items that pass them go to the store together, as one write in one transaction, and
//! each item is answered on its own.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use uuid::Uuid;
use wrapup_domain::bulk_wrapups::{bulk_too_large, parse_bulk, BulkItem, MAX_BULK_BODY_BYTES};
use wrapup_domain::new_wrapup::check_fields;
use wrapup_domain::Principal;
use wrapup_store::{ApplyWrapUp, WrapUpApplied};
use wrapup_types::ErrorCode::*;
use wrapup_types::{
    BulkOutcome, BulkWrapUp, BulkWrapUpResponse, BulkWrapUpResult, ErrorCode, ErrorDetail,
};

use super::wrap_up;
use crate::auth::{Authorized, InteractionWrite};
use crate::error::{ApiError, Resource};
use crate::extract::{path_id, read_json_body_up_to};
use crate::metrics::Metrics;
use crate::middleware::context::RequestContext;
use crate::openapi::errors::Errors;
use crate::rate_limit::layer::rate_limited;
use crate::rate_limit::RateLimiter;
use crate::wrapup::{Refused, Target, WrapUps};

/// The body as a whole: each item's refusals are in its result.
const ERRORS: Errors = &[&[
    RequestMediaUnsupported,
    RequestBodyTooLarge,
    RequestBodyMalformed,
    RequestFieldInvalid,
]];

/// Apply many wrap-ups
///
/// Up to 1000 wrap-ups in one request, each `{"interactionId", "codeId", "durationMs",
/// "notes"?}`, applied with the rules of `PUT /api/v2/interactions/{id}/wrap-up` in one
/// transaction. Answers `200` with one result per item, in order: `applied`, `unchanged`
/// (the same wrap-up was in place) or `refused`, with the `status` and `details` the PUT
/// would have answered for that item. One refused item never fails the others. A body that
/// is not a JSON array of objects, or holds more than 1000 items, is refused as a whole.
/// With a rate limit, every item counts as one request.
#[utoipa::path(post, path = "/api/v2/interactions/wrap-ups", operation_id = "applyInteractionWrapUps", tag = "interactions",
    request_body(content = Vec<BulkWrapUp>, description = "At most 1000 items; the body at most 1 MiB."),
    responses((status = 200, description = "One result per item, in the order of the request.", body = BulkWrapUpResponse)),
    security(("oauth2" = ["interaction:write"])),
    extensions(("x-error-codes" = json!(ERRORS))))]
pub async fn apply_wrapups(
    State(wrapups): State<WrapUps>,
    State(limiter): State<Arc<RateLimiter>>,
    State(metrics): State<Arc<Metrics>>,
    Authorized(principal, ..): Authorized<InteractionWrite>,
    context: Option<Extension<RequestContext>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<BulkWrapUpResponse>, ApiError> {
    let bytes = read_json_body_up_to(&headers, body, MAX_BULK_BODY_BYTES, bulk_too_large).await?;
    let items = parse_bulk(&bytes).map_err(ApiError::one)?;
    let now = wrapups.clock.now_ms();
    charge_items(&limiter, &metrics, &principal, context, items.len(), now)?;

    // Steps 2 and 4 item by item (reads only for items with problems); the items that pass
    // are written together, in one store write.
    let mut answers: Vec<Option<Result<WrapUpApplied, Refused>>> = Vec::with_capacity(items.len());
    let mut to_write: Vec<(usize, ApplyWrapUp)> = Vec::new();
    for (at, item) in items.iter().enumerate() {
        match prepare(&wrapups, &principal, item, now).await {
            Ok(cmd) => {
                to_write.push((at, cmd));
                answers.push(None);
            }
            Err(refused) => answers.push(Some(Err(refused))),
        }
    }
    if !to_write.is_empty() {
        let (positions, cmds): (Vec<usize>, Vec<ApplyWrapUp>) = to_write.into_iter().unzip();
        let written = wrapups.store.apply_wrapups(cmds).await?;
        for (at, written) in positions.into_iter().zip(written) {
            answers[at] = Some(written.map_err(Refused::from));
        }
    }

    let mut results = Vec::with_capacity(items.len());
    for (item, answer) in items.iter().zip(answers) {
        let answer = answer.unwrap_or_else(|| {
            Err(Refused::Failed(ApiError::internal(
                "bulk wrap-up",
                "an item got no answer from the store",
            )))
        });
        if let Some(id) = named_interaction(item) {
            wrapups.count(&principal, id, answer.as_ref(), now).await;
        }
        let raw = item.interaction_id.as_deref().unwrap_or_default();
        results.push(result_of(
            item,
            answer.map_err(|refused| wrap_up::answer(refused, raw)),
        ));
    }
    Ok(Json(BulkWrapUpResponse { results }))
}

/// The interaction an item names, when it names one.
fn named_interaction(item: &BulkItem) -> Option<Uuid> {
    let raw = item.interaction_id.as_ref().ok()?;
    path_id(raw, Resource::Interaction).ok()
}

/// An item's result: what the PUT would have answered, as an entry of the array.
fn result_of(item: &BulkItem, answer: Result<WrapUpApplied, ApiError>) -> BulkWrapUpResult {
    let interaction_id = item.interaction_id.as_ref().ok().cloned();
    match answer {
        Ok(done) => BulkWrapUpResult {
            interaction_id,
            outcome: match done {
                WrapUpApplied::Applied(_) => BulkOutcome::Applied,
                WrapUpApplied::Unchanged(_) => BulkOutcome::Unchanged,
            },
            status: StatusCode::NO_CONTENT.as_u16(),
            details: Vec::new(),
        },
        Err(refused) => BulkWrapUpResult {
            interaction_id,
            outcome: BulkOutcome::Refused,
            status: refused.status.as_u16(),
            details: refused.details,
        },
    }
}

/// One item through the PUT's checks before its write: the command, or its refusal.
async fn prepare(
    wrapups: &WrapUps,
    principal: &Principal,
    item: &BulkItem,
    now: i64,
) -> Result<ApplyWrapUp, Refused> {
    let raw = item
        .interaction_id
        .as_ref()
        .map_err(|problem| Refused::Problems(vec![problem.clone()]))?;
    let interaction_id = path_id(raw, Resource::Interaction)?;
    wrapups
        .command(
            principal,
            Target::Id(interaction_id),
            check_fields(&item.fields),
            now,
        )
        .await
}

/// The rate limit counts every item as one request: `rate_limit` took one token for the
/// request; the others are taken here, all or none, before anything is checked or written.
/// Refused, the whole request is answered 429 (nothing applied) and may be sent again. An
/// array larger than the bucket could never pass: that is a 400, not a 429 a client would
/// retry forever.
fn charge_items(
    limiter: &RateLimiter,
    metrics: &Metrics,
    principal: &Principal,
    context: Option<Extension<RequestContext>>,
    items: usize,
    now: i64,
) -> Result<(), ApiError> {
    let more = u32::try_from(items.saturating_sub(1)).unwrap_or(u32::MAX);
    if more == 0 {
        return Ok(());
    }
    if let Some(limit) = limiter.limit().filter(|l| items > l.requests as usize) {
        return Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestFieldInvalid,
                format!(
                    "The body holds {items} wrap-ups; this server's rate limit ({limit}) lets a client send at most {} in one request.",
                    limit.requests
                ),
            )
            .hint(format!(
                "Split the array into requests of at most {} items.",
                limit.requests
            )),
        ));
    }
    let Some(decision) = limiter.take_n(principal.client_id, more, now) else {
        return Ok(());
    };
    if let Some(Extension(context)) = context {
        context.update(|facts| facts.rate = Some(decision));
    }
    if decision.allowed {
        return Ok(());
    }
    metrics.rate_limited.inc();
    Err(rate_limited(limiter, decision))
}
