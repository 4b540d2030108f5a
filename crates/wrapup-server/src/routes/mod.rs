//! Every handler, one module per resource (and one per operational endpoint).

pub mod admin;
pub mod bulk_wrapups;
pub mod clients;
pub mod codes;
pub mod console;
pub mod conversations;
pub mod diagnosis;
pub mod divisions;
pub mod events;
pub mod fallback;
pub mod inspector;
pub mod interactions;
pub mod metrics;
pub mod oauth;
pub mod ops;
pub mod overview;
pub mod webhook_deliveries;
pub mod webhooks;
pub(crate) mod wrapup_check;
