//! The wrapup HTTP server: the only crate that knows axum.
//!
//! [`App::start`] wires a [`Store`] and a [`Clock`] into the router and starts the
//! finalization timer; [`App::serve`] serves it on a listener until shutdown.

#![forbid(unsafe_code)]

pub mod auth;
pub mod clock;
pub mod demo;
pub mod error;
pub mod extract;
pub mod finalizer;
pub mod openapi;
pub mod pagination;
pub mod request_id;
pub mod routes;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use wrapup_store::Store;
use wrapup_types::ErrorCode;

pub use crate::clock::{Clock, ManualClock, SystemClock};
use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::routes::{clients, codes, divisions, interactions, ops};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a closed interaction takes to be finalized, in milliseconds.
    pub settle_ms: i64,
    /// The longest a request may take before it is answered 503 `request.timeout`.
    pub request_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            settle_ms: 1_500,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What every handler shares.
pub struct Inner {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub auth: auth::AuthCache,
    pub settle_ms: i64,
    pub request_timeout: Duration,
    /// Wakes the finalization timer when an interaction closes.
    pub finalizer: Arc<Notify>,
    pub openapi_json: Bytes,
}

/// Shared state of the handlers (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A running application: its router and background tasks.
pub struct App {
    pub state: AppState,
    finalizer: JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.finalizer.abort();
    }
}

impl App {
    /// Builds the application and starts the finalization timer (which first finalizes
    /// whatever fell due while the server was down).
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> App {
        let wake = Arc::new(Notify::new());
        let openapi_json = Bytes::from(
            openapi::document()
                .to_pretty_json()
                .expect("the OpenAPI document serialises"),
        );
        let state = AppState(Arc::new(Inner {
            store: store.clone(),
            clock: clock.clone(),
            auth: auth::AuthCache::default(),
            settle_ms: config.settle_ms.max(0),
            request_timeout: config.request_timeout,
            finalizer: wake.clone(),
            openapi_json,
        }));
        let finalizer = tokio::spawn(finalizer::run(store, clock, wake));
        App { state, finalizer }
    }

    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The router with every route and middleware.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/oauth/token", post(auth::issue_token))
        .route("/healthz", get(ops::healthz))
        .route("/api/v2/openapi.json", get(ops::openapi))
        .route(
            "/api/v2/authorization/divisions",
            get(divisions::list).post(divisions::create),
        )
        .route("/api/v2/oauth/clients", post(clients::create))
        .route(
            "/api/v2/routing/wrapupcodes",
            get(codes::list).post(codes::create),
        )
        .route(
            "/api/v2/routing/wrapupcodes/{codeId}",
            get(codes::get).put(codes::update).delete(codes::archive),
        )
        .route(
            "/api/v2/interactions",
            get(interactions::list).post(interactions::create),
        )
        .route("/api/v2/interactions/{id}", get(interactions::get))
        .route(
            "/api/v2/interactions/{id}/state",
            post(interactions::set_state),
        )
        .route(
            "/api/v2/interactions/{id}/wrap-up",
            get(interactions::get_wrapup).put(interactions::put_wrapup),
        )
        .route(
            "/api/v2/interactions/{id}/wrap-up/history",
            get(interactions::wrapup_history),
        )
        .fallback(error::unknown_path)
        .layer(DefaultBodyLimit::max(wrapup_domain::MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("handler panicked", "panic").into_response()
        }))
        .layer(middleware::from_fn(error::render_errors))
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn(request_id::request_id))
        .with_state(state)
}

async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::code(
            ErrorCode::RequestTimeout,
            format!(
                "The request took longer than {} s and was abandoned.",
                state.request_timeout.as_secs()
            ),
        )
        .into_response(),
    }
}

/// One log line per request: id, method, path, status, latency. Never headers or bodies.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let response = next.run(request).await;
    tracing::info!(
        request_id = %id,
        %method,
        %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}
