//! `wrapup apply`: wait until the interaction is closed and finalized, then send the
//! wrap-up (or, with `--curl`, print the request instead).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use wrapup_client::{ApplyEffect, ApplyOptions, CodeRef, ValidWrapUp, WaitVia};

use crate::commands::wrapup_args::{duration_arg, WrapUpArgs};
use crate::exit::{self, exit_codes};
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::output::spinner;
use crate::render::{human_ms, print_json, shell_quote};

/// The examples of `wrapup apply --help`.
pub const HELP: &str = examples!(
    "wrapup apply 00000000-0000-4000-8000-0000000000e3 --code Sale --duration 2m",
    "wrapup apply $ID --code 7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11 --duration 1h30m --notes \"Upgraded\" --wait 10m",
    "wrapup apply $ID --code Sale --duration 120s --curl      # print the equivalent curl, send nothing",
);

/// The notes of `wrapup apply --help`.
pub const AFTER_HELP: &str = concat!(
    "The code is a UUID, or a name looked up (ignoring case) in the interaction's division.\n\
The duration takes a unit: 120s, 2m, 1h30m, 1500ms (a bare number is milliseconds, from 1000 up).\n\
Applying the same wrap-up again succeeds and changes nothing; a different one replaces it.\n\n",
    exit_codes!()
);

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

pub async fn run(args: &ApplyArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    let (code_id, code_name) = match &args.wrapup.code {
        CodeRef::Id(id) => (*id, None),
        CodeRef::Name(name) => {
            let interaction = client.get_interaction(args.wrapup.interaction).await?;
            let code = client.resolve_code_name(&interaction, name).await?;
            (code.id, Some(code.name))
        }
    };
    let mut wrapup = ValidWrapUp::new(code_id, args.wrapup.duration).map_err(anyhow::Error::new)?;
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
        ApplyEffect::Applied => "Applied",
        ApplyEffect::Replaced => "Replaced the previous wrap-up with",
        ApplyEffect::AlreadyInPlace => "Already in place (nothing sent):",
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
    // The code as the server names it, not as typed (`--code sale` applied "Sale"); for an
    // id, its name when the token may read codes.
    let code_name = match code_name {
        Some(name) => Some(name),
        None => client.get_code(code_id).await.ok().map(|c| c.name),
    };
    let code = match code_name {
        Some(name) => format!("\"{name}\" ({code_id})"),
        None => code_id.to_string(),
    };
    println!(
        "✓ {what} code {code} for {} to interaction {}; {waited}.",
        human_ms(u64::from(report.duration_ms)),
        report.interaction_id
    );
    Ok(exit::OK)
}
