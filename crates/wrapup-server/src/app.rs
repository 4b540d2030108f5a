//! [`App`]: the server's components wired together with its background tasks, and its
//! settings, [`Config`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wrapup_store::Store;

use crate::auth::CredentialCache;
use crate::chaos::{ChaosSpec, ChaosSwitch};
use crate::clock::Clock;
use crate::inspector::Inspector;
use crate::metrics::{self, Metrics};
use crate::ratelimit::{RateLimit, RateLimiter};
use crate::router::router;
use crate::state::{AppComponents, AppState};
use crate::{finalizer, openapi, retention};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a closed interaction takes to be finalized, in milliseconds.
    pub settle_ms: i64,
    /// The longest a request may take before it is answered 503 `request.timeout`.
    pub request_timeout: Duration,
    /// The longest the event stream stays silent: a keep-alive comment is sent then.
    pub keep_alive: Duration,
    /// How long events are kept for `Last-Event-ID` resumes (at least 24 hours, as
    /// docs/events.md#retention promises; the CLI enforces that).
    pub event_retention: Duration,
    /// The per-client rate limit; `None` for none.
    pub rate_limit: Option<RateLimit>,
    /// How many recent requests the inspector keeps (0 turns it off).
    pub inspector_capacity: usize,
    /// Fault injection (off by default).
    pub chaos: ChaosSpec,
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
            chaos: ChaosSpec::default(),
        }
    }
}

/// A running application: its state and background tasks.
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
        let document = openapi::document();
        let api_index = openapi::index(&document);
        let openapi_json = Bytes::from(
            document
                .to_pretty_json()
                .expect("the OpenAPI document serialises"),
        );
        let state = AppState(Arc::new(AppComponents {
            store: store.clone(),
            clock: clock.clone(),
            credentials: CredentialCache::default(),
            settle_ms: config.settle_ms.max(0),
            request_timeout: config.request_timeout,
            openapi_json,
            api_index,
            keep_alive: config.keep_alive,
            metrics: metrics.clone(),
            inspector: Inspector::new(config.inspector_capacity),
            rate_limiter: RateLimiter::new(config.rate_limit),
            chaos: ChaosSwitch::new(config.chaos),
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
