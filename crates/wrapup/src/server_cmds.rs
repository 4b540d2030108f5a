//! The server-side commands: `serve`, `clients create`, `migrate`. They work on the
//! database directly.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use uuid::Uuid;
use wrapup_server::chaos::ChaosSpec;
use wrapup_server::{demo, App, Clock, Config, RateLimit, SystemClock};
use wrapup_types::{DivisionGrant, ScopeSet};

#[derive(Args)]
pub struct DbArg {
    /// Database URL: sqlite://PATH (created if missing), or
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE to run several nodes on one database
    /// (see docs/deployment.md). The schema is migrated on start.
    #[arg(long, env = "WRAPUP_DB", default_value = "sqlite://wrapup.db")]
    pub db: String,
}

impl DbArg {
    /// Opens (and migrates) the database.
    async fn open(&self) -> anyhow::Result<Arc<dyn wrapup_store::Store>> {
        wrapup_store::open(&self.db)
            .await
            .with_context(|| format!("opening {}", self.shown()))
    }

    /// The URL fit to print (no password).
    fn shown(&self) -> String {
        wrapup_store::redact_url(&self.db)
    }
}

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

#[derive(Subcommand)]
pub enum ClientsCommand {
    /// Create an OAuth client and print its id and secret (shown only this once).
    #[command(
        after_help = "Examples:\n  wrapup clients create --name crm-sync --scopes \"interaction:view interaction:write\" --divisions all\n  \
wrapup clients create --name sales-only --scopes interaction:view --divisions 00000000-0000-4000-8000-0000000000a1 --json"
    )]
    Create(CreateClientArgs),
}

#[derive(Args)]
pub struct CreateClientArgs {
    #[command(flatten)]
    db: DbArg,
    /// A name for the client, to recognise it later.
    #[arg(long)]
    name: String,
    /// Space- or comma-separated scopes: interaction:view interaction:write interaction:manage
    /// wrapup-code:view wrapup-code:manage admin.
    #[arg(long)]
    scopes: String,
    /// `all`, or comma-separated division ids.
    #[arg(long)]
    divisions: String,
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
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
    Ok(())
}

fn print_demo(addr: SocketAddr) {
    println!(
        "\nDemo organisation ready.\n  client id:     {}\n  client secret: {}\n  (viewer, Sales only, read-only: {} / {})\n\nTry:\n  \
curl -s -u {}:{} -d grant_type=client_credentials http://{addr}/oauth/token\n",
        demo::DEMO_CLIENT_ID,
        demo::DEMO_CLIENT_SECRET,
        demo::VIEWER_CLIENT_ID,
        demo::VIEWER_CLIENT_SECRET,
        demo::DEMO_CLIENT_ID,
        demo::DEMO_CLIENT_SECRET,
    );
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

pub async fn create_client(args: CreateClientArgs, json: bool) -> anyhow::Result<()> {
    let scopes = ScopeSet::parse(&args.scopes).map_err(|s| {
        anyhow::anyhow!(
            "{s} is not a scope; use interaction:view, interaction:write, interaction:manage, wrapup-code:view, wrapup-code:manage or admin"
        )
    })?;
    if scopes.is_empty() {
        bail!("--scopes is empty; give at least one scope");
    }
    let divisions = if args.divisions.trim() == "all" {
        DivisionGrant::All
    } else {
        let ids = args
            .divisions
            .split(',')
            .map(|s| {
                Uuid::parse_str(s.trim())
                    .with_context(|| format!("{s:?} is not a division id (or use --divisions all)"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        DivisionGrant::Only(ids)
    };
    let store = args.db.open().await?;
    if let DivisionGrant::Only(ids) = &divisions {
        for id in ids {
            if store.get_division(*id).await?.is_none() {
                bail!("no division {id} exists in {}", args.db.shown());
            }
        }
    }
    let name = wrapup_domain::names::check_name("name", &args.name)
        .map_err(|p| anyhow::anyhow!(p.message))?;
    let now = SystemClock.now_ms();
    let (record, secret) =
        wrapup_server::auth::new_client(Uuid::new_v4(), &name, scopes, divisions, now, None);
    store.create_client(&record).await?;
    let scope_list: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    if json {
        println!(
            "{}",
            serde_json::json!({"clientId": record.id, "clientSecret": secret, "scopes": scope_list, "divisions": record.divisions})
        );
    } else {
        println!("Created OAuth client \"{name}\".");
        println!("  client id:     {}", record.id);
        println!("  client secret: {secret}");
        println!("  scopes:        {}", scope_list.join(" "));
        println!(
            "  divisions:     {}",
            serde_json::to_string(&record.divisions)?
        );
        println!("\nThe secret is shown only now; store it safely.");
    }
    Ok(())
}

pub async fn migrate(args: DbArg) -> anyhow::Result<()> {
    args.open().await?;
    println!("{} is up to date.", args.shown());
    Ok(())
}

#[derive(Args)]
pub struct SeedArgs {
    #[command(flatten)]
    db: DbArg,
    /// How many closed, finalized interactions to insert.
    #[arg(long)]
    interactions: u64,
    /// The division to put them in (created if no division has this name).
    #[arg(long, default_value = "Load test")]
    division: String,
    /// A wrap-up code to create in that division (if it has none of this name).
    #[arg(long, default_value = "Sale")]
    code: String,
    /// The first index: interaction i gets the id 00000000-0000-5eed-0000-{i as 12 hex digits}.
    #[arg(long, default_value_t = 0)]
    first: u64,
}

/// The id `wrapup seed` gives interaction `i`: `00000000-0000-5eed-0000-` then `i` in 12 hex
/// digits, so a load generator can address any of them without a list.
pub fn seed_id(i: u64) -> Uuid {
    Uuid::from_u128((0x5eed_u128 << 64) | u128::from(i))
}

/// How many interactions `seed` inserts per transaction.
const SEED_ROWS_PER_TRANSACTION: u64 = 100_000;

/// The bulk path for load tests: closed, finalized interactions straight into the database,
/// in large transactions, without events.
pub async fn seed(args: SeedArgs, json: bool) -> anyhow::Result<()> {
    let store = args.db.open().await?;
    let now = SystemClock.now_ms();
    let divisions = store
        .list_divisions(
            &DivisionGrant::All,
            wrapup_store::PageRequest {
                after: None,
                limit: 500,
            },
        )
        .await?;
    let division = match divisions.into_iter().find(|(_, d)| d.name == args.division) {
        Some((_, d)) => d.id,
        None => {
            store
                .create_division(Uuid::new_v4(), &args.division, now)
                .await?
                .id
        }
    };
    let codes = store
        .list_codes(
            &DivisionGrant::All,
            &wrapup_store::CodeFilter {
                division: Some(division),
                name: Some(args.code.clone()),
                include_archived: false,
            },
            wrapup_store::PageRequest {
                after: None,
                limit: 1,
            },
        )
        .await?;
    let code = match codes.first() {
        Some(c) => c.code.id,
        None => {
            let t = wrapup_types::timestamp::from_millis(now);
            store
                .create_code(&wrapup_types::WrapUpCode {
                    id: Uuid::new_v4(),
                    name: args.code.clone(),
                    division_id: division,
                    description: Some("Created by wrapup seed".into()),
                    archived: false,
                    date_created: t,
                    date_modified: t,
                })
                .await?
                .code
                .id
        }
    };
    let started = std::time::Instant::now();
    let first = args.first;
    let mut inserted = 0;
    while inserted < args.interactions {
        let end = (inserted + SEED_ROWS_PER_TRANSACTION).min(args.interactions);
        let ids = (inserted..end).map(|i| seed_id(first + i)).collect();
        inserted += store.seed_finalized(division, ids, now).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({"divisionId": division, "codeId": code, "inserted": inserted,
                "firstId": seed_id(first), "seconds": seconds})
        );
    } else {
        println!(
            "Inserted {inserted} finalized interactions into division \"{}\" ({division}) in {seconds:.1} s ({:.0}/s).",
            args.division,
            inserted as f64 / seconds.max(0.001)
        );
        println!(
            "  ids: {} … {}",
            seed_id(first),
            seed_id(first + inserted.saturating_sub(1))
        );
        println!("  code \"{}\": {code}", args.code);
    }
    Ok(())
}
