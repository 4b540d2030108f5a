//! The per-client rate limit, for requests `authenticate` admitted (it runs just inside it,
//! and only when a limit is configured): takes one request from the client's bucket,
//! leaves the decision in the [`RequestContext`] (for the `RateLimit-*` headers every
//! response then carries) and answers 429 `request.rate.limited` when the bucket is empty,
//! before the handler looks at anything else of the request.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};
use wrapup_types::{ErrorCode, ErrorDetail};

use super::{RateLimitDecision, RateLimiter};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::middleware::context::RequestContext;
use crate::middleware::{answer, pass, PassOrAnswer};
use crate::state::AppState;

/// Puts [`Charge`] in front of a route.
#[derive(Clone)]
pub struct ChargeLayer {
    limiter: Arc<RateLimiter>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
}

impl ChargeLayer {
    /// The layer, when the server has a rate limit.
    pub fn when_limited(state: &AppState) -> Option<ChargeLayer> {
        state.rate_limiter.limit().is_some().then(|| ChargeLayer {
            limiter: state.rate_limiter.clone(),
            clock: state.clock.clone(),
            metrics: state.observability.metrics.clone(),
        })
    }
}

impl<S> Layer<S> for ChargeLayer {
    type Service = Charge<S>;

    fn layer(&self, inner: S) -> Charge<S> {
        Charge {
            parts: self.clone(),
            inner,
        }
    }
}

/// Charges a request to its client's bucket (see the module docs).
#[derive(Clone)]
pub struct Charge<S> {
    parts: ChargeLayer,
    inner: S,
}

impl<S> Service<Request> for Charge<S>
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
        let context = request.extensions().get::<RequestContext>();
        let Some((context, client_id)) = context.and_then(|c| Some((c, c.facts().client_id?)))
        else {
            // Not authenticated: a method its path does not have, which `authenticate` let
            // through to the router's 405 without a token. Nothing to count against.
            return pass(self.inner.call(request));
        };
        let limiter = &self.parts.limiter;
        let Some(decision) = limiter.take(client_id, self.parts.clock.now_ms()) else {
            return pass(self.inner.call(request));
        };
        context.update(|facts| facts.rate = Some(decision));
        if decision.allowed {
            return pass(self.inner.call(request));
        }
        self.parts.metrics.rate_limited.inc();
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
