//! The wrapup HTTP server: the only crate that knows axum.
//!
//! [`App::start`] wires a [`Store`](wrapup_store::Store) and a [`Clock`] into the router and
//! starts the background tasks; [`App::serve`] serves it on a listener until shutdown. What
//! else the CLI, the benchmarks and the tests use is re-exported here; the modules are
//! private.
//!
//! The modules fall in three groups, and import only downwards (no module imports, directly
//! or not, one that imports it):
//! - the parts the server keeps, each in the folder of its feature with its routes and
//!   layer when it has them: `auth` (OAuth clients, tokens, the authenticating layer),
//!   `rate_limit`, `inspector`, `chaos`, `webhooks`, and `activity`, `clock`, `console`,
//!   `metrics`, `shutdown`; `state` groups them for the handlers;
//! - the request's layers (`middleware`), what handlers share (`error`, `extract`,
//!   `listing`, `visible`, `wrapup`: the one home of applying a wrap-up) and the handlers
//!   of the API's resources (`routes`);
//! - what assembles them: `router` (every operation, registered once), `openapi` (the
//!   document those registrations make), `app`.

mod activity;
mod app;
mod auth;
mod chaos;
mod clock;
mod config;
mod connections;
pub mod console;
pub mod demo;
mod error;
mod extract;
mod finalizer;
mod inspector;
mod listing;
mod metrics;
mod middleware;
mod notifications;
mod openapi;
mod rate_limit;
mod retention;
mod router;
mod routes;
mod sharded;
mod shutdown;
mod state;
#[cfg(feature = "testkit")]
pub mod testkit;
mod visible;
mod webhooks;
mod wrapup;

pub use crate::app::{App, Drained, Load};
pub use crate::auth::hashing::HashingSettings;
pub use crate::auth::limits::{FailureLimit, DEFAULT_PER_ADDRESS, DEFAULT_PER_CLIENT};
pub use crate::auth::new_client;
pub use crate::chaos::ChaosSpec;
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::config::Config;
pub use crate::notifications::NotificationConfig;
pub use crate::openapi::document as openapi_document;
pub use crate::rate_limit::RateLimit;
pub use crate::retention::prune_once;
pub use crate::webhooks::{RetrySchedule, TargetPolicy, WebhookConfig};
