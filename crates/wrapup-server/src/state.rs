//! What every handler and layer shares: [`AppState`], a cheap handle on the server's
//! long-lived [`AppComponents`].

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use wrapup_store::Store;

use crate::activity::WrapUpActivityLog;
use crate::auth::CredentialCache;
use crate::auth_limits::FailedAuthLimits;
use crate::chaos::ChaosSwitch;
use crate::clock::Clock;
use crate::hashing::HashingPool;
use crate::inspector::Inspector;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::shutdown::Shutdown;
use crate::webhooks::Webhooks;

/// The server's long-lived components and settings, built once by `App::start`.
pub struct AppComponents {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Token lookups and secret checks already done.
    pub credentials: CredentialCache,
    /// How long a closed interaction takes to be finalized, in milliseconds.
    pub settle_ms: i64,
    pub request_timeout: Duration,
    /// The OpenAPI document, serialised once.
    pub openapi_json: Bytes,
    /// `GET /api/v2`: the operations of that document; also what the answer to an
    /// unknown path suggests instead.
    pub api_index: wrapup_types::ApiIndex,
    /// The longest the event stream stays silent.
    pub keep_alive: Duration,
    pub metrics: Arc<Metrics>,
    pub inspector: Inspector,
    pub rate_limiter: RateLimiter,
    /// The faults injected now (changed at runtime by `PUT /api/v2/admin/chaos`).
    pub chaos: ChaosSwitch,
    /// Webhook settings, signing keys, and the dispatcher's wake-up signal.
    pub webhooks: Arc<Webhooks>,
    /// Wrap-ups accepted and refused in the last minutes.
    pub activity: WrapUpActivityLog,
    /// Started with `--demo`: the console's configuration lists the demo clients.
    pub demo: bool,
    /// The shutdown switch event streams watch, and the requests in flight.
    pub shutdown: Arc<Shutdown>,
    /// The limits on failed token requests, per client id and per source address.
    pub auth_limits: FailedAuthLimits,
    /// Where secrets are hashed (argon2), apart from request handling.
    pub hashing: HashingPool,
    /// How long a token request refused without a check waits for its answer.
    pub refusal_delay: Duration,
}

/// The handle handlers and layers get (cheap to clone).
#[derive(Clone)]
pub struct AppState(pub Arc<AppComponents>);

impl Deref for AppState {
    type Target = AppComponents;
    fn deref(&self) -> &AppComponents {
        &self.0
    }
}
