//! `/api/v2/routing/wrapupcodes`, in one shape for wrapup's client and Genesys Cloud's SDKs
//! (docs/genesys.md#wrap-up-codes): every code answered is a [`WrapUpCodeView`], the
//! listing is an [`EntityListing`] paged by `pageNumber` or by `cursor`, and the request
//! body may spell the division either way.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use uuid::Uuid;
use wrapup_domain::names::{check_description, check_name};
use wrapup_domain::Principal;
use wrapup_store::{CodeRecord, CodeSearch, Store};
use wrapup_types::ErrorCode::*;
use wrapup_types::{
    EntityListing, ErrorCode, ErrorDetail, WrapUpCode, WrapUpCodeRequest, WrapUpCodeView,
};

use crate::auth::{Authorized, CodeManage, CodeView};
use crate::clock::Clock;
use crate::error::{ApiError, OrNameTaken, OrNotFound, Resource, UniqueName};
use crate::extract::{path_id, ApiJson};
use crate::listing::{listing_params, ListingQuery};
use crate::openapi::errors::{Errors, JSON_BODY};
use crate::routes::divisions::{requested_division, stays_in_division, DivisionNames};
use crate::visible;

const PATH: &str = "/api/v2/routing/wrapupcodes";
listing_params!(
    CodesQuery,
    "codes",
    [
        PageSize,
        PageNumber,
        Cursor,
        SortBy,
        SortOrder,
        Name,
        Id,
        DivisionId,
        IncludeArchived
    ]
);

/// The views of `codes`, their divisions named (one lookup per division).
pub(crate) async fn views(
    store: &dyn Store,
    codes: Vec<WrapUpCode>,
) -> Result<Vec<WrapUpCodeView>, ApiError> {
    let mut names = DivisionNames::new(store);
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        let name = names.name(code.division_id).await?;
        out.push(WrapUpCodeView::new(code, name));
    }
    Ok(out)
}

async fn view(store: &dyn Store, code: WrapUpCode) -> Result<WrapUpCodeView, ApiError> {
    Ok(views(store, vec![code]).await?.remove(0))
}

/// The code, if the caller may see it and it is not archived (deleted); otherwise the same
/// 404 as for a code that does not exist.
async fn visible_code(
    store: &dyn Store,
    principal: &Principal,
    raw: &str,
) -> Result<CodeRecord, ApiError> {
    let id = path_id(raw, Resource::WrapUpCode)?;
    store
        .get_code(id)
        .await?
        .filter(|c| principal.sees(c.code.division_id) && !c.code.archived)
        .or_not_found(Resource::WrapUpCode(raw))
}

fn check_fields(name: &str, description: Option<&str>) -> Result<String, ApiError> {
    let mut problems = Vec::new();
    let name = check_name("name", name).map_err(|p| problems.push(p)).ok();
    if let Some(Err(p)) = description.map(check_description) {
        problems.push(p);
    }
    match name {
        Some(name) if problems.is_empty() => Ok(name),
        _ => Err(ApiError::new(problems)),
    }
}

fn field_invalid(field: &str, message: String, hint: &str) -> ApiError {
    ApiError::one(
        ErrorDetail::new(ErrorCode::RequestFieldInvalid, message)
            .field(field)
            .hint(hint),
    )
}

const LIST_ERRORS: Errors = &[&[RequestQueryInvalid]];

/// List wrap-up codes
///
/// Codes of the divisions granted to the token, sorted by name (or `sortBy=id`). Deleted
/// (archived) codes are left out unless `includeArchived=true`, the one place they can still
/// be seen. Page with `pageNumber` or with `cursor`; both are answered with the Genesys page
/// fields and `nextCursor`.
#[utoipa::path(get, path = "/api/v2/routing/wrapupcodes", operation_id = "listWrapUpCodes", tag = "wrapup-codes",
    params(CodesQuery),
    responses((status = 200, description = "A page of codes.", body = EntityListing<WrapUpCodeView>)),
    security(("oauth2" = ["wrapup-code:view"])),
    extensions(("x-error-codes" = json!(LIST_ERRORS))))]
pub async fn list(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<CodeView>,
    RawQuery(query): RawQuery,
) -> Result<Json<EntityListing<WrapUpCodeView>>, ApiError> {
    let q = ListingQuery::parse(query.as_deref().unwrap_or(""), CodesQuery::PARAMS)?;
    let search = CodeSearch {
        search: q.search(),
        divisions: q.division_ids.clone(),
        include_archived: q.include_archived,
    };
    let found = store.search_codes(&principal.divisions, &search).await?;
    let codes = views(
        store.as_ref(),
        found.items.into_iter().map(|r| r.code).collect(),
    )
    .await?;
    Ok(Json(q.listing(
        PATH,
        wrapup_store::Found {
            total: found.total,
            items: codes,
        },
    )))
}

const CREATE_ERRORS: Errors = &[JSON_BODY, &[DivisionNotFound, WrapupCodeNameConflict]];

/// Create a wrap-up code
///
/// The division is `divisionId` (wrapup) or `division.id` (Genesys `WrapupCodeRequest`).
#[utoipa::path(post, path = "/api/v2/routing/wrapupcodes", operation_id = "createWrapUpCode", tag = "wrapup-codes",
    request_body = WrapUpCodeRequest,
    responses((status = 201, description = "The new code.", body = WrapUpCodeView)),
    security(("oauth2" = ["wrapup-code:manage"])),
    extensions(("x-error-codes" = json!(CREATE_ERRORS))))]
pub async fn create(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<CodeManage>,
    ApiJson(body): ApiJson<WrapUpCodeRequest>,
) -> Result<(StatusCode, Json<WrapUpCodeView>), ApiError> {
    let name = check_fields(&body.name, body.description.as_deref())?;
    let division_id = requested_division(body.division_id, body.division.as_ref().map(|d| d.id))?
        .ok_or_else(|| {
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestFieldMissing,
                "divisionId is required and was not sent.",
            )
            .field("divisionId")
            .hint("Send the code's division as divisionId, or as division: {\"id\": …} (Genesys)."),
        )
    })?;
    visible::granted_division(store.as_ref(), &principal, division_id).await?;
    let now = wrapup_types::timestamp::from_millis(clock.now_ms());
    let code = WrapUpCode {
        id: Uuid::new_v4(),
        name: name.clone(),
        division_id,
        description: body.description,
        archived: false,
        date_created: now,
        date_modified: now,
        created_by: Some(principal.client_id),
    };
    let rec = store
        .create_code(&code)
        .await
        .or_name_taken(UniqueName::WrapUpCode(&name))?;
    Ok((
        StatusCode::CREATED,
        Json(view(store.as_ref(), rec.code).await?),
    ))
}

const GET_ERRORS: Errors = &[&[WrapupCodeNotFound]];

/// Get a wrap-up code
///
/// A deleted (archived) code is not found here (404); it stays in the wrap-up history and
/// in listings with `includeArchived=true`.
#[utoipa::path(get, path = "/api/v2/routing/wrapupcodes/{codeId}", operation_id = "getWrapUpCode", tag = "wrapup-codes",
    params(("codeId" = Uuid, Path, description = "The code's id.")),
    responses((status = 200, description = "The code.", body = WrapUpCodeView)),
    security(("oauth2" = ["wrapup-code:view"])),
    extensions(("x-error-codes" = json!(GET_ERRORS))))]
pub async fn get(
    State(store): State<Arc<dyn Store>>,
    Authorized(principal, ..): Authorized<CodeView>,
    Path(id): Path<String>,
) -> Result<Json<WrapUpCodeView>, ApiError> {
    let rec = visible_code(store.as_ref(), &principal, &id).await?;
    Ok(Json(view(store.as_ref(), rec.code).await?))
}

const UPDATE_ERRORS: Errors = &[&[WrapupCodeNotFound], JSON_BODY, &[WrapupCodeNameConflict]];

/// Rename or describe a wrap-up code
///
/// The body may be the code as read, edited: read-only fields are ignored, and the
/// division, if sent, must be the code's (codes do not move between divisions).
#[utoipa::path(put, path = "/api/v2/routing/wrapupcodes/{codeId}", operation_id = "updateWrapUpCode", tag = "wrapup-codes",
    params(("codeId" = Uuid, Path, description = "The code's id.")),
    request_body = WrapUpCodeRequest,
    responses((status = 200, description = "The updated code.", body = WrapUpCodeView)),
    security(("oauth2" = ["wrapup-code:manage"])),
    extensions(("x-error-codes" = json!(UPDATE_ERRORS))))]
pub async fn update(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<CodeManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WrapUpCodeRequest>,
) -> Result<Json<WrapUpCodeView>, ApiError> {
    let existing = visible_code(store.as_ref(), &principal, &id).await?.code;
    let name = check_fields(&body.name, body.description.as_deref())?;
    if let Some(sent) = body.id.filter(|sent| *sent != existing.id) {
        return Err(field_invalid(
            "id",
            format!("id is {sent}, but the path names code {}.", existing.id),
            "Leave id out, or send the id of the code being updated.",
        ));
    }
    stays_in_division(
        "Code",
        existing.id,
        existing.division_id,
        requested_division(body.division_id, body.division.as_ref().map(|d| d.id))?,
        "Create a code in the other division instead, and delete this one if it is no longer needed.",
    )?;
    let rec = store
        .update_code(
            existing.id,
            &name,
            body.description.as_deref(),
            clock.now_ms(),
        )
        .await
        .or_name_taken(UniqueName::WrapUpCode(&name))?;
    Ok(Json(view(store.as_ref(), rec.code).await?))
}

const ARCHIVE_ERRORS: Errors = &[&[WrapupCodeNotFound]];

/// Delete a wrap-up code
///
/// The code can no longer be applied (`wrapup.code.archived`), read (404) or listed
/// (unless `includeArchived=true`): it is archived, not erased, so the wrap-ups that used
/// it keep its name in their history, and its name is free for a new code. A code already
/// deleted is not found (404), as in Genesys Cloud.
#[utoipa::path(delete, path = "/api/v2/routing/wrapupcodes/{codeId}", operation_id = "archiveWrapUpCode", tag = "wrapup-codes",
    params(("codeId" = Uuid, Path, description = "The code's id.")),
    responses((status = 204, description = "Deleted (archived).")),
    security(("oauth2" = ["wrapup-code:manage"])),
    extensions(("x-error-codes" = json!(ARCHIVE_ERRORS))))]
pub async fn archive(
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn Clock>>,
    Authorized(principal, ..): Authorized<CodeManage>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let existing = visible_code(store.as_ref(), &principal, &id).await?;
    store
        .archive_code(existing.code.id, clock.now_ms())
        .await
        .or_not_found(Resource::WrapUpCode(&id))?;
    Ok(StatusCode::NO_CONTENT)
}
