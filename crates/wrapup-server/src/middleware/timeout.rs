//! The time limit of a request: past it, the request is abandoned and answered 503
//! `request.timeout`. A step of `observe`'s layer, and the fault injection (`chaos`) one of
//! it, not layers of their own (each layer costs every request a clone of the routes'
//! services below it), so an injected delay counts against the limit.

use std::future::Future;
use std::sync::Arc;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use wrapup_types::ErrorCode;

use crate::chaos::{inject::inject, ChaosSwitch};
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// The rest of the request (`handle`, the fault injection first) within the time limit; a
/// step of [`super::observe::Observe`]. A future built of the handling's own, not an `async`
/// function: one would hold the request and `handle` beside the future it awaits.
pub fn within_limit<F>(
    config: &Config,
    chaos: &ChaosSwitch,
    metrics: &Arc<Metrics>,
    request: Request,
    handle: impl FnOnce(Request) -> F,
) -> impl Future<Output = Response>
where
    F: Future<Output = Response>,
{
    let limit = config.request_timeout;
    tokio::time::timeout(limit, inject(chaos, metrics, request, handle)).map(move |handled| {
        handled.unwrap_or_else(|_| {
            ApiError::code(
                ErrorCode::RequestTimeout,
                format!(
                    "The request took longer than {} s and was abandoned.",
                    limit.as_secs()
                ),
            )
            .into_response()
        })
    })
}
