//! `wrapup batch` (thousands of wrap-ups, with a journal) and `wrapup simulate` (drive
//! interactions through their lifecycle, for demos, benchmarks and tests).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use tokio::task::JoinSet;
use uuid::Uuid;
use wrapup_batch::{Batch, BatchError, Counts, Format, Journal, Options, Records};
use wrapup_client::{parse_duration, RetryPolicy};
use wrapup_server::RateLimit;
use wrapup_types::{Channel, TargetState};

use crate::client_cmds::client;
use crate::{exit, Global, Sources};

fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s)
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum InputFormat {
    Jsonl,
    Csv,
}

#[derive(Args)]
pub struct BatchArgs {
    /// JSON Lines or CSV (with a header row) of interactionId, code, durationMs or
    /// duration, notes; - for standard input.
    input: PathBuf,
    /// The journal (SQLite) recording each row's status; re-run with the same journal to
    /// resume [default: INPUT.journal.db next to the input].
    #[arg(long)]
    journal: Option<PathBuf>,
    /// The input format [default: from the extension, or the first byte: `{` is JSON Lines].
    #[arg(long)]
    format: Option<InputFormat>,
    /// Rows handled at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=512))]
    concurrency: u32,
    /// The longest a row waits for its interaction to be closed and finalized.
    #[arg(long, value_parser = duration_arg, default_value = "10m")]
    wait: Duration,
    /// Retries of a request after a 5xx or network error before the batch stops (resume by
    /// running it again).
    #[arg(long, default_value_t = 8)]
    max_retries: u32,
    /// Re-read waiting rows after this long without news (in case an event was missed).
    #[arg(long, value_parser = duration_arg, default_value = "1m")]
    reconcile_after: Duration,
    /// Try rows that failed in an earlier run again.
    #[arg(long)]
    retry_failed: bool,
    /// Check every row (format, interaction, code, readiness) without applying anything.
    #[arg(long)]
    dry_run: bool,
    /// With --dry-run: check the rows' format only, without asking the server.
    #[arg(long, requires = "dry_run")]
    offline: bool,
    /// Write one JSON line per row (line, interactionId, status, errorCode, message).
    #[arg(long)]
    report: Option<PathBuf>,
}

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

fn journal_path(args: &BatchArgs) -> anyhow::Result<PathBuf> {
    if let Some(path) = &args.journal {
        return Ok(path.clone());
    }
    if args.input.as_os_str() == "-" {
        bail!("reading from standard input needs --journal PATH (so a re-run can resume)");
    }
    let mut name = args.input.file_name().unwrap_or_default().to_os_string();
    name.push(".journal.db");
    Ok(args.input.with_file_name(name))
}

fn format_of(args: &BatchArgs) -> Option<Format> {
    match args.format {
        Some(InputFormat::Jsonl) => Some(Format::JsonLines),
        Some(InputFormat::Csv) => Some(Format::Csv),
        None => match args.input.extension().and_then(|e| e.to_str()) {
            Some("csv") => Some(Format::Csv),
            Some("jsonl" | "ndjson" | "json") => Some(Format::JsonLines),
            _ => None,
        },
    }
}

/// Counts the records of a file, for the progress bar (streaming; cheap next to the batch).
fn count_records(path: &Path, format: Option<Format>) -> Option<u64> {
    let reader = BufReader::new(File::open(path).ok()?);
    let mut lines = 0u64;
    for line in reader.lines() {
        if !line.ok()?.trim().is_empty() {
            lines += 1;
        }
    }
    Some(match format {
        Some(Format::Csv) => lines.saturating_sub(1),
        _ => lines,
    })
}

fn open_input(args: &BatchArgs) -> anyhow::Result<Records<Box<dyn BufRead + Send>>> {
    let reader: Box<dyn BufRead + Send> = if args.input.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        Box::new(BufReader::new(
            File::open(&args.input).with_context(|| format!("opening {}", args.input.display()))?,
        ))
    };
    Records::new(reader, format_of(args)).context("reading the input")
}

fn summary_line(c: &Counts) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (c.applied, "applied"),
        (c.already_applied, "already applied"),
        (c.would_apply, "would apply"),
        (c.would_wait, "would wait"),
        (c.waiting, "waiting"),
        (c.skipped, "done before"),
        (c.failed, "failed"),
    ] {
        if n > 0 || what == "failed" || what == "applied" {
            parts.push(format!("{n} {what}"));
        }
    }
    if c.timed_out > 0 {
        parts.push(format!("({} timed out)", c.timed_out));
    }
    parts.join(" · ")
}

/// Shows progress: a bar on a terminal, a line every 5 s otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    last_line: Mutex<Instant>,
    quiet: bool,
}

impl Progress {
    fn new(total: Option<u64>, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = match total {
                Some(n) => ProgressBar::new(n),
                None => ProgressBar::new_spinner(),
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} eta {eta}\n  {msg}",
                )
                .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            last_line: Mutex::new(Instant::now()),
            quiet,
        }
    }

    fn update(&self, c: &Counts) {
        if let Some(bar) = &self.bar {
            bar.set_position(c.done());
            bar.set_message(summary_line(c));
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        if !self.quiet && last.elapsed() >= Duration::from_secs(5) {
            *last = Instant::now();
            eprintln!(
                "batch: {} rows read, {} done: {}",
                c.read,
                c.done(),
                summary_line(c)
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub async fn batch(args: &BatchArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    // The batch retries by itself (pausing every row on 429), so the client does not.
    let client = client(global, sources)?.with_retry(RetryPolicy::none());
    let options = Options {
        concurrency: args.concurrency as usize,
        wait: args.wait,
        max_retries: args.max_retries,
        reconcile_after: args.reconcile_after,
        reconcile_every: args
            .reconcile_after
            .clamp(Duration::from_millis(100), Duration::from_secs(5)),
        retry_failed: args.retry_failed,
        ..Options::default()
    };
    let total = (args.input.as_os_str() != "-")
        .then(|| count_records(&args.input, format_of(args)))
        .flatten();
    let records = open_input(args)?;
    let progress = Progress::new(total, global.json);
    let started = Instant::now();
    let mut report = match &args.report {
        Some(path) => Some(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };

    if args.dry_run {
        let journal_dir = tempfile::tempdir()?;
        let journal = Journal::open(&journal_dir.path().join("dry-run.db")).await?;
        let batch = Batch::new(client, journal, options);
        let input = wrapup_batch::feed(records, args.concurrency as usize * 4);
        let mut write_error = None;
        let outcome = batch
            .dry_run(
                input,
                args.offline,
                |line| {
                    if let Some(out) = report.as_mut() {
                        if let Err(e) = serde_json::to_writer(&mut *out, line)
                            .map_err(std::io::Error::other)
                            .and_then(|()| out.write_all(b"\n"))
                        {
                            write_error.get_or_insert(e);
                        }
                    }
                },
                |c| progress.update(c),
            )
            .await;
        progress.finish();
        if let Some(e) = write_error {
            return Err(e).context("writing the report");
        }
        if let Some(out) = report.as_mut() {
            out.flush()?;
        }
        let counts = outcome.map_err(batch_error)?;
        return finish(&counts, started, global, None, args.report.as_deref(), true);
    }

    let journal_path = journal_path(args)?;
    let journal = Journal::open(&journal_path).await?;
    let batch = Batch::new(client, journal, options);
    let input = wrapup_batch::feed(records, args.concurrency as usize * 4);
    let outcome = batch.run(input, |c| progress.update(c)).await;
    progress.finish();
    if let Some(out) = report.as_mut() {
        batch.write_report(out).await.map_err(batch_error)?;
    }
    let counts = outcome.map_err(batch_error)?;
    finish(
        &counts,
        started,
        global,
        Some(&journal_path),
        args.report.as_deref(),
        false,
    )
}

fn batch_error(e: BatchError) -> anyhow::Error {
    match e {
        BatchError::Unreachable(inner) | BatchError::Unauthorized(inner) => {
            anyhow::Error::new(inner)
                .context("the batch stopped; run the same command again to resume")
        }
        other => anyhow::Error::new(other),
    }
}

fn finish(
    c: &Counts,
    started: Instant,
    global: &Global,
    journal: Option<&Path>,
    report: Option<&Path>,
    dry_run: bool,
) -> anyhow::Result<u8> {
    let code = if c.failed == 0 {
        exit::OK
    } else if c.failed == c.timed_out {
        exit::TIMED_OUT
    } else {
        exit::REJECTED
    };
    let elapsed = started.elapsed();
    if global.json {
        println!(
            "{}",
            serde_json::json!({
                "counts": c, "dryRun": dry_run, "seconds": elapsed.as_secs_f64(),
                "journal": journal, "report": report, "exitCode": code,
            })
        );
        return Ok(code);
    }
    let rate = (c.applied + c.would_apply) as f64 / elapsed.as_secs_f64().max(0.001);
    println!(
        "{} {} rows in {:.1} s ({rate:.0}/s): {}",
        if code == exit::OK { "✓" } else { "✗" },
        c.read,
        elapsed.as_secs_f64(),
        summary_line(c)
    );
    if let Some(journal) = journal {
        println!(
            "  journal: {} (run the same command again to resume or re-check)",
            journal.display()
        );
    }
    if let Some(report) = report {
        println!("  report:  {}", report.display());
    }
    if c.failed > 0 {
        println!("  failed rows are in the report (--report) and the journal, each with the server's error code and message");
    }
    Ok(code)
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

pub async fn simulate(
    args: &SimulateArgs,
    global: &Global,
    sources: &Sources,
) -> anyhow::Result<u8> {
    let client = Arc::new(client(global, sources)?);
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
