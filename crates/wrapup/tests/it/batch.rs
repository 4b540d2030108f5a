//! `wrapup batch` survives a bad day: injected faults, the batch process killed with
//! SIGKILL again and again, the server killed mid-batch. At the end every row is applied
//! exactly once and the report accounts for every row.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::common;

use crate::common::{succeeded, wrapup_for, Server};
use rand::Rng;
use uuid::Uuid;
use wrapup_client::Client;
use wrapup_server::testkit::*;
use wrapup_store::NewInteraction;
use wrapup_types::{Channel, DivisionGrant, InteractionState, TargetState};

const ALL: &str = common::ALL_SCOPES;

fn batch_command(url: &str, creds: &(Uuid, String), dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = wrapup_for(url, creds);
    cmd.arg("batch")
        .arg(dir.join("rows.jsonl"))
        .arg("--journal")
        .arg(dir.join("journal.db"))
        .arg("--report")
        .arg(dir.join("report.jsonl"))
        .args(["--max-retries", "30", "--reconcile-after", "500ms"])
        .args(extra);
    // The output goes to a file, not a pipe: a pipe nobody reads until the batch exits
    // would stop a batch that writes more than the pipe holds (e.g. with WRAPUP_LOG=debug).
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("batch.log"))
        .unwrap();
    cmd.stdout(log.try_clone().unwrap()).stderr(log);
    cmd
}

/// Waits for a batch started by [`batch_command`], bounded; on timeout kills it and fails
/// with its output (so a hang shows where the batch stood).
async fn wait(child: &mut Child, dir: &Path, limit: Duration) -> Option<i32> {
    let batch = KillOnPanic(child);
    let what = describe(|| format!("the batch to finish; its output:\n{}", output(dir)));
    let status = eventually(what, limit, || {
        let exited = batch.0.try_wait().unwrap();
        async move { exited }
    })
    .await;
    status.code()
}

/// Kills the process if the test fails (panics) while this is held: a batch that hung does
/// not outlive its test.
struct KillOnPanic<'a>(&'a mut Child);

impl Drop for KillOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// What the batches run in `dir` wrote (stdout and stderr), taken: the next call returns
/// only what is written after this one.
fn output(dir: &Path) -> String {
    let path = dir.join("batch.log");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, "").unwrap();
    text
}

/// Creates `n` interactions straight in the store, closed; the caller finalizes them.
async fn closed_interactions(
    server: &TestServer,
    division: Uuid,
    n: usize,
    close: bool,
) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    for chunk in 0..n.div_ceil(100) {
        let batch = (0..100.min(n - chunk * 100)).map(|_| {
            let store = server.store.clone();
            let now = server.clock.now_ms();
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
                    .await
                    .unwrap();
                store
                    .set_state(id, InteractionState::Active, now, SETTLE_MS)
                    .await
                    .unwrap();
                if close {
                    store
                        .set_state(id, InteractionState::Closed, now, SETTLE_MS)
                        .await
                        .unwrap();
                }
                id
            }
        });
        ids.extend(futures::future::join_all(batch).await);
    }
    ids
}

use wrapup_server::Clock as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_rows_under_chaos_with_the_batch_killed_three_times() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, sale) = server.division_with_code(&admin, "Sales", "Sale").await;
    let callback = server.code(&admin, division, "Callback").await;
    let ready = closed_interactions(&server, division, 1_800, true).await;
    server.clock.advance(SETTLE_MS);
    server.finalize_now().await;
    // 200 more are still active: their rows wait on the event stream.
    let later = closed_interactions(&server, division, 200, false).await;

    let dir = tempfile::tempdir().unwrap();
    let mut expected: HashMap<Uuid, Uuid> = HashMap::new();
    {
        let mut rows = std::fs::File::create(dir.path().join("rows.jsonl")).unwrap();
        for (i, id) in ready.iter().chain(&later).enumerate() {
            let (code, code_text) = if i % 2 == 0 {
                (sale, "Sale".to_string())
            } else {
                (callback, callback.to_string())
            };
            expected.insert(*id, code);
            writeln!(
                rows,
                "{}",
                serde_json::json!({"interactionId": id, "code": code_text, "durationMs": 1000 + i})
            )
            .unwrap();
        }
    }
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    set_chaos(&admin, "503=10%,429=5%,reset=2%,after-commit-reset=2%").await;

    // When each run is killed: random, replayable with the seed printed here.
    let mut rng = seeded_rng("two_thousand_rows_under_chaos_with_the_batch_killed_three_times");
    for kill in 0..3 {
        let mut child = batch_command(&server.url, &creds, dir.path(), &[])
            .spawn()
            .unwrap();
        if kill == 2 {
            // Let the waiting rows' interactions close and settle while a batch runs.
            tokio::time::sleep(Duration::from_millis(300)).await;
            for id in &later {
                server
                    .store
                    .set_state(
                        *id,
                        InteractionState::Closed,
                        server.clock.now_ms(),
                        SETTLE_MS,
                    )
                    .await
                    .unwrap();
            }
            server.clock.advance(SETTLE_MS);
            // Closed straight in the store, so the timer was not woken: finalize now.
            server.finalize_now().await;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1200))).await;
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        eprintln!("batch run {kill}: killed ({status:?})");
    }
    // Then run until it finishes (each run resumes from the journal).
    let mut finished = false;
    for run in 0..10 {
        let mut child = batch_command(&server.url, &creds, dir.path(), &[])
            .spawn()
            .unwrap();
        let code = wait(&mut child, dir.path(), Duration::from_secs(180)).await;
        let text = output(dir.path());
        eprintln!("final run {run}: exit {code:?}\n{text}");
        if code == Some(0) {
            finished = true;
            break;
        }
        assert_eq!(
            code,
            Some(5),
            "only a stop for too many failures may interrupt it: {text}"
        );
    }
    assert!(finished, "the batch completes");

    // Every interaction has exactly one wrap-up, with the right code.
    set_chaos(&admin, "off").await;
    for (id, code) in &expected {
        let history = admin.wrapup_history(*id).await.unwrap();
        assert_eq!(history.len(), 1, "{id}: applied exactly once");
        assert_eq!(history[0].code_id, *code, "{id}: the right code");
    }
    // The report accounts for every row.
    let report = std::fs::read_to_string(dir.path().join("report.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = report
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2_000);
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(line["line"], n as u64 + 1);
        let status = line["status"].as_str().unwrap();
        assert!(status == "applied" || status == "already-applied", "{line}");
        let id: Uuid = line["interactionId"].as_str().unwrap().parse().unwrap();
        assert!(expected.contains_key(&id));
    }
    let metrics = admin.metrics().await.unwrap();
    for fault in ["503", "429", "reset", "after-commit-reset"] {
        assert!(
            metrics.contains(&format!("fault=\"{fault}\"")),
            "chaos injected {fault}"
        );
    }
}

/// Sets the server's fault injection (`off` to stop it).
async fn set_chaos(admin: &Client, spec: &str) {
    let body = serde_json::json!({ "spec": spec }).to_string().into_bytes();
    let answer = admin
        .raw(
            reqwest::Method::PUT,
            "/api/v2/admin/chaos",
            &[("content-type", "application/json")],
            Some(body),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
}

/// Creates the division "Sales" with the code "Sale"; returns the division.
async fn sales_with_a_sale_code(client: &Client) -> Uuid {
    let division = client.create_division("Sales").await.unwrap().id;
    client
        .create_code(&wrapup_types::CreateWrapUpCode {
            name: "Sale".into(),
            division_id: division,
            description: None,
        })
        .await
        .unwrap();
    division
}

/// A `wrapup serve` process on a database file, finalizing at once, listening on `listen`.
fn serve(db: &Path, listen: &str) -> Server {
    Server::start_at(
        &format!("sqlite://{}", db.display()),
        listen,
        &["--settle-ms", "0"],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_mid_batch_loses_no_acknowledged_wrapup() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let creds = common::create_client(&format!("sqlite://{}", db.display()));
    let mut server = serve(&db, "127.0.0.1:0");
    let url = server.url.clone();
    let client = common::api_client(&url, &creds);
    let division = sales_with_a_sale_code(&client).await;
    let mut ids = Vec::new();
    {
        let mut rows = std::fs::File::create(dir.path().join("rows.jsonl")).unwrap();
        for _ in 0..600 {
            let id = client
                .create_interaction(division, Channel::Chat)
                .await
                .unwrap()
                .id;
            client.set_state(id, TargetState::Closed).await.unwrap(); // settle time 0
            writeln!(
                rows,
                "{}",
                serde_json::json!({"interactionId": id, "code": "Sale", "duration": "90s"})
            )
            .unwrap();
            ids.push(id);
        }
    }

    let mut batch = batch_command(&url, &creds, dir.path(), &["--concurrency", "8"])
        .spawn()
        .unwrap();
    // Kill the server once the batch is well under way.
    let journal = dir.path().join("journal.db");
    let progress = describe(|| {
        format!(
            "the batch to make progress (100 rows applied); its output:\n{}",
            output(dir.path())
        )
    });
    eventually(progress, Duration::from_secs(60), || async {
        count_applied(&journal) >= 100
    })
    .await;
    server.kill(); // SIGKILL
    let acknowledged = applied_rows(&journal);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Restarted where the batch expects it.
    let mut server = serve(&db, &server.addr.to_string());
    let code = wait(&mut batch, dir.path(), Duration::from_secs(180)).await;
    let text = output(dir.path());
    assert_eq!(
        code,
        Some(0),
        "the batch completes after the restart:\n{text}"
    );

    // Nothing the server acknowledged before it died is missing, and everything is applied.
    let client = Client::new(&url).with_credentials(&creds.0.to_string(), &creds.1);
    for line in &acknowledged {
        let id = ids[*line as usize - 1];
        assert!(
            client.get_interaction(id).await.unwrap().wrap_up.is_some(),
            "row {line}"
        );
    }
    for id in &ids {
        assert_eq!(client.wrapup_history(*id).await.unwrap().len(), 1);
    }
    server.kill();
}

/// SIGTERM mid-batch: no more rows are started, the rows in flight finish, the batch exits
/// 130 with no row left `sending`, and a re-run completes with every row applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_batch_with_a_consistent_journal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let creds = common::create_client(&format!("sqlite://{}", db.display()));
    let server = serve(&db, "127.0.0.1:0");
    let client = common::api_client(&server.url, &creds);
    let division = sales_with_a_sale_code(&client).await;
    let mut ids = Vec::new();
    {
        let mut rows = std::fs::File::create(dir.path().join("rows.jsonl")).unwrap();
        for _ in 0..400 {
            let id = client
                .create_interaction(division, Channel::Chat)
                .await
                .unwrap()
                .id;
            client.set_state(id, TargetState::Closed).await.unwrap(); // settle time 0
            writeln!(
                rows,
                "{}",
                serde_json::json!({"interactionId": id, "code": "Sale", "duration": "90s"})
            )
            .unwrap();
            ids.push(id);
        }
    }
    // Slow the batch down enough to be mid-way when the signal comes: small chunks, two at
    // a time, each request delayed by the server.
    set_chaos(&client, "delay=20ms..40ms").await;
    let journal = dir.path().join("journal.db");
    let slow = ["--concurrency", "2", "--chunk-size", "5"];
    let mut batch = batch_command(&server.url, &creds, dir.path(), &slow)
        .spawn()
        .unwrap();
    let progress = describe(|| {
        format!(
            "the batch to make progress (50 rows applied); its output:\n{}",
            output(dir.path())
        )
    });
    eventually(progress, Duration::from_secs(60), || async {
        count_applied(&journal) >= 50
    })
    .await;
    let status = Command::new("kill")
        .args(["-TERM", &batch.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = wait(&mut batch, dir.path(), Duration::from_secs(30)).await;
    let text = output(dir.path());
    assert_eq!(code, Some(130), "{text}");
    assert!(text.contains("interrupted after"), "{text}");
    assert!(
        text.contains("run the same command again to resume"),
        "{text}"
    );
    assert!(
        journal_rows(&journal, "sending").is_empty(),
        "no row left in flight"
    );
    let applied = count_applied(&journal);
    assert!(applied < ids.len(), "it stopped early: {applied} applied");

    set_chaos(&client, "off").await;
    let mut rerun = batch_command(&server.url, &creds, dir.path(), &[])
        .spawn()
        .unwrap();
    let code = wait(&mut rerun, dir.path(), Duration::from_secs(120)).await;
    assert_eq!(code, Some(0), "{}", output(dir.path()));
    for id in &ids {
        assert_eq!(client.wrapup_history(*id).await.unwrap().len(), 1);
    }
}

fn journal_rows(journal: &Path, query: &str) -> Vec<i64> {
    // Read with the sqlite3-free path: the batch's own journal API.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let path = journal.to_path_buf();
    let query = query.to_string();
    std::thread::spawn(move || {
        rt.block_on(async move {
            if !path.exists() {
                return Vec::new();
            }
            let Ok(j) = wrapup_batch::Journal::open(&path).await else {
                return Vec::new();
            };
            let mut out = Vec::new();
            let mut after = 0;
            loop {
                let Ok(page) = j.page(after, 1000).await else {
                    return out;
                };
                let Some(last) = page.last() else { break };
                after = last.line;
                out.extend(
                    page.iter()
                        .filter(|e| e.status.as_str() == query)
                        .map(|e| e.line as i64),
                );
            }
            out
        })
    })
    .join()
    .unwrap()
}

fn count_applied(journal: &Path) -> usize {
    journal_rows(journal, "applied").len()
}

fn applied_rows(journal: &Path) -> Vec<i64> {
    journal_rows(journal, "applied")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_then_batch_csv_dry_run_report_and_exit_codes() {
    let server = TestServer::builder()
        .config(wrapup_server::Config {
            settle_ms: 0,
            ..wrapup_server::Config::default()
        })
        .start()
        .await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let support = server.division(&admin, "Support").await;
    server.code(&admin, sales, "Sale").await;
    let resolved = server.code(&admin, support, "Resolved").await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let dir = tempfile::tempdir().unwrap();

    // simulate makes 20 interactions that close (and, with settle time 0, finalize).
    let mut cmd = wrapup_for(&server.url, &creds);
    cmd.args([
        "simulate",
        "--division",
        &sales.to_string(),
        "--interactions",
        "20",
        "--rate",
        "200/s",
        "--close-after",
        "0s..100ms",
    ]);
    let out = succeeded(&mut cmd);
    let ids: Vec<Uuid> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 20);

    // A CSV with every id, plus a code of another division and a bad duration.
    let csv = dir.path().join("rows.csv");
    {
        let mut f = std::fs::File::create(&csv).unwrap();
        writeln!(f, "interactionId,code,duration,notes").unwrap();
        for id in &ids {
            writeln!(f, "{id},sale,90s,\"from \"\"CRM\"\", batch 7\"").unwrap();
        }
        let extra = server.finalized(&admin, sales).await;
        writeln!(f, "{extra},{resolved},2m,").unwrap();
        writeln!(f, "{extra},Sale,25h,").unwrap();
    }
    let report = dir.path().join("report.jsonl");
    let run = |extra: &[&str]| {
        wrapup_for(&server.url, &creds)
            .arg("batch")
            .arg(&csv)
            .arg("--report")
            .arg(&report)
            .args(extra)
            .output()
            .unwrap()
    };

    // A dry run applies nothing and predicts the failures.
    let out = run(&["--dry-run", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["wouldApply"], 20);
    assert_eq!(summary["counts"]["failed"], 2);
    assert!(admin
        .get_interaction(ids[0])
        .await
        .unwrap()
        .wrap_up
        .is_none());
    let predicted = std::fs::read_to_string(&report).unwrap();
    assert!(
        predicted.contains("wrapup.code.division.mismatch"),
        "{predicted}"
    );
    assert!(predicted.contains("wrapup.duration.invalid"), "{predicted}");

    // The real run applies the 20, fails the 2 with the server's diagnosis: exit 3.
    let out = run(&[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 22);
    assert_eq!(lines[0]["line"], 2, "CSV rows are numbered by their line");
    assert!(lines[..20].iter().all(|l| l["status"] == "applied"));
    assert_eq!(lines[20]["errorCode"], "wrapup.code.division.mismatch");
    assert_eq!(lines[21]["errorCode"], "wrapup.duration.invalid");
    let wrapup = admin
        .get_interaction(ids[0])
        .await
        .unwrap()
        .wrap_up
        .unwrap();
    assert_eq!(
        (wrapup.duration_ms, wrapup.notes.as_deref()),
        (90_000, Some("from \"CRM\", batch 7"))
    );

    // A re-run sends nothing and still says some rows failed.
    let out = run(&["--json"]);
    assert_eq!(out.status.code(), Some(3));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["skipped"], 20);
    assert_eq!(summary["counts"]["applied"], 0);
    for id in &ids {
        assert_eq!(admin.wrapup_history(*id).await.unwrap().len(), 1);
    }

    // A changed input is refused rather than guessed at.
    std::fs::write(
        &csv,
        format!("interactionId,code,duration\n{},Sale,3m\n", ids[0]),
    )
    .unwrap();
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the input changed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_one_interaction_apply_in_input_order() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (division, sale) = server.division_with_code(&admin, "Sales", "Sale").await;
    let callback = server.code(&admin, division, "Callback").await;
    let twice = server.finalized(&admin, division).await;
    let others: Vec<Uuid> = {
        let mut v = Vec::new();
        for _ in 0..20 {
            v.push(server.finalized(&admin, division).await);
        }
        v
    };
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let dir = tempfile::tempdir().unwrap();
    {
        let mut rows = std::fs::File::create(dir.path().join("rows.jsonl")).unwrap();
        // A correction later in the export: the last row for an interaction wins, and each
        // row is applied once, in order, even with 16 rows in flight.
        for (n, code) in ["Sale", "Callback", "Sale"].iter().enumerate() {
            writeln!(rows, "{}", serde_json::json!({"interactionId": twice, "code": code, "durationMs": 1000 * (n + 1)})).unwrap();
            for id in &others {
                writeln!(
                    rows,
                    "{}",
                    serde_json::json!({"interactionId": id, "code": "Sale", "durationMs": 500})
                )
                .unwrap();
            }
        }
    }
    for run in 0..2 {
        let mut child = batch_command(&server.url, &creds, dir.path(), &[])
            .spawn()
            .unwrap();
        let code = wait(&mut child, dir.path(), Duration::from_secs(60)).await;
        assert_eq!(code, Some(0), "run {run}: {}", output(dir.path()));
    }
    let history = admin.wrapup_history(twice).await.unwrap();
    let applied: Vec<(Uuid, u32)> = history.iter().map(|w| (w.code_id, w.duration_ms)).collect();
    assert_eq!(applied, [(sale, 1000), (callback, 2000), (sale, 3000)]);
    for id in &others {
        // The same row three times is one wrap-up.
        assert_eq!(admin.wrapup_history(*id).await.unwrap().len(), 1);
    }
}

/// Rows naming their code by id go out in bulk requests, with no read before them; a
/// chunk larger than the server's rate limit allows in one request is split and the batch
/// completes; a second batch of the same rows (a new journal) finds every wrap-up in place
/// and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_go_out_in_bulk_requests_split_to_fit_the_rate_limit() {
    let server = TestServer::builder()
        .config(wrapup_server::Config {
            rate_limit: Some(wrapup_server::RateLimit {
                requests: 100,
                period_ms: 1_000,
            }),
            ..wrapup_server::Config::default()
        })
        .start()
        .await;
    let admin = server.admin().await;
    let (division, sale) = server.division_with_code(&admin, "Sales", "Sale").await;
    let ids = closed_interactions(&server, division, 300, true).await;
    server.clock.advance(SETTLE_MS);
    server.finalize_now().await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let dir = tempfile::tempdir().unwrap();
    {
        let mut rows = std::fs::File::create(dir.path().join("rows.jsonl")).unwrap();
        for id in &ids {
            let row = serde_json::json!({"interactionId": id, "code": sale, "durationMs": 1500});
            writeln!(rows, "{row}").unwrap();
        }
    }
    // Time passes on the server's clock while the batch runs: the bucket refills.
    let run = |extra: &'static [&'static str]| {
        let mut child = batch_command(&server.url, &creds, dir.path(), extra)
            .spawn()
            .unwrap();
        let clock = server.clock.clone();
        let dir = dir.path().to_path_buf();
        async move {
            let started = Instant::now();
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    eprintln!("batch ran {:?}", started.elapsed());
                    return (status.code(), output(&dir));
                }
                if started.elapsed() > Duration::from_secs(60) {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    panic!("the batch did not end:\n{}", output(&dir));
                }
                clock.advance(1_000);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let (code, text) = run(&["--concurrency", "1"]).await;
    assert_eq!(code, Some(0), "{text}");
    let report = std::fs::read_to_string(dir.path().join("report.jsonl")).unwrap();
    assert_eq!(
        report.matches("\"status\":\"applied\"").count(),
        300,
        "{report}"
    );
    let history_lengths = || async {
        let mut lengths = Vec::new();
        for id in &ids {
            lengths.push(server.store.wrapup_history(*id).await.unwrap().len());
        }
        lengths
    };
    assert!(history_lengths().await.iter().all(|n| *n == 1));
    server.clock.advance(1_000);
    let metrics = admin.metrics().await.unwrap();
    let requests =
        |method: &str, route: &str, status: u16| answered(&metrics, method, route, status);
    let bulk = "/api/v2/interactions/wrap-ups";
    assert!(
        requests("POST", bulk, 400) >= 1,
        "a chunk was split:\n{metrics}"
    );
    assert!(
        (3..=60).contains(&requests("POST", bulk, 200)),
        "chunks of at most 100 rows:\n{metrics}"
    );
    assert_eq!(
        requests("GET", "/api/v2/interactions/{id}", 200),
        0,
        "no read before a send"
    );

    // The same rows again, with a new journal: all in place already, nothing changes.
    std::fs::remove_file(dir.path().join("journal.db")).unwrap();
    let (code, text) = run(&[]).await;
    assert_eq!(code, Some(0), "{text}");
    let report = std::fs::read_to_string(dir.path().join("report.jsonl")).unwrap();
    assert_eq!(
        report.matches("\"status\":\"already-applied\"").count(),
        300,
        "{report}"
    );
    assert!(history_lengths().await.iter().all(|n| *n == 1));
}

/// How many requests of `method` on `route` the server answered with `status`.
fn answered(metrics: &str, method: &str, route: &str, status: u16) -> u64 {
    metrics
        .lines()
        .filter(|l| {
            l.starts_with("wrapup_http_requests_total")
                && l.contains(&format!("method=\"{method}\""))
                && l.contains(&format!("route=\"{route}\""))
                && l.contains(&format!("status=\"{status}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// A code named by a name that only one division's current codes hold goes out at once
/// with that code's id, without reading the row's interaction; a name of several divisions'
/// codes still costs a read, and so does a guess the server refuses (a code of another
/// division), which then fails with the diagnosis the read gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_naming_their_code_are_read_only_when_the_name_is_not_one_codes() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (sales, sale) = server.division_with_code(&admin, "Sales", "Sale").await;
    let support = server.division(&admin, "Support").await;
    server.code(&admin, support, "Resolved").await;
    let shared_in_sales = server.code(&admin, sales, "Shared").await;
    server.code(&admin, support, "Shared").await;
    let ids = closed_interactions(&server, sales, 60, true).await;
    server.clock.advance(SETTLE_MS);
    server.finalize_now().await;
    let creds = server.credentials(ALL, DivisionGrant::All).await;
    let dir = tempfile::tempdir().unwrap();
    {
        let mut rows = std::fs::File::create(dir.path().join("rows.jsonl")).unwrap();
        for (i, id) in ids.iter().enumerate() {
            let code = match i {
                0..40 => "sale",
                40..50 => "Shared",
                _ => "Resolved",
            };
            let row = serde_json::json!({"interactionId": id, "code": code, "durationMs": 1500});
            writeln!(rows, "{row}").unwrap();
        }
    }
    let reads = || async {
        server.clock.advance(1_000);
        let metrics = admin.metrics().await.unwrap();
        answered(&metrics, "GET", "/api/v2/interactions/{id}", 200)
    };
    let run = || async {
        let mut child = batch_command(&server.url, &creds, dir.path(), &[])
            .spawn()
            .unwrap();
        let code = wait(&mut child, dir.path(), Duration::from_secs(60)).await;
        let report = std::fs::read_to_string(dir.path().join("report.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = report
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (code, lines)
    };

    let (code, lines) = run().await;
    assert_eq!(code, Some(3), "{}", output(dir.path()));
    assert_eq!(lines.len(), 60);
    let sale_text = sale.to_string();
    for line in &lines[..40] {
        assert_eq!(
            (line["status"].as_str(), line["codeId"].as_str()),
            (Some("applied"), Some(sale_text.as_str())),
            "{line}"
        );
    }
    let shared_text = shared_in_sales.to_string();
    for line in &lines[40..50] {
        assert_eq!(
            (line["status"].as_str(), line["codeId"].as_str()),
            (Some("applied"), Some(shared_text.as_str())),
            "{line}"
        );
    }
    for line in &lines[50..] {
        assert_eq!(line["status"], "failed", "{line}");
        assert_eq!(line["errorCode"], "wrapup.code.division.mismatch", "{line}");
    }
    assert_eq!(
        reads().await,
        20,
        "a read for each row naming Shared (two divisions) or Resolved (refused), none for sale"
    );
    for id in &ids[..50] {
        assert_eq!(server.store.wrapup_history(*id).await.unwrap().len(), 1);
    }

    // The same rows with a new journal: what is in place is found in place, unchanged.
    std::fs::remove_file(dir.path().join("journal.db")).unwrap();
    let (code, lines) = run().await;
    assert_eq!(code, Some(3), "{}", output(dir.path()));
    assert!(lines[..50].iter().all(|l| l["status"] == "already-applied"));
    assert!(lines[50..].iter().all(|l| l["status"] == "failed"));
    assert_eq!(reads().await, 40);
    for id in &ids[..50] {
        assert_eq!(server.store.wrapup_history(*id).await.unwrap().len(), 1);
    }
}

/// An offline dry run checks the records without the server, so it needs no credentials
/// (it asked for them, and the benchmark's dry runs failed for it).
#[test]
fn an_offline_dry_run_needs_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("rows.jsonl");
    let id = Uuid::new_v4();
    std::fs::write(
        &rows,
        format!(
            "{{\"interactionId\":\"{id}\",\"code\":\"Sale\",\"durationMs\":120000}}\n\
             {{\"interactionId\":\"{id}\",\"code\":\"Sale\",\"durationMs\":-1}}\n"
        ),
    )
    .unwrap();
    let out = Command::new(common::BIN)
        .args(["batch", "--dry-run", "--offline", "--json"])
        .arg(&rows)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("WRAPUP_URL", "http://127.0.0.1:9")
        .env_remove("WRAPUP_CLIENT_ID")
        .env_remove("WRAPUP_CLIENT_SECRET")
        .env_remove("WRAPUP_TOKEN")
        .env_remove("WRAPUP_CONFIG")
        .env_remove("WRAPUP_PROFILE")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["wouldApply"], 1);
    assert_eq!(summary["counts"]["failed"], 1);
}
