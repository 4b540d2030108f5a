//! `wrapup interactions get|list|create|set-state|history`.

use clap::{Subcommand, ValueEnum};
use uuid::Uuid;
use wrapup_client::{division_namer, InteractionQuery};
use wrapup_types::{Channel, InteractionState, SortOrder, TargetState, WrapUp};

use crate::commands::ids::{division_id, interaction_id};
use crate::commands::pages::collect_pages;
use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::{human_ms, interaction_line, print_json, print_list};

/// The examples of `wrapup interactions --help`.
pub const HELP: &str = examples!(
    "wrapup interactions list --state closed --wrapped-up false",
    "wrapup interactions get 00000000-0000-4000-8000-0000000000e3",
    "wrapup interactions history 00000000-0000-4000-8000-0000000000e4",
);

#[derive(Subcommand)]
pub enum InteractionsCommand {
    /// Show one interaction.
    #[command(help_template = examples!(
        "wrapup interactions get 00000000-0000-4000-8000-0000000000e3",
        "wrapup interactions get $ID --json",
    ))]
    Get {
        /// The interaction's id.
        #[arg(value_parser = interaction_id)]
        id: Uuid,
    },
    /// List interactions, newest first (one page, or --all).
    #[command(help_template = examples!(
        "wrapup interactions list --state closed --wrapped-up false",
        "wrapup interactions list --division 00000000-0000-4000-8000-0000000000a1 --all --json",
        "wrapup interactions list --sort oldest --page-size 100",
    ))]
    List {
        /// Only interactions in this state: queued, active, closed or completed.
        #[arg(long, value_parser = parse_state)]
        state: Option<InteractionState>,
        /// Only the interactions of this division.
        #[arg(long, value_parser = division_id)]
        division: Option<Uuid>,
        /// Only those with (true) or without (false) a wrap-up.
        #[arg(long)]
        wrapped_up: Option<bool>,
        /// Which come first.
        #[arg(long, value_enum, default_value_t = Sort::Newest)]
        sort: Sort,
        /// Interactions per page (1 to 500).
        #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=500))]
        page_size: u32,
        /// Continue after this cursor (printed on stderr after each page that has more).
        #[arg(long)]
        cursor: Option<String>,
        /// Follow every page.
        #[arg(long)]
        all: bool,
    },
    /// Create an interaction (queued), as a routing engine would; prints its id.
    #[command(help_template = examples!(
        "wrapup interactions create --division 00000000-0000-4000-8000-0000000000a1 --channel chat",
        "ID=$(wrapup interactions create --division 00000000-0000-4000-8000-0000000000a1)",
    ))]
    Create {
        /// The division the interaction belongs to.
        #[arg(long, value_parser = division_id)]
        division: Uuid,
        /// Its medium, e.g. voice, chat, email or message.
        #[arg(long, default_value = "voice", value_parser = parse_channel)]
        channel: Channel,
    },
    /// Move an interaction: queued → active → closed (or queued → closed).
    #[command(help_template = examples!(
        "wrapup interactions set-state $ID active",
        "wrapup interactions set-state $ID closed",
    ))]
    SetState {
        /// The interaction's id.
        #[arg(value_parser = interaction_id)]
        id: Uuid,
        /// The state to move it to: active or closed.
        #[arg(value_parser = parse_target)]
        state: TargetState,
    },
    /// Every wrap-up applied to an interaction, oldest first.
    #[command(help_template = examples!(
        "wrapup interactions history 00000000-0000-4000-8000-0000000000e4",
        "wrapup interactions history $ID --json",
    ))]
    History {
        /// The interaction's id.
        #[arg(value_parser = interaction_id)]
        id: Uuid,
    },
}

/// The order of `interactions list`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sort {
    /// The most recently created first.
    Newest,
    /// In creation order.
    Oldest,
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

/// A wrap-up on one line: code, duration, when, by whom, notes.
fn wrapup_line(w: &WrapUp) -> String {
    format!(
        "\"{}\" ({}), {}, applied {} by {}{}",
        w.code_name,
        w.code_id,
        human_ms(u64::from(w.duration_ms)),
        wrapup_types::timestamp::format(w.applied_at),
        w.applied_by,
        w.notes
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default()
    )
}

pub async fn run(
    cmd: InteractionsCommand,
    global: &Global,
    sources: &Sources,
) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    // Divisions by name in lines for people (a failure to read them leaves the ids).
    let namer = division_namer(&if global.json {
        Vec::new()
    } else {
        client
            .list_divisions()
            .await
            .map(|p| p.entities)
            .unwrap_or_default()
    });
    let line = |i: &wrapup_types::Interaction| interaction_line(i, &namer(i.division_id));
    match cmd {
        InteractionsCommand::Get { id } => {
            let i = client.get_interaction(id).await?;
            if global.json {
                print_json(&i)?;
            } else {
                println!("{}", line(&i));
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
                    println!("  wrap-up {}", wrapup_line(w));
                }
            }
        }
        InteractionsCommand::List {
            state,
            division,
            wrapped_up,
            sort,
            page_size,
            cursor,
            all,
        } => {
            let query = InteractionQuery {
                state,
                division_id: division,
                channel: None,
                wrapped_up,
                sort_order: Some(match sort {
                    Sort::Newest => SortOrder::Desc,
                    Sort::Oldest => SortOrder::Asc,
                }),
                page_size: Some(page_size),
                cursor: None,
            };
            let (entities, next) = collect_pages(all, cursor, |cursor| {
                let mut query = query.clone();
                query.cursor = cursor;
                let client = &client;
                async move { client.list_interactions(&query).await }
            })
            .await?;
            print_list(global.json, &entities, next, line, "interactions")?;
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
                println!("{}", line(&i));
            }
        }
        InteractionsCommand::History { id } => {
            let history = client.wrapup_history(id).await?;
            if global.json {
                print_json(&history)?;
            } else if history.is_empty() {
                println!("(no wrap-up has been applied to {id})");
            } else {
                for (n, w) in history.iter().enumerate() {
                    println!("{}. {}", n + 1, wrapup_line(w));
                }
            }
        }
    }
    Ok(exit::OK)
}
