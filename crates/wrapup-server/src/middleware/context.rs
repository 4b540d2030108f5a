//! What the layers learn about a request while it is handled, kept in its extensions: the
//! [`RequestContext`] slot that the connection gives each request ([`WithContext`], with
//! the peer's address), in which the inner layers (authentication, rate limiting) leave the
//! caller and what the outer one (`middleware::observe`) reports.
//!
//! One slot rather than an extension per fact: the extensions are a map that each insert
//! boxes a value into, and that grows (a rehash) past its third entry; axum puts two of its
//! own there on every routed request (the matched path and the path's parameters), so this
//! slot keeps a request at three (docs/benchmarks.md).
//!
//! A leaf: it depends on no other module of the crate but the rate limiter's decision type,
//! so every layer can use it without importing another layer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::extract::Request;
use tower::Service;
use uuid::Uuid;
use wrapup_domain::Principal;

use crate::rate_limit::RateLimitDecision;

/// What the inner layers learnt about a request, for the log line, the metrics, the
/// rate-limit headers and the inspector.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestFacts {
    /// The OAuth client the bearer token belongs to, once authenticated.
    pub client_id: Option<Uuid>,
    /// The rate limiter's answer, when a limit is configured.
    pub rate: Option<RateLimitDecision>,
}

/// The slot the layers fill in: shared between the request, which carries it inward, and
/// the observing layer, which reads it once the response is made. A response can be
/// replaced on its way out (a timeout, a panic), so what must survive that is kept here
/// rather than on the response.
#[derive(Clone, Default)]
pub struct RequestContext(Arc<Slot>);

#[derive(Default)]
struct Slot {
    /// The connection's peer; `None` for a request that came without a connection (a test
    /// calling the router directly).
    peer: Option<SocketAddr>,
    filled: Mutex<Filled>,
}

#[derive(Default)]
struct Filled {
    facts: RequestFacts,
    /// Left by the authenticating layer, taken by the handler (`crate::auth::Authenticated`).
    caller: Option<Principal>,
}

impl RequestContext {
    /// The context of a request that came from `peer`.
    pub fn from_peer(peer: SocketAddr) -> RequestContext {
        RequestContext(Arc::new(Slot {
            peer: Some(peer),
            filled: Mutex::default(),
        }))
    }

    /// The address of the connection the request came on.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.0.peer
    }

    fn filled(&self) -> std::sync::MutexGuard<'_, Filled> {
        self.0.filled.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn update(&self, f: impl FnOnce(&mut RequestFacts)) {
        f(&mut self.filled().facts);
    }

    pub fn facts(&self) -> RequestFacts {
        self.filled().facts
    }

    /// Leaves the authenticated caller for the handler, and its client id for the log.
    pub fn admit(&self, caller: Principal) {
        let mut filled = self.filled();
        filled.facts.client_id = Some(caller.client_id);
        filled.caller = Some(caller);
    }

    /// The authenticated caller, taken (a handler has one, and nothing after it needs it).
    pub fn take_caller(&self) -> Option<Principal> {
        self.filled().caller.take()
    }
}

/// Gives each request of a connection its [`RequestContext`], with the peer's address: what
/// axum's `into_make_service_with_connect_info` would add as an extension of its own.
#[derive(Clone)]
pub struct WithContext<S> {
    peer: SocketAddr,
    inner: S,
}

impl<S> WithContext<S> {
    pub fn new(peer: SocketAddr, inner: S) -> WithContext<S> {
        WithContext { peer, inner }
    }
}

impl<S: Service<Request>> Service<Request> for WithContext<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> S::Future {
        request
            .extensions_mut()
            .insert(RequestContext::from_peer(self.peer));
        self.inner.call(request)
    }
}

/// The request's context: the one its connection gave it, or (a request that came without
/// one) a new one, left in its extensions for the inner layers.
pub fn of(request: &mut Request) -> RequestContext {
    if let Some(context) = request.extensions().get::<RequestContext>() {
        return context.clone();
    }
    let context = RequestContext::default();
    request.extensions_mut().insert(context.clone());
    context
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use wrapup_types::{DivisionGrant, ScopeSet};

    use super::*;

    #[test]
    fn a_request_keeps_the_context_its_connection_gave_it() {
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let mut request = Request::new(Body::empty());
        request
            .extensions_mut()
            .insert(RequestContext::from_peer(peer));
        let context = of(&mut request);
        assert_eq!(context.peer(), Some(peer));
        context.update(|facts| facts.client_id = Some(Uuid::nil()));
        assert_eq!(of(&mut request).facts().client_id, Some(Uuid::nil()));
    }

    #[test]
    fn a_request_without_a_connection_gets_a_context_of_its_own() {
        let mut request = Request::new(Body::empty());
        let context = of(&mut request);
        assert_eq!(context.peer(), None);
        context.update(|facts| facts.client_id = Some(Uuid::nil()));
        assert_eq!(of(&mut request).facts().client_id, Some(Uuid::nil()));
    }

    #[test]
    fn the_caller_admitted_is_taken_once_and_its_client_id_stays() {
        let context = RequestContext::default();
        let caller = Principal {
            client_id: Uuid::from_u128(7),
            scopes: ScopeSet::default(),
            divisions: DivisionGrant::All,
        };
        context.admit(caller.clone());
        assert_eq!(context.take_caller(), Some(caller));
        assert_eq!(context.take_caller(), None);
        assert_eq!(context.facts().client_id, Some(Uuid::from_u128(7)));
    }
}
