//! `wrapup divisions list|create`: every interaction and code is in a division, and most
//! commands want a division's id.

use clap::Subcommand;

use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::{division_line, print_json, print_list};

/// The examples of `wrapup divisions --help`.
pub const HELP: &str = examples!(
    "wrapup divisions list",
    "wrapup divisions create --name Retention",
);

#[derive(Subcommand)]
pub enum DivisionsCommand {
    /// List the divisions this client is granted: id and name.
    #[command(help_template = examples!(
        "wrapup divisions list",
        "wrapup divisions list --json",
    ))]
    List,
    /// Create a division (needs the admin scope); prints its id and name.
    #[command(help_template = examples!(
        "wrapup divisions create --name Retention",
        "DIV=$(wrapup divisions create --name Retention --json | jq -r .id)",
    ))]
    Create {
        /// 1 to 100 characters, unique ignoring case.
        #[arg(long)]
        name: String,
    },
}

pub async fn run(cmd: DivisionsCommand, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    match cmd {
        DivisionsCommand::List => {
            let page = client.list_divisions().await?;
            print_list(
                global.json,
                &page.entities,
                None,
                division_line,
                "divisions",
            )?;
            if page.next_cursor.is_some() {
                eprintln!("(the first 500 divisions; the API lists the rest page by page: GET /api/v2/authorization/divisions?cursor=…)");
            }
        }
        DivisionsCommand::Create { name } => {
            let division = client.create_division(&name).await?;
            if global.json {
                print_json(&division)?;
            } else {
                println!("{}", division_line(&division));
            }
        }
    }
    Ok(exit::OK)
}
