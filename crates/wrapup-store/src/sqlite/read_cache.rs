//! The cache of hot interactions: what a point read of an interaction found, kept until a
//! write changes it, so that a GET of a hot interaction costs neither SQLite nor JSON
//! (the entry keeps its rendering, [`SharedInteraction::rendered`]).
//!
//! Exact by construction, for the writes of this process (every write of a SQLite database
//! served by `wrapup serve` goes through its one writer):
//! - the writer notes every interaction a batch writes (`SqliteWriteTx::touched`: the only
//!   statements that write the `interactions` table note their ids), and once the batch
//!   committed and is durable, the syncer (`syncer.rs`) bumps the commit count, then removes
//!   those entries, and only then answers the writes. A write acknowledged to anyone is never
//!   behind a cached entry.
//! - a read loads the commit count before it reads, and its entry goes in only if no batch
//!   was published since (checked under the map's write lock, which the removal also takes).
//!   A read that raced a commit is simply not cached; it never puts back what the syncer
//!   just removed.
//!
//! Writes of other processes (a `wrapup seed` into the live database) are not seen: as for
//! the readers' reused snapshots (`readers.rs`), the server must be the database's only
//! writer of interactions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use uuid::Uuid;

use crate::records::SharedInteraction;

/// The cache is split in this many maps, each behind its own lock, by the last byte of the
/// id (random in the ids wrapup makes): lookups on every worker at once then rarely touch
/// the same lock, whose reader count would otherwise bounce between the cores on each GET.
const SHARDS: usize = 16;

/// One part of the cache: ids hashed with foldhash (seeded per process), not SipHash.
type Shard = HashMap<Uuid, Arc<SharedInteraction>, foldhash::fast::RandomState>;

/// Holds about `capacity` interactions at most (`wrapup serve --read-cache`; about 1 KiB
/// each with their JSON): each shard holds its share, and past it starts over empty, so it
/// holds the interactions read since.
pub(super) struct ReadCache {
    /// Read-locked by lookups (GETs on every worker at once), write-locked by the rest.
    shards: [RwLock<Shard>; SHARDS],
    /// The writer's count of committed batches (shared with the readers).
    commits: Arc<AtomicU64>,
    /// What one shard holds at most.
    shard_capacity: usize,
}

impl ReadCache {
    pub(super) fn new(commits: Arc<AtomicU64>, capacity: usize) -> ReadCache {
        ReadCache {
            shards: std::array::from_fn(|_| RwLock::new(Shard::default())),
            commits,
            shard_capacity: capacity.div_ceil(SHARDS),
        }
    }

    fn shard(&self, id: &Uuid) -> &RwLock<Shard> {
        &self.shards[usize::from(id.as_bytes()[15]) % SHARDS]
    }

    fn entries(&self, id: &Uuid) -> RwLockReadGuard<'_, Shard> {
        self.shard(id).read().unwrap_or_else(|e| e.into_inner())
    }

    fn entries_mut(&self, id: &Uuid) -> RwLockWriteGuard<'_, Shard> {
        self.shard(id).write().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn get(&self, id: Uuid) -> Option<Arc<SharedInteraction>> {
        self.entries(&id).get(&id).cloned()
    }

    /// The commit count to load before a read whose result may be cached.
    pub(super) fn read_begins(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Keeps what a read that began at `read_began` ([`ReadCache::read_begins`]) found,
    /// unless a batch committed since; a full shard starts over.
    pub(super) fn insert(&self, found: Arc<SharedInteraction>, read_began: u64) {
        self.keep(found, read_began, WhenFull::StartOver);
    }

    /// [`ReadCache::insert`] for the warm-up (`warm.rs`): the same check against the
    /// commits, but a full shard is left as it is (the warm-up must not throw away what it
    /// put there) and says so.
    pub(super) fn insert_warm(&self, found: Arc<SharedInteraction>, read_began: u64) -> Inserted {
        self.keep(found, read_began, WhenFull::Skip)
    }

    /// Both inserts: the check against the commits is made under the lock of the id's shard,
    /// which [`ReadCache::invalidate`] takes to remove that id.
    fn keep(
        &self,
        found: Arc<SharedInteraction>,
        read_began: u64,
        when_full: WhenFull,
    ) -> Inserted {
        let id = found.record.interaction.id;
        let mut entries = self.entries_mut(&id);
        if self.commits.load(Ordering::Acquire) != read_began {
            return Inserted::Raced;
        }
        if self.shard_capacity == 0 {
            return Inserted::Full;
        }
        if entries.len() >= self.shard_capacity {
            match when_full {
                WhenFull::StartOver => entries.clear(),
                WhenFull::Skip => return Inserted::Full,
            }
        }
        entries.insert(id, found);
        Inserted::Kept
    }

    /// How many interactions the cache holds at most.
    pub(super) fn capacity(&self) -> usize {
        self.shard_capacity * SHARDS
    }

    /// How many interactions the cache holds now.
    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    /// Forgets the interactions a committed batch wrote; called by the writer after it
    /// bumped the commit count and before it answers the batch's writes.
    pub(super) fn invalidate(&self, written: &[Uuid]) {
        for id in written {
            self.entries_mut(id).remove(id);
        }
    }
}

/// What an insert does with a full shard.
#[derive(Clone, Copy)]
enum WhenFull {
    /// Empties it first (what GETs do: it then holds what was read since).
    StartOver,
    /// Keeps nothing more (the warm-up).
    Skip,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Inserted {
    /// The entry is in the cache.
    Kept,
    /// Its shard is full, or the cache is off: not kept.
    Full,
    /// A batch committed since the read began: not kept, and nothing read with it may be.
    Raced,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::NewInteraction;
    use wrapup_types::Channel;

    fn found(id: Uuid) -> Arc<SharedInteraction> {
        let new = NewInteraction {
            id,
            division_id: Uuid::nil(),
            channel: Channel::Voice,
            now_ms: 0,
            queue_id: None,
            agent_id: None,
        };
        SharedInteraction::shared(crate::rules::new_interaction(&new, 1, None))
    }

    /// An id whose last byte is `shard`: all such ids go to one shard.
    fn in_shard(shard: u8) -> Uuid {
        let mut bytes = *Uuid::new_v4().as_bytes();
        bytes[15] = shard;
        Uuid::from_bytes(bytes)
    }

    #[test]
    fn a_read_that_raced_a_commit_is_not_kept() {
        let commits = Arc::new(AtomicU64::new(7));
        let cache = ReadCache::new(commits.clone(), 10);
        let id = Uuid::new_v4();
        let began = cache.read_begins();
        commits.fetch_add(1, Ordering::AcqRel); // a batch commits during the read
        cache.insert(found(id), began);
        assert!(cache.get(id).is_none());
        // A read begun after it is kept, until a batch writes the interaction.
        cache.insert(found(id), cache.read_begins());
        assert!(cache.get(id).is_some());
        commits.fetch_add(1, Ordering::AcqRel);
        cache.invalidate(&[Uuid::new_v4()]);
        assert!(cache.get(id).is_some(), "a batch that did not write it");
        cache.invalidate(&[id]);
        assert!(cache.get(id).is_none());
    }

    #[test]
    fn a_full_shard_starts_over_and_capacity_zero_keeps_nothing() {
        let commits = Arc::new(AtomicU64::new(0));
        let cache = ReadCache::new(commits.clone(), 2 * SHARDS);
        for _ in 0..2 {
            cache.insert(found(in_shard(0)), 0);
        }
        let other = in_shard(1);
        cache.insert(found(other), 0);
        assert_eq!(cache.len(), 3);
        let last = in_shard(0);
        cache.insert(found(last), 0);
        assert_eq!(
            cache.len(),
            2,
            "the full shard started over; the other kept its own"
        );
        assert!(cache.get(last).is_some());
        assert!(cache.get(other).is_some());
        let off = ReadCache::new(commits, 0);
        off.insert(found(last), 0);
        assert_eq!(off.len(), 0);
    }

    #[test]
    fn the_warm_up_keeps_a_full_shard_and_nothing_read_before_a_commit() {
        let commits = Arc::new(AtomicU64::new(3));
        let cache = ReadCache::new(commits.clone(), 2 * SHARDS);
        assert_eq!(cache.capacity(), 2 * SHARDS);
        let began = cache.read_begins();
        let kept = [in_shard(0), in_shard(0)];
        for id in kept {
            assert_eq!(cache.insert_warm(found(id), began), Inserted::Kept);
        }
        assert_eq!(
            cache.insert_warm(found(in_shard(0)), began),
            Inserted::Full,
            "a full shard is not started over"
        );
        assert!(kept.iter().all(|id| cache.get(*id).is_some()));
        commits.fetch_add(1, Ordering::AcqRel);
        let late = in_shard(1);
        assert_eq!(cache.insert_warm(found(late), began), Inserted::Raced);
        assert!(cache.get(late).is_none());
        assert_eq!(cache.len(), 2);
        let off = ReadCache::new(commits, 0);
        assert_eq!(
            off.insert_warm(found(late), off.read_begins()),
            Inserted::Full
        );
    }
}
