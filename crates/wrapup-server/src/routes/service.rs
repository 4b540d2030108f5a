//! `/healthz`, `/api/v2` (the index) and `/api/v2/openapi.json`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use wrapup_types::{ApiIndex, Health};

use std::sync::Arc;

use wrapup_store::Store;

use crate::state::ApiDocument;

/// Health check
///
/// 200 once the store answers; 503 otherwise.
#[utoipa::path(get, path = "/healthz", operation_id = "health", tag = "operations",
    responses(
        (status = 200, description = "The server and its store are up.", body = Health, example = json!({"status": "ok"})),
        (status = 503, description = "The store is not answering.", body = Health, example = json!({"status": "unavailable"})),
    ),
    security(()))]
pub async fn healthz(State(store): State<Arc<dyn Store>>) -> (StatusCode, Json<Health>) {
    match store.health().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok".into(),
            }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable".into(),
                }),
            )
        }
    }
}

/// The OpenAPI 3.1 document of this API
#[utoipa::path(get, path = "/api/v2/openapi.json", operation_id = "getOpenApi", tag = "operations",
    responses((status = 200, description = "This document.", content_type = "application/json")),
    security(()))]
pub async fn openapi(State(document): State<Arc<ApiDocument>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.json.clone(),
    )
        .into_response()
}

/// The API's entry points
///
/// Every operation with its summary, and where the full description is: where to start
/// when all you know is the server's address.
#[utoipa::path(get, path = "/api/v2", operation_id = "getApiIndex", tag = "operations",
    responses((status = 200, description = "The operations of this API.", body = ApiIndex)),
    security(()))]
pub async fn api_index(State(document): State<Arc<ApiDocument>>) -> Json<ApiIndex> {
    Json(document.index.clone())
}
