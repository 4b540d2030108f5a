//! `/api/v2/authorization/divisions`.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa::IntoParams;
use wrapup_domain::names::check_name;
use wrapup_domain::Principal;
use wrapup_types::{CreateDivision, Division, DivisionView, EntityListing};

use crate::auth::{Admin, Authenticated, Authorized};
use crate::error::{ApiError, OrNameTaken, Resource, UniqueName};
use crate::extract::ApiJson;
use crate::listing::{ListingQuery, Param};
use crate::state::AppState;

const LIST_PARAMS: &[Param] = &[
    Param::PageSize,
    Param::PageNumber,
    Param::Cursor,
    Param::SortBy,
    Param::SortOrder,
    Param::Name,
    Param::Id,
];

/// The query parameters of `GET /api/v2/authorization/divisions`, for the OpenAPI document
/// (the handler reads them with [`ListingQuery`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ListDivisionsQuery {
    /// Entities per page, 1 to 500 (default 25).
    #[param(minimum = 1, maximum = 500)]
    page_size: Option<u32>,
    /// The page, from 1 (default 1). Not with `cursor`.
    #[param(minimum = 1, maximum = 1_000_000_000)]
    page_number: Option<u64>,
    /// The `nextCursor` of the previous page. Not with `pageNumber`.
    cursor: Option<String>,
    /// `name` (default) or `id`.
    #[param(inline)]
    sort_by: Option<crate::listing::SortBy>,
    /// `ascending` (default) or `descending`.
    #[param(inline)]
    sort_order: Option<crate::listing::SortOrder>,
    /// Only divisions with this name, ignoring case; `*` matches any run of characters.
    name: Option<String>,
    /// Only these divisions: ids, comma-separated or the parameter repeated.
    id: Option<Vec<uuid::Uuid>>,
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
/// Any valid token may call this; it lists only the divisions the OAuth client is granted,
/// sorted by name (or `sortBy=id`), paged by `pageNumber` or by `cursor`.
#[utoipa::path(get, path = "/api/v2/authorization/divisions", operation_id = "listDivisions", tag = "divisions",
    params(ListDivisionsQuery),
    responses((status = 200, description = "The granted divisions.", body = EntityListing<DivisionView>)),
    security(("oauth2" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    RawQuery(query): RawQuery,
) -> Result<Json<EntityListing<DivisionView>>, ApiError> {
    let q = ListingQuery::parse(query.as_deref().unwrap_or(""), LIST_PARAMS)?;
    let found = state
        .store
        .search_divisions(&principal.divisions, &q.search())
        .await?;
    let found = wrapup_store::Found {
        total: found.total,
        items: found.items.into_iter().map(DivisionView::from).collect(),
    };
    Ok(Json(q.listing("/api/v2/authorization/divisions", found)))
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
