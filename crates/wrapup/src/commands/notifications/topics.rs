//! `wrapup notifications topics`: the topics a notification channel can subscribe to.

use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::print_list;

pub const HELP: &str = examples!(
    "wrapup notifications topics",
    "wrapup notifications topics --json",
);

pub async fn run(global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    let topics = client.available_notification_topics().await?;
    print_list(
        global.json,
        &topics,
        None,
        |t| {
            let permissions: Vec<&str> = t["requiresPermissions"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
                .unwrap_or_default();
            let needs = if permissions.is_empty() {
                String::new()
            } else {
                format!("  (needs {})", permissions.join(", "))
            };
            format!(
                "{}  {}{needs}",
                t["id"].as_str().unwrap_or("?"),
                t["description"].as_str().unwrap_or("")
            )
        },
        "topics",
    )?;
    Ok(exit::OK)
}
