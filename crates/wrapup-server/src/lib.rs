//! The wrapup HTTP server: the only crate that knows axum.
//!
//! [`App::start`] wires a [`Store`](wrapup_store::Store) and a [`Clock`] into the router and
//! starts the finalization timer; [`App::serve`] serves it on a listener until shutdown.
//!
//! The modules fall in three groups, and import only downwards (no module imports, directly
//! or not, one that imports it): the components the server keeps (`activity`, `auth`,
//! `auth_limits`, `chaos`, `clock`, `console`, `hashing`, `inspector`, `metrics`,
//! `ratelimit`, `shutdown`, `webhooks`, with `state` holding them), the request's layers
//! (`middleware`) and handlers (`routes`), and what assembles them (`router`, `app`,
//! `openapi`).

pub mod activity;
pub mod app;
pub mod auth;
pub mod auth_limits;
pub mod chaos;
pub mod clock;
pub mod console;
pub mod demo;
pub mod error;
pub mod extract;
pub mod finalizer;
pub mod hashing;
pub mod inspector;
pub mod listing;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod openapi_rules;
pub mod pagination;
pub mod ratelimit;
pub mod request_context;
pub mod retention;
pub mod router;
pub mod routes;
pub mod shutdown;
pub mod state;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod webhooks;

pub use crate::app::{App, Config, Drained};
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::ratelimit::RateLimit;
pub use crate::router::router;
pub use crate::state::AppState;
