//! This node's dispatch: an index of topic → sockets, and the task that follows the
//! committed events in order and hands each socket the messages of its topics.
//!
//! Each message is rendered once per topic, whatever the number of sockets subscribed to it,
//! and put on each socket's bounded queue without waiting: a socket whose queue is full is
//! closed (its client reconnects and gets what it missed from the log), so a slow reader
//! neither grows memory nor slows the others. The division check is the socket's, at
//! delivery, against its client's current grant.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, Notify};
use uuid::Uuid;
use wrapup_domain::genesys::notifications::{event_body, topics_of, Topic};
use wrapup_store::{EventRecord, Store};

/// Events read from the log per query while catching up.
const LOG_PAGE: u32 = 500;

/// One message for a socket: an event of one of its topics.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event's sequence number in the log.
    pub seq: i64,
    /// The interaction's division (checked by the socket against its client's grant).
    pub division: Uuid,
    pub frame: Utf8Bytes,
}

/// Renders the message of `topic` for an event.
pub fn render(topic: &Topic, event: &EventRecord) -> Utf8Bytes {
    json!({
        "topicName": topic.name(),
        "version": "2",
        "eventBody": event_body(topic, &event.interaction, event.created_ms),
        "metadata": {"CorrelationId": Uuid::new_v4(), "sequence": event.seq},
    })
    .to_string()
    .into()
}

/// The messages of the topics in `subscribed` an event produces, in order.
pub fn deliveries(event: &EventRecord, subscribed: &HashSet<String>) -> Vec<Delivery> {
    topics_of(event.kind, &event.interaction)
        .iter()
        .filter(|t| subscribed.contains(&t.name()))
        .map(|t| Delivery {
            seq: event.seq,
            division: event.division_id,
            frame: render(t, event),
        })
        .collect()
}

/// A socket as the hub knows it.
struct Entry {
    channel: String,
    topics: HashSet<String>,
    queue: mpsc::Sender<Delivery>,
    /// Told when the hub drops the socket (its queue was full, or another socket took its
    /// channel).
    kick: Arc<Notify>,
    /// The last event the socket handled (see [`Registration::position`]).
    position: Arc<AtomicI64>,
}

#[derive(Default)]
struct Index {
    sockets: HashMap<u64, Entry>,
    by_topic: HashMap<String, HashSet<u64>>,
    by_channel: HashMap<String, u64>,
}

impl Index {
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.sockets.remove(&id)?;
        for topic in &entry.topics {
            if let Some(set) = self.by_topic.get_mut(topic) {
                set.remove(&id);
                if set.is_empty() {
                    self.by_topic.remove(topic);
                }
            }
        }
        if self.by_channel.get(&entry.channel) == Some(&id) {
            self.by_channel.remove(&entry.channel);
        }
        Some(entry)
    }
}

/// The sockets of this node, by topic.
#[derive(Default)]
pub struct Hub {
    index: Mutex<Index>,
    next_id: AtomicU64,
    /// The last sequence number the dispatcher handled.
    processed: AtomicI64,
}

/// A socket's registration; the socket leaves the index when it is dropped.
pub struct Registration {
    hub: Arc<Hub>,
    pub id: u64,
    pub queue: mpsc::Receiver<Delivery>,
    pub kick: Arc<Notify>,
    /// Where the socket is in the log: the last event it handled. The socket keeps it up to
    /// date; a socket that replaces it on its channel starts after it.
    pub position: Arc<AtomicI64>,
    /// The position of the socket of the channel this one replaced, if any.
    pub replaced: Option<i64>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.lock().remove(self.id);
    }
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The last sequence number dispatched: every event up to it that a socket's topics
    /// produce is on its queue (or was written).
    pub fn processed(&self) -> i64 {
        self.processed.load(Ordering::Acquire)
    }

    /// Returns once event `seq` is dispatched: every message of it queued. For a socket that
    /// has received one of its messages: the dispatch is then under way on another thread
    /// (queuing the messages of another topic, or to another socket) and ends soon. The
    /// wait yields, so the thread's other connections go on meanwhile.
    pub async fn dispatched(&self, seq: i64) {
        while self.processed() < seq {
            tokio::task::yield_now().await;
        }
    }

    /// Registers a socket of `channel` with `topics` and a queue of `capacity` messages. A
    /// socket of the same channel already here is kicked (one socket per channel: the new
    /// one replaces it).
    pub fn register(
        self: &Arc<Self>,
        channel: &str,
        topics: &[String],
        capacity: usize,
    ) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let kick = Arc::new(Notify::new());
        let position = Arc::new(AtomicI64::new(-1));
        let mut index = self.lock();
        let mut replaced = None;
        if let Some(old) = index.by_channel.get(channel).copied() {
            if let Some(entry) = index.remove(old) {
                entry.kick.notify_one();
                replaced = Some(entry.position.load(Ordering::Acquire)).filter(|p| *p >= 0);
            }
        }
        for topic in topics {
            index.by_topic.entry(topic.clone()).or_default().insert(id);
        }
        index.by_channel.insert(channel.to_string(), id);
        index.sockets.insert(
            id,
            Entry {
                channel: channel.to_string(),
                topics: topics.iter().cloned().collect(),
                queue: tx,
                kick: kick.clone(),
                position: position.clone(),
            },
        );
        Registration {
            hub: self.clone(),
            id,
            queue: rx,
            kick,
            position,
            replaced,
        }
    }

    /// The channel's topics are now `topics` (a subscription changed): the index of its
    /// socket on this node, if it has one, follows.
    pub fn set_topics(&self, channel: &str, topics: &[String]) {
        let mut index = self.lock();
        let Some(id) = index.by_channel.get(channel).copied() else {
            return;
        };
        let new: HashSet<String> = topics.iter().cloned().collect();
        let old = match index.sockets.get_mut(&id) {
            Some(entry) => std::mem::replace(&mut entry.topics, new.clone()),
            None => return,
        };
        for topic in old.difference(&new) {
            if let Some(set) = index.by_topic.get_mut(topic) {
                set.remove(&id);
                if set.is_empty() {
                    index.by_topic.remove(topic);
                }
            }
        }
        for topic in new.difference(&old) {
            index.by_topic.entry(topic.clone()).or_default().insert(id);
        }
    }

    /// Closes the channel's socket on this node, if it has one.
    pub fn kick_channel(&self, channel: &str) {
        let mut index = self.lock();
        if let Some(id) = index.by_channel.get(channel).copied() {
            if let Some(entry) = index.remove(id) {
                entry.kick.notify_one();
            }
        }
    }

    /// The socket of `channel` on this node, if it has one.
    pub fn socket_of(&self, channel: &str) -> Option<u64> {
        self.lock().by_channel.get(channel).copied()
    }

    /// How many sockets are registered.
    pub fn sockets(&self) -> usize {
        self.lock().sockets.len()
    }

    /// Hands an event's messages to the sockets of its topics.
    fn dispatch(&self, event: &EventRecord) {
        // No socket subscribed to anything (the usual case): nothing to render, as if every
        // topic were looked up and none found.
        if self.lock().by_topic.is_empty() {
            self.processed.store(event.seq, Ordering::Release);
            return;
        }
        let topics = topics_of(event.kind, &event.interaction);
        let mut index = self.lock();
        let mut full = Vec::new();
        for topic in &topics {
            let Some(ids) = index.by_topic.get(&topic.name()) else {
                continue;
            };
            let delivery = Delivery {
                seq: event.seq,
                division: event.division_id,
                frame: render(topic, event),
            };
            for id in ids {
                if let Some(entry) = index.sockets.get(id) {
                    if entry.queue.try_send(delivery.clone()).is_err() {
                        full.push(*id);
                    }
                }
            }
        }
        for id in full {
            if let Some(entry) = index.remove(id) {
                tracing::info!(channel = %entry.channel, "notification socket too slow: closing it");
                entry.kick.notify_one();
            }
        }
        drop(index);
        self.processed.store(event.seq, Ordering::Release);
    }

    /// Follows the committed events in order, from the latest at its start, until aborted:
    /// the broadcast, and the log when the broadcast skipped (lag, or a gap).
    pub async fn run(self: Arc<Self>, store: Arc<dyn Store>) {
        let mut live = store.subscribe();
        let mut last = loop {
            match store.event_bounds().await {
                Ok(bounds) => break bounds.latest,
                Err(e) => {
                    tracing::warn!(error = %e, "notifications: reading the event log failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        };
        self.processed.store(last, Ordering::Release);
        let mut catching_up = true;
        loop {
            if catching_up {
                match store.events_after(last, LOG_PAGE).await {
                    Ok(page) if page.is_empty() => catching_up = false,
                    Ok(page) => {
                        for event in page {
                            self.dispatch(&event);
                            last = event.seq;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "notifications: reading the event log failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
                continue;
            }
            match live.recv().await {
                Ok(event) if event.seq <= last => {}
                Ok(event) if event.seq > last + 1 => catching_up = true,
                Ok(event) => {
                    self.dispatch(&event);
                    last = event.seq;
                }
                Err(RecvError::Lagged(_)) => catching_up = true,
                Err(RecvError::Closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use wrapup_types::timestamp::from_millis;
    use wrapup_types::{Channel, EventKind, Interaction, InteractionState};

    use super::*;

    fn closed(seq: i64) -> EventRecord {
        EventRecord {
            seq,
            kind: EventKind::State,
            division_id: Uuid::nil(),
            interaction: Interaction {
                id: Uuid::from_u128(7),
                division_id: Uuid::nil(),
                channel: Channel::Voice,
                state: InteractionState::Closed,
                finalized: false,
                created_at: from_millis(1_000),
                active_at: Some(from_millis(2_000)),
                closed_at: Some(from_millis(3_000)),
                finalizes_at: None,
                finalized_at: None,
                wrap_up: None,
                routing: None,
                version: 3,
            },
            created_ms: 3_000,
        }
    }

    const ACW: &str = "v2.detail.events.conversation.00000000-0000-0000-0000-000000000007.acw";

    #[tokio::test]
    async fn sockets_get_their_topics_and_a_full_queue_is_dropped() {
        let hub = Arc::new(Hub::default());
        let mut fast = hub.register("a", &[ACW.to_string()], 8);
        let mut slow = hub.register("b", &[ACW.to_string()], 1);
        let mut other = hub.register("c", &["v2.users.x.conversations".to_string()], 8);
        hub.dispatch(&closed(1));
        hub.dispatch(&closed(2));
        assert_eq!(hub.processed(), 2);
        let got = fast.queue.recv().await.unwrap();
        assert_eq!(got.seq, 1);
        assert!(got.frame.as_str().contains("\"sequence\":1"));
        assert_eq!(fast.queue.recv().await.unwrap().seq, 2);
        // The slow socket held one message; the second dropped it from the index.
        assert_eq!(slow.queue.recv().await.unwrap().seq, 1);
        slow.kick.notified().await;
        assert_eq!(hub.sockets(), 2);
        assert!(other.queue.try_recv().is_err());
        // Subscribing the other socket (a REST change) makes it receive.
        hub.set_topics("c", &[ACW.to_string()]);
        hub.dispatch(&closed(3));
        assert_eq!(other.queue.recv().await.unwrap().seq, 3);
        // A second socket of a channel replaces the first, and starts where it was.
        fast.position.store(2, Ordering::Release);
        let again = hub.register("a", &[], 8);
        fast.kick.notified().await;
        assert_eq!(again.replaced, Some(2));
        drop(other);
        assert_eq!(hub.sockets(), 1);
    }
}
