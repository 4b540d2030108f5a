//! `/api/v2/webhooks`: webhook endpoints (create, list, get, update, delete) and their
//! secrets (docs/webhooks.md). The delivery log, resends, replays and tests are in
//! `deliveries.rs`.
//!
//! An endpoint is visible to a token granted every one of its divisions (an endpoint of
//! "all" divisions, only to tokens granted all); one it cannot see is answered exactly like
//! one that does not exist.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use wrapup_domain::names::check_description;
use wrapup_domain::Principal;
use wrapup_store::webhooks::{WebhookChanges, WebhookRecord};
use wrapup_store::Store;
use wrapup_types::timestamp::from_millis;
use wrapup_types::ErrorCode::*;
use wrapup_types::{
    CreateWebhook, CreatedWebhook, DivisionGrant, ErrorCode, ErrorDetail, EventKind, Page,
    RotatedSecret, UpdateWebhook, Webhook,
};

use super::target::check_url;
use super::Webhooks;
use crate::auth::{Authorized, WebhookManage};
use crate::clock::Clock;
use crate::error::{ApiError, OrNotFound, Resource};
use crate::extract::{path_id, ApiJson, ApiQuery};
use crate::listing::cursor::{page, page_request};
use crate::openapi::errors::{codes, JSON_BODY};
use crate::state::AppState;

/// The longest grace period of a secret rotation: a week.
pub const MAX_GRACE_SECONDS: u64 = 7 * 86_400;
/// The default grace period of a secret rotation: a day.
pub const DEFAULT_GRACE_SECONDS: u64 = 86_400;

/// An endpoint as the API shows it.
pub fn wire(w: WebhookRecord) -> Webhook {
    Webhook {
        id: w.id,
        url: w.url,
        event_types: w.event_types,
        divisions: w.divisions,
        description: w.description,
        enabled: w.enabled,
        disabled_reason: w.disabled_reason,
        disabled_at: w.disabled_ms.map(from_millis),
        failing_since: w.failing_since_ms.map(from_millis),
        previous_secret_expires_at: w.previous_secret_expires_ms.map(from_millis),
        created_at: from_millis(w.created_ms),
        updated_at: from_millis(w.updated_ms),
        created_by: w.created_by,
        scheduled_through: w.cursor,
    }
}

/// What the webhook operations need of the server (a substate).
#[derive(Clone)]
pub struct WebhookApi {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub webhooks: Arc<Webhooks>,
}

impl FromRef<AppState> for WebhookApi {
    fn from_ref(state: &AppState) -> WebhookApi {
        WebhookApi {
            store: state.store.clone(),
            clock: state.clock.clone(),
            webhooks: state.webhooks.clone(),
        }
    }
}

/// The endpoint `raw` names, if the caller may manage it; otherwise the same 404 as for an
/// endpoint that does not exist.
pub async fn visible_webhook(
    state: &WebhookApi,
    principal: &Principal,
    raw: &str,
) -> Result<WebhookRecord, ApiError> {
    let id = path_id(raw, Resource::Webhook)?;
    state
        .store
        .webhooks()
        .get_webhook(id)
        .await?
        .filter(|w| principal.sees_all(&w.divisions))
        .or_not_found(Resource::Webhook(raw))
}

/// The field rules of a body: the URL, the description, the event types; every problem
/// reported together.
fn check_fields(
    state: &WebhookApi,
    url: Option<&str>,
    description: Option<&str>,
    event_types: Option<&[EventKind]>,
) -> Result<Option<String>, ApiError> {
    let mut problems = Vec::new();
    let url = match url.map(|u| check_url(state.webhooks.config.targets, u)) {
        Some(Ok(url)) => Some(url.to_string()),
        Some(Err(p)) => {
            problems.push(p);
            None
        }
        None => None,
    };
    if let Some(Err(p)) = description.map(check_description) {
        problems.push(p);
    }
    if event_types.is_some_and(|k| k.is_empty()) {
        problems.push(
            ErrorDetail::new(
                ErrorCode::RequestFieldInvalid,
                "eventTypes must name at least one event type.",
            )
            .field("eventTypes")
            .hint("Leave eventTypes out to receive every event type, or name some of interaction.created, interaction.state, interaction.finalized, interaction.wrapup."),
        );
    }
    if problems.is_empty() {
        Ok(url)
    } else {
        Err(ApiError::new(problems))
    }
}

/// The divisions an endpoint is to receive: those asked, each granted to the caller and
/// existing, or (when none are asked) the caller's own grant.
async fn granted_divisions(
    state: &WebhookApi,
    principal: &Principal,
    asked: Option<DivisionGrant>,
) -> Result<DivisionGrant, ApiError> {
    match asked {
        None => Ok(principal.divisions.clone()),
        Some(DivisionGrant::All) if principal.divisions == DivisionGrant::All => Ok(DivisionGrant::All),
        Some(DivisionGrant::All) => Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestFieldInvalid,
                "divisions is \"all\", but this token is granted only some divisions; an endpoint receives only events of divisions its creator can see.",
            )
            .field("divisions")
            .hint("Name the divisions (GET /api/v2/authorization/divisions lists those granted), or leave divisions out to use the token's own."),
        )),
        Some(DivisionGrant::Only(ids)) if ids.is_empty() => Err(ApiError::one(
            ErrorDetail::new(ErrorCode::RequestFieldInvalid, "divisions must name at least one division, or be \"all\".")
                .field("divisions"),
        )),
        Some(DivisionGrant::Only(ids)) => {
            for id in &ids {
                let exists = principal.sees(*id) && state.store.get_division(*id).await?.is_some();
                if !exists {
                    let mut e = ApiError::not_found(Resource::GrantedDivision(*id));
                    e.details[0].field_name = Some("divisions".into());
                    return Err(e);
                }
            }
            Ok(DivisionGrant::Only(ids))
        }
    }
}

/// Create a webhook endpoint
///
/// Events of the given types and divisions are POSTed to `url`, signed per Standard
/// Webhooks, from the next event on. The signing secret is in this response only (rotate it
/// to get a new one).
#[utoipa::path(post, path = "/api/v2/webhooks", operation_id = "createWebhook", tag = "webhooks",
    request_body = CreateWebhook,
    responses((status = 201, description = "The new endpoint and its signing secret.", body = CreatedWebhook)),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[JSON_BODY, &[WebhookUrlInvalid, WebhookUrlRefused, DivisionNotFound]])))))]
pub async fn create(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    let url = check_fields(
        &state,
        Some(&body.url),
        body.description.as_deref(),
        body.event_types.as_deref(),
    )?
    .unwrap_or_default();
    let divisions = granted_divisions(&state, &principal, body.divisions).await?;
    let now = state.clock.now_ms();
    let enabled = body.enabled.unwrap_or(true);
    let record = WebhookRecord {
        id: Uuid::new_v4(),
        seq: 0,
        url,
        description: body.description.filter(|d| !d.is_empty()),
        event_types: dedup(body.event_types.unwrap_or_else(|| EventKind::ALL.to_vec())),
        divisions,
        enabled,
        disabled_reason: (!enabled).then(|| "created disabled".to_string()),
        disabled_ms: (!enabled).then_some(now),
        failing_since_ms: None,
        secret_generation: 1,
        previous_secret_expires_ms: None,
        created_by: principal.client_id,
        created_ms: now,
        updated_ms: now,
        // From the next event on.
        cursor: state.store.event_bounds().await?.latest,
    };
    let record = state.store.webhooks().create_webhook(&record).await?;
    let secret = state
        .webhooks
        .key(state.store.as_ref(), &record, record.secret_generation)
        .await?
        .to_secret();
    state.webhooks.poke();
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            webhook: wire(record),
            secret,
        }),
    ))
}

fn dedup(kinds: Vec<EventKind>) -> Vec<EventKind> {
    EventKind::ALL
        .into_iter()
        .filter(|k| kinds.contains(k))
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListWebhooksQuery {
    /// Entities per page, 1 to 500 (default 25).
    #[param(minimum = 1, maximum = 500)]
    page_size: Option<u32>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// List webhook endpoints
///
/// The endpoints the token can manage (granted every division of), oldest first.
#[utoipa::path(get, path = "/api/v2/webhooks", operation_id = "listWebhooks", tag = "webhooks",
    params(ListWebhooksQuery),
    responses((status = 200, description = "A page of endpoints.", body = Page<Webhook>)),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[RequestQueryInvalid]])))))]
pub async fn list(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    ApiQuery(q): ApiQuery<ListWebhooksQuery>,
) -> Result<Json<Page<Webhook>>, ApiError> {
    let (request, size) = page_request(q.page_size, q.cursor.as_deref())?;
    let mut rows = Vec::new();
    let mut after = request.after;
    while rows.len() < request.limit as usize {
        let batch = state.store.webhooks().list_webhooks(after, 500).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.seq);
        rows.extend(
            batch
                .into_iter()
                .filter(|w| principal.sees_all(&w.divisions)),
        );
    }
    rows.truncate(request.limit as usize);
    Ok(Json(page(rows, size, |w| w.seq, wire)))
}

/// Get a webhook endpoint
///
/// The endpoint, with whether it is enabled and, if not, why. The secret is not shown.
#[utoipa::path(get, path = "/api/v2/webhooks/{webhookId}", operation_id = "getWebhook", tag = "webhooks",
    params(("webhookId" = Uuid, Path, description = "The endpoint's id.")),
    responses((status = 200, description = "The endpoint.", body = Webhook)),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[WebhookNotFound]])))))]
pub async fn get(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    Path(id): Path<String>,
) -> Result<Json<Webhook>, ApiError> {
    Ok(Json(wire(visible_webhook(&state, &principal, &id).await?)))
}

/// Update a webhook endpoint
///
/// Changes the fields sent. `"enabled": true` re-enables a disabled endpoint: delivery
/// resumes where it stopped, with the deliveries still pending.
#[utoipa::path(patch, path = "/api/v2/webhooks/{webhookId}", operation_id = "updateWebhook", tag = "webhooks",
    params(("webhookId" = Uuid, Path, description = "The endpoint's id.")),
    request_body = UpdateWebhook,
    responses((status = 200, description = "The endpoint as updated.", body = Webhook)),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[WebhookNotFound], JSON_BODY, &[WebhookUrlInvalid, WebhookUrlRefused, DivisionNotFound]])))))]
pub async fn update(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateWebhook>,
) -> Result<Json<Webhook>, ApiError> {
    let existing = visible_webhook(&state, &principal, &id).await?;
    let url = check_fields(
        &state,
        body.url.as_deref(),
        body.description.as_deref(),
        body.event_types.as_deref(),
    )?;
    let divisions = match body.divisions {
        Some(asked) => Some(granted_divisions(&state, &principal, Some(asked)).await?),
        None => None,
    };
    let changes = WebhookChanges {
        url,
        event_types: body.event_types.map(dedup),
        divisions,
        description: body.description.map(|d| Some(d).filter(|d| !d.is_empty())),
        enabled: body.enabled,
        now_ms: state.clock.now_ms(),
    };
    let updated = state
        .store
        .webhooks()
        .update_webhook(existing.id, &changes)
        .await
        .or_not_found(Resource::Webhook(&id))?;
    state.webhooks.poke();
    Ok(Json(wire(updated)))
}

/// Delete a webhook endpoint
///
/// Deliveries stop, and the endpoint's queue and delivery log are deleted with it.
#[utoipa::path(delete, path = "/api/v2/webhooks/{webhookId}", operation_id = "deleteWebhook", tag = "webhooks",
    params(("webhookId" = Uuid, Path, description = "The endpoint's id.")),
    responses((status = 204, description = "Deleted.")),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[WebhookNotFound]])))))]
pub async fn delete(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let existing = visible_webhook(&state, &principal, &id).await?;
    state
        .store
        .webhooks()
        .delete_webhook(existing.id)
        .await
        .or_not_found(Resource::Webhook(&id))?;
    state.webhooks.poke();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RotateQuery {
    /// How long the previous secret keeps signing, in seconds, 0 to 604800 (default 86400).
    #[param(minimum = 0, maximum = 604800)]
    grace_seconds: Option<u64>,
}

/// Rotate a webhook endpoint's signing secret
///
/// Returns the new secret (shown this once). Until `previousSecretExpiresAt`, every
/// delivery carries two signatures, one per secret, so receivers can switch without
/// missing a delivery.
#[utoipa::path(post, path = "/api/v2/webhooks/{webhookId}/rotate-secret", operation_id = "rotateWebhookSecret", tag = "webhooks",
    params(("webhookId" = Uuid, Path, description = "The endpoint's id."), RotateQuery),
    responses((status = 200, description = "The new secret.", body = RotatedSecret)),
    security(("oauth2" = ["webhook:manage"]), ("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[RequestQueryInvalid, WebhookNotFound]])))))]
pub async fn rotate_secret(
    State(state): State<WebhookApi>,
    Authorized(principal, ..): Authorized<WebhookManage>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RotateQuery>,
) -> Result<Json<RotatedSecret>, ApiError> {
    let grace = q.grace_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if grace > MAX_GRACE_SECONDS {
        return Err(ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestQueryInvalid,
                format!(
                    "graceSeconds must be from 0 to {MAX_GRACE_SECONDS} (a week); got {grace}."
                ),
            )
            .field("graceSeconds"),
        ));
    }
    let existing = visible_webhook(&state, &principal, &id).await?;
    let now = state.clock.now_ms();
    let rotated = state
        .store
        .webhooks()
        .rotate_webhook_secret(existing.id, now + grace as i64 * 1000, now)
        .await
        .or_not_found(Resource::Webhook(&id))?;
    let secret = state
        .webhooks
        .key(state.store.as_ref(), &rotated, rotated.secret_generation)
        .await?
        .to_secret();
    Ok(Json(RotatedSecret {
        secret,
        previous_secret_expires_at: rotated.previous_secret_expires_ms.map(from_millis),
    }))
}
