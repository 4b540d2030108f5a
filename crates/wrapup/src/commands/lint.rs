//! `wrapup lint`: validate a wrap-up body offline, with the server's own rules.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::exit;
use crate::global::Global;
use crate::help::examples;
use crate::render::print_json;

/// The examples of `wrapup lint --help`.
pub const HELP: &str = examples!(
    "wrapup lint body.json",
    "echo '{\"codeId\": \"7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11\", \"duration\": 120}' | wrapup lint",
    "wrapup lint - --json < body.json",
);

/// The notes of `wrapup lint --help`.
pub const AFTER_HELP: &str = "Exits 0 when the body is valid, 3 when the server would reject it, 1 when the file cannot be read.";

#[derive(Args)]
pub struct LintArgs {
    /// The body to check: a file, or - for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
}

pub fn run(args: &LintArgs, global: &Global) -> anyhow::Result<u8> {
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
