//! `wrapup`: run the server, and apply wrap-ups to it (or any server of this API) the
//! careful way.
//!
//! This file is the top-level command line: the list of commands, the global options, and
//! the one place an error becomes an exit code and a message. Each command (its arguments
//! and what it does) is a file of `commands/`.

mod commands;
mod config;
mod exit;
mod global;
mod guess;
mod help;
mod output;
mod render;
mod signals;
#[cfg(test)]
mod tree_tests;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::apply::ApplyArgs;
use crate::commands::batch::BatchArgs;
use crate::commands::clients::ClientsCommand;
use crate::commands::codes::CodesCommand;
use crate::commands::config::ConfigCommand;
use crate::commands::db::DbArg;
use crate::commands::divisions::DivisionsCommand;
use crate::commands::doctor::DoctorArgs;
use crate::commands::interactions::InteractionsCommand;
use crate::commands::lint::LintArgs;
use crate::commands::notifications::NotificationsCommand;
use crate::commands::queues::QueuesCommand;
use crate::commands::seed::SeedArgs;
use crate::commands::serve::{LogFormat, ServeArgs};
use crate::commands::simulate::SimulateArgs;
use crate::commands::users::UsersCommand;
use crate::commands::webhooks::WebhooksCommand;
use crate::exit::exit_codes;
use crate::global::{Global, Sources};
use crate::help::examples;

#[cfg(test)]
const EXIT_CODES: &str = exit_codes!();

#[derive(Parser)]
#[command(
    name = "wrapup",
    version,
    about = "Apply wrap-up codes to contact-center interactions reliably, and run the platform that checks them.",
    long_about = "Apply wrap-up codes to contact-center interactions reliably, and run the platform that checks them.\n\n\
Client commands (apply, doctor, interactions, codes, divisions, batch, simulate, webhooks,\n\
notifications, token) talk to a server given by --url, WRAPUP_URL or a profile of\n\
~/.config/wrapup/config.toml, with OAuth client credentials from the environment\n\
(WRAPUP_CLIENT_ID, WRAPUP_CLIENT_SECRET), the profile, or --client-id/--client-secret.\n\
`lint` works offline. Server commands (serve, clients, seed, migrate) work on the database directly.",
    help_template = examples!(
        "wrapup serve --demo",
        "export WRAPUP_CLIENT_ID=00000000-0000-4000-8000-00000000d001 WRAPUP_CLIENT_SECRET=demo-secret-not-for-production",
        "wrapup doctor 00000000-0000-4000-8000-0000000000e2 --code Sale --duration 2m",
        "wrapup apply 00000000-0000-4000-8000-0000000000e3 --code Sale --duration 2m",
        "echo '{\"codeId\": 5}' | wrapup lint",
    ),
    after_help = exit_codes!()
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
    #[command(help_template = commands::apply::HELP, after_help = commands::apply::AFTER_HELP)]
    Apply(ApplyArgs),
    /// Check everything a wrap-up needs, change nothing, and say how to fix what fails.
    #[command(help_template = commands::doctor::HELP, after_help = commands::doctor::AFTER_HELP)]
    Doctor(DoctorArgs),
    /// Apply wrap-ups from a file by the thousand, with a journal: nothing lost, nothing twice.
    #[command(help_template = commands::batch::HELP, after_help = commands::batch::AFTER_HELP)]
    Batch(BatchArgs),
    /// Drive interactions through their lifecycle (create, activate, close), for demos and tests.
    #[command(help_template = commands::simulate::HELP, after_help = commands::simulate::AFTER_HELP)]
    Simulate(SimulateArgs),
    /// Validate a wrap-up request body offline, with the server's own rules.
    #[command(help_template = commands::lint::HELP, after_help = commands::lint::AFTER_HELP)]
    Lint(LintArgs),
    /// Read, list, create interactions, move them through their lifecycle, show their wrap-ups.
    #[command(subcommand, help_template = commands::interactions::HELP)]
    Interactions(InteractionsCommand),
    /// List, create and archive wrap-up codes.
    #[command(subcommand, help_template = commands::codes::HELP)]
    Codes(CodesCommand),
    /// List and create divisions (every interaction and code is in one).
    #[command(subcommand, help_template = commands::divisions::HELP)]
    Divisions(DivisionsCommand),
    /// List and create queues, with their wrap-up prompt and codes.
    #[command(subcommand, help_template = commands::queues::HELP)]
    Queues(QueuesCommand),
    /// List and create agents (users).
    #[command(subcommand, help_template = commands::users::HELP)]
    Users(UsersCommand),
    /// Print an access token for scripts (fetched with the configured credentials).
    #[command(help_template = commands::token::HELP)]
    Token,
    /// Webhook endpoints: create, list, update, rotate secrets, read delivery logs, replay,
    /// and listen locally (docs/webhooks.md).
    #[command(subcommand, help_template = commands::webhooks::HELP)]
    Webhooks(WebhooksCommand),
    /// Genesys notification channels: listen to topics over a websocket (conversations'
    /// after-call work and wrap-ups, queues, agents), list channels and topics
    /// (docs/genesys.md#notifications).
    #[command(subcommand, help_template = commands::notifications::HELP)]
    Notifications(NotificationsCommand),
    /// Show the settings the client commands use, and where each comes from.
    #[command(subcommand, help_template = commands::config::HELP)]
    Config(ConfigCommand),
    /// Run the server.
    #[command(help_template = commands::serve::HELP, after_help = commands::serve::AFTER_HELP)]
    Serve(Box<ServeArgs>),
    /// Manage OAuth clients (on the database directly).
    #[command(subcommand, help_template = commands::clients::HELP)]
    Clients(ClientsCommand),
    /// Bulk-insert closed, finalized interactions for load tests (on the database directly).
    #[command(help_template = commands::seed::HELP, after_help = commands::seed::AFTER_HELP)]
    Seed(SeedArgs),
    /// Create or migrate the database, then exit.
    #[command(help_template = commands::migrate::HELP)]
    Migrate(DbArg),
}

/// mimalloc: glibc's malloc and free were 30% of the instructions of a GET (see
/// docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs this command again in this process (`exec`: the same pid, arguments, standard
/// streams) with `MIMALLOC_ALLOW_THP=0`, unless the variable is set already. mimalloc
/// reads it when the process starts, before `main`, and then turns transparent huge pages
/// off for the process: otherwise it asks for them on its arena, and every 2 MiB region the
/// allocator touches is resident in full: `wrapup batch`'s 30 MiB became 65 MiB
/// (docs/benchmarks.md, "Batch throughput and memory"). Only for `batch`: the server's
/// memory is not bounded this way. When `exec` fails, the command runs as it is.
#[cfg(target_os = "linux")]
fn without_huge_pages() {
    use std::os::unix::process::CommandExt;
    const ALLOW_THP: &str = "MIMALLOC_ALLOW_THP";
    if std::env::var_os(ALLOW_THP).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut again = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        again.arg0(arg0);
    }
    // Returns only if it failed.
    let _ = again.args(args).env(ALLOW_THP, "0").exec();
}

/// Transparent huge pages are a Linux matter.
#[cfg(not(target_os = "linux"))]
fn without_huge_pages() {}

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return usage_exit(guess::improve(e, &Cli::command())),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_exit(e),
    };
    if matches!(cli.command, Command::Batch(_)) {
        without_huge_pages();
    }
    let logs = tracing_subscriber::fmt()
        // Colour only for a person at a terminal, not in a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WRAPUP_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(default_log_filter(&cli.command))
            }),
        )
        .with_writer(std::io::stderr);
    // The client commands' warnings are for the person reading them: always text.
    match &cli.command {
        Command::Serve(args) if matches!(args.log_format, LogFormat::Json) => logs.json().init(),
        _ => logs.init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let sources = Sources::from_env();
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
        Command::Divisions(cmd) => commands::divisions::run(cmd, &global, &sources).await,
        Command::Queues(cmd) => commands::queues::run(cmd, &global, &sources).await,
        Command::Users(cmd) => commands::users::run(cmd, &global, &sources).await,
        Command::Token => commands::token::run(&global, &sources).await,
        Command::Webhooks(cmd) => commands::webhooks::run(cmd, &global, &sources).await,
        Command::Notifications(cmd) => commands::notifications::run(cmd, &global, &sources).await,
        Command::Config(cmd) => commands::config::run(cmd, &global, &sources),
        Command::Serve(args) => commands::serve::run(*args).await,
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

    /// Every command and subcommand (groups too) has examples in its `--help`, every
    /// example is a command line `wrapup` accepts, and no example is ever split: rendered
    /// at a narrow width, each comes out whole on a line of its own.
    #[test]
    fn every_command_has_examples_that_parse_and_are_never_wrapped() {
        fn walk(cmd: &clap::Command, path: &str, seen: &mut usize) {
            let path = format!("{path} {}", cmd.get_name()).trim().to_string();
            // Never wrapped at all (width 0): the examples as written.
            let examples = help::examples_in(&cmd.clone().term_width(0).render_help().to_string());
            assert!(!examples.is_empty(), "`{path} --help` has no example");
            for width in [40, 60] {
                let mut narrow = cmd.clone().term_width(width);
                for help in [narrow.render_help(), narrow.render_long_help()] {
                    let help = help.to_string();
                    for example in &examples {
                        assert!(
                            help.lines().any(|l| l == format!("  {example}")),
                            "`{path} --help` at {width} columns splits\n  {example}\n{help}"
                        );
                    }
                }
            }
            for example in &examples {
                // Quoted JSON came through clap's template whole.
                for quoted in example.split('\'').skip(1).step_by(2) {
                    if quoted.starts_with('{') {
                        assert!(
                            serde_json::from_str::<serde_json::Value>(quoted).is_ok(),
                            "`{path} --help`: the JSON of `{example}` was mangled"
                        );
                    }
                }
                let Some(words) = help::command_words(example) else {
                    continue;
                };
                let parsed = Cli::command().try_get_matches_from(&words);
                assert!(
                    parsed.is_ok(),
                    "`{path} --help`: the example `{example}` does not parse: {}",
                    parsed.err().unwrap()
                );
                *seen += 1;
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path, seen);
            }
        }
        Cli::command().debug_assert();
        let mut parsed = 0;
        walk(&Cli::command(), "", &mut parsed);
        assert!(parsed > 30, "{parsed} examples parsed");
    }

    /// A usage error does not list the connection settings the environment or a profile
    /// supplies, as if they had to be flags.
    #[test]
    fn usage_lines_do_not_ask_for_credentials_as_flags() {
        let error = Cli::command()
            .try_get_matches_from([
                "wrapup",
                "apply",
                "00000000-0000-4000-8000-0000000000e3",
                "--duration",
                "2m",
            ])
            .unwrap_err()
            .to_string();
        assert!(error.contains("--code <CODE>"), "{error}");
        assert!(!error.contains("--client-secret"), "{error}");
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
