//! wrapup's domain rules, free of I/O: what a valid wrap-up body is, which lifecycle moves
//! are allowed, when an interaction is ready for a wrap-up, who may see what, and how a webhook delivery
//! is signed and verified.
//!
//! The server applies these rules to every request and `wrapup lint` applies the very same
//! functions offline, so the two can never disagree.

pub mod access;
pub mod analytics;
pub mod bulk_wrapups;
pub mod genesys;
pub mod lifecycle;
pub mod names;
pub mod new_wrapup;
pub mod routing;
pub mod webhook_signature;
pub mod wrapup_body;
pub mod wrapup_fix;

pub use access::Principal;
pub use new_wrapup::{BodyProblems, NewWrapUp, WrapUpDuration};
pub use wrapup_body::{validate_body, MAX_BODY_BYTES, MAX_DURATION_MS, MAX_NOTES_CHARS};
pub use wrapup_fix::suggest_fix;
