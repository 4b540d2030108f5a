//! What handlers and layers share: [`AppState`], the server's long-lived parts grouped by
//! concern. A handler or layer takes only the parts it uses, each as its own `State<…>`
//! (axum's `FromRef` substates): `State<Arc<dyn Store>>`, `State<Arc<Config>>`,
//! `State<Arc<Authentication>>`… Cloning the whole state is one `Arc`; a part is one more.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;
use wrapup_store::Store;
use wrapup_types::ApiIndex;

use crate::activity::WrapUpActivityLog;
use crate::auth::Authentication;
use crate::chaos::ChaosSwitch;
use crate::clock::Clock;
use crate::config::Config;
use crate::inspector::Inspector;
use crate::metrics::Metrics;
use crate::notifications::Notifications;
use crate::rate_limit::RateLimiter;
use crate::shutdown::Shutdown;
use crate::webhooks::Webhooks;

/// The server's long-lived parts, built once by `App::start`. A clone shares them (each is
/// an `Arc`): [`AppState::for_worker`].
#[derive(Clone)]
pub struct Parts {
    /// The settings the server was started with, whole.
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Who a request is from: tokens and secrets, failed-authentication limits, hashing.
    pub auth: Arc<Authentication>,
    /// What the server tells about its work: metrics, the inspector, wrap-up activity.
    pub observability: Arc<Observability>,
    /// The per-client rate limit.
    pub rate_limiter: Arc<RateLimiter>,
    /// The faults injected now (changed at runtime by `PUT /api/v2/admin/chaos`).
    pub chaos: Arc<ChaosSwitch>,
    /// Webhook settings, signing keys, and the dispatcher's wake-up signal.
    pub webhooks: Arc<Webhooks>,
    /// The shutdown switch event streams watch, and the requests in flight.
    pub shutdown: Arc<Shutdown>,
    /// The OpenAPI document, serialised once, and the index of its operations.
    pub document: Arc<ApiDocument>,
    /// Genesys notifications: their settings and this node's sockets.
    pub notifications: Arc<Notifications>,
}

/// The metrics, the request inspector and the wrap-up activity log.
pub struct Observability {
    pub metrics: Arc<Metrics>,
    pub inspector: Inspector,
    /// Wrap-ups accepted and refused in the last minutes.
    pub activity: WrapUpActivityLog,
}

/// The handle the router holds (cheap to clone).
#[derive(Clone)]
pub struct AppState(pub Arc<Parts>);

impl AppState {
    /// A handle of its own for an HTTP worker's router (`connections.rs`), sharing the
    /// same parts: the router clones its handle for every request, and a handle shared by
    /// all the workers would move its count from core to core each time.
    pub fn for_worker(&self) -> AppState {
        AppState(Arc::new(Parts::clone(&self.0)))
    }
}

impl Deref for AppState {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// Each part of the state as a substate a handler or layer may take alone.
macro_rules! substates {
    ($($field:ident: $part:ty),* $(,)?) => {$(
        impl FromRef<AppState> for $part {
            fn from_ref(state: &AppState) -> $part {
                state.$field.clone()
            }
        }
    )*};
}

substates! {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    auth: Arc<Authentication>,
    observability: Arc<Observability>,
    rate_limiter: Arc<RateLimiter>,
    chaos: Arc<ChaosSwitch>,
    webhooks: Arc<Webhooks>,
    shutdown: Arc<Shutdown>,
    document: Arc<ApiDocument>,
    notifications: Arc<Notifications>,
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Arc<Metrics> {
        state.observability.metrics.clone()
    }
}

/// The document, serialised once, and the index of its operations: what
/// `GET /api/v2/openapi.json` and `GET /api/v2` answer (a substate).
pub struct ApiDocument {
    pub json: axum::body::Bytes,
    pub index: ApiIndex,
}
