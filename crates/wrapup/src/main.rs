//! `wrapup`: run the server, and apply wrap-ups to it (or any server of this API) the
//! careful way.
//!
//! This file is the top-level command line: the list of commands, the global options, and
//! the one place an error becomes an exit code and a message. Each command (its arguments
//! and what it does) is a file of `commands/`.

#![forbid(unsafe_code)]

mod commands;
mod config;
mod exit;
mod global;
mod output;
mod render;
mod signals;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::apply::ApplyArgs;
use crate::commands::batch::BatchArgs;
use crate::commands::clients::ClientsCommand;
use crate::commands::codes::CodesCommand;
use crate::commands::config::ConfigCommand;
use crate::commands::db::DbArg;
use crate::commands::doctor::DoctorArgs;
use crate::commands::interactions::InteractionsCommand;
use crate::commands::lint::LintArgs;
use crate::commands::seed::SeedArgs;
use crate::commands::serve::ServeArgs;
use crate::commands::simulate::SimulateArgs;
use crate::commands::webhooks::WebhooksCommand;
use crate::exit::exit_codes;
use crate::global::{Global, LogFormat, Sources};

#[cfg(test)]
const EXIT_CODES: &str = exit_codes!();

#[derive(Parser)]
#[command(
    name = "wrapup",
    version,
    about = "Apply wrap-up codes to contact-center interactions reliably, and run the platform that checks them.",
    long_about = "Apply wrap-up codes to contact-center interactions reliably, and run the platform that checks them.\n\n\
Client commands (apply, doctor, lint, interactions, codes, webhooks, token) talk to a server given by --url,\n\
WRAPUP_URL or a profile of ~/.config/wrapup/config.toml, with OAuth client credentials from\n\
--client-id/--client-secret, WRAPUP_CLIENT_ID/WRAPUP_CLIENT_SECRET or the profile.\n\
Server commands (serve, clients, migrate) work on the database directly.",
    after_help = concat!(
        "Examples:\n  wrapup serve --demo\n  export WRAPUP_CLIENT_ID=00000000-0000-4000-8000-00000000d001 WRAPUP_CLIENT_SECRET=demo-secret-not-for-production\n  \
wrapup apply 00000000-0000-4000-8000-0000000000e3 --code Sale --duration 2m\n  \
wrapup doctor 00000000-0000-4000-8000-0000000000e2 --code Sale --duration 2m\n  echo '{\"codeId\": 5}' | wrapup lint\n\n",
        exit_codes!()
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

#[derive(Subcommand)]
enum Command {
    /// Apply a wrap-up: wait until the interaction is closed and finalized, then send it.
    #[command(after_help = commands::apply::AFTER_HELP)]
    Apply(ApplyArgs),
    /// Check everything a wrap-up needs, change nothing, and say how to fix what fails.
    #[command(after_help = commands::doctor::AFTER_HELP)]
    Doctor(DoctorArgs),
    /// Apply wrap-ups from a file by the thousand, with a journal: nothing lost, nothing twice.
    #[command(after_help = commands::batch::AFTER_HELP)]
    Batch(BatchArgs),
    /// Drive interactions through their lifecycle (create, activate, close), for demos and tests.
    #[command(after_help = commands::simulate::AFTER_HELP)]
    Simulate(SimulateArgs),
    /// Validate a wrap-up request body offline, with the server's own rules.
    #[command(after_help = commands::lint::AFTER_HELP)]
    Lint(LintArgs),
    /// Read, list, create interactions and move them through their lifecycle.
    #[command(subcommand)]
    Interactions(InteractionsCommand),
    /// List, create and archive wrap-up codes.
    #[command(subcommand)]
    Codes(CodesCommand),
    /// Print an access token for scripts (fetched with the configured credentials).
    #[command(after_help = commands::token::AFTER_HELP)]
    Token,
    /// Webhook endpoints: create, list, update, rotate secrets, read delivery logs, replay,
    /// and listen locally (docs/webhooks.md).
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Show the settings the client commands use, and where each comes from.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the server.
    #[command(after_help = commands::serve::AFTER_HELP)]
    Serve(ServeArgs),
    /// Manage OAuth clients (on the database directly).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Bulk-insert closed, finalized interactions for load tests (on the database directly).
    #[command(after_help = commands::seed::AFTER_HELP)]
    Seed(SeedArgs),
    /// Create or migrate the database, then exit.
    #[command(after_help = commands::migrate::AFTER_HELP)]
    Migrate(DbArg),
}

/// mimalloc: glibc's malloc and free were 30% of the instructions of a GET (see
/// docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return usage_exit(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_exit(e),
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WRAPUP_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(default_log_filter(&cli.command))
            }),
        )
        .with_writer(std::io::stderr);
    match cli.global.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let sources = Sources::of(&matches);
    let code = runtime.block_on(run(cli, sources));
    // Tasks still running (requests a shutdown cut short) end with the runtime; a blocking
    // read still in progress gets a moment, not a veto on exiting.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    ExitCode::from(code)
}

fn usage_exit(e: clap::Error) -> ExitCode {
    let _ = e.print();
    if e.use_stderr() {
        ExitCode::from(exit::USAGE)
    } else {
        ExitCode::SUCCESS
    }
}

/// The server logs every request; the client commands only warnings (their output is
/// the point).
fn default_log_filter(command: &Command) -> &'static str {
    match command {
        Command::Serve(_) => "info,sqlx=warn",
        _ => "warn",
    }
}

async fn run(cli: Cli, sources: Sources) -> u8 {
    let global = cli.global;
    let outcome = match cli.command {
        Command::Apply(args) => commands::apply::run(&args, &global, &sources).await,
        Command::Doctor(args) => commands::doctor::run(&args, &global, &sources).await,
        Command::Batch(args) => commands::batch::run(&args, &global, &sources).await,
        Command::Simulate(args) => commands::simulate::run(&args, &global, &sources).await,
        Command::Lint(args) => commands::lint::run(&args, &global),
        Command::Interactions(cmd) => commands::interactions::run(cmd, &global, &sources).await,
        Command::Codes(cmd) => commands::codes::run(cmd, &global, &sources).await,
        Command::Token => commands::token::run(&global, &sources).await,
        Command::Webhooks(cmd) => commands::webhooks::run(cmd, &global, &sources).await,
        Command::Config(cmd) => commands::config::run(cmd, &global, &sources),
        Command::Serve(args) => commands::serve::run(args).await,
        Command::Clients(cmd) => commands::clients::run(cmd, global.json).await,
        Command::Seed(args) => commands::seed::run(args, global.json).await,
        Command::Migrate(args) => commands::migrate::run(args).await,
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            let (code, message) = output::classify(&e);
            if global.json {
                println!(
                    "{}",
                    serde_json::json!({"error": message, "exitCode": code})
                );
            }
            eprintln!("error: {message}");
            code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command's `--help` teaches by example.
    #[test]
    fn every_command_has_an_example() {
        fn walk(cmd: &clap::Command, path: &str) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_subcommands().next().is_none() {
                let help = cmd
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(help.contains("Example"), "`{path} --help` has no example");
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path);
            }
        }
        Cli::command().debug_assert();
        walk(&Cli::command(), "");
    }

    #[test]
    fn the_exit_codes_are_documented_where_they_are_defined() {
        for (code, what) in [
            (exit::OK, "success"),
            (exit::FAILURE, "other failure"),
            (exit::USAGE, "usage error"),
            (exit::REJECTED, "rejected"),
            (exit::TIMED_OUT, "timed out"),
            (exit::UNREACHABLE, "cannot reach"),
            (exit::INTERRUPTED, "interrupted"),
        ] {
            assert!(
                EXIT_CODES.contains(&format!("{code}  {what}")),
                "{code} {what}"
            );
        }
        let help = Cli::command().get_after_help().unwrap().to_string();
        assert!(help.contains(EXIT_CODES));
    }
}
