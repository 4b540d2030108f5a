//! `wrapup notifications channels`: the notification channels of this token, or of the
//! whole OAuth client.

use clap::{Args, ValueEnum};

use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::print_list;

pub const HELP: &str = examples!(
    "wrapup notifications channels",
    "wrapup notifications channels --include token --json",
);

#[derive(Args)]
pub struct ChannelsArgs {
    /// Whose channels: those of any token of the OAuth client (each `wrapup` command gets
    /// a token of its own), or only those created with this command's token.
    #[arg(long, value_enum, default_value_t = Include::Oauthclient)]
    include: Include,
}

#[derive(Clone, Copy, ValueEnum)]
enum Include {
    Token,
    Oauthclient,
}

pub async fn run(args: &ChannelsArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    let include = match args.include {
        Include::Token => "token",
        Include::Oauthclient => "oauthclient",
    };
    let channels = client.notification_channels(Some(include)).await?;
    print_list(
        global.json,
        &channels,
        None,
        |c| {
            format!(
                "{}  expires {}  {}",
                c.id,
                c.expires.as_deref().unwrap_or("?"),
                c.connect_uri
            )
        },
        "channels",
    )?;
    Ok(exit::OK)
}
