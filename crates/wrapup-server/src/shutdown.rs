//! Graceful shutdown: the signal the long-lived parts watch, and the requests in flight.
//!
//! When [`Shutdown::begin`] is called (`App::serve` calls it on SIGTERM or SIGINT), every
//! event stream sends what was already committed and ends, so its client reconnects (to
//! this node after a restart, or to another) with `Last-Event-ID` and loses nothing. The
//! requests in flight, which `middleware::observe` registers here, are given a bounded time
//! to finish; those still running then are what the server reports as cut short
//! (docs/operations.md#shutdown).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// The shutdown switch and the registry of requests in flight (one per server).
#[derive(Debug)]
pub struct Shutdown {
    begun: watch::Sender<bool>,
    in_flight: Mutex<HashMap<u64, InFlight>>,
    next_id: AtomicU64,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            begun: watch::channel(false).0,
            in_flight: Mutex::default(),
            next_id: AtomicU64::new(0),
        }
    }
}

/// A request being handled.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub method: String,
    pub path: String,
    /// Its `X-Request-Id` (the `contextId` of its error body).
    pub request_id: String,
    pub started: Instant,
}

impl InFlight {
    /// How long it has been running.
    pub fn running_for(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Keeps a request in the registry until it is answered (dropped).
pub struct InFlightGuard {
    shutdown: Arc<Shutdown>,
    id: u64,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.shutdown.registry().remove(&self.id);
    }
}

impl Shutdown {
    fn registry(&self) -> std::sync::MutexGuard<'_, HashMap<u64, InFlight>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the shutdown (idempotent): event streams end once they have sent what was
    /// committed.
    pub fn begin(&self) {
        self.begun.send_replace(true);
    }

    pub fn has_begun(&self) -> bool {
        *self.begun.borrow()
    }

    /// Returns once the shutdown has begun.
    pub async fn begun(&self) {
        let mut rx = self.begun.subscribe();
        let _ = rx.wait_for(|begun| *begun).await;
    }

    /// A receiver that sees the switch (for a stream to select on).
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.begun.subscribe()
    }

    /// Registers a request until the guard is dropped.
    pub fn track(self: &Arc<Self>, method: &str, path: &str, request_id: &str) -> InFlightGuard {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.registry().insert(
            id,
            InFlight {
                method: method.to_string(),
                path: path.to_string(),
                request_id: request_id.to_string(),
                started: Instant::now(),
            },
        );
        InFlightGuard {
            shutdown: self.clone(),
            id,
        }
    }

    /// How many requests are in flight now.
    pub fn in_flight_count(&self) -> usize {
        self.registry().len()
    }

    /// The requests in flight now, longest-running first.
    pub fn in_flight(&self) -> Vec<InFlight> {
        let mut all: Vec<InFlight> = self.registry().values().cloned().collect();
        all.sort_by_key(|r| r.started);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_are_tracked_until_answered_and_the_switch_is_seen() {
        let shutdown = Arc::new(Shutdown::default());
        let first = shutdown.track("PUT", "/a", "r1");
        let second = shutdown.track("GET", "/b", "r2");
        let paths: Vec<String> = shutdown.in_flight().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/a", "/b"]);
        drop(first);
        assert_eq!(shutdown.in_flight().len(), 1);
        drop(second);
        assert!(shutdown.in_flight().is_empty());

        let mut watch = shutdown.watch();
        assert!(!shutdown.has_begun());
        shutdown.begin();
        shutdown.begun().await;
        assert!(*watch.borrow_and_update());
        shutdown.begin();
        assert!(shutdown.has_begun());
    }
}
