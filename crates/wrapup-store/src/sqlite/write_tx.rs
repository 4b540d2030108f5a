//! The primitives of a SQLite write transaction ([`WriteTx`]): direct rusqlite calls with
//! cached prepared statements, on the writer's connection, inside the batch's
//! `BEGIN IMMEDIATE` transaction. None of them ever waits, so the writer thread runs an
//! operation to its end with one poll ([`run_ready`]).

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;
use wrapup_types::timestamp::to_millis;
use wrapup_types::{Division, EventKind, WrapUp, WrapUpCode};

use super::queries;
use crate::error::DbFailure;
use crate::records::{
    ClientRecord, CodeRecord, EventRecord, InteractionRecord, QueueRecord, TokenRecord, UserRecord,
};
use crate::schema::{self, interaction_columns, StoredChanges};
use crate::write::{Lookup, WriteTx};

/// The writer's connection, the events written by the batch so far (published once it
/// commits), and the interactions it wrote (forgotten by the read cache once it commits).
pub(crate) struct SqliteWriteTx {
    pub(super) conn: Connection,
    pub(super) events: Vec<EventRecord>,
    /// Every statement that writes the `interactions` table notes its ids here
    /// (`read_cache.rs` relies on it).
    pub(super) touched: Vec<Uuid>,
    /// The codes read in this batch's transaction (`None`: no such code), as PostgreSQL's
    /// writer keeps them: a batch of wrap-ups names the same few codes again and again.
    /// Forgotten when a batch begins and by every write of a code.
    pub(super) codes: HashMap<Uuid, Option<CodeRecord>>,
}

/// Runs a future that never waits (SQLite's primitives are direct calls) to its end, here,
/// with one poll: no executor, no allocation.
pub(crate) fn run_ready<F: Future>(future: F) -> Result<F::Output, DbFailure> {
    /// The waker of futures that never wait: nothing ever wakes it.
    struct NeverWoken;
    impl Wake for NeverWoken {
        fn wake(self: Arc<Self>) {}
    }
    static NEVER_WOKEN: OnceLock<Waker> = OnceLock::new();
    let waker = NEVER_WOKEN.get_or_init(|| Waker::from(Arc::new(NeverWoken)));
    match pin!(future).poll(&mut Context::from_waker(waker)) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(DbFailure::Other(
            "internal error: a SQLite statement waited for something".into(),
        )),
    }
}

impl SqliteWriteTx {
    /// Appends a wrap-up history entry of `rec` chained to its latest (found by its rowid,
    /// `seq`: its `history_seq`, which the caller then moves to the entry); returns the
    /// entry's `seq`. A plain `INSERT` and `last_insert_rowid`, not `RETURNING`, which costs
    /// SQLite a temporary table per statement (measured on the writer's profile).
    fn insert_history(&mut self, rec: &InteractionRecord, entry: WrapUp) -> Result<i64, DbFailure> {
        self.conn
            .prepare_cached(
                "INSERT INTO wrapup_history (interaction_id, code_id, code_name, duration_ms, notes, applied_at, \
                 applied_by, tags, provisional, prev_seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, (SELECT history_seq FROM interactions WHERE seq = ?10))",
            )?
            .execute(params![
                rec.interaction.id,
                entry.code_id,
                entry.code_name,
                i64::from(entry.duration_ms),
                entry.notes,
                to_millis(entry.applied_at),
                entry.applied_by,
                schema::stored_tags(&entry.tags)?,
                entry.provisional,
                rec.seq
            ])?;
        Ok(self.conn.last_insert_rowid())
    }
}

impl Lookup for SqliteWriteTx {
    /// A code as this transaction sees it (read once per batch).
    async fn code(&mut self, id: Uuid) -> Result<Option<CodeRecord>, DbFailure> {
        if let Some(code) = self.codes.get(&id) {
            return Ok(code.clone());
        }
        let code = queries::code(&self.conn, id)?;
        self.codes.insert(id, code.clone());
        Ok(code)
    }

    async fn division(&mut self, id: Uuid) -> Result<Option<Division>, DbFailure> {
        queries::division(&self.conn, id)
    }

    async fn queue(&mut self, id: Uuid) -> Result<Option<QueueRecord>, DbFailure> {
        queries::queue(&self.conn, id)
    }
}

impl WriteTx for SqliteWriteTx {
    // The batch's transaction began IMMEDIATE: the writer holds the database's write lock,
    // so a row read is a row locked.
    async fn interaction_for_update(
        &mut self,
        id: Uuid,
    ) -> Result<Option<InteractionRecord>, DbFailure> {
        queries::interaction(&self.conn, id)
    }

    async fn code_for_update(&mut self, id: Uuid) -> Result<Option<CodeRecord>, DbFailure> {
        queries::code(&self.conn, id)
    }

    async fn code_name_taken(
        &mut self,
        division: Uuid,
        name_key: &str,
        other_than: Uuid,
    ) -> Result<bool, DbFailure> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM wrapup_codes WHERE division_id = ? AND name_key = ? \
                 AND archived = 0 AND id <> ?)",
            )?
            .query_row(params![division, name_key, other_than], |r| r.get(0))?)
    }

    async fn due_for_finalization(
        &mut self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<InteractionRecord>, DbFailure> {
        queries::query_all(
            &self.conn,
            concat!(
                "SELECT ",
                interaction_columns!(),
                " FROM interactions WHERE finalized = 0 AND state = 'closed' \
                 AND finalize_due_at <= ? ORDER BY finalize_due_at LIMIT ?"
            ),
            params![now_ms, limit],
            |r| schema::interaction(r),
        )
    }

    async fn due_for_timeout(
        &mut self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<InteractionRecord>, DbFailure> {
        queries::query_all(
            &self.conn,
            concat!(
                "SELECT ",
                interaction_columns!(),
                " FROM interactions WHERE acw_due_at IS NOT NULL AND acw_due_at <= ? \
                 ORDER BY acw_due_at LIMIT ?"
            ),
            params![now_ms, limit],
            |r| schema::interaction(r),
        )
    }

    async fn queue_for_update(&mut self, id: Uuid) -> Result<Option<QueueRecord>, DbFailure> {
        queries::queue(&self.conn, id)
    }

    async fn queue_name_taken(
        &mut self,
        name_key: &str,
        other_than: Uuid,
    ) -> Result<bool, DbFailure> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM queues WHERE name_key = ? AND id <> ?)")?
            .query_row(params![name_key, other_than], |r| r.get(0))?)
    }

    async fn insert_queue(
        &mut self,
        q: &QueueRecord,
        name_key: &str,
    ) -> Result<Option<i64>, DbFailure> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO queues (id, division_id, name, name_key, description, wrapup_prompt, timeout_ms, \
                 code_ids, date_created, date_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT DO NOTHING RETURNING seq",
            )?
            .query_row(
                params![
                    q.id,
                    q.division_id,
                    q.name,
                    name_key,
                    q.description,
                    q.prompt.as_str(),
                    q.timeout_ms.map(i64::from),
                    schema::stored_code_ids(&q.code_ids)?,
                    q.created_ms,
                    q.modified_ms
                ],
                |r| r.get(0),
            )
            .optional()?)
    }

    async fn save_queue(&mut self, q: &QueueRecord, name_key: &str) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "UPDATE queues SET name = ?, name_key = ?, description = ?, wrapup_prompt = ?, timeout_ms = ?, \
                 code_ids = ?, date_modified = ? WHERE id = ?",
            )?
            .execute(params![
                q.name,
                name_key,
                q.description,
                q.prompt.as_str(),
                q.timeout_ms.map(i64::from),
                schema::stored_code_ids(&q.code_ids)?,
                q.modified_ms,
                q.id
            ])?;
        Ok(())
    }

    async fn delete_queue(&mut self, id: Uuid) -> Result<bool, DbFailure> {
        let deleted = self
            .conn
            .prepare_cached("DELETE FROM queues WHERE id = ?")?
            .execute([id])?;
        Ok(deleted > 0)
    }

    async fn insert_user(
        &mut self,
        u: &UserRecord,
        name_key: &str,
    ) -> Result<Option<i64>, DbFailure> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO users (id, division_id, name, name_key, email, state, date_created) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq",
            )?
            .query_row(
                params![
                    u.id,
                    u.division_id,
                    u.name,
                    name_key,
                    u.email,
                    schema::stored_user_state(u.state),
                    u.created_ms
                ],
                |r| r.get(0),
            )
            .optional()?)
    }

    async fn insert_division(
        &mut self,
        division: &Division,
        name_key: &str,
        now_ms: i64,
    ) -> Result<bool, DbFailure> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO divisions (id, name, name_key, created_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![division.id, division.name, name_key, now_ms])?;
        Ok(inserted > 0)
    }

    async fn insert_code(
        &mut self,
        code: &WrapUpCode,
        name_key: &str,
    ) -> Result<Option<i64>, DbFailure> {
        let seq = self
            .conn
            .prepare_cached(
                "INSERT INTO wrapup_codes (id, division_id, name, name_key, description, archived, date_created, \
                 date_modified, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq",
            )?
            .query_row(
                params![
                    code.id,
                    code.division_id,
                    code.name,
                    name_key,
                    code.description,
                    code.archived,
                    to_millis(code.date_created),
                    to_millis(code.date_modified),
                    code.created_by
                ],
                |r| r.get(0),
            )
            .optional()?;
        // A code this batch looked for before it existed is no longer `None`.
        self.codes.remove(&code.id);
        Ok(seq)
    }

    async fn update_code(
        &mut self,
        id: Uuid,
        name: &str,
        name_key: &str,
        description: Option<&str>,
        now_ms: i64,
    ) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "UPDATE wrapup_codes SET name = ?, name_key = ?, description = ?, date_modified = ? WHERE id = ?",
            )?
            .execute(params![name, name_key, description, now_ms, id])?;
        self.codes.remove(&id);
        Ok(())
    }

    async fn archive_code(&mut self, id: Uuid, now_ms: i64) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "UPDATE wrapup_codes SET archived = 1, date_modified = ? WHERE id = ? AND archived = 0",
            )?
            .execute(params![now_ms, id])?;
        self.codes.remove(&id);
        Ok(())
    }

    async fn insert_interaction(
        &mut self,
        rec: &InteractionRecord,
    ) -> Result<Option<i64>, DbFailure> {
        let i = &rec.interaction;
        self.touched.push(i.id);
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, version) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq",
            )?
            .query_row(
                params![
                    i.id,
                    i.division_id,
                    i.channel.as_str(),
                    i.state.as_str(),
                    i.finalized,
                    to_millis(i.created_at),
                    i.version
                ],
                |r| r.get(0),
            )
            .optional()?)
    }

    async fn save_interaction(
        &mut self,
        rec: &InteractionRecord,
        history: Option<WrapUp>,
    ) -> Result<(), DbFailure> {
        self.touched.push(rec.interaction.id);
        // A history entry goes at the end of its table, chained to the interaction's previous
        // one, and the interaction points at it (migration 0007): no page changes but the
        // table's last and the interaction's own, which this one statement writes.
        let history_seq = match history {
            Some(entry) => Some(self.insert_history(rec, entry)?),
            None => None,
        };
        let c = StoredChanges::of(rec)?;
        // By rowid (`seq`), one B-tree descent instead of the `id` index's and then the
        // table's; the `id` must match too, so a record with the wrong `seq` fails loudly.
        let saved = self
            .conn
            .prepare_cached(
                "UPDATE interactions SET state = ?, finalized = ?, active_at = ?, closed_at = ?, finalize_due_at = ?, \
                 finalized_at = ?, wrapup_code_id = ?, wrapup_code_name = ?, wrapup_duration_ms = ?, wrapup_notes = ?, \
                 wrapup_applied_at = ?, wrapup_applied_by = ?, wrapup_tags = ?, wrapup_provisional = ?, version = ?, \
                 routing = ?, acw_due_at = ?, history_seq = COALESCE(?, history_seq) WHERE seq = ? AND id = ?",
            )?
            .execute(params![
                c.state,
                c.finalized,
                c.active_at,
                c.closed_at,
                c.finalize_due_at,
                c.finalized_at,
                c.wrapup_code_id,
                c.wrapup_code_name,
                c.wrapup_duration_ms,
                c.wrapup_notes,
                c.wrapup_applied_at,
                c.wrapup_applied_by,
                c.wrapup_tags,
                c.wrapup_provisional,
                c.version,
                c.routing,
                c.acw_due_at,
                history_seq,
                rec.seq,
                c.id,
            ])?;
        if saved != 1 {
            return Err(DbFailure::Other(format!(
                "internal error: interaction {} (seq {}) was not saved",
                rec.interaction.id, rec.seq
            )));
        }
        Ok(())
    }

    async fn append_event(
        &mut self,
        kind: EventKind,
        rec: &InteractionRecord,
        now_ms: i64,
    ) -> Result<(), DbFailure> {
        let data = schema::event_data(&rec.interaction)?;
        self.conn
            .prepare_cached(
                "INSERT INTO events (kind, interaction_id, division_id, data, created_at) VALUES (?, ?, ?, ?, ?)",
            )?
            .execute(params![
                kind.as_str(),
                rec.interaction.id,
                rec.interaction.division_id,
                data,
                now_ms
            ])?;
        let seq = self.conn.last_insert_rowid();
        self.events.push(EventRecord {
            seq,
            kind,
            division_id: rec.interaction.division_id,
            interaction: rec.interaction.clone(),
            created_ms: now_ms,
        });
        Ok(())
    }

    async fn insert_client(&mut self, c: &ClientRecord) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "INSERT INTO oauth_clients (id, name, secret_hash, scopes, divisions, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                c.id,
                c.name,
                c.secret_hash,
                c.scopes.to_string(),
                schema::stored_grant(&c.divisions)?,
                c.created_ms
            ])?;
        Ok(())
    }

    async fn insert_token(&mut self, t: &TokenRecord) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "INSERT INTO access_tokens (hash, client_id, scopes, expires_at) VALUES (?, ?, ?, ?)",
            )?
            .execute(params![&t.hash[..], t.client_id, t.scopes.to_string(), t.expires_ms])?;
        Ok(())
    }

    async fn delete_tokens_expired_before(&mut self, ms: i64) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached("DELETE FROM access_tokens WHERE expires_at < ?")?
            .execute([ms])?;
        Ok(())
    }

    async fn last_event_before(&mut self, ms: i64) -> Result<Option<i64>, DbFailure> {
        queries::last_event_before(&self.conn, ms)
    }

    async fn delete_events_through(&mut self, seq: i64) -> Result<u64, DbFailure> {
        let deleted = self
            .conn
            .prepare_cached("DELETE FROM events WHERE seq <= ?")?
            .execute([seq])?;
        Ok(deleted as u64)
    }

    async fn raise_meta_number(&mut self, key: &str, value: i64) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET \
                 value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
            )?
            .execute(params![key, value.to_string()])?;
        Ok(())
    }

    async fn set_meta(&mut self, key: &str, value: &str) -> Result<(), DbFailure> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?;
        Ok(())
    }

    async fn insert_finalized(
        &mut self,
        division: Uuid,
        ids: &[Uuid],
        now_ms: i64,
    ) -> Result<u64, DbFailure> {
        let mut insert = self.conn.prepare_cached(
            "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, \
             active_at, closed_at, finalize_due_at, finalized_at, version) \
             VALUES (?, ?, 'voice', 'closed', 1, ?, ?, ?, ?, ?, 4)",
        )?;
        self.touched.extend_from_slice(ids);
        for id in ids {
            insert.execute(params![
                id, division, now_ms, now_ms, now_ms, now_ms, now_ms
            ])?;
        }
        Ok(ids.len() as u64)
    }
}
