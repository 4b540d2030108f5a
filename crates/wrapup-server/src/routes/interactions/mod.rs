//! `/api/v2/interactions`: interactions and their lifecycle (`mod.rs`), their wrap-up
//! (`wrap_up.rs`), and many wrap-ups in one request (`bulk.rs`).

pub mod bulk;
pub mod wrap_up;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use wrapup_store::{InteractionFilter, NewInteraction, SharedInteraction, Store};
use wrapup_types::ErrorCode::*;
use wrapup_types::{
    Channel, CreateInteraction, Interaction, InteractionState, Page, SetState, SortOrder,
};

use crate::auth::{Authorized, InteractionManage, InteractionView};
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{ApiError, OrNotFound, Resource};
use crate::extract::{ApiJson, ApiQuery};
use crate::listing::cursor::{page_in, page_request_in};
use crate::openapi::errors::{Errors, JSON_BODY};
use crate::routes::users;
use crate::visible;

fn with_etag(interaction: Interaction) -> Response {
    let version = interaction.version;
    tagged(Json(interaction).into_response(), version)
}

/// The GET's content type, made once (a `&str` would be copied into each response).
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// `response` with the interaction's `version` as its strong entity tag.
fn tagged(mut response: Response, version: i64) -> Response {
    // Written on the stack and copied once into the header's bytes: `format!` would go
    // through the formatter and its `String` through a second allocation.
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(version).as_bytes();
    let mut quoted = [b'"'; 22];
    quoted[1..=digits.len()].copy_from_slice(digits);
    if let Ok(v) = HeaderValue::from_bytes(&quoted[..digits.len() + 2]) {
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

/// Checks that a queue named in a body is visible and of the interaction's division, and
/// that an agent named in it is visible.
async fn check_routing(
    store: &dyn Store,
    principal: &wrapup_domain::Principal,
    division_id: Uuid,
    queue_id: Option<Uuid>,
    agent_id: Option<Uuid>,
) -> Result<(), ApiError> {
    if let Some(id) = queue_id {
        let queue = store.get_queue(id).await?;
        if !queue.is_some_and(|q| principal.sees(q.division_id) && q.division_id == division_id) {
            return Err(ApiError::not_found(Resource::QueueToUse(id)));
        }
    }
    if let Some(id) = agent_id {
        if users::visible_user(store, principal, id).await?.is_none() {
            return Err(ApiError::not_found(Resource::AgentToUse(id)));
        }
    }
    Ok(())
}

const CREATE_ERRORS: Errors = &[JSON_BODY, &[DivisionNotFound, QueueNotFound, UserNotFound]];

/// Create an interaction
///
/// What a routing engine does when a call, chat, email or message arrives. The interaction
/// starts `queued`. With `queueId`, the queue's codes are the only ones its wrap-up may use
/// and the queue's after-call-work settings apply (`routing`); `agentId` is the agent who
/// answers (or name it when it becomes `active`).
#[utoipa::path(post, path = "/api/v2/interactions", operation_id = "createInteraction", tag = "interactions",
    request_body = CreateInteraction,
    responses((status = 201, description = "The new interaction.", body = Interaction)),
    security(("oauth2" = ["interaction:manage"])),
    extensions(("x-error-codes" = json!(CREATE_ERRORS))))]
pub async fn create(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<InteractionManage>,
    ApiJson(body): ApiJson<CreateInteraction>,
) -> Result<(StatusCode, Response), ApiError> {
    visible::granted_division(store.as_ref(), &principal, body.division_id).await?;
    check_routing(
        store.as_ref(),
        &principal,
        body.division_id,
        body.queue_id,
        body.agent_id,
    )
    .await?;
    let rec = store
        .create_interaction(&NewInteraction {
            id: Uuid::new_v4(),
            division_id: body.division_id,
            channel: body.channel,
            now_ms: clock.now_ms(),
            queue_id: body.queue_id,
            agent_id: body.agent_id,
        })
        .await?;
    Ok((StatusCode::CREATED, with_etag(rec.interaction)))
}

const GET_ERRORS: Errors = &[&[InteractionNotFound]];

/// Get an interaction
///
/// The `ETag` header is the interaction's `version`.
#[utoipa::path(get, path = "/api/v2/interactions/{id}", operation_id = "getInteraction", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    responses((status = 200, description = "The interaction.", body = Interaction,
        headers(("ETag" = String, description = "The version, as a strong entity tag.")))),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(GET_ERRORS))))]
pub async fn get(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<InteractionView>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let found = visible::interaction_shared(store.as_ref(), &principal, &id).await?;
    let version = found.record.interaction.version;
    let json = [(header::CONTENT_TYPE, APPLICATION_JSON)];
    let body = SharedInteraction::body(found);
    Ok(tagged((json, body).into_response(), version))
}

const LIST_ERRORS: Errors = &[&[RequestQueryInvalid]];

/// List interactions
///
/// Interactions of the granted divisions, in creation order: oldest first, or newest first
/// with `sortOrder=desc`.
#[utoipa::path(get, path = "/api/v2/interactions", operation_id = "listInteractions", tag = "interactions",
    params(ListInteractionsQuery),
    responses((status = 200, description = "A page of interactions.", body = Page<Interaction>)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(LIST_ERRORS))))]
pub async fn list(
    State(store): State<Arc<dyn Store>>,
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
    let rows = store
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

const SET_STATE_ERRORS: Errors = &[
    &[InteractionNotFound],
    JSON_BODY,
    &[UserNotFound, InteractionTransitionInvalid],
];

/// Move an interaction through its lifecycle
///
/// `queued → active → closed`, or `queued → closed` (abandoned). Closing starts the settle
/// time; the interaction becomes `finalized` when it has passed. With `active`, `agentId`
/// names the agent who answered. Closing an interaction of a queue with a time-boxed prompt
/// also starts its timeout (`routing.wrapupDueAt`).
#[utoipa::path(post, path = "/api/v2/interactions/{id}/state", operation_id = "setInteractionState", tag = "interactions",
    params(("id" = Uuid, Path, description = "The interaction's id.")),
    request_body = SetState,
    responses((status = 200, description = "The interaction after the move.", body = Interaction)),
    security(("oauth2" = ["interaction:manage"])),
    extensions(("x-error-codes" = json!(SET_STATE_ERRORS))))]
pub async fn set_state(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    State(config): State<Arc<Config>>,
    Authorized(principal, ..): Authorized<InteractionManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetState>,
) -> Result<Response, ApiError> {
    let rec = visible::interaction(store.as_ref(), &principal, &id).await?;
    let to = InteractionState::from(body.state);
    if body.agent_id.is_some() && to != InteractionState::Active {
        return Err(ApiError::one(
            wrapup_types::ErrorDetail::new(
                RequestFieldInvalid,
                "agentId is the agent who answered: send it only with \"state\": \"active\".",
            )
            .field("agentId")
            .hint("Leave agentId out when closing."),
        ));
    }
    let division = rec.interaction.division_id;
    check_routing(store.as_ref(), &principal, division, None, body.agent_id).await?;
    let rec = store
        .set_state_by(
            rec.interaction.id,
            to,
            body.agent_id,
            clock.now_ms(),
            config.settle_ms,
        )
        .await
        .or_not_found(Resource::Interaction(&id))?;
    Ok(with_etag(rec.interaction))
}
