//! The values the [`Store`](crate::Store) speaks in: records as stored (with what the API
//! objects do not show, such as listing positions and deadlines), listing filters and pages,
//! and what writes answer. The commands of the writes are their operations, in `ops.rs`.

use uuid::Uuid;
use wrapup_types::{
    Channel, DivisionGrant, EventKind, Interaction, InteractionState, ScopeSet, UserState,
    WrapUpCode, WrapupPrompt,
};

/// An interaction as stored, with what the API object does not show.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionRecord {
    pub interaction: Interaction,
    /// Position in listing order (for cursors).
    pub seq: i64,
    /// When a closed interaction is (or was) due to be finalized, in ms since the epoch.
    pub finalize_due_ms: Option<i64>,
    /// When the timeout of its time-boxed after-call work falls due, while it is pending
    /// (`None` once it ended, and for other prompts).
    pub acw_due_ms: Option<i64>,
}

/// How many interactions of a division are in a state (`GET /api/v2/interactions/counts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    pub division_id: Uuid,
    pub state: InteractionState,
    /// Only ever `true` for closed interactions (and completed ones, which were finalized).
    pub finalized: bool,
    pub count: u64,
}

/// A wrap-up code as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeRecord {
    pub code: WrapUpCode,
    pub seq: i64,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// The global sequence number: the event id on the stream.
    pub seq: i64,
    pub kind: EventKind,
    pub division_id: Uuid,
    pub interaction: Interaction,
    pub created_ms: i64,
}

/// The range of the stored event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventBounds {
    /// Every event with a sequence number up to this one has been pruned (0: none).
    pub pruned_through: i64,
    /// The highest sequence number ever assigned (0: no event yet).
    pub latest: i64,
}

/// An OAuth client as stored; the secret only as an argon2 PHC string.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    pub id: Uuid,
    pub name: String,
    pub secret_hash: String,
    pub scopes: ScopeSet,
    pub divisions: DivisionGrant,
    pub created_ms: i64,
}

/// An access token as stored: only its SHA-256 hash.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub hash: [u8; 32],
    pub client_id: Uuid,
    pub scopes: ScopeSet,
    pub expires_ms: i64,
}

/// Filters and order of `GET /api/v2/interactions`.
#[derive(Debug, Clone, Default)]
pub struct InteractionFilter {
    pub state: Option<InteractionState>,
    pub division: Option<Uuid>,
    pub channel: Option<Channel>,
    pub wrapped_up: Option<bool>,
    /// Newest first (`sortOrder=desc`): the page holds the interactions created before
    /// the cursor position, in reverse creation order.
    pub newest_first: bool,
}

/// Filters of `GET /api/v2/routing/wrapupcodes`.
#[derive(Debug, Clone, Default)]
pub struct CodeFilter {
    pub division: Option<Uuid>,
    /// Exact name, ignoring case.
    pub name: Option<String>,
    pub include_archived: bool,
}

/// What a search orders its results by (then by id, so that the order is total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortKey {
    /// The name, ignoring case.
    #[default]
    Name,
    Id,
}

/// A search of divisions or codes, ordered and paged by position (Genesys paging).
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Only these ids (any, when empty).
    pub ids: Vec<Uuid>,
    /// Only names matching this pattern, ignoring case: `*` matches any run of characters;
    /// without `*`, the whole name.
    pub name: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    /// How many matches to skip.
    pub offset: u64,
    /// The most matches to return.
    pub limit: u32,
}

/// A search of wrap-up codes.
#[derive(Debug, Clone, Default)]
pub struct CodeSearch {
    pub search: Search,
    /// Only codes of these divisions (any granted, when empty).
    pub divisions: Vec<Uuid>,
    pub include_archived: bool,
}

/// The page a search found, and how many match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// One page of a listing: entities after the cursor position `after` (in the listing's
/// order), at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<i64>,
    pub limit: u32,
}

/// What a wrap-up that passed every check did to its interaction (the interaction as it
/// now is, either way).
#[derive(Debug, Clone, PartialEq)]
pub enum WrapUpApplied {
    /// The wrap-up was set or replaced.
    Applied(InteractionRecord),
    /// The same wrap-up was already in place; nothing changed.
    Unchanged(InteractionRecord),
}

/// A new interaction.
#[derive(Debug, Clone)]
pub struct NewInteraction {
    pub id: Uuid,
    pub division_id: Uuid,
    pub channel: Channel,
    pub now_ms: i64,
    /// The queue it comes through: its prompt and timeout are taken when it is created.
    pub queue_id: Option<Uuid>,
    /// The agent who answers.
    pub agent_id: Option<Uuid>,
}

impl NewInteraction {
    /// A new interaction without queue or agent.
    pub fn new(id: Uuid, division_id: Uuid, channel: Channel, now_ms: i64) -> NewInteraction {
        NewInteraction {
            id,
            division_id,
            channel,
            now_ms,
            queue_id: None,
            agent_id: None,
        }
    }
}

/// A queue as stored: its settings and its codes.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRecord {
    pub seq: i64,
    pub id: Uuid,
    pub name: String,
    pub division_id: Uuid,
    pub description: Option<String>,
    pub prompt: WrapupPrompt,
    /// The timeout of a time-boxed prompt.
    pub timeout_ms: Option<u32>,
    /// Its wrap-up codes, in the order they were added.
    pub code_ids: Vec<Uuid>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// An agent as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub seq: i64,
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub division_id: Uuid,
    pub state: UserState,
    pub created_ms: i64,
}

/// A search of queues.
#[derive(Debug, Clone, Default)]
pub struct QueueSearch {
    pub search: Search,
    /// Only queues of these divisions (any granted, when empty).
    pub divisions: Vec<Uuid>,
}

/// An interaction as a point read returns it, shared: the record, and its rendering by the
/// API (its JSON body), made at most once per version. On SQLite it may come from the store's
/// cache of hot interactions ([`crate::Store::get_interaction_shared`]).
///
/// The rendering comes first (`repr(C)`): a GET from the cache reads it right after it
/// counts itself in the `Arc`, and so finds it in the cache line of that count.
#[derive(Debug)]
#[repr(C)]
pub struct SharedInteraction {
    /// Exactly the body's bytes: no spare capacity, and no second allocation to count the
    /// body's owners (the `Arc` around this counts them, [`SharedInteraction::body`]).
    rendered: std::sync::OnceLock<Box<[u8]>>,
    pub record: InteractionRecord,
}

impl SharedInteraction {
    pub fn new(record: InteractionRecord) -> SharedInteraction {
        SharedInteraction {
            record,
            rendered: std::sync::OnceLock::new(),
        }
    }

    /// A record just read, shared.
    pub fn shared(record: InteractionRecord) -> std::sync::Arc<SharedInteraction> {
        std::sync::Arc::new(SharedInteraction::new(record))
    }

    /// The record's API rendering (the interaction's JSON body), made by the first caller
    /// and shared by the rest: a GET answered from the read cache costs no serialisation.
    pub fn json(&self) -> &[u8] {
        self.rendered.get_or_init(|| {
            let json =
                serde_json::to_vec(&self.record.interaction).expect("an interaction serializes");
            // The buffer grew by doubling (a body of 550 bytes in 1,024); a copy of what it
            // holds is what the cache keeps (docs/benchmarks.md, eighth session).
            Box::from(json.as_slice())
        })
    }

    /// [`SharedInteraction::json`] as a response body that holds `shared` until it is sent:
    /// the body's bytes are not copied, and counting its owners touches the `Arc` a GET
    /// holds already rather than a counter elsewhere in memory.
    pub fn body(shared: std::sync::Arc<SharedInteraction>) -> bytes::Bytes {
        bytes::Bytes::from_owner(Rendered(shared))
    }
}

/// An interaction's rendering, as the owner of a response body's bytes.
struct Rendered(std::sync::Arc<SharedInteraction>);

impl AsRef<[u8]> for Rendered {
    fn as_ref(&self) -> &[u8] {
        self.0.json()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use uuid::Uuid;
    use wrapup_types::Channel;

    use super::*;

    #[test]
    fn the_body_is_the_rendering_and_holds_the_interaction_until_sent() {
        let new = NewInteraction {
            id: Uuid::new_v4(),
            division_id: Uuid::new_v4(),
            channel: Channel::Voice,
            now_ms: 1_700_000_000_000,
            queue_id: None,
            agent_id: None,
        };
        let shared = SharedInteraction::shared(crate::rules::new_interaction(&new, 1, None));
        let body = SharedInteraction::body(shared.clone());
        assert_eq!(
            &body[..],
            serde_json::to_vec(&shared.record.interaction).unwrap()
        );
        // The rendering is made once: the body's bytes are the ones the interaction keeps.
        assert_eq!(body.as_ptr(), shared.json().as_ptr());
        assert_eq!(Arc::strong_count(&shared), 2);
        let copy = body.clone();
        drop(body);
        assert_eq!(Arc::strong_count(&shared), 2, "a copy still holds it");
        drop(copy);
        assert_eq!(Arc::strong_count(&shared), 1);
    }
}
