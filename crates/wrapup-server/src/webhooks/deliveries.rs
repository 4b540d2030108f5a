//! A webhook endpoint's deliveries (docs/webhooks.md): the attempt log, resending one
//! event, replaying every event from a sequence number or a time, and a test delivery.
//! Each only queues: the dispatcher sends, with the usual retries, and the answer is
//! `202 Accepted`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use wrapup_store::webhooks::{AttemptQuery, AttemptRecord, NewDelivery};
use wrapup_types::timestamp::{from_millis, to_millis};
use wrapup_types::ErrorCode::*;
use wrapup_types::{
    DeliveryQueued, ErrorCode, ErrorDetail, Page, ReplayQueued, ReplayWebhook, WebhookAttempt,
};

use super::payload::{event_delivery, message_id, test_delivery};
use super::routes::{visible_webhook, WebhookApi};
use crate::auth::{Authorized, WebhookManage};
use crate::error::{ApiError, OrNotFound, Resource};
use crate::extract::{ApiJson, ApiQuery};
use crate::listing::cursor::{page, page_request};
use crate::openapi::errors::{codes, JSON_BODY};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Only the attempts at this event (its sequence number).
    sequence: Option<i64>,
    /// Entities per page, 1 to 500 (default 25).
    #[param(minimum = 1, maximum = 500)]
    page_size: Option<u32>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

fn wire(a: AttemptRecord) -> WebhookAttempt {
    WebhookAttempt {
        message_id: a.message_id,
        sequence: a.event_seq,
        event_type: a.event_type,
        attempt: a.attempt,
        attempted_at: from_millis(a.attempted_ms),
        response_status: a.response_status,
        response_body: a.response_body,
        error: a.error,
        latency_ms: a.latency_ms,
        result: a.result,
        next_attempt_at: a.next_attempt_ms.map(from_millis),
    }
}

/// List a webhook endpoint's delivery attempts
///
/// Newest first: when each attempt was made, the status and the first KiB of the answer,
/// how long it took, what went wrong, and what it led to (`delivered`, `retrying` with
/// `nextAttemptAt`, or `failed`). Kept as long as events are (24 hours at least).
#[utoipa::path(get, path = "/api/v2/webhooks/{webhookId}/deliveries", operation_id = "listWebhookDeliveries", tag = "webhooks",
    params(("webhookId" = Uuid, Path, description = "The endpoint's id."), DeliveriesQuery),
    responses((status = 200, description = "A page of attempts, newest first.", body = Page<WebhookAttempt>)),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[RequestQueryInvalid, WebhookNotFound]])))))]
pub async fn list(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<Page<WebhookAttempt>>, ApiError> {
    let (request, size) = page_request(q.page_size, q.cursor.as_deref())?;
    let webhook = visible_webhook(&state, &principal, &id).await?;
    let rows = state
        .store
        .webhooks()
        .list_attempts(AttemptQuery {
            webhook_id: webhook.id,
            event_seq: q.sequence,
            before: request.after,
            limit: request.limit,
        })
        .await?;
    Ok(Json(page(rows, size, |a| a.seq, wire)))
}

/// Resend one event to a webhook endpoint
///
/// Queues the event again, from its first attempt, with the same `webhook-id` (a receiver
/// that already has it can tell). The event must be one the endpoint receives, and still in
/// the event log or the endpoint's queue.
#[utoipa::path(post, path = "/api/v2/webhooks/{webhookId}/events/{sequence}/resend", operation_id = "resendWebhookEvent", tag = "webhooks",
    params(
        ("webhookId" = Uuid, Path, description = "The endpoint's id."),
        ("sequence" = i64, Path, description = "The event's sequence number."),
    ),
    responses((status = 202, description = "Queued.", body = DeliveryQueued)),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[WebhookNotFound, WebhookEventNotFound]])))))]
pub async fn resend(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    Path((id, raw_seq)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DeliveryQueued>), ApiError> {
    let webhook = visible_webhook(&state, &principal, &id).await?;
    let seq: i64 = raw_seq.parse().unwrap_or(0);
    let hooks = state.store.webhooks();
    // The event as the log has it, if the endpoint (as it is now) receives it; otherwise
    // the delivery queued before, once the log no longer has the event.
    let delivery: Option<NewDelivery> = match hooks.get_event(seq).await? {
        Some(event) => webhook
            .receives(event.kind, event.division_id)
            .then(|| event_delivery(webhook.id, &event)),
        None => hooks
            .get_delivery(webhook.id, &message_id(webhook.id, seq))
            .await?
            .map(|d| NewDelivery {
                message_id: d.message_id,
                event_seq: d.event_seq,
                interaction_id: d.interaction_id,
                event_type: d.event_type,
                body: d.body,
            }),
    };
    let delivery = delivery.or_not_found(Resource::WebhookEvent(seq))?;
    hooks
        .queue_delivery(webhook.id, &delivery, state.clock.now_ms())
        .await
        .or_not_found(Resource::Webhook(&id))?;
    state.webhooks.poke();
    Ok((
        StatusCode::ACCEPTED,
        Json(DeliveryQueued {
            message_id: delivery.message_id,
            sequence: Some(seq),
        }),
    ))
}

/// Replay events to a webhook endpoint
///
/// Queues again every event the endpoint receives from `fromSequence` on, or from those
/// that occurred at or after `since`, with their usual `webhook-id`s, in order per
/// interaction. Events older than the log's retention (24 hours at least) are gone.
#[utoipa::path(post, path = "/api/v2/webhooks/{webhookId}/replay", operation_id = "replayWebhook", tag = "webhooks",
    params(("webhookId" = Uuid, Path, description = "The endpoint's id.")),
    request_body = ReplayWebhook,
    responses((status = 202, description = "Queued: the range of events replayed.", body = ReplayQueued)),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[WebhookNotFound], JSON_BODY])))))]
pub async fn replay(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplayWebhook>,
) -> Result<(StatusCode, Json<ReplayQueued>), ApiError> {
    let webhook = visible_webhook(&state, &principal, &id).await?;
    let one_of = |message: &str| {
        ApiError::one(
            ErrorDetail::new(ErrorCode::RequestFieldInvalid, message).hint(
                "Send {\"fromSequence\": 1200} or {\"since\": \"2026-11-24T09:00:00.000Z\"}.",
            ),
        )
    };
    let hooks = state.store.webhooks();
    let rewind_to = match (body.from_sequence, body.since) {
        (Some(_), Some(_)) => {
            return Err(one_of("Send fromSequence or since, not both."));
        }
        (None, None) => return Err(one_of("Send fromSequence or since.")),
        (Some(from), None) if from < 1 => {
            let e = ErrorDetail::new(
                ErrorCode::RequestFieldInvalid,
                format!("fromSequence must be 1 or more; got {from}."),
            )
            .field("fromSequence");
            return Err(ApiError::one(e));
        }
        (Some(from), None) => from - 1,
        (None, Some(since)) => hooks
            .last_event_before(to_millis(since))
            .await?
            .unwrap_or(0),
    };
    let bounds = state.store.event_bounds().await?;
    hooks
        .rewind_webhook(webhook.id, rewind_to, state.clock.now_ms())
        .await
        .or_not_found(Resource::Webhook(&id))?;
    state.webhooks.poke();
    Ok((
        StatusCode::ACCEPTED,
        Json(ReplayQueued {
            from_sequence: rewind_to.max(bounds.pruned_through) + 1,
            through_sequence: bounds.latest,
        }),
    ))
}

/// Send a test delivery to a webhook endpoint
///
/// Queues a `webhook.test` delivery, signed like any other: a quick way to check that the
/// endpoint verifies signatures. Its attempts appear in the delivery log.
#[utoipa::path(post, path = "/api/v2/webhooks/{webhookId}/test", operation_id = "sendWebhookTest", tag = "webhooks",
    params(("webhookId" = Uuid, Path, description = "The endpoint's id.")),
    responses((status = 202, description = "Queued.", body = DeliveryQueued)),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[WebhookNotFound]])))))]
pub async fn test(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DeliveryQueued>), ApiError> {
    let webhook = visible_webhook(&state, &principal, &id).await?;
    let now = state.clock.now_ms();
    let delivery = test_delivery(webhook.id, now);
    state
        .store
        .webhooks()
        .queue_delivery(webhook.id, &delivery, now)
        .await
        .or_not_found(Resource::Webhook(&id))?;
    state.webhooks.poke();
    Ok((
        StatusCode::ACCEPTED,
        Json(DeliveryQueued {
            message_id: delivery.message_id,
            sequence: None,
        }),
    ))
}
