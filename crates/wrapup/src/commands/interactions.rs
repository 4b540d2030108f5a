//! `wrapup interactions get|list|create|set-state`.

use clap::Subcommand;
use uuid::Uuid;
use wrapup_client::InteractionQuery;
use wrapup_types::{Channel, InteractionState, TargetState};

use crate::commands::pages::collect_pages;
use crate::exit;
use crate::global::{Global, Sources};
use crate::render::{human_ms, interaction_line, print_json, print_list};

#[derive(Subcommand)]
pub enum InteractionsCommand {
    /// Show one interaction.
    #[command(
        after_help = "Example:\n  wrapup interactions get 00000000-0000-4000-8000-0000000000e3"
    )]
    Get { id: Uuid },
    /// List interactions, newest last.
    #[command(
        after_help = "Examples:\n  wrapup interactions list --state closed --wrapped-up false\n  wrapup interactions list --division 00000000-0000-4000-8000-0000000000a1 --all --json"
    )]
    List {
        #[arg(long, value_parser = parse_state)]
        state: Option<InteractionState>,
        #[arg(long)]
        division: Option<Uuid>,
        #[arg(long)]
        wrapped_up: Option<bool>,
        /// Interactions per page (1 to 500).
        #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=500))]
        page_size: u32,
        /// Continue after this cursor (printed after each page).
        #[arg(long)]
        cursor: Option<String>,
        /// Follow every page.
        #[arg(long)]
        all: bool,
    },
    /// Create an interaction (queued), as a routing engine would.
    #[command(
        after_help = "Example:\n  wrapup interactions create --division 00000000-0000-4000-8000-0000000000a1 --channel chat"
    )]
    Create {
        #[arg(long)]
        division: Uuid,
        #[arg(long, default_value = "voice", value_parser = parse_channel)]
        channel: Channel,
    },
    /// Move an interaction: queued → active → closed (or queued → closed).
    #[command(
        after_help = "Examples:\n  wrapup interactions set-state $ID active\n  wrapup interactions set-state $ID closed"
    )]
    SetState {
        id: Uuid,
        #[arg(value_parser = parse_target)]
        state: TargetState,
    },
}

fn parse_state(s: &str) -> Result<InteractionState, String> {
    InteractionState::parse(s)
        .ok_or_else(|| format!("`{s}` is not a state; use queued, active, closed or completed"))
}

fn parse_channel(s: &str) -> Result<Channel, String> {
    Channel::parse(s)
        .ok_or_else(|| format!("`{s}` is not a channel; use voice, chat, email or message"))
}

fn parse_target(s: &str) -> Result<TargetState, String> {
    match s {
        "active" => Ok(TargetState::Active),
        "closed" => Ok(TargetState::Closed),
        _ => Err(format!(
            "`{s}` is not a state to move to; use active or closed"
        )),
    }
}

pub async fn run(
    cmd: InteractionsCommand,
    global: &Global,
    sources: &Sources,
) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    match cmd {
        InteractionsCommand::Get { id } => {
            let i = client.get_interaction(id).await?;
            if global.json {
                print_json(&i)?;
            } else {
                println!("{}", interaction_line(&i));
                println!(
                    "  created {}  version {}",
                    wrapup_types::timestamp::format(i.created_at),
                    i.version
                );
                for (label, at) in [
                    ("active", i.active_at),
                    ("closed", i.closed_at),
                    ("finalized", i.finalized_at),
                ] {
                    if let Some(at) = at {
                        println!("  {label} {}", wrapup_types::timestamp::format(at));
                    }
                }
                if let Some(w) = &i.wrap_up {
                    println!(
                        "  wrap-up \"{}\" ({}), {}, applied {} by {}{}",
                        w.code_name,
                        w.code_id,
                        human_ms(u64::from(w.duration_ms)),
                        wrapup_types::timestamp::format(w.applied_at),
                        w.applied_by,
                        w.notes
                            .as_deref()
                            .map(|n| format!(": {n}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        InteractionsCommand::List {
            state,
            division,
            wrapped_up,
            page_size,
            cursor,
            all,
        } => {
            let mut query = InteractionQuery {
                state,
                division_id: division,
                channel: None,
                wrapped_up,
                page_size: Some(page_size),
                cursor,
            };
            let (entities, next) = collect_pages(all, query.cursor.take(), |cursor| {
                let mut query = query.clone();
                query.cursor = cursor;
                let client = &client;
                async move { client.list_interactions(&query).await }
            })
            .await?;
            print_list(
                global.json,
                &entities,
                next,
                interaction_line,
                "interactions",
            )?;
        }
        InteractionsCommand::Create { division, channel } => {
            let i = client.create_interaction(division, channel).await?;
            if global.json {
                print_json(&i)?;
            } else {
                println!("{}", i.id);
            }
        }
        InteractionsCommand::SetState { id, state } => {
            let i = client.set_state(id, state).await?;
            if global.json {
                print_json(&i)?;
            } else {
                println!("{}", interaction_line(&i));
            }
        }
    }
    Ok(exit::OK)
}
