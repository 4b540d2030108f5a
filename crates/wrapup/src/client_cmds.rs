//! The client commands: `apply`, `doctor`, `lint`, `interactions`, `codes`, `token`,
//! `config show`. Human output by default, `--json` for scripts.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use uuid::Uuid;
use wrapup_client::{
    parse_duration, ApplyOptions, ApplyOutcome, CheckStatus, Client, CodeQuery, CodeRef,
    DoctorRequest, InteractionQuery, WaitVia, WrapUp,
};
use wrapup_types::{Channel, CreateWrapUpCode, Interaction, InteractionState, TargetState};

use crate::config::{self, Given, Inputs, Resolved};
use crate::output::{human_ms, spinner, StderrTrace};
use crate::{exit, Global, Sources};

fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s)
}

/// The wrap-up a command applies or checks.
#[derive(Args)]
pub struct WrapUpArgs {
    /// The interaction's id.
    interaction: Uuid,
    /// The wrap-up code: its id, or its name in the interaction's division.
    #[arg(long)]
    code: CodeRef,
    /// Time the agent spent in wrap-up: 120000 (ms), 120s, 2m, 1h30m.
    #[arg(long, value_parser = duration_arg)]
    duration: Duration,
    /// Notes (at most 1,024 characters).
    #[arg(long)]
    notes: Option<String>,
}

#[derive(Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    wrapup: WrapUpArgs,
    /// How long to wait for the interaction to be closed and finalized.
    #[arg(long, value_parser = duration_arg, default_value = "10m")]
    wait: Duration,
    /// Print the equivalent curl command instead of sending the wrap-up.
    #[arg(long)]
    curl: bool,
    /// With --curl: put a real token in the command instead of $(wrapup token).
    #[arg(long, requires = "curl")]
    show_secrets: bool,
}

#[derive(Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    wrapup: WrapUpArgs,
}

#[derive(Args)]
pub struct LintArgs {
    /// The body to check: a file, or - for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
}

#[derive(Subcommand)]
pub enum InteractionsCommand {
    /// Show one interaction.
    #[command(
        after_help = "Example:\n  wrapup interactions get 00000000-0000-4000-8000-0000000000e3"
    )]
    Get { id: Uuid },
    /// List interactions, newest last.
    #[command(
        after_help = "Examples:\n  wrapup interactions list --state closed --wrapped-up false\n  wrapup interactions list --division 00000000-0000-4000-8000-0000000000a1 --all --json"
    )]
    List {
        #[arg(long, value_parser = parse_state)]
        state: Option<InteractionState>,
        #[arg(long)]
        division: Option<Uuid>,
        #[arg(long)]
        wrapped_up: Option<bool>,
        /// Interactions per page (1 to 500).
        #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=500))]
        page_size: u32,
        /// Continue after this cursor (printed after each page).
        #[arg(long)]
        cursor: Option<String>,
        /// Follow every page.
        #[arg(long)]
        all: bool,
    },
    /// Create an interaction (queued), as a routing engine would.
    #[command(
        after_help = "Example:\n  wrapup interactions create --division 00000000-0000-4000-8000-0000000000a1 --channel chat"
    )]
    Create {
        #[arg(long)]
        division: Uuid,
        #[arg(long, default_value = "voice", value_parser = parse_channel)]
        channel: Channel,
    },
    /// Move an interaction: queued → active → closed (or queued → closed).
    #[command(
        after_help = "Examples:\n  wrapup interactions set-state $ID active\n  wrapup interactions set-state $ID closed"
    )]
    SetState {
        id: Uuid,
        #[arg(value_parser = parse_target)]
        state: TargetState,
    },
}

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
    /// Archive a code: it stays readable and in history, and can no longer be applied.
    #[command(
        after_help = "Example:\n  wrapup codes archive 00000000-0000-4000-8000-0000000000c4"
    )]
    Archive { id: Uuid },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print the URL, profile and credentials in effect (secrets masked) and their sources.
    #[command(
        after_help = "Examples:\n  wrapup config show\n  wrapup --profile prod config show --json"
    )]
    Show,
}

fn parse_state(s: &str) -> Result<InteractionState, String> {
    InteractionState::parse(s)
        .ok_or_else(|| format!("`{s}` is not a state; use queued, active, closed or completed"))
}

fn parse_channel(s: &str) -> Result<Channel, String> {
    Channel::parse(s)
        .ok_or_else(|| format!("`{s}` is not a channel; use voice, chat, email or message"))
}

fn parse_target(s: &str) -> Result<TargetState, String> {
    match s {
        "active" => Ok(TargetState::Active),
        "closed" => Ok(TargetState::Closed),
        _ => Err(format!(
            "`{s}` is not a state to move to; use active or closed"
        )),
    }
}

fn resolve(global: &Global, sources: &Sources) -> anyhow::Result<Resolved> {
    let given = |value: &Option<String>, var: &'static str| Given {
        value: value.clone(),
        from_env: value.as_ref().and(sources.env_var(var)),
    };
    config::resolve(Inputs {
        config_path: global.config.clone(),
        profile: global.profile.clone(),
        url: given(&global.url, "WRAPUP_URL"),
        client_id: given(&global.client_id, "WRAPUP_CLIENT_ID"),
        client_secret: given(&global.client_secret, "WRAPUP_CLIENT_SECRET"),
        token: given(&global.token, "WRAPUP_TOKEN"),
        scope: given(&global.scope, "WRAPUP_SCOPE"),
    })
}

/// The API client the settings describe.
pub(crate) fn client(global: &Global, sources: &Sources) -> anyhow::Result<Client> {
    let settings = resolve(global, sources)?;
    let url = settings
        .url
        .value
        .clone()
        .unwrap_or_else(|| config::DEFAULT_URL.into());
    let mut client = Client::new(&url);
    match (&settings.token.value, &settings.client_id.value, &settings.client_secret.value) {
        (Some(token), _, _) => client = client.with_token(token),
        (None, Some(id), Some(secret)) => {
            client = client.with_credentials(id, secret);
            if let Some(scope) = &settings.scope.value {
                client = client.with_scope(scope);
            }
        }
        (None, Some(_), None) => bail!("a client id is set but no secret: set WRAPUP_CLIENT_SECRET or --client-secret (see `wrapup config show`)"),
        (None, None, Some(_)) => bail!("a client secret is set but no client id: set WRAPUP_CLIENT_ID or --client-id (see `wrapup config show`)"),
        (None, None, None) => {} // requests will say credentials are missing
    }
    if global.verbose {
        client = client.with_trace(Arc::new(StderrTrace));
    }
    Ok(client)
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Quotes a string for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub async fn apply(args: &ApplyArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = client(global, sources)?;
    let code_id = match &args.wrapup.code {
        CodeRef::Id(id) => *id,
        name => {
            let interaction = client.get_interaction(args.wrapup.interaction).await?;
            client.resolve_code(&interaction, name).await?
        }
    };
    let mut wrapup = WrapUp::new(code_id, args.wrapup.duration).map_err(anyhow::Error::new)?;
    if let Some(notes) = &args.wrapup.notes {
        wrapup = wrapup
            .with_notes(notes.clone())
            .map_err(anyhow::Error::new)?;
    }
    if args.curl {
        let body = serde_json::to_string(&wrapup.request())?;
        let auth = if args.show_secrets {
            let token = client
                .bearer()
                .await?
                .context("no credentials to fetch a token with")?;
            format!("Authorization: Bearer {token}")
        } else {
            "Authorization: Bearer $(wrapup token)".to_string()
        };
        let auth = if args.show_secrets {
            shell_quote(&auth)
        } else {
            format!("\"{auth}\"")
        };
        let command = format!(
            "curl -i -X PUT {} \\\n  -H {auth} \\\n  -H 'Content-Type: application/json' \\\n  --data-raw {}",
            shell_quote(&format!(
                "{}/api/v2/interactions/{}/wrap-up",
                client.base_url(),
                args.wrapup.interaction
            )),
            shell_quote(&body)
        );
        if global.json {
            print_json(&serde_json::json!({"curl": command, "body": wrapup.request()}))?;
        } else {
            println!("{command}");
            if !args.show_secrets {
                eprintln!(
                    "# the token is not shown; --show-secrets puts a real one in the command"
                );
            }
        }
        return Ok(exit::OK);
    }

    let bar = spinner(!global.json);
    let progress_bar = bar.clone();
    let options = ApplyOptions {
        wait: args.wait,
        progress: progress_bar.map(|bar| {
            Arc::new(move |message: &str| bar.set_message(message.to_string()))
                as wrapup_client::Progress
        }),
        ..ApplyOptions::default()
    };
    let outcome = client
        .apply(args.wrapup.interaction, &wrapup, &options)
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = outcome?;
    if global.json {
        print_json(&report)?;
        return Ok(exit::OK);
    }
    let what = match report.outcome {
        ApplyOutcome::Applied => "Applied",
        ApplyOutcome::Replaced => "Replaced the previous wrap-up with",
        ApplyOutcome::AlreadyInPlace => "Already in place (nothing sent):",
    };
    let waited = match report.via {
        WaitVia::NoWait => "it was ready at once".to_string(),
        WaitVia::Events => format!(
            "after waiting {} on the event stream",
            human_ms(report.waited_ms)
        ),
        WaitVia::Polling => format!(
            "after waiting {} ({} polls: the event stream was unavailable)",
            human_ms(report.waited_ms),
            report.polls
        ),
    };
    println!(
        "✓ {what} code {} for {} to interaction {}; {waited}.",
        args.wrapup.code,
        human_ms(u64::from(report.duration_ms)),
        report.interaction_id
    );
    Ok(exit::OK)
}

pub async fn doctor(args: &DoctorArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = client(global, sources)?;
    let report = client
        .doctor(&DoctorRequest {
            interaction_id: args.wrapup.interaction,
            code: args.wrapup.code.clone(),
            duration: args.wrapup.duration,
            notes: args.wrapup.notes.clone(),
        })
        .await;
    let code = if report.ready {
        exit::OK
    } else if report.connectivity_failed() {
        exit::UNREACHABLE
    } else {
        exit::REJECTED
    };
    if global.json {
        print_json(&report)?;
        return Ok(code);
    }
    println!(
        "wrapup doctor: interaction {}, code {}",
        args.wrapup.interaction, args.wrapup.code
    );
    for check in &report.checks {
        let mark = match check.status {
            CheckStatus::Pass => "✓",
            CheckStatus::Fail => "✗",
            CheckStatus::Skip => "-",
        };
        let code = check.code.map(|c| format!(" [{c}]")).unwrap_or_default();
        println!("  {mark} {:<36} {}{code}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            println!("      fix: {fix}");
        }
    }
    println!();
    if report.ready {
        println!("A PUT would succeed now: `wrapup apply` it.");
    } else if let Some(first) = report.first_failure() {
        println!("Not ready: {} — {}", first.name, first.detail);
    }
    Ok(code)
}

pub fn lint(args: &LintArgs, global: &Global) -> anyhow::Result<u8> {
    let mut bytes = Vec::new();
    let name = if args.file.as_os_str() == "-" {
        std::io::stdin()
            .take(wrapup_domain::MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .context("reading the body from standard input")?;
        "standard input".to_string()
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("reading {}", args.file.display()))?;
        file.take(wrapup_domain::MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {}", args.file.display()))?;
        args.file.display().to_string()
    };
    let result = wrapup_domain::validate_body(&bytes);
    let problems = result.as_ref().err().cloned().unwrap_or_default();
    if global.json {
        print_json(&serde_json::json!({"valid": result.is_ok(), "problems": problems}))?;
    } else {
        match &result {
            Ok(body) => println!(
                "✓ {name}: a valid wrap-up body (codeId {}, durationMs {}{}).",
                body.code_id,
                body.duration_ms,
                if body.notes.is_some() { ", notes" } else { "" }
            ),
            Err(problems) => {
                println!(
                    "✗ {name}: {} problem{} (the server would answer {} {}):",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    problems[0].error_code.status(),
                    problems[0].error_code
                );
                for p in problems {
                    let field = p
                        .field_name
                        .as_deref()
                        .map(|f| format!(" ({f})"))
                        .unwrap_or_default();
                    println!("  ✗ {}{field}: {}", p.error_code, p.message);
                    if let Some(hint) = &p.hint {
                        println!("      hint: {hint}");
                    }
                }
            }
        }
    }
    Ok(if result.is_ok() {
        exit::OK
    } else {
        exit::REJECTED
    })
}

/// Reads one page (after `cursor`), or every page with `all`.
async fn collect_pages<T, F, Fut>(
    all: bool,
    mut cursor: Option<String>,
    mut page: F,
) -> anyhow::Result<(Vec<T>, Option<String>)>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<wrapup_types::Page<T>, wrapup_client::Error>>,
{
    let mut entities = Vec::new();
    loop {
        let next = page(cursor.take()).await?;
        entities.extend(next.entities);
        match next.next_cursor {
            Some(more) if all => cursor = Some(more),
            more => return Ok((entities, more)),
        }
    }
}

/// Prints a list: one line per entity, or the page as JSON.
fn print_list<T: serde::Serialize>(
    global: &Global,
    entities: &[T],
    next: Option<String>,
    line: impl Fn(&T) -> String,
    what: &str,
) -> anyhow::Result<()> {
    if global.json {
        return print_json(&serde_json::json!({"entities": entities, "nextCursor": next}));
    }
    entities.iter().for_each(|e| println!("{}", line(e)));
    if entities.is_empty() {
        println!("(no {what})");
    }
    if let Some(next) = next {
        println!("more: --cursor {next} (or --all)");
    }
    Ok(())
}

fn interaction_line(i: &Interaction) -> String {
    let state = if i.state == InteractionState::Closed && !i.finalized {
        "closed (not finalized)".to_string()
    } else {
        i.state.to_string()
    };
    let wrapup = i
        .wrap_up
        .as_ref()
        .map(|w| format!("  wrap-up \"{}\"", w.code_name))
        .unwrap_or_default();
    format!(
        "{}  {:<22}  {:<7}  division {}{wrapup}",
        i.id,
        state,
        i.channel.as_str(),
        i.division_id
    )
}

pub async fn interactions(
    cmd: InteractionsCommand,
    global: &Global,
    sources: &Sources,
) -> anyhow::Result<u8> {
    let client = client(global, sources)?;
    match cmd {
        InteractionsCommand::Get { id } => {
            let i = client.get_interaction(id).await?;
            if global.json {
                print_json(&i)?;
            } else {
                println!("{}", interaction_line(&i));
                println!(
                    "  created {}  version {}",
                    wrapup_types::timestamp::format(i.created_at),
                    i.version
                );
                for (label, at) in [
                    ("active", i.active_at),
                    ("closed", i.closed_at),
                    ("finalized", i.finalized_at),
                ] {
                    if let Some(at) = at {
                        println!("  {label} {}", wrapup_types::timestamp::format(at));
                    }
                }
                if let Some(w) = &i.wrap_up {
                    println!(
                        "  wrap-up \"{}\" ({}), {}, applied {} by {}{}",
                        w.code_name,
                        w.code_id,
                        human_ms(u64::from(w.duration_ms)),
                        wrapup_types::timestamp::format(w.applied_at),
                        w.applied_by,
                        w.notes
                            .as_deref()
                            .map(|n| format!(": {n}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        InteractionsCommand::List {
            state,
            division,
            wrapped_up,
            page_size,
            cursor,
            all,
        } => {
            let mut query = InteractionQuery {
                state,
                division_id: division,
                wrapped_up,
                page_size: Some(page_size),
                cursor,
            };
            let (entities, next) = collect_pages(all, query.cursor.take(), |cursor| {
                let mut query = query.clone();
                query.cursor = cursor;
                let client = &client;
                async move { client.list_interactions(&query).await }
            })
            .await?;
            print_list(global, &entities, next, interaction_line, "interactions")?;
        }
        InteractionsCommand::Create { division, channel } => {
            let i = client.create_interaction(division, channel).await?;
            if global.json {
                print_json(&i)?;
            } else {
                println!("{}", i.id);
            }
        }
        InteractionsCommand::SetState { id, state } => {
            let i = client.set_state(id, state).await?;
            if global.json {
                print_json(&i)?;
            } else {
                println!("{}", interaction_line(&i));
            }
        }
    }
    Ok(exit::OK)
}

pub async fn codes(cmd: CodesCommand, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = client(global, sources)?;
    let line = |c: &wrapup_types::WrapUpCode| {
        format!(
            "{}  {:<24}  division {}{}",
            c.id,
            c.name,
            c.division_id,
            if c.archived { "  (archived)" } else { "" }
        )
    };
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
            print_list(global, &entities, next, line, "codes")?;
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
                println!("{}", line(&c));
            }
        }
        CodesCommand::Archive { id } => {
            let c = client.archive_code(id).await?;
            if global.json {
                print_json(&c)?;
            } else {
                println!("{}", line(&c));
            }
        }
    }
    Ok(exit::OK)
}

pub async fn token(global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = client(global, sources)?;
    if global.json {
        print_json(&client.fetch_token().await?)?;
    } else {
        let token = client
            .bearer()
            .await?
            .ok_or(wrapup_client::Error::NoCredentials)?;
        println!("{token}");
    }
    Ok(exit::OK)
}

pub fn config_show(global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let mut settings = resolve(global, sources)?;
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
