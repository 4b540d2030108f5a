//! The one place API errors become responses.
//!
//! Handlers return [`ApiError`] (a status and every problem found). Its response carries
//! the problems as an extension; [`render_errors`], the outermost middleware, turns them
//! into the error envelope with the request's `contextId`. Responses the router makes by
//! itself (unknown path, method not allowed) get their envelope there too, so every
//! non-2xx response under `/api/v2` has the same body.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wrapup_store::StoreError;
use wrapup_types::{ErrorBody, ErrorCode, ErrorDetail};

use crate::request_id::RequestId;

/// An API error: the HTTP status and every problem found, first one first.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub details: Vec<ErrorDetail>,
}

impl ApiError {
    /// An error whose status is that of the first problem's code.
    pub fn new(details: Vec<ErrorDetail>) -> ApiError {
        let status = details
            .first()
            .map(|d| StatusCode::from_u16(d.error_code.status()).unwrap_or(StatusCode::BAD_REQUEST))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError { status, details }
    }

    pub fn one(detail: ErrorDetail) -> ApiError {
        ApiError::new(vec![detail])
    }

    pub fn code(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::one(ErrorDetail::new(code, message))
    }

    pub fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "{context}");
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::InternalError,
                "The server failed unexpectedly while handling the request.",
            )
            .hint("Retry the request; if it keeps failing, report the contextId to the operator."),
        )
    }

    pub fn unavailable(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "store unavailable");
        ApiError::one(
            ErrorDetail::new(
                ErrorCode::ServiceUnavailable,
                "The store is not answering; nothing was changed.",
            )
            .hint("Retry with backoff."),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Rejected(details) => ApiError::new(details),
            StoreError::Database(_) | StoreError::Closed => ApiError::unavailable(e),
            StoreError::NotFound | StoreError::Conflict(_) => {
                ApiError::internal("unmapped store error", e)
            }
        }
    }
}

/// The problems of a response whose body is still to be rendered.
#[derive(Clone)]
struct PendingError(Vec<ErrorDetail>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if let Some(ms) = self.details.iter().find_map(|d| d.retry_after_ms) {
            let seconds = ms.div_ceil(1000).max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(PendingError(self.details));
        response
    }
}

/// Renders the error envelope of every error response (see the module docs).
pub async fn render_errors(request: Request, next: Next) -> Response {
    let context_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let api = request.uri().path().starts_with("/api/");
    let method = request.method().clone();
    let mut response = next.run(request).await;
    let status = response.status();
    let details = match response.extensions_mut().remove::<PendingError>() {
        Some(PendingError(details)) => details,
        None if api && status == StatusCode::METHOD_NOT_ALLOWED => {
            vec![ErrorDetail::new(
                ErrorCode::RequestMethodUnsupported,
                format!("This path does not support the {method} method; the Allow header lists those it supports."),
            )
            .hint("Check the method in the API reference (GET /api/v2/openapi.json).")]
        }
        None if api
            && (status.is_client_error() || status.is_server_error())
            && body_is_empty(&response) =>
        {
            vec![ErrorDetail::new(
                ErrorCode::InternalError,
                format!("The request failed with status {status}."),
            )]
        }
        None => return response,
    };
    let first = details
        .first()
        .cloned()
        .unwrap_or_else(|| ErrorDetail::new(ErrorCode::InternalError, ""));
    let body = ErrorBody {
        status: status.as_u16(),
        code: first.error_code,
        message: first.message,
        context_id,
        details,
        errors: Vec::new(),
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}

fn body_is_empty(response: &Response) -> bool {
    use http_body::Body as _;
    response.body().size_hint().exact() == Some(0)
}

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
