//! The time limit of a request: past it, the request is abandoned and answered 503
//! `request.timeout`. A step of `observe`'s layer, and the fault injection (`chaos`) one of
//! it, not layers of their own (each layer costs every request a clone of the routes'
//! services below it), so an injected delay counts against the limit.

use std::future::Future;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use wrapup_types::ErrorCode;

use crate::chaos::{inject::inject, ChaosSwitch};
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Runs the rest of the request (`handle`, the fault injection first) within the time limit;
/// a step of [`super::observe::Observe`].
pub async fn within_limit<F>(
    config: &Config,
    chaos: &ChaosSwitch,
    metrics: &Metrics,
    request: Request,
    handle: impl FnOnce(Request) -> F,
) -> Response
where
    F: Future<Output = Response>,
{
    let handled = inject(chaos, metrics, request, handle);
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
