//! The wrap-up `apply` and `doctor` take on their command line.

use std::time::Duration;

use clap::Args;
use uuid::Uuid;
use wrapup_client::{parse_duration, CodeRef};

use crate::commands::ids::interaction_id;

/// Parses a duration as people write it (`120s`, `2m`, `1h30m`, `1500ms`; a bare number
/// is milliseconds, from 1000 up). Every duration flag uses it, as the batch input's
/// `duration` column does.
pub fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s)
}

/// The wrap-up a command applies or checks.
#[derive(Args)]
pub struct WrapUpArgs {
    /// The interaction's id.
    #[arg(value_parser = interaction_id)]
    pub interaction: Uuid,
    /// The wrap-up code: its id, or its name in the interaction's division.
    #[arg(long)]
    pub code: CodeRef,
    /// Time the agent spent in wrap-up, with a unit: 120s, 2m, 1h30m, 1500ms (a bare number
    /// is milliseconds, from 1000 up).
    #[arg(long, value_parser = duration_arg)]
    pub duration: Duration,
    /// Notes (at most 1,024 characters).
    #[arg(long)]
    pub notes: Option<String>,
}
