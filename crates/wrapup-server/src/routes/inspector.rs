//! `GET /api/v2/inspector/requests`: the recent requests the inspector keeps.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use wrapup_types::{ErrorCode, ErrorDetail, InspectedRequest, Page};

use crate::auth::{Admin, Authorized};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::inspector::{StatusFilter, MAX_LIMIT};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InspectorQuery {
    /// How many requests to return, newest first: 1 to 1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Only requests with this status (`404`) or status class (`4xx`).
    #[param(value_type = Option<String>, example = "4xx")]
    status: Option<StatusFilter>,
    /// Only requests whose path starts with this, e.g. `/api/v2/interactions`.
    path: Option<String>,
}

/// Recent requests (the request inspector)
///
/// The most recent requests the server received (a ring buffer, 1000 by default, set with
/// `wrapup serve --inspector-capacity`), newest first: time, method, path, status,
/// latency, the request headers with credentials redacted, the request body cut at 16 KiB,
/// and the error body sent back. Requests to the inspector, `/metrics` and `/healthz` are
/// not recorded. The list is not paginated: `limit` bounds it.
#[utoipa::path(get, path = "/api/v2/inspector/requests", operation_id = "listInspectedRequests", tag = "operations",
    params(InspectorQuery),
    responses((status = 200, description = "Recent requests, newest first; `nextCursor` is always null.", body = Page<InspectedRequest>)),
    security(("oauth2" = ["admin"])))]
pub async fn list_requests(
    State(state): State<AppState>,
    _admin: Authorized<Admin>,
    ApiQuery(query): ApiQuery<InspectorQuery>,
) -> Result<Json<Page<InspectedRequest>>, ApiError> {
    if let Some(limit) = query.limit {
        if !(1..=MAX_LIMIT as u32).contains(&limit) {
            return Err(ApiError::one(
                ErrorDetail::new(
                    ErrorCode::RequestQueryInvalid,
                    format!("limit must be from 1 to {MAX_LIMIT}; got {limit}."),
                )
                .field("limit")
                .hint("Leave limit out for the 100 most recent requests."),
            ));
        }
    }
    Ok(Json(Page {
        entities: state.inspector.recent(
            query.limit.unwrap_or(100) as usize,
            query.status,
            query.path.as_deref(),
        ),
        next_cursor: None,
    }))
}
