//! `wrapup doctor`: every check a wrap-up needs, changing nothing, with how to fix what
//! fails.

use clap::Args;
use wrapup_client::{CheckStatus, DoctorRequest};

use crate::commands::wrapup_args::WrapUpArgs;
use crate::exit::{self, exit_codes};
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::print_json;

/// The examples of `wrapup doctor --help`.
pub const HELP: &str = examples!(
    "wrapup doctor 00000000-0000-4000-8000-0000000000e2 --code Sale --duration 2m",
    "wrapup doctor $ID --code Resolved --duration 2m --json",
);

/// The notes of `wrapup doctor --help`.
pub const AFTER_HELP: &str = concat!(
    "Checks: server reachable, credentials valid, token scopes, interaction visible, closed,\n\
finalized, code exists, not archived, in the interaction's division, payload valid.\n\
Exits 0 only if a PUT would succeed now.\n\n",
    exit_codes!()
);

#[derive(Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    wrapup: WrapUpArgs,
}

pub async fn run(args: &DoctorArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = global.client_without_credentials(sources)?;
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
