//! Rate limits as token buckets: [`Buckets`], the arithmetic, and [`RateLimiter`], one
//! bucket per OAuth client for `--rate-limit` (the failed-authentication limits of
//! `auth/limits.rs` use the same buckets). `layer.rs` charges each authenticated request
//! to its client's bucket.
//!
//! A limit of `N/period` is a bucket of `N` tokens refilled at `N` per period, so a client
//! may burst up to `N` requests and then sustains `N` per period. Time comes from the
//! server's [`Clock`](crate::Clock), so tests drive the refill exactly.

pub mod layer;

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::str::FromStr;
use std::sync::Mutex;

use uuid::Uuid;

/// A rate limit: `requests` per `period_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub period_ms: u32,
}

impl FromStr for RateLimit {
    type Err = String;

    /// Parses `300/min`, `5/s`, `10000/h` (also `sec`, `second`, `m`, `minute`, `hour`).
    fn from_str(s: &str) -> Result<RateLimit, String> {
        let bad = || {
            format!("`{s}` is not a rate limit; write requests per period, e.g. 300/min, 5/s or 10000/h")
        };
        let (n, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let requests: u32 = n.trim().parse().map_err(|_| bad())?;
        let period_ms = match unit.trim() {
            "s" | "sec" | "second" => 1_000,
            "m" | "min" | "minute" => 60_000,
            "h" | "hour" => 3_600_000,
            _ => return Err(bad()),
        };
        if requests == 0 {
            return Err(format!("`{s}`: the limit must allow at least one request"));
        }
        Ok(RateLimit {
            requests,
            period_ms,
        })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.period_ms {
            1_000 => "s",
            60_000 => "min",
            3_600_000 => "h",
            _ => return write!(f, "{} per {} ms", self.requests, self.period_ms),
        };
        write!(f, "{}/{unit}", self.requests)
    }
}

/// The outcome of one request against its client's bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitDecision {
    pub allowed: bool,
    /// The bucket size (`RateLimit-Limit`).
    pub limit: u32,
    /// Whole requests left right now (`RateLimit-Remaining`).
    pub remaining: u32,
    /// Seconds until the bucket is full again (`RateLimit-Reset`).
    pub reset_s: u64,
    /// When refused: milliseconds until one request is allowed again.
    pub retry_after_ms: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

/// Past this many buckets, full ones (which carry no state) are dropped.
const PRUNE_ABOVE: usize = 100_000;
/// Past this many buckets even after pruning (a flood from more keys than that, each
/// refused recently), the map starts over rather than grow without bound.
const HARD_LIMIT: usize = 400_000;

/// Token buckets of one limit, by key (a client id, a source address): the arithmetic of
/// every limit of the server, written once.
#[derive(Debug)]
pub struct Buckets<K> {
    limit: RateLimit,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Eq + Hash + Copy> Buckets<K> {
    pub fn new(limit: RateLimit) -> Buckets<K> {
        Buckets {
            limit,
            buckets: Mutex::default(),
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    fn per_ms(&self) -> f64 {
        f64::from(self.limit.requests) / f64::from(self.limit.period_ms)
    }

    /// Takes one token from `key`'s bucket at `now_ms`, if it has one.
    pub fn take(&self, key: K, now_ms: i64) -> RateLimitDecision {
        self.take_n(key, 1, now_ms)
    }

    /// Takes `n` tokens from `key`'s bucket at `now_ms` if it has them all, else none (a
    /// request of `n` items, each counted; a bucket never holds more than the limit, so
    /// `n` above it is always refused).
    pub fn take_n(&self, key: K, n: u32, now_ms: i64) -> RateLimitDecision {
        let wanted = f64::from(n);
        let capacity = f64::from(self.limit.requests);
        let per_ms = self.per_ms();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| {
                b.tokens + (now_ms - b.updated_ms).max(0) as f64 * per_ms < capacity
            });
            if buckets.len() > HARD_LIMIT {
                tracing::warn!(
                    keys = buckets.len(),
                    "too many rate-limit buckets in use; starting over"
                );
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            updated_ms: now_ms,
        });
        let elapsed = (now_ms - bucket.updated_ms).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed * per_ms).min(capacity);
        bucket.updated_ms = bucket.updated_ms.max(now_ms);
        let allowed = bucket.tokens >= wanted;
        if allowed {
            bucket.tokens -= wanted;
        }
        let ms_until = |tokens: f64| ((tokens / per_ms).ceil().max(0.0)) as u64;
        RateLimitDecision {
            allowed,
            limit: self.limit.requests,
            remaining: bucket.tokens.floor() as u32,
            reset_s: ms_until(capacity - bucket.tokens).div_ceil(1000),
            retry_after_ms: if allowed {
                0
            } else {
                ms_until(wanted.min(capacity) - bucket.tokens).max(1)
            },
        }
    }

    /// Puts back a token [`Buckets::take`] took (what it was taken for did not count).
    pub fn give_back(&self, key: K) {
        let capacity = f64::from(self.limit.requests);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bucket) = buckets.get_mut(&key) {
            bucket.tokens = (bucket.tokens + 1.0).min(capacity);
        }
    }
}

/// The buckets of every client (off when no limit is configured).
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Option<Buckets<Uuid>>,
}

impl RateLimiter {
    pub fn new(limit: Option<RateLimit>) -> RateLimiter {
        RateLimiter {
            buckets: limit.map(Buckets::new),
        }
    }

    pub fn limit(&self) -> Option<RateLimit> {
        self.buckets.as_ref().map(Buckets::limit)
    }

    /// Takes one token from `client`'s bucket at `now_ms`, if it has one. `None` when no
    /// limit is configured.
    pub fn take(&self, client: Uuid, now_ms: i64) -> Option<RateLimitDecision> {
        Some(self.buckets.as_ref()?.take(client, now_ms))
    }

    /// Takes `n` tokens from `client`'s bucket at `now_ms`, all or none (see
    /// [`Buckets::take_n`]). `None` when no limit is configured.
    pub fn take_n(&self, client: Uuid, n: u32, now_ms: i64) -> Option<RateLimitDecision> {
        Some(self.buckets.as_ref()?.take_n(client, n, now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_limits() {
        for (text, requests, period_ms, shown) in [
            ("300/min", 300, 60_000, "300/min"),
            ("5/s", 5, 1_000, "5/s"),
            (" 10000 / h ", 10_000, 3_600_000, "10000/h"),
            ("2/second", 2, 1_000, "2/s"),
        ] {
            let limit: RateLimit = text.parse().unwrap();
            assert_eq!((limit.requests, limit.period_ms), (requests, period_ms));
            assert_eq!(limit.to_string(), shown);
        }
        for bad in ["300", "x/min", "0/s", "5/day", "-1/s", ""] {
            let err = bad.parse::<RateLimit>().unwrap_err();
            assert!(err.contains(bad.trim()), "{err}");
        }
    }

    #[test]
    fn a_bucket_bursts_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(Some("3/s".parse().unwrap()));
        let client = Uuid::new_v4();
        let other = Uuid::new_v4();
        let remaining: Vec<u32> = (0..3)
            .map(|_| limiter.take(client, 0).unwrap())
            .inspect(|d| assert!(d.allowed))
            .map(|d| d.remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.take(client, 0).unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_ms, 334); // one token every 333.3 ms
        assert_eq!(refused.reset_s, 1);
        // Other clients have their own bucket.
        assert!(limiter.take(other, 0).unwrap().allowed);
        // Not yet…
        assert!(!limiter.take(client, 333).unwrap().allowed);
        // …then exactly one more.
        assert!(limiter.take(client, 334).unwrap().allowed);
        assert!(!limiter.take(client, 334).unwrap().allowed);
        // After a full period the whole burst is back, and never more.
        let d = limiter.take(client, 10_000).unwrap();
        assert!(d.allowed);
        assert_eq!(d.remaining, 2);
    }

    #[test]
    fn many_tokens_are_taken_all_or_none() {
        let limiter = RateLimiter::new(Some("10/s".parse().unwrap()));
        let client = Uuid::new_v4();
        let d = limiter.take_n(client, 7, 0).unwrap();
        assert!(d.allowed);
        assert_eq!(d.remaining, 3);
        let refused = limiter.take_n(client, 4, 0).unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 3, "a refusal takes nothing");
        assert_eq!(refused.retry_after_ms, 100); // one more token in 100 ms
        assert!(limiter.take_n(client, 3, 0).unwrap().allowed);
        // More than the bucket holds is never allowed.
        assert!(!limiter.take_n(client, 11, 60_000).unwrap().allowed);
    }

    #[test]
    fn no_limit_means_no_decision() {
        assert_eq!(RateLimiter::new(None).take(Uuid::new_v4(), 0), None);
    }
}
