//! Two `wrapup serve` processes on one PostgreSQL database behave as one service: a change
//! made on one node is read on the other and reaches the other's event stream at once,
//! finalization happens once, and killing a node with SIGKILL loses no acknowledged change.
//!
//! Needs `WRAPUP_TEST_POSTGRES_URL` (CI sets it); skipped otherwise.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common;

use crate::common::Server;

use uuid::Uuid;
use wrapup_client::{Client, EventQuery, StreamEvent};
use wrapup_store::testing::TestDb;
use wrapup_types::{Channel, CreateWrapUpCode, EventKind, TargetState, WrapUpRequest};

/// A `wrapup serve` process on the shared database.
struct Node {
    server: Server,
}

impl Node {
    fn start(db: &TestDb, settle_ms: u32) -> Node {
        let settle = settle_ms.to_string();
        Node {
            server: Server::start(&db.url, &["--settle-ms", &settle]),
        }
    }

    fn client(&self, creds: &(Uuid, String)) -> Client {
        common::api_client(&self.server.url, creds)
    }

    /// SIGKILL.
    fn kill(&mut self) {
        self.server.kill();
    }
}

/// The next interaction event of `stream` (at most 10 s).
async fn next(stream: &mut wrapup_client::EventStream) -> (i64, EventKind, Uuid) {
    let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
        .expect("a valid event");
    match event {
        StreamEvent::Interaction {
            id,
            kind,
            interaction,
        } => (id, kind, interaction.id),
        StreamEvent::Reset(r) => panic!("unexpected reset {r:?}"),
    }
}

async fn setup(a: &Client) -> (Uuid, Uuid) {
    let division = a.create_division("Sales").await.unwrap().id;
    let code = a
        .create_code(&CreateWrapUpCode {
            name: "Sale".into(),
            division_id: division,
            description: None,
        })
        .await
        .unwrap()
        .id;
    (division, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_behave_as_one_service() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    // The schema is migrated by whoever comes first; `migrate` then finds it up to date.
    let migrate = std::process::Command::new(common::BIN)
        .args(["migrate", "--db", &db.url])
        .output()
        .unwrap();
    assert!(migrate.status.success());
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("up to date"));
    let creds = common::create_client(&db.url);
    let (node_a, node_b) = (Node::start(&db, 300), Node::start(&db, 300));
    let (a, b) = (node_a.client(&creds), node_b.client(&creds));
    let (division, code) = setup(&a).await;

    // Created on A, read on B.
    let created = a
        .create_interaction(division, Channel::Voice)
        .await
        .unwrap();
    assert_eq!(b.get_interaction(created.id).await.unwrap(), created);

    // A subscriber on B sees changes made on A within 100 ms.
    let mut on_b = b.events(&EventQuery::default()).await.unwrap();
    let mut delays = Vec::new();
    for _ in 0..10 {
        let id = a
            .create_interaction(division, Channel::Chat)
            .await
            .unwrap()
            .id;
        assert_eq!(next(&mut on_b).await.1, EventKind::Created);
        let sent = Instant::now();
        a.set_state(id, TargetState::Active).await.unwrap();
        let (_, kind, seen) = next(&mut on_b).await;
        delays.push(sent.elapsed());
        assert_eq!((kind, seen), (EventKind::State, id));
    }
    eprintln!("change on A -> event on B: {delays:?}");
    assert!(
        delays.iter().all(|d| *d < Duration::from_millis(100)),
        "every change reached B's stream within 100 ms: {delays:?}"
    );

    // Both nodes run the finalization timer; each interaction is finalized once, and both
    // streams carry that one event.
    let mut on_a = a.events(&EventQuery::default()).await.unwrap();
    let mut closed = Vec::new();
    for n in 0..20 {
        let node = if n % 2 == 0 { &a } else { &b };
        let id = node
            .create_interaction(division, Channel::Email)
            .await
            .unwrap()
            .id;
        node.set_state(id, TargetState::Closed).await.unwrap();
        closed.push(id);
    }
    let store = wrapup_store::open(&db.url).await.unwrap();
    for (name, stream) in [("A", &mut on_a), ("B", &mut on_b)] {
        let mut finalized: HashMap<Uuid, usize> = HashMap::new();
        let mut last = 0;
        while finalized.len() < closed.len() {
            let (seq, kind, id) = next(stream).await;
            assert!(seq > last, "{name}: event ids increase");
            last = seq;
            if kind == EventKind::Finalized {
                *finalized.entry(id).or_default() += 1;
            }
        }
        assert!(
            closed.iter().all(|id| finalized.get(id) == Some(&1)),
            "{name} saw each finalization once: {finalized:?}"
        );
    }
    // Concurrent wrap-ups of one interaction through both nodes serialise: each is applied
    // on top of the one before, and versions never repeat.
    let target = closed[0];
    let (a, b) = (Arc::new(a), Arc::new(b));
    let writes = (1..=40u32).map(|ms| {
        let node = if ms % 2 == 0 { a.clone() } else { b.clone() };
        async move {
            let body = WrapUpRequest {
                code_id: code,
                duration_ms: ms,
                notes: None,
            };
            node.put_wrapup(target, &body).await.unwrap();
        }
    });
    futures::future::join_all(writes).await;
    let history = b.wrapup_history(target).await.unwrap();
    assert_eq!(history.len(), 40, "every wrap-up applied once");
    let now = a.get_interaction(target).await.unwrap();
    assert_eq!(
        now.wrap_up.map(|w| w.duration_ms),
        history.last().map(|w| w.duration_ms),
        "the wrap-up in place is the last one applied"
    );

    let log = store.events_after(0, 10_000).await.unwrap();
    let versions: Vec<i64> = log
        .iter()
        .filter(|e| e.kind == EventKind::WrapUp && e.interaction.id == target)
        .map(|e| e.interaction.version)
        .collect();
    assert!(
        versions.windows(2).all(|w| w[1] == w[0] + 1),
        "{versions:?}"
    );
    for id in &closed {
        let n = log
            .iter()
            .filter(|e| e.kind == EventKind::Finalized && e.interaction.id == *id)
            .count();
        assert_eq!(n, 1, "one finalized event for {id} in the log");
    }
    assert!(
        log.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "no hole in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_write_loses_no_acknowledged_change() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let creds = common::create_client(&db.url);
    let (mut node_a, node_b) = (Node::start(&db, 0), Node::start(&db, 0));
    let (a, b) = (Arc::new(node_a.client(&creds)), node_b.client(&creds));
    let (division, code) = setup(&b).await;
    let mut ids = Vec::new();
    for _ in 0..400 {
        let id = b
            .create_interaction(division, Channel::Chat)
            .await
            .unwrap()
            .id;
        b.set_state(id, TargetState::Closed).await.unwrap(); // finalized at once
        ids.push(id);
    }

    // Eight writers apply wrap-ups through A; A is killed while they are busy.
    let acknowledged: Arc<Mutex<Vec<(Uuid, u32)>>> = Arc::default();
    // Each acknowledged write adds a permit.
    let progress = Arc::new(tokio::sync::Semaphore::new(0));
    let next_row = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (a, ids, acked, next_row, progress) = (
                a.clone(),
                ids.clone(),
                acknowledged.clone(),
                next_row.clone(),
                progress.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let n = next_row.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(id) = ids.get(n) else { return };
                    let duration_ms = 1_000 + n as u32;
                    let body = WrapUpRequest {
                        code_id: code,
                        duration_ms,
                        notes: None,
                    };
                    match a.put_wrapup(*id, &body).await {
                        Ok(()) => {
                            acked.lock().unwrap().push((*id, duration_ms));
                            progress.add_permits(1);
                        }
                        Err(_) => return, // the node is gone
                    }
                }
            })
        })
        .collect();
    tokio::time::timeout(Duration::from_secs(60), progress.acquire_many(100))
        .await
        .expect("the writers make progress: 100 acknowledged within 60 s")
        .unwrap()
        .forget();
    node_a.kill();
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() < ids.len(), "A died mid-way");

    // B has every acknowledged wrap-up, exactly once.
    for (id, duration_ms) in &acknowledged {
        let i = b.get_interaction(*id).await.unwrap();
        assert_eq!(
            i.wrap_up.map(|w| w.duration_ms),
            Some(*duration_ms),
            "acknowledged wrap-up of {id}"
        );
        assert_eq!(b.wrapup_history(*id).await.unwrap().len(), 1);
    }
    // B serves the rest: the writes A left unacknowledged either took effect or not, and
    // applying them again through B is safe.
    for (n, id) in ids.iter().enumerate() {
        let body = WrapUpRequest {
            code_id: code,
            duration_ms: 1_000 + n as u32,
            notes: None,
        };
        b.put_wrapup(*id, &body).await.unwrap();
        assert_eq!(b.wrapup_history(*id).await.unwrap().len(), 1, "{id}");
    }
}

/// Deadlines of a node that died are kept by the others: B finalizes what A closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_surviving_node_finalizes_what_a_dead_node_closed() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let creds = common::create_client(&db.url);
    let (mut node_a, node_b) = (Node::start(&db, 1_000), Node::start(&db, 1_000));
    let (a, b) = (node_a.client(&creds), node_b.client(&creds));
    let (division, _) = setup(&a).await;
    let mut on_b = b.events(&EventQuery::default()).await.unwrap();
    let mut closed = Vec::new();
    for _ in 0..5 {
        let id = a
            .create_interaction(division, Channel::Voice)
            .await
            .unwrap()
            .id;
        a.set_state(id, TargetState::Closed).await.unwrap();
        closed.push(id);
    }
    node_a.kill();
    let mut finalized = Vec::new();
    while finalized.len() < closed.len() {
        let (_, kind, id) = next(&mut on_b).await;
        if kind == EventKind::Finalized {
            finalized.push(id);
        }
    }
    finalized.sort();
    closed.sort();
    assert_eq!(finalized, closed);
    for id in &closed {
        assert!(b.get_interaction(*id).await.unwrap().finalized);
    }
}
