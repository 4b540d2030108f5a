//! The per-client rate limit, for requests `authenticate` let through (it runs just inside
//! it, and only when a limit is configured): takes one request from the client's bucket,
//! leaves the decision in the [`RequestContext`] (for the `RateLimit-*` headers every
//! response then carries) and answers 429 `request.rate.limited` when the bucket is empty,
//! before the handler looks at anything else of the request.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};
use wrapup_types::{ErrorCode, ErrorDetail};

use super::{answer, pass, PassOrAnswer};
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::ratelimit::{RateLimitDecision, RateLimiter};
use crate::request_context::RequestContext;
use crate::state::AppState;

/// Puts [`RateLimit`] in front of a route.
#[derive(Clone)]
pub struct RateLimitLayer(pub AppState);

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            state: self.0.clone(),
            inner,
        }
    }
}

/// See the module docs.
#[derive(Clone)]
pub struct RateLimit<S> {
    state: AppState,
    inner: S,
}

impl<S> Service<Request> for RateLimit<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = PassOrAnswer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let Some(Authenticated(principal)) = request.extensions().get::<Authenticated>() else {
            // Not authenticated (not behind `authenticate`): nothing to count against.
            return pass(self.inner.call(request));
        };
        let limiter = &self.state.rate_limiter;
        let Some(decision) = limiter.take(principal.client_id, self.state.clock.now_ms()) else {
            return pass(self.inner.call(request));
        };
        if let Some(context) = request.extensions().get::<RequestContext>() {
            context.update(|facts| facts.rate = Some(decision));
        }
        if decision.allowed {
            return pass(self.inner.call(request));
        }
        self.state.metrics.rate_limited.inc();
        answer(rate_limited(limiter, decision))
    }
}

/// The 429 for a refused `decision` (also what `POST /api/v2/interactions/wrap-ups`
/// answers when its items exceed the budget left).
pub(crate) fn rate_limited(limiter: &RateLimiter, decision: RateLimitDecision) -> ApiError {
    let limit = limiter.limit().map(|l| l.to_string()).unwrap_or_default();
    let seconds = decision.retry_after_ms.div_ceil(1000).max(1);
    ApiError::one(
        ErrorDetail::new(
            ErrorCode::RequestRateLimited,
            format!(
                "This OAuth client exceeded its rate limit of {limit}; retry in {seconds} s (Retry-After)."
            ),
        )
        .hint("Wait for Retry-After seconds before the next request; RateLimit-Remaining shows the budget left. Spread batch work over time or ask the operator for a higher --rate-limit.")
        .retry_after_ms(decision.retry_after_ms),
    )
}
