//! `wrapup token`: print an access token for scripts.

use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::print_json;

/// The examples of `wrapup token --help`.
pub const HELP: &str = examples!(
    "TOKEN=$(wrapup token)",
    "curl -H \"Authorization: Bearer $(wrapup token)\" http://127.0.0.1:8080/api/v2/interactions",
    "wrapup token --scope interaction:view --json",
);

pub async fn run(global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    if global.json {
        print_json(&client.fetch_token().await?)?;
    } else {
        let token = client
            .bearer()
            .await?
            .ok_or(wrapup_client::Error::NoCredentials)?;
        println!("{token}");
    }
    Ok(exit::OK)
}
