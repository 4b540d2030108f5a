//! `wrapup users list|create`: the agents who answer interactions
//! (docs/api.md#queues-and-agents).

use clap::Subcommand;
use uuid::Uuid;
use wrapup_types::{CreateUser, User};

use crate::commands::ids::division_id;
use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::{print_json, print_list};

/// The examples of `wrapup users --help`.
pub const HELP: &str = examples!(
    "wrapup users list",
    "wrapup users create --division 00000000-0000-4000-8000-0000000000a1 --name \"Ada Agent\" --email ada@example.com",
);

#[derive(Subcommand)]
pub enum UsersCommand {
    /// List the agents: id, name, email, division.
    #[command(help_template = examples!("wrapup users list", "wrapup users list --json"))]
    List,
    /// Create an agent (needs the admin scope).
    #[command(help_template = examples!(
        "wrapup users create --division $DIV --name \"Ada Agent\" --email ada@example.com",
    ))]
    Create {
        /// The agent's division id (`wrapup divisions list` shows them).
        #[arg(long, value_parser = division_id)]
        division: Uuid,
        /// The agent's name, as the Genesys participant shows it: 1 to 100 characters.
        #[arg(long)]
        name: String,
        /// The agent's email address.
        #[arg(long)]
        email: String,
    },
}

fn user_line(u: &User) -> String {
    format!(
        "{}  {}  {}  division {}",
        u.id, u.name, u.email, u.division.name
    )
}

pub async fn run(cmd: UsersCommand, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    match cmd {
        UsersCommand::List => {
            let listing = client.list_users().await?;
            print_list(global.json, &listing.entities, None, user_line, "agents")?;
        }
        UsersCommand::Create {
            division,
            name,
            email,
        } => {
            let user = client
                .create_user(&CreateUser {
                    name,
                    email,
                    division_id: division,
                })
                .await?;
            if global.json {
                print_json(&user)?;
            } else {
                println!("{}", user_line(&user));
            }
        }
    }
    Ok(exit::OK)
}
