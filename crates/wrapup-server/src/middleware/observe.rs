//! The outermost layer, which watches every request: it assigns the request id
//! (`request_id`), runs the rest within the time limit (`timeout`), catches a handler's panic
//! (answered 500 `internal`), renders error bodies (`crate::error::ErrorContext`), and writes
//! one structured log line, the request metrics, the rate-limit headers and the inspector
//! entry.
//!
//! Those are steps of one hand-written service rather than layers of their own: each layer
//! costs every request a clone of the route's service below it, and `middleware::from_fn` a
//! boxed `Next` and the extraction of its state on top (docs/benchmarks.md); this one costs
//! one clone and one boxed future. The order is that of the layers they were: the id first;
//! the error body rendered (and the id echoed) before anything below records the response, so
//! the log, metrics and inspector see the final body. The inner layers report what only they
//! know (the authenticated client, the rate-limit decision) through the request's
//! [`RequestContext`](context::RequestContext) slot.
//!
//! A request's future is what [`begin`] notes, then the handling, then [`finish`], chained
//! so that it holds the handling's future and then `finish`'s in turn; it is built of the
//! handling's own futures rather than `async` functions wrapped around them, each of which
//! would hold its arguments beside the future it awaits (a future of 1.2 KB against
//! 2.7 KB in a debug build, moved whole into its box).

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use futures::FutureExt;
use tower::{Layer, Service};
use wrapup_types::{InspectedHeader, InspectedRequest};

use super::context;
use super::{request_id, timeout};
use crate::chaos::ChaosSwitch;
use crate::config::Config;
use crate::error::{ApiError, ErrorContext};
use crate::inspector::{body_text, redacted_headers, CapturedBody, TeeBody};
use crate::shutdown::{InFlight, InFlightGuard, Shutdown};
use crate::state::{AppState, Observability};

/// The largest error body the inspector keeps (error bodies are small; this bounds it).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Wraps every route in [`Observe`].
#[derive(Clone)]
pub struct ObserveLayer(Arc<Parts>);

struct Parts {
    shutdown: Arc<Shutdown>,
    state: Arc<Observability>,
    config: Arc<Config>,
    chaos: Arc<ChaosSwitch>,
}

impl ObserveLayer {
    pub fn new(state: &AppState) -> ObserveLayer {
        ObserveLayer(Arc::new(Parts {
            shutdown: state.shutdown.clone(),
            state: state.observability.clone(),
            config: state.config.clone(),
            chaos: state.chaos.clone(),
        }))
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            parts: self.0.clone(),
            inner,
        }
    }
}

/// A route, observed.
#[derive(Clone)]
pub struct Observe<S> {
    parts: Arc<Parts>,
    inner: S,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The service that was polled ready goes with the request; a clone stays.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let parts = self.parts.clone();
        let begun = begin(&parts, &mut request);
        let handled = timeout::within_limit(
            &parts.config,
            &parts.chaos,
            &parts.state.metrics,
            request,
            |request| caught(inner, request),
        );
        // The handling, then what follows it: one future that holds each in turn (see the
        // module docs).
        Box::pin(handled.then(move |handled| finish(parts, begun, handled)))
    }
}

/// The route's answer, or 500 `internal` if it panicked (while called or while polled).
fn caught<S>(mut inner: S, request: Request) -> impl Future<Output = Response>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let called = std::panic::catch_unwind(AssertUnwindSafe(|| inner.call(request)));
    async move {
        let answered = match called {
            Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
            Err(panic) => Err(panic),
        };
        match answered {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(_) => ApiError::internal("handler panicked", "panic").into_response(),
        }
    }
}

/// What the observing layer notes of a request before it is handled ([`begin`]), for what
/// follows ([`finish`]).
struct Begun {
    started: Instant,
    /// The route's pattern (shared, as is the URI's text: a GET answered from the read cache
    /// copies neither).
    matched: Option<MatchedPath>,
    /// In the registry until answered: a shutdown waits for it, within its bound.
    this: InFlightGuard,
    errors: ErrorContext,
    context: context::RequestContext,
    inspect: Option<Inspect>,
}

/// What the inspector keeps of the request itself.
type Inspect = (
    time::OffsetDateTime,
    String,
    Vec<InspectedHeader>,
    Arc<std::sync::Mutex<CapturedBody>>,
);

/// Notes the request (its id, the registry of requests in flight, its context, what the
/// inspector keeps of it) before it goes on.
fn begin(parts: &Parts, request: &mut Request) -> Begun {
    let started = Instant::now();
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let this = parts.shutdown.track(InFlight {
        method: request.method().clone(),
        uri: request.uri().clone(),
        request_id: request_id::assign(request),
        started,
    });
    let errors = ErrorContext::of(request);
    let context = context::of(request);
    let inspect = parts.state.inspector.records(this.path()).then(|| {
        // The arrival time is read only for the inspector; nothing else needs it.
        let time = time::OffsetDateTime::now_utc();
        let path_and_query = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| this.path().to_string());
        let headers = redacted_headers(request.headers());
        let (head, body) = std::mem::take(request).into_parts();
        let (body, captured) = TeeBody::wrap(body);
        *request = Request::from_parts(head, body);
        (time, path_and_query, headers, captured)
    });
    Begun {
        started,
        matched,
        this,
        errors,
        context,
        inspect,
    }
}

/// What follows the handling: the error body rendered, the id echoed, the rate-limit
/// headers, the metrics, the log line and the inspector's entry.
async fn finish(
    parts: Arc<Parts>,
    begun: Begun,
    handled: Response,
) -> Result<Response, Infallible> {
    let state = &parts.state;
    let route = begun
        .matched
        .as_ref()
        .map_or("unmatched", MatchedPath::as_str);
    let this = &begun.this;
    let (method, path, request_id) = (&this.method, this.path(), &this.request_id);
    let mut response = begun.errors.render(handled, request_id);
    request_id::echo(&mut response, request_id);
    let elapsed = begun.started.elapsed();
    let status = response.status().as_u16();
    let facts = begun.context.facts();

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
        .record_request(method.as_str(), route, status, elapsed);
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

    if let Some((time, path_and_query, request_headers, captured)) = begun.inspect {
        let mut response_body = None;
        if status >= 400 {
            let (head, body) = response.into_parts();
            let bytes = to_bytes(body, ERROR_BODY_LIMIT).await.unwrap_or_default();
            response_body = serde_json::from_slice(&bytes).ok();
            response = Response::from_parts(head, Body::from(bytes));
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
    Ok(response)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use tower::service_fn;

    use super::*;

    async fn caught_status<S>(inner: S) -> StatusCode
    where
        S: Service<Request, Response = Response, Error = Infallible>,
    {
        caught(inner, Request::new(Body::empty())).await.status()
    }

    #[tokio::test]
    async fn a_route_that_answers_is_passed_through() {
        let answers = service_fn(|_: Request| async { Ok(StatusCode::NO_CONTENT.into_response()) });
        assert_eq!(caught_status(answers).await, StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn a_panic_while_the_route_is_polled_is_answered_500() {
        let panics = service_fn(|_: Request| async {
            if true {
                panic!("in the handler's future");
            }
            Ok(StatusCode::OK.into_response())
        });
        assert_eq!(
            caught_status(panics).await,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[tokio::test]
    async fn a_panic_while_the_route_is_called_is_answered_500() {
        #[derive(Clone)]
        struct PanicsWhenCalled;
        impl Service<Request> for PanicsWhenCalled {
            type Response = Response;
            type Error = Infallible;
            type Future = std::future::Ready<Result<Response, Infallible>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, _: Request) -> Self::Future {
                panic!("before any future exists");
            }
        }
        assert_eq!(
            caught_status(PanicsWhenCalled).await,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
