//! Webhook delivery under a burst (docs/benchmarks.md): 150 interactions taken through their
//! lifecycle at once (created, active, closed, finalized by the settle timer, wrapped up),
//! every event delivered to two webhook endpoints (all event types) on a receiver in this
//! process that answers 200 at once. Prints, per endpoint and overall, how long after its
//! commit each event reached the receiver (p50/p90/p99/max), beside a baseline measured in the
//! same run: the same events' arrival on the event stream (`GET /api/v2/interactions/events`,
//! which leaves right after the commit).
//!
//! ```sh
//! cargo build --release -p wrapup-bench --bin webhook-latency
//! target/release/webhook-latency [--interactions 150] [--settle-ms 100]
//! ```
//!
//! The server runs in this process on 127.0.0.1:0 with the wall clock and a SQLite database
//! in a temporary directory (WAL, synchronous=FULL: every commit is an fsync), private
//! webhook targets allowed (`--webhooks-allow-private`), so the endpoints can be 127.0.0.1.
//!
//! The commit time of an event is taken two ways, both printed:
//! - its stored time (the payload's `timestamp`, the event's `createdAt`): milliseconds,
//!   truncated, taken inside the write transaction before its commit, so latencies from it
//!   overstate by up to the commit's fsync plus 1 ms;
//! - for the events a request made (all but `interaction.finalized`), the moment the client
//!   got that request's response: after the commit, so latencies from it understate by the
//!   response's way back (an upper bound on the commit, a lower bound on the latency).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use clap::Parser;
use futures::future::try_join_all;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Mutex};
use uuid::Uuid;
use wrapup_bench::{row, summary, Summary};
use wrapup_client::{Client, EventQuery, StreamEvent};
use wrapup_server::{Config, TargetPolicy, WebhookConfig};
use wrapup_types::{
    Channel, CreateWebhook, EventKind, InteractionState, TargetState, WrapUpRequest,
};

#[derive(Parser)]
#[command(about = "Measure webhook delivery latency (commit → receiver) under a burst")]
struct Args {
    /// Interactions in the burst, all at once.
    #[arg(long, default_value_t = 150)]
    interactions: usize,
    /// Settle time of the server, in ms.
    #[arg(long, default_value_t = 100)]
    settle_ms: u32,
    /// Webhook endpoints (each receives every event).
    #[arg(long, default_value_t = 2)]
    endpoints: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    run(Args::parse()).await
}

fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// A delivery's arrival at the receiver: endpoint, event sequence, stored time, when.
type Arrival = (usize, i64, f64, f64);

async fn receive(
    State(tx): State<mpsc::UnboundedSender<Arrival>>,
    Path(endpoint): Path<usize>,
    body: Bytes,
) -> &'static str {
    let at = wall_ms();
    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
        if let Some(seq) = v["sequence"].as_i64() {
            let stored = v["timestamp"]
                .as_str()
                .and_then(|t| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as f64)
                .unwrap_or(f64::NAN);
            let _ = tx.send((endpoint, seq, stored, at));
        }
    }
    "ok"
}

/// Which event of an interaction's lifecycle: the key joining a request's response to the
/// event it made.
fn step(kind: EventKind, state: InteractionState) -> Option<u8> {
    match (kind, state) {
        (EventKind::Created, _) => Some(0),
        (EventKind::State, InteractionState::Active) => Some(1),
        (EventKind::State, InteractionState::Closed) => Some(2),
        (EventKind::Finalized, _) => Some(3),
        (EventKind::WrapUp, _) => Some(4),
        _ => None,
    }
}

/// What the event stream saw: per sequence, (interaction, step, arrival).
type StreamSeen = Arc<Mutex<HashMap<i64, (Uuid, u8, f64)>>>;
/// Interactions waiting for their finalized event.
type Waiting = Arc<Mutex<HashMap<Uuid, oneshot::Sender<()>>>>;

/// One interaction through its lifecycle; returns when each request's response came, by step.
async fn lifecycle(
    client: Arc<Client>,
    division: Uuid,
    code: Uuid,
    waiting: Waiting,
) -> Result<(Uuid, Vec<(u8, f64)>)> {
    let mut responses = Vec::with_capacity(4);
    let id = client
        .create_interaction(division, Channel::Voice)
        .await?
        .id;
    responses.push((0, wall_ms()));
    let (finalized, wait) = oneshot::channel();
    waiting.lock().await.insert(id, finalized);
    client.set_state(id, TargetState::Active).await?;
    responses.push((1, wall_ms()));
    client.set_state(id, TargetState::Closed).await?;
    responses.push((2, wall_ms()));
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .context("no finalized event within 30 s")??;
    client
        .put_wrapup(
            id,
            &WrapUpRequest {
                code_id: code,
                duration_ms: 1000,
                notes: None,
            },
        )
        .await?;
    responses.push((4, wall_ms()));
    Ok((id, responses))
}

fn ratio(name: &str, a: &Summary, b: &Summary) {
    println!(
        "  {name:<44} p50 {:>5.2}x  p99 {:>5.2}x",
        a.p50 / b.p50,
        a.p99 / b.p99
    );
}

async fn run(args: Args) -> Result<()> {
    if args.interactions == 0 || args.endpoints == 0 {
        bail!("--interactions and --endpoints must be at least 1");
    }
    let server = wrapup_bench::Server::start(Config {
        settle_ms: i64::from(args.settle_ms),
        webhooks: WebhookConfig {
            targets: TargetPolicy::AllowPrivate,
            ..WebhookConfig::default()
        },
        ..Config::default()
    })
    .await?;
    let client = Arc::new(server.client());

    // The receiver: answers 200 at once, notes each arrival.
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel::<Arrival>();
    let receiver = axum::Router::new()
        .route("/hook/{endpoint}", post(receive))
        .with_state(arrived_tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_base = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let (division, code) = wrapup_bench::division_with_code(&client).await?;
    for n in 0..args.endpoints {
        client
            .create_webhook(&CreateWebhook {
                url: format!("{hook_base}/{n}"),
                event_types: None,
                divisions: None,
                description: Some(format!("bench endpoint {n}")),
                enabled: None,
            })
            .await?;
    }

    // The baseline: the event stream, from before the burst.
    let mut stream = client.events(&EventQuery::default()).await?;
    let seen: StreamSeen = Arc::default();
    let waiting: Waiting = Arc::default();
    let (all_wrapped_tx, all_wrapped) = oneshot::channel::<()>();
    {
        let (seen, waiting, n) = (seen.clone(), waiting.clone(), args.interactions);
        tokio::spawn(async move {
            let mut wrapped = 0;
            let mut done = Some(all_wrapped_tx);
            while let Some(Ok(event)) = stream.next().await {
                let at = wall_ms();
                let StreamEvent::Interaction {
                    id,
                    kind,
                    interaction,
                } = event
                else {
                    continue;
                };
                let Some(step) = step(kind, interaction.state) else {
                    continue;
                };
                seen.lock().await.insert(id, (interaction.id, step, at));
                if step == 3 {
                    if let Some(w) = waiting.lock().await.remove(&interaction.id) {
                        let _ = w.send(());
                    }
                }
                if step == 4 {
                    wrapped += 1;
                    if wrapped == n {
                        if let Some(done) = done.take() {
                            let _ = done.send(());
                        }
                    }
                }
            }
        });
    }

    println!(
        "webhook-latency: {} interactions at once through their lifecycle, {} endpoints, settle {} ms,\n  SQLite WAL synchronous=FULL in {}",
        args.interactions,
        args.endpoints,
        args.settle_ms,
        server.dir.path().display()
    );
    let started = wall_ms();
    let runs = (0..args.interactions).map(|_| {
        let (client, waiting) = (client.clone(), waiting.clone());
        tokio::spawn(lifecycle(client, division, code, waiting))
    });
    let mut responses: HashMap<(Uuid, u8), f64> = HashMap::new();
    for done in try_join_all(runs).await? {
        let (id, steps) = done?;
        for (step, at) in steps {
            responses.insert((id, step), at);
        }
    }
    tokio::time::timeout(Duration::from_secs(30), all_wrapped)
        .await
        .context("the event stream did not show every wrap-up within 30 s")??;
    let burst_ms = wall_ms() - started;
    let events = seen.lock().await.len();

    // Every event to every endpoint (the first arrival of each; at-least-once may repeat).
    let mut first: HashMap<(usize, i64), (f64, f64)> = HashMap::new();
    let mut repeats = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while first.len() < events * args.endpoints {
        let Ok(Some((endpoint, seq, stored, at))) =
            tokio::time::timeout_at(deadline, arrived.recv()).await
        else {
            bail!(
                "only {} of {} deliveries arrived within 60 s",
                first.len(),
                events * args.endpoints
            );
        };
        if first.insert((endpoint, seq), (stored, at)).is_some() {
            repeats += 1;
        }
    }
    let delivered_ms = wall_ms() - started;

    let seen = seen.lock().await;
    let stored_of: HashMap<i64, f64> = first.iter().map(|((_, s), (st, _))| (*s, *st)).collect();
    let by_response = |seq: i64| {
        let (id, step, _) = seen.get(&seq)?;
        responses.get(&(*id, *step)).copied()
    };
    let mut per_endpoint = vec![Vec::new(); args.endpoints];
    let (mut all_stored, mut all_response) = (Vec::new(), Vec::new());
    for (&(endpoint, seq), &(stored, at)) in &first {
        per_endpoint[endpoint].push(at - stored);
        all_stored.push(at - stored);
        if let Some(r) = by_response(seq) {
            all_response.push(at - r);
        }
    }
    let (mut sse_stored, mut sse_response) = (Vec::new(), Vec::new());
    for (seq, (_, _, at)) in seen.iter() {
        if let Some(stored) = stored_of.get(seq) {
            sse_stored.push(at - stored);
        }
        if let Some(r) = by_response(*seq) {
            sse_response.push(at - r);
        }
    }
    println!(
        "\n{events} events ({} per interaction), {} deliveries ({repeats} repeated); burst done in {burst_ms:.0} ms, every delivery in {delivered_ms:.0} ms",
        events as f64 / args.interactions as f64,
        first.len(),
    );
    println!("\ncommit (stored time, ms, before the fsync) → arrival:");
    for (n, lat) in per_endpoint.into_iter().enumerate() {
        row(&format!("webhook endpoint {n}"), &summary(lat));
    }
    let hooks = summary(all_stored);
    let sse = summary(sse_stored);
    row("webhooks, all endpoints", &hooks);
    row("baseline: event stream", &sse);
    ratio("webhooks / event stream", &hooks, &sse);
    println!(
        "\nresponse to the request that made it (after the commit) → arrival, finalized excluded:"
    );
    let hooks_r = summary(all_response);
    row("webhooks, all endpoints", &hooks_r);
    row("baseline: event stream", &summary(sse_response));
    let target = 100.0;
    println!(
        "\ntarget webhook p99 ≤ {target} ms from commit: {:.1} ms (stored time), {:.1} ms (response): {}",
        hooks.p99,
        hooks_r.p99,
        if hooks.p99 <= target { "met" } else { "NOT met" }
    );
    Ok(())
}
