//! `/api/v2/users`: the agents who answer interactions (docs/api.md#queues-and-agents), in
//! Genesys Cloud's `User` shape (the fields the SDKs' model needs). Agents are created with
//! wrapup's own `POST /api/v2/users` (or `wrapup users create`); Genesys's user management
//! is not emulated.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use uuid::Uuid;
use wrapup_domain::names::check_name;
use wrapup_domain::routing::check_email;
use wrapup_domain::Principal;
use wrapup_store::{Found, Store, UserRecord};
use wrapup_types::genesys::DivisionRef;
use wrapup_types::ErrorCode::*;
use wrapup_types::{CreateUser, EntityListing, User, UserState};

use crate::auth::{Admin, Authorized, InteractionView};
use crate::clock::Clock;
use crate::error::{ApiError, OrNotFound, Resource};
use crate::extract::{path_id, ApiJson};
use crate::listing::{listing_params, ListingQuery};
use crate::openapi::errors::{Errors, JSON_BODY};
use crate::routes::divisions::DivisionNames;
use crate::visible;

const PATH: &str = "/api/v2/users";
listing_params!(
    UsersQuery,
    "agents",
    [PageSize, PageNumber, Cursor, SortOrder, Id]
);

/// An agent as the API shows it, its division named.
pub(crate) async fn view(names: &mut DivisionNames<'_>, u: UserRecord) -> Result<User, ApiError> {
    let division = names.name(u.division_id).await?;
    Ok(User {
        self_uri: format!("{PATH}/{}", u.id),
        id: u.id,
        name: u.name,
        email: u.email,
        division: DivisionRef::new(u.division_id, division),
        state: u.state,
    })
}

/// The agent `id`, if the caller may see it.
pub(crate) async fn visible_user(
    store: &dyn Store,
    principal: &Principal,
    id: Uuid,
) -> Result<Option<UserRecord>, ApiError> {
    Ok(store
        .get_user(id)
        .await?
        .filter(|u| principal.sees(u.division_id)))
}

const LIST_ERRORS: Errors = &[&[RequestQueryInvalid]];

/// List agents
///
/// Agents of the divisions granted to the token, by name (Genesys `UserEntityListing`).
#[utoipa::path(get, path = "/api/v2/users", operation_id = "getUsers", tag = "users",
    params(UsersQuery),
    responses((status = 200, description = "A page of agents.", body = EntityListing<User>)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(LIST_ERRORS))))]
pub async fn list(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<InteractionView>,
    RawQuery(query): RawQuery,
) -> Result<Json<EntityListing<User>>, ApiError> {
    let q = ListingQuery::parse(query.as_deref().unwrap_or(""), UsersQuery::PARAMS)?;
    let found = store
        .search_users(&principal.divisions, &q.search())
        .await?;
    let mut names = DivisionNames::new(store.as_ref());
    let mut users = Vec::with_capacity(found.items.len());
    for rec in found.items {
        users.push(view(&mut names, rec).await?);
    }
    Ok(Json(q.listing(
        PATH,
        Found {
            total: found.total,
            items: users,
        },
    )))
}

const CREATE_ERRORS: Errors = &[JSON_BODY, &[DivisionNotFound]];

/// Create an agent
///
/// wrapup's own operation (Genesys manages users elsewhere): an agent, in a division,
/// that interactions can name as the one who answered.
#[utoipa::path(post, path = "/api/v2/users", operation_id = "createUser", tag = "users",
    request_body = CreateUser,
    responses((status = 201, description = "The new agent.", body = User)),
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(CREATE_ERRORS))))]
pub async fn create(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<Admin>,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let mut problems = Vec::new();
    let name = check_name("name", &body.name)
        .map_err(|p| problems.push(p))
        .ok();
    if let Err(p) = check_email(&body.email) {
        problems.push(p);
    }
    let Some(name) = name.filter(|_| problems.is_empty()) else {
        return Err(ApiError::new(problems));
    };
    visible::granted_division(store.as_ref(), &principal, body.division_id).await?;
    let rec = UserRecord {
        seq: 0,
        id: Uuid::new_v4(),
        name,
        email: body.email,
        division_id: body.division_id,
        state: UserState::Active,
        created_ms: clock.now_ms(),
    };
    let rec = store.create_user(&rec).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&mut DivisionNames::new(store.as_ref()), rec).await?),
    ))
}

const GET_ERRORS: Errors = &[&[UserNotFound]];

/// Get an agent
#[utoipa::path(get, path = "/api/v2/users/{userId}", operation_id = "getUser", tag = "users",
    params(("userId" = Uuid, Path, description = "The agent's id.")),
    responses((status = 200, description = "The agent.", body = User)),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(GET_ERRORS))))]
pub async fn get(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<InteractionView>,
    Path(raw): Path<String>,
) -> Result<Json<User>, ApiError> {
    let id = path_id(&raw, Resource::User)?;
    let rec = visible_user(store.as_ref(), &principal, id)
        .await?
        .or_not_found(Resource::User(&raw))?;
    Ok(Json(
        view(&mut DivisionNames::new(store.as_ref()), rec).await?,
    ))
}
