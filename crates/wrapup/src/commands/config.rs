//! `wrapup config show`: the settings the client commands use, and where each comes from.

use clap::Subcommand;

use crate::config;
use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::print_json;

/// The examples of `wrapup config --help`.
pub const HELP: &str = examples!("wrapup config show", "wrapup --profile prod config show",);

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print the URL, profile and credentials in effect (secrets masked) and their sources.
    #[command(help_template = examples!(
        "wrapup config show",
        "wrapup --profile prod config show --json",
    ))]
    Show,
}

pub fn run(cmd: ConfigCommand, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let ConfigCommand::Show = cmd;
    let mut settings = global.settings(sources)?;
    for secret in [&mut settings.client_secret, &mut settings.token] {
        secret.value = secret.value.as_deref().map(config::mask);
    }
    if global.json {
        print_json(&settings)?;
        return Ok(exit::OK);
    }
    let file = settings
        .config_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| {
            format!(
                "none ({} does not exist)",
                config::default_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        });
    println!("config file:    {file}");
    println!(
        "profile:        {}",
        settings.profile.as_deref().unwrap_or("none")
    );
    for (label, s) in [
        ("url", &settings.url),
        ("client id", &settings.client_id),
        ("client secret", &settings.client_secret),
        ("token", &settings.token),
        ("scope", &settings.scope),
    ] {
        println!(
            "{:<15} {:<48} ({})",
            format!("{label}:"),
            s.value.as_deref().unwrap_or("-"),
            s.source
        );
    }
    Ok(exit::OK)
}
