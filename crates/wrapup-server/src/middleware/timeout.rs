//! The time limit of a request: past it, the request is abandoned and answered 503
//! `request.timeout`. The fault injection (`chaos`) runs inside it as a step of the same
//! layer, not a layer of its own (each `from_fn` layer costs every request a boxed future),
//! so an injected delay counts against the limit as it did.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wrapup_types::ErrorCode;

use crate::error::ApiError;
use crate::state::AppState;

pub async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let handled = super::chaos::inject(&state, request, next);
    match tokio::time::timeout(state.request_timeout, handled).await {
        Ok(response) => response,
        Err(_) => ApiError::code(
            ErrorCode::RequestTimeout,
            format!(
                "The request took longer than {} s and was abandoned.",
                state.request_timeout.as_secs()
            ),
        )
        .into_response(),
    }
}
