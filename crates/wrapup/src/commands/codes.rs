//! `wrapup codes list|create|archive`.

use clap::Subcommand;
use uuid::Uuid;
use wrapup_client::CodeQuery;
use wrapup_types::CreateWrapUpCode;

use crate::commands::pages::collect_pages;
use crate::exit;
use crate::global::{Global, Sources};
use crate::render::{code_line, print_json, print_list};

#[derive(Subcommand)]
pub enum CodesCommand {
    /// List wrap-up codes.
    #[command(
        after_help = "Examples:\n  wrapup codes list --division 00000000-0000-4000-8000-0000000000a1\n  wrapup codes list --name sale --include-archived --json"
    )]
    List {
        #[arg(long)]
        division: Option<Uuid>,
        /// Exact name, ignoring case.
        #[arg(long)]
        name: Option<String>,
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
    #[command(
        after_help = "Example:\n  wrapup codes create --division 00000000-0000-4000-8000-0000000000a1 --name \"Upsell\" --description \"Bought more\""
    )]
    Create {
        #[arg(long)]
        division: Uuid,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Archive (delete) a code: it can no longer be applied, read or listed (except with
    /// --include-archived), and stays in wrap-up history.
    #[command(
        after_help = "Example:\n  wrapup codes archive 00000000-0000-4000-8000-0000000000c4"
    )]
    Archive { id: Uuid },
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
            print_list(global.json, &entities, next, code_line, "codes")?;
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
                println!("{}", code_line(&c));
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
