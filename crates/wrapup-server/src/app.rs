//! [`App`]: the server's parts wired together with its background tasks.

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wrapup_store::Store;

use crate::activity::WrapUpActivityLog;
use crate::auth::hashing::HashingPool;
use crate::auth::limits::FailedAuthLimits;
use crate::auth::{Authentication, CredentialCache};
use crate::chaos::ChaosSwitch;
use crate::clock::Clock;
use crate::config::Config;
use crate::connections::Workers;
use crate::inspector::Inspector;
use crate::metrics::{self, Metrics};
use crate::notifications::Notifications;
use crate::openapi;
use crate::rate_limit::RateLimiter;
use crate::router::router;
use crate::shutdown::{InFlight, Shutdown};
use crate::state::{ApiDocument, AppState, Observability, Parts};
use crate::webhooks::{dispatcher, Webhooks};
use crate::{finalizer, retention};

/// A running application: its state and background tasks.
pub struct App {
    pub(crate) state: AppState,
    tasks: Vec<JoinHandle<()>>,
    shutdown_timeout: Duration,
    http_workers: NonZeroUsize,
    /// The threads that served the connections, once [`App::serve`] returned: they drive
    /// the sockets opened on them until [`App::close`] has closed the store.
    workers: Mutex<Option<Workers>>,
}

/// The server's open work, for what a shutdown says it waits for (see [`App::load`]).
#[derive(Clone)]
pub struct Load {
    metrics: Arc<Metrics>,
    shutdown: Arc<Shutdown>,
}

impl Load {
    /// The event streams open now.
    pub fn event_streams(&self) -> i64 {
        self.metrics.sse_subscribers.get()
    }

    /// The requests being handled now.
    pub fn requests_in_flight(&self) -> usize {
        self.shutdown.in_flight().len()
    }
}

/// How a shutdown went (see [`App::serve`]).
#[derive(Debug, Default)]
pub struct Drained {
    /// The requests still running when the shutdown timeout passed, longest-running
    /// first; they were cut short (their clients see the connection close).
    pub cut_short: Vec<Arc<InFlight>>,
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
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, mut config: Config) -> App {
        config.settle_ms = config.settle_ms.max(0);
        let metrics = Arc::new(Metrics::default());
        store.set_observer(Arc::new(metrics::CommitObserver(metrics.clone())));
        let state = AppState(Arc::new(Parts {
            store: store.clone(),
            clock: clock.clone(),
            auth: Arc::new(Authentication {
                credentials: CredentialCache::default(),
                limits: FailedAuthLimits::new(
                    config.auth_failures_per_client,
                    config.auth_failures_per_address,
                ),
                hashing: HashingPool::new(config.hashing, metrics.clone()),
                refusal_delay: config.refusal_delay,
            }),
            observability: Arc::new(Observability {
                metrics: metrics.clone(),
                inspector: Inspector::new(config.inspector_capacity),
                activity: WrapUpActivityLog::default(),
            }),
            rate_limiter: Arc::new(RateLimiter::new(config.rate_limit)),
            chaos: Arc::new(ChaosSwitch::new(config.chaos)),
            webhooks: Arc::new(Webhooks::new(config.webhooks.clone())),
            shutdown: Arc::new(Shutdown::default()),
            document: Arc::new(api_document()),
            notifications: Arc::new(Notifications::new(config.notifications.clone())),
            config: Arc::new(config.clone()),
        }));
        let mut tasks = vec![
            tokio::spawn(finalizer::run(store.clone(), clock.clone())),
            tokio::spawn(retention::run(
                store.clone(),
                clock.clone(),
                config.event_retention,
            )),
            tokio::spawn(metrics::count_events(store.clone(), metrics.clone())),
            tokio::spawn(state.notifications.hub.clone().run(store.clone())),
        ];
        if config.warm_read_cache {
            tasks.push(tokio::spawn(warm_read_cache(store.clone())));
        }
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
            http_workers: config.http_workers,
            workers: Mutex::new(None),
        }
    }

    /// What a shutdown would have to wait for, now and whenever asked.
    pub fn load(&self) -> Load {
        Load {
            metrics: self.state.observability.metrics.clone(),
            shutdown: self.state.shutdown.clone(),
        }
    }

    /// The routes, with a state handle of their own (built once per HTTP worker).
    pub fn router(&self) -> Router {
        router(self.state.for_worker())
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
        let mut workers = Workers::start(self.http_workers, || self.router())?;
        let served = workers.serve(listener, begin);
        let deadline = async {
            shutdown.begun().await;
            tokio::time::sleep(self.shutdown_timeout).await;
        };
        let drained = tokio::select! {
            () = served => Drained::default(),
            () = deadline => {
                let cut_short = shutdown.in_flight();
                for request in &cut_short {
                    tracing::warn!(
                        method = %request.method, path = %request.path(), request_id = %request.request_id,
                        running_ms = request.running_for().as_millis() as u64,
                        "shutdown timeout passed: request cut short"
                    );
                }
                Drained { cut_short }
            }
        };
        *self.workers.lock().unwrap_or_else(PoisonError::into_inner) = Some(workers);
        Ok(drained)
    }

    /// The last step of a shutdown: stops the background tasks, then closes the store,
    /// which commits and answers every write queued (including those of requests cut
    /// short) before it returns.
    pub async fn close(&self) {
        self.tasks.iter().for_each(JoinHandle::abort);
        self.state.store.close().await;
        // Then the connections' threads, and whatever still runs on them.
        drop(
            self.workers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
    }
}

/// The OpenAPI document, serialised once, and the index of its operations.
fn api_document() -> ApiDocument {
    let document = openapi::document();
    ApiDocument {
        index: openapi::index(&document),
        json: serde_json::to_vec_pretty(&document)
            .expect("the OpenAPI document serialises")
            .into(),
    }
}

/// Fills the store's read cache (`serve --warm-read-cache`), and logs how it went.
async fn warm_read_cache(store: Arc<dyn Store>) {
    let began = std::time::Instant::now();
    match store.warm_read_cache().await {
        Ok(kept) => tracing::info!(
            interactions = kept,
            seconds = began.elapsed().as_secs_f64(),
            "read cache warmed"
        ),
        Err(wrapup_store::StoreError::Closed) => {}
        Err(e) => tracing::warn!(error = %e, "warming the read cache stopped"),
    }
}
