//! `/api/v2/interactions`: the lifecycle, and applying a wrap-up.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use uuid::Uuid;
use wrapup_domain::wrapup_body::{parse_object, validate_fields};
use wrapup_domain::Principal;
use wrapup_store::{
    ApplyWrapUp, InteractionFilter, InteractionRecord, NewInteraction, SharedInteraction,
    WrapUpApplied,
};
use wrapup_types::{
    Channel, CreateInteraction, ErrorCode, ErrorDetail, Interaction, InteractionState, Page,
    SetState, SortOrder, WrapUp, WrapUpRequest, WrapUpValidation,
};

use crate::auth::{Authorized, InteractionManage, InteractionView, InteractionWrite};
use crate::error::{ApiError, OrNotFound, Resource};
use crate::extract::{path_id, read_json_body, ApiJson, ApiQuery};
use crate::pagination::{page_in, page_request_in};
use crate::routes::divisions::require_granted;
use crate::routes::wrapup_check::{problems_of_fields, validation};
use crate::state::AppState;

/// docs/api.md#order-of-checks, step 2: the interaction exists and the caller may see it. An interaction
/// in a division the caller is not granted gets the very same answer as a random id.
pub(crate) async fn visible_interaction(
    state: &AppState,
    principal: &Principal,
    raw: &str,
) -> Result<InteractionRecord, ApiError> {
    Ok(visible_shared(state, principal, raw).await?.record.clone())
}

/// [`visible_interaction`], shared: on SQLite a hot interaction comes from the store's cache,
/// with its JSON rendered once.
async fn visible_shared(
    state: &AppState,
    principal: &Principal,
    raw: &str,
) -> Result<Arc<SharedInteraction>, ApiError> {
    let id = path_id(raw, Resource::Interaction)?;
    state
        .store
        .get_interaction_shared(id)
        .await?
        .filter(|found| principal.sees(found.record.interaction.division_id))
        .or_not_found(Resource::Interaction(raw))
}

fn with_etag(interaction: Interaction) -> Response {
    let version = interaction.version;
    tagged(Json(interaction).into_response(), version)
}

/// `response` with the interaction's `version` as its strong entity tag.
fn tagged(mut response: Response, version: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListInteractionsQuery {
    /// Only interactions in this state.
    state: Option<InteractionState>,
    /// Only interactions of this division.
    division_id: Option<Uuid>,
    /// Only interactions of this channel.
    channel: Option<Channel>,
    /// `true`: only interactions with a wrap-up; `false`: only those without.
    wrapped_up: Option<bool>,
    /// `asc` (the default): oldest first, in creation order; `desc`: newest first.
    sort_order: Option<SortOrder>,
    /// Entities per page, 1 to 500 (default 25).
    #[param(minimum = 1, maximum = 500)]
    page_size: Option<u32>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// Create an interaction
///
/// What a routing engine does when a call, chat, email or message arrives. The interaction
/// starts `queued`.
#[utoipa::path(post, path = "/api/v2/interactions", operation_id = "createInteraction", tag = "interactions",
    request_body = CreateInteraction,
    responses((status = 201, description = "The new interaction.", body = Interaction)),
    security(("oauth2" = ["interaction:manage"])))]
pub async fn create(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<InteractionManage>,
    ApiJson(body): ApiJson<CreateInteraction>,
) -> Result<(StatusCode, Response), ApiError> {
    require_granted(&state, &principal, body.division_id).await?;
    let rec = state
        .store
        .create_interaction(&NewInteraction {
            id: Uuid::new_v4(),
            division_id: body.division_id,
            channel: body.channel,
            now_ms: state.clock.now_ms(),
        })
        .await?;
    Ok((StatusCode::CREATED, with_etag(rec.interaction)))
}

/// Get an interaction
///
/// The `ETag` header is the interaction's `version`.
#[utoipa::path(get, path = "/api/v2/interactions/{id}", operation_id = "getInteraction", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    responses((status = 200, description = "The interaction.", body = Interaction,
        headers(("ETag" = String, description = "The version, as a strong entity tag.")))),
    security(("oauth2" = ["interaction:view"])))]
pub async fn get(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<InteractionView>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let found = visible_shared(&state, &principal, &id).await?;
    let body = found.rendered(|rec| {
        serde_json::to_vec(&rec.interaction)
            .expect("an interaction serializes")
            .into()
    });
    let json = [(header::CONTENT_TYPE, "application/json")];
    Ok(tagged(
        (json, body).into_response(),
        found.record.interaction.version,
    ))
}

/// List interactions
///
/// Interactions of the granted divisions, in creation order: oldest first, or newest first
/// with `sortOrder=desc`.
#[utoipa::path(get, path = "/api/v2/interactions", operation_id = "listInteractions", tag = "interactions",
    params(ListInteractionsQuery),
    responses((status = 200, description = "A page of interactions.", body = Page<Interaction>)),
    security(("oauth2" = ["interaction:view"])))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<InteractionView>,
    ApiQuery(q): ApiQuery<ListInteractionsQuery>,
) -> Result<Json<Page<Interaction>>, ApiError> {
    let (request, size, order) = page_request_in(q.sort_order, q.page_size, q.cursor.as_deref())?;
    let filter = InteractionFilter {
        state: q.state,
        division: q.division_id,
        channel: q.channel,
        wrapped_up: q.wrapped_up,
        newest_first: order == SortOrder::Desc,
    };
    let rows = state
        .store
        .list_interactions(&principal.divisions, &filter, request)
        .await?;
    Ok(Json(page_in(
        order,
        rows,
        size,
        |r| r.seq,
        |r| r.interaction,
    )))
}

/// Move an interaction through its lifecycle
///
/// `queued → active → closed`, or `queued → closed` (abandoned). Closing starts the settle
/// time; the interaction becomes `finalized` when it has passed.
#[utoipa::path(post, path = "/api/v2/interactions/{id}/state", operation_id = "setInteractionState", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    request_body = SetState,
    responses((status = 200, description = "The interaction after the move.", body = Interaction)),
    security(("oauth2" = ["interaction:manage"])))]
pub async fn set_state(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<InteractionManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetState>,
) -> Result<Response, ApiError> {
    let rec = visible_interaction(&state, &principal, &id).await?;
    let to = InteractionState::from(body.state);
    let rec = state
        .store
        .set_state(
            rec.interaction.id,
            to,
            state.clock.now_ms(),
            state.settle_ms,
        )
        .await
        .or_not_found(Resource::Interaction(&id))?;
    Ok(with_etag(rec.interaction))
}

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
    security(("oauth2" = ["interaction:write"])))]
pub async fn put_wrapup(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<InteractionWrite>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let interaction_id = path_id(&id, Resource::Interaction)?;
    let now = state.clock.now_ms();
    let outcome = apply_wrapup(&state, &principal, &id, interaction_id, &headers, body, now).await;
    record_activity(
        &state,
        &principal,
        interaction_id,
        outcome.as_ref().copied(),
        now,
    )
    .await;
    outcome.map(|_| StatusCode::NO_CONTENT)
}

/// Counts an answer about a wrap-up of `interaction_id` (its division when it is in place)
/// for GET /api/v2/interactions/wrap-up-activity, under the interaction's division: only
/// answers about an interaction the caller can see.
pub(crate) async fn record_activity(
    state: &AppState,
    principal: &Principal,
    interaction_id: Uuid,
    outcome: Result<Uuid, &ApiError>,
    now: i64,
) {
    let division = match outcome {
        Ok(division) => Some(division),
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status.is_server_error() => None,
        Err(_) => state
            .store
            .get_interaction(interaction_id)
            .await
            .ok()
            .flatten()
            .map(|r| r.interaction.division_id)
            .filter(|d| principal.sees(*d)),
    };
    if let Some(division) = division {
        state.activity.record(now, division, outcome.is_ok());
    }
}

/// Applies the wrap-up; the interaction's division when it is in place.
async fn apply_wrapup(
    state: &AppState,
    principal: &Principal,
    id: &str,
    interaction_id: Uuid,
    headers: &HeaderMap,
    body: Body,
    now: i64,
) -> Result<Uuid, ApiError> {
    let fields = match read_json_body(headers, body).await {
        Ok(bytes) => parse_object(&bytes).map_err(ApiError::one),
        Err(problem) => Err(problem),
    };
    let cmd = wrapup_command(state, principal, id, interaction_id, fields, now).await?;
    let applied = state.store.apply_wrapup(&cmd).await;
    wrapup_written(applied, id).map(|applied| applied_record(&applied).interaction.division_id)
}

/// The checks of a wrap-up before its write (docs/api.md#order-of-checks), for the
/// interaction `id` (as sent; `interaction_id` parsed) and a body read as one JSON object's
/// `fields`, or refused by step 3: the command to write, or every problem, as the PUT
/// answers them. `POST /api/v2/interactions/wrap-ups` runs each item through it too.
pub(crate) async fn wrapup_command(
    state: &AppState,
    principal: &Principal,
    id: &str,
    interaction_id: Uuid,
    fields: Result<Vec<(String, Value)>, ApiError>,
    now: i64,
) -> Result<ApplyWrapUp, ApiError> {
    // The common case, a valid body, goes straight to the write, which checks that the
    // interaction exists and is visible (docs/api.md#order-of-checks, step 2) inside its
    // transaction: one trip to the store. A body with problems needs step 2 first, so the
    // answer keeps the order of checks.
    let fields = match fields {
        Ok(fields) => fields,
        Err(problem) => {
            visible_interaction(state, principal, id).await?;
            return Err(problem);
        }
    };
    match validate_fields(&fields) {
        Ok(request) => Ok(ApplyWrapUp {
            interaction_id,
            request: request.into(),
            client_id: principal.client_id,
            divisions: principal.divisions.clone(),
            now_ms: now,
        }),
        Err(_) => {
            // Report the state and code problems too, all in one answer.
            let rec = visible_interaction(state, principal, id).await?;
            let problems = problems_of_fields(state, principal, &rec, &fields, now).await?;
            Err(ApiError::new(problems))
        }
    }
}

/// What the store answered a wrap-up of the interaction `id` (as sent), as the PUT answers
/// it: an interaction the write did not find, or that the caller may not see, is not found.
pub(crate) fn wrapup_written(
    written: wrapup_store::Result<WrapUpApplied>,
    id: &str,
) -> Result<WrapUpApplied, ApiError> {
    written.or_not_found(Resource::Interaction(id))
}

/// The interaction as a wrap-up left it, applied or unchanged.
pub(crate) fn applied_record(applied: &WrapUpApplied) -> &InteractionRecord {
    match applied {
        WrapUpApplied::Applied(rec) | WrapUpApplied::Unchanged(rec) => rec,
    }
}

/// Get an interaction's wrap-up
#[utoipa::path(get, path = "/api/v2/interactions/{id}/wrap-up", operation_id = "getInteractionWrapUp", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    responses((status = 200, description = "The current wrap-up.", body = WrapUp)),
    security(("oauth2" = ["interaction:view"])))]
pub async fn get_wrapup(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<InteractionView>,
    Path(id): Path<String>,
) -> Result<Json<WrapUp>, ApiError> {
    let rec = visible_interaction(&state, &principal, &id).await?;
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

/// Get an interaction's wrap-up history
///
/// Every wrap-up ever applied to the interaction, oldest first.
#[utoipa::path(get, path = "/api/v2/interactions/{id}/wrap-up/history", operation_id = "getInteractionWrapUpHistory", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    responses((status = 200, description = "The wrap-ups, oldest first.", body = Vec<WrapUp>)),
    security(("oauth2" = ["interaction:view"])))]
pub async fn wrapup_history(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<InteractionView>,
    Path(id): Path<String>,
) -> Result<Json<Vec<WrapUp>>, ApiError> {
    let rec = visible_interaction(&state, &principal, &id).await?;
    Ok(Json(state.store.wrapup_history(rec.interaction.id).await?))
}

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
    security(("oauth2" = ["interaction:write"])))]
pub async fn validate(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<InteractionWrite>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<WrapUpValidation>, ApiError> {
    let rec = visible_interaction(&state, &principal, &id).await?;
    let read: Result<Bytes, ApiError> = read_json_body(&headers, body).await;
    let body = read.as_ref().map(|b| b.as_ref()).map_err(Clone::clone);
    Ok(Json(
        validation(&state, &principal, &rec, body, true).await?,
    ))
}
