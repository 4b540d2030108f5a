//! Genesys notifications at scale (docs/benchmarks.md): 1,000 websockets on one node, each on
//! a channel of its own subscribed to its own conversation's detail topics, and a steady
//! stream of closes and wrap-ups. Prints close → `.acw` and wrap-up → `.wrapup` at the client
//! (p50/p90/p99/max) beside a baseline measured in the same run (the close request's own
//! round trip), and the memory per idle socket (the server's RSS before and after opening
//! them). With `--postgres URL`, the same across two PostgreSQL nodes: every socket on node
//! A, every write on node B.
//!
//! ```sh
//! cargo build --release -p wrapup -p wrapup-bench
//! ulimit -n 8192; target/release/notifications-latency --wrapup target/release/wrapup \
//!     [--postgres postgres://wrapup@127.0.0.1:54330/postgres]
//! ```
//!
//! The servers are `wrapup serve --demo` processes on 127.0.0.1 (their RSS is read from
//! /proc), stopped at the end. Bounded: `--sockets` sockets, each conversation closed once and
//! wrapped up once, `--rate` closes per second.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use wrapup_bench::process::{status_kib, Serve};
use wrapup_bench::{row, summary};
use wrapup_client::{Channel, Client, RetryPolicy};

const DEMO_ID: &str = "00000000-0000-4000-8000-00000000d001";
const DEMO_SECRET: &str = "demo-secret-not-for-production";
const SALES: &str = "00000000-0000-4000-8000-0000000000a1";
const QUEUE: &str = "00000000-0000-4000-8000-0000000001b1";
const ADA: &str = "00000000-0000-4000-8000-0000000001a1";
const CODE_SALE: &str = "00000000-0000-4000-8000-0000000000c1";
/// Channels per OAuth client (wrapup keeps at most 20, as Genesys does).
const CHANNELS_PER_CLIENT: usize = 20;

#[derive(Parser)]
#[command(about = "Measure close → .acw and wrap-up → .wrapup over 1,000 notification sockets")]
struct Args {
    /// The `wrapup` binary (a release build for the figures in the docs).
    #[arg(long, default_value = "target/release/wrapup")]
    wrapup: PathBuf,
    /// Sockets (one channel and one conversation each).
    #[arg(long, default_value_t = 1000)]
    sockets: usize,
    /// Closes per second (wrap-ups follow at the same rate once finalized).
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// The servers' settle time (ms).
    #[arg(long, default_value_t = 200)]
    settle_ms: u32,
    /// A PostgreSQL server (its `postgres` database is used) for the two-node phase.
    #[arg(long)]
    postgres: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    run(Args::parse()).await
}

/// A `wrapup serve --demo` process on `db`, killed when dropped.
fn start_node(bin: &Path, db: &str, settle_ms: u32) -> Result<Serve> {
    Serve::start(
        bin,
        &[
            "--demo",
            "--db",
            db,
            "--settle-ms",
            &settle_ms.to_string(),
            "--inspector-capacity",
            "0",
        ],
        Duration::from_secs(60),
    )
}

/// A node's resident set, in KiB.
fn rss_kib(node: &Serve) -> Result<u64> {
    status_kib(node.process.id(), "VmRSS").context("VmRSS in /proc/PID/status")
}

fn client(url: &str, id: &str, secret: &str) -> Client {
    Client::new(url)
        .with_credentials(id, secret)
        .with_retry(RetryPolicy::none())
}

async fn post(client: &Client, path: &str, body: Value) -> Result<Value> {
    let raw = client
        .raw(
            reqwest::Method::POST,
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
        .await?;
    if !raw.status.is_success() {
        bail!(
            "POST {path}: {} {}",
            raw.status,
            String::from_utf8_lossy(&raw.body)
        );
    }
    Ok(serde_json::from_slice(&raw.body).unwrap_or(Value::Null))
}

async fn put(client: &Client, path: &str, body: Value) -> Result<()> {
    let raw = client
        .raw(
            reqwest::Method::PUT,
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
        .await?;
    if !raw.status.is_success() {
        bail!(
            "PUT {path}: {} {}",
            raw.status,
            String::from_utf8_lossy(&raw.body)
        );
    }
    Ok(())
}

/// (conversation id, "acw" | "wrapup") → when it reached the client.
type Arrivals = mpsc::UnboundedSender<(String, String, Instant)>;

/// Opens one channel's socket and reports every detail event's arrival until the end.
async fn follow(channel: Channel, arrivals: Arrivals) -> Result<()> {
    let (mut socket, _) = tokio_tungstenite::connect_async(channel.connect_uri.as_str()).await?;
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let now = Instant::now();
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        let topic = v["topicName"].as_str().unwrap_or_default();
        if let Some(rest) = topic.strip_prefix("v2.detail.events.conversation.") {
            if let Some((cid, kind)) = rest.split_once('.') {
                let _ = arrivals.send((cid.to_string(), kind.to_string(), now));
            }
        }
    }
    Ok(())
}

/// One phase: sockets on `a`, writes on `b` (the same node for the one-node phase).
async fn phase(title: &str, a: &Serve, b: &Serve, args: &Args) -> Result<()> {
    let admin_a = client(&a.url, DEMO_ID, DEMO_SECRET);
    let admin_b = client(&b.url, DEMO_ID, DEMO_SECRET);
    let n = args.sockets;
    // The conversations: answered Sales calls of the demo's MANDATORY queue, by Ada.
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let created = post(
            &admin_b,
            "/api/v2/interactions",
            json!({"divisionId": SALES, "channel": "voice", "queueId": QUEUE}),
        )
        .await?;
        let id = created["id"]
            .as_str()
            .context("an interaction id")?
            .to_string();
        post(
            &admin_b,
            &format!("/api/v2/interactions/{id}/state"),
            json!({"state": "active", "agentId": ADA}),
        )
        .await?;
        ids.push(id);
    }
    // OAuth clients for the channels (20 each), then the server's memory before the sockets.
    let mut owners = Vec::new();
    for i in 0..n.div_ceil(CHANNELS_PER_CLIENT) {
        let made = post(
            &admin_a,
            "/api/v2/oauth/clients",
            json!({"name": format!("bench {i}"),
            "scopes": ["interaction:view"], "divisions": "all"}),
        )
        .await?;
        owners.push(Arc::new(client(
            &a.url,
            made["clientId"].as_str().unwrap(),
            made["clientSecret"].as_str().unwrap(),
        )));
    }
    for owner in &owners {
        owner.bearer().await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_kib(a)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::with_capacity(n);
    for (i, id) in ids.iter().enumerate() {
        let owner = &owners[i / CHANNELS_PER_CLIENT];
        let channel = owner.create_notification_channel().await?;
        let topics = vec![
            format!("v2.detail.events.conversation.{id}.acw"),
            format!("v2.detail.events.conversation.{id}.wrapup"),
            format!("v2.detail.events.conversation.{id}.customer.end"),
            format!("v2.detail.events.conversation.{id}.user.end"),
        ];
        let answers = owner
            .subscribe_notification_topics(&channel.id, &topics, true)
            .await?;
        if answers.iter().any(|t| !t.permitted()) {
            bail!("a topic was rejected: {answers:?}");
        }
        tasks.push(tokio::spawn(follow(channel, tx.clone())));
    }
    drop(tx);
    // Every socket open and idle (an event-free moment), then the memory again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = rss_kib(a)?;
    let open = tasks.iter().filter(|t| !t.is_finished()).count();

    // The steady stream: one close every 1/rate s on node B; each conversation is wrapped up
    // (on node B) once finalized, in the same order, at the same rate.
    let sent: Arc<Mutex<HashMap<(String, String), Instant>>> = Arc::default();
    let gap = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    let mut close_rtt = Vec::with_capacity(n);
    let writer = {
        let (ids, sent, settle) = (
            ids.clone(),
            sent.clone(),
            Duration::from_millis(u64::from(args.settle_ms)),
        );
        let admin = client(&b.url, DEMO_ID, DEMO_SECRET);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(gap);
            let mut wrapups = std::collections::VecDeque::new();
            let mut rtts = Vec::new();
            let mut next_close = 0;
            while next_close < ids.len() || !wrapups.is_empty() {
                ticker.tick().await;
                if let Some(id) = ids.get(next_close) {
                    let started = Instant::now();
                    sent.lock()
                        .unwrap()
                        .insert((id.clone(), "acw".into()), started);
                    post(
                        &admin,
                        &format!("/api/v2/interactions/{id}/state"),
                        json!({"state": "closed"}),
                    )
                    .await?;
                    rtts.push(started.elapsed().as_secs_f64() * 1000.0);
                    wrapups.push_back((
                        id.clone(),
                        Instant::now() + settle + Duration::from_millis(100),
                    ));
                    next_close += 1;
                }
                if let Some((id, due)) = wrapups.front().cloned() {
                    if Instant::now() >= due {
                        wrapups.pop_front();
                        let started = Instant::now();
                        sent.lock()
                            .unwrap()
                            .insert((id.clone(), "wrapup".into()), started);
                        put(
                            &admin,
                            &format!("/api/v2/interactions/{id}/wrap-up"),
                            json!({"codeId": CODE_SALE, "durationMs": 60000}),
                        )
                        .await?;
                    }
                }
            }
            anyhow::Ok(rtts)
        })
    };
    let mut to_acw = Vec::with_capacity(n);
    let mut to_wrapup = Vec::with_capacity(n);
    let deadline = Instant::now() + Duration::from_secs(60) + gap * (2 * n as u32);
    while (to_acw.len() < n || to_wrapup.len() < n) && Instant::now() < deadline {
        let Ok(Some((cid, kind, at))) =
            tokio::time::timeout(Duration::from_secs(10), rx.recv()).await
        else {
            break;
        };
        if let Some(started) = sent.lock().unwrap().get(&(cid, kind.clone())) {
            let ms = at.duration_since(*started).as_secs_f64() * 1000.0;
            match kind.as_str() {
                "acw" => to_acw.push(ms),
                "wrapup" => to_wrapup.push(ms),
                _ => {}
            }
        }
    }
    close_rtt.extend(writer.await??);
    for task in tasks {
        task.abort();
    }
    println!(
        "\n{title}: {n} sockets ({open} open when idle), {} closes/s, settle {} ms",
        args.rate, args.settle_ms
    );
    println!(
        "  memory: server RSS {:.1} MiB before, {:.1} MiB with the sockets idle: {:.1} KiB per socket (its channel and 4 topics)",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        (rss_after.saturating_sub(rss_before)) as f64 / n as f64
    );
    let (acw, wrapup, rtt) = (summary(to_acw), summary(to_wrapup), summary(close_rtt));
    row("close sent → .acw received", &acw);
    row("wrap-up sent → .wrapup received", &wrapup);
    row("baseline: the close request → its response", &rtt);
    println!(
        "  goal p99 ≤ 50 ms (close → .acw): {:.3} ms, {}{}",
        acw.p99,
        if acw.p99 <= 50.0 { "met" } else { "NOT met" },
        if acw.n < n || wrapup.n < n {
            format!("; MISSING {} .acw, {} .wrapup", n - acw.n, n - wrapup.n)
        } else {
            String::new()
        }
    );
    Ok(())
}

async fn run(args: Args) -> Result<()> {
    if args.sockets == 0 || args.rate == 0 {
        bail!("--sockets and --rate must be at least 1");
    }
    let dir = tempfile::tempdir()?;
    println!(
        "notifications-latency: {} ({})",
        args.wrapup.display(),
        dir.path().display()
    );
    {
        let db = format!("sqlite://{}", dir.path().join("bench.db").display());
        let node = start_node(&args.wrapup, &db, args.settle_ms)?;
        phase("SQLite, one node", &node, &node, &args).await?;
    }
    if let Some(url) = &args.postgres {
        let a = start_node(&args.wrapup, url, args.settle_ms)?;
        let b = start_node(&args.wrapup, url, args.settle_ms)?;
        phase(
            "PostgreSQL, two nodes (sockets on A, writes on B)",
            &a,
            &b,
            &args,
        )
        .await?;
    }
    Ok(())
}
