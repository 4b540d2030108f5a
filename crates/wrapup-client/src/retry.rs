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

use crate::error::Error;

/// How a [`Client`](crate::client::Client) retries.
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

/// Whether a failed request may be sent again. The one rule: the client's own retries
/// ([`Client`](crate::client::Client)) and `wrapup batch` (which retries by itself, so that a 429
/// pauses every row at once) both follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryVerdict {
    /// 429: the server asks the caller to slow down; send again after `retry_after`
    /// (`None`: the response did not say how long).
    RateLimited { retry_after: Option<Duration> },
    /// A failure that changed nothing, or that sending the request again cannot make worse:
    /// 503 `service.unavailable`, a connection that never opened, and for idempotent
    /// requests any 5xx or network error. Back off, then send again.
    Transient {
        reason: &'static str,
        retry_after: Option<Duration>,
    },
    /// Never send it again: another 4xx (the same request gets the same answer), an
    /// ambiguous failure of a POST (it may have taken effect), an answer not understood,
    /// missing credentials.
    Never,
}

impl RetryVerdict {
    /// The verdict on `error`, the failure of a request that is `idempotent` (GET, PUT,
    /// DELETE: sending it twice has the effect of sending it once) or not (POST).
    pub fn of(error: &Error, idempotent: bool) -> RetryVerdict {
        let (status, retry_after) = match error {
            Error::Api {
                status,
                retry_after,
                ..
            } => (*status, *retry_after),
            Error::Unexpected { status, .. } => (*status, None),
            Error::Transport(e) if e.is_connect() || idempotent => {
                return RetryVerdict::Transient {
                    reason: "network error",
                    retry_after: None,
                }
            }
            Error::Transport(_) | Error::OAuth { .. } | Error::NoCredentials => {
                return RetryVerdict::Never
            }
        };
        if status == StatusCode::TOO_MANY_REQUESTS.as_u16() {
            return RetryVerdict::RateLimited { retry_after };
        }
        if error.code() == Some(ErrorCode::ServiceUnavailable) {
            return RetryVerdict::Transient {
                reason: "service unavailable (503)",
                retry_after,
            };
        }
        if (500..600).contains(&status) && idempotent {
            return RetryVerdict::Transient {
                reason: "server error",
                retry_after,
            };
        }
        RetryVerdict::Never
    }
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

#[cfg(test)]
mod verdicts {
    use super::*;
    use wrapup_types::ErrorBody;

    fn api(status: u16, code: ErrorCode, retry_after: Option<Duration>) -> Error {
        Error::Api {
            status,
            body: ErrorBody {
                status,
                code,
                message: String::new(),
                context_id: String::new(),
                details: vec![],
                errors: vec![],
            },
            retry_after,
        }
    }

    #[test]
    fn what_may_be_sent_again() {
        let after = Some(Duration::from_secs(2));
        let limited = api(429, ErrorCode::RequestRateLimited, after);
        for idempotent in [false, true] {
            assert_eq!(
                RetryVerdict::of(&limited, idempotent),
                RetryVerdict::RateLimited { retry_after: after }
            );
            assert!(matches!(
                RetryVerdict::of(&api(503, ErrorCode::ServiceUnavailable, None), idempotent),
                RetryVerdict::Transient { .. }
            ));
            assert_eq!(
                RetryVerdict::of(&api(404, ErrorCode::InteractionNotFound, None), idempotent),
                RetryVerdict::Never
            );
            assert_eq!(
                RetryVerdict::of(&Error::NoCredentials, idempotent),
                RetryVerdict::Never
            );
        }
        let internal = api(500, ErrorCode::InternalError, None);
        assert!(matches!(
            RetryVerdict::of(&internal, true),
            RetryVerdict::Transient { .. }
        ));
        assert_eq!(RetryVerdict::of(&internal, false), RetryVerdict::Never);
        let bad_gateway = Error::Unexpected {
            status: 502,
            message: String::new(),
        };
        assert!(matches!(
            RetryVerdict::of(&bad_gateway, true),
            RetryVerdict::Transient { .. }
        ));
        assert_eq!(RetryVerdict::of(&bad_gateway, false), RetryVerdict::Never);
    }
}
