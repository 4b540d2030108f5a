//! Durability off the writer's thread: group commit with pipelining.
//!
//! The writer's connection commits with `synchronous=NORMAL`: `COMMIT` writes the batch's
//! frames to the WAL and returns without waiting for the disk. The batch then comes here,
//! to the syncer's thread, which makes the WAL durable (`fdatasync`), and only then makes
//! the batch known (the commit count readers watch, the read cache, the events) and answers
//! its writes. Meanwhile the writer already runs the next batch: the fsync of one batch and
//! the work of the next overlap, where with `synchronous=FULL` the writer waited for each
//! fsync before taking the next batch.
//!
//! Invariants:
//! - A write is answered only once the WAL holding its commit is on disk, exactly as with
//!   `synchronous=FULL`. One fsync covers every batch committed before it began: the syncer
//!   takes every batch waiting, syncs once, then answers them all, in commit order.
//! - Nothing is published before it is durable: the commit count readers renew their
//!   snapshots by (`readers.rs`), the read cache (`read_cache.rs`) and event subscribers
//!   move only once its fsync returned, and before its writes are answered. SQLite itself
//!   shows a commit at once: the writer's own next batches, and a reader that takes a new
//!   snapshot in between (another process, or one of ours whose idle snapshot was ended),
//!   may read it earlier. If a crash of the machine loses a commit, it loses every later one
//!   with it (the WAL is replayed in order, up to the first frame missing), and none of them
//!   was answered.
//! - A failed fsync is not retried (after one, Linux may have dropped the pages it could
//!   not write, and a second fsync would report success): the writes waiting are answered
//!   [`StoreError::NotDurable`], and every later write of this store is refused. Restarting
//!   the server recovers what is on disk.
//! - At most [`IN_FLIGHT`] batches wait here; a writer that gets that far ahead waits.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use tokio::sync::broadcast;
use uuid::Uuid;

use super::read_cache::ReadCache;
use crate::error::StoreError;
use crate::records::EventRecord;
use crate::writer::{fail_all, Job};

/// The most committed batches waiting for their fsync before the writer waits too.
const IN_FLIGHT: usize = 8;

/// A batch committed to the WAL but not yet durable: what it tells once it is, and the
/// writes it answers.
pub(super) struct Committed {
    pub(super) events: Vec<EventRecord>,
    pub(super) touched: Vec<Uuid>,
    pub(super) jobs: Vec<Box<dyn Job>>,
}

/// What the syncer tells a batch to, once it is durable.
pub(super) struct Publish {
    pub(super) events: broadcast::Sender<Arc<EventRecord>>,
    /// Bumped once per batch: readers then take a new snapshot.
    pub(super) commits: Arc<AtomicU64>,
    pub(super) cache: Arc<ReadCache>,
    /// Woken once per fsync that made batches durable: the checkpointer
    /// (`checkpoint.rs`) follows the commits.
    pub(super) committed: Arc<tokio::sync::Notify>,
    /// For tests: a [`SyncHold`] to stop at, an fsync failure to pretend.
    #[cfg(feature = "testing")]
    pub(super) hooks: Arc<TestHooks>,
}

/// For tests (feature `testing`): what the syncer looks for before each fsync.
#[cfg(feature = "testing")]
#[derive(Default)]
pub(super) struct TestHooks {
    /// A [`SyncHold`] to stop at.
    hold: std::sync::Mutex<Option<(tokio::sync::oneshot::Sender<()>, Receiver<()>)>>,
    /// The next fsync fails (without being made).
    fail_next: AtomicBool,
}

/// For tests (feature `testing`): the syncer stops before its next fsync while this is
/// alive (the batches it holds are committed, not yet durable, published or answered);
/// dropping it lets the syncer go on.
#[cfg(feature = "testing")]
pub struct SyncHold {
    reached: tokio::sync::oneshot::Receiver<()>,
    _release: std::sync::mpsc::Sender<()>,
}

#[cfg(feature = "testing")]
impl SyncHold {
    /// Waits until the syncer has stopped here, holding at least one committed batch.
    pub async fn reached(&mut self) {
        let _ = (&mut self.reached).await;
    }
}

#[cfg(feature = "testing")]
impl TestHooks {
    /// Installs a hold.
    pub(super) fn hold(&self) -> SyncHold {
        let (reached_tx, reached) = tokio::sync::oneshot::channel();
        let (release, released) = std::sync::mpsc::channel();
        *self.hold.lock().unwrap_or_else(|e| e.into_inner()) = Some((reached_tx, released));
        SyncHold {
            reached,
            _release: release,
        }
    }

    /// Makes the next fsync fail, as on a failing disk.
    pub(super) fn fail_next_sync(&self) {
        self.fail_next.store(true, Ordering::Release);
    }

    /// Before an fsync: stops at a hold if one is installed (until it is dropped), then
    /// says whether to pretend the fsync failed.
    fn before_sync(&self) -> bool {
        let held = self.hold.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((reached, released)) = held {
            let _ = reached.send(());
            let _ = released.recv();
        }
        self.fail_next.swap(false, Ordering::AcqRel)
    }
}

/// The writer's end: hands committed batches to the syncer's thread.
pub(super) struct Syncer {
    batches: SyncSender<Committed>,
    /// Set by the syncer when an fsync failed: the store takes no more writes.
    failed: Arc<AtomicBool>,
}

impl Syncer {
    /// Starts the syncer's thread for the database at `db`, whose WAL (`db` + `-wal`) the
    /// writer's connection has opened (it keeps it while the store is open).
    pub(super) fn start(db: &Path, publish: Publish) -> std::io::Result<Syncer> {
        let (batches, waiting) = sync_channel(IN_FLIGHT);
        let failed = Arc::new(AtomicBool::new(false));
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let wal = Wal::open(PathBuf::from(wal))?;
        let failing = failed.clone();
        std::thread::Builder::new()
            .name("wrapup-sqlite-sync".into())
            .spawn(move || run(waiting, wal, &publish, &failing))?;
        Ok(Syncer { batches, failed })
    }

    /// Whether an fsync failed: the store must refuse writes.
    pub(super) fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Hands over a batch the writer committed; waits while [`IN_FLIGHT`] batches wait.
    pub(super) fn hand_over(&self, batch: Committed) {
        if let Err(mut unsent) = self.batches.send(batch) {
            // The syncer's thread is gone (it panicked): nothing can be made durable.
            fail_all(
                &mut unsent.0.jobs,
                StoreError::NotDurable("internal error: the SQLite syncer stopped".into()),
            );
        }
    }
}

/// The WAL's file (fsync works on any descriptor of it).
struct Wal {
    path: PathBuf,
    file: File,
}

impl Wal {
    fn open(path: PathBuf) -> std::io::Result<Wal> {
        let file = File::open(&path)?;
        // The WAL's name must survive a crash too: SQLite syncs its directory once when it
        // creates it with `synchronous=FULL`, not with NORMAL.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(Wal { path, file })
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

fn run(waiting: Receiver<Committed>, mut wal: Wal, publish: &Publish, failed: &AtomicBool) {
    let mut ready = Vec::with_capacity(IN_FLIGHT);
    while let Ok(first) = waiting.recv() {
        ready.push(first);
        ready.extend(waiting.try_iter());
        if failed.load(Ordering::Acquire) {
            let why = "an earlier fsync of the database's WAL failed";
            for mut batch in ready.drain(..) {
                fail_all(&mut batch.jobs, StoreError::NotDurable(why.into()));
            }
            continue;
        }
        #[cfg(feature = "testing")]
        let synced = if publish.hooks.before_sync() {
            Err(std::io::Error::other("an fsync failure injected by a test"))
        } else {
            wal.sync()
        };
        #[cfg(not(feature = "testing"))]
        let synced = wal.sync();
        match synced {
            Ok(()) => {
                for batch in ready.drain(..) {
                    publish.publish(batch);
                }
                publish.committed.notify_one();
            }
            Err(e) => {
                tracing::error!(error = %e, path = %wal.path.display(),
                    "fsync of the SQLite WAL failed; the store refuses writes from now on (restart the server)");
                failed.store(true, Ordering::Release);
                let why = format!("fsync of the database's WAL failed: {e}");
                for mut batch in ready.drain(..) {
                    fail_all(&mut batch.jobs, StoreError::NotDurable(why.clone()));
                }
            }
        }
    }
    // The writer is gone (the store was dropped or closed): the checkpointer's last round.
    publish.committed.notify_one();
}

impl Publish {
    /// Makes a durable batch known, then answers its writes.
    fn publish(&self, batch: Committed) {
        // Before anyone hears of the commit: readers then take new snapshots, and the
        // cache forgets what the batch wrote (read_cache.rs).
        self.commits.fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate(&batch.touched);
        for event in batch.events {
            let _ = self.events.send(Arc::new(event));
        }
        for job in batch.jobs {
            job.send_answer();
        }
    }
}
