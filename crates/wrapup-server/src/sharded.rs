//! What every request updates, split per thread: each HTTP worker (`connections.rs`, one
//! thread each) writes cache lines of its own. One value written by all the workers would
//! move its cache line from core to core on every request. Shared that way, the registry of
//! requests in flight (`shutdown.rs`), the request metrics (`metrics.rs`) and the token
//! cache (`auth::credentials`) cost a cached GET 3–9 % of its rate (docs/benchmarks.md,
//! issue 29, eleventh session).
//!
//! Readers (a scrape, a shutdown's list of what is still running) add the shards up; they
//! are rare, and see each shard's own order of updates.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::metrics::{MetricType, TypedMetric};

/// How many shards: more than the HTTP workers of a usual machine, so that each has its
/// own (threads beyond it share, which is correct, only slower).
pub const SHARDS: usize = 8;

/// This thread's shard, the same for the thread's life. Threads are given shards in turn
/// as they first ask; only the HTTP workers ask (the request path is the only user), so
/// up to [`SHARDS`] workers each have one of their own.
pub fn this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}

/// A value on cache lines of its own (128 bytes: x86 fetches lines in adjacent pairs).
#[repr(align(128))]
#[derive(Debug, Default)]
pub struct Padded<T>(pub T);

/// A Prometheus counter each thread adds to in its own shard.
#[derive(Clone, Debug, Default)]
pub struct ShardedCounter(Arc<[Padded<AtomicU64>; SHARDS]>);

impl ShardedCounter {
    pub fn inc(&self) {
        self.0[this_thread()].0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

impl TypedMetric for ShardedCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for ShardedCounter {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// How many latency buckets have a bound (then `+Inf`).
const LATENCY_BOUNDS: usize = 16;

/// The upper bounds of the latency buckets, 0.1 ms … ~3.3 s: this histogram's, and those of
/// the other latency histograms (`metrics`).
pub fn latency_bounds() -> impl Iterator<Item = f64> {
    exponential_buckets(0.000_1, 2.0, LATENCY_BOUNDS as u16)
}

/// One thread's part of a histogram.
#[derive(Debug, Default)]
struct HistogramShard {
    count: AtomicU64,
    /// The sum of the observations, as `f64` bits.
    sum: AtomicU64,
    /// Observations per bucket (not cumulative), the last one `+Inf`'s.
    buckets: [AtomicU64; LATENCY_BOUNDS + 1],
}

#[derive(Debug)]
struct HistogramParts {
    bounds: [f64; LATENCY_BOUNDS],
    shards: [Padded<HistogramShard>; SHARDS],
}

/// A Prometheus histogram of latencies (buckets 0.1 ms, doubling, up to ~3.3 s) each
/// thread observes into its own shard. Encoded as prometheus-client's `Histogram` is: a
/// value goes in the first bucket whose bound is at least it.
#[derive(Clone, Debug)]
pub struct LatencyHistogram(Arc<HistogramParts>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        let mut bounds = [0.0; LATENCY_BOUNDS];
        for (b, bound) in bounds.iter_mut().zip(latency_bounds()) {
            *b = bound;
        }
        LatencyHistogram(Arc::new(HistogramParts {
            bounds,
            shards: Default::default(),
        }))
    }
}

impl LatencyHistogram {
    pub fn observe(&self, seconds: f64) {
        let parts = &*self.0;
        let shard = &parts.shards[this_thread()].0;
        let bucket = parts
            .bounds
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BOUNDS);
        shard.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        shard.count.fetch_add(1, Ordering::Relaxed);
        // Only this thread writes its shard (others share one only past SHARDS threads),
        // so the update succeeds at once.
        let _ = shard
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + seconds).to_bits())
            });
    }

    /// The sum, the count and each bucket's (upper bound, observations), as prometheus-client
    /// encodes them.
    fn totals(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let parts = &*self.0;
        let mut buckets: Vec<(f64, u64)> = parts
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .map(|bound| (bound, 0))
            .collect();
        let (mut sum, mut count) = (0.0, 0);
        for shard in &parts.shards {
            let shard = &shard.0;
            count += shard.count.load(Ordering::Relaxed);
            sum += f64::from_bits(shard.sum.load(Ordering::Relaxed));
            for (total, value) in buckets.iter_mut().zip(&shard.buckets) {
                total.1 += value.load(Ordering::Relaxed);
            }
        }
        (sum, count, buckets)
    }
}

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.totals();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::text::encode;
    use prometheus_client::metrics::histogram::Histogram;
    use prometheus_client::registry::Registry;

    use super::*;

    #[test]
    fn a_thread_keeps_its_shard() {
        let mine = this_thread();
        assert_eq!(this_thread(), mine);
        let theirs: Vec<usize> = (0..3)
            .map(|_| std::thread::spawn(this_thread).join().unwrap())
            .collect();
        assert!(theirs.iter().all(|s| *s < SHARDS));
    }

    /// More threads than shards: runs `work` on each and waits for them all.
    const THREADS: usize = SHARDS + 3;

    fn on_every_thread(work: impl Fn() + Clone + Send + 'static) {
        let threads: Vec<_> = (0..THREADS)
            .map(|_| std::thread::spawn(work.clone()))
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
    }

    #[test]
    fn counts_from_every_thread_add_up() {
        let counter = ShardedCounter::default();
        let each = counter.clone();
        on_every_thread(move || (0..1000).for_each(|_| each.inc()));
        assert_eq!(counter.get(), THREADS as u64 * 1000);
    }

    /// The sharded histogram is encoded exactly as prometheus-client's own with the same
    /// buckets (a value on a bound goes in that bound's bucket).
    #[test]
    fn the_histogram_encodes_as_prometheus_clients_own() {
        let ours = LatencyHistogram::default();
        let theirs = Histogram::new(exponential_buckets(0.000_1, 2.0, 16));
        for v in [
            0.0,
            0.000_1,
            0.000_100_1,
            0.002,
            0.05,
            1.5,
            3.2768,
            3.3,
            100.0,
        ] {
            ours.observe(v);
            theirs.observe(v);
        }
        let text = |register: &dyn Fn(&mut Registry)| {
            let mut registry = Registry::default();
            register(&mut registry);
            let mut out = String::new();
            encode(&mut out, &registry).unwrap();
            out
        };
        let ours = text(&|r| r.register("latency", "help", ours.clone()));
        let theirs = text(&|r| r.register("latency", "help", theirs.clone()));
        assert_eq!(ours, theirs);
        assert!(ours.contains("latency_count 9"), "{ours}");
    }

    #[test]
    fn observations_from_every_thread_add_up() {
        let histogram = LatencyHistogram::default();
        let each = histogram.clone();
        on_every_thread(move || (0..100).for_each(|_| each.observe(0.5)));
        let (sum, count, buckets) = histogram.totals();
        let all = THREADS as u64 * 100;
        assert_eq!((sum, count), (all as f64 * 0.5, all));
        assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), all);
    }
}
