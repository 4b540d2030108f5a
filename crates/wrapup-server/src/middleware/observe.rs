//! The outermost middleware, which watches every request: it assigns the request id
//! (`request_id`), runs the rest within the time limit (`timeout`), renders error bodies
//! (`crate::error::ErrorContext`), and writes one structured log line, the request metrics,
//! the rate-limit headers and the inspector entry.
//!
//! Those are steps of one layer rather than layers of their own: each `from_fn` layer costs
//! every request a boxed future and a move of the request (docs/benchmarks.md). The order is
//! that of the layers they were: the id first; the error body rendered (and the id echoed) before anything below
//! records the response, so the log, metrics and inspector see the final body. The inner layers report what only they know (the authenticated client, the
//! rate-limit decision) through the [`RequestContext`] slot it puts in the request's
//! extensions.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use wrapup_types::InspectedRequest;

use super::context::RequestContext;
use super::{request_id, timeout};
use crate::chaos::ChaosSwitch;
use crate::config::Config;
use crate::error::ErrorContext;
use crate::inspector::{body_text, redacted_headers, TeeBody};
use crate::shutdown::{InFlight, Shutdown};
use crate::state::Observability;

/// The largest error body the inspector keeps (error bodies are small; this bounds it).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

pub async fn observe(
    State(shutdown): State<Arc<Shutdown>>,
    State(state): State<Arc<Observability>>,
    State(config): State<Arc<Config>>,
    State(chaos): State<Arc<ChaosSwitch>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    // In the registry until answered: a shutdown waits for it, within its bound.
    let this = shutdown.track(InFlight {
        method: request.method().clone(),
        path: request.uri().path().to_string(),
        request_id: request_id::assign(&mut request),
        started,
    });
    let (method, path, request_id) = (&this.method, &this.path, &this.request_id);
    let errors = ErrorContext::of(&request);
    let context = RequestContext::default();
    request.extensions_mut().insert(context.clone());

    let inspect = state.inspector.records(path).then(|| {
        // The arrival time is read only for the inspector; nothing else needs it.
        let time = time::OffsetDateTime::now_utc();
        let path_and_query = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| path.clone());
        let headers = redacted_headers(request.headers());
        let (parts, body) = std::mem::take(&mut request).into_parts();
        let (body, captured) = TeeBody::wrap(body);
        request = Request::from_parts(parts, body);
        (time, path_and_query, headers, captured)
    });

    let handled = timeout::within_limit(&config, &chaos, &state.metrics, request, next).await;
    let mut response = errors.render(handled, request_id);
    request_id::echo(&mut response, request_id);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let facts = context.facts();

    if let Some(rate) = facts.rate {
        let headers = response.headers_mut();
        for (name, value) in [
            ("ratelimit-limit", u64::from(rate.limit)),
            ("ratelimit-remaining", u64::from(rate.remaining)),
            ("ratelimit-reset", rate.reset_s),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }

    state
        .metrics
        .record_request(method.as_str(), &route, status, elapsed);
    // Whole microseconds: `latency_ms=0.938`, not `0.9383360000000001`.
    let latency_ms = elapsed.as_micros() as f64 / 1000.0;
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        path = %path,
        status,
        latency_ms,
        client_id = facts.client_id.map(|c| c.to_string()),
        "request"
    );

    if let Some((time, path_and_query, request_headers, captured)) = inspect {
        let mut response_body = None;
        if status >= 400 {
            let (parts, body) = response.into_parts();
            let bytes = to_bytes(body, ERROR_BODY_LIMIT).await.unwrap_or_default();
            response_body = serde_json::from_slice(&bytes).ok();
            response = Response::from_parts(parts, Body::from(bytes));
        }
        let captured = captured.lock().unwrap_or_else(|e| e.into_inner());
        state.inspector.push(InspectedRequest {
            sequence: 0, // numbered by the inspector
            time,
            request_id: request_id.clone(),
            method: method.to_string(),
            path: path_and_query,
            status,
            latency_ms,
            client_id: facts.client_id,
            request_headers,
            request_body: (captured.total > 0).then(|| body_text(path, &captured.bytes)),
            request_body_bytes: captured.total,
            request_body_truncated: captured.total > captured.bytes.len() as u64,
            response_body,
        });
    }
    response
}
