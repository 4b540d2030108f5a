//! Authenticates the bearer token of a request to an operation that needs one, before any
//! of the request is looked at: a 401 stops it here; otherwise the caller is left in the
//! request's extensions for the `Authenticated`/`Authorized` extractors (and the rate
//! limit), and its client id in the [`RequestContext`] for the log line and the inspector.
//!
//! A hand-written service rather than `middleware::from_fn`: a known token is answered from
//! the cache without an await, so the common path allocates nothing; only a token not seen
//! before waits for the store.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};
use wrapup_domain::Principal;

use super::{answer, answer_later, pass, PassOrAnswer};
use crate::auth::{bearer, token_hash, Authenticated};
use crate::request_context::RequestContext;
use crate::state::AppState;

/// Puts [`Authenticate`] in front of a route.
#[derive(Clone)]
pub struct AuthenticateLayer(pub AppState);

impl<S> Layer<S> for AuthenticateLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate {
            state: self.0.clone(),
            inner,
        }
    }
}

/// See the module docs.
#[derive(Clone)]
pub struct Authenticate<S> {
    state: AppState,
    inner: S,
}

/// Leaves the caller where the extractors and the log line find it.
fn admit(request: &mut Request, principal: Principal) {
    if let Some(context) = request.extensions().get::<RequestContext>() {
        context.update(|facts| facts.client_id = Some(principal.client_id));
    }
    request.extensions_mut().insert(Authenticated(principal));
}

impl<S> Service<Request> for Authenticate<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = PassOrAnswer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let hash = match bearer(request.headers()) {
            Ok(token) => token_hash(token),
            Err(refusal) => return answer(refusal),
        };
        let now_ms = self.state.clock.now_ms();
        match self.state.credentials.cached_principal(&hash, now_ms) {
            Some(Ok(principal)) => {
                admit(&mut request, principal);
                pass(self.inner.call(request))
            }
            Some(Err(refusal)) => answer(refusal),
            None => {
                // The service that was polled ready goes with the request; a clone stays.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let state = self.state.clone();
                answer_later(Box::pin(async move {
                    let stored = state
                        .credentials
                        .stored_principal(state.store.as_ref(), hash, now_ms)
                        .await;
                    match stored {
                        Ok(principal) => {
                            admit(&mut request, principal);
                            inner.call(request).await
                        }
                        Err(refusal) => Ok(axum::response::IntoResponse::into_response(refusal)),
                    }
                }))
            }
        }
    }
}
