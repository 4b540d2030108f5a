//! The handlers of the API's resources, one module per resource, mirroring the paths
//! (`interactions/` is `/api/v2/interactions/…`). The handlers of a feature with parts of its
//! own live in its folder instead (`crate::auth`, `crate::inspector`, `crate::chaos`,
//! `crate::webhooks`).

pub mod analytics;
pub mod clock;
pub mod codes;
pub mod console;
pub mod conversations;
pub mod divisions;
pub mod events;
pub mod fallback;
pub mod interactions;
pub mod metrics;
pub mod overview;
pub mod queues;
pub mod service;
pub mod users;
