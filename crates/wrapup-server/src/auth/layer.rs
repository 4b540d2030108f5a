//! Authenticates the bearer token of a request to an operation that needs one, before any
//! of the request is looked at: a 401 stops it here; otherwise the caller is left in the
//! request's [`RequestContext`](context::RequestContext), for the `Authenticated` and
//! `Authorized` extractors, and its client id for the rate limit, the log line and the
//! inspector.
//!
//! A hand-written service rather than `middleware::from_fn`: a known token is answered from
//! the cache without an await, so the common path allocates nothing; only a token not seen
//! before waits for the store.
//!
//! It is one step of the stack `crate::router` puts around each authenticated route in one
//! layer (one level of boxed service per request instead of two), so it also sees what the
//! router answers for a known path without calling an operation: a method the path does not
//! have is answered `405` without looking at the token (docs/api.md). [`TokenPaths`], made
//! from the same registration as the routes, tells those apart; a path it does not know
//! needs a token.

use std::convert::Infallible;
use std::task::{Context, Poll};

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use tower::{Layer, Service};
use utoipa::openapi::OpenApi;
use wrapup_domain::Principal;

use wrapup_store::Store;

use super::{bearer, token_hash, Authentication};
use crate::clock::Clock;
use crate::middleware::context;
use crate::middleware::{answer, answer_later, pass, PassOrAnswer};
use crate::state::AppState;

/// Puts [`Authenticate`] in front of a route. Behind one `Arc`: axum clones a route's
/// service for every request.
#[derive(Clone)]
pub struct AuthenticateLayer(Arc<Parts>);

/// What [`Authenticate`] needs.
struct Parts {
    auth: Arc<Authentication>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    paths: TokenPaths,
}

impl AuthenticateLayer {
    /// For the routes whose operations `paths` lists.
    pub fn new(state: &AppState, paths: TokenPaths) -> AuthenticateLayer {
        AuthenticateLayer(Arc::new(Parts {
            auth: state.auth.clone(),
            store: state.store.clone(),
            clock: state.clock.clone(),
            paths,
        }))
    }
}

/// The methods of each path whose operations need a token, by the path's pattern as the
/// router matched it (`/api/v2/interactions/{id}`).
#[derive(Debug, Default)]
pub struct TokenPaths(HashMap<String, Vec<Method>, foldhash::fast::RandomState>);

impl TokenPaths {
    /// The operations of `document`: the OpenAPI document of the authenticated routes, made
    /// by the same `routes!` registration as the routes themselves (`crate::router`).
    pub fn of(document: &OpenApi) -> TokenPaths {
        let mut paths = TokenPaths::default();
        for (path, item) in &document.paths.paths {
            let methods = paths.0.entry(path.clone()).or_default();
            for (method, operation) in [
                (Method::GET, &item.get),
                (Method::HEAD, &item.head),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
                (Method::OPTIONS, &item.options),
                (Method::TRACE, &item.trace),
            ] {
                if operation.is_some() {
                    methods.push(method);
                }
            }
            // The router answers HEAD with the GET operation (without its body).
            if item.get.is_some() && item.head.is_none() {
                methods.push(Method::HEAD);
            }
        }
        paths
    }

    /// Whether `request` calls an operation that needs a token: every request but one with
    /// a method its known path does not have (which the router answers 405).
    fn needs_token(&self, request: &Request) -> bool {
        let Some(path) = request.extensions().get::<MatchedPath>() else {
            return true;
        };
        self.0
            .get(path.as_str())
            .is_none_or(|methods| methods.contains(request.method()))
    }
}

impl<S> Layer<S> for AuthenticateLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate {
            parts: self.clone(),
            inner,
        }
    }
}

/// See the module docs.
#[derive(Clone)]
pub struct Authenticate<S> {
    parts: AuthenticateLayer,
    inner: S,
}

/// Leaves the caller where the extractors and the log line find it.
fn admit(request: &mut Request, principal: Principal) {
    context::of(request).admit(principal);
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
        if !self.parts.0.paths.needs_token(&request) {
            return pass(self.inner.call(request));
        }
        let hash = match bearer(request.headers()) {
            Ok(token) => token_hash(token),
            Err(refusal) => return answer(refusal),
        };
        let now_ms = self.parts.0.clock.now_ms();
        match self
            .parts
            .0
            .auth
            .credentials
            .cached_principal(&hash, now_ms)
        {
            Some(Ok(principal)) => {
                admit(&mut request, principal);
                pass(self.inner.call(request))
            }
            Some(Err(refusal)) => answer(refusal),
            None => {
                // The service that was polled ready goes with the request; a clone stays.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let parts = self.parts.clone();
                answer_later(Box::pin(async move {
                    let stored = parts
                        .0
                        .auth
                        .credentials
                        .stored_principal(parts.0.store.as_ref(), hash, now_ms)
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
