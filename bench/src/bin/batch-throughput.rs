//! `wrapup batch` end to end: wrap-ups per second and the batch process's peak RSS on
//! already-finalized interactions, next to a baseline measured in the same run (the same
//! PUTs sent by a bare loop of the client library: no journal, no reads); and the peak RSS
//! of an offline dry run over 100,000 and 1,000,000 rows, to show memory stays flat. Also the
//! server's own durable bulk rate (`POST /api/v2/interactions/wrap-ups`, `--bulk-size` per
//! request, four requests at a time), which the batch is measured against.
//!
//! With `--serve`, end to end as a user runs it instead: `wrapup serve` as its own process on
//! a SQLite file seeded by `wrapup seed`, and `wrapup batch FILE --report REPORT` (default
//! options, codes named by name) on `--rows` rows of CSV and of JSON Lines, timed from the
//! process's start to its exit, with its peak RSS and both processes' CPU; the server's bulk
//! rate measured before and after; `--compare OTHER` runs another build of `wrapup batch`
//! alternately with it on the same server (before and after a change, in one run).
//! See docs/benchmarks.md.
//!
//!     cargo build --release -p wrapup -p wrapup-bench
//!     target/release/batch-throughput --wrapup target/release/wrapup --rows 100000
//!     target/release/batch-throughput --serve --rows 200000 --rounds 3 --compare /tmp/wrapup-before

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use uuid::Uuid;
use wrapup_bench::process::{cpu_time, json_of, status_kib, Serve};
use wrapup_server::{Clock, Config, SystemClock};
use wrapup_store::{NewInteraction, Store};
use wrapup_types::{BulkOutcome, BulkWrapUp, Channel, InteractionState, WrapUpRequest};

#[derive(Parser)]
struct Args {
    /// The `wrapup` binary to run (build it with --release).
    #[arg(long, default_value = "target/release/wrapup")]
    wrapup: PathBuf,
    /// Rows of the measured batch.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Rows of the baseline loop.
    #[arg(long, default_value_t = 20_000)]
    baseline_rows: usize,
    /// Wrap-ups sent through the bulk apply operation (the server's own bulk rate).
    #[arg(long, default_value_t = 50_000)]
    bulk_rows: usize,
    /// Wrap-ups per bulk request.
    #[arg(long, default_value_t = 500)]
    bulk_size: usize,
    /// Rows of the large dry run (memory only).
    #[arg(long, default_value_t = 1_000_000)]
    dry_run_rows: usize,
    /// Requests in flight at once for the baseline loop.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// `wrapup batch --concurrency` (requests in flight; its default).
    #[arg(long, default_value_t = 8)]
    batch_concurrency: usize,
    /// End to end as a user runs it: a `wrapup serve` process, `wrapup batch` with default
    /// options and `--report` on CSV and JSON Lines files naming their code.
    #[arg(long)]
    serve: bool,
    /// With --serve: another `wrapup` binary whose `batch` runs alternately with --wrapup's.
    #[arg(long)]
    compare: Option<PathBuf>,
    /// With --serve: how many times each binary runs each input format.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.wrapup.exists() {
        bail!(
            "{} does not exist; run `cargo build --release -p wrapup` first",
            args.wrapup.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.serve {
        runtime.block_on(end_to_end::run(&args))
    } else {
        runtime.block_on(run(args))
    }
}

/// Creates `n` finalized interactions straight in the store (settle time 0).
async fn seed(store: &Arc<dyn Store>, division: Uuid, n: usize) -> Result<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(n);
    let now = SystemClock.now_ms();
    for chunk in (0..n).collect::<Vec<_>>().chunks(512) {
        let made = futures_join(chunk.iter().map(|_| {
            let store = store.clone();
            async move {
                let id = Uuid::new_v4();
                store
                    .create_interaction(&NewInteraction {
                        id,
                        division_id: division,
                        channel: Channel::Voice,
                        now_ms: now,
                        queue_id: None,
                        agent_id: None,
                    })
                    .await?;
                store
                    .set_state(id, InteractionState::Closed, now, 0)
                    .await?;
                anyhow::Ok(id)
            }
        }))
        .await;
        for id in made {
            ids.push(id?);
        }
    }
    Ok(ids)
}

async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("a seeding task"));
    }
    out
}

/// Runs a command, polling its peak RSS (VmHWM) until it exits.
/// A process's run: elapsed time, peak RSS (KiB), CPU time (user + system, as last read
/// from /proc, every 10 ms) and its output.
struct Measured {
    elapsed: Duration,
    peak_kb: u64,
    cpu: Duration,
    text: String,
}

fn run_measured(cmd: &mut Command) -> Result<Measured> {
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    // A child that fills a pipe nobody reads would stop: read both while it runs.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let pid = child.id();
    let mut peak_kb = 0;
    let mut cpu = Duration::ZERO;
    loop {
        cpu = cpu_time(pid).unwrap_or(cpu);
        peak_kb = peak_kb.max(status_kib(pid, "VmHWM").unwrap_or(0));
        if child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = started.elapsed();
    let status = child.wait()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout.join().unwrap_or_default()),
        String::from_utf8_lossy(&stderr.join().unwrap_or_default())
    );
    if !status.success() {
        bail!("{cmd:?} failed: {text}");
    }
    Ok(Measured {
        elapsed,
        peak_kb,
        cpu,
        text,
    })
}

fn write_rows(path: &Path, ids: impl Iterator<Item = Uuid>, code: &str) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for id in ids {
        writeln!(
            out,
            "{{\"interactionId\":\"{id}\",\"code\":\"{code}\",\"durationMs\":120000}}"
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The server's own bulk rate: wrap-ups of `ids` with `code` through
/// `POST /api/v2/interactions/wrap-ups`, `bulk_size` per request, four requests in flight;
/// fails unless every one is applied.
async fn bulk_rate(
    client: Arc<wrapup_client::Client>,
    ids: Vec<Uuid>,
    code: Uuid,
    bulk_size: usize,
) -> Result<f64> {
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in ids.chunks(bulk_size.max(1)) {
        let items: Vec<BulkWrapUp> = chunk
            .iter()
            .map(|id| BulkWrapUp {
                interaction_id: *id,
                code_id: code,
                duration_ms: 120_000,
                notes: None,
            })
            .collect();
        let client = client.clone();
        let permit = permits.clone().acquire_owned().await?;
        tasks.spawn(async move {
            let _permit = permit;
            client.apply_wrapups(&items).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        let results = done??;
        if let Some(r) = results.iter().find(|r| r.outcome != BulkOutcome::Applied) {
            bail!("a bulk item was not applied: {r:?}");
        }
    }
    Ok(ids.len() as f64 / started.elapsed().as_secs_f64())
}

async fn run(args: Args) -> Result<()> {
    let server = wrapup_bench::Server::start(Config {
        settle_ms: 0,
        ..Config::default()
    })
    .await?;
    let (store, base, dir) = (server.store.clone(), server.base.clone(), &server.dir);
    let (client_id, secret) = (server.client_id, server.secret.clone());
    let client = server.client();
    let (division, code) = wrapup_bench::division_with_code(&client).await?;

    let seeding = Instant::now();
    let ids = seed(
        &store,
        division,
        args.rows + args.rows / 10 + args.baseline_rows + args.bulk_rows,
    )
    .await?;
    println!(
        "batch-throughput: seeded {} finalized interactions in {:.1} s; concurrency {}; SQLite WAL synchronous=FULL",
        ids.len(),
        seeding.elapsed().as_secs_f64(),
        args.concurrency
    );
    let (measured, rest) = ids.split_at(args.rows);
    let (small, rest) = rest.split_at(args.rows / 10);
    let (baseline, bulk) = rest.split_at(args.baseline_rows);

    // Baseline: the same PUTs from a bare loop of the client library.
    let client = Arc::new(client);
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for id in baseline {
        let (client, id) = (client.clone(), *id);
        let permit = permits.clone().acquire_owned().await?;
        tasks.spawn(async move {
            let _permit = permit;
            client
                .put_wrapup(
                    id,
                    &WrapUpRequest {
                        code_id: code,
                        duration_ms: 120_000,
                        notes: None,
                    },
                )
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let baseline_rate = baseline.len() as f64 / started.elapsed().as_secs_f64();

    // The server's own bulk rate: the same wrap-ups, `bulk_size` per request, four requests
    // in flight; half before the batch runs and half after, since every run leaves the
    // database larger for the next (the batch is compared with the mean).
    let bulk_apply = |ids: &[Uuid]| bulk_rate(client.clone(), ids.to_vec(), code, args.bulk_size);
    let (bulk_before, bulk_after) = bulk.split_at(bulk.len() / 2);
    let bulk_rate_before = bulk_apply(bulk_before).await?;

    // The batch, end to end (a process: read, journal, bulk requests, journal), on a tenth of
    // the rows and then on all of them: its memory must not grow with the input.
    let batch = |ids: &[Uuid], name: &str| {
        let rows = dir.path().join(name);
        write_rows(&rows, ids.iter().copied(), &code.to_string())?;
        let concurrency = args.batch_concurrency.to_string();
        let chunk = args.bulk_size.to_string();
        let Measured {
            elapsed,
            peak_kb,
            cpu,
            text,
        } = run_measured(
            Command::new(&args.wrapup)
                .args(["batch", "--json", "--concurrency", &concurrency])
                .args(["--chunk-size", &chunk])
                .arg(&rows)
                .env("WRAPUP_URL", &base)
                .env("WRAPUP_CLIENT_ID", client_id.to_string())
                .env("WRAPUP_CLIENT_SECRET", &secret)
                .env("XDG_CONFIG_HOME", dir.path()),
        )?;
        let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap_or("{}"))
            .context("the batch's JSON summary")?;
        let applied = summary["counts"]["applied"].as_u64().unwrap_or(0);
        if applied != ids.len() as u64 {
            bail!("the batch applied {applied} of {} rows: {text}", ids.len());
        }
        let cpu_per_row = cpu.as_secs_f64() * 1e6 / applied as f64;
        anyhow::Ok((applied as f64 / elapsed.as_secs_f64(), peak_kb, cpu_per_row))
    };
    let (small_rate, small_kb, _) = batch(small, "small.jsonl")?;
    let (batch_rate, peak_kb, cpu_per_row) = batch(measured, "rows.jsonl")?;
    let bulk_rate_after = bulk_apply(bulk_after).await?;
    let bulk_rate = (bulk_rate_before + bulk_rate_after) / 2.0;
    let applied = measured.len();
    println!("\nwrap-ups on finalized interactions:");
    println!(
        "  wrapup batch, {} rows (process, journal, {} per request, {} at a time): {:>8.0}/s   peak RSS {:>6.1} MiB",
        small.len(),
        args.bulk_size,
        args.batch_concurrency,
        small_rate,
        small_kb as f64 / 1024.0
    );
    println!(
        "  wrapup batch, {} rows (process, journal, {} per request, {} at a time): {:>8.0}/s   peak RSS {:>6.1} MiB ({:.2}x the smaller input's)",
        applied,
        args.bulk_size,
        args.batch_concurrency,
        batch_rate,
        peak_kb as f64 / 1024.0,
        peak_kb as f64 / small_kb as f64
    );
    println!(
        "  baseline: bare client loop, {} PUTs:                     {:>8.0}/s",
        baseline.len(),
        baseline_rate
    );
    println!(
        "  server bulk apply, {} wrap-ups, {} per request, 4 at a time: {:>8.0}/s (before the batch {:.0}/s, after {:.0}/s)",
        bulk.len(),
        args.bulk_size,
        bulk_rate,
        bulk_rate_before,
        bulk_rate_after
    );
    println!("  the batch process's CPU (user + system): {cpu_per_row:.1} µs per row");
    println!("  batch / baseline: {:.2}x", batch_rate / baseline_rate);
    println!(
        "  batch / server bulk apply: {:.2}x",
        batch_rate / bulk_rate
    );

    // Memory stays flat with the input's size: offline dry runs of 100k and 1M rows.
    println!(
        "\npeak RSS of `wrapup batch --dry-run --offline` (memory must not grow with the input):"
    );
    let mut previous = None;
    for n in [args.rows, args.dry_run_rows] {
        let path = dir.path().join(format!("dry-{n}.jsonl"));
        write_rows(&path, (0..n).map(|_| Uuid::new_v4()), "Sale")?;
        let Measured {
            elapsed, peak_kb, ..
        } = run_measured(
            Command::new(&args.wrapup)
                .args(["batch", "--dry-run", "--offline", "--json"])
                .arg(&path)
                .env("XDG_CONFIG_HOME", dir.path()),
        )?;
        let growth = previous
            .map(|p: u64| format!("  ({:.2}x the smaller input's)", peak_kb as f64 / p as f64))
            .unwrap_or_default();
        println!(
            "  {n:>9} rows: {:>6.1} MiB in {:>5.1} s{growth}",
            peak_kb as f64 / 1024.0,
            elapsed.as_secs_f64()
        );
        previous = Some(peak_kb);
        std::fs::remove_file(&path)?;
    }
    Ok(())
}

/// `--serve`: `wrapup batch` end to end as a user runs it, against `wrapup serve` as its
/// own process (docs/benchmarks.md, "Batch throughput and memory").
mod end_to_end {
    use super::*;

    /// The id `wrapup seed` gives interaction `i`.
    fn seed_id(i: u64) -> Uuid {
        Uuid::from_u128((0x5eed_u128 << 64) | u128::from(i))
    }

    /// One input format, as users have it: codes by name, durations as people write them.
    #[derive(Clone, Copy)]
    enum Input {
        Csv,
        JsonLines,
    }

    impl Input {
        fn write(self, path: &Path, ids: std::ops::Range<u64>) -> Result<()> {
            let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
            if let Input::Csv = self {
                writeln!(out, "interactionId,code,duration,notes")?;
            }
            for i in ids {
                let id = seed_id(i);
                match self {
                    Input::Csv => writeln!(out, "{id},Sale,2m,")?,
                    Input::JsonLines => writeln!(
                        out,
                        "{{\"interactionId\":\"{id}\",\"code\":\"Sale\",\"durationMs\":120000}}"
                    )?,
                }
            }
            out.flush()?;
            Ok(())
        }

        fn name(self) -> &'static str {
            match self {
                Input::Csv => "csv",
                Input::JsonLines => "jsonl",
            }
        }
    }

    /// One `wrapup batch` run: rows per second from start to exit, peak RSS (MiB), its
    /// CPU and the server's per row (µs).
    struct Run {
        rate: f64,
        peak_mib: f64,
        cpu_us: f64,
        server_us: f64,
    }

    pub(super) async fn run(args: &Args) -> Result<()> {
        let dir = tempfile::tempdir()?;
        let db = format!("sqlite://{}", dir.path().join("wrapup.db").display());
        let mut binaries = vec![("this build", args.wrapup.clone())];
        if let Some(other) = &args.compare {
            binaries.push(("--compare", other.clone()));
        }
        let inputs = [Input::Csv, Input::JsonLines];
        let batches = (args.rounds * binaries.len() * inputs.len()) as u64;
        let rows = args.rows as u64;
        let total = batches * rows + args.bulk_rows as u64;
        let seeded = json_of(Command::new(&args.wrapup).args([
            "seed",
            "--json",
            "--interactions",
            &total.to_string(),
            "--db",
            &db,
        ]))?;
        let code: Uuid = seeded["codeId"].as_str().context("codeId")?.parse()?;
        let creds = json_of(Command::new(&args.wrapup).args([
            "clients",
            "create",
            "--json",
            "--name",
            "batch",
            "--divisions",
            "all",
            "--db",
            &db,
            "--scopes",
            "interaction:view interaction:write wrapup-code:view",
        ]))?;
        let client_id = creds["clientId"].as_str().context("clientId")?.to_string();
        let secret = creds["clientSecret"]
            .as_str()
            .context("clientSecret")?
            .to_string();
        let server = Serve::start(&args.wrapup, &["--db", &db], Duration::from_secs(60))?;
        let base = server.url.clone();
        let client = Arc::new(
            wrapup_client::Client::new(&base)
                .with_credentials(&client_id, &secret)
                .with_retry(wrapup_client::RetryPolicy::none()),
        );
        println!(
            "batch-throughput --serve: `wrapup serve` on SQLite seeded with {total} finalized interactions; `wrapup batch FILE --report REPORT` ({rows} rows, code by name, default options) from start to exit"
        );

        // The server's own bulk rate, before and after the batches.
        let bulk = |from: u64, n: u64| {
            bulk_rate(
                client.clone(),
                (from..from + n).map(seed_id).collect(),
                code,
                args.bulk_size,
            )
        };
        let bulk_half = args.bulk_rows as u64 / 2;
        let bulk_base = batches * rows;
        let bulk_before = bulk(bulk_base, bulk_half).await?;

        let server_pid = server.process.id();
        let mut next = 0u64;
        let mut runs: Vec<(usize, usize, Run)> = Vec::new();
        for round in 0..args.rounds {
            for (i, input) in inputs.iter().enumerate() {
                for (b, (_, binary)) in binaries.iter().enumerate() {
                    let ids = next..next + rows;
                    next += rows;
                    let path = dir
                        .path()
                        .join(format!("rows-{round}-{b}.{}", input.name()));
                    input.write(&path, ids)?;
                    let report = dir.path().join("report.jsonl");
                    let server_cpu = cpu_time(server_pid).unwrap_or_default();
                    let measured = run_measured(
                        Command::new(binary)
                            .arg("batch")
                            .arg(&path)
                            .arg("--report")
                            .arg(&report)
                            .env("WRAPUP_URL", &base)
                            .env("WRAPUP_CLIENT_ID", &client_id)
                            .env("WRAPUP_CLIENT_SECRET", &secret)
                            .env("XDG_CONFIG_HOME", dir.path()),
                    )?;
                    let server_cpu = cpu_time(server_pid)
                        .unwrap_or_default()
                        .saturating_sub(server_cpu);
                    let text = std::fs::read_to_string(&report)?;
                    let applied = text.matches("\"status\":\"applied\"").count() as u64;
                    if applied != rows || text.lines().count() as u64 != rows {
                        bail!(
                            "the report has {applied} applied rows of {rows}: {}",
                            measured.text
                        );
                    }
                    let per_row = |d: Duration| d.as_secs_f64() * 1e6 / rows as f64;
                    runs.push((
                        b,
                        i,
                        Run {
                            rate: rows as f64 / measured.elapsed.as_secs_f64(),
                            peak_mib: measured.peak_kb as f64 / 1024.0,
                            cpu_us: per_row(measured.cpu),
                            server_us: per_row(server_cpu),
                        },
                    ));
                    let mut journal = path.into_os_string();
                    journal.push(".journal.db");
                    for leftover in [PathBuf::from(journal), report] {
                        let _ = std::fs::remove_file(leftover);
                    }
                }
            }
        }
        let bulk_after = bulk(bulk_base + bulk_half, bulk_half).await?;
        let bulk_rate = (bulk_before + bulk_after) / 2.0;

        println!("\n`wrapup batch`, {rows} rows, start to exit (median [min..max] of {} runs each, alternating):", args.rounds);
        for (b, (label, binary)) in binaries.iter().enumerate() {
            for (i, input) in inputs.iter().enumerate() {
                let of = |f: fn(&Run) -> f64| {
                    let mut v: Vec<f64> = runs
                        .iter()
                        .filter(|(rb, ri, _)| *rb == b && *ri == i)
                        .map(|(_, _, r)| f(r))
                        .collect();
                    v.sort_by(f64::total_cmp);
                    (v[v.len() / 2], v[0], v[v.len() - 1])
                };
                let (rate, rate_min, rate_max) = of(|r| r.rate);
                let (peak, peak_min, peak_max) = of(|r| r.peak_mib);
                let (cpu, ..) = of(|r| r.cpu_us);
                let (server_cpu, ..) = of(|r| r.server_us);
                println!(
                    "  {label:<10} {:<5} {rate:>7.0}/s [{rate_min:.0}..{rate_max:.0}]  peak RSS {peak:>5.1} MiB [{peak_min:.1}..{peak_max:.1}]  CPU per row: batch {cpu:>5.1} µs, server {server_cpu:>5.1} µs  ({})",
                    input.name(),
                    binary.display()
                );
            }
        }
        println!(
            "  server bulk apply, {} wrap-ups, {} per request, 4 at a time: {bulk_rate:.0}/s (before the batches {bulk_before:.0}/s, after {bulk_after:.0}/s)",
            bulk_half * 2,
            args.bulk_size
        );
        drop(server);
        Ok(())
    }
}
