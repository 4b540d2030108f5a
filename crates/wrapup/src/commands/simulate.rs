//! `wrapup simulate`: drive interactions through their lifecycle (create, activate,
//! close), for demos, benchmarks and tests.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use rand::Rng;
use tokio::task::JoinSet;
use uuid::Uuid;
use wrapup_client::parse_duration;
use wrapup_server::RateLimit;
use wrapup_types::{Channel, TargetState};

use crate::exit;
use crate::global::{Global, Sources};

/// The examples of `wrapup simulate --help`.
pub const AFTER_HELP: &str = "Examples:\n  wrapup simulate --division 00000000-0000-4000-8000-0000000000a1 --interactions 100 --rate 20/s\n  \
wrapup simulate --division $DIV --interactions 1000 --rate 100/s --close-after 0s..5s --batch-code Sale > rows.jsonl\n\n\
Prints each interaction id (or, with --batch-code, a batch input line) as it is created.";

#[derive(Args)]
pub struct SimulateArgs {
    /// How many interactions to create.
    #[arg(long, default_value_t = 100)]
    interactions: u32,
    /// How fast to create them, e.g. 20/s or 600/min.
    #[arg(long, default_value = "20/s", value_parser = clap::value_parser!(RateLimit))]
    rate: RateLimit,
    /// The division to create them in.
    #[arg(long)]
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
    /// The duration of the printed batch lines.
    #[arg(long, default_value = "2m")]
    batch_duration: String,
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
    let batch_duration = parse_duration(&args.batch_duration).map_err(anyhow::Error::msg)?;
    let every = Duration::from_secs_f64(
        f64::from(args.rate.period_ms) / 1000.0 / f64::from(args.rate.requests),
    );
    let mut ticker = tokio::time::interval(every);
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    let out = Arc::new(Mutex::new(std::io::stdout()));
    for _ in 0..args.interactions {
        ticker.tick().await;
        let interaction = client
            .create_interaction(args.division, Channel::Voice)
            .await?;
        let id = interaction.id;
        {
            let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
            match &args.batch_code {
                Some(code) => writeln!(
                    out,
                    "{}",
                    serde_json::json!({"interactionId": id, "code": code, "durationMs": batch_duration.as_millis() as u64})
                )?,
                None => writeln!(out, "{id}")?,
            }
        }
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
    }
    let mut failed = 0;
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done? {
            failed += 1;
            eprintln!("warning: {e:#}");
        }
    }
    eprintln!(
        "simulate: {} interactions created and closed in {:.1} s ({} failed moves)",
        args.interactions,
        started.elapsed().as_secs_f64(),
        failed
    );
    Ok(if failed == 0 {
        exit::OK
    } else {
        exit::REJECTED
    })
}
