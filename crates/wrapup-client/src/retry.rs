//! When and how long to wait before sending a request again.
//!
//! Retried: 429 (after `Retry-After`), 503 `service.unavailable` (the server says nothing
//! changed), connection failures (the request never left), and, for idempotent methods
//! (GET, PUT, DELETE), any 5xx and any network error. Never: other 4xx, or an ambiguous
//! failure of a POST (it may have taken effect).

use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use wrapup_types::ErrorCode;

use crate::{Error, RawResponse};

/// How a [`Client`](crate::Client) retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: no retries).
    pub max_attempts: u32,
    /// The backoff before the second attempt; it doubles each time, with full jitter.
    pub base_delay: Duration,
    /// The longest backoff between two attempts.
    pub max_delay: Duration,
    /// The longest `Retry-After` the client waits for; a longer one ends the retries.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Send every request once.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before attempt `attempt + 1`, or `None` when no attempt is left. With a
    /// `retry_after` from the server, that (plus up to 10% jitter, so clients told the same
    /// moment do not all return at once); otherwise exponential backoff with full jitter.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let mut rng = rand::thread_rng();
        match retry_after {
            Some(after) if after > self.max_retry_after => None,
            Some(after) => {
                let jitter = after.as_secs_f64() * 0.1 * rng.gen::<f64>();
                Some(after + Duration::from_secs_f64(jitter))
            }
            None => {
                let exp = self
                    .base_delay
                    .saturating_mul(1u32 << (attempt - 1).min(20))
                    .min(self.max_delay);
                Some(exp.mul_f64(rng.gen::<f64>()))
            }
        }
    }
}

/// Whether a non-2xx response is worth retrying: the reason and the server's
/// `Retry-After`, or `None`.
pub(crate) fn classify(
    raw: &RawResponse,
    error: &Error,
    idempotent: bool,
) -> Option<(&'static str, Option<Duration>)> {
    let after = match error {
        Error::Api { retry_after, .. } => *retry_after,
        _ => crate::retry_after(raw, None),
    };
    if raw.status == StatusCode::TOO_MANY_REQUESTS {
        return Some(("rate limited (429)", after));
    }
    if error.code() == Some(ErrorCode::ServiceUnavailable) {
        return Some(("service unavailable (503)", after));
    }
    if raw.status.is_server_error() && idempotent {
        return Some(("server error", after));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_full_jitter_and_stops() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(5),
        };
        for _ in 0..200 {
            assert!(policy.delay(1, None).unwrap() <= Duration::from_millis(100));
            assert!(policy.delay(2, None).unwrap() <= Duration::from_millis(200));
            assert!(policy.delay(3, None).unwrap() <= Duration::from_millis(250));
        }
        assert_eq!(policy.delay(4, None), None, "four attempts in all");
        let after = policy.delay(1, Some(Duration::from_secs(2))).unwrap();
        assert!(after >= Duration::from_secs(2) && after <= Duration::from_millis(2200));
        assert_eq!(policy.delay(1, Some(Duration::from_secs(6))), None);
        assert_eq!(RetryPolicy::none().delay(1, None), None);
    }
}
