//! [`App`]: the server's components wired together with its background tasks, and its
//! settings, [`Config`].

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wrapup_store::Store;

use crate::activity::WrapUpActivityLog;
use crate::auth::CredentialCache;
use crate::auth_limits::{FailedAuthLimits, FailureLimit, DEFAULT_PER_ADDRESS, DEFAULT_PER_CLIENT};
use crate::chaos::{ChaosSpec, ChaosSwitch};
use crate::clock::Clock;
use crate::hashing::{HashingPool, HashingSettings};
use crate::inspector::Inspector;
use crate::metrics::{self, Metrics};
use crate::ratelimit::{RateLimit, RateLimiter};
use crate::router::router;
use crate::shutdown::{InFlight, Shutdown};
use crate::state::{AppComponents, AppState};
use crate::webhooks::{dispatcher, WebhookConfig, Webhooks};
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
    /// Webhook delivery (docs/webhooks.md).
    pub webhooks: WebhookConfig,
    /// `wrapup serve --demo`: the console's configuration (`/console/config.json`) lists
    /// the demo clients, for its one-click sign-in.
    pub demo: bool,
    /// How long a shutdown waits for the requests in flight before cutting them short.
    pub shutdown_timeout: Duration,
    /// Failed token requests allowed per client id (docs/operations.md#failed-authentication).
    pub auth_failures_per_client: FailureLimit,
    /// Failed token requests allowed per source address.
    pub auth_failures_per_address: FailureLimit,
    /// The secret-hashing pool's threads and queue.
    pub hashing: HashingSettings,
    /// How long a token request refused without a check (429 over a failed-authentication
    /// limit, 503 with the hashing queue full) waits before its answer: a client retrying at
    /// once, as a flood does, then costs one request a second per connection.
    pub refusal_delay: Duration,
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
            webhooks: WebhookConfig::default(),
            demo: false,
            shutdown_timeout: Duration::from_secs(10),
            auth_failures_per_client: FailureLimit(Some(DEFAULT_PER_CLIENT)),
            auth_failures_per_address: FailureLimit(Some(DEFAULT_PER_ADDRESS)),
            hashing: HashingSettings::default(),
            refusal_delay: Duration::from_secs(1),
        }
    }
}

/// A running application: its state and background tasks.
pub struct App {
    pub state: AppState,
    tasks: Vec<JoinHandle<()>>,
    shutdown_timeout: Duration,
}

/// How a shutdown went (see [`App::serve`]).
#[derive(Debug, Default)]
pub struct Drained {
    /// The requests still running when the shutdown timeout passed, longest-running
    /// first; they were cut short (their clients see the connection close).
    pub cut_short: Vec<InFlight>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl App {
    /// Builds the application and starts its background tasks: the finalization timer
    /// (which first finalizes whatever fell due while the server was down), event
    /// retention, the event counter of the metrics, and the webhook dispatcher (which first
    /// delivers whatever was pending when the server stopped).
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> App {
        let metrics = Arc::new(Metrics::default());
        store.set_observer(Arc::new(metrics::CommitObserver(metrics.clone())));
        let document = openapi::document();
        let api_index = openapi::index(&document);
        let openapi_json = Bytes::from(
            serde_json::to_vec_pretty(&document).expect("the OpenAPI document serialises"),
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
            webhooks: Arc::new(Webhooks::new(config.webhooks.clone())),
            activity: WrapUpActivityLog::default(),
            demo: config.demo,
            shutdown: Arc::new(Shutdown::default()),
            auth_limits: FailedAuthLimits::new(
                config.auth_failures_per_client,
                config.auth_failures_per_address,
            ),
            hashing: HashingPool::new(config.hashing, metrics.clone()),
            refusal_delay: config.refusal_delay,
        }));
        let mut tasks = vec![
            tokio::spawn(finalizer::run(store.clone(), clock.clone())),
            tokio::spawn(retention::run(
                store.clone(),
                clock.clone(),
                config.event_retention,
            )),
            tokio::spawn(metrics::count_events(store.clone(), metrics.clone())),
        ];
        if config.webhooks.deliver {
            tasks.push(tokio::spawn(dispatcher::run(
                store,
                clock,
                state.webhooks.clone(),
                metrics,
            )));
        }
        App {
            state,
            tasks,
            shutdown_timeout: config.shutdown_timeout,
        }
    }

    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Serves until `signal` completes, then shuts down gracefully: stops accepting
    /// connections, ends every event stream once it has sent what was committed, and waits
    /// for the requests in flight, at most the configured `shutdown_timeout`; those still
    /// running then are returned as cut short. Then call [`App::close`].
    pub async fn serve(
        &self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<Drained> {
        let shutdown = self.state.shutdown.clone();
        let begin = {
            let shutdown = shutdown.clone();
            async move {
                signal.await;
                shutdown.begin();
            }
        };
        let server = axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(begin)
        .into_future();
        let deadline = async {
            shutdown.begun().await;
            tokio::time::sleep(self.shutdown_timeout).await;
        };
        tokio::select! {
            served = server => served.map(|()| Drained::default()),
            () = deadline => {
                let cut_short = shutdown.in_flight();
                for request in &cut_short {
                    tracing::warn!(
                        method = %request.method, path = %request.path, request_id = %request.request_id,
                        running_ms = request.running_for().as_millis() as u64,
                        "shutdown timeout passed: request cut short"
                    );
                }
                Ok(Drained { cut_short })
            }
        }
    }

    /// The last step of a shutdown: stops the background tasks, then closes the store,
    /// which commits and answers every write queued (including those of requests cut
    /// short) before it returns.
    pub async fn close(&self) {
        self.tasks.iter().for_each(JoinHandle::abort);
        self.state.store.close().await;
    }
}
