//! A client for the wrapup API (`docs/api.md`).
//!
//! - [`Client`]: OAuth client credentials with a cached token renewed before it expires;
//!   one typed method per operation (`operations.rs`); retries with backoff and jitter for 5xx,
//!   network errors and 429 (honouring `Retry-After`), never for other 4xx; typed errors
//!   carrying the API's error body.
//! - [`ValidWrapUp`]: a wrap-up to apply that cannot hold an invalid value.
//! - [`Client::apply`]: waits (on the event stream) until an interaction is ready, then
//!   applies a wrap-up, idempotently.
//! - [`Client::doctor`]: every check a careful engineer would run by hand, changing nothing.
//! - [`Client::events`]: the event stream as typed events.
//! - Genesys notification channels and [`NotificationListener`], their websocket followed
//!   across drops without losing an event (`notifications.rs`).
//! - Webhook endpoints, their delivery logs and replays (`webhooks.rs`).
//! - [`Client::validate_wrapup`], [`Client::diagnose_request`]: why a wrap-up is refused,
//!   and the body that would be accepted.

mod apply;
mod client;
mod codes;
mod doctor;
mod error;
mod events;
mod insight;
mod notifications;
mod operations;
mod response;
mod retry;
mod transport;
mod webhooks;
mod wrapup;

pub use apply::{ApplyEffect, ApplyError, ApplyOptions, ApplyReport, Progress, WaitVia};
pub use client::{Client, HttpTrace};
pub use codes::{division_namer, find_named, unknown_code};
pub use doctor::{Check, CheckStatus, DoctorReport, DoctorRequest};
pub use error::{Error, Result};
pub use events::{EventQuery, EventStream, StreamEvent};
pub use insight::RequestStream;
pub use notifications::{
    conversation_topics, queue_topic, user_topic, Channel, ListenError, ListenerItem,
    NotificationEvent, NotificationListener, TopicSubscription,
};
pub use operations::{CodeQuery, InteractionQuery};
pub use response::RawResponse;
pub use retry::{RetryPolicy, RetryVerdict};
pub use transport::{check_base_url, TransportFailure};
pub use webhooks::DeliveryQuery;
pub use wrapup::{CodeRef, InvalidWrapUp, ValidWrapUp};
pub use wrapup_types::duration::parse_duration;
