//! A PostgreSQL write transaction ([`WriteTx`]): the rows a batch's writes work on, and what
//! they changed, written back in a few set-based statements when the batch ends. A round
//! trip per statement is what a batch costs, so a batch costs the same handful of them
//! whatever its size: the interactions and codes it names are read in one query each
//! ([`PgWriteTx::preload`]), changed interactions are updated in one statement, history rows
//! inserted in another, and the events numbered, stored and announced in a third
//! ([`PgWriteTx::write_back`]).

use std::collections::HashMap;

use sqlx::postgres::PgPool;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;
use wrapup_types::timestamp::to_millis;
use wrapup_types::{Division, EventKind, Interaction, WrapUp, WrapUpCode};

use super::listener::CHANNEL;
use super::queries;
use crate::error::DbFailure;
use crate::records::{
    ClientRecord, CodeRecord, EventRecord, InteractionRecord, QueueRecord, TokenRecord, UserRecord,
};
use crate::schema::{self, code_columns, interaction_columns, queue_columns, StoredChanges};
use crate::write::{Lookup, Preload, WriteTx};

/// An event written by the batch, numbered when the batch ends.
struct UnnumberedEvent {
    kind: EventKind,
    interaction: Interaction,
    created_ms: i64,
}

/// A write transaction and the batch's rows, as changed so far.
pub(crate) struct PgWriteTx {
    pub(super) db: Transaction<'static, Postgres>,
    /// Interactions read (and locked `FOR UPDATE`) in this transaction, as changed so far.
    interactions: HashMap<Uuid, InteractionRecord>,
    /// Interactions changed since the last [`PgWriteTx::flush`], in the order first changed.
    dirty: Vec<Uuid>,
    /// Codes read in this transaction (`None`: no such code).
    codes: HashMap<Uuid, Option<CodeRecord>>,
    /// Wrap-up history rows to insert.
    history: Vec<(Uuid, WrapUp)>,
    events: Vec<UnnumberedEvent>,
}

impl PgWriteTx {
    pub(super) async fn begin(pool: &PgPool) -> Result<PgWriteTx, DbFailure> {
        Ok(PgWriteTx {
            db: pool.begin().await?,
            interactions: HashMap::new(),
            dirty: Vec::new(),
            codes: HashMap::new(),
            history: Vec::new(),
            events: Vec::new(),
        })
    }

    /// Reads and locks the interactions the batch's writes name, in id order (so two nodes'
    /// batches never wait for each other in a cycle), and the codes its wrap-ups name.
    pub(super) async fn preload(&mut self, mut rows: Preload) -> Result<(), DbFailure> {
        let ids = &mut rows.interactions;
        if !ids.is_empty() {
            ids.sort_unstable();
            ids.dedup();
            let found = sqlx::query(concat!(
                "SELECT ",
                interaction_columns!(),
                " FROM interactions WHERE id = ANY($1) ORDER BY id FOR UPDATE"
            ))
            .bind(&*ids)
            .fetch_all(&mut *self.db)
            .await?;
            for row in &found {
                let rec = schema::interaction(row)?;
                self.interactions.insert(rec.interaction.id, rec);
            }
        }
        let codes = &mut rows.codes;
        if !codes.is_empty() {
            codes.sort_unstable();
            codes.dedup();
            let found = sqlx::query(concat!(
                "SELECT ",
                code_columns!(),
                " FROM wrapup_codes WHERE id = ANY($1)"
            ))
            .bind(&*codes)
            .fetch_all(&mut *self.db)
            .await?;
            for id in codes.iter() {
                self.codes.insert(*id, None);
            }
            for row in &found {
                let code = schema::code(row)?;
                self.codes.insert(code.code.id, Some(code));
            }
        }
        Ok(())
    }

    /// Writes the changed interactions and the new history rows back, one statement each.
    async fn flush(&mut self) -> Result<(), DbFailure> {
        if !self.dirty.is_empty() {
            let rows = self
                .dirty
                .iter()
                .filter_map(|id| self.interactions.get(id))
                .map(StoredChanges::of)
                .collect::<Result<Vec<StoredChanges<'_>>, DbFailure>>()?;
            let column = |f: fn(&StoredChanges<'_>) -> Option<i64>| -> Vec<Option<i64>> {
                rows.iter().map(f).collect()
            };
            sqlx::query(
                "UPDATE interactions AS i SET state = u.state, finalized = u.finalized, active_at = u.active_at, \
                 closed_at = u.closed_at, finalize_due_at = u.finalize_due_at, finalized_at = u.finalized_at, \
                 wrapup_code_id = u.code_id, wrapup_code_name = u.code_name, wrapup_duration_ms = u.duration_ms, \
                 wrapup_notes = u.notes, wrapup_applied_at = u.applied_at, wrapup_applied_by = u.applied_by, \
                 wrapup_tags = u.tags, wrapup_provisional = u.provisional, version = u.version, \
                 routing = u.routing, acw_due_at = u.acw_due_at \
                 FROM UNNEST($1::uuid[], $2::text[], $3::bool[], $4::bigint[], $5::bigint[], $6::bigint[], \
                 $7::bigint[], $8::uuid[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::uuid[], \
                 $14::bigint[], $15::text[], $16::bool[], $17::text[], $18::bigint[]) AS u (id, state, finalized, \
                 active_at, closed_at, finalize_due_at, finalized_at, code_id, code_name, duration_ms, notes, \
                 applied_at, applied_by, version, tags, provisional, routing, acw_due_at) \
                 WHERE i.id = u.id",
            )
            .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.state).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.finalized).collect::<Vec<_>>())
            .bind(column(|r| r.active_at))
            .bind(column(|r| r.closed_at))
            .bind(column(|r| r.finalize_due_at))
            .bind(column(|r| r.finalized_at))
            .bind(rows.iter().map(|r| r.wrapup_code_id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.wrapup_code_name).collect::<Vec<_>>())
            .bind(column(|r| r.wrapup_duration_ms))
            .bind(rows.iter().map(|r| r.wrapup_notes).collect::<Vec<_>>())
            .bind(column(|r| r.wrapup_applied_at))
            .bind(rows.iter().map(|r| r.wrapup_applied_by).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.wrapup_tags.as_deref()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.wrapup_provisional).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.routing.as_deref()).collect::<Vec<_>>())
            .bind(column(|r| r.acw_due_at))
            .execute(&mut *self.db)
            .await?;
            self.dirty.clear();
        }
        if !self.history.is_empty() {
            let h = std::mem::take(&mut self.history);
            let tags = h
                .iter()
                .map(|(_, w)| schema::stored_tags(&w.tags))
                .collect::<Result<Vec<_>, DbFailure>>()?;
            sqlx::query(
                "INSERT INTO wrapup_history (interaction_id, code_id, code_name, duration_ms, notes, applied_at, \
                 applied_by, tags, provisional) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], \
                 $4::bigint[], $5::text[], $6::bigint[], $7::uuid[], $8::text[], $9::bool[])",
            )
            .bind(h.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| w.code_id).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| w.code_name.as_str()).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| i64::from(w.duration_ms)).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| w.notes.as_deref()).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| to_millis(w.applied_at)).collect::<Vec<_>>())
            .bind(h.iter().map(|(_, w)| w.applied_by).collect::<Vec<_>>())
            .bind(&tags)
            .bind(h.iter().map(|(_, w)| w.provisional).collect::<Vec<_>>())
            .execute(&mut *self.db)
            .await?;
        }
        Ok(())
    }

    /// Ends the batch's work: writes back what changed, then numbers the batch's events
    /// (holding the counter's lock until commit), stores them and queues the notification.
    /// Returns the events, numbered.
    pub(super) async fn write_back(&mut self) -> Result<Vec<EventRecord>, DbFailure> {
        self.flush().await?;
        if self.events.is_empty() {
            return Ok(Vec::new());
        }
        let n = self.events.len();
        let mut kinds = Vec::with_capacity(n);
        let mut interactions = Vec::with_capacity(n);
        let mut divisions = Vec::with_capacity(n);
        let mut data = Vec::with_capacity(n);
        let mut created = Vec::with_capacity(n);
        for e in &self.events {
            kinds.push(e.kind.as_str());
            interactions.push(e.interaction.id);
            divisions.push(e.interaction.division_id);
            data.push(schema::event_data(&e.interaction)?);
            created.push(e.created_ms);
        }
        // One statement takes the numbers (locking the counter until COMMIT), stores the events
        // and queues the notification: the lock is held for this round trip and the COMMIT.
        let last: i64 = sqlx::query_scalar(
            "WITH counter AS (UPDATE event_counter SET last = last + $1 RETURNING last), \
             stored AS (INSERT INTO events (seq, kind, interaction_id, division_id, data, created_at) \
               SELECT (SELECT last FROM counter) - $1 + e.n, e.kind, e.interaction_id, e.division_id, e.data, e.created_at \
               FROM UNNEST($2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::bigint[]) \
                 WITH ORDINALITY AS e (kind, interaction_id, division_id, data, created_at, n)) \
             SELECT counter.last FROM counter, LATERAL (SELECT pg_notify($7, counter.last::text)) AS notified",
        )
        .bind(n as i64)
        .bind(&kinds)
        .bind(&interactions)
        .bind(&divisions)
        .bind(&data)
        .bind(&created)
        .bind(CHANNEL)
        .fetch_one(&mut *self.db)
        .await?;
        let first = last - n as i64 + 1;
        Ok(self
            .events
            .drain(..)
            .enumerate()
            .map(|(k, e)| EventRecord {
                seq: first + k as i64,
                kind: e.kind,
                division_id: e.interaction.division_id,
                interaction: e.interaction,
                created_ms: e.created_ms,
            })
            .collect())
    }

    pub(super) async fn commit(self) -> Result<(), sqlx::Error> {
        self.db.commit().await
    }
}

impl Lookup for PgWriteTx {
    /// A code as this transaction sees it (read once per transaction).
    async fn code(&mut self, id: Uuid) -> Result<Option<CodeRecord>, DbFailure> {
        if let Some(code) = self.codes.get(&id) {
            return Ok(code.clone());
        }
        let code = queries::code(&mut self.db, id).await?;
        self.codes.insert(id, code.clone());
        Ok(code)
    }

    async fn division(&mut self, id: Uuid) -> Result<Option<Division>, DbFailure> {
        queries::division(&mut self.db, id).await
    }

    async fn queue(&mut self, id: Uuid) -> Result<Option<QueueRecord>, DbFailure> {
        queries::queue(&mut self.db, id).await
    }
}

impl WriteTx for PgWriteTx {
    async fn interaction_for_update(
        &mut self,
        id: Uuid,
    ) -> Result<Option<InteractionRecord>, DbFailure> {
        if let Some(rec) = self.interactions.get(&id) {
            return Ok(Some(rec.clone()));
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            interaction_columns!(),
            " FROM interactions WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *self.db)
        .await?;
        let Some(rec) = row.as_ref().map(schema::interaction).transpose()? else {
            return Ok(None);
        };
        self.interactions.insert(id, rec.clone());
        Ok(Some(rec))
    }

    async fn code_for_update(&mut self, id: Uuid) -> Result<Option<CodeRecord>, DbFailure> {
        let row = sqlx::query(concat!(
            "SELECT ",
            code_columns!(),
            " FROM wrapup_codes WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *self.db)
        .await?;
        row.as_ref().map(schema::code).transpose()
    }

    async fn code_name_taken(
        &mut self,
        division: Uuid,
        name_key: &str,
        other_than: Uuid,
    ) -> Result<bool, DbFailure> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM wrapup_codes WHERE division_id = $1 AND name_key = $2 \
             AND NOT archived AND id <> $3)",
        )
        .bind(division)
        .bind(name_key)
        .bind(other_than)
        .fetch_one(&mut *self.db)
        .await?)
    }

    async fn due_for_finalization(
        &mut self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<InteractionRecord>, DbFailure> {
        // The query must see this batch's changes so far.
        self.flush().await?;
        let due = sqlx::query(concat!(
            "SELECT ",
            interaction_columns!(),
            " FROM interactions WHERE NOT finalized AND state = 'closed' \
             AND finalize_due_at <= $1 ORDER BY finalize_due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
        ))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *self.db)
        .await?;
        due.iter().map(schema::interaction).collect()
    }

    async fn due_for_timeout(
        &mut self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<InteractionRecord>, DbFailure> {
        // The query must see this batch's changes so far.
        self.flush().await?;
        let due = sqlx::query(concat!(
            "SELECT ",
            interaction_columns!(),
            " FROM interactions WHERE acw_due_at IS NOT NULL AND acw_due_at <= $1 \
             ORDER BY acw_due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
        ))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *self.db)
        .await?;
        due.iter().map(schema::interaction).collect()
    }

    async fn queue_for_update(&mut self, id: Uuid) -> Result<Option<QueueRecord>, DbFailure> {
        let row = sqlx::query(concat!(
            "SELECT ",
            queue_columns!(),
            " FROM queues WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *self.db)
        .await?;
        row.as_ref().map(schema::queue).transpose()
    }

    async fn queue_name_taken(
        &mut self,
        name_key: &str,
        other_than: Uuid,
    ) -> Result<bool, DbFailure> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM queues WHERE name_key = $1 AND id <> $2)",
        )
        .bind(name_key)
        .bind(other_than)
        .fetch_one(&mut *self.db)
        .await?)
    }

    async fn insert_queue(
        &mut self,
        q: &QueueRecord,
        name_key: &str,
    ) -> Result<Option<i64>, DbFailure> {
        Ok(sqlx::query_scalar(
            "INSERT INTO queues (id, division_id, name, name_key, description, wrapup_prompt, timeout_ms, \
             code_ids, date_created, date_modified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT DO NOTHING RETURNING seq",
        )
        .bind(q.id)
        .bind(q.division_id)
        .bind(&q.name)
        .bind(name_key)
        .bind(&q.description)
        .bind(q.prompt.as_str())
        .bind(q.timeout_ms.map(i64::from))
        .bind(schema::stored_code_ids(&q.code_ids)?)
        .bind(q.created_ms)
        .bind(q.modified_ms)
        .fetch_optional(&mut *self.db)
        .await?)
    }

    async fn save_queue(&mut self, q: &QueueRecord, name_key: &str) -> Result<(), DbFailure> {
        sqlx::query(
            "UPDATE queues SET name = $1, name_key = $2, description = $3, wrapup_prompt = $4, \
             timeout_ms = $5, code_ids = $6, date_modified = $7 WHERE id = $8",
        )
        .bind(&q.name)
        .bind(name_key)
        .bind(&q.description)
        .bind(q.prompt.as_str())
        .bind(q.timeout_ms.map(i64::from))
        .bind(schema::stored_code_ids(&q.code_ids)?)
        .bind(q.modified_ms)
        .bind(q.id)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn delete_queue(&mut self, id: Uuid) -> Result<bool, DbFailure> {
        let deleted = sqlx::query("DELETE FROM queues WHERE id = $1")
            .bind(id)
            .execute(&mut *self.db)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn insert_user(
        &mut self,
        u: &UserRecord,
        name_key: &str,
    ) -> Result<Option<i64>, DbFailure> {
        Ok(sqlx::query_scalar(
            "INSERT INTO users (id, division_id, name, name_key, email, state, date_created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING seq",
        )
        .bind(u.id)
        .bind(u.division_id)
        .bind(&u.name)
        .bind(name_key)
        .bind(&u.email)
        .bind(schema::stored_user_state(u.state))
        .bind(u.created_ms)
        .fetch_optional(&mut *self.db)
        .await?)
    }

    async fn insert_division(
        &mut self,
        division: &Division,
        name_key: &str,
        now_ms: i64,
    ) -> Result<bool, DbFailure> {
        let inserted = sqlx::query(
            "INSERT INTO divisions (id, name, name_key, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(division.id)
        .bind(&division.name)
        .bind(name_key)
        .bind(now_ms)
        .execute(&mut *self.db)
        .await?;
        Ok(inserted.rows_affected() > 0)
    }

    async fn insert_code(
        &mut self,
        c: &WrapUpCode,
        name_key: &str,
    ) -> Result<Option<i64>, DbFailure> {
        let seq = sqlx::query_scalar(
            "INSERT INTO wrapup_codes (id, division_id, name, name_key, description, archived, \
             date_created, date_modified, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT DO NOTHING RETURNING seq",
        )
        .bind(c.id)
        .bind(c.division_id)
        .bind(&c.name)
        .bind(name_key)
        .bind(&c.description)
        .bind(c.archived)
        .bind(to_millis(c.date_created))
        .bind(to_millis(c.date_modified))
        .bind(c.created_by)
        .fetch_optional(&mut *self.db)
        .await?;
        // A code this batch looked for before it existed is no longer `None`.
        self.codes.remove(&c.id);
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
        sqlx::query(
            "UPDATE wrapup_codes SET name = $1, name_key = $2, description = $3, date_modified = $4 \
             WHERE id = $5",
        )
        .bind(name)
        .bind(name_key)
        .bind(description)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *self.db)
        .await?;
        self.codes.remove(&id);
        Ok(())
    }

    async fn archive_code(&mut self, id: Uuid, now_ms: i64) -> Result<(), DbFailure> {
        sqlx::query(
            "UPDATE wrapup_codes SET archived = TRUE, date_modified = $1 WHERE id = $2 AND NOT archived",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *self.db)
        .await?;
        self.codes.remove(&id);
        Ok(())
    }

    async fn insert_interaction(
        &mut self,
        rec: &InteractionRecord,
    ) -> Result<Option<i64>, DbFailure> {
        let i = &rec.interaction;
        let seq: Option<i64> = sqlx::query_scalar(
            "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING seq",
        )
        .bind(i.id)
        .bind(i.division_id)
        .bind(i.channel.as_str())
        .bind(i.state.as_str())
        .bind(i.finalized)
        .bind(to_millis(i.created_at))
        .bind(i.version)
        .fetch_optional(&mut *self.db)
        .await?;
        if let Some(seq) = seq {
            // Later writes of the batch find it here, as they find the rows they lock.
            let mut inserted = rec.clone();
            inserted.seq = seq;
            self.interactions.insert(i.id, inserted);
        }
        Ok(seq)
    }

    /// Records a changed interaction; it is written back when the batch ends (or before a
    /// query that must see it).
    async fn save_interaction(
        &mut self,
        rec: &InteractionRecord,
        history: Option<WrapUp>,
    ) -> Result<(), DbFailure> {
        let id = rec.interaction.id;
        if !self.dirty.contains(&id) {
            self.dirty.push(id);
        }
        self.interactions.insert(id, rec.clone());
        if let Some(entry) = history {
            self.history.push((id, entry));
        }
        Ok(())
    }

    /// Records the event of a change; it is numbered and stored when the batch ends.
    async fn append_event(
        &mut self,
        kind: EventKind,
        rec: &InteractionRecord,
        now_ms: i64,
    ) -> Result<(), DbFailure> {
        self.events.push(UnnumberedEvent {
            kind,
            interaction: rec.interaction.clone(),
            created_ms: now_ms,
        });
        Ok(())
    }

    async fn insert_client(&mut self, c: &ClientRecord) -> Result<(), DbFailure> {
        sqlx::query(
            "INSERT INTO oauth_clients (id, name, secret_hash, scopes, divisions, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(c.id)
        .bind(&c.name)
        .bind(&c.secret_hash)
        .bind(c.scopes.to_string())
        .bind(schema::stored_grant(&c.divisions)?)
        .bind(c.created_ms)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn insert_token(&mut self, t: &TokenRecord) -> Result<(), DbFailure> {
        sqlx::query(
            "INSERT INTO access_tokens (hash, client_id, scopes, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&t.hash[..])
        .bind(t.client_id)
        .bind(t.scopes.to_string())
        .bind(t.expires_ms)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn delete_tokens_expired_before(&mut self, ms: i64) -> Result<(), DbFailure> {
        sqlx::query("DELETE FROM access_tokens WHERE expires_at < $1")
            .bind(ms)
            .execute(&mut *self.db)
            .await?;
        Ok(())
    }

    async fn last_event_before(&mut self, ms: i64) -> Result<Option<i64>, DbFailure> {
        Ok(
            sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE created_at < $1")
                .bind(ms)
                .fetch_one(&mut *self.db)
                .await?,
        )
    }

    async fn delete_events_through(&mut self, seq: i64) -> Result<u64, DbFailure> {
        Ok(sqlx::query("DELETE FROM events WHERE seq <= $1")
            .bind(seq)
            .execute(&mut *self.db)
            .await?
            .rows_affected())
    }

    async fn raise_meta_number(&mut self, key: &str, value: i64) -> Result<(), DbFailure> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET \
             value = GREATEST(meta.value::bigint, excluded.value::bigint)::text",
        )
        .bind(key)
        .bind(value.to_string())
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn set_meta(&mut self, key: &str, value: &str) -> Result<(), DbFailure> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn insert_finalized(
        &mut self,
        division: Uuid,
        ids: &[Uuid],
        now_ms: i64,
    ) -> Result<u64, DbFailure> {
        Ok(sqlx::query(
            "INSERT INTO interactions (id, division_id, channel, state, finalized, created_at, active_at, \
             closed_at, finalize_due_at, finalized_at, version) \
             SELECT id, $2, 'voice', 'closed', TRUE, $3, $3, $3, $3, $3, 4 FROM UNNEST($1::uuid[]) AS t (id)",
        )
        .bind(ids)
        .bind(division)
        .bind(now_ms)
        .execute(&mut *self.db)
        .await?
        .rows_affected())
    }
}
