//! `wrapup webhooks create|list|get|update|delete|rotate|deliveries|replay|resend|test|listen`
//! (docs/webhooks.md), and the `--webhooks-…` options of `wrapup serve`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use uuid::Uuid;
use wrapup_client::DeliveryQuery;
use wrapup_server::{RetrySchedule, TargetPolicy, WebhookConfig};
use wrapup_types::duration::parse_duration;
use wrapup_types::{
    CreateWebhook, DivisionGrant, EventKind, ReplayWebhook, UpdateWebhook, Webhook, WebhookAttempt,
};

use crate::commands::pages::collect_pages;
use crate::commands::webhooks_listen::{self, parse_event, ListenArgs};
use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::{print_json, print_list};

/// The `--webhooks-…` options of `wrapup serve`.
#[derive(Args)]
pub struct WebhookServeArgs {
    /// Let webhooks go to private, loopback and link-local addresses (a receiver on this
    /// machine or network). Off by default: only public addresses; --demo allows loopback.
    #[arg(long)]
    webhooks_allow_private: bool,
    /// Delays between webhook delivery attempts, e.g. 5s,5m,30m,2h (units ms, s, m, h). A
    /// short schedule is for tests and CI.
    #[arg(
        long,
        env = "WRAPUP_WEBHOOKS_RETRY_SCHEDULE",
        hide_env_values = true,
        default_value = "5s,5m,30m,2h,5h,10h,10h"
    )]
    webhooks_retry_schedule: RetrySchedule,
    /// How long a webhook receiver may take to answer (ms, s or m).
    #[arg(long, default_value = "10s", value_parser = positive_duration)]
    webhooks_timeout: Duration,
    /// A file holding the master key webhook secrets are derived from (at least 32 bytes;
    /// the same file on every node). Without it, a key is generated and kept in the database.
    #[arg(long, env = "WRAPUP_WEBHOOKS_KEY_FILE", hide_env_values = true)]
    webhooks_key_file: Option<PathBuf>,
}

impl WebhookServeArgs {
    /// The webhook settings these options (and `--demo`) describe.
    pub fn config(&self, demo: bool) -> anyhow::Result<WebhookConfig> {
        let targets = match (self.webhooks_allow_private, demo) {
            (true, _) => TargetPolicy::AllowPrivate,
            (false, true) => TargetPolicy::AllowLoopback,
            (false, false) => TargetPolicy::PublicOnly,
        };
        let master_key = match &self.webhooks_key_file {
            Some(path) => {
                let key = std::fs::read(path)
                    .with_context(|| format!("reading the webhook key file {}", path.display()))?;
                if key.len() < 32 {
                    bail!("the webhook key file {} holds {} bytes; it needs at least 32 (e.g. head -c 32 /dev/urandom > FILE)", path.display(), key.len());
                }
                Some(key)
            }
            None => None,
        };
        Ok(WebhookConfig {
            targets,
            retry: self.webhooks_retry_schedule.clone(),
            timeout: self.webhooks_timeout,
            master_key,
            ..WebhookConfig::default()
        })
    }

    /// What the banner says about webhooks.
    pub fn describe(config: &WebhookConfig) -> String {
        let targets = match config.targets {
            TargetPolicy::PublicOnly => "public addresses only",
            TargetPolicy::AllowLoopback => "loopback allowed",
            TargetPolicy::AllowPrivate => "private addresses allowed",
        };
        format!("webhooks: {targets}, retries {}", config.retry)
    }
}

/// The examples of `wrapup webhooks --help`.
pub const HELP: &str = examples!(
    "wrapup webhooks create --endpoint https://crm.example.com/hooks/wrapup",
    "wrapup webhooks list",
    "wrapup webhooks deliveries 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10",
    "wrapup webhooks listen",
);

#[derive(Subcommand)]
pub enum WebhooksCommand {
    /// Create an endpoint; prints its signing secret (shown this once).
    #[command(help_template = examples!(
        "wrapup webhooks create --endpoint https://crm.example.com/hooks/wrapup",
        "wrapup webhooks create --endpoint http://127.0.0.1:8000/hooks/wrapup --events interaction.finalized,interaction.wrapup --division 00000000-0000-4000-8000-0000000000a1",
    ))]
    Create {
        /// Where deliveries are POSTed: the receiver's absolute http(s) URL. (--url is the
        /// wrapup server's own address, as for every command.)
        #[arg(long, value_name = "URL")]
        endpoint: String,
        /// Event types to deliver, comma-separated, e.g.
        /// interaction.finalized,interaction.wrapup (default: all).
        #[arg(long, value_name = "TYPES", value_delimiter = ',', value_parser = parse_event)]
        events: Option<Vec<EventKind>>,
        /// A division whose events to deliver (repeatable; default: the token's own).
        #[arg(long = "division", value_name = "ID")]
        divisions: Vec<Uuid>,
        /// What the endpoint is for, shown when listing endpoints.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// List endpoints.
    #[command(help_template = examples!(
        "wrapup webhooks list",
        "wrapup webhooks list --all --json",
    ))]
    List {
        /// Start at this page (the `more: --cursor …` of the previous one).
        #[arg(long)]
        cursor: Option<String>,
        /// Follow every page.
        #[arg(long)]
        all: bool,
    },
    /// Show an endpoint (and why it is disabled, if it is).
    #[command(help_template = examples!(
        "wrapup webhooks get 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10",
    ))]
    Get { id: Uuid },
    /// Change an endpoint; --enable re-enables a disabled one.
    #[command(help_template = examples!(
        "wrapup webhooks update 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10 --enable",
        "wrapup webhooks update 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10 --endpoint https://crm.example.com/v2/hooks",
        "wrapup webhooks update 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10 --events interaction.wrapup",
    ))]
    Update {
        /// The endpoint's id.
        id: Uuid,
        /// Deliver to this URL instead: the receiver's absolute http(s) URL. (--url is the
        /// wrapup server's own address, as for every command.)
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        /// Deliver these event types instead, comma-separated, e.g. interaction.wrapup.
        #[arg(long, value_name = "TYPES", value_delimiter = ',', value_parser = parse_event)]
        events: Option<Vec<EventKind>>,
        /// Deliver the events of these divisions instead (repeatable).
        #[arg(long = "division", value_name = "ID")]
        divisions: Vec<Uuid>,
        /// A new description; "" removes it.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// Enable the endpoint (a disabled one resumes where it stopped).
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable the endpoint: nothing is delivered until it is enabled again.
        #[arg(long)]
        disable: bool,
    },
    /// Delete an endpoint, its queue and its delivery log.
    #[command(help_template = examples!(
        "wrapup webhooks delete 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10",
    ))]
    Delete { id: Uuid },
    /// Make a new signing secret; the previous one keeps signing during --grace.
    #[command(help_template = examples!(
        "wrapup webhooks rotate 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10",
        "wrapup webhooks rotate 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10 --grace 1h",
    ))]
    Rotate {
        id: Uuid,
        /// How long the previous secret keeps signing, e.g. 1h, 24h, 0s (default 24h).
        #[arg(long, value_parser = parse_duration)]
        grace: Option<Duration>,
    },
    /// The delivery log: attempts, newest first.
    #[command(help_template = examples!(
        "wrapup webhooks deliveries 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10",
        "wrapup webhooks deliveries 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10 --sequence 42 --json",
    ))]
    Deliveries {
        /// The endpoint's id.
        id: Uuid,
        /// Only the attempts at this event.
        #[arg(long)]
        sequence: Option<i64>,
        /// Start at this page (the `more: --cursor …` of the previous one).
        #[arg(long)]
        cursor: Option<String>,
        /// Follow every page.
        #[arg(long)]
        all: bool,
    },
    /// Deliver again every event from a sequence number, or since a time.
    #[command(help_template = examples!(
        "wrapup webhooks replay 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10 --from 1200",
        "wrapup webhooks replay 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10 --since 2026-11-24T09:00:00Z",
    ))]
    Replay {
        /// The endpoint's id.
        id: Uuid,
        /// The sequence number of the first event to deliver again.
        #[arg(long, conflicts_with = "since", required_unless_present = "since")]
        from: Option<i64>,
        /// An RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
    },
    /// Deliver one event again.
    #[command(help_template = examples!(
        "wrapup webhooks resend 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10 42",
    ))]
    Resend { id: Uuid, sequence: i64 },
    /// Send a signed webhook.test delivery.
    #[command(help_template = examples!(
        "wrapup webhooks test 5b1f0c8e-2a47-4d3e-9c61-7f0e2d4b8a10",
    ))]
    Test { id: Uuid },
    /// Receive deliveries here, verify their signatures and print them.
    #[command(help_template = webhooks_listen::HELP, after_help = webhooks_listen::AFTER_HELP)]
    Listen(ListenArgs),
}

/// An endpoint on one line.
pub fn webhook_line(w: &Webhook) -> String {
    let state = match (&w.enabled, &w.disabled_reason) {
        (true, _) => "enabled".to_string(),
        (false, Some(reason)) => format!("DISABLED ({reason})"),
        (false, None) => "DISABLED".to_string(),
    };
    let events: Vec<&str> = w.event_types.iter().map(|k| k.as_str()).collect();
    format!(
        "{}  {}  {}  events {}",
        w.id,
        w.url,
        state,
        events.join(",")
    )
}

fn attempt_line(a: &WebhookAttempt) -> String {
    let seq = a.sequence.map_or("test".to_string(), |s| s.to_string());
    let status = a
        .response_status
        .map_or("---".to_string(), |s| s.to_string());
    let what = a.error.clone().unwrap_or_default();
    let next = a
        .next_attempt_at
        .map(|t| format!("  next {}", wrapup_types::timestamp::format(t)))
        .unwrap_or_default();
    format!(
        "{}  #{seq:<6} {:<22} attempt {}  {status}  {} ms  {:<9} {what}{next}",
        wrapup_types::timestamp::format(a.attempted_at),
        a.event_type,
        a.attempt,
        a.latency_ms,
        a.result.as_str(),
    )
}

fn grant(divisions: Vec<Uuid>) -> Option<DivisionGrant> {
    (!divisions.is_empty()).then_some(DivisionGrant::Only(divisions))
}

pub async fn run(cmd: WebhooksCommand, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    if let WebhooksCommand::Listen(args) = cmd {
        return webhooks_listen::run(args, global, sources).await;
    }
    let client = global.client(sources)?;
    let show = |w: &Webhook| -> anyhow::Result<()> {
        if global.json {
            print_json(w)
        } else {
            println!("{}", webhook_line(w));
            Ok(())
        }
    };
    match cmd {
        WebhooksCommand::Create {
            endpoint,
            events,
            divisions,
            description,
            disabled,
        } => {
            let created = client
                .create_webhook(&CreateWebhook {
                    url: endpoint,
                    event_types: events,
                    divisions: grant(divisions),
                    description,
                    enabled: disabled.then_some(false),
                })
                .await?;
            if global.json {
                print_json(&created)?;
            } else {
                println!("{}", webhook_line(&created.webhook));
                println!("secret: {}", created.secret);
                println!("(shown this once: verify deliveries with it; `wrapup webhooks rotate` makes a new one)");
            }
        }
        WebhooksCommand::List { cursor, all } => {
            let (entities, next) = collect_pages(all, cursor, |cursor| {
                let client = &client;
                async move { client.list_webhooks(Some(100), cursor.as_deref()).await }
            })
            .await?;
            print_list(
                global.json,
                &entities,
                next,
                webhook_line,
                "webhook endpoints",
            )?;
        }
        WebhooksCommand::Get { id } => show(&client.get_webhook(id).await?)?,
        WebhooksCommand::Update {
            id,
            endpoint,
            events,
            divisions,
            description,
            enable,
            disable,
        } => {
            let enabled = match (enable, disable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let body = UpdateWebhook {
                url: endpoint,
                event_types: events,
                divisions: grant(divisions),
                description,
                enabled,
            };
            show(&client.update_webhook(id, &body).await?)?;
        }
        WebhooksCommand::Delete { id } => {
            client.delete_webhook(id).await?;
            if global.json {
                print_json(&serde_json::json!({"deleted": id}))?;
            } else {
                println!("deleted {id}");
            }
        }
        WebhooksCommand::Rotate { id, grace } => {
            let rotated = client
                .rotate_webhook_secret(id, grace.map(|g| g.as_secs()))
                .await?;
            if global.json {
                print_json(&rotated)?;
            } else {
                println!("secret: {}", rotated.secret);
                match rotated.previous_secret_expires_at {
                    Some(t) => println!(
                        "the previous secret signs too until {}",
                        wrapup_types::timestamp::format(t)
                    ),
                    None => println!("the previous secret no longer signs"),
                }
            }
        }
        WebhooksCommand::Deliveries {
            id,
            sequence,
            cursor,
            all,
        } => {
            let (entities, next) = collect_pages(all, cursor, |cursor| {
                let (client, query) = (
                    &client,
                    DeliveryQuery {
                        sequence,
                        page_size: Some(100),
                        cursor,
                    },
                );
                async move { client.webhook_deliveries(id, &query).await }
            })
            .await?;
            print_list(
                global.json,
                &entities,
                next,
                attempt_line,
                "delivery attempts",
            )?;
        }
        WebhooksCommand::Replay { id, from, since } => {
            let since = since
                .map(|s| {
                    time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                })
                .transpose()
                .context("--since is an RFC 3339 time, e.g. 2026-11-24T09:00:00Z")?;
            let queued = client
                .replay_webhook(
                    id,
                    &ReplayWebhook {
                        from_sequence: from,
                        since,
                    },
                )
                .await?;
            if global.json {
                print_json(&queued)?;
            } else {
                println!(
                    "replaying events {} to {} (and what follows, as usual)",
                    queued.from_sequence, queued.through_sequence
                );
            }
        }
        WebhooksCommand::Resend { id, sequence } => {
            let queued = client.resend_webhook_event(id, sequence).await?;
            if global.json {
                print_json(&queued)?;
            } else {
                println!("queued {} (event {sequence})", queued.message_id);
            }
        }
        WebhooksCommand::Test { id } => {
            let queued = client.test_webhook(id).await?;
            if global.json {
                print_json(&queued)?;
            } else {
                println!(
                    "queued {} (webhook.test); see `wrapup webhooks deliveries {id}`",
                    queued.message_id
                );
            }
        }
        WebhooksCommand::Listen(_) => unreachable!("handled above"),
    }
    Ok(exit::OK)
}

/// A duration (`wrapup_types::duration`) that is more than zero.
fn positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!("`{s}`: must be more than zero")),
        d => Ok(d),
    }
}
