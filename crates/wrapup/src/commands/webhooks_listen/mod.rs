//! `wrapup webhooks listen`: a local receiver that verifies every delivery's signature and
//! prints it, like `stripe listen`. Without `--secret` it registers itself: it creates a
//! temporary endpoint pointing at its own address (the server must allow loopback:
//! `--demo` or `--webhooks-allow-private`), prints its id, and deletes it when stopped.

mod receiver;

use std::net::SocketAddr;

use self::receiver::Delivery;
use anyhow::Context;
use clap::Args;
use tokio::sync::mpsc;
use uuid::Uuid;
use wrapup_domain::webhook_signature::SigningKey;
use wrapup_types::{CreateWebhook, EventKind};

use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;

/// The examples of `wrapup webhooks listen --help`.
pub const HELP: &str = examples!(
    "wrapup webhooks listen                      # registers a temporary endpoint on the server",
    "wrapup webhooks listen --port 8787 --secret whsec_…   # for an endpoint created before",
    "wrapup webhooks listen --events interaction.finalized --json",
);

/// What `wrapup webhooks listen --help` says after its examples.
pub const AFTER_HELP: &str =
    "Each delivery is printed with ✓ when its signature verified (answered 200) or ✗ and why not\n\
(answered 401). --json prints one object per delivery: webhookId, verified, error, payload.";

#[derive(Args)]
pub struct ListenArgs {
    /// The port to listen on, on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Verify with this secret (of an endpoint already pointing here) instead of
    /// registering a temporary endpoint.
    #[arg(long, env = "WRAPUP_WEBHOOK_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Event types of the temporary endpoint, comma-separated, e.g.
    /// interaction.finalized,interaction.wrapup (default: all).
    #[arg(long, value_name = "TYPES", value_delimiter = ',', value_parser = parse_event)]
    events: Option<Vec<EventKind>>,
    /// Stop after this many deliveries.
    #[arg(long)]
    count: Option<u64>,
    /// Keep the temporary endpoint when stopping.
    #[arg(long)]
    keep: bool,
}

/// One event type of a comma-separated `--events` list (clap splits the list at commas),
/// for `webhooks create`, `update` and `listen`.
pub fn parse_event(kind: &str) -> Result<EventKind, String> {
    EventKind::parse(kind.trim()).ok_or_else(|| {
        format!("`{kind}` is not an event type: use interaction.created, interaction.state, interaction.finalized, interaction.wrapup")
    })
}

pub async fn run(args: ListenArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("listening on 127.0.0.1:{}", args.port))?;
    let addr: SocketAddr = listener.local_addr()?;
    let url = format!("http://{addr}/webhooks");
    let (registered, secret) = match &args.secret {
        Some(secret) => (None, secret.clone()),
        None => {
            let client = global.client(sources)?;
            let event_types = args.events.clone();
            let created = client
                .create_webhook(&CreateWebhook {
                    url: url.clone(),
                    event_types,
                    divisions: None,
                    description: Some("wrapup webhooks listen".into()),
                    enabled: None,
                })
                .await
                .context("registering a temporary endpoint (the server must allow loopback: serve --demo or --webhooks-allow-private)")?;
            eprintln!("registered endpoint {} → {url}", created.webhook.id);
            (Some((client, created.webhook.id)), created.secret)
        }
    };
    let key = SigningKey::parse(&secret).map_err(anyhow::Error::msg)?;
    eprintln!("listening on {url}; verifying signatures (Ctrl-C stops)");
    let (tx, mut rx) = mpsc::channel(256);
    let server = tokio::spawn(receiver::serve(listener, Some(key), tx));
    let mut seen = 0u64;
    let stopped = loop {
        tokio::select! {
            delivery = rx.recv() => {
                let Some(delivery) = delivery else { break Ok(()) };
                print_delivery(&delivery, global.json)?;
                seen += 1;
                if args.count.is_some_and(|n| seen >= n) {
                    break Ok(());
                }
            }
            _ = tokio::signal::ctrl_c() => break Ok(()),
        }
    };
    server.abort();
    if let Some((client, id)) = registered.filter(|_| !args.keep) {
        unregister(&client, id).await;
    }
    stopped.map(|()| exit::OK)
}

async fn unregister(client: &wrapup_client::Client, id: Uuid) {
    match client.delete_webhook(id).await {
        Ok(()) => eprintln!("deleted endpoint {id}"),
        Err(e) => eprintln!("could not delete endpoint {id}: {e}"),
    }
}

fn print_delivery(d: &Delivery, json: bool) -> anyhow::Result<()> {
    let payload: serde_json::Value =
        serde_json::from_slice(&d.body).unwrap_or_else(|_| String::from_utf8_lossy(&d.body).into());
    let error = match &d.verified {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "webhookId": d.id,
                "timestamp": d.timestamp,
                "verified": error.is_none(),
                "error": error,
                "payload": payload,
            })
        );
        return Ok(());
    }
    let mark = if error.is_none() { "✓" } else { "✗" };
    let data = &payload["data"];
    let about = match payload["type"].as_str() {
        Some("webhook.test") => "test delivery".to_string(),
        _ => format!(
            "interaction {} {}{}",
            data["id"].as_str().unwrap_or("?"),
            data["state"].as_str().unwrap_or("?"),
            if data["finalized"] == true {
                " (finalized)"
            } else {
                ""
            }
        ),
    };
    println!(
        "{mark} {}  {:<22} #{:<6} {about}{}",
        d.id.as_deref().unwrap_or("(no webhook-id)"),
        payload["type"].as_str().unwrap_or("?"),
        payload["sequence"]
            .as_i64()
            .map_or("-".to_string(), |s| s.to_string()),
        error
            .map(|e| format!("  NOT VERIFIED: {e}"))
            .unwrap_or_default()
    );
    Ok(())
}
