//! `wrapup serve`: run the server.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use wrapup_server::ChaosSpec;
use wrapup_server::HashingSettings;
use wrapup_server::NotificationConfig;
use wrapup_server::{demo, App, Clock, Config, RateLimit};
use wrapup_server::{FailureLimit, DEFAULT_PER_ADDRESS, DEFAULT_PER_CLIENT};

use crate::commands::db::DbArg;
use crate::commands::serve_test_options::TestOptions;
use crate::commands::webhooks::WebhookServeArgs;
use crate::commands::wrapup_args::duration_arg;
use crate::exit;
use crate::help::examples;
use crate::signals::StopSignals;

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
GET /api/v2/inspector/requests\n                          recent requests, to debug clients (admin scope)\n  \
GET /                   the web console (docs/console.md)\n\n\
SIGTERM or SIGINT: stop accepting, end the event streams (clients resume with Last-Event-ID),\n\
finish the requests in flight (at most --shutdown-timeout), commit every acknowledged write,\n\
exit 0. A second signal exits at once (130). See docs/operations.md.";

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
    /// Seed a demo organisation (idempotent) and print its credentials; the web console
    /// then offers the demo clients' sign-in in one click.
    #[arg(long)]
    demo: bool,
    /// Per-OAuth-client rate limit, e.g. 300/min, 5/s, 10000/h (a token bucket of that
    /// many requests). Off unless set.
    #[arg(long, env = "WRAPUP_RATE_LIMIT", hide_env_values = true, value_parser = clap::value_parser!(RateLimit))]
    rate_limit: Option<RateLimit>,
    /// Hours events are kept for clients resuming the event stream (at least 24).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(24..))]
    event_retention_hours: u32,
    /// Fault injection for testing clients, e.g. "503=5%,429=5%,reset=1%,after-commit-reset=2%,delay=20ms..200ms"
    /// (see docs/chaos.md). Off unless set; change it at runtime with PUT /api/v2/admin/chaos.
    #[arg(long, env = "WRAPUP_CHAOS", hide_env_values = true, value_parser = clap::value_parser!(ChaosSpec))]
    chaos: Option<ChaosSpec>,
    /// How many recent requests the request inspector keeps (0 turns it off).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    inspector_capacity: u32,
    /// SQLite: how many hot interactions a GET may be answered from memory (about 1 KiB
    /// each; 0 turns the cache off). Exact: a write forgets what it changed before it is
    /// acknowledged. PostgreSQL reads every time.
    #[arg(long, default_value_t = wrapup_store::READ_CACHE_ENTRIES as u32, value_parser = clap::value_parser!(u32).range(0..=100_000_000))]
    read_cache: u32,
    /// SQLite: fill the read cache at start with the most recent interactions, in the
    /// background, while the server already answers. With --read-cache above the number of
    /// interactions, every GET is answered from memory (about 1 KiB each; see
    /// docs/operations.md#the-read-cache).
    #[arg(long)]
    warm_read_cache: bool,
    /// SQLite: read the database file through a memory map of up to this many MiB per
    /// reading connection instead of copying its pages with pread (0, the default: off).
    /// Faster reads of a database much larger than the read cache; RSS then counts the
    /// mapped file once per connection (see docs/operations.md).
    #[arg(long, default_value_t = 0, value_name = "MIB", value_parser = clap::value_parser!(u32).range(0..=65_536))]
    mmap_mib: u32,
    #[command(flatten)]
    webhooks: WebhookServeArgs,
    /// On SIGTERM or SIGINT, how long requests in flight may take to finish before they are
    /// cut short (e.g. 10s, 500ms, 1m).
    #[arg(long, value_parser = duration_arg, default_value = "10s")]
    shutdown_timeout: std::time::Duration,
    /// Genesys notifications: how often a channel's socket gets a heartbeat (e.g. 30s).
    #[arg(long, value_parser = duration_arg, default_value = "30s")]
    notification_heartbeat: std::time::Duration,
    /// Genesys notifications: how long before its channel expires (and at once on shutdown)
    /// a socket gets v2.system.socket_closing.
    #[arg(long, value_parser = duration_arg, default_value = "60s")]
    notification_closing_notice: std::time::Duration,
    /// Genesys notifications: how long after a socket closes a reconnection to its channel
    /// first receives what it missed (docs/genesys.md#notifications).
    #[arg(long, value_parser = duration_arg, default_value = "60s")]
    notification_replay_window: std::time::Duration,
    /// Failed token requests allowed per client id, e.g. 10/min (then 429 until the bucket
    /// refills), or off. A secret this server already accepted is never limited.
    #[arg(long, default_value_t = FailureLimit(Some(DEFAULT_PER_CLIENT)))]
    auth_failures_per_client: FailureLimit,
    /// Failed token requests allowed per source address (IPv6: per /64), e.g. 60/min, or
    /// off (behind a proxy every client has the proxy's address: raise it or turn it off).
    #[arg(long, default_value_t = FailureLimit(Some(DEFAULT_PER_ADDRESS)))]
    auth_failures_per_address: FailureLimit,
    /// Threads that hash client secrets (argon2) [default: half the CPUs, at least 1].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    hashing_threads: Option<u32>,
    /// Secret hashes that may wait for a thread; more are answered 503 at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    hashing_queue: u32,
    /// Threads that serve HTTP connections, each connection on one of them from its first
    /// request to its last [default: one per CPU]. See docs/operations.md#http-workers.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    http_workers: Option<u32>,
    /// Log format on stderr: text, or json (one object per line). Filter with WRAPUP_LOG,
    /// e.g. WRAPUP_LOG=debug.
    #[arg(
        long,
        env = "WRAPUP_LOG_FORMAT",
        hide_env_values = true,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(flatten)]
    tests: TestOptions,
}

/// How `serve` writes its log.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let clock: Arc<dyn Clock> = args.tests.clock(&args.db)?;
    let store = args
        .db
        .open_for_serving(wrapup_store::SqliteReads {
            cache_entries: args.read_cache as usize,
            mmap_bytes: u64::from(args.mmap_mib) << 20,
        })
        .await?;
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
        webhooks: args.webhooks.config(args.demo)?,
        demo: args.demo,
        shutdown_timeout: args.shutdown_timeout,
        auth_failures_per_client: args.auth_failures_per_client,
        auth_failures_per_address: args.auth_failures_per_address,
        hashing: HashingSettings {
            threads: args
                .hashing_threads
                .map_or_else(|| HashingSettings::default().threads, |n| n as usize),
            queue: args.hashing_queue as usize,
        },
        warm_read_cache: args.warm_read_cache,
        http_workers: args
            .http_workers
            .and_then(|n| std::num::NonZeroUsize::new(n as usize))
            .unwrap_or(Config::default().http_workers),
        notifications: NotificationConfig {
            heartbeat: args.notification_heartbeat,
            closing_notice: args.notification_closing_notice,
            replay_window: args.notification_replay_window,
            ..NotificationConfig::default()
        },
        ..Config::default()
    };
    let webhooks = WebhookServeArgs::describe(&config.webhooks);
    let app = App::start(store, clock, config);
    // Before the "listening" line: a signal sent once it is printed is handled gracefully.
    let signals = StopSignals::listen().context("listening for SIGTERM and SIGINT")?;
    let limit = args.rate_limit.map_or_else(
        || "no rate limit".to_string(),
        |l| format!("rate limit {l} per client"),
    );
    eprintln!(
        "wrapup listening on http://{addr} (database {}, settle time {} ms, {limit})",
        args.db.shown(),
        args.settle_ms
    );
    eprintln!("{webhooks}");
    eprintln!("web console: http://{addr}/ (see docs/console.md)");
    if let Some(chaos) = args.chaos.filter(|c| !c.is_off()) {
        eprintln!("fault injection is ON: {chaos} (PUT /api/v2/admin/chaos {{\"spec\": \"off\"}} stops it)");
    }
    if let Some(clock) = args.tests.describe_clock() {
        eprintln!("{clock}");
    }
    if args.demo {
        print_demo(addr);
    }
    args.tests.ready(&format!("http://{addr}"))?;
    let load = app.load();
    let timeout = args.shutdown_timeout;
    let stdin_closed = args.tests.stdin_closed();
    let signal = async move {
        tokio::select! {
            () = signals.first_then_exit_on_second(
                "shutting down",
                "requests in flight are cut short; acknowledged writes are safe",
            ) => {}
            () = stdin_closed => eprintln!("wrapup: standard input closed (--exit-on-stdin-eof): shutting down"),
        }
        eprintln!(
            "shutting down: no new connections; ending {} event stream(s) (clients resume with Last-Event-ID); \
waiting up to {} for {} request(s) in flight",
            load.event_streams(),
            humantime(timeout),
            load.requests_in_flight(),
        );
    };
    let drained = app.serve(listener, signal).await?;
    if !drained.cut_short.is_empty() {
        eprintln!(
            "shutdown timeout ({}) passed: cutting short {} request(s):",
            humantime(timeout),
            drained.cut_short.len()
        );
        for r in &drained.cut_short {
            eprintln!(
                "  {} {} (running for {:.1} s, request id {})",
                r.method,
                r.path(),
                r.running_for().as_secs_f64(),
                r.request_id
            );
        }
    }
    app.close().await;
    eprintln!("wrapup stopped: every acknowledged write is committed.");
    Ok(exit::OK)
}

/// A duration as the flag takes it.
fn humantime(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
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
    println!(
        "Or with Genesys Cloud's Python SDK (pip install purecloudplatformclientv2; docs/genesys.md):\n\n{}",
        demo::python_sdk_snippet(&format!("http://{addr}"))
    );
}

/// What the demo banner suggests, one line each: only what exists.
fn try_lines(addr: SocketAddr) -> Vec<String> {
    vec![
        format!("http://{addr}/    the web console: sign in with the demo client in one click"),
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
