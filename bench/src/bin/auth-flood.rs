//! A flood of bad secrets against the token endpoint, and what it does to everyone else:
//! authenticated `GET /api/v2/interactions/{id}` latency and good token requests, measured
//! idle and then during a flood of `--connections` connections sending wrong secrets, in the
//! same run, against a `wrapup serve` process (release build). Each flood connection comes
//! from an address of its own (127.0.0.2, 127.0.0.3, …), the worst case for the limit per
//! address. Two scenarios: the server's defaults (failed-authentication limits on), and
//! the limits off (only the secret-hashing pool stands between the flood and the CPUs).
//! See docs/benchmarks.md#a-flood-of-bad-secrets.
//!
//!   cargo build --release -p wrapup -p wrapup-bench
//!   target/release/auth-flood --wrapup target/release/wrapup

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde_json::Value;

#[derive(Parser)]
struct Args {
    /// The wrapup binary (release build).
    #[arg(long, default_value = "target/release/wrapup")]
    wrapup: PathBuf,
    /// Connections sending bad secrets, each from its own loopback address.
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// Seconds of each phase (idle, flood).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

/// A `wrapup serve` process on a temporary database, killed when dropped.
struct Serve {
    child: Child,
    url: String,
    db: String,
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(wrapup: &PathBuf, extra: &[&str]) -> Result<Serve> {
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}", dir.path().join("flood.db").display());
    let mut child = Command::new(wrapup)
        .args(["serve", "--listen", "127.0.0.1:0", "--db", &db])
        .args(extra)
        .env("WRAPUP_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting wrapup serve")?;
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let Some(line) = lines.next() else {
            bail!("wrapup serve exited before listening")
        };
        if let Some(rest) = line?.strip_prefix("wrapup listening on ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Serve {
        child,
        url,
        db,
        _dir: dir,
    })
}

/// Creates an OAuth client with every scope on the database directly: (id, secret).
fn create_client(wrapup: &PathBuf, db: &str, name: &str) -> Result<(String, String)> {
    let out = Command::new(wrapup)
        .args(["clients", "create", "--name", name, "--divisions", "all", "--json"])
        .args([
            "--scopes",
            "interaction:view interaction:write interaction:manage wrapup-code:view wrapup-code:manage admin",
            "--db",
            db,
        ])
        .output()?;
    if !out.status.success() {
        bail!("clients create: {}", String::from_utf8_lossy(&out.stderr));
    }
    let json: Value = serde_json::from_slice(&out.stdout)?;
    Ok((
        json["clientId"].as_str().unwrap().to_string(),
        json["clientSecret"].as_str().unwrap().to_string(),
    ))
}

/// One token request: its status and latency.
async fn token(http: &reqwest::Client, url: &str, id: &str, secret: &str) -> (u16, Duration) {
    let started = Instant::now();
    let status = http
        .post(format!("{url}/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    (status, started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// What one phase measured.
#[derive(Default)]
struct Phase {
    gets: Vec<Duration>,
    warm: Vec<(u16, Duration)>,
    cold: Vec<(u16, Duration)>,
    flood: Vec<u64>,
}

impl Phase {
    fn print(&mut self, name: &str, idle_p99: Option<f64>) -> f64 {
        self.gets.sort();
        let p99 = percentile(&self.gets, 0.99);
        let vs = idle_p99.map_or(String::new(), |idle| format!(" ({:.2}× idle)", p99 / idle));
        println!(
            "  {name}: GET p50 {:.2} ms, p99 {p99:.2} ms{vs}, max {:.2} ms ({} requests)",
            percentile(&self.gets, 0.5),
            percentile(&self.gets, 1.0),
            self.gets.len()
        );
        for (what, list) in [
            ("token (client seen before)", &self.warm),
            ("token (client never seen)", &self.cold),
        ] {
            let mut ok: Vec<Duration> = list
                .iter()
                .filter(|(s, _)| *s == 200)
                .map(|l| l.1)
                .collect();
            ok.sort();
            let other: Vec<u16> = list.iter().map(|l| l.0).filter(|s| *s != 200).collect();
            println!(
                "    good {what}: {}/{} succeeded, p50 {:.1} ms, max {:.1} ms{}",
                ok.len(),
                list.len(),
                percentile(&ok, 0.5),
                percentile(&ok, 1.0),
                if other.is_empty() {
                    String::new()
                } else {
                    format!(", refused: {other:?}")
                }
            );
        }
        if !self.flood.is_empty() {
            let total: u64 = self.flood.iter().sum();
            println!(
                "    flood: {total} bad token requests ({:.0}/s): {} × 401, {} × 429, {} × 503, {} other",
                total as f64 / self.flood_seconds(),
                self.flood[0],
                self.flood[1],
                self.flood[2],
                self.flood[3]
            );
        }
        p99
    }

    fn flood_seconds(&self) -> f64 {
        FLOOD_SECONDS.load(Ordering::Relaxed) as f64
    }
}

static FLOOD_SECONDS: AtomicU64 = AtomicU64::new(1);

/// Measures for `seconds`: GETs back to back on one connection and, on another task (so a
/// slow token request never pauses the GETs), a good token request every 250 ms,
/// alternately for the client seen before and a client never seen.
async fn measure(
    url: &str,
    bearer: &str,
    interaction: &str,
    warm: &(String, String),
    cold: Vec<(String, String)>,
    seconds: u64,
) -> Phase {
    let until = Instant::now() + Duration::from_secs(seconds);
    let tokens = {
        let (url, warm) = (url.to_string(), warm.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let (mut warm_results, mut cold_results) = (Vec::new(), Vec::new());
            let mut cold = cold.into_iter();
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            let mut warm_turn = true;
            while Instant::now() < until {
                tick.tick().await;
                if warm_turn {
                    warm_results.push(token(&http, &url, &warm.0, &warm.1).await);
                } else if let Some((id, secret)) = cold.next() {
                    cold_results.push(token(&http, &url, &id, &secret).await);
                }
                warm_turn = !warm_turn;
            }
            (warm_results, cold_results)
        })
    };
    let get_http = reqwest::Client::new();
    let mut phase = Phase::default();
    while Instant::now() < until {
        let started = Instant::now();
        let r = get_http
            .get(format!("{url}/api/v2/interactions/{interaction}"))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status(), 200);
        r.bytes().await.expect("body");
        phase.gets.push(started.elapsed());
    }
    (phase.warm, phase.cold) = tokens.await.expect("the token task");
    phase
}

/// Floods the token endpoint with wrong secrets for `victim` until `stop`, one connection
/// per address; counts 401, 429, 503 and the rest.
fn flood(
    url: &str,
    victim: &str,
    connections: u32,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<[u64; 4]>> {
    (0..connections)
        .map(|n| {
            let address = IpAddr::V4(Ipv4Addr::new(127, 0, (n / 250) as u8, (n % 250) as u8 + 2));
            let http = reqwest::Client::builder()
                .local_address(address)
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let (url, victim, stop) = (url.to_string(), victim.to_string(), stop.clone());
            tokio::spawn(async move {
                let mut counts = [0u64; 4];
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let (status, _) = token(&http, &url, &victim, &format!("guess-{n}")).await;
                    let slot = match status {
                        401 => 0,
                        429 => 1,
                        503 => 2,
                        _ => 3,
                    };
                    counts[slot] += 1;
                }
                counts
            })
        })
        .collect()
}

async fn scenario(args: &Args, name: &str, extra: &[&str]) -> Result<()> {
    println!("\n{name} (wrapup serve {}):", extra.join(" "));
    let server = serve(&args.wrapup, extra)?;
    let url = server.url.clone();
    let victim = create_client(&args.wrapup, &server.db, "victim")?;
    let http = reqwest::Client::new();
    // The admin's token, a division and an interaction to GET.
    let (status, _) = token(&http, &url, &victim.0, &victim.1).await;
    assert_eq!(status, 200, "the victim authenticates");
    let login: Value = http
        .post(format!("{url}/oauth/token"))
        .basic_auth(&victim.0, Some(&victim.1))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    let bearer = login["access_token"].as_str().unwrap().to_string();
    let division: Value = http
        .post(format!("{url}/api/v2/authorization/divisions"))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"name": "Sales"}))
        .send()
        .await?
        .json()
        .await?;
    let interaction: Value = http
        .post(format!("{url}/api/v2/interactions"))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"divisionId": division["id"], "channel": "voice"}))
        .send()
        .await?
        .json()
        .await?;
    let interaction = interaction["id"].as_str().unwrap().to_string();
    // Clients never seen by the server (one per cold token request), created with the API.
    let per_phase = (args.seconds * 2) as usize + 2;
    let mut fresh = Vec::new();
    for n in 0..per_phase * 2 {
        let created: Value = http
            .post(format!("{url}/api/v2/oauth/clients"))
            .bearer_auth(&bearer)
            .json(&serde_json::json!({"name": format!("fresh-{n}"), "scopes": ["interaction:view"], "divisions": "all"}))
            .send()
            .await?
            .json()
            .await?;
        fresh.push((
            created["clientId"].as_str().unwrap().to_string(),
            created["clientSecret"].as_str().unwrap().to_string(),
        ));
    }
    let later = fresh.split_off(per_phase);

    let mut idle = measure(&url, &bearer, &interaction, &victim, fresh, args.seconds).await;
    let idle_p99 = idle.print("idle", None);

    let stop = Arc::new(AtomicBool::new(false));
    let flooders = flood(&url, &victim.0, args.connections, stop.clone());
    FLOOD_SECONDS.store(args.seconds, Ordering::Relaxed);
    let mut during = measure(&url, &bearer, &interaction, &victim, later, args.seconds).await;
    stop.store(true, Ordering::Relaxed);
    let mut counts = [0u64; 4];
    for f in flooders {
        let c = f.await?;
        (0..4).for_each(|i| counts[i] += c[i]);
    }
    during.flood = counts.to_vec();
    during.print(
        &format!("during a flood of {} connections", args.connections),
        Some(idle_p99),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "auth-flood: {} connections of bad secrets, {} s per phase; load average before: {}",
        args.connections,
        args.seconds,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    scenario(&args, "defaults: failed-authentication limits on", &[]).await?;
    scenario(
        &args,
        "limits off: only the hashing pool",
        &[
            "--auth-failures-per-client",
            "off",
            "--auth-failures-per-address",
            "off",
        ],
    )
    .await?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\nload average after: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}
