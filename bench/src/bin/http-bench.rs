//! The HTTP benchmark: wrapup's authenticated GET and durable PUT against a minimal axum
//! baseline, measured with `wrk` in the same run, at 100,000 and 10,000,000 interactions;
//! plus on-disk bytes per interaction, the server's peak RSS and its start-up time. Run it
//! with `bench/run.sh` (which builds in release mode and installs wrk if absent). See
//! docs/benchmarks.md.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use wrapup_bench::process::{json_of, status_kib, Process, Serve};

#[derive(Parser)]
struct Args {
    /// The wrapup binary (release build).
    #[arg(long, default_value = "target/release/wrapup")]
    wrapup: PathBuf,
    /// The baseline server binary (release build): in memory, and with `--durable` the
    /// group-commit baseline.
    #[arg(long, default_value = "target/release/baseline-server")]
    baseline: PathBuf,
    /// Store sizes to measure at.
    #[arg(long, value_delimiter = ',', default_value = "100000,10000000")]
    scales: Vec<u64>,
    /// Runs of each measurement (the median is reported, with min and max).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds of each wrk run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    connections: u32,
    /// Where the databases go (a temporary directory by default).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// A PostgreSQL server (`postgres://user@host:port/db`) to also measure the PUT on, with
    /// one node and with two nodes on one database, beside SQLite, at the first scale. The
    /// database `wrapup_bench` is created there (dropped first if it exists).
    #[arg(long)]
    postgres: Option<String>,
    /// Also measure wrapup's PUT against the logged baseline (`baseline-server --durable
    /// --logged`: the group-commit baseline that appends an event and a history row per PUT
    /// too, as wrapup does), alternately, at every scale.
    #[arg(long)]
    logged_baseline: bool,
    /// Serve with a read cache of every interaction, filled before the measurements
    /// (`wrapup serve --read-cache N --warm-read-cache`, about 1 KiB of memory each).
    #[arg(long)]
    warm_read_cache: bool,
}

/// Which baseline `baseline-server` runs.
#[derive(Clone, Copy)]
enum Baseline<'a> {
    InMemory,
    /// `--durable FILE`.
    GroupCommit(&'a Path),
    /// `--durable FILE --logged`.
    Logged(&'a Path),
}

/// One wrk run.
#[derive(Debug, Clone, Copy)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn ms(value: &str) -> Option<f64> {
    let value = value.trim();
    let (number, factor) = if let Some(v) = value.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = value.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (value, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn parse_wrk(out: &str) -> Result<Run> {
    let find = |prefix: &str| {
        out.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix).map(|v| v.trim().to_string()))
    };
    let rps = find("Requests/sec:")
        .and_then(|v| v.parse::<f64>().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{out}"))?;
    let p50 = find("50%").and_then(|v| ms(&v)).context("no 50% latency")?;
    let p99 = find("99%").and_then(|v| ms(&v)).context("no 99% latency")?;
    let mut errors = find("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if let Some(socket) = find("Socket errors:") {
        errors += socket
            .split(',')
            .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Ok(Run {
        rps,
        p50_ms: p50,
        p99_ms: p99,
        errors,
    })
}

const LUA: &str = r#"
local n = tonumber(os.getenv("WRK_N"))
local token = os.getenv("WRK_TOKEN") or ""
local code = os.getenv("WRK_CODE") or ""
local method = os.getenv("WRK_METHOD")
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + seed)
end
request = function()
  local id = string.format("00000000-0000-5eed-0000-%012x", math.random(0, n - 1))
  local headers = {["Authorization"] = "Bearer " .. token}
  if method == "GET" then
    return wrk.format("GET", "/api/v2/interactions/" .. id, headers)
  end
  headers["Content-Type"] = "application/json"
  -- A different duration each time: every PUT is a real change (a no-op PUT writes nothing).
  local body = string.format('{"codeId":"%s","durationMs":%d}', code, math.random(1, 86400000))
  return wrk.format("PUT", "/api/v2/interactions/" .. id .. "/wrap-up", headers, body)
end
"#;

struct Target {
    name: &'static str,
    url: String,
    token: String,
    code: String,
}

fn wrk(
    connections: u32,
    seconds: u64,
    script: &Path,
    target: &Target,
    method: &str,
    n: u64,
) -> Result<Run> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(&target.url)
        .env("WRK_N", n.to_string())
        .env("WRK_TOKEN", &target.token)
        .env("WRK_CODE", &target.code)
        .env("WRK_METHOD", method)
        .output()
        .context("running wrk (install it: apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("wrk failed: {}{text}", String::from_utf8_lossy(&out.stderr));
    }
    parse_wrk(&text)
}

/// Median, min and max.
fn spread(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

struct Measured {
    rps: (f64, f64, f64),
    p50: (f64, f64, f64),
    p99: (f64, f64, f64),
    errors: u64,
}

/// A short unrecorded run first: connections opened and caches filled on demand (a fresh
/// node opens its database connections lazily) are not what is being measured.
fn warm_up(script: &Path, target: &Target, method: &str, n: u64, connections: u32) -> Result<()> {
    wrk(connections, 2, script, target, method, n).map(|_| ())
}

fn measure(args: &Args, script: &Path, target: &Target, method: &str, n: u64) -> Result<Measured> {
    warm_up(script, target, method, n, args.connections)?;
    let runs: Vec<Run> = (0..args.runs)
        .map(|_| wrk(args.connections, args.seconds, script, target, method, n))
        .collect::<Result<_>>()?;
    Ok(Measured::of(&runs))
}

/// Two targets measured alternately (a, b, a, b, …) after a warm-up of each, so that a
/// change in the machine's load during the run weighs on both alike.
fn measure_alternately(
    args: &Args,
    script: &Path,
    (a, b): (&Target, &Target),
    method: &str,
    n: u64,
) -> Result<(Measured, Measured)> {
    warm_up(script, a, method, n, args.connections)?;
    warm_up(script, b, method, n, args.connections)?;
    let (mut runs_a, mut runs_b) = (Vec::new(), Vec::new());
    for _ in 0..args.runs {
        runs_a.push(wrk(args.connections, args.seconds, script, a, method, n)?);
        runs_b.push(wrk(args.connections, args.seconds, script, b, method, n)?);
    }
    Ok((Measured::of(&runs_a), Measured::of(&runs_b)))
}

impl Measured {
    fn of(runs: &[Run]) -> Measured {
        Measured {
            rps: spread(runs.iter().map(|r| r.rps).collect()),
            p50: spread(runs.iter().map(|r| r.p50_ms).collect()),
            p99: spread(runs.iter().map(|r| r.p99_ms).collect()),
            errors: runs.iter().map(|r| r.errors).sum(),
        }
    }
}

/// The same load split over several servers at once (the connections shared out evenly):
/// requests/s summed, p50 averaged and p99 the worst of them, per run.
fn measure_spread(
    args: &Args,
    script: &Path,
    targets: &[Target],
    method: &str,
    n: u64,
) -> Result<Measured> {
    let connections = args.connections / targets.len() as u32;
    for t in targets {
        warm_up(script, t, method, n, connections)?;
    }
    let mut runs = Vec::new();
    for _ in 0..args.runs {
        let parts: Vec<Run> = std::thread::scope(|s| {
            let handles: Vec<_> = targets
                .iter()
                .map(|t| s.spawn(move || wrk(connections, args.seconds, script, t, method, n)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a wrk thread"))
                .collect::<Result<Vec<_>>>()
        })?;
        runs.push(Run {
            rps: parts.iter().map(|r| r.rps).sum(),
            p50_ms: parts.iter().map(|r| r.p50_ms).sum::<f64>() / parts.len() as f64,
            p99_ms: parts.iter().map(|r| r.p99_ms).fold(0.0, f64::max),
            errors: parts.iter().map(|r| r.errors).sum(),
        });
    }
    Ok(Measured::of(&runs))
}

fn wait_ready(port: u16, child: &mut Child, limit: Duration) -> Result<Duration> {
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n")?;
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200")
                || answer.starts_with("HTTP/1.0 200")
                || answer.contains(" 404 ")
            {
                return Ok(started.elapsed());
            }
        }
        if let Some(status) = child.try_wait()? {
            bail!("the server exited: {status}");
        }
        if started.elapsed() > limit {
            bail!("the server did not start within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn token(port: u16, id: &str, secret: &str) -> Result<String> {
    let out = Command::new("curl")
        .args([
            "-s",
            "-u",
            &format!("{id}:{secret}"),
            "-d",
            "grant_type=client_credentials",
        ])
        .arg(format!("http://127.0.0.1:{port}/oauth/token"))
        .output()
        .context("running curl")?;
    let body: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .context("no access_token")
}

fn row(label: &str, m: &Measured, baseline: Option<&Measured>) {
    let ratio = baseline.map_or(String::new(), |b| format!("{:>6.2}x", m.rps.0 / b.rps.0));
    println!(
        "  {label:<34} {:>8.0} req/s [{:>7.0}..{:>7.0}] {ratio:>7}   p50 {:>6.2} ms   p99 {:>6.2} ms [{:.2}..{:.2}]{}",
        m.rps.0,
        m.rps.1,
        m.rps.2,
        m.p50.0,
        m.p99.0,
        m.p99.1,
        m.p99.2,
        if m.errors > 0 { format!("   {} ERRORS", m.errors) } else { String::new() }
    );
}

/// Removes a SQLite database and its WAL files, if there.
fn remove_database(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// Starts `baseline-server` with `n` interactions: the in-memory baseline, or a durable one
/// on a file (seeded first, which takes a while at 10M).
fn start_baseline(
    args: &Args,
    n: u64,
    code: &str,
    kind: Baseline<'_>,
) -> Result<(Process, Target)> {
    let port = free_port()?;
    let mut command = Command::new(&args.baseline);
    command.args([
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--interactions",
        &n.to_string(),
    ]);
    let (name, durable) = match kind {
        Baseline::InMemory => ("baseline", false),
        Baseline::GroupCommit(file) => {
            command.arg("--durable").arg(file);
            ("group-commit baseline", true)
        }
        Baseline::Logged(file) => {
            command.arg("--durable").arg(file).arg("--logged");
            ("logged baseline", true)
        }
    };
    let mut server = Process(
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    // The baseline answers 404 to /healthz once it listens (the durable one once seeded).
    let limit = Duration::from_secs(if durable { 600 } else { 300 });
    wait_ready(port, &mut server.0, limit)?;
    let target = Target {
        name,
        url: format!("http://127.0.0.1:{port}"),
        token: String::new(),
        code: code.to_string(),
    };
    Ok((server, target))
}

/// Starts `wrapup serve` on `db_url` (the inspector off). With `warm: Some(n)`, its read
/// cache holds the `n` interactions, filled before this returns.
fn start_wrapup(args: &Args, db_url: &str, warm: Option<u64>) -> Result<Serve> {
    let mut serve = vec!["--db", db_url, "--inspector-capacity", "0"];
    let entries = warm.map(|n| n.to_string());
    if let Some(entries) = &entries {
        serve.extend(["--read-cache", entries, "--warm-read-cache"]);
    }
    let server = Serve::start(&args.wrapup, &serve, Duration::from_secs(120))?;
    if let Some(n) = warm {
        let started = Instant::now();
        while metric(server.port, "wrapup_read_cache_entries") < Some(n as f64) {
            if started.elapsed() > Duration::from_secs(1800) {
                bail!("the read cache was not warm within 30 minutes");
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        println!(
            "  (read cache warmed with {n} interactions in {:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(server)
}

/// The value of the metric `name` on a wrapup server's `/metrics`.
fn metric(port: u16, name: &str) -> Option<f64> {
    metrics_text(port)?
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// A wrapup server's `/metrics`, as text.
fn metrics_text(port: u16) -> Option<String> {
    let out = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.1:{port}/metrics")])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Seeds `n` interactions into `db_url` and creates a client; returns the seed's and the
/// client's JSON.
fn prepare(args: &Args, db_url: &str, n: u64) -> Result<(serde_json::Value, serde_json::Value)> {
    let seeded = json_of(Command::new(&args.wrapup).args([
        "seed",
        "--json",
        "--interactions",
        &n.to_string(),
        "--db",
        db_url,
    ]))?;
    let creds = json_of(Command::new(&args.wrapup).args([
        "clients",
        "create",
        "--json",
        "--name",
        "bench",
        "--divisions",
        "all",
        "--db",
        db_url,
        "--scopes",
        "interaction:view interaction:write interaction:manage wrapup-code:view admin",
    ]))?;
    Ok((seeded, creds))
}

/// A wrapup server to load, with a token and the seeded code.
fn target(port: u16, seeded: &serde_json::Value, creds: &serde_json::Value) -> Result<Target> {
    Ok(Target {
        name: "wrapup",
        url: format!("http://127.0.0.1:{port}"),
        token: token(
            port,
            creds["clientId"].as_str().context("clientId")?,
            creds["clientSecret"].as_str().context("clientSecret")?,
        )?,
        code: seeded["codeId"].as_str().context("codeId")?.to_string(),
    })
}

/// The PUT on PostgreSQL with one node, then two nodes on the same database.
fn postgres_puts(
    args: &Args,
    server: &str,
    script: &Path,
    n: u64,
    sqlite_put: &Measured,
) -> Result<()> {
    let psql = |sql: &str| -> Result<()> {
        let out = Command::new("psql")
            .args([server, "-qc", sql])
            .output()
            .context("running psql")?;
        if !out.status.success() {
            bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    };
    psql("DROP DATABASE IF EXISTS wrapup_bench WITH (FORCE)")?;
    psql("CREATE DATABASE wrapup_bench")?;
    let db_url = wrapup_store::testing::with_database(server, "wrapup_bench");
    let started = Instant::now();
    let (seeded, creds) = prepare(args, &db_url, n)?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let node_one = start_wrapup(args, &db_url, None)?;
    let one = target(node_one.port, &seeded, &creds)?;
    println!(
        "\nPUT wrap-up by storage, {n} interactions (PostgreSQL seeded in {seed_seconds:.1} s; node start-up {:.0} ms):",
        node_one.startup.as_secs_f64() * 1000.0
    );
    let put_one = measure(args, script, &one, "PUT", n)?;
    let node_two = start_wrapup(args, &db_url, None)?;
    let two = target(node_two.port, &seeded, &creds)?;
    let put_two = measure_spread(args, script, &[one, two], "PUT", n)?;
    row("SQLite, 1 node", sqlite_put, None);
    row("PostgreSQL, 1 node", &put_one, Some(sqlite_put));
    row(
        "PostgreSQL, 2 nodes (16 conns each)",
        &put_two,
        Some(sqlite_put),
    );
    println!("  (ratios here are to SQLite's PUT in this run)");
    psql("DROP DATABASE IF EXISTS wrapup_bench WITH (FORCE)")?;
    Ok(())
}

/// The error statuses a wrapup server answered so far, from its `/metrics`
/// (`status=count, …`), so that a run with errors says what they were.
fn error_statuses(port: u16) -> String {
    let Some(metrics) = metrics_text(port) else {
        return "(metrics unavailable)".into();
    };
    let mut counts = std::collections::BTreeMap::<u16, f64>::new();
    for line in metrics.lines() {
        if !line.contains("http_requests_total{") {
            continue;
        }
        let status = line
            .split("status=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|s| s.parse::<u16>().ok());
        let count = line.rsplit(' ').next().and_then(|c| c.parse::<f64>().ok());
        if let (Some(status), Some(count)) = (status, count) {
            if status >= 400 {
                *counts.entry(status).or_default() += count;
            }
        }
    }
    counts
        .iter()
        .map(|(s, c)| format!("{s}={c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() -> Result<()> {
    let args = Args::parse();
    for binary in [&args.wrapup, &args.baseline] {
        if !binary.exists() {
            bail!(
                "{} does not exist; run bench/run.sh (it builds in release mode)",
                binary.display()
            );
        }
    }
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let script = dir.join("bench.lua");
    std::fs::write(&script, LUA)?;
    println!(
        "http-bench: wrk -t2 -c{} -d{}s, {} runs each (median [min..max]); ratios are to the baseline in the same run",
        args.connections, args.seconds, args.runs
    );
    for &n in &args.scales {
        let db = dir.join(format!("bench-{n}.db"));
        remove_database(&db);
        let db_url = format!("sqlite://{}", db.display());
        let started = Instant::now();
        let (seeded, creds) = prepare(&args, &db_url, n)?;
        let seed_seconds = started.elapsed().as_secs_f64();
        let db_bytes: u64 = ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
            .map(|m| m.len())
            .sum();

        let server = start_wrapup(&args, &db_url, args.warm_read_cache.then_some(n))?;
        let wrapup = target(server.port, &seeded, &creds)?;

        let (baseline_server, baseline) =
            start_baseline(&args, n, &wrapup.code, Baseline::InMemory)?;
        println!(
            "\n{n} interactions (seeded in {seed_seconds:.1} s; {:.0} bytes on disk per interaction; wrapup start-up {:.0} ms):",
            db_bytes as f64 / n as f64,
            server.startup.as_secs_f64() * 1000.0
        );
        let (base_get, get) = measure_alternately(&args, &script, (&baseline, &wrapup), "GET", n)?;
        let base_put = measure(&args, &script, &baseline, "PUT", n)?;
        // One baseline at a time: at 10M each holds gigabytes (as does wrapup with
        // `--warm-read-cache`).
        drop(baseline_server);
        let group_db = dir.join(format!("group-commit-{n}.db"));
        remove_database(&group_db);
        let (group_server, group) =
            start_baseline(&args, n, &wrapup.code, Baseline::GroupCommit(&group_db))?;
        let (group_put, put) = measure_alternately(&args, &script, (&group, &wrapup), "PUT", n)?;
        row(
            &format!("{} GET interaction", baseline.name),
            &base_get,
            None,
        );
        row("wrapup GET (authenticated)", &get, Some(&base_get));
        row(&format!("{} PUT wrap-up", baseline.name), &base_put, None);
        row(&format!("{} PUT (durable)", group.name), &group_put, None);
        row("wrapup PUT (validated, durable)", &put, Some(&group_put));
        println!("  (wrapup's PUT is compared with the group-commit baseline, its GET with the in-memory one)");
        if args.logged_baseline {
            drop(group_server);
            let logged_db = dir.join(format!("logged-{n}.db"));
            remove_database(&logged_db);
            let (logged_server, logged) =
                start_baseline(&args, n, &wrapup.code, Baseline::Logged(&logged_db))?;
            let (logged_put, put_again) =
                measure_alternately(&args, &script, (&logged, &wrapup), "PUT", n)?;
            row(&format!("{} PUT (durable)", logged.name), &logged_put, None);
            row(
                "wrapup PUT (validated, durable)",
                &put_again,
                Some(&logged_put),
            );
            println!("  (the logged baseline appends an event and a history row per PUT too)");
            drop(logged_server);
        }
        let peak_kib = status_kib(server.process.id(), "VmHWM").unwrap_or(0);
        println!("  wrapup peak RSS: {:.1} MiB", peak_kib as f64 / 1024.0);
        if get.errors + put.errors > 0 {
            println!("  wrapup error statuses: {}", error_statuses(server.port));
        }
        drop(server);
        if let (Some(pg), true) = (&args.postgres, n == args.scales[0]) {
            postgres_puts(&args, pg, &script, n, &put)?;
        }
    }
    Ok(())
}
