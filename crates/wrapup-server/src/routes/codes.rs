//! `/api/v2/routing/wrapupcodes`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use wrapup_domain::names::{check_description, check_name};
use wrapup_domain::Principal;
use wrapup_store::{CodeFilter, CodeRecord};
use wrapup_types::{CreateWrapUpCode, Page, UpdateWrapUpCode, WrapUpCode};

use crate::auth::{Authorized, CodeManage, CodeView};
use crate::error::{ApiError, OrNameTaken, OrNotFound, Resource, UniqueName};
use crate::extract::{path_id, ApiJson, ApiQuery};
use crate::pagination::{page, page_request};
use crate::routes::divisions::require_granted;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCodesQuery {
    /// Only codes of this division.
    division_id: Option<Uuid>,
    /// Only the code with this exact name, ignoring case.
    name: Option<String>,
    /// Include deleted (archived) codes (default false): the one way to see them.
    include_archived: Option<bool>,
    /// Entities per page, 1 to 500 (default 25).
    #[param(minimum = 1, maximum = 500)]
    page_size: Option<u32>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// The code, if the caller may see it and it is not archived (deleted); otherwise the same
/// 404 as for a code that does not exist.
async fn visible_code(
    state: &AppState,
    principal: &Principal,
    raw: &str,
) -> Result<CodeRecord, ApiError> {
    let id = path_id(raw, Resource::WrapUpCode)?;
    state
        .store
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

/// List wrap-up codes
///
/// Lists the codes of the divisions granted to the token. Deleted (archived) codes are
/// left out unless `includeArchived=true`, the one place they can still be seen.
#[utoipa::path(get, path = "/api/v2/routing/wrapupcodes", operation_id = "listWrapUpCodes", tag = "wrapup-codes",
    params(ListCodesQuery),
    responses((status = 200, description = "A page of codes.", body = Page<WrapUpCode>)),
    security(("oauth2" = ["wrapup-code:view"])))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<CodeView>,
    ApiQuery(q): ApiQuery<ListCodesQuery>,
) -> Result<Json<Page<WrapUpCode>>, ApiError> {
    let (request, size) = page_request(q.page_size, q.cursor.as_deref())?;
    let filter = CodeFilter {
        division: q.division_id,
        name: q.name,
        include_archived: q.include_archived.unwrap_or(false),
    };
    let rows = state
        .store
        .list_codes(&principal.divisions, &filter, request)
        .await?;
    Ok(Json(page(rows, size, |r| r.seq, |r| r.code)))
}

/// Create a wrap-up code
#[utoipa::path(post, path = "/api/v2/routing/wrapupcodes", operation_id = "createWrapUpCode", tag = "wrapup-codes",
    request_body = CreateWrapUpCode,
    responses((status = 201, description = "The new code.", body = WrapUpCode)),
    security(("oauth2" = ["wrapup-code:manage"])))]
pub async fn create(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<CodeManage>,
    ApiJson(body): ApiJson<CreateWrapUpCode>,
) -> Result<(StatusCode, Json<WrapUpCode>), ApiError> {
    let name = check_fields(&body.name, body.description.as_deref())?;
    require_granted(&state, &principal, body.division_id).await?;
    let now = wrapup_types::timestamp::from_millis(state.clock.now_ms());
    let code = WrapUpCode {
        id: Uuid::new_v4(),
        name: name.clone(),
        division_id: body.division_id,
        description: body.description,
        archived: false,
        date_created: now,
        date_modified: now,
    };
    let rec = state
        .store
        .create_code(&code)
        .await
        .or_name_taken(UniqueName::WrapUpCode(&name))?;
    Ok((StatusCode::CREATED, Json(rec.code)))
}

/// Get a wrap-up code
///
/// A deleted (archived) code is not found here (404); it stays in the wrap-up history and
/// in listings with `includeArchived=true`.
#[utoipa::path(get, path = "/api/v2/routing/wrapupcodes/{codeId}", operation_id = "getWrapUpCode", tag = "wrapup-codes",
    params(("codeId" = Uuid, Path, description = "The code's id.")),
    responses((status = 200, description = "The code.", body = WrapUpCode)),
    security(("oauth2" = ["wrapup-code:view"])))]
pub async fn get(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<CodeView>,
    Path(id): Path<String>,
) -> Result<Json<WrapUpCode>, ApiError> {
    Ok(Json(visible_code(&state, &principal, &id).await?.code))
}

/// Rename or describe a wrap-up code
#[utoipa::path(put, path = "/api/v2/routing/wrapupcodes/{codeId}", operation_id = "updateWrapUpCode", tag = "wrapup-codes",
    params(("codeId" = Uuid, Path, description = "The code's id.")),
    request_body = UpdateWrapUpCode,
    responses((status = 200, description = "The updated code.", body = WrapUpCode)),
    security(("oauth2" = ["wrapup-code:manage"])))]
pub async fn update(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<CodeManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateWrapUpCode>,
) -> Result<Json<WrapUpCode>, ApiError> {
    let existing = visible_code(&state, &principal, &id).await?;
    let name = check_fields(&body.name, body.description.as_deref())?;
    let rec = state
        .store
        .update_code(
            existing.code.id,
            &name,
            body.description.as_deref(),
            state.clock.now_ms(),
        )
        .await
        .or_name_taken(UniqueName::WrapUpCode(&name))?;
    Ok(Json(rec.code))
}

/// Delete a wrap-up code
///
/// The code can no longer be applied (`wrapup.code.archived`), read (404) or listed
/// (unless `includeArchived=true`): it is archived, not erased, so the wrap-ups that used
/// it keep its name in their history, and its name is free for a new code. A code already
/// deleted is not found (404).
#[utoipa::path(delete, path = "/api/v2/routing/wrapupcodes/{codeId}", operation_id = "archiveWrapUpCode", tag = "wrapup-codes",
    params(("codeId" = Uuid, Path, description = "The code's id.")),
    responses((status = 204, description = "Deleted (archived).")),
    security(("oauth2" = ["wrapup-code:manage"])))]
pub async fn archive(
    State(state): State<AppState>,
    Authorized(principal, ..): Authorized<CodeManage>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let existing = visible_code(&state, &principal, &id).await?;
    state
        .store
        .archive_code(existing.code.id, state.clock.now_ms())
        .await
        .or_not_found(Resource::WrapUpCode(&id))?;
    Ok(StatusCode::NO_CONTENT)
}
