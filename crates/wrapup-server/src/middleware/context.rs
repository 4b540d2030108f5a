//! What the layers learn about a request while it is handled, kept in its extensions: the
//! [`RequestContext`] slot in which the inner layers (authentication, rate limiting) leave
//! what the outer one (`middleware::observe`) reports.
//!
//! A leaf: it depends on no other module of the crate but the rate limiter's decision type,
//! so every layer can use it without importing another layer.

use std::sync::{Arc, Mutex};

use uuid::Uuid;

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

/// The slot the inner layers fill in: shared between the observing layer, which creates it,
/// and the request, which carries it inward. A response can be replaced on its way out (a
/// timeout, a panic), so what must survive that is kept here rather than on the response.
#[derive(Clone, Default)]
pub struct RequestContext(Arc<Mutex<RequestFacts>>);

impl RequestContext {
    pub fn update(&self, f: impl FnOnce(&mut RequestFacts)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }

    pub fn facts(&self) -> RequestFacts {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
