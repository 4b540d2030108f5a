//! `wrapup clients create`: an OAuth client, made in the database directly.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use uuid::Uuid;
use wrapup_server::{Clock, SystemClock};
use wrapup_types::{DivisionGrant, ScopeSet};

use crate::commands::db::DbArg;
use crate::exit;
use crate::help::examples;

/// The examples of `wrapup clients --help`.
pub const HELP: &str = examples!(
    "wrapup clients create --db sqlite://wrapup.db --name crm-sync --scopes \"interaction:view interaction:write\" --divisions all",
);

#[derive(Subcommand)]
pub enum ClientsCommand {
    /// Create an OAuth client and print its id and secret (shown only this once).
    #[command(help_template = examples!(
        "wrapup clients create --db sqlite://wrapup.db --name crm-sync --scopes \"interaction:view interaction:write\" --divisions all",
        "wrapup clients create --name sales-only --scopes interaction:view --divisions 00000000-0000-4000-8000-0000000000a1 --json",
    ), after_help = "Use the database the server runs on (--db, or WRAPUP_DB): credentials made in another are refused by that server.")]
    Create(CreateClientArgs),
}

#[derive(Args)]
pub struct CreateClientArgs {
    #[command(flatten)]
    db: DbArg,
    /// A name for the client, to recognise it later.
    #[arg(long)]
    name: String,
    /// Space- or comma-separated scopes: interaction:view interaction:write interaction:manage
    /// wrapup-code:view wrapup-code:manage admin.
    #[arg(long)]
    scopes: String,
    /// `all`, or comma-separated division ids.
    #[arg(long)]
    divisions: String,
}

pub async fn run(cmd: ClientsCommand, json: bool) -> anyhow::Result<u8> {
    let ClientsCommand::Create(args) = cmd;
    let scopes = ScopeSet::parse(&args.scopes).map_err(|s| {
        anyhow::anyhow!(
            "{s} is not a scope; use interaction:view, interaction:write, interaction:manage, wrapup-code:view, wrapup-code:manage or admin"
        )
    })?;
    if scopes.is_empty() {
        bail!("--scopes is empty; give at least one scope");
    }
    let divisions = if args.divisions.trim() == "all" {
        DivisionGrant::All
    } else {
        let ids = args
            .divisions
            .split(',')
            .map(|s| {
                Uuid::parse_str(s.trim())
                    .with_context(|| format!("{s:?} is not a division id (or use --divisions all)"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        DivisionGrant::Only(ids)
    };
    // A relative SQLite path depends on the current directory: a new, empty database there
    // gives credentials the running server (on its own database) refuses. Say so.
    let created = args.db.sqlite_file().filter(|file| !file.exists());
    let store = args.db.open().await?;
    if created.is_some() {
        eprintln!(
            "warning: {} did not exist, so a new, empty database was created there. A server running on another database refuses these credentials: pass its database with --db (or WRAPUP_DB).",
            args.db.described()
        );
    }
    if let DivisionGrant::Only(ids) = &divisions {
        for id in ids {
            if store.get_division(*id).await?.is_none() {
                bail!("no division {id} exists in {}", args.db.shown());
            }
        }
    }
    let name = wrapup_domain::names::check_name("name", &args.name)
        .map_err(|p| anyhow::anyhow!(p.message))?;
    let now = SystemClock.now_ms();
    let (record, secret) =
        wrapup_server::new_client(Uuid::new_v4(), &name, scopes, divisions, now, None);
    store.create_client(&record).await?;
    let scope_list: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    if json {
        println!(
            "{}",
            serde_json::json!({"clientId": record.id, "clientSecret": secret, "scopes": scope_list, "divisions": record.divisions, "database": args.db.described(), "databaseCreated": created.is_some()})
        );
    } else {
        println!(
            "Created OAuth client \"{name}\" in the database {}.",
            args.db.described()
        );
        println!("  client id:     {}", record.id);
        println!("  client secret: {secret}");
        println!("  scopes:        {}", scope_list.join(" "));
        println!("  divisions:     {}", divisions_in_words(&record.divisions));
        println!("\nThe secret is shown only now; store it safely.");
    }
    Ok(exit::OK)
}

/// The divisions a client may see, as a person reads them: `all (…)` or the ids.
fn divisions_in_words(grant: &DivisionGrant) -> String {
    match grant {
        DivisionGrant::All => "all (every division, including ones created later)".to_owned(),
        DivisionGrant::Only(ids) => ids
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisions_read_as_words_not_json() {
        assert_eq!(
            divisions_in_words(&DivisionGrant::All),
            "all (every division, including ones created later)"
        );
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        assert_eq!(
            divisions_in_words(&DivisionGrant::Only(vec![a, b])),
            format!("{a}, {b}")
        );
    }
}
