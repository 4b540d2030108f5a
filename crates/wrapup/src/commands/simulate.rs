//! `wrapup simulate`: drive interactions through their lifecycle (create, activate,
//! close), for demos, benchmarks and tests.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use rand::Rng;
use tokio::task::JoinSet;
use uuid::Uuid;
use wrapup_client::parse_duration;
use wrapup_server::RateLimit;
use wrapup_types::{Channel, TargetState};

use crate::commands::ids::division_id;
use crate::commands::wrapup_args::duration_arg;
use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;

/// The examples of `wrapup simulate --help`.
pub const HELP: &str = examples!(
    "wrapup simulate --division 00000000-0000-4000-8000-0000000000a1 --interactions 100 --rate 20/s",
    "wrapup simulate --division $DIV --interactions 1000 --rate 100/s --close-after 0s..5s --batch-code Sale > rows.jsonl",
);

/// The notes of `wrapup simulate --help`.
pub const AFTER_HELP: &str =
    "Prints each interaction id (or, with --batch-code, a batch input line) as it is created.\n\
If the reader of its output goes away (`wrapup simulate … | wrapup batch -` when the batch\n\
stops), it stops creating interactions and says how many it created.";

#[derive(Args)]
pub struct SimulateArgs {
    /// How many interactions to create.
    #[arg(long, default_value_t = 100)]
    interactions: u32,
    /// How fast to create them, e.g. 20/s or 600/min.
    #[arg(long, default_value = "20/s", value_parser = clap::value_parser!(RateLimit))]
    rate: RateLimit,
    /// The division to create them in.
    #[arg(long, value_parser = division_id)]
    division: Uuid,
    /// How long each stays active before it closes: a range, e.g. 0s..5s.
    #[arg(long, default_value = "0s..2s")]
    close_after: String,
    /// Leave this share of interactions queued then closed (abandoned), e.g. 10%.
    #[arg(long, default_value = "0%")]
    abandon: String,
    /// Print one batch input line (JSON) per interaction with this code, instead of ids.
    #[arg(long)]
    batch_code: Option<String>,
    /// The duration of the printed batch lines (120s, 2m, …).
    #[arg(long, default_value = "2m", value_parser = duration_arg)]
    batch_duration: Duration,
}

fn range_ms(s: &str) -> anyhow::Result<(u64, u64)> {
    let (lo, hi) = s.split_once("..").unwrap_or((s, s));
    let ms = |v: &str| -> anyhow::Result<u64> {
        Ok(parse_duration(v).map_err(anyhow::Error::msg)?.as_millis() as u64)
    };
    let (lo, hi) = (ms(lo)?, ms(hi)?);
    if lo > hi {
        bail!("--close-after {s}: the range is backwards");
    }
    Ok((lo, hi))
}

pub async fn run(args: &SimulateArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = Arc::new(global.client(sources)?);
    let (lo, hi) = range_ms(&args.close_after)?;
    let abandon = args
        .abandon
        .trim()
        .strip_suffix('%')
        .and_then(|p| p.trim().parse::<f64>().ok())
        .filter(|p| (0.0..=100.0).contains(p))
        .with_context(|| format!("--abandon {}: write a percentage, e.g. 10%", args.abandon))?
        / 100.0;
    let batch_duration = args.batch_duration;
    let every = Duration::from_secs_f64(
        f64::from(args.rate.period_ms) / 1000.0 / f64::from(args.rate.requests),
    );
    let mut ticker = tokio::time::interval(every);
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    let mut out = std::io::stdout();
    let mut created = 0u32;
    let mut reader_gone = false;
    for _ in 0..args.interactions {
        ticker.tick().await;
        let interaction = client
            .create_interaction(args.division, Channel::Voice)
            .await?;
        let id = interaction.id;
        created += 1;
        let line = match &args.batch_code {
            Some(code) => serde_json::json!({"interactionId": id, "code": code, "durationMs": batch_duration.as_millis() as u64}).to_string(),
            None => id.to_string(),
        };
        let (abandoned, after) = {
            let mut rng = rand::thread_rng();
            (rng.gen::<f64>() < abandon, rng.gen_range(lo..=hi))
        };
        let client = client.clone();
        tasks.spawn(async move {
            if !abandoned {
                client.set_state(id, TargetState::Active).await?;
            }
            tokio::time::sleep(Duration::from_millis(after)).await;
            client.set_state(id, TargetState::Closed).await?;
            anyhow::Ok(())
        });
        // A closed pipe (`simulate | batch -` when the batch stops) ends the run quietly:
        // the interactions made so far still go through their lifecycle.
        match writeln!(out, "{line}").and_then(|()| out.flush()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                reader_gone = true;
                break;
            }
            Err(e) => return Err(e).context("writing to standard output"),
        }
    }
    let mut failed = 0;
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done? {
            failed += 1;
            eprintln!("warning: {e:#}");
        }
    }
    if reader_gone {
        eprintln!(
            "simulate: the reader of its output went away (closed pipe), so it stopped: {created} of {} interactions created in division {} (the last one's id was not printed), each activated and closed as planned ({failed} failed moves)",
            args.interactions, args.division
        );
    } else {
        eprintln!(
            "simulate: {created} interaction{} created and closed in {:.1} s ({failed} failed move{})",
            if created == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64(),
            if failed == 1 { "" } else { "s" },
        );
    }
    Ok(if failed == 0 {
        exit::OK
    } else {
        exit::REJECTED
    })
}
