//! `wrapup notifications listen|channels|topics`: the Genesys notification channels
//! (docs/genesys.md#notifications), one command per file.

mod channels;
mod listen;
mod topics;

use clap::Subcommand;

use crate::global::{Global, Sources};
use crate::help::examples;

/// The examples of `wrapup notifications --help`.
pub const HELP: &str = examples!(
    "wrapup notifications listen --conversation 00000000-0000-4000-8000-0000000000e3",
    "wrapup notifications listen --topic v2.routing.queues.00000000-0000-4000-8000-0000000000b1.conversations --json",
    "wrapup notifications topics",
    "wrapup notifications channels",
);

#[derive(Subcommand)]
pub enum NotificationsCommand {
    /// Open a notification channel, subscribe it to topics and print their events as they
    /// come, reconnecting without losing any.
    #[command(help_template = listen::HELP, after_help = listen::AFTER_HELP)]
    Listen(listen::ListenArgs),
    /// List the notification channels of the OAuth client (or of this command's token).
    #[command(help_template = channels::HELP)]
    Channels(channels::ChannelsArgs),
    /// List the topics a channel can subscribe to, with the permissions each needs.
    #[command(help_template = topics::HELP)]
    Topics,
}

pub async fn run(
    cmd: NotificationsCommand,
    global: &Global,
    sources: &Sources,
) -> anyhow::Result<u8> {
    match cmd {
        NotificationsCommand::Listen(args) => listen::run(args, global, sources).await,
        NotificationsCommand::Channels(args) => channels::run(&args, global, sources).await,
        NotificationsCommand::Topics => topics::run(global, sources).await,
    }
}
