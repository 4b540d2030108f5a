//! The server's settings, [`Config`]: what `wrapup serve`'s options set, kept whole in the
//! state for the handlers that read one.

use std::num::NonZeroUsize;
use std::time::Duration;

use crate::auth::hashing::HashingSettings;
use crate::auth::limits::{FailureLimit, DEFAULT_PER_ADDRESS, DEFAULT_PER_CLIENT};
use crate::chaos::ChaosSpec;
use crate::notifications::NotificationConfig;
use crate::rate_limit::RateLimit;
use crate::retention;
use crate::webhooks::WebhookConfig;

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
    /// Genesys notifications: heartbeats, closing notice, replay window, limits
    /// (docs/genesys.md#notifications).
    pub notifications: NotificationConfig,
    /// Fill the store's read cache in the background once started (`serve
    /// --warm-read-cache`, `Store::warm_read_cache`).
    pub warm_read_cache: bool,
    /// The threads serving HTTP connections (`serve --http-workers`), each with a runtime
    /// of its own (`connections`); by default one per CPU.
    pub http_workers: NonZeroUsize,
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
            notifications: NotificationConfig::default(),
            warm_read_cache: false,
            http_workers: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
        }
    }
}
