//! Injects the faults in force (see [`crate::chaos`]) into API requests: decided before
//! the request is handled, except `after-commit-reset`. A step of the `timeout` layer.

use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::future::Either;
use rand::Rng;
use wrapup_types::{ErrorCode, ErrorDetail};

use super::{ChaosSpec, ChaosSwitch, FaultLabels, CHAOS_RETRY_AFTER_MS};
use crate::error::ApiError;
use crate::metrics::Metrics;

/// A response whose body fails at once: the server drops the connection without a
/// complete answer.
fn dropped_connection() -> Response {
    let failing = futures::stream::once(async {
        Err::<axum::body::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "chaos: connection reset",
        ))
    });
    (StatusCode::OK, Body::from_stream(failing)).into_response()
}

/// Whether chaos applies to this path: the API, not the chaos switch itself, the
/// OpenAPI document, the token endpoint (so a token to turn chaos off can always be had)
/// nor the operational endpoints.
fn applies(path: &str) -> bool {
    path.starts_with("/api/v2/") && path != "/api/v2/admin/chaos" && path != "/api/v2/openapi.json"
}

/// The request's handling with the faults in force: `handle(request)` itself when none is
/// (every request but in a chaos session). What only an injected request holds (the spec,
/// the delay's timer) is in a boxed future of its own, so that it does not make every
/// request's future larger, and so slower to move.
pub fn inject<F>(
    chaos: &ChaosSwitch,
    metrics: &Arc<Metrics>,
    request: Request,
    handle: impl FnOnce(Request) -> F,
) -> impl Future<Output = Response>
where
    F: Future<Output = Response>,
{
    let spec = chaos.get();
    if spec.is_off() || !applies(request.uri().path()) {
        return Either::Left(handle(request));
    }
    Either::Right(Box::pin(injected(spec, metrics.clone(), request, handle)))
}

async fn injected<F>(
    spec: ChaosSpec,
    metrics: Arc<Metrics>,
    request: Request,
    handle: impl FnOnce(Request) -> F,
) -> Response
where
    F: Future<Output = Response>,
{
    let count = |fault: &'static str| {
        metrics
            .chaos_injected
            .get_or_create(&FaultLabels { fault })
            .inc();
    };
    let (roll, delay, after) = {
        let mut rng = rand::thread_rng();
        let delay = spec
            .delay
            .map(|(lo, hi)| if hi > lo { rng.gen_range(lo..=hi) } else { lo });
        (rng.gen::<f64>(), delay, rng.gen::<f64>())
    };
    if let Some(delay) = delay {
        count("delay");
        tokio::time::sleep(delay).await;
    }
    if roll < spec.unavailable {
        count("503");
        return ApiError::one(
            ErrorDetail::new(
                ErrorCode::ServiceUnavailable,
                "Injected by the sandbox's fault injection (--chaos): the server pretends its store is down. Nothing was changed.",
            )
            .hint("Retry with backoff: this is the fault your client must survive."),
        )
        .into_response();
    }
    if roll < spec.unavailable + spec.rate_limited {
        count("429");
        return ApiError::one(
            ErrorDetail::new(
                ErrorCode::RequestRateLimited,
                "Injected by the sandbox's fault injection (--chaos): rate limited; retry after retryAfterMs (Retry-After rounds it up to whole seconds).",
            )
            .hint("Wait for Retry-After before the next request.")
            .retry_after_ms(CHAOS_RETRY_AFTER_MS),
        )
        .into_response();
    }
    if roll < spec.unavailable + spec.rate_limited + spec.reset {
        count("reset");
        return dropped_connection();
    }
    let response = handle(request).await;
    if after < spec.after_commit_reset {
        count("after-commit-reset");
        return dropped_connection();
    }
    response
}
