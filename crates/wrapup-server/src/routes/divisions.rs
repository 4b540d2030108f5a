//! `/api/v2/authorization/divisions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use wrapup_domain::names::check_name;
use wrapup_domain::Principal;
use wrapup_types::{CreateDivision, Division, Page};

use crate::auth::{Admin, Authenticated, Authorized};
use crate::error::{ApiError, OrNameTaken, Resource, UniqueName};
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{page, page_request};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDivisionsQuery {
    /// Entities per page, 1 to 500 (default 25).
    #[param(minimum = 1, maximum = 500)]
    page_size: Option<u32>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// Checks that a division named in a body exists and is granted to the caller; both
/// failures get the same answer, so the existence of other divisions is not revealed.
pub async fn require_granted(
    state: &AppState,
    principal: &Principal,
    id: uuid::Uuid,
) -> Result<(), ApiError> {
    if principal.sees(id) && state.store.get_division(id).await?.is_some() {
        return Ok(());
    }
    Err(ApiError::not_found(Resource::GrantedDivision(id)))
}

/// List the divisions granted to the token
///
/// Any valid token may call this; it lists only the divisions the OAuth client is granted.
#[utoipa::path(get, path = "/api/v2/authorization/divisions", operation_id = "listDivisions", tag = "divisions",
    params(ListDivisionsQuery),
    responses((status = 200, description = "The granted divisions.", body = Page<Division>)),
    security(("oauth2" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(q): ApiQuery<ListDivisionsQuery>,
) -> Result<Json<Page<Division>>, ApiError> {
    let (request, size) = page_request(q.page_size, q.cursor.as_deref())?;
    let rows = state
        .store
        .list_divisions(&principal.divisions, request)
        .await?;
    Ok(Json(page(rows, size, |(seq, _)| *seq, |(_, d)| d)))
}

/// Create a division
#[utoipa::path(post, path = "/api/v2/authorization/divisions", operation_id = "createDivision", tag = "divisions",
    request_body = CreateDivision,
    responses((status = 201, description = "The new division.", body = Division)),
    security(("oauth2" = ["admin"])))]
pub async fn create(
    State(state): State<AppState>,
    _: Authorized<Admin>,
    ApiJson(body): ApiJson<CreateDivision>,
) -> Result<(StatusCode, Json<Division>), ApiError> {
    let name = check_name("name", &body.name).map_err(ApiError::one)?;
    let division = state
        .store
        .create_division(uuid::Uuid::new_v4(), &name, state.clock.now_ms())
        .await
        .or_name_taken(UniqueName::Division(&name))?;
    Ok((StatusCode::CREATED, Json(division)))
}
