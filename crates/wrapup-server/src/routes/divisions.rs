//! `/api/v2/authorization/divisions`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use uuid::Uuid;
use wrapup_domain::names::check_name;
use wrapup_store::Store;
use wrapup_types::ErrorCode::*;
use wrapup_types::{CreateDivision, Division, DivisionView, EntityListing, ErrorDetail};

use crate::auth::{Admin, Authenticated, Authorized};
use crate::clock::Clock;
use crate::error::{ApiError, OrNameTaken, UniqueName};
use crate::extract::ApiJson;
use crate::listing::{listing_params, ListingQuery};
use crate::openapi::errors::{codes, JSON_BODY};

listing_params!(
    DivisionsQuery,
    "divisions",
    [PageSize, PageNumber, Cursor, SortBy, SortOrder, Name, Id]
);

/// List the divisions granted to the token
///
/// Any valid token may call this; it lists only the divisions the OAuth client is granted,
/// sorted by name (or `sortBy=id`), paged by `pageNumber` or by `cursor`.
#[utoipa::path(get, path = "/api/v2/authorization/divisions", operation_id = "listDivisions", tag = "divisions",
    params(DivisionsQuery),
    responses((status = 200, description = "The granted divisions.", body = EntityListing<DivisionView>)),
    security(("oauth2" = [])),
    extensions(("x-error-codes" = json!(codes(&[&[RequestQueryInvalid]])))))]
pub async fn list(
    State(store): State<Arc<dyn Store>>,
    Authenticated(principal): Authenticated,
    RawQuery(query): RawQuery,
) -> Result<Json<EntityListing<DivisionView>>, ApiError> {
    let q = ListingQuery::parse(query.as_deref().unwrap_or(""), DivisionsQuery::PARAMS)?;
    let found = store
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
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[JSON_BODY, &[DivisionNameConflict]])))))]
pub async fn create(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    _: Authorized<Admin>,
    ApiJson(body): ApiJson<CreateDivision>,
) -> Result<(StatusCode, Json<Division>), ApiError> {
    let name = check_name("name", &body.name).map_err(ApiError::one)?;
    let division = store
        .create_division(uuid::Uuid::new_v4(), &name, clock.now_ms())
        .await
        .or_name_taken(UniqueName::Division(&name))?;
    Ok((StatusCode::CREATED, Json(division)))
}

/// The division a request body names, in either spelling: wrapup's `divisionId` or
/// Genesys's `division: {"id": …}` (codes and queues take both); both is refused when they
/// name different divisions.
pub(crate) fn requested_division(
    division_id: Option<Uuid>,
    division: Option<Uuid>,
) -> Result<Option<Uuid>, ApiError> {
    match (division_id, division) {
        (Some(a), Some(b)) if a != b => Err(ApiError::one(
            ErrorDetail::new(
                RequestFieldInvalid,
                format!("divisionId ({a}) and division.id ({b}) name different divisions."),
            )
            .field("division")
            .hint(
                "Send the division once: divisionId (wrapup) or division: {\"id\": …} (Genesys).",
            ),
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// Refuses an update that would move `what` (`"Code"`, `"Queue"`) `id` from its division
/// `current` to another: objects stay in the division they were created in.
pub(crate) fn stays_in_division(
    what: &str,
    id: Uuid,
    current: Uuid,
    requested: Option<Uuid>,
    hint: &str,
) -> Result<(), ApiError> {
    match requested.filter(|d| *d != current) {
        Some(division) => Err(ApiError::one(
            ErrorDetail::new(
                RequestFieldInvalid,
                format!(
                    "{what} {id} is in division {current}; it cannot move to division {division}."
                ),
            )
            .field("division")
            .hint(hint),
        )),
        None => Ok(()),
    }
}

/// The names of divisions, for the views of objects that carry one (codes, queues, agents):
/// read once per division, however many objects of a page are in it. A division that is
/// gone is named `""`.
pub(crate) struct DivisionNames<'a> {
    store: &'a dyn Store,
    names: HashMap<Uuid, String>,
}

impl<'a> DivisionNames<'a> {
    pub(crate) fn new(store: &'a dyn Store) -> Self {
        DivisionNames {
            store,
            names: HashMap::new(),
        }
    }

    pub(crate) async fn name(&mut self, id: Uuid) -> Result<String, ApiError> {
        if let Some(name) = self.names.get(&id) {
            return Ok(name.clone());
        }
        let name = self
            .store
            .get_division(id)
            .await?
            .map_or_else(String::new, |d| d.name);
        self.names.insert(id, name.clone());
        Ok(name)
    }
}
