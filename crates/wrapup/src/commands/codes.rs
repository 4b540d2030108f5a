//! `wrapup codes list|create|archive`.

use clap::Subcommand;
use uuid::Uuid;
use wrapup_client::{division_namer, Client, CodeQuery};
use wrapup_types::CreateWrapUpCode;

use crate::commands::ids::{code_id, division_id};
use crate::commands::pages::collect_pages;
use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::{code_line, print_json, print_list};

/// A division's name for a line of output, or its id if it cannot be read.
async fn division_label(client: &Client, id: Uuid) -> String {
    match client.list_divisions().await {
        Ok(page) => division_namer(&page.entities)(id),
        Err(_) => id.to_string(),
    }
}

/// The examples of `wrapup codes --help`.
pub const HELP: &str = examples!(
    "wrapup codes list --division 00000000-0000-4000-8000-0000000000a1",
    "wrapup codes create --division 00000000-0000-4000-8000-0000000000a1 --name Upsell",
    "wrapup codes archive 00000000-0000-4000-8000-0000000000c4",
);

#[derive(Subcommand)]
pub enum CodesCommand {
    /// List wrap-up codes, with their division's name.
    #[command(help_template = examples!(
        "wrapup codes list --division 00000000-0000-4000-8000-0000000000a1",
        "wrapup codes list --name sale --include-archived --json",
    ))]
    List {
        /// Only the codes of this division.
        #[arg(long, value_parser = division_id)]
        division: Option<Uuid>,
        /// Exact name, ignoring case.
        #[arg(long)]
        name: Option<String>,
        /// Archived codes too.
        #[arg(long)]
        include_archived: bool,
        /// Continue after this cursor (printed after each page).
        #[arg(long)]
        cursor: Option<String>,
        /// Follow every page.
        #[arg(long)]
        all: bool,
    },
    /// Create a wrap-up code in a division.
    #[command(help_template = examples!(
        "wrapup codes create --division 00000000-0000-4000-8000-0000000000a1 --name Upsell --description \"Bought more\"",
        "wrapup codes create --division $DIV --name \"No answer\" --json",
    ))]
    Create {
        /// The division the code belongs to (it can be applied to its interactions only).
        #[arg(long, value_parser = division_id)]
        division: Uuid,
        /// The code's name, unique in its division ignoring case (1 to 100 characters).
        #[arg(long)]
        name: String,
        /// What the code means (at most 1,024 characters).
        #[arg(long)]
        description: Option<String>,
    },
    /// Archive (delete) a code: it can no longer be applied, read or listed (except with
    /// --include-archived), and stays in wrap-up history.
    #[command(help_template = examples!(
        "wrapup codes archive 00000000-0000-4000-8000-0000000000c4",
    ))]
    Archive {
        /// The code's id.
        #[arg(value_parser = code_id)]
        id: Uuid,
    },
}

pub async fn run(cmd: CodesCommand, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    match cmd {
        CodesCommand::List {
            division,
            name,
            include_archived,
            cursor,
            all,
        } => {
            let query = CodeQuery {
                division_id: division,
                name,
                include_archived: Some(include_archived),
                page_size: Some(100),
                cursor: None,
            };
            let (entities, next) = collect_pages(all, cursor, |cursor| {
                let mut query = query.clone();
                query.cursor = cursor;
                let client = &client;
                async move { client.list_codes(&query).await }
            })
            .await?;
            // Divisions by name: every command wants a division id, and a name says which.
            let divisions = if global.json {
                Vec::new()
            } else {
                client.list_divisions().await?.entities
            };
            let namer = division_namer(&divisions);
            print_list(
                global.json,
                &entities,
                next,
                |c| code_line(c, &namer(c.division_id)),
                "codes",
            )?;
        }
        CodesCommand::Create {
            division,
            name,
            description,
        } => {
            let c = client
                .create_code(&CreateWrapUpCode {
                    name,
                    division_id: division,
                    description,
                })
                .await?;
            if global.json {
                print_json(&c)?;
            } else {
                println!(
                    "{}",
                    code_line(&c, &division_label(&client, c.division_id).await)
                );
            }
        }
        CodesCommand::Archive { id } => {
            client.archive_code(id).await?;
            if global.json {
                print_json(&serde_json::json!({"id": id, "archived": true}))?;
            } else {
                println!(
                    "{id}  (archived) — no longer applied, read or listed; kept in wrap-up history"
                );
            }
        }
    }
    Ok(exit::OK)
}
