//! The Prometheus registry of every metric the server exports (served by
//! `routes::metrics` in the OpenMetrics text format).
//!
//! Requests by route and status and their latency are recorded by the `middleware::observe`
//! layer, refusals by the `middleware::rate_limit` layer; store commits by the store through
//! [`StoreObserver`]; published events by a task that follows the event broadcast; SSE
//! subscribers by the event stream itself; webhook attempts and queue depths by the
//! webhook dispatcher.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::sync::broadcast::error::RecvError;
use wrapup_store::{Store, StoreObserver};

use crate::chaos::FaultLabels;
use crate::sharded::{self, LatencyHistogram, Padded, ShardedCounter, SHARDS};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route template (`/api/v2/interactions/{id}`), or `unmatched`.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    /// `client` (the client id's limit) or `address` (the source address's).
    pub limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventKindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookResultLabels {
    /// `delivered`, `http_error`, `gone`, `timeout`, `connection` or `refused`.
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    /// The endpoint's id.
    pub webhook: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(sharded::latency_bounds())
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    /// Counted per thread (`sharded`), as every request counts itself here.
    pub requests: Family<RequestLabels, ShardedCounter>,
    /// Observed per thread (`sharded`), as every request observes itself here.
    pub request_seconds: Family<RouteLabels, LatencyHistogram>,
    pub commit_seconds: Histogram,
    pub commit_jobs: Histogram,
    pub commit_failures: Counter,
    pub sse_subscribers: Gauge,
    pub events_published: Family<EventKindLabels, Counter>,
    pub rate_limited: Counter,
    pub chaos_injected: Family<FaultLabels, Counter>,
    pub webhook_deliveries: Family<WebhookResultLabels, Counter>,
    pub webhook_delivery_seconds: Histogram,
    pub webhook_queue_depth: Family<WebhookLabels, Gauge>,
    pub token_failures: Counter,
    pub token_limited: Family<LimitLabels, Counter>,
    pub hashing_jobs: Gauge,
    pub hashing_refused: Counter,
    pub requests_in_flight: Gauge,
    /// Set when scraped, from `Store::read_cache_entries`.
    pub read_cache_entries: Gauge,
    /// The request metrics' handles by route, found without allocating labels: a map per
    /// thread (`sharded`), filled by its thread's requests, so the workers share no lock.
    request_handles: [Padded<RwLock<HandlesByRoute>>; SHARDS],
}

type HandlesByRoute = HashMap<String, RouteHandles, foldhash::fast::RandomState>;

/// One route's request counters (by method and status) and latency histograms (by
/// method): clones of the families' own (they share their values), so that recording a
/// request costs a lookup by the route's `&str` instead of four label `String`s and two
/// SipHash lookups in the families (about 5% of a cached GET's instructions).
#[derive(Default)]
struct RouteHandles {
    counters: Vec<(String, u16, ShardedCounter)>,
    histograms: Vec<(String, LatencyHistogram)>,
}

impl RouteHandles {
    fn find(&self, method: &str, status: u16) -> Option<(&ShardedCounter, &LatencyHistogram)> {
        let counter = self
            .counters
            .iter()
            .find(|(m, s, _)| m == method && *s == status)?;
        let histogram = self.histograms.iter().find(|(m, _)| m == method)?;
        Some((&counter.2, &histogram.1))
    }
}

/// The most (route, method, status) handles a thread keeps; past it (methods are the
/// client's to choose) requests are recorded through the families alone.
const MAX_REQUEST_HANDLES: usize = 4_096;

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("wrapup");
        let requests = Family::<RequestLabels, ShardedCounter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let request_seconds = Family::<RouteLabels, LatencyHistogram>::default();
        registry.register(
            "http_request_duration_seconds",
            "Time from receiving a request to sending its response head",
            request_seconds.clone(),
        );
        let commit_seconds = latency_histogram();
        registry.register(
            "store_commit_duration_seconds",
            "Time to run and commit one write batch (group commit)",
            commit_seconds.clone(),
        );
        let commit_jobs = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "store_commit_batch_jobs",
            "Write jobs committed together in one transaction",
            commit_jobs.clone(),
        );
        let commit_failures = Counter::default();
        registry.register(
            "store_commit_failures",
            "Write batches that failed and were rolled back",
            commit_failures.clone(),
        );
        let sse_subscribers = Gauge::default();
        registry.register(
            "sse_subscribers",
            "Clients connected to the event stream",
            sse_subscribers.clone(),
        );
        let events_published = Family::<EventKindLabels, Counter>::default();
        registry.register(
            "events_published",
            "Events committed and published, by kind",
            events_published.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited_requests",
            "Requests refused with 429 request.rate.limited",
            rate_limited.clone(),
        );
        let chaos_injected = Family::<FaultLabels, Counter>::default();
        registry.register(
            "chaos_injected",
            "Faults injected by --chaos, by kind",
            chaos_injected.clone(),
        );
        let webhook_deliveries = Family::<WebhookResultLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by result",
            webhook_deliveries.clone(),
        );
        // 1 ms … ~33 s: a receiver may take up to the 10 s timeout.
        let webhook_delivery_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "webhook_delivery_duration_seconds",
            "Time from sending a webhook to its answer (or failure)",
            webhook_delivery_seconds.clone(),
        );
        let webhook_queue_depth = Family::<WebhookLabels, Gauge>::default();
        registry.register(
            "webhook_queue_depth",
            "Deliveries not yet delivered nor failed, per webhook endpoint",
            webhook_queue_depth.clone(),
        );
        let token_failures = Counter::default();
        registry.register(
            "token_authentication_failures",
            "Token requests refused 401 invalid_client (unknown client or wrong secret)",
            token_failures.clone(),
        );
        let token_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "token_requests_limited",
            "Token requests refused 429 by a failed-authentication limit, by limit (client or address)",
            token_limited.clone(),
        );
        let hashing_jobs = Gauge::default();
        registry.register(
            "secret_hashing_jobs",
            "Secret hashes (argon2) running or queued on the hashing pool",
            hashing_jobs.clone(),
        );
        let hashing_refused = Counter::default();
        registry.register(
            "secret_hashing_refused",
            "Secret hashes refused because the hashing pool's queue was full (503 temporarily_unavailable)",
            hashing_refused.clone(),
        );
        let requests_in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "Requests being handled now (an event stream only until its response begins)",
            requests_in_flight.clone(),
        );
        let read_cache_entries = Gauge::default();
        registry.register(
            "read_cache_entries",
            "Interactions in the read cache (SQLite; 0 on PostgreSQL, which has none)",
            read_cache_entries.clone(),
        );
        Metrics {
            registry,
            requests_in_flight,
            read_cache_entries,
            token_failures,
            token_limited,
            hashing_jobs,
            hashing_refused,
            chaos_injected,
            webhook_deliveries,
            webhook_delivery_seconds,
            webhook_queue_depth,
            requests,
            request_seconds,
            commit_seconds,
            commit_jobs,
            commit_failures,
            sse_subscribers,
            events_published,
            rate_limited,
            request_handles: Default::default(),
        }
    }
}

impl Metrics {
    /// The metrics in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    /// A webhook delivery attempt ended with `result` after `latency`.
    pub fn webhook_attempt(&self, result: &str, latency: Duration) {
        self.webhook_deliveries
            .get_or_create(&WebhookResultLabels {
                result: result.to_string(),
            })
            .inc();
        self.webhook_delivery_seconds.observe(latency.as_secs_f64());
    }

    /// The deliveries pending for an endpoint.
    pub fn webhook_queue_depth(&self, webhook: uuid::Uuid, pending: u64) {
        self.webhook_queue_depth
            .get_or_create(&WebhookLabels {
                webhook: webhook.to_string(),
            })
            .set(pending as i64);
    }

    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let handles = &self.request_handles[sharded::this_thread()].0;
        {
            let handles = handles.read().unwrap_or_else(|e| e.into_inner());
            if let Some((counter, histogram)) =
                handles.get(route).and_then(|r| r.find(method, status))
            {
                counter.inc();
                histogram.observe(seconds);
                return;
            }
        }
        let counter = self
            .requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .clone();
        let histogram = self
            .request_seconds
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .clone();
        counter.inc();
        histogram.observe(seconds);
        let mut handles = handles.write().unwrap_or_else(|e| e.into_inner());
        let kept: usize = handles.values().map(|r| r.counters.len()).sum();
        if kept >= MAX_REQUEST_HANDLES {
            return;
        }
        let route = handles.entry(route.to_string()).or_default();
        if route.find(method, status).is_none() {
            route.counters.push((method.to_string(), status, counter));
            if !route.histograms.iter().any(|(m, _)| m == method) {
                route.histograms.push((method.to_string(), histogram));
            }
        }
    }
}

/// Feeds store commits into the metrics.
pub struct CommitObserver(pub Arc<Metrics>);

impl StoreObserver for CommitObserver {
    fn batch_committed(&self, jobs: usize, elapsed: Duration, ok: bool) {
        self.0.commit_seconds.observe(elapsed.as_secs_f64());
        self.0.commit_jobs.observe(jobs as f64);
        if !ok {
            self.0.commit_failures.inc();
        }
    }
}

/// Counts every event the store publishes, until the store closes.
pub async fn count_events(store: Arc<dyn Store>, metrics: Arc<Metrics>) {
    let mut events = store.subscribe();
    loop {
        match events.recv().await {
            Ok(event) => {
                metrics
                    .events_published
                    .get_or_create(&EventKindLabels {
                        kind: event.kind.as_str().to_string(),
                    })
                    .inc();
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "the event counter fell behind");
                metrics
                    .events_published
                    .get_or_create(&EventKindLabels {
                        kind: "unknown".into(),
                    })
                    .inc_by(n);
            }
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_recorded_through_kept_handles_are_counted_in_the_families() {
        let metrics = Metrics::default();
        let ms = Duration::from_millis(1);
        for _ in 0..3 {
            metrics.record_request("GET", "/a/{id}", 200, ms);
        }
        metrics.record_request("GET", "/a/{id}", 404, ms);
        metrics.record_request("PUT", "/a/{id}", 204, ms);
        let text = metrics.render();
        for line in [
            r#"wrapup_http_requests_total{method="GET",route="/a/{id}",status="200"} 3"#,
            r#"wrapup_http_requests_total{method="GET",route="/a/{id}",status="404"} 1"#,
            r#"wrapup_http_requests_total{method="PUT",route="/a/{id}",status="204"} 1"#,
            r#"wrapup_http_request_duration_seconds_count{method="GET",route="/a/{id}"} 4"#,
            r#"wrapup_http_request_duration_seconds_count{method="PUT",route="/a/{id}"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
