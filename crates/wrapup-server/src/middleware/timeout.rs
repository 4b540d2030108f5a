//! The time limit of a request: past it, the request is abandoned and answered 503
//! `request.timeout`. A step of `observe`'s layer, and the fault injection (`chaos`) one of
//! it, not layers of their own (each `from_fn` layer costs every request a boxed future and
//! a clone of the routes' services below it), so an injected delay counts against the limit.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wrapup_types::ErrorCode;

use crate::chaos::{inject::inject, ChaosSwitch};
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Runs the rest of the request (`next`, the fault injection first) within the time limit;
/// a step of [`super::observe::observe`].
pub async fn within_limit(
    config: &Config,
    chaos: &ChaosSwitch,
    metrics: &Metrics,
    request: Request,
    next: Next,
) -> Response {
    let handled = inject(chaos, metrics, request, next);
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
