//! The durable journal: one SQLite row per input record, with its status.
//!
//! Writes go through one writer task that commits whatever is queued in one transaction
//! (WAL, `synchronous=NORMAL`: a killed process loses nothing committed; a power cut may
//! lose the last commits, which a re-run repairs: every row not known to be done is sent
//! again, and sending the same wrap-up twice is a no-op on the server). The batch writes a
//! whole chunk's entries with one [`Journal::put_all`], so a chunk costs one commit.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowStatus {
    /// Read; not yet looked at.
    Pending,
    /// Its interaction is not closed and finalized yet.
    Waiting,
    /// A PUT is (or was, when the process died) in flight.
    Sending,
    /// This batch applied it.
    Applied,
    /// The same wrap-up was already in place; nothing was sent.
    AlreadyApplied,
    /// It cannot be applied; `error_code` and `message` say why.
    Failed,
}

impl RowStatus {
    pub const ALL: [RowStatus; 6] = [
        RowStatus::Pending,
        RowStatus::Waiting,
        RowStatus::Sending,
        RowStatus::Applied,
        RowStatus::AlreadyApplied,
        RowStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Pending => "pending",
            RowStatus::Waiting => "waiting",
            RowStatus::Sending => "sending",
            RowStatus::Applied => "applied",
            RowStatus::AlreadyApplied => "already-applied",
            RowStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RowStatus> {
        RowStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether a re-run leaves the record alone.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            RowStatus::Applied | RowStatus::AlreadyApplied | RowStatus::Failed
        )
    }
}

/// A record's entry in the journal: where it stands, and why when it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    pub line: u64,
    pub interaction_id: Option<Uuid>,
    pub status: RowStatus,
    /// The record as read (canonical), to notice a changed input on a re-run.
    #[serde(skip)]
    pub spec: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Db { path: String, source: sqlx::Error },
    #[error("journal {path}: {source}")]
    Read {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the journal's writer stopped (see the error before this one)")]
    Closed,
    #[error("writing the report: {0}")]
    Output(#[from] std::io::Error),
}

type Ack = oneshot::Sender<Result<(), String>>;

/// The journal of one batch.
#[derive(Clone)]
pub struct Journal {
    pool: SqlitePool,
    path: String,
    file: PathBuf,
    writes: mpsc::Sender<(Vec<JournalEntry>, Ack)>,
    /// The highest line recorded when the journal was opened: lines after it had no entry
    /// then, so a run reads nothing for them (this process writes each line only after
    /// reading it).
    last_line_at_open: u64,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`.
    pub async fn open(path: &Path) -> Result<Journal, JournalError> {
        let display = path.display().to_string();
        let db = |source| JournalError::Db {
            path: display.clone(),
            source,
        };
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(db)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(db)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS rows (
                line INTEGER PRIMARY KEY,
                interaction_id TEXT,
                status TEXT NOT NULL,
                spec TEXT NOT NULL,
                code_id TEXT,
                error_code TEXT,
                message TEXT,
                updated_at INTEGER NOT NULL
            )",
        )
        .execute(&pool)
        .await
        .map_err(db)?;
        let last_line_at_open: Option<i64> = sqlx::query_scalar("SELECT MAX(line) FROM rows")
            .fetch_one(&pool)
            .await
            .map_err(db)?;
        let (writes, rx) = mpsc::channel(1024);
        tokio::spawn(run_writer(pool.clone(), rx, display.clone()));
        Ok(Journal {
            pool,
            path: display,
            file: path.to_path_buf(),
            writes,
            last_line_at_open: last_line_at_open.map_or(0, |l| l as u64),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn db(&self, source: sqlx::Error) -> JournalError {
        JournalError::Db {
            path: self.path.clone(),
            source,
        }
    }

    /// The entries of input lines `lines` (those that have one), in one read; none at all
    /// when every line is past the journal's end (a first run reads nothing).
    pub async fn get_many(
        &self,
        lines: &[u64],
    ) -> Result<HashMap<u64, JournalEntry>, JournalError> {
        let lines: Vec<u64> = lines
            .iter()
            .copied()
            .filter(|l| *l <= self.last_line_at_open)
            .collect();
        if lines.is_empty() {
            return Ok(HashMap::new());
        }
        let list = serde_json::to_string(&lines).expect("numbers serialize");
        let rows = sqlx::query("SELECT * FROM rows WHERE line IN (SELECT value FROM json_each(?))")
            .bind(list)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(entry_of).map(|e| (e.line, e)).collect())
    }

    /// Records `entries` in one transaction; returns once they are committed.
    pub async fn put_all(&self, entries: Vec<JournalEntry>) -> Result<(), JournalError> {
        if entries.is_empty() {
            return Ok(());
        }
        let (ack, done) = oneshot::channel();
        self.writes
            .send((entries, ack))
            .await
            .map_err(|_| JournalError::Closed)?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(JournalError::Db {
                path: self.path.clone(),
                source: sqlx::Error::Protocol(message),
            }),
            Err(_) => Err(JournalError::Closed),
        }
    }

    /// How many records are in each status.
    pub async fn counts(&self) -> Result<Vec<(RowStatus, u64)>, JournalError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM rows GROUP BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let status = RowStatus::parse(r.get::<String, _>("status").as_str())?;
                Some((status, r.get::<i64, _>("n") as u64))
            })
            .collect())
    }

    /// Writes every entry as one JSON line (the report), in input order; returns how many.
    ///
    /// One query, read on a blocking thread with rusqlite and handed over in blocks of
    /// about 64 KiB: reading 200,000 entries through sqlx a page at a time took a second of
    /// the batch's end (every value of every row sent across sqlx's worker channel).
    /// Call it once every write is committed (the batch is over).
    pub async fn write_report(&self, out: &mut impl Write) -> Result<u64, JournalError> {
        const BLOCK: usize = 64 * 1024;
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(4);
        let file = self.file.clone();
        let read = tokio::task::spawn_blocking(move || -> Result<u64, rusqlite::Error> {
            let conn = rusqlite::Connection::open(&file)?;
            let mut query = conn.prepare(
                "SELECT line, interaction_id, status, code_id, error_code, message FROM rows ORDER BY line",
            )?;
            let mut rows = query.query([])?;
            let (mut block, mut written) = (Vec::with_capacity(BLOCK + 1024), 0);
            let uuid = |text: Option<String>| text.and_then(|s| Uuid::parse_str(&s).ok());
            while let Some(row) = rows.next()? {
                let status: String = row.get(2)?;
                let entry = JournalEntry {
                    line: row.get::<_, i64>(0)? as u64,
                    interaction_id: uuid(row.get(1)?),
                    status: RowStatus::parse(&status).unwrap_or(RowStatus::Pending),
                    spec: String::new(),
                    code_id: uuid(row.get(3)?),
                    error_code: row.get(4)?,
                    message: row.get(5)?,
                };
                serde_json::to_writer(&mut block, &entry).expect("an entry serializes");
                block.push(b'\n');
                written += 1;
                if block.len() >= BLOCK {
                    let full = std::mem::replace(&mut block, Vec::with_capacity(BLOCK + 1024));
                    if tx.blocking_send(full).is_err() {
                        return Ok(written);
                    }
                }
            }
            if !block.is_empty() {
                let _ = tx.blocking_send(block);
            }
            Ok(written)
        });
        while let Some(block) = rx.recv().await {
            out.write_all(&block)?;
        }
        out.flush()?;
        // The reading thread only ends by returning or panicking (a bug: passed on).
        let read = read
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        read.map_err(|source| JournalError::Read {
            path: self.path.clone(),
            source,
        })
    }

    /// Every entry in input order, a page at a time.
    pub async fn page(
        &self,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<JournalEntry>, JournalError> {
        let rows = sqlx::query("SELECT * FROM rows WHERE line > ? ORDER BY line LIMIT ?")
            .bind(after_line as i64)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(entry_of).collect())
    }
}

fn entry_of(row: &sqlx::sqlite::SqliteRow) -> JournalEntry {
    let uuid = |col: &str| {
        row.get::<Option<String>, _>(col)
            .and_then(|s| Uuid::parse_str(&s).ok())
    };
    JournalEntry {
        line: row.get::<i64, _>("line") as u64,
        interaction_id: uuid("interaction_id"),
        status: RowStatus::parse(row.get::<String, _>("status").as_str())
            .unwrap_or(RowStatus::Pending),
        spec: row.get("spec"),
        code_id: uuid("code_id"),
        error_code: row.get("error_code"),
        message: row.get("message"),
    }
}

/// Commits every queued write in one transaction, then acknowledges them.
async fn run_writer(
    pool: SqlitePool,
    mut rx: mpsc::Receiver<(Vec<JournalEntry>, Ack)>,
    path: String,
) {
    let mut batch = Vec::with_capacity(64);
    while rx.recv_many(&mut batch, 64).await > 0 {
        let result = write_all(&pool, &batch).await;
        if let Err(e) = &result {
            tracing::error!(journal = %path, error = %e, "writing the journal failed");
        }
        for (_, ack) in batch.drain(..) {
            let _ = ack.send(result.as_ref().map(|_| ()).map_err(|e| e.to_string()));
        }
    }
}

async fn write_all(
    pool: &SqlitePool,
    batch: &[(Vec<JournalEntry>, Ack)],
) -> Result<(), sqlx::Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    // Multi-row statements of up to ROWS_PER_STATEMENT entries (the full-size statement is
    // prepared once and reused); VALUES keeps the order, so a line written twice in one
    // commit ends as the later.
    const ROWS_PER_STATEMENT: usize = 100;
    let entries: Vec<&JournalEntry> = batch.iter().flat_map(|(entries, _)| entries).collect();
    let mut tx = pool.begin().await?;
    for part in entries.chunks(ROWS_PER_STATEMENT) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO rows (line, interaction_id, status, spec, code_id, error_code, message, updated_at) ",
        );
        insert.push_values(part, |mut row, e| {
            row.push_bind(e.line as i64)
                .push_bind(e.interaction_id.map(|i| i.to_string()))
                .push_bind(e.status.as_str())
                .push_bind(e.spec.as_str())
                .push_bind(e.code_id.map(|i| i.to_string()))
                .push_bind(e.error_code.as_deref())
                .push_bind(e.message.as_deref())
                .push_bind(now);
        });
        insert.push(
            " ON CONFLICT (line) DO UPDATE SET interaction_id = excluded.interaction_id,
               status = excluded.status, spec = excluded.spec, code_id = excluded.code_id,
               error_code = excluded.error_code, message = excluded.message, updated_at = excluded.updated_at",
        );
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let journal = Journal::open(&path).await.unwrap();
        let id = Uuid::new_v4();
        let entry = |line, status| JournalEntry {
            line,
            interaction_id: Some(id),
            status,
            spec: format!("spec {line}"),
            code_id: None,
            error_code: None,
            message: None,
        };
        let sending = (1..=3)
            .map(|line| entry(line, RowStatus::Sending))
            .collect();
        journal.put_all(sending).await.unwrap();
        journal
            .put_all(vec![entry(2, RowStatus::Applied)])
            .await
            .unwrap();
        drop(journal);
        let journal = Journal::open(&path).await.unwrap();
        assert_eq!(
            journal.get_many(&[2]).await.unwrap()[&2].status,
            RowStatus::Applied
        );
        assert!(journal.get_many(&[9]).await.unwrap().is_empty());
        let some = journal.get_many(&[1, 2, 9]).await.unwrap();
        assert_eq!(some.len(), 2);
        assert_eq!(some[&2].status, RowStatus::Applied);
        assert_eq!(some[&1].status, RowStatus::Sending);
        let mut counts = journal.counts().await.unwrap();
        counts.sort_by_key(|c| c.0.as_str());
        assert_eq!(counts, [(RowStatus::Applied, 1), (RowStatus::Sending, 2)]);
        let page = journal.page(1, 10).await.unwrap();
        assert_eq!(page.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3]);
    }

    /// The report is every entry, in input order, one JSON line each, as the entries
    /// serialize (without the spec); more entries than one block of it holds.
    #[tokio::test]
    async fn the_report_is_every_entry_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("j.db")).await.unwrap();
        let entry = |line: u64| JournalEntry {
            line,
            interaction_id: Some(Uuid::from_u128(line.into())),
            status: if line.is_multiple_of(7) {
                RowStatus::Failed
            } else {
                RowStatus::Applied
            },
            spec: format!("spec {line}"),
            code_id: (!line.is_multiple_of(7)).then(|| Uuid::from_u128(7)),
            error_code: line
                .is_multiple_of(7)
                .then(|| "wrapup.code.not.found".to_string()),
            message: line
                .is_multiple_of(7)
                .then(|| format!("line {line} \"quoted\"")),
        };
        // Written out of order, in two commits.
        let lines: Vec<u64> = (1..=3000).rev().collect();
        let (late, early) = lines.split_at(1000);
        for part in [early, late] {
            journal
                .put_all(part.iter().map(|l| entry(*l)).collect())
                .await
                .unwrap();
        }
        let mut out = Vec::new();
        assert_eq!(journal.write_report(&mut out).await.unwrap(), 3000);
        let text = String::from_utf8(out).unwrap();
        let expected: String = (1..=3000)
            .map(|l| serde_json::to_string(&entry(l)).unwrap() + "\n")
            .collect();
        assert_eq!(text, expected);
        assert!(!text.contains("spec"));

        let empty = Journal::open(&dir.path().join("empty.db")).await.unwrap();
        let mut out = Vec::new();
        assert_eq!(empty.write_report(&mut out).await.unwrap(), 0);
        assert!(out.is_empty());
    }
}
