//! The baselines for the HTTP benchmarks: a minimal axum server that serves
//! `GET /api/v2/interactions/{id}` from an in-memory map and accepts
//! `PUT /api/v2/interactions/{id}/wrap-up` into it — no authentication, no validation, no
//! storage. wrapup's figures are reported as ratios to it (see docs/benchmarks.md).
//!
//!     baseline-server --listen 127.0.0.1:9090 --interactions 100000
//!
//! With `--durable FILE` its PUT is the group-commit baseline instead: only the durable part
//! of a PUT. One writer thread takes every PUT waiting (up to 512), updates one row per PUT
//! (the body, keyed by the interaction's id) in one SQLite transaction (WAL,
//! `synchronous=FULL`: each commit is an fsync) and answers them all once it committed. No
//! validation, no history, no events, no reads. Durable PUT cannot be faster than this on the
//! same disk, so it is what wrapup's durable PUT is compared with.
//!
//! With `--logged` too, each PUT also writes what wrapup's durable PUT writes besides the
//! row: an event appended to a log (the interaction with its wrap-up, about 550 bytes of
//! JSON) and a history row chained to the interaction's previous one (whose number, read
//! from the row first, the same `UPDATE` replaces), in the same transaction. Still no
//! validation: the durable work of a wrap-up, for telling what that work costs from what
//! the rest of wrapup's PUT costs.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use clap::Parser;
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: std::net::SocketAddr,
    /// Interactions in the map, with the ids `wrapup seed` gives.
    #[arg(long, default_value_t = 100_000)]
    interactions: u64,
    /// PUTs are group-committed to this SQLite file (created and seeded with the
    /// interactions if absent) instead of the map.
    #[arg(long)]
    durable: Option<std::path::PathBuf>,
    /// With `--durable`: also append an event and a chained history row per PUT.
    #[arg(long, requires = "durable")]
    logged: bool,
}

type Map = Arc<RwLock<HashMap<Uuid, Bytes>>>;

/// The division of every seeded interaction.
const DIVISION: Uuid = Uuid::from_u128(0x81c3_0b77_0aaa_493d_a3db_660b_4bf7_b52d);

fn seed_id(i: u64) -> Uuid {
    Uuid::from_u128((0x5eed_u128 << 64) | u128::from(i))
}

async fn get_interaction(State(map): State<Map>, Path(id): Path<Uuid>) -> impl IntoResponse {
    match map.read().unwrap().get(&id) {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn put_wrapup(State(map): State<Map>, Path(id): Path<Uuid>, body: Bytes) -> StatusCode {
    match map.write().unwrap().get_mut(&id) {
        Some(entry) => {
            *entry = body;
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

/// The same shape and size as wrapup's answer.
fn seed_body(id: Uuid) -> String {
    format!(
        r#"{{"id":"{id}","divisionId":"{DIVISION}","channel":"voice","state":"closed","finalized":true,"createdAt":"2026-11-24T23:37:00.000Z","activeAt":"2026-11-24T23:37:00.000Z","closedAt":"2026-11-24T23:37:00.000Z","finalizedAt":"2026-11-24T23:37:00.000Z","wrapUp":null,"version":4}}"#
    )
}

/// A PUT waiting for the group commit: the row to update and who to answer.
type Pending = (Uuid, Bytes, oneshot::Sender<bool>);

async fn put_durable(
    State(queue): State<mpsc::Sender<Pending>>,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> StatusCode {
    let (answer, answered) = oneshot::channel();
    if queue.send((id, body, answer)).await.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    match answered.await {
        Ok(true) => StatusCode::NO_CONTENT,
        Ok(false) => StatusCode::NOT_FOUND,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Opens (seeding it if new) the group-commit baseline's database.
fn open_durable(
    path: &std::path::Path,
    interactions: u64,
    logged: bool,
) -> anyhow::Result<Connection> {
    let fresh = !path.exists();
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")?;
    conn.execute_batch(if logged {
        "CREATE TABLE IF NOT EXISTS interactions (id BLOB PRIMARY KEY, body BLOB NOT NULL, history_seq INTEGER) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
             interaction_id BLOB NOT NULL, division_id BLOB NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT,
             interaction_id BLOB NOT NULL, body BLOB NOT NULL, applied_at INTEGER NOT NULL, prev_seq INTEGER);"
    } else {
        "CREATE TABLE IF NOT EXISTS interactions (id BLOB PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;"
    })?;
    if fresh {
        conn.execute_batch("BEGIN")?;
        {
            let mut insert = conn.prepare("INSERT INTO interactions (id, body) VALUES (?1, ?2)")?;
            for i in 0..interactions {
                let id = seed_id(i);
                insert.execute(rusqlite::params![id, seed_body(id)])?;
            }
        }
        conn.execute_batch("COMMIT")?;
    }
    Ok(conn)
}

/// The event of a wrap-up: the interaction with it, as wrapup's event log keeps it (about
/// the same size: 546 bytes there).
fn event_data(id: Uuid, wrapup: &[u8]) -> String {
    format!(
        r#"{{"id":"{id}","divisionId":"{DIVISION}","channel":"voice","state":"completed","finalized":true,"createdAt":"2026-11-24T23:37:00.000Z","activeAt":"2026-11-24T23:37:00.000Z","closedAt":"2026-11-24T23:37:00.000Z","finalizesAt":"2026-11-24T23:37:00.000Z","finalizedAt":"2026-11-24T23:37:00.000Z","wrapUp":{{"put":{},"codeName":"Sale","appliedAt":"2026-11-24T23:38:00.000Z","appliedBy":"5eed0000-0000-4000-8000-000000000001"}},"version":5}}"#,
        String::from_utf8_lossy(wrapup)
    )
}

/// `--logged`: the row, an event and a history row chained to the interaction's last.
fn write_logged(conn: &Connection, id: &Uuid, body: &[u8], now_ms: i64) -> rusqlite::Result<bool> {
    let previous: Option<Option<i64>> = conn
        .prepare_cached("SELECT history_seq FROM interactions WHERE id = ?1")?
        .query_row(rusqlite::params![id], |row| row.get(0))
        .optional()?;
    let Some(previous) = previous else {
        return Ok(false);
    };
    conn.prepare_cached(
        "INSERT INTO history (interaction_id, body, applied_at, prev_seq) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(rusqlite::params![id, body, now_ms, previous])?;
    let seq = conn.last_insert_rowid();
    conn.prepare_cached("UPDATE interactions SET body = ?2, history_seq = ?3 WHERE id = ?1")?
        .execute(rusqlite::params![id, body, seq])?;
    conn.prepare_cached(
        "INSERT INTO events (kind, interaction_id, division_id, data, created_at)
         VALUES ('interaction.wrapup', ?1, ?2, ?3, ?4)",
    )?
    .execute(rusqlite::params![
        id,
        DIVISION,
        event_data(*id, body),
        now_ms
    ])?;
    Ok(true)
}

/// The group-commit writer: every PUT waiting (up to 512) in one transaction, one fsync.
fn group_commit(
    conn: Connection,
    mut queue: mpsc::Receiver<Pending>,
    logged: bool,
) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(512);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < 512 {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let mut found = Vec::with_capacity(batch.len());
        if logged {
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis() as i64;
            for (id, body, _) in &batch {
                found.push(write_logged(&conn, id, body, now_ms)?);
            }
        } else {
            let mut update =
                conn.prepare_cached("UPDATE interactions SET body = ?2 WHERE id = ?1")?;
            for (id, body, _) in &batch {
                found.push(update.execute(rusqlite::params![id, &body[..]])? == 1);
            }
        }
        conn.execute_batch("COMMIT")?;
        for ((_, _, answer), found) in batch.drain(..).zip(found) {
            let _ = answer.send(found);
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut map = HashMap::with_capacity(args.interactions as usize);
    for i in 0..args.interactions {
        let id = seed_id(i);
        map.insert(id, Bytes::from(seed_body(id)));
    }
    let map: Map = Arc::new(RwLock::new(map));
    let puts = match &args.durable {
        None => Router::new()
            .route(
                "/api/v2/interactions/{id}/wrap-up",
                axum::routing::put(put_wrapup),
            )
            .with_state(map.clone()),
        Some(path) => {
            let conn = open_durable(path, args.interactions, args.logged)?;
            let (queue, pending) = mpsc::channel(4096);
            let logged = args.logged;
            std::thread::spawn(move || {
                if let Err(e) = group_commit(conn, pending, logged) {
                    eprintln!("group commit failed: {e}");
                    std::process::exit(1);
                }
            });
            Router::new()
                .route(
                    "/api/v2/interactions/{id}/wrap-up",
                    axum::routing::put(put_durable),
                )
                .with_state(queue)
        }
    };
    let app = Router::new()
        .route("/api/v2/interactions/{id}", get(get_interaction))
        .with_state(map)
        .merge(puts);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!("baseline listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
