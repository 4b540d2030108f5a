//! `wrapup serve`: run the server.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use wrapup_server::chaos::ChaosSpec;
use wrapup_server::{demo, App, Clock, Config, RateLimit, SystemClock};

use crate::commands::db::DbArg;
use crate::exit;
use crate::help::examples;

/// The examples of `wrapup serve --help`.
pub const HELP: &str = examples!(
    "wrapup serve --demo",
    "wrapup serve --listen 0.0.0.0:8080 --db sqlite:///var/lib/wrapup/wrapup.db --settle-ms 1500",
    "wrapup serve --rate-limit 300/min --log-format json",
);

/// The operations listed by `wrapup serve --help`.
pub const AFTER_HELP: &str = "Operations:\n  GET /api/v2            the API's entry points (no token)\n  \
GET /healthz            200 once the store answers\n  \
GET /metrics            Prometheus metrics (no token; keep it private)\n  \
GET /api/v2/inspector/requests\n                          recent requests, to debug clients (admin scope)";

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    db: DbArg,
    /// Milliseconds between an interaction closing and being finalized (ready for wrap-up).
    #[arg(long, default_value_t = 1500)]
    settle_ms: u32,
    /// Seed a demo organisation (idempotent) and print its credentials.
    #[arg(long)]
    demo: bool,
    /// Per-OAuth-client rate limit, e.g. 300/min, 5/s, 10000/h (a token bucket of that
    /// many requests). Off unless set.
    #[arg(long, env = "WRAPUP_RATE_LIMIT", value_parser = clap::value_parser!(RateLimit))]
    rate_limit: Option<RateLimit>,
    /// Hours events are kept for clients resuming the event stream (at least 24).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(24..))]
    event_retention_hours: u32,
    /// Fault injection for testing clients, e.g. "503=5%,429=5%,reset=1%,after-commit-reset=2%,delay=20ms..200ms"
    /// (see docs/chaos.md). Off unless set; change it at runtime with PUT /api/v2/admin/chaos.
    #[arg(long, env = "WRAPUP_CHAOS", value_parser = clap::value_parser!(ChaosSpec))]
    chaos: Option<ChaosSpec>,
    /// How many recent requests the request inspector keeps (0 turns it off).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    inspector_capacity: u32,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let store = args.db.open().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if args.demo {
        demo::seed(store.as_ref(), clock.now_ms())
            .await
            .context("seeding the demo organisation")?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "listening on {} (is another server running there?)",
                args.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let config = Config {
        settle_ms: args.settle_ms as i64,
        rate_limit: args.rate_limit,
        event_retention: std::time::Duration::from_secs(
            u64::from(args.event_retention_hours) * 3600,
        ),
        inspector_capacity: args.inspector_capacity as usize,
        chaos: args.chaos.unwrap_or_default(),
        ..Config::default()
    };
    let app = App::start(store, clock, config);
    let limit = args.rate_limit.map_or_else(
        || "no rate limit".to_string(),
        |l| format!("rate limit {l} per client"),
    );
    eprintln!(
        "wrapup listening on http://{addr} (database {}, settle time {} ms, {limit})",
        args.db.shown(),
        args.settle_ms
    );
    if let Some(chaos) = args.chaos.filter(|c| !c.is_off()) {
        eprintln!("fault injection is ON: {chaos} (PUT /api/v2/admin/chaos {{\"spec\": \"off\"}} stops it)");
    }
    if args.demo {
        print_demo(addr);
    }
    app.serve(listener, shutdown_signal()).await?;
    eprintln!("wrapup stopped.");
    Ok(exit::OK)
}

fn print_demo(addr: SocketAddr) {
    println!(
        "\nDemo organisation ready.\n  client id:     {}\n  client secret: {}\n  (viewer, Sales only, read-only: {} / {})\n\nTry:",
        demo::DEMO_CLIENT_ID,
        demo::DEMO_CLIENT_SECRET,
        demo::VIEWER_CLIENT_ID,
        demo::VIEWER_CLIENT_SECRET,
    );
    for line in try_lines(addr) {
        println!("  {line}");
    }
    println!();
}

/// What the demo banner suggests, one line each: only what exists (a web console, once
/// there is one, is one more line here).
fn try_lines(addr: SocketAddr) -> Vec<String> {
    vec![
        format!(
            "README.md, \"The five-minute walkthrough\": why a wrap-up gets a 400, step by step (URL=http://{addr})"
        ),
        format!(
            "export WRAPUP_URL=http://{addr} WRAPUP_CLIENT_ID={} WRAPUP_CLIENT_SECRET={}",
            demo::DEMO_CLIENT_ID,
            demo::DEMO_CLIENT_SECRET
        ),
        format!(
            "wrapup doctor {} --code Sale --duration 2m    # every check, and how to fix what fails",
            demo::INTERACTION_ACTIVE
        ),
        format!("curl http://{addr}/api/v2    # every operation of the API (no token needed)"),
    ]
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    eprintln!("shutting down: finishing requests in flight…");
}
