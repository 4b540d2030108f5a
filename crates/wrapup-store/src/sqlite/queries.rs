//! The SQLite reads: each a function of a connection (a reader's, or the writer's inside
//! its transaction), with cached prepared statements, decoding rows with `schema.rs`.

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;
use wrapup_types::{Division, WrapUp};

use crate::error::DbFailure;
use crate::listing::PageQuery;
use crate::records::{
    ClientRecord, CodeRecord, EventBounds, EventRecord, InteractionRecord, QueueRecord,
    TokenRecord, UserRecord,
};
use crate::schema::{
    self, client_columns, code_columns, division_columns, event_columns, history_columns,
    interaction_columns, queue_columns, token_columns, user_columns, ResultRow, PRUNED_THROUGH,
};
use crate::write::Lookup;

impl ResultRow for Row<'_> {
    fn uuid(&self, column: usize) -> Result<Uuid, DbFailure> {
        Ok(self.get(column)?)
    }
    fn opt_uuid(&self, column: usize) -> Result<Option<Uuid>, DbFailure> {
        Ok(self.get(column)?)
    }
    fn int(&self, column: usize) -> Result<i64, DbFailure> {
        Ok(self.get(column)?)
    }
    fn opt_int(&self, column: usize) -> Result<Option<i64>, DbFailure> {
        Ok(self.get(column)?)
    }
    fn flag(&self, column: usize) -> Result<bool, DbFailure> {
        Ok(self.get(column)?)
    }
    fn text(&self, column: usize) -> Result<String, DbFailure> {
        Ok(self.get(column)?)
    }
    fn opt_text(&self, column: usize) -> Result<Option<String>, DbFailure> {
        Ok(self.get(column)?)
    }
}

/// Runs a query for at most one row and decodes it.
pub(super) fn query_one<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    decode: impl FnOnce(&Row<'_>) -> Result<T, DbFailure>,
) -> Result<Option<T>, DbFailure> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    match rows.next()? {
        Some(row) => Ok(Some(decode(row)?)),
        None => Ok(None),
    }
}

/// Runs a query and decodes every row.
pub(super) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    decode: impl Fn(&Row<'_>) -> Result<T, DbFailure>,
) -> Result<Vec<T>, DbFailure> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

pub(super) fn interaction(
    conn: &Connection,
    id: Uuid,
) -> Result<Option<InteractionRecord>, DbFailure> {
    query_one(
        conn,
        concat!(
            "SELECT ",
            interaction_columns!(),
            " FROM interactions WHERE id = ?"
        ),
        [id],
        |r| schema::interaction(r),
    )
}

/// Up to `limit` interactions created before the one numbered `below`, latest first (the
/// read cache's warm-up, `warm.rs`).
pub(super) fn interactions_before(
    conn: &Connection,
    below: i64,
    limit: usize,
) -> Result<Vec<InteractionRecord>, DbFailure> {
    query_all(
        conn,
        concat!(
            "SELECT ",
            interaction_columns!(),
            " FROM interactions WHERE seq < ? ORDER BY seq DESC LIMIT ?"
        ),
        params![below, limit as i64],
        |r| schema::interaction(r),
    )
}

pub(super) fn code(conn: &Connection, id: Uuid) -> Result<Option<CodeRecord>, DbFailure> {
    query_one(
        conn,
        concat!(
            "SELECT ",
            code_columns!(),
            " FROM wrapup_codes WHERE id = ?"
        ),
        [id],
        |r| schema::code(r),
    )
}

pub(super) fn division(conn: &Connection, id: Uuid) -> Result<Option<Division>, DbFailure> {
    query_one(
        conn,
        concat!(
            "SELECT ",
            division_columns!(),
            " FROM divisions WHERE id = ?"
        ),
        [id],
        |r| Ok(schema::division(r)?.1),
    )
}

pub(super) fn queue(conn: &Connection, id: Uuid) -> Result<Option<QueueRecord>, DbFailure> {
    query_one(
        conn,
        concat!("SELECT ", queue_columns!(), " FROM queues WHERE id = ?"),
        [id],
        |r| schema::queue(r),
    )
}

pub(super) fn user(conn: &Connection, id: Uuid) -> Result<Option<UserRecord>, DbFailure> {
    query_one(
        conn,
        concat!("SELECT ", user_columns!(), " FROM users WHERE id = ?"),
        [id],
        |r| schema::user(r),
    )
}

pub(super) fn next_timeout_due(conn: &Connection) -> Result<Option<i64>, DbFailure> {
    Ok(conn
        .prepare_cached("SELECT MIN(acw_due_at) FROM interactions WHERE acw_due_at IS NOT NULL")?
        .query_row([], |r| r.get(0))?)
}

/// Point reads as a read-only snapshot (or the writer's transaction) sees them.
impl Lookup for Connection {
    async fn code(&mut self, id: Uuid) -> Result<Option<CodeRecord>, DbFailure> {
        code(self, id)
    }

    async fn division(&mut self, id: Uuid) -> Result<Option<Division>, DbFailure> {
        division(self, id)
    }

    async fn queue(&mut self, id: Uuid) -> Result<Option<QueueRecord>, DbFailure> {
        queue(self, id)
    }
}

/// An interaction's wrap-up history, oldest first: the chain from its latest entry
/// (`interactions.history_seq`) back through each entry's `prev_seq` (migration 0007).
pub(super) fn history(conn: &Connection, interaction_id: Uuid) -> Result<Vec<WrapUp>, DbFailure> {
    query_all(
        conn,
        concat!(
            "WITH RECURSIVE chain (seq) AS (",
            "SELECT history_seq FROM interactions WHERE id = ?1 AND history_seq IS NOT NULL ",
            "UNION ALL SELECT h.prev_seq FROM wrapup_history AS h JOIN chain ON h.seq = chain.seq ",
            "WHERE h.prev_seq IS NOT NULL) ",
            "SELECT ",
            history_columns!(),
            " FROM wrapup_history WHERE seq IN chain ORDER BY seq"
        ),
        [interaction_id],
        |r| schema::history_entry(r),
    )
}

pub(super) fn next_finalize_due(conn: &Connection) -> Result<Option<i64>, DbFailure> {
    Ok(conn
        .prepare_cached(
            "SELECT MIN(finalize_due_at) FROM interactions WHERE finalized = 0 AND state = 'closed'",
        )?
        .query_row([], |r| r.get(0))?)
}

pub(super) fn client(conn: &Connection, id: Uuid) -> Result<Option<ClientRecord>, DbFailure> {
    query_one(
        conn,
        concat!(
            "SELECT ",
            client_columns!(),
            " FROM oauth_clients WHERE id = ?"
        ),
        [id],
        |r| schema::client(r),
    )
}

pub(super) fn token(conn: &Connection, hash: [u8; 32]) -> Result<Option<TokenRecord>, DbFailure> {
    query_one(
        conn,
        concat!(
            "SELECT ",
            token_columns!(),
            " FROM access_tokens WHERE hash = ?"
        ),
        [&hash[..]],
        |r| schema::token(r, hash),
    )
}

pub(super) fn events_after(
    conn: &Connection,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<EventRecord>, DbFailure> {
    query_all(
        conn,
        concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        ),
        params![after_seq, i64::from(limit)],
        |r| schema::event(r),
    )
}

pub(super) fn event_bounds(conn: &Connection) -> Result<EventBounds, DbFailure> {
    let pruned = meta(conn, PRUNED_THROUGH)?;
    // AUTOINCREMENT keeps the highest sequence number ever assigned here, even once the
    // rows are pruned.
    let latest: Option<i64> = conn
        .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'events'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(EventBounds {
        pruned_through: schema::pruned_through(pruned)?,
        latest: latest.unwrap_or(0),
    })
}

/// The sequence number of the last event created before `ms`, found by bisecting the log
/// by sequence number, a few point reads by rowid (about 24 at ten million events) instead
/// of an index on `created_at` that every event would have to be added to: dropped by
/// migration 0008, it was a page rewritten by every write batch (docs/benchmarks.md,
/// issue 29).
///
/// Events are appended with the writer's clock, so their times rise with their sequence
/// numbers, and the answer is the one a scan would give. If the clock ever stepped back, the
/// answer is still a cut of the log: an event created before `ms` whose next event was not,
/// the events created before `ms` after it being those written while the clock was behind
/// (the property tests below hold it to both).
pub(super) fn last_event_before(conn: &Connection, ms: i64) -> Result<Option<i64>, DbFailure> {
    let mut at_or_after = conn
        .prepare_cached("SELECT seq, created_at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1")?;
    let mut next = |seq: i64| -> Result<Option<(i64, i64)>, DbFailure> {
        Ok(at_or_after
            .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    };
    let Some((first, first_at)) = next(i64::MIN)? else {
        return Ok(None);
    };
    if first_at >= ms {
        return Ok(None);
    }
    let (last, last_at): (i64, i64) = conn
        .prepare_cached("SELECT seq, created_at FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if last_at < ms {
        return Ok(Some(last));
    }
    // `low` is an event before `ms`; no event from `high` on is (`last` is not).
    let (mut low, mut high) = (first, last);
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        match next(mid)? {
            Some((seq, at)) if seq < high && at < ms => low = seq,
            _ => high = mid,
        }
    }
    Ok(Some(low))
}

pub(super) fn meta(conn: &Connection, key: &str) -> Result<Option<String>, DbFailure> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// A listing query being built: SQL text and its parameters.
pub(super) struct Select {
    pub(super) sql: String,
    pub(super) params: Vec<Value>,
}

fn uuid_value(id: Uuid) -> Value {
    Value::Blob(id.as_bytes().to_vec())
}

impl PageQuery for Select {
    const FALSE: &'static str = "0";
    // SQLite compares text with BINARY: UTF-8 bytes, which is code point order.
    const BY_CODE_POINT: &'static str = "";

    fn new() -> Self {
        Select {
            sql: String::new(),
            params: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    fn bind_int(&mut self, value: i64) {
        self.sql.push('?');
        self.params.push(Value::Integer(value));
    }

    fn bind_uuid(&mut self, value: Uuid) {
        self.sql.push('?');
        self.params.push(uuid_value(value));
    }

    fn bind_text(&mut self, value: String) {
        self.sql.push('?');
        self.params.push(Value::Text(value));
    }

    fn push_one_of(&mut self, column: &str, ids: &[Uuid]) {
        self.push(&format!(" AND {column} IN ("));
        for (n, id) in ids.iter().enumerate() {
            if n > 0 {
                self.push(", ");
            }
            self.bind_uuid(*id);
        }
        self.push(")");
    }
}

impl Select {
    /// Runs the listing query and decodes every row.
    pub(super) fn run<T>(
        &self,
        conn: &Connection,
        decode: impl Fn(&Row<'_>) -> Result<T, DbFailure>,
    ) -> Result<Vec<T>, DbFailure> {
        query_all(
            conn,
            &self.sql,
            rusqlite::params_from_iter(self.params.iter()),
            decode,
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;
    use rusqlite::Connection;

    /// A log of events with these (time, gap before it) pairs: sequence numbers rising by the
    /// gaps, as pruning and rolled-back numbers leave them.
    fn log(events: &[(i64, i64)]) -> (Connection, Vec<(i64, i64)>) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY, created_at INTEGER NOT NULL)",
        )
        .unwrap();
        let mut seq = 0;
        let mut rows = Vec::new();
        for (at, gap) in events {
            seq += gap;
            conn.execute("INSERT INTO events VALUES (?, ?)", [seq, *at])
                .unwrap();
            rows.push((seq, *at));
        }
        (conn, rows)
    }

    proptest! {
        /// In time order, as the writer's clock appends them, the bisection finds what a scan
        /// of the log finds.
        #[test]
        fn in_time_order_it_finds_what_a_scan_finds(
            mut events in vec((0i64..50, 1i64..4), 0..60),
            ms in -1i64..52,
        ) {
            events.sort();
            let (conn, rows) = log(&events);
            let scan = rows.iter().filter(|(_, at)| *at < ms).map(|(seq, _)| *seq).max();
            prop_assert_eq!(super::last_event_before(&conn, ms).unwrap(), scan);
        }

        /// With the clock stepped back, the answer is still a cut of the log between an event
        /// created before `ms` and the next, which was not (the doc's promise).
        #[test]
        fn in_any_order_it_cuts_between_before_and_not(
            events in vec((0i64..50, 1i64..4), 0..60),
            ms in -1i64..52,
        ) {
            let (conn, rows) = log(&events);
            match super::last_event_before(&conn, ms).unwrap() {
                None => prop_assert!(rows.first().is_none_or(|(_, at)| *at >= ms)),
                Some(seq) => {
                    let i = rows.iter().position(|(s, _)| *s == seq).unwrap();
                    prop_assert!(rows[i].1 < ms);
                    prop_assert!(rows.get(i + 1).is_none_or(|(_, at)| *at >= ms));
                }
            }
        }
    }
}
