//! Event latency: how long after a change, and after a settle deadline, the event reaches a
//! client on the event stream. Prints p50/p90/p99/max, each next to a baseline measured in
//! the same run (machines are noisy; compare the ratios). See docs/benchmarks.md.
//!
//!     cargo run --release -p wrapup-bench --bin event-latency -- --interactions 1000
//!
//! The server runs in this process on 127.0.0.1:0 with the wall clock and a SQLite
//! database in a temporary directory (WAL, synchronous=FULL: every commit is an fsync).

use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use clap::Parser;
use uuid::Uuid;
use wrapup_bench::{row, summary, Summary};
use wrapup_client::{EventQuery, EventStream, StreamEvent};
use wrapup_server::Config;
use wrapup_types::{Channel, EventKind, TargetState};

#[derive(Parser)]
#[command(
    about = "Measure event-stream latency (state change → event, settle deadline → finalized event)"
)]
struct Args {
    /// Interactions measured in each phase (at least 1000 for the figures in the docs).
    #[arg(long, default_value_t = 1000)]
    interactions: usize,
    /// Settle time of the server, in ms.
    #[arg(long, default_value_t = 200)]
    settle_ms: u32,
    /// Milliseconds between two closes in the settle phase (spreads the deadlines).
    #[arg(long, default_value_t = 3)]
    spacing_ms: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    run(Args::parse()).await
}

fn ratio(name: &str, a: &Summary, b: &Summary) {
    println!(
        "  {name:<44} p50 {:>5.2}x  p99 {:>5.2}x",
        a.p50 / b.p50,
        a.p99 / b.p99
    );
}

fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// Waits for the event of `kind` about `id`, skipping others.
async fn wait_for(stream: &mut EventStream, id: Uuid, kind: EventKind) -> Result<StreamEvent> {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .context("no event within 10 s")?
            .context("the stream ended")??;
        if let StreamEvent::Interaction {
            kind: k,
            interaction,
            ..
        } = &event
        {
            if *k == kind && interaction.id == id {
                return Ok(event);
            }
        }
    }
}

async fn run(args: Args) -> Result<()> {
    if args.interactions == 0 {
        bail!("--interactions must be at least 1");
    }
    let server = wrapup_bench::Server::start(Config {
        settle_ms: i64::from(args.settle_ms),
        ..Config::default()
    })
    .await?;
    let dir = &server.dir;
    let client = server.client();
    let division = client.create_division("Bench").await?.id;
    let mut stream = client.events(&EventQuery::default()).await?;
    let n = args.interactions;

    println!(
        "event-latency: {n} interactions per phase, settle {} ms, SQLite WAL synchronous=FULL in {}",
        args.settle_ms,
        dir.path().display()
    );

    // Phase 1: a state change (POST …/state) until its event arrives on the stream, next
    // to the same request's own round trip and a GET /healthz round trip.
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let id = client
            .create_interaction(division, Channel::Voice)
            .await?
            .id;
        wait_for(&mut stream, id, EventKind::Created).await?;
        ids.push(id);
    }
    let (mut to_event, mut to_response, mut health) = (vec![], vec![], vec![]);
    for id in &ids {
        let started = Instant::now();
        client.health().await?;
        health.push(started.elapsed().as_secs_f64() * 1000.0);

        let started = Instant::now();
        let request = client.set_state(*id, TargetState::Active);
        let waiting = wait_for(&mut stream, *id, EventKind::State);
        let (response, event) = tokio::join!(
            async {
                let r = request.await;
                (r, started.elapsed())
            },
            async {
                let e = waiting.await;
                (e, started.elapsed())
            }
        );
        response.0?;
        event.0?;
        to_response.push(response.1.as_secs_f64() * 1000.0);
        to_event.push(event.1.as_secs_f64() * 1000.0);
    }
    let (to_event, to_response, health) =
        (summary(to_event), summary(to_response), summary(health));
    println!("\nstate change → event (sequential, one at a time):");
    row("request sent → event received", &to_event);
    row("baseline: same request → its response", &to_response);
    row("baseline: GET /healthz round trip", &health);
    ratio("event / response", &to_event, &to_response);

    // Phase 2: close every interaction, spaced out, and measure when each finalized event
    // arrives against its settle deadline (closedAt + settle, on the server's wall clock).
    // The baseline is the lateness of a bare tokio timer to the same kind of deadline.
    let settle = f64::from(args.settle_ms);
    let closer = {
        let ids = ids.clone();
        let client = server.client();
        let spacing = Duration::from_millis(args.spacing_ms);
        tokio::spawn(async move {
            let mut timers = Vec::with_capacity(ids.len());
            for id in ids {
                client.set_state(id, TargetState::Closed).await?;
                // The baseline: a bare timer to a millisecond deadline `settle` from now.
                let deadline_ms = wall_ms().floor() + settle;
                timers.push(tokio::spawn(async move {
                    let wait = (deadline_ms - wall_ms()).max(0.0);
                    tokio::time::sleep(Duration::from_secs_f64(wait / 1000.0)).await;
                    wall_ms() - deadline_ms
                }));
                tokio::time::sleep(spacing).await;
            }
            let mut late = Vec::with_capacity(timers.len());
            for timer in timers {
                late.push(timer.await?);
            }
            anyhow::Ok(late)
        })
    };
    let mut after_deadline = Vec::with_capacity(n);
    while after_deadline.len() < n {
        let event = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .context("no finalized event within 30 s")?
            .context("the stream ended")??;
        let arrived = wall_ms();
        if let StreamEvent::Interaction {
            kind: EventKind::Finalized,
            interaction,
            ..
        } = event
        {
            let closed = interaction
                .closed_at
                .context("a finalized interaction has closedAt")?;
            let deadline = (closed.unix_timestamp_nanos() / 1_000_000) as f64 + settle;
            after_deadline.push(arrived - deadline);
        }
    }
    let timer_late = summary(closer.await??);
    let after_deadline = summary(after_deadline);
    println!(
        "\nsettle deadline → interaction.finalized at the client (closes {} ms apart):",
        args.spacing_ms
    );
    row("deadline → event received", &after_deadline);
    row("baseline: bare tokio timer lateness", &timer_late);
    println!(
        "  (deadlines have millisecond resolution: a deadline is at most 1 ms earlier than the\n   exact close time + settle, so these figures overstate the latency by up to 1 ms)"
    );

    let target = 10.0;
    let ok = to_event.p99 < target && after_deadline.p99 < target;
    println!(
        "\ntarget p99 < {target} ms: state change → event {:.3} ms, deadline → event {:.3} ms: {}",
        to_event.p99,
        after_deadline.p99,
        if ok { "met" } else { "NOT met" }
    );
    Ok(())
}
