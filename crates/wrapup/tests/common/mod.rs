//! What the `wrapup` binary's tests share.

#![allow(dead_code)]

use std::process::Command;

use uuid::Uuid;

pub const BIN: &str = env!("CARGO_BIN_EXE_wrapup");

/// `wrapup` pointed at `url` with the client credentials `creds`, and nothing from the
/// environment or config file of whoever runs the tests.
pub fn wrapup_for(url: &str, creds: &(Uuid, String)) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("WRAPUP_URL", url)
        .env("WRAPUP_CLIENT_ID", creds.0.to_string())
        .env("WRAPUP_CLIENT_SECRET", &creds.1)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("WRAPUP_CONFIG")
        .env_remove("WRAPUP_PROFILE")
        .env_remove("WRAPUP_TOKEN");
    cmd
}
