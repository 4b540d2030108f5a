//! `wrapup batch`: thousands of wrap-ups from a file, with a journal (the engine is
//! `wrapup-batch`; this is its command line, progress bar, summary and report).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use wrapup_batch::{Batch, BatchError, Counts, Format, Journal, Options, Records, RunEnd};
use wrapup_client::RetryPolicy;

use crate::commands::wrapup_args::duration_arg;
use crate::exit::{self, exit_codes};
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::output::BatchStopped;
use crate::signals::StopSignals;

/// The examples of `wrapup batch --help`.
pub const HELP: &str = examples!(
    "wrapup batch wrapups.jsonl --report results.jsonl",
    "wrapup batch export.csv --concurrency 8 --wait 30m",
    "wrapup batch wrapups.jsonl --dry-run          # check every row, apply nothing",
    "cat rows.jsonl | wrapup batch - --journal rows.journal.db",
);

/// The notes of `wrapup batch --help`.
pub const AFTER_HELP: &str = concat!(
    "Each row: {\"interactionId\": \"…\", \"code\": \"Sale\" (or an id), \"durationMs\": 120000 (or \"duration\": \"2m\"), \"notes\": \"…\"}\n\
(JSON Lines), or CSV with a header row of the same names. Interrupted? Run the same command\n\
again: done rows are skipped, a row in flight is sent again (the same wrap-up twice is a no-op).\n\
Exits 0 when every row is applied (or was already), 3 when some failed, 4 when some timed out,\n\
5 when the batch stopped (the server unreachable, failing or rate limiting past the retries).\n\
SIGINT (Ctrl-C) or SIGTERM: no more rows are read, the rows in flight finish, the journal is\n\
left consistent, exit 130; run the same command again to resume. A second signal stops at once.\n\n",
    exit_codes!()
);

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
    /// Requests in flight at once (bulk requests of up to --chunk-size rows, and the reads
    /// of rows that name their code).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=512))]
    concurrency: u32,
    /// The most rows sent in one bulk request (smaller when the server's rate limit says so).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1000))]
    chunk_size: u32,
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

/// Shows progress: a bar on a terminal (a spinner with counts when the total is unknown,
/// as when reading standard input), a line every 5 s otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    last_line: Mutex<Instant>,
    quiet: bool,
}

/// The rate as people read it: whole rows per second (one decimal below 10).
fn rate(per_second: f64) -> String {
    if per_second < 10.0 {
        format!("{per_second:.1}/s")
    } else {
        format!("{per_second:.0}/s")
    }
}

/// The progress line: a bar with an ETA when the number of rows is known, a spinner with
/// counts when it is not (standard input), where a bar would show `116/116` all along.
fn template(total: Option<u64>) -> &'static str {
    match total {
        Some(_) => "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {rate} eta {eta}\n  {msg}",
        None => "{spinner} [{elapsed_precise}] {pos} rows done, {rate}\n  {msg}",
    }
}

impl Progress {
    fn new(total: Option<u64>, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = match total {
                Some(n) => ProgressBar::new(n),
                None => ProgressBar::new_spinner(),
            };
            bar.set_style(
                ProgressStyle::with_template(template(total))
                    .expect("a valid template")
                    .with_key(
                        "rate",
                        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = w.write_str(&rate(state.per_sec()));
                        },
                    ),
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

/// The failed rows the summary shows, with the server's reason.
const FAILURES_SHOWN: usize = 10;

/// The failed rows of a run, as the summary lists them: the first few, and how many.
#[derive(Default)]
struct Failures {
    shown: Vec<String>,
    count: u64,
}

impl Failures {
    /// Takes one line of the report (or of a dry run) into account.
    fn add(&mut self, line: &serde_json::Value) {
        if line["status"] != "failed" {
            return;
        }
        self.count += 1;
        if self.shown.len() < FAILURES_SHOWN {
            let text = |key: &str| line[key].as_str().unwrap_or("-").to_string();
            self.shown.push(format!(
                "line {}: {} {}: {}",
                line["line"],
                text("interactionId"),
                text("errorCode"),
                text("message")
            ));
        }
    }
}

/// A writer that reads the report as it is written, keeping only its failures.
#[derive(Default)]
struct FailureSink {
    pending: Vec<u8>,
    failures: Failures,
}

impl Write for FailureSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            if let Ok(value) = serde_json::from_slice(&line) {
                self.failures.add(&value);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub async fn run(args: &BatchArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    // The batch retries by itself (pausing every row on 429), so the client does not. An
    // offline dry run sends nothing: it needs no credentials.
    let client = if args.dry_run && args.offline {
        global.client_without_credentials(sources)?
    } else {
        global.client(sources)?
    }
    .with_retry(RetryPolicy::none());
    let options = Options {
        concurrency: args.concurrency as usize,
        chunk_size: args.chunk_size as usize,
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
        let input = wrapup_batch::feed(records, args.chunk_size as usize * 2);
        let mut write_error = None;
        let mut failures = Failures::default();
        let outcome = batch
            .dry_run(
                input,
                args.offline,
                |line| {
                    if let Ok(value) = serde_json::to_value(line) {
                        failures.add(&value);
                    }
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
        let ran = Ran {
            started,
            journal: None,
            report: args.report.as_deref(),
            dry_run: true,
        };
        return finish(&counts, &ran, &failures, global);
    }

    let journal_path = journal_path(args)?;
    let journal = Journal::open(&journal_path).await?;
    let batch = Batch::new(client, journal, options);
    // Room for two chunks, so the next one fills while one is read.
    let input = wrapup_batch::feed(records, args.chunk_size as usize * 2);
    let signals = StopSignals::listen().context("listening for SIGINT and SIGTERM")?;
    let stop = signals.first_then_exit_on_second(
        "reading no more rows; finishing the rows in flight",
        "rows in flight are sent again when the batch is run again (the same wrap-up twice is a no-op)",
    );
    let outcome = batch.run_until(input, |c| progress.update(c), stop).await;
    progress.finish();
    if let Some(out) = report.as_mut() {
        batch.write_report(out).await.map_err(batch_error)?;
    }
    let (counts, end) = outcome.map_err(batch_error)?;
    if end == RunEnd::Interrupted {
        return interrupted(&counts, started, global, &journal_path);
    }
    // The journal has every row's answer: the summary shows the failures' reasons.
    let mut sink = FailureSink::default();
    if counts.failed > 0 {
        batch.write_report(&mut sink).await.map_err(batch_error)?;
    }
    let ran = Ran {
        started,
        journal: Some(&journal_path),
        report: args.report.as_deref(),
        dry_run: false,
    };
    finish(&counts, &ran, &sink.failures, global)
}

/// Why a batch ended early: a stop (exit 5, whatever the last answer was), or an error of
/// the input, the journal or a task.
fn batch_error(e: BatchError) -> anyhow::Error {
    match e {
        BatchError::Unreachable(cause) | BatchError::Unauthorized(cause) => {
            anyhow::Error::new(BatchStopped { cause })
        }
        other => anyhow::Error::new(other),
    }
}

/// The summary of a batch stopped by a signal: what it did, and how to resume.
fn interrupted(
    c: &Counts,
    started: Instant,
    global: &Global,
    journal: &Path,
) -> anyhow::Result<u8> {
    let code = exit::INTERRUPTED;
    let elapsed = started.elapsed();
    if global.json {
        println!(
            "{}",
            serde_json::json!({
                "counts": c, "interrupted": true, "seconds": elapsed.as_secs_f64(),
                "journal": journal, "exitCode": code,
            })
        );
        return Ok(code);
    }
    println!(
        "✗ interrupted after {:.1} s: {} rows read, {} done: {}",
        elapsed.as_secs_f64(),
        c.read,
        c.done(),
        summary_line(c)
    );
    println!(
        "  journal: {} is consistent; run the same command again to resume",
        journal.display()
    );
    Ok(code)
}

/// What the summary says about the run besides its counts.
struct Ran<'a> {
    started: Instant,
    journal: Option<&'a Path>,
    report: Option<&'a Path>,
    dry_run: bool,
}

fn finish(c: &Counts, ran: &Ran<'_>, failures: &Failures, global: &Global) -> anyhow::Result<u8> {
    let code = if c.failed == 0 {
        exit::OK
    } else if c.failed == c.timed_out {
        exit::TIMED_OUT
    } else {
        exit::REJECTED
    };
    let elapsed = ran.started.elapsed();
    let seconds = elapsed.as_millis() as f64 / 1000.0;
    if global.json {
        println!(
            "{}",
            serde_json::json!({
                "counts": c, "dryRun": ran.dry_run, "seconds": seconds,
                "journal": ran.journal, "report": ran.report, "exitCode": code,
                "failures": failures.shown,
            })
        );
        return Ok(code);
    }
    let per_second = (c.applied + c.would_apply) as f64 / elapsed.as_secs_f64().max(0.001);
    println!(
        "{} {} rows in {seconds:.1} s ({}): {}",
        if code == exit::OK { "✓" } else { "✗" },
        c.read,
        rate(per_second),
        summary_line(c)
    );
    if let Some(journal) = ran.journal {
        println!(
            "  journal: {} (run the same command again to resume or re-check)",
            journal.display()
        );
    }
    if let Some(report) = ran.report {
        println!("  report:  {}", report.display());
    }
    if !failures.shown.is_empty() {
        println!("  failed rows, with the server's reason:");
        for failure in &failures.shown {
            println!("    {failure}");
        }
        let more = failures.count.saturating_sub(failures.shown.len() as u64);
        if more > 0 {
            println!(
                "    … and {more} more ({})",
                match (ran.report, ran.dry_run) {
                    (Some(_), _) => "all are in the report",
                    (None, true) => "--report PATH writes every row",
                    (None, false) => "all are in the journal; --report PATH writes them out",
                }
            );
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::{rate, template};

    #[test]
    fn progress_is_a_spinner_with_counts_when_the_total_is_unknown() {
        let unknown = template(None);
        assert!(unknown.contains("{pos} rows done"));
        for bar_only in ["{len}", "{wide_bar}", "{eta}", "{per_sec}"] {
            assert!(!unknown.contains(bar_only), "{bar_only}");
        }
        assert!(template(Some(10)).contains("{pos}/{len}"));
        assert!(!template(Some(10)).contains("{per_sec}"));
    }

    #[test]
    fn rates_are_rounded() {
        assert_eq!(rate(1234.5678), "1235/s");
        assert_eq!(rate(4.26), "4.3/s");
        assert_eq!(rate(0.0), "0.0/s");
    }
}
