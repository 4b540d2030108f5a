//! Time, behind a trait so tests can drive it: the server's own tests with a
//! [`ManualClock`] in process, anyone's tests with `wrapup serve --clock manual` and
//! `POST /api/v2/admin/clock/advance` (`crate::routes::clock`).

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

/// The server's source of time, in milliseconds since the Unix epoch.
#[async_trait]
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
    /// Returns once `now_ms() >= deadline_ms`.
    async fn sleep_until(&self, deadline_ms: i64);
    /// The clock as a [`ManualClock`], when it is one (only that one can be advanced).
    fn manual(&self) -> Option<&ManualClock> {
        None
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        // Read on every authenticated request: the count itself, without the calendar
        // date `OffsetDateTime::now_utc` works out.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as i64)
    }

    async fn sleep_until(&self, deadline_ms: i64) {
        // Sleep to the exact instant (not a whole number of ms from a truncated now), so
        // the wake-up is as close to the deadline as the timer allows.
        loop {
            let now_ns = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
            let wait_ns = i128::from(deadline_ms) * 1_000_000 - now_ns;
            if wait_ns <= 0 {
                return;
            }
            tokio::time::sleep(Duration::from_nanos(wait_ns as u64)).await;
        }
    }
}

/// A clock that moves only when told to, for deterministic tests.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<i64>,
}

impl ManualClock {
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock {
            now: watch::channel(start_ms).0,
        }
    }

    pub fn advance(&self, ms: i64) {
        self.now.send_modify(|now| *now += ms);
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        *self.now.borrow()
    }

    async fn sleep_until(&self, deadline_ms: i64) {
        let mut rx = self.now.subscribe();
        let _ = rx.wait_for(|now| *now >= deadline_ms).await;
    }

    fn manual(&self) -> Option<&ManualClock> {
        Some(self)
    }
}
