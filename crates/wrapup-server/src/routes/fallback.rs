//! The answer to a path no route matches.

use axum::extract::Request;
use wrapup_types::{ErrorCode, ErrorDetail};

use crate::error::ApiError;

/// The problem of a path no route matches.
pub fn unknown_path_error(path: &str) -> ErrorDetail {
    ErrorDetail::new(
        ErrorCode::RequestPathUnknown,
        format!("No operation exists at {path}."),
    )
    .hint("Every API path starts with /api/v2; see GET /api/v2/openapi.json for the list.")
}

/// The fallback for paths no route matches.
pub async fn unknown_path(request: Request) -> ApiError {
    ApiError::one(unknown_path_error(request.uri().path()))
}
