//! The answer to a path no route matches.

use axum::extract::Request;
use wrapup_types::{ErrorCode, ErrorDetail};

use crate::error::ApiError;

/// The fallback for paths no route matches.
pub async fn unknown_path(request: Request) -> ApiError {
    let path = request.uri().path().to_string();
    ApiError::one(
        ErrorDetail::new(
            ErrorCode::RequestPathUnknown,
            format!("No operation exists at {path}."),
        )
        .hint("Every API path starts with /api/v2; see GET /api/v2/openapi.json for the list."),
    )
}
