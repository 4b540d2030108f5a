//! The retry rule of webhook deliveries: what an attempt's answer means, and when the next
//! attempt goes (docs/webhooks.md#retries).
//!
//! A delivery is tried at once, then after each delay of the schedule, Standard Webhooks'
//! (and Svix's) by default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, so the last attempt
//! comes about 27 h 35 min after the first. Each delay grows by a random 0 to 10% (jitter,
//! so endpoints that failed together are not retried together), and is at least what a
//! `Retry-After` header asked for (at most a day). `2xx` is delivered; `410 Gone` fails the
//! delivery and disables the endpoint; anything else, a timeout or a refused connection is
//! retried, and after the last attempt the delivery is failed.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;
use wrapup_store::webhooks::AttemptOutcome;
use wrapup_types::duration::parse_duration;

/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The delays between attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        let s = |secs| Duration::from_secs(secs);
        RetrySchedule(vec![
            s(5),
            s(5 * 60),
            s(30 * 60),
            s(2 * 3600),
            s(5 * 3600),
            s(10 * 3600),
            s(10 * 3600),
        ])
    }
}

impl RetrySchedule {
    pub fn delays(&self) -> &[Duration] {
        &self.0
    }

    /// How many attempts a delivery gets in all.
    pub fn attempts(&self) -> u32 {
        self.0.len() as u32 + 1
    }

    /// What an attempt's answer means for its delivery: `attempt` is its number (1 for the
    /// first), `status` the HTTP status (`None`: no answer), `retry_after` what the answer
    /// asked, `now_ms` when it came.
    pub fn outcome(
        &self,
        attempt: u32,
        status: Option<u16>,
        retry_after: Option<Duration>,
        now_ms: i64,
    ) -> AttemptOutcome {
        match status {
            Some(200..=299) => return AttemptOutcome::Delivered,
            Some(410) => return AttemptOutcome::Gone,
            _ => {}
        }
        let Some(delay) = self.0.get(attempt.saturating_sub(1) as usize) else {
            return AttemptOutcome::Failed;
        };
        let jitter = rand::thread_rng().gen_range(0.0..0.1);
        let mut wait = delay.mul_f64(1.0 + jitter);
        if let Some(asked) = retry_after {
            wait = wait.max(asked.min(MAX_RETRY_AFTER));
        }
        AttemptOutcome::Retry {
            at_ms: now_ms + wait.as_millis() as i64,
        }
    }
}

/// `5s,5m,30m,2h` (units `ms`, `s`, `m`, `h`), as `--webhooks-retry-schedule` takes it.
impl FromStr for RetrySchedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let delays = s
            .split(',')
            .map(|part| match parse_duration(part.trim()) {
                Ok(d) if d.is_zero() => Err(format!("`{part}`: a delay must be more than zero")),
                parsed => parsed,
            })
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() || delays.len() > 20 {
            return Err("give 1 to 20 delays, e.g. 5s,5m,30m,2h,5h,10h,10h".into());
        }
        Ok(RetrySchedule(delays))
    }
}

impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|d| format_duration(*d)).collect();
        f.write_str(&parts.join(","))
    }
}

fn format_duration(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    match ms {
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// A `Retry-After` header: seconds, or an HTTP date (then relative to `now_ms`).
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
    Some(Duration::from_millis((at_ms - now_ms).max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_spans_more_than_a_day() {
        let s = RetrySchedule::default();
        assert_eq!(s.to_string(), "5s,5m,30m,2h,5h,10h,10h");
        assert_eq!(s.attempts(), 8);
        let total: Duration = s.delays().iter().sum();
        assert_eq!(total, Duration::from_secs(27 * 3600 + 35 * 60 + 5));
        assert_eq!(
            "5s,5m,30m,2h,5h,10h,10h".parse::<RetrySchedule>().unwrap(),
            s
        );
        assert_eq!(
            "250ms,1s".parse::<RetrySchedule>().unwrap().to_string(),
            "250ms,1s"
        );
        for bad in ["", "5", "5d", "0s", "x"] {
            assert!(bad.parse::<RetrySchedule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_become_outcomes() {
        let s: RetrySchedule = "5s,1m".parse().unwrap();
        assert_eq!(s.outcome(1, Some(204), None, 0), AttemptOutcome::Delivered);
        assert_eq!(s.outcome(1, Some(410), None, 0), AttemptOutcome::Gone);
        for status in [None, Some(500), Some(404), Some(301), Some(429)] {
            let AttemptOutcome::Retry { at_ms } = s.outcome(1, status, None, 1000) else {
                panic!("{status:?} is retried");
            };
            assert!(
                (6_000..=6_500).contains(&at_ms),
                "5 s plus at most 10%: {at_ms}"
            );
        }
        let AttemptOutcome::Retry { at_ms } = s.outcome(2, Some(503), None, 0) else {
            panic!()
        };
        assert!((60_000..=66_000).contains(&at_ms));
        assert_eq!(s.outcome(3, Some(500), None, 0), AttemptOutcome::Failed);
        // Retry-After asks for more than the schedule: honoured (capped at a day).
        let asked = Some(Duration::from_secs(120));
        assert_eq!(
            s.outcome(1, Some(429), asked, 0),
            AttemptOutcome::Retry { at_ms: 120_000 }
        );
        let huge = Some(Duration::from_secs(10 * 86_400));
        assert_eq!(
            s.outcome(1, Some(503), huge, 0),
            AttemptOutcome::Retry { at_ms: 86_400_000 }
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("120", 0), Some(Duration::from_secs(120)));
        let now = 1_795_000_000_000;
        let date = httpdate::fmt_http_date(
            std::time::UNIX_EPOCH + Duration::from_millis(now as u64 + 30_000),
        );
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
