//! Graceful shutdown: the signal the long-lived parts watch, and the requests in flight.
//!
//! When [`Shutdown::begin`] is called (`App::serve` calls it on SIGTERM or SIGINT), every
//! event stream sends what was already committed and ends, so its client reconnects (to
//! this node after a restart, or to another) with `Last-Event-ID` and loses nothing. The
//! requests in flight, which `middleware::observe` registers here, are given a bounded time
//! to finish; those still running then are what the server reports as cut short
//! (docs/operations.md#shutdown).

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{Method, Uri};
use tokio::sync::watch;

use crate::sharded::{self, Padded, SHARDS};

/// One thread's part of the registry (`sharded`: each HTTP worker registers its requests in
/// its own, so no lock or count is shared between them): its requests by number (foldhash,
/// not SipHash), and the next number.
#[derive(Debug, Default)]
struct Registry {
    requests: HashMap<u64, Arc<InFlight>, foldhash::fast::RandomState>,
    next_id: u64,
}

/// A part of the registry, shared with the guards of its requests (a guard holds its own
/// part rather than the whole [`Shutdown`], whose count every worker would write).
type Part = Arc<Padded<Mutex<Registry>>>;

/// The shutdown switch and the registry of requests in flight (one per server).
#[derive(Debug)]
pub struct Shutdown {
    begun: watch::Sender<bool>,
    in_flight: [Part; SHARDS],
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            begun: watch::channel(false).0,
            in_flight: Default::default(),
        }
    }
}

fn lock(part: &Part) -> MutexGuard<'_, Registry> {
    part.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// A request being handled.
#[derive(Debug)]
pub struct InFlight {
    pub method: Method,
    /// Its URI as received (a clone shares the request's bytes: nothing is copied).
    pub uri: Uri,
    /// Its `X-Request-Id` (the `contextId` of its error body).
    pub request_id: String,
    pub started: Instant,
}

impl InFlight {
    /// Its path.
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// How long it has been running.
    pub fn running_for(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Keeps a request in the registry until it is answered (dropped); the request's facts
/// are read through it.
pub struct InFlightGuard {
    part: Part,
    id: u64,
    request: Arc<InFlight>,
}

impl Deref for InFlightGuard {
    type Target = InFlight;
    fn deref(&self) -> &InFlight {
        &self.request
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        lock(&self.part).requests.remove(&self.id);
    }
}

impl Shutdown {
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

    /// Registers a request, in this thread's part of the registry, until the guard is
    /// dropped.
    pub fn track(&self, request: InFlight) -> InFlightGuard {
        let part = &self.in_flight[sharded::this_thread()];
        let request = Arc::new(request);
        let mut registry = lock(part);
        let id = registry.next_id;
        registry.next_id += 1;
        registry.requests.insert(id, request.clone());
        drop(registry);
        InFlightGuard {
            part: part.clone(),
            id,
            request,
        }
    }

    /// How many requests are in flight now.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight
            .iter()
            .map(|part| lock(part).requests.len())
            .sum()
    }

    /// The requests in flight now, longest-running first.
    pub fn in_flight(&self) -> Vec<Arc<InFlight>> {
        let mut all: Vec<Arc<InFlight>> = self
            .in_flight
            .iter()
            .flat_map(|part| lock(part).requests.values().cloned().collect::<Vec<_>>())
            .collect();
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
        let request = |method, path: &'static str, id: &str| InFlight {
            method,
            uri: Uri::from_static(path),
            request_id: id.into(),
            started: Instant::now(),
        };
        let first = shutdown.track(request(Method::PUT, "/a", "r1"));
        let second = shutdown.track(request(Method::GET, "/b", "r2"));
        assert_eq!(second.request_id, "r2");
        let paths: Vec<String> = shutdown
            .in_flight()
            .iter()
            .map(|r| r.path().to_string())
            .collect();
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
