//! The time limit of a request: past it, the request is abandoned and answered 503
//! `request.timeout`. The fault injection (`chaos`) runs inside it as a step of the same
//! layer, not a layer of its own (each `from_fn` layer costs every request a boxed future),
//! so an injected delay counts against the limit as it did.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wrapup_types::ErrorCode;

use crate::chaos::{inject::inject, ChaosSwitch};
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

pub async fn timeout(
    State(config): State<Arc<Config>>,
    State(chaos): State<Arc<ChaosSwitch>>,
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let handled = inject(&chaos, &metrics, request, next);
    match tokio::time::timeout(config.request_timeout, handled).await {
        Ok(response) => response,
        Err(_) => ApiError::code(
            ErrorCode::RequestTimeout,
            format!(
                "The request took longer than {} s and was abandoned.",
                config.request_timeout.as_secs()
            ),
        )
        .into_response(),
    }
}
