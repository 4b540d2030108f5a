//! The wrapup HTTP server: the only crate that knows axum.
//!
//! [`App::start`] wires a [`Store`] and a [`Clock`] into the router and starts the
//! finalization timer; [`App::serve`] serves it on a listener until shutdown.

#![forbid(unsafe_code)]

pub mod auth;
pub mod chaos;
pub mod clock;
pub mod demo;
pub mod error;
pub mod extract;
pub mod finalizer;
pub mod inspector;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod pagination;
pub mod ratelimit;
pub mod request_id;
pub mod retention;
pub mod routes;
#[cfg(feature = "testkit")]
pub mod testkit;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use wrapup_store::Store;
use wrapup_types::ErrorCode;

pub use crate::clock::{Clock, ManualClock, SystemClock};
use crate::error::ApiError;
use crate::inspector::Inspector;
use crate::metrics::Metrics;
pub use crate::ratelimit::RateLimit;
use crate::routes::{clients, codes, divisions, events, interactions, ops};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a closed interaction takes to be finalized, in milliseconds.
    pub settle_ms: i64,
    /// The longest a request may take before it is answered 503 `request.timeout`.
    pub request_timeout: Duration,
    /// The longest the event stream stays silent: a keep-alive comment is sent then.
    pub keep_alive: Duration,
    /// How long events are kept for `Last-Event-ID` resumes (the contract says at least
    /// 24 hours; the CLI enforces that).
    pub event_retention: Duration,
    /// The per-client rate limit; `None` for none.
    pub rate_limit: Option<RateLimit>,
    /// How many recent requests the inspector keeps (0 turns it off).
    pub inspector_capacity: usize,
    /// Fault injection (off by default).
    pub chaos: chaos::ChaosSpec,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            settle_ms: 1_500,
            request_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(15),
            event_retention: retention::DEFAULT_RETENTION,
            rate_limit: None,
            inspector_capacity: 1_000,
            chaos: chaos::ChaosSpec::default(),
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
    pub openapi_json: Bytes,
    pub keep_alive: Duration,
    pub metrics: Arc<Metrics>,
    pub inspector: Inspector,
    pub limiter: ratelimit::Limiter,
    pub chaos: chaos::Chaos,
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
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl App {
    /// Builds the application and starts its background tasks: the finalization timer
    /// (which first finalizes whatever fell due while the server was down), event
    /// retention, and the event counter of the metrics.
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> App {
        let metrics = Arc::new(Metrics::default());
        store.set_observer(Arc::new(metrics::CommitObserver(metrics.clone())));
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
            openapi_json,
            keep_alive: config.keep_alive,
            metrics: metrics.clone(),
            inspector: Inspector::new(config.inspector_capacity),
            limiter: ratelimit::Limiter::new(config.rate_limit),
            chaos: chaos::Chaos::new(config.chaos),
        }));
        let tasks = vec![
            tokio::spawn(finalizer::run(store.clone(), clock.clone())),
            tokio::spawn(retention::run(store.clone(), clock, config.event_retention)),
            tokio::spawn(metrics::count_events(store, metrics)),
        ];
        App { state, tasks }
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
        .route("/metrics", get(metrics::metrics))
        .route("/api/v2/inspector/requests", get(inspector::list))
        .route("/api/v2/admin/chaos", get(chaos::get).put(chaos::set))
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
        .route("/api/v2/interactions/events", get(events::stream))
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
        .layer(middleware::from_fn_with_state(state.clone(), chaos::inject))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("handler panicked", "panic").into_response()
        }))
        .layer(middleware::from_fn(error::render_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
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
