//! The stored data as both backends lay it out (the migrations in `migrations/sqlite` and
//! `migrations/postgres` create the same tables): the constants about it, the column lists
//! of the queries that read whole rows, how such a row becomes a record, and how a record's
//! values are stored. A backend only says how to read one column of its rows
//! ([`ResultRow`]); parsing the enums, the times and the JSON columns, and saying which
//! stored value is not valid, is written here, once.

use uuid::Uuid;
use wrapup_types::timestamp::{from_millis, to_millis};
use wrapup_types::{
    Channel, Division, DivisionGrant, EventKind, Interaction, InteractionState, ScopeSet,
    UserState, WrapUp, WrapupPrompt,
};

use crate::error::DbFailure;
use crate::records::{
    ClientRecord, CodeRecord, EventRecord, InteractionRecord, QueueRecord, StateCount, TokenRecord,
    UserRecord,
};

/// How many committed events a slow subscriber may lag before it must re-read the log.
pub const EVENT_BUFFER: usize = 16_384;
/// The `meta` key recording the last pruned event sequence number.
pub(crate) const PRUNED_THROUGH: &str = "events.pruned_through";
/// The most interactions one finalization pass handles.
pub(crate) const FINALIZE_BATCH: i64 = 1_000;
/// How long a token row is kept after it expired. Older ones are deleted when a token is
/// issued, so a token expired for more than a week answers `authentication.invalid` instead
/// of `authentication.expired`.
pub(crate) const EXPIRED_TOKENS_KEPT_MS: i64 = 8 * 86_400_000;

/// The columns of an interaction row, in the order [`interaction`] reads them. A macro, so
/// that queries are `&'static str`s built with `concat!` (a `format!` per point read
/// allocates).
macro_rules! interaction_columns {
    () => {
        "seq, id, division_id, channel, state, finalized, created_at, active_at, closed_at, \
         finalize_due_at, finalized_at, wrapup_code_id, wrapup_code_name, wrapup_duration_ms, \
         wrapup_notes, wrapup_applied_at, wrapup_applied_by, version, wrapup_tags, wrapup_provisional, \
         routing, acw_due_at"
    };
}
/// The columns of a queue row, in the order [`queue`] reads them.
macro_rules! queue_columns {
    () => {
        "seq, id, division_id, name, description, wrapup_prompt, timeout_ms, code_ids, date_created, \
         date_modified"
    };
}
/// The columns of a user row, in the order [`user`] reads them.
macro_rules! user_columns {
    () => {
        "seq, id, division_id, name, email, state, date_created"
    };
}
/// The columns of a wrap-up code row, in the order [`code`] reads them.
macro_rules! code_columns {
    () => {
        "seq, id, division_id, name, description, archived, date_created, date_modified, created_by"
    };
}
/// The columns of a division row, in the order [`division`] reads them.
macro_rules! division_columns {
    () => {
        "seq, id, name"
    };
}
/// The columns of an OAuth client row, in the order [`client`] reads them.
macro_rules! client_columns {
    () => {
        "id, name, secret_hash, scopes, divisions, created_at"
    };
}
/// The columns of an access token row (but its hash), in the order [`token`] reads them.
macro_rules! token_columns {
    () => {
        "client_id, scopes, expires_at"
    };
}
/// The columns of an event row, in the order [`event`] reads them.
macro_rules! event_columns {
    () => {
        "seq, kind, division_id, data, created_at"
    };
}
/// The columns of a wrap-up history row, in the order [`history_entry`] reads them.
macro_rules! history_columns {
    () => {
        "code_id, code_name, duration_ms, notes, applied_at, applied_by, tags, provisional"
    };
}
pub(crate) use {
    client_columns, code_columns, division_columns, event_columns, history_columns,
    interaction_columns, queue_columns, token_columns, user_columns,
};

/// One row of a query's result, read by column position (looking columns up by name was 8%
/// of the instructions of a GET on SQLite). Each backend implements it for its row type.
pub(crate) trait ResultRow {
    fn uuid(&self, column: usize) -> Result<Uuid, DbFailure>;
    fn opt_uuid(&self, column: usize) -> Result<Option<Uuid>, DbFailure>;
    fn int(&self, column: usize) -> Result<i64, DbFailure>;
    fn opt_int(&self, column: usize) -> Result<Option<i64>, DbFailure>;
    fn flag(&self, column: usize) -> Result<bool, DbFailure>;
    fn text(&self, column: usize) -> Result<String, DbFailure>;
    fn opt_text(&self, column: usize) -> Result<Option<String>, DbFailure>;
}

/// An interaction selected as [`interaction_columns`].
pub(crate) fn interaction(row: &impl ResultRow) -> Result<InteractionRecord, DbFailure> {
    let channel = row.text(3)?;
    let state = row.text(4)?;
    let opt_time = |column| -> Result<_, DbFailure> { Ok(row.opt_int(column)?.map(from_millis)) };
    let wrap_up = match row.opt_uuid(11)? {
        Some(code_id) => Some(WrapUp {
            code_id,
            code_name: row.text(12)?,
            duration_ms: row.int(13)? as u32,
            notes: row.opt_text(14)?,
            applied_at: from_millis(row.int(15)?),
            applied_by: row.uuid(16)?,
            tags: tags(row.opt_text(18)?)?,
            provisional: row.flag(19)?,
            system: code_id.is_nil(),
        }),
        None => None,
    };
    let routing = match row.opt_text(20)? {
        Some(text) => {
            Some(serde_json::from_str(&text).map_err(|_| DbFailure::corrupt("routing", &text))?)
        }
        None => None,
    };
    Ok(InteractionRecord {
        seq: row.int(0)?,
        finalize_due_ms: row.opt_int(9)?,
        acw_due_ms: row.opt_int(21)?,
        interaction: Interaction {
            id: row.uuid(1)?,
            division_id: row.uuid(2)?,
            channel: Channel::parse(&channel)
                .ok_or_else(|| DbFailure::corrupt("channel", &channel))?,
            state: InteractionState::parse(&state)
                .ok_or_else(|| DbFailure::corrupt("state", &state))?,
            finalized: row.flag(5)?,
            created_at: from_millis(row.int(6)?),
            active_at: opt_time(7)?,
            closed_at: opt_time(8)?,
            finalizes_at: opt_time(9)?,
            finalized_at: opt_time(10)?,
            wrap_up,
            routing,
            version: row.int(17)?,
        },
    })
}

/// A row of [`crate::listing::count_query`]: division, state, finalized, count.
pub(crate) fn state_count(row: &impl ResultRow) -> Result<StateCount, DbFailure> {
    let state = row.text(1)?;
    Ok(StateCount {
        division_id: row.uuid(0)?,
        state: InteractionState::parse(&state)
            .ok_or_else(|| DbFailure::corrupt("state", &state))?,
        finalized: row.flag(2)?,
        count: row.int(3)?.max(0) as u64,
    })
}

/// A wrap-up code selected as [`code_columns`].
pub(crate) fn code(row: &impl ResultRow) -> Result<CodeRecord, DbFailure> {
    Ok(CodeRecord {
        seq: row.int(0)?,
        code: wrapup_types::WrapUpCode {
            id: row.uuid(1)?,
            division_id: row.uuid(2)?,
            name: row.text(3)?,
            description: row.opt_text(4)?,
            archived: row.flag(5)?,
            date_created: from_millis(row.int(6)?),
            date_modified: from_millis(row.int(7)?),
            created_by: row.opt_uuid(8)?,
        },
    })
}

/// A queue selected as [`queue_columns`].
pub(crate) fn queue(row: &impl ResultRow) -> Result<QueueRecord, DbFailure> {
    let prompt = row.text(5)?;
    let codes = row.text(7)?;
    Ok(QueueRecord {
        seq: row.int(0)?,
        id: row.uuid(1)?,
        division_id: row.uuid(2)?,
        name: row.text(3)?,
        description: row.opt_text(4)?,
        prompt: WrapupPrompt::parse(&prompt)
            .ok_or_else(|| DbFailure::corrupt("wrap-up prompt", &prompt))?,
        timeout_ms: row.opt_int(6)?.map(|ms| ms as u32),
        code_ids: serde_json::from_str(&codes)
            .map_err(|_| DbFailure::corrupt("queue codes", &codes))?,
        created_ms: row.int(8)?,
        modified_ms: row.int(9)?,
    })
}

/// A queue's codes as stored: a JSON array of ids.
pub(crate) fn stored_code_ids(ids: &[Uuid]) -> Result<String, DbFailure> {
    Ok(serde_json::to_string(ids)?)
}

/// A user selected as [`user_columns`].
pub(crate) fn user(row: &impl ResultRow) -> Result<UserRecord, DbFailure> {
    let state = row.text(5)?;
    Ok(UserRecord {
        seq: row.int(0)?,
        id: row.uuid(1)?,
        division_id: row.uuid(2)?,
        name: row.text(3)?,
        email: row.text(4)?,
        state: match state.as_str() {
            "active" => UserState::Active,
            "inactive" => UserState::Inactive,
            _ => return Err(DbFailure::corrupt("user state", &state)),
        },
        created_ms: row.int(6)?,
    })
}

/// A user's state as stored.
pub(crate) fn stored_user_state(state: UserState) -> &'static str {
    match state {
        UserState::Active => "active",
        UserState::Inactive => "inactive",
    }
}

/// A division and its listing position, selected as [`division_columns`].
pub(crate) fn division(row: &impl ResultRow) -> Result<(i64, Division), DbFailure> {
    Ok((
        row.int(0)?,
        Division {
            id: row.uuid(1)?,
            name: row.text(2)?,
        },
    ))
}

/// An OAuth client selected as [`client_columns`].
pub(crate) fn client(row: &impl ResultRow) -> Result<ClientRecord, DbFailure> {
    let scopes = row.text(3)?;
    let divisions = row.text(4)?;
    Ok(ClientRecord {
        id: row.uuid(0)?,
        name: row.text(1)?,
        secret_hash: row.text(2)?,
        scopes: ScopeSet::parse(&scopes).map_err(|s| DbFailure::corrupt("scope", &s))?,
        divisions: serde_json::from_str(&divisions)
            .map_err(|_| DbFailure::corrupt("division grant", &divisions))?,
        created_ms: row.int(5)?,
    })
}

/// The access token whose hash is `hash`, selected as [`token_columns`].
pub(crate) fn token(row: &impl ResultRow, hash: [u8; 32]) -> Result<TokenRecord, DbFailure> {
    let scopes = row.text(1)?;
    Ok(TokenRecord {
        hash,
        client_id: row.uuid(0)?,
        scopes: ScopeSet::parse(&scopes).map_err(|s| DbFailure::corrupt("scope", &s))?,
        expires_ms: row.int(2)?,
    })
}

/// An event selected as [`event_columns`].
pub(crate) fn event(row: &impl ResultRow) -> Result<EventRecord, DbFailure> {
    let kind = row.text(1)?;
    let data = row.text(3)?;
    Ok(EventRecord {
        seq: row.int(0)?,
        kind: EventKind::parse(&kind).ok_or_else(|| DbFailure::corrupt("event kind", &kind))?,
        division_id: row.uuid(2)?,
        interaction: serde_json::from_str(&data)
            .map_err(|_| DbFailure::corrupt("event data", &data))?,
        created_ms: row.int(4)?,
    })
}

/// A wrap-up history entry selected as [`history_columns`].
pub(crate) fn history_entry(row: &impl ResultRow) -> Result<WrapUp, DbFailure> {
    Ok(WrapUp {
        code_id: row.uuid(0)?,
        code_name: row.text(1)?,
        duration_ms: row.int(2)? as u32,
        notes: row.opt_text(3)?,
        applied_at: from_millis(row.int(4)?),
        applied_by: row.uuid(5)?,
        tags: tags(row.opt_text(6)?)?,
        provisional: row.flag(7)?,
        system: row.uuid(0)?.is_nil(),
    })
}

/// A wrap-up's tags as stored: a JSON array, NULL when there are none.
fn tags(stored: Option<String>) -> Result<Vec<String>, DbFailure> {
    match stored {
        Some(text) => serde_json::from_str(&text).map_err(|_| DbFailure::corrupt("tags", &text)),
        None => Ok(Vec::new()),
    }
}

/// Tags as stored (see [`tags`]).
pub(crate) fn stored_tags(tags: &[String]) -> Result<Option<String>, DbFailure> {
    if tags.is_empty() {
        return Ok(None);
    }
    Ok(Some(serde_json::to_string(tags)?))
}

/// The pruning horizon stored under [`PRUNED_THROUGH`] (0: nothing pruned yet).
pub(crate) fn pruned_through(stored: Option<String>) -> Result<i64, DbFailure> {
    match stored {
        Some(v) => v
            .parse()
            .map_err(|_| DbFailure::corrupt(PRUNED_THROUGH, &v)),
        None => Ok(0),
    }
}

/// A client's division grant as stored (JSON text).
pub(crate) fn stored_grant(grant: &DivisionGrant) -> Result<String, DbFailure> {
    Ok(serde_json::to_string(grant)?)
}

/// An event's data as stored: the interaction after the change, as JSON text.
pub(crate) fn event_data(interaction: &Interaction) -> Result<String, DbFailure> {
    Ok(serde_json::to_string(interaction)?)
}

/// The columns a change to an interaction writes back, as stored: times in milliseconds,
/// the wrap-up flattened into its columns.
pub(crate) struct StoredChanges<'a> {
    pub id: Uuid,
    pub state: &'static str,
    pub finalized: bool,
    pub active_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub finalize_due_at: Option<i64>,
    pub finalized_at: Option<i64>,
    pub wrapup_code_id: Option<Uuid>,
    pub wrapup_code_name: Option<&'a str>,
    pub wrapup_duration_ms: Option<i64>,
    pub wrapup_notes: Option<&'a str>,
    pub wrapup_applied_at: Option<i64>,
    pub wrapup_applied_by: Option<Uuid>,
    pub wrapup_tags: Option<String>,
    pub wrapup_provisional: bool,
    pub version: i64,
    pub routing: Option<String>,
    pub acw_due_at: Option<i64>,
}

impl<'a> StoredChanges<'a> {
    pub(crate) fn of(rec: &'a InteractionRecord) -> Result<Self, DbFailure> {
        let i = &rec.interaction;
        let w = i.wrap_up.as_ref();
        Ok(StoredChanges {
            id: i.id,
            state: i.state.as_str(),
            finalized: i.finalized,
            active_at: i.active_at.map(to_millis),
            closed_at: i.closed_at.map(to_millis),
            finalize_due_at: rec.finalize_due_ms,
            finalized_at: i.finalized_at.map(to_millis),
            wrapup_code_id: w.map(|w| w.code_id),
            wrapup_code_name: w.map(|w| w.code_name.as_str()),
            wrapup_duration_ms: w.map(|w| i64::from(w.duration_ms)),
            wrapup_notes: w.and_then(|w| w.notes.as_deref()),
            wrapup_applied_at: w.map(|w| to_millis(w.applied_at)),
            wrapup_applied_by: w.map(|w| w.applied_by),
            wrapup_tags: stored_tags(w.map_or(&[][..], |w| &w.tags))?,
            wrapup_provisional: w.is_some_and(|w| w.provisional),
            version: i.version,
            routing: i.routing.as_ref().map(serde_json::to_string).transpose()?,
            acw_due_at: rec.acw_due_ms,
        })
    }
}
