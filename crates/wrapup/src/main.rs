//! `wrapup`: run the server, and apply wrap-ups to it (or any server of this API) the
//! careful way.

#![forbid(unsafe_code)]

mod batch_cmds;
mod client_cmds;
mod config;
mod output;
mod server_cmds;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::batch_cmds::{BatchArgs, SimulateArgs};
use crate::client_cmds::{
    ApplyArgs, CodesCommand, ConfigCommand, DoctorArgs, InteractionsCommand, LintArgs,
};
use crate::server_cmds::{ClientsCommand, DbArg, SeedArgs, ServeArgs};

/// Exit codes (documented in the README and in `wrapup --help`).
pub mod exit {
    pub const OK: u8 = 0;
    /// The command failed for another reason (a file, the database, a bad setting).
    pub const FAILURE: u8 = 1;
    /// Usage error: unknown flag, missing or malformed argument.
    pub const USAGE: u8 = 2;
    /// The server refused the request (or lint/doctor found it would).
    pub const REJECTED: u8 = 3;
    /// Timed out waiting for the interaction to be ready.
    pub const TIMED_OUT: u8 = 4;
    /// Cannot reach the server, or cannot authenticate.
    pub const UNREACHABLE: u8 = 5;
}

/// The exit-code table of `--help` (a macro, so `concat!` can use it).
macro_rules! exit_codes {
    () => {
        "Exit codes:\n  0  success\n  1  other failure (file, database, setting)\n  2  usage error\n  \
3  rejected by the server (or lint/doctor found the request would be)\n  4  timed out waiting for the interaction\n  \
5  cannot reach the server or authenticate"
    };
}

#[cfg(test)]
const EXIT_CODES: &str = exit_codes!();

#[derive(Parser)]
#[command(
    name = "wrapup",
    version,
    about = "Apply wrap-up codes to contact-center interactions reliably, and run the platform that checks them.",
    long_about = "Apply wrap-up codes to contact-center interactions reliably, and run the platform that checks them.\n\n\
Client commands (apply, doctor, lint, interactions, codes, token) talk to a server given by --url,\n\
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

/// Options every command accepts.
#[derive(Args, Clone)]
pub struct Global {
    /// Server URL [env: WRAPUP_URL; default: the profile's, or http://127.0.0.1:8080].
    #[arg(long, global = true, env = "WRAPUP_URL", hide_env = true)]
    url: Option<String>,
    /// OAuth client id [env: WRAPUP_CLIENT_ID].
    #[arg(long, global = true, env = "WRAPUP_CLIENT_ID", hide_env = true)]
    client_id: Option<String>,
    /// OAuth client secret [env: WRAPUP_CLIENT_SECRET]; prefer the environment or a
    /// profile to a flag, which other users can see in the process list.
    #[arg(
        long,
        global = true,
        env = "WRAPUP_CLIENT_SECRET",
        hide_env_values = true,
        hide_env = true
    )]
    client_secret: Option<String>,
    /// A ready access token instead of client credentials [env: WRAPUP_TOKEN].
    #[arg(
        long,
        global = true,
        env = "WRAPUP_TOKEN",
        hide_env_values = true,
        hide_env = true
    )]
    token: Option<String>,
    /// Narrow the token to these space-separated scopes [env: WRAPUP_SCOPE].
    #[arg(long, global = true, env = "WRAPUP_SCOPE", hide_env = true)]
    scope: Option<String>,
    /// Profile of the config file to use [env: WRAPUP_PROFILE].
    #[arg(long, global = true, env = "WRAPUP_PROFILE", hide_env = true)]
    profile: Option<String>,
    /// Config file [env: WRAPUP_CONFIG; default: ~/.config/wrapup/config.toml].
    #[arg(long, global = true, env = "WRAPUP_CONFIG", hide_env = true)]
    config: Option<PathBuf>,
    /// Print JSON (one document on stdout) instead of text, for scripts.
    #[arg(long, global = true)]
    json: bool,
    /// Show every HTTP request and response on stderr (the token masked).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Log format of `serve` on stderr: text, or json (one object per line). Filter with
    /// WRAPUP_LOG, e.g. WRAPUP_LOG=debug.
    #[arg(long, global = true, env = "WRAPUP_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Apply a wrap-up: wait until the interaction is closed and finalized, then send it.
    #[command(after_help = concat!(
        "Examples:\n  wrapup apply 00000000-0000-4000-8000-0000000000e3 --code Sale --duration 2m\n  \
wrapup apply $ID --code 7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11 --duration 1h30m --notes \"Upgraded\" --wait 10m\n  \
wrapup apply $ID --code Sale --duration 120s --curl      # print the equivalent curl, send nothing\n\n\
The code is a UUID, or a name looked up (ignoring case) in the interaction's division.\n\
The duration is milliseconds (120000) or units: 120s, 2m, 1h30m, 1500ms.\n\
Applying the same wrap-up again succeeds and changes nothing; a different one replaces it.\n\n",
        exit_codes!()
    ))]
    Apply(ApplyArgs),
    /// Check everything a wrap-up needs, change nothing, and say how to fix what fails.
    #[command(after_help = concat!(
        "Examples:\n  wrapup doctor 00000000-0000-4000-8000-0000000000e2 --code Sale --duration 2m\n  \
wrapup doctor $ID --code Resolved --duration 120000 --json\n\n\
Checks: server reachable, credentials valid, token scopes, interaction visible, closed,\n\
finalized, code exists, not archived, in the interaction's division, payload valid.\n\
Exits 0 only if a PUT would succeed now.\n\n",
        exit_codes!()
    ))]
    Doctor(DoctorArgs),
    /// Apply wrap-ups from a file by the thousand, with a journal: nothing lost, nothing twice.
    #[command(after_help = concat!(
        "Examples:\n  wrapup batch wrapups.jsonl --report results.jsonl\n  \
wrapup batch export.csv --concurrency 32 --wait 30m\n  \
wrapup batch wrapups.jsonl --dry-run          # check every row, apply nothing\n  \
cat rows.jsonl | wrapup batch - --journal rows.journal.db\n\n\
Each row: {\"interactionId\": \"…\", \"code\": \"Sale\" (or an id), \"durationMs\": 120000 (or \"duration\": \"2m\"), \"notes\": \"…\"}\n\
(JSON Lines), or CSV with a header row of the same names. Interrupted? Run the same command\n\
again: done rows are skipped, an in-flight row is checked before it is sent again.\n\
Exits 0 when every row is applied (or was already), 3 when some failed, 4 when some timed out.\n\n",
        exit_codes!()
    ))]
    Batch(BatchArgs),
    /// Drive interactions through their lifecycle (create, activate, close), for demos and tests.
    #[command(
        after_help = "Examples:\n  wrapup simulate --division 00000000-0000-4000-8000-0000000000a1 --interactions 100 --rate 20/s\n  \
wrapup simulate --division $DIV --interactions 1000 --rate 100/s --close-after 0s..5s --batch-code Sale > rows.jsonl\n\n\
Prints each interaction id (or, with --batch-code, a batch input line) as it is created."
    )]
    Simulate(SimulateArgs),
    /// Validate a wrap-up request body offline, with the server's own rules.
    #[command(
        after_help = "Examples:\n  wrapup lint body.json\n  echo '{\"wrapUpCode\": {\"id\": \"7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11\"}}' | wrapup lint\n  \
wrapup lint - --json < body.json\n\nExits 0 when the body is valid, 3 when the server would reject it, 1 when the file cannot be read."
    )]
    Lint(LintArgs),
    /// Read, list, create interactions and move them through their lifecycle.
    #[command(subcommand)]
    Interactions(InteractionsCommand),
    /// List, create and archive wrap-up codes.
    #[command(subcommand)]
    Codes(CodesCommand),
    /// Print an access token for scripts (fetched with the configured credentials).
    #[command(
        after_help = "Examples:\n  TOKEN=$(wrapup token)\n  curl -H \"Authorization: Bearer $(wrapup token)\" http://127.0.0.1:8080/api/v2/interactions\n  \
wrapup token --scope interaction:view --json"
    )]
    Token,
    /// Show the settings the client commands use, and where each comes from.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the server.
    #[command(
        after_help = "Examples:\n  wrapup serve --demo\n  wrapup serve --listen 0.0.0.0:8080 --db sqlite:///var/lib/wrapup/wrapup.db --settle-ms 1500\n  \
wrapup serve --rate-limit 300/min --log-format json\n\n\
Operations:\n  GET /healthz                    200 once the store answers\n  \
GET /metrics                    Prometheus metrics (no token; keep it private)\n  \
GET /api/v2/inspector/requests  recent requests, for debugging clients (admin scope)"
    )]
    Serve(ServeArgs),
    /// Manage OAuth clients (on the database directly).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Bulk-insert closed, finalized interactions for load tests (on the database directly).
    #[command(
        after_help = "Examples:\n  wrapup seed --db sqlite:///tmp/load.db --interactions 10000000\n  \
wrapup seed --db sqlite:///tmp/load.db --interactions 1000 --first 10000000 --json\n\n\
Interaction i gets the id 00000000-0000-5eed-0000-{i in 12 hex digits}, so a load generator can\n\
address any of them; they have no events (they are the starting state, not changes)."
    )]
    Seed(SeedArgs),
    /// Create or migrate the database, then exit.
    #[command(after_help = "Example:\n  wrapup migrate --db sqlite://wrapup.db")]
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

/// Which global settings came from the environment rather than a flag.
pub struct Sources {
    env: Vec<&'static str>,
}

impl Sources {
    fn of(matches: &ArgMatches) -> Sources {
        let from_env = |id: &str| {
            // Global arguments are recorded on the subcommand that was used.
            let mut m = matches;
            while let Some((_, sub)) = m.subcommand() {
                m = sub;
            }
            m.value_source(id) == Some(ValueSource::EnvVariable)
                || matches.value_source(id) == Some(ValueSource::EnvVariable)
        };
        let env = [
            ("url", "WRAPUP_URL"),
            ("client_id", "WRAPUP_CLIENT_ID"),
            ("client_secret", "WRAPUP_CLIENT_SECRET"),
            ("token", "WRAPUP_TOKEN"),
            ("scope", "WRAPUP_SCOPE"),
        ]
        .into_iter()
        .filter(|(id, _)| from_env(id))
        .map(|(_, var)| var)
        .collect();
        Sources { env }
    }

    pub fn env_var(&self, var: &'static str) -> Option<&'static str> {
        self.env.contains(&var).then_some(var)
    }
}

async fn run(cli: Cli, sources: Sources) -> u8 {
    let global = cli.global;
    let outcome = match cli.command {
        Command::Serve(args) => server_cmds::serve(args).await.map(|()| exit::OK),
        Command::Clients(ClientsCommand::Create(args)) => {
            server_cmds::create_client(args, global.json)
                .await
                .map(|()| exit::OK)
        }
        Command::Migrate(args) => server_cmds::migrate(args).await.map(|()| exit::OK),
        Command::Seed(args) => server_cmds::seed(args, global.json)
            .await
            .map(|()| exit::OK),
        Command::Lint(args) => client_cmds::lint(&args, &global),
        Command::Config(ConfigCommand::Show) => client_cmds::config_show(&global, &sources),
        Command::Apply(args) => client_cmds::apply(&args, &global, &sources).await,
        Command::Doctor(args) => client_cmds::doctor(&args, &global, &sources).await,
        Command::Interactions(cmd) => client_cmds::interactions(cmd, &global, &sources).await,
        Command::Codes(cmd) => client_cmds::codes(cmd, &global, &sources).await,
        Command::Token => client_cmds::token(&global, &sources).await,
        Command::Batch(args) => batch_cmds::batch(&args, &global, &sources).await,
        Command::Simulate(args) => batch_cmds::simulate(&args, &global, &sources).await,
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
